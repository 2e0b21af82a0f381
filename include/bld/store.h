/*
 * store.h - the cache's store: entries and their output bytes, in terms of a
 * task hash, a task id and manifests only (it knows no graph types; the
 * task hasher in cache.h is what turns a task into a hash and a manifest).
 *
 * The local store: SQLite (WAL) under the cache folder for the file index,
 * entries, output manifests, input manifests, hits and recent runs; output bytes
 * as blobs named by their content hash, written to a temporary name and
 * renamed before the transaction that makes an entry visible commits.
 *
 * Backends (docs/cache.md, "Store backends"): the local store and each
 * remote cache protocol (remote.h) answer one small set of operations,
 * struct store_backend_ops: look up an entry, get a blob, put a blob, put an
 * entry.  store_copy moves one entry between two backends through them: a
 * remote hit is copied into the local store, a new local entry out to the
 * remote.
 *
 * Nothing here prints: warnings are returned in a caller's strvec.
 */
#ifndef BLD_STORE_H
#define BLD_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "bld/base.h"
#include "bld/err.h"

struct cache; /* an open cache folder (SQLite + blobs); opaque */

/* The database file in a cache folder. */
#define CACHE_DB_FILE "cache.db"

/* Open (creating) the cache at dir.  0 and *ret_cache, or negative (err). */
int cache_open(const char *dir, struct cache **ret_cache, struct bld_err *err);
/* Write what is still queued (run history, file index rows) and close; NULL is fine. */
void cache_close(struct cache *c);
/* Write what is queued (run history, file index rows), keeping c open (an
 * engine that keeps one handle across requests calls it after each). */
void cache_flush(struct cache *c);
/* The cache folder for a workspace: BLD_CACHE_DIR of env (the client's
 * environment, NULL-terminated "K=V"; relative to cwd, the client's folder),
 * else <ws_root>/.bld/cache.  Caller frees. */
char *cache_default_dir(const char *ws_root, char *const *env, const char *cwd);
/* Automatic prune limit in bytes (0, what cache_open starts with: none); the
 * engine sets it from the request's BLD_CACHE_MAX_SIZE ("10G", "500M",
 * bytes).  After each store, entries beyond it are pruned, least recently
 * used first. */
void cache_set_max_size(struct cache *c, uint64_t max_bytes);
/* "10G" / "512M" / "1.5k" / "1000" -> bytes (powers of 1024); 0 when invalid. */
uint64_t cache_parse_size(const char *s);

/* ---- entries ---- */

/* What one output path of an entry is. */
enum cache_row_kind {
	CACHE_ROW_ABSENT = 0,
	CACHE_ROW_FILE = 1,
	CACHE_ROW_DIR = 2,
	CACHE_ROW_SYMLINK = 3,
};

/* One output path of an entry. */
struct cache_row {
	char *path; /* workspace-relative */
	int kind;   /* enum cache_row_kind */
	unsigned mode;
	int64_t size;
	char blob[33]; /* CACHE_ROW_FILE: content hash, the blob's name */
	char *link;    /* CACHE_ROW_SYMLINK: target text */
	uint64_t off;  /* CACHE_ROW_FILE: where its bytes are in the entry's fetched bytes */
};

/*
 * A cache entry.  cache_lookup fills the summary (hash .. terminal); a
 * backend's lookup op (store_copy) fills all of it.  Everything is owned:
 * release with cache_entry_release.  Zero-filled is empty.
 */
struct cache_entry {
	char hash[33];
	char *task;            /* task id */
	int exit_code;
	uint64_t duration_ms;
	uint64_t size;         /* bytes of outputs */
	int64_t created;       /* unix seconds */
	char *terminal;        /* recorded terminal output (stdout and stderr interleaved) */
	size_t terminal_len;
	/* the whole entry (a backend's lookup op) */
	struct strvec declared; /* the outputs as the task declared them */
	struct cache_row *rows;
	size_t nrows;
	char *manifest;       /* the input manifest, JSON text */
	struct sbuf fetched;  /* the source backend's bytes behind get_blob (a remote: the
	                       * artifact's, rows' off point into it) */
	struct sbuf staged;   /* what put_blob staged for put_entry (a remote: file bytes) */
};
/* Free what e owns and zero it; NULL is fine. */
void cache_entry_release(struct cache_entry *e);

/* 1 when hash has an entry, 0 when not, -1 on a database error (no read of it). */
int cache_has(struct cache *c, const char *hash);
/* 1 and fills *ret's summary when hash has an entry, 0 when not, negative on error. */
int cache_lookup(struct cache *c, const char *hash, struct cache_entry *ret, struct bld_err *err);

/*
 * What cache_restore tells a caller that watches outputs (a resident
 * engine's vouch, docs/architecture.md "Outputs vouched for").
 */
struct cache_restore_watch {
	/* Called once the entry's rows are read and before any output is looked
	 * at: dirs, every folder a change in which could make the outputs differ
	 * from the entry (each folder above an output, the workspace root as "",
	 * and each folder output), shallow first; roots, the entry's outputs that
	 * no other output of it contains (workspace-relative).  Both borrowed for
	 * the call.  NULL: nothing is told. */
	void (*watch)(void *arg, const struct strvec *dirs, const struct strvec *roots);
	void *arg;
	/* out: every output was already as the entry says (nothing was written) */
	bool clean;
};

/*
 * Restore entry's outputs into the workspace at ws_root: outputs already
 * matching are left alone; only declared outputs are written; nothing goes
 * outside ws_root.  A blob whose bytes no longer match its hash is
 * BLD_ECORRUPT (then treat as a miss).  *ret_restored counts files written.
 * w (may be NULL) is told the entry's folders before they are checked and
 * whether all was in place.
 */
int cache_restore(struct cache *c, const struct cache_entry *e, const char *ws_root,
                  struct cache_restore_watch *w, size_t *ret_restored, struct bld_err *err);
/* A hit of e whose outputs the caller knows are still as a clean
 * cache_restore found them (it watched their folders since): recorded as
 * cache_restore records a hit (the entry's last use), and nothing is read. */
void cache_restore_kept(struct cache *c, const struct cache_entry *e);

/* The most terminal output a cache entry keeps; a task printing more is not cached. */
#define CACHE_MAX_TERMINAL (256u << 20)

/*
 * Store the outputs of task task_id, hash hash (32 hex), which succeeded:
 * outputs are its resolved output paths (workspace-relative, globs allowed,
 * "!" to leave out); absent ones are recorded as absent.  manifest (JSON
 * text, borrowed; NULL: "{}") is its input manifest.  Nothing when hash has an
 * entry already.
 * The caller decides what is cacheable (not failed, cache: false or
 * continuous tasks).  BLD_ETOOBIG when terminal_len is over
 * CACHE_MAX_TERMINAL; BLD_ECACHE when an output changed while stored.
 */
int cache_store(struct cache *c, const char *hash, const char *task_id, const char *ws_root,
                const struct strvec *outputs, const char *terminal, size_t terminal_len,
                uint64_t duration_ms, const char *manifest, struct bld_err *err);

/*
 * Artifacts: an entry as one self-contained byte string (format in
 * docs/cache.md), the body remote caches store.  Export appends the artifact
 * of entry hash to *ret (0, or negative: no such entry, a damaged blob).
 * Import verifies body as the artifact of task task_id with task hash hash
 * (manifest, every file, the terminal output) and only then writes it into
 * the local cache: 0, BLD_ECORRUPT when refused (err says why; nothing was
 * written), other negative codes when the local cache failed.
 */
int cache_artifact_export(struct cache *c, const char *hash, struct sbuf *ret,
                          struct bld_err *err);
int cache_artifact_import(struct cache *c, const char *hash, const char *task_id,
                          const void *body, size_t len, struct bld_err *err);

/* ---- backends ---- */

struct store_backend_ops;
/* A backend: its ops first; each backend embeds this as its first member. */
struct store_backend {
	const struct store_backend_ops *ops;
};

/* Remote cache counters of one run, added to the totals `cache stats` shows. */
struct cache_remote_stats {
	uint64_t hits, misses, refused, uploads, bytes_down, bytes_up, ms;
};

/*
 * The operations every backend has.  An entry is put as put_blob for each
 * of its file rows, in row order, then put_entry; the entry passed is the
 * transaction (a backend may stage the blobs in e->staged).  All are called
 * from worker threads and must be thread-safe.
 */
struct store_backend_ops {
	const char *name; /* "local", "http", "nx", "turborepo" */
	/* Look up the entry of hash for task task_id into *ret (whole, verified):
	 * 1 found, 0 not (or the backend is down), BLD_ECORRUPT refused (err
	 * says why), another negative code on error. */
	int (*lookup)(struct store_backend *b, const char *hash, const char *task_id,
	              struct cache_entry *ret, struct bld_err *err);
	/* Append the bytes of file row i of e (from this backend's lookup) to *ret. */
	int (*get_blob)(struct store_backend *b, const struct cache_entry *e, size_t i,
	                struct sbuf *ret, struct bld_err *err);
	/* Put the bytes of file row i of e (already checked against its hash). */
	int (*put_blob)(struct store_backend *b, struct cache_entry *e, size_t i,
	                const void *data, size_t len, struct bld_err *err);
	/* Make e visible (its blobs are put); nothing when it is there already.
	 * A remote may finish it in the background (flush waits). */
	int (*put_entry)(struct store_backend *b, struct cache_entry *e, struct bld_err *err);
	/* Which of hashes[0..n) it has, without fetching: ret[i] 1, 0, or -1 unknown. */
	void (*has)(struct store_backend *b, const char *const *hashes, size_t n, int *ret);
	/* Optional (NULL: always): false while puts would be dropped (read-only,
	 * a refused token, a server that is down), so nothing is read for them. */
	bool (*writable)(struct store_backend *b);
	/* Optional (NULL): start fetching hashes[0..n) for the lookups that follow. */
	void (*prefetch)(struct store_backend *b, const char *const *hashes, size_t n);
	/* Optional: wait (bounded) for the puts still in flight. */
	void (*flush)(struct store_backend *b);
	/* Optional: move warnings said since the last call into sv (one per cause). */
	void (*take_warnings)(struct store_backend *b, struct strvec *sv);
	/* Optional: move the counters gathered since the last call into *ret (added). */
	void (*take_stats)(struct store_backend *b, struct cache_remote_stats *ret);
	/* Flush (bounded) and free; NULL is fine. */
	void (*free)(struct store_backend *b);
};

/* The local store of c as a backend (borrowed: lives as long as c). */
struct store_backend *cache_backend(struct cache *c);

/*
 * Copy the entry of hash (task task_id) from backend `from` into `to`:
 * from's lookup (a remote verifies the whole artifact there), every file's
 * bytes through from's get_blob and to's put_blob, then to's put_entry.
 * 1 copied (or there already), 0 when `from` has no such entry or `to`
 * takes no puts now, BLD_ECORRUPT when from's entry was refused (nothing
 * was put), another negative code on error.
 */
int store_copy(struct store_backend *from, struct store_backend *to, const char *hash,
               const char *task_id, struct bld_err *err);
/* b's has op. */
void store_has(struct store_backend *b, const char *const *hashes, size_t n, int *ret);
/* The optional ops, doing nothing where a backend has none; b may be NULL. */
void store_prefetch(struct store_backend *b, const char *const *hashes, size_t n);
void store_flush(struct store_backend *b);
void store_take_warnings(struct store_backend *b, struct strvec *sv);
void store_take_stats(struct store_backend *b, struct cache_remote_stats *ret);
void store_backend_free(struct store_backend *b);

/* ---- history, stats, commands ---- */

/* Add a run's remote counters to the totals `cache stats` shows. */
void cache_add_remote_stats(struct cache *c, const struct cache_remote_stats *s);

/* Count a run of a task, a cache hit or not, for the hit rate `cache stats`
 * shows (queued; written at the next flush). */
void cache_record_run(struct cache *c, bool hit);

/* For each of the n task ids, the run time (ms) of its newest entry created
 * before the unix time `before`, 0 when it has none, into ret_ms[0..n-1]
 * (for --shard's balance).  0 or negative (err). */
int cache_task_durations(struct cache *c, const char *const *task_ids, size_t n, int64_t before,
                         uint64_t *ret_ms, struct bld_err *err);

/* `bld cache ls|show|stats|prune|why` as text (or JSON when json) into out. */
int cache_cmd_ls(struct cache *c, bool json, struct sbuf *out, struct bld_err *err);
int cache_cmd_show(struct cache *c, const char *hash, bool json, struct sbuf *out,
                   struct bld_err *err);
int cache_cmd_stats(struct cache *c, bool json, struct sbuf *out, struct bld_err *err);
int cache_cmd_prune(struct cache *c, uint64_t max_bytes, struct sbuf *out, struct bld_err *err);
/* Explain why task task_id would miss: compare its input manifest with the
 * newest entry of that task. */
int cache_cmd_why(struct cache *c, const char *task_id, const cJSON *manifest, struct sbuf *out,
                  struct bld_err *err);

/*
 * The cross-process task lock (docs/cache.md, "Two engines at once"): an
 * engine takes it before running a cacheable task that missed, and releases
 * it once the task's entry is stored (or the task failed).  Engines that
 * share a cache folder (one-shot runs, daemons of two worktrees, CI jobs
 * sharing BLD_CACHE_DIR) thus run a task of one hash one at a time; the
 * others wait, look up again and restore.  A resident engine deduplicates
 * the tasks of its own requests by hash first (its in-flight table) and
 * takes this lock once per hash.  A record lock on one byte of
 * <cache>/locks/tasks (fcntl F_OFD_SETLK): the kernel releases it when its
 * holder dies.  Never blocks.
 */
struct cache_task_lock;
/* 1 and *ret_lock when taken, 0 when another holder has it (retry later),
 * negative on error (err; then run unlocked).  Release with cache_task_lock_release. */
int cache_task_lock_try(struct cache *c, const char *hash, struct cache_task_lock **ret_lock,
                        struct bld_err *err);
/* Release and free l; NULL is fine.  Thread-safe (touches only l). */
void cache_task_lock_release(struct cache_task_lock *l);

#endif
