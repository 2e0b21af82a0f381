/*
 * base.h - the small primitives every bld module shares: allocation that
 * aborts on OOM, a growable string (sbuf), a string vector (strvec), a
 * string-keyed hash map (strmap), paths and whole-file I/O.
 *
 * Lifecycle verbs: x_init/x_release for embedded objects, x_new/x_free for
 * heap ones; every release/free accepts a zeroed or NULL object.
 */
#ifndef BLD_BASE_H
#define BLD_BASE_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* malloc/calloc/realloc/strdup that abort with a message on OOM. */
void *xmalloc(size_t n);
void *xcalloc(size_t nmemb, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
/* printf into a new string; caller frees. */
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Grow *arr (of elements of size elem) so it holds at least need; updates *cap. */
void xgrow(void *arrp, size_t *cap, size_t need, size_t elem);

/* A growable NUL-terminated byte string; buf is never NULL after sbuf_init. */
struct sbuf {
	char *buf;
	size_t len, cap;
};
#define SBUF_INIT {0}
void sbuf_init(struct sbuf *sb);
void sbuf_release(struct sbuf *sb);
/* Ensure room for extra more bytes plus the NUL. */
void sbuf_grow(struct sbuf *sb, size_t extra);
void sbuf_add(struct sbuf *sb, const void *data, size_t n);
void sbuf_adds(struct sbuf *sb, const char *s);
void sbuf_addc(struct sbuf *sb, char c);
void sbuf_addf(struct sbuf *sb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void sbuf_vaddf(struct sbuf *sb, const char *fmt, va_list ap);
/* Append s as a JSON string literal: quoted, with '"', '\\' and control
 * characters escaped as cJSON prints them; other bytes (UTF-8) as they are. */
void sbuf_add_json_str(struct sbuf *sb, const char *s);
/* The same for len bytes of s (a NUL among them is escaped too). */
void sbuf_add_json_mem(struct sbuf *sb, const char *s, size_t len);
void sbuf_reset(struct sbuf *sb);
/* Take the string; sb is left empty (re-initialised); caller frees. */
char *sbuf_detach(struct sbuf *sb);
/* Drop trailing whitespace. */
void sbuf_rtrim(struct sbuf *sb);

/* A vector of owned strings. */
struct strvec {
	char **v;
	size_t n, cap;
};
void strvec_init(struct strvec *sv);
void strvec_release(struct strvec *sv);
/* Push a copy of s. */
void strvec_push(struct strvec *sv, const char *s);
/* Push s, taking ownership. */
void strvec_push_owned(struct strvec *sv, char *s);
/* Index of s, or -1. */
int strvec_find(const struct strvec *sv, const char *s);
/* Sort bytewise (strcmp). */
void strvec_sort(struct strvec *sv);
/* Split s at any of seps, skipping empty pieces, pushing copies. */
void strvec_split(struct strvec *sv, const char *s, const char *seps);

/*
 * A string -> pointer hash map (open addressing).  Keys are copied and owned
 * by the map; values are borrowed (the map never frees them).
 */
struct strmap {
	struct strmap_slot *slots;
	size_t cap, n;
};
void strmap_init(struct strmap *m);
void strmap_release(struct strmap *m);
/* Release m after freeing every value with free_val (e.g. free). */
void strmap_release_values(struct strmap *m, void (*free_val)(void *));
/* Insert or replace; returns the previous value or NULL. */
void *strmap_put(struct strmap *m, const char *key, void *val);
/* Value for key, or NULL. */
void *strmap_get(const struct strmap *m, const char *key);
bool strmap_has(const struct strmap *m, const char *key);
/* Remove key; returns its value (NULL when absent).  Iterating while
 * deleting is not supported. */
void *strmap_del(struct strmap *m, const char *key);
/* Iterate: start with *it = 0; returns false at the end. */
bool strmap_next(const struct strmap *m, size_t *it, const char **ret_key, void **ret_val);

/* Value of name in env (a NULL-terminated "K=V" array, may be NULL), or NULL. */
const char *env_get(char *const *env, const char *name);

/* FNV-1a over a string; for maps, never for content hashing. */
uint64_t str_hash(const char *s);

/* Paths.  All return new strings the caller frees. */
char *path_join(const char *a, const char *b);
/* Lexically normalise: collapse "//", "/./", and "x/.." (no filesystem access). */
char *path_normalize(const char *p);
/* p relative to base when p is below base (or equal: ""), else NULL. */
char *path_relative(const char *base, const char *p);
/* Parent folder ("" for a bare name). */
char *path_dirname(const char *p);
/* Last component (borrowed pointer into p). */
const char *path_basename(const char *p);
/* True when a workspace-relative path stays inside: not absolute, no ".." escaping. */
bool path_is_safe_relative(const char *p);

/* Whole-file I/O.  file_read returns 0 and a NUL-terminated buffer; -errno on failure. */
int file_read(const char *path, char **ret_buf, size_t *ret_len);
/* file_read of a file of at most max bytes; -EFBIG (nothing allocated) past that. */
int file_read_max(const char *path, size_t max, char **ret_buf, size_t *ret_len);
/* Write all of buf to fd, retrying on EINTR and short writes; 0 or -errno. */
int fd_write_all(int fd, const void *buf, size_t len);
/* Write atomically: temporary file in the same folder, fsync, rename; 0 or -errno. */
int file_write_atomic(const char *path, const void *data, size_t len, unsigned mode);
/* mkdir -p; 0 or -errno (-ENOENT for ""). */
int mkdir_p(const char *path, unsigned mode);
/* rm -rf that never follows symlinks; 0 (also when absent) or -errno. */
int rm_rf(const char *path);
bool file_exists(const char *path);
bool dir_exists(const char *path);

/* Monotonic milliseconds / nanoseconds. */
uint64_t now_ms(void);
uint64_t now_ns(void);

/* Damerau-free Levenshtein distance, capped at limit+1. */
int str_edit_distance(const char *a, const char *b, int limit);
/* s with every occurrence of tok (non-empty) replaced by val; caller frees. */
char *str_replace_all(const char *s, const char *tok, const char *val);
/* True when s starts with / ends with the given string. */
bool str_starts(const char *s, const char *prefix);
bool str_ends(const char *s, const char *suffix);

#endif
