/*
 * cache_int.h - what the files of cache/ share and nothing outside uses:
 * content hashing, canonical JSON, the file index, blobs, the struct cache
 * behind the public opaque handle, and the remote transport.  No graph
 * types: the hasher's own structs are in hasher_int.h.
 */
#ifndef BLD_CACHE_INT_H
#define BLD_CACHE_INT_H

#include <pthread.h>
#include <regex.h>
#include <sqlite3.h>
#include <sys/stat.h>

#include "bld/pattern.h"
#include "bld/store.h"

/* ---- content hashes (fileindex.c) and canonical JSON (hash.c) ---- */

/* XXH3-128 of data as 32 lowercase hex digits into out[33]. */
void cache__hash_bytes(const void *data, size_t len, char out[33]);
/* XXH3-128 of the bytes read from fd to its end; 0 or -errno. */
int cache__hash_fd(int fd, char out[33]);
/* Copy src to its end into dst while hashing the bytes (dst < 0: only hash);
 * 0 or -errno. */
int cache__hash_copy(int src, int dst, char out[33]);
/* Canonical JSON: object keys sorted bytewise, no whitespace, integers as
 * integers, other numbers %.17g, strings with minimal escapes. */
void cache__json_canonical(const cJSON *j, struct sbuf *out);

/* ---- fileindex.c: stat-keyed content hashes ---- */

/* The content hash of the file at abs (absolute path), using the index when
 * its stat matches; st is its lstat.  0 or -errno. */
int cache__file_hash(struct cache *c, const char *abs, const struct stat *st, char out[33]);
/* The indexed hash of abs when its stat matches (no reading); caller holds c->lock. */
bool cache__fileindex_get(struct cache *c, const char *abs, const struct stat *st, char out[33]);
/* Free the in-memory rows (mem_index). */
void cache__fileindex_mem_clear(struct cache *c);
/* Write pending index rows (called at hasher_free and after stores). */
void cache__fileindex_flush(struct cache *c);

/* ---- blob.c ---- */

/* Path of blob hash under the cache folder (caller frees). */
char *cache__blob_path(const struct cache *c, const char *hash);
/* Copy the regular file at dirfd/name into the blob store; its hash into out.
 * known (may be NULL) is a hash believed current (file index): when that blob
 * exists already nothing is copied. */
int cache__blob_put(struct cache *c, int dirfd, const char *name, const char *known, char out[33],
                    struct bld_err *err);
/* Write data (whose content hash is hash) as blob hash, unless it is there. */
int cache__blob_put_bytes(struct cache *c, const void *data, size_t len, const char *hash,
                          struct bld_err *err);
/* Read blob hash into *ret (appended) and check the bytes against the name:
 * 0, BLD_ECORRUPT (missing or changed; a changed blob is removed), -errno. */
int cache__blob_read(struct cache *c, const char *hash, struct sbuf *ret, struct bld_err *err);
/* Check that a blob's bytes still hash to its name: 0, BLD_ECORRUPT (a
 * mismatching blob is removed, so the next store writes it afresh), -errno. */
int cache__blob_verify(const struct cache *c, const char *hash, struct bld_err *err);
/* Write blob hash as dirfd/name (a new file, mode): reflink, else copy_file_range. */
int cache__blob_copy_out(const struct cache *c, const char *hash, int dirfd, const char *name,
                         unsigned mode, struct bld_err *err);

/* ---- manifests (inputs.c, hash.c): what the store reads of them ---- */

/* Parse "<hash> <path>\n" lines (a manifest's "files") into path -> hash
 * pointers into text (which must outlive the map; text is modified). */
void cache__files_parse(char *text, struct strmap *ret);
/* The task hash an input manifest (hasher_task_hash's) describes, recomputed
 * from its fields alone into out[33]; -1 when it is not such a manifest. */
int cache__manifest_hash(const cJSON *manifest, char out[33]);

/* ---- lock.c ---- */

/* Remove the lock files nobody holds (left by holders that died); prune calls it. */
void cache__gc_locks(struct cache *c);

/* ---- store.c ---- */

struct cache_pending_file {
	char *path;
	int64_t size, mtime_ns, ctime_ns, ino;
	char hash[33];
};

/* A hit not yet written (cache__flush_usage). */
struct cache_pending_hit {
	char hash[33];
	int64_t at; /* unix seconds */
};

/* Runs `cache stats` counts: the last CACHE_RECENT_RUNS, one character each
 * (CACHE_RUN_HIT, CACHE_RUN_MISS), oldest first, in meta.recent_runs. */
#define CACHE_RECENT_RUNS 1000
#define CACHE_RUN_HIT 'h'
#define CACHE_RUN_MISS 'm'

/* Statements prepared once per cache handle (cache__stmt), used under c->lock. */
enum cache_q {
	CACHE_Q_LOOKUP,   /* cache_lookup */
	CACHE_Q_ROWS,     /* an entry's output rows (restore, a whole entry) */
	CACHE_Q_DECLARED, /* an entry's declared outputs */
	CACHE_Q_MANIFEST, /* a whole entry's input manifest */
	CACHE_Q_EXISTS,   /* is there an entry of this hash */
	CACHE_Q_ENTRY_INS,  /* put: the entry row */
	CACHE_Q_OUTPUT_INS, /* put: one output row */
	CACHE_Q_HIT,      /* flush: one entry's hits (usage) */
	CACHE_Q_HIT_NEW,  /* flush: an entry's first hits */
	CACHE_Q_RECENT,   /* flush: the recent runs (meta) */
	CACHE_Q_USAGE_DEL, /* an entry's usage row, when it is deleted or stored */
	CACHE_Q_VERSION,  /* PRAGMA data_version (known.c) */
	CACHE_Q_DELETIONS, /* meta.deletions (known.c) */
	CACHE_Q_DELETED,  /* count a deletion in meta.deletions */
	CACHE_Q_N
};

struct cache {
	char *dir;   /* the cache folder (absolute) */
	char *blobs; /* <dir>/blobs */
	sqlite3 *db;
	pthread_mutex_t lock;           /* one caller at a time on db */
	uint64_t max_size;              /* automatic prune limit in bytes, 0 = none */
	sqlite3_stmt *q_index;          /* prepared file index lookup (under lock) */
	sqlite3_stmt *q[CACHE_Q_N];     /* owned; prepared on first use (cache__stmt) */
	/* tests only: called after each output file is copied into the store */
	void (*stored_hook)(const char *abs_path, void *arg);
	void *stored_hook_arg;
	struct cache_pending_hit *hits; /* hits not yet written (usage) */
	size_t nhits, caphits;
	struct sbuf recent;             /* runs not yet written: CACHE_RUN_HIT / _MISS */
	struct store_backend *backend;  /* the local store as a backend (owned) */
	struct cache_pending_file *pending; /* file index rows not yet written */
	size_t npending, cappending;
	/* file index rows this handle read or wrote, by path (struct cache_pending_file,
	 * owned; path unused): a handle kept open asks SQLite once per file */
	struct strmap mem_index;
	/* entries read by this handle (known.c): hash -> struct known (owned),
	 * valid while no other connection deleted any */
	struct strmap known;
	int64_t known_version;   /* data_version when last checked; -1: not yet */
	int64_t known_deletions; /* meta.deletions then */
	int64_t known_checked; /* CLOCK_MONOTONIC_COARSE ns of the last data_version check */
	size_t known_bytes;
};

/* Execute SQL without results; 0 or BLD_ECACHE (err). */
int cache__exec(struct cache *c, const char *sql, struct bld_err *err);
/* Begin a write transaction (BEGIN IMMEDIATE, busy handled). */
int cache__begin(struct cache *c, struct bld_err *err);
int cache__commit(struct cache *c, struct bld_err *err);
void cache__rollback(struct cache *c);
/* Statement id of c, prepared on first use with sql (the same text on every
 * call); NULL if it cannot be prepared.  Caller holds c->lock and resets it
 * (sqlite3_reset) before unlocking, so no read transaction stays open. */
sqlite3_stmt *cache__stmt(struct cache *c, enum cache_q id, const char *sql);
/* cache_lookup with c->lock held (and no statement of it left open). */
int cache__lookup_locked(struct cache *c, const char *hash, struct cache_entry *ret,
                         struct bld_err *err);
/* Fill err from the db's last error. */
int cache__dberr(struct cache *c, struct bld_err *err, const char *what);
/* Queue a hit of entry hash (its usage: last_used, hits); written by cache__flush_usage. */
void cache__touch(struct cache *c, const char *hash);
/* Write queued hits and runs in one transaction (best effort; takes c->lock). */
void cache__flush_usage(struct cache *c);
/* Delete the usage row of entry hash (deleted, or stored anew); caller holds
 * c->lock inside a write transaction.  0 or BLD_ECACHE. */
int cache__usage_delete(struct cache *c, const char *hash);
/* Resolve a full hash or unique prefix to an entry's hash (out[33]). */
int cache__resolve_hash(struct cache *c, const char *prefix, char out[33], struct bld_err *err);
/* Prune to at most max_bytes of entries, least recently used first. */
int cache__prune(struct cache *c, uint64_t max_bytes, uint64_t *ret_removed, uint64_t *ret_freed,
                 struct bld_err *err);

/* Delete entry hash and its output rows (not its blobs), and count the
 * deletion in meta.deletions (known.c); caller holds c->lock inside a write
 * transaction.  0 or BLD_ECACHE (the caller rolls back). */
int cache__entry_delete(struct cache *c, const char *hash);

/* Remove orphan blobs and temporary files older than an hour; bytes freed. */
uint64_t cache__gc_orphans(struct cache *c);

/* ---- known.c: entries this handle read, kept while nobody else writes ---- */

/* Fill *ret with the summary of entry hash (as cache_lookup) / append its
 * rows and declared outputs to e (as cache__entry_rows), as this handle last
 * read them: true, or false when they are not known, or another connection
 * deleted an entry before the last check, at most a few milliseconds ago
 * (then everything known is forgotten).  Caller holds c->lock. */
bool cache__known_summary(struct cache *c, const char *hash, struct cache_entry *ret);
bool cache__known_rows(struct cache *c, const char *hash, struct cache_entry *e);
/* Read the rest of the entry whose summary was just read from the database
 * (after a cache__known_summary, in one read transaction with it) and keep it
 * whole, unless it is too large to keep.  Caller holds c->lock. */
void cache__known_learn(struct cache *c, const struct cache_entry *summary);
/* Forget entry hash (deleted by this handle).  Caller holds c->lock. */
void cache__known_drop(struct cache *c, const char *hash);
/* Forget everything (cache_close). */
void cache__known_clear(struct cache *c);

/* ---- entry.c: the store's entry operations (hash, task id, manifests; no graph types) ---- */

/* Append the rows (path order) and declared outputs of entry hash to e,
 * from what this handle knows or else the database; caller holds c->lock.
 * 1, 0 when there is no such entry (any rows read then are not an entry's),
 * or BLD_ECACHE: a read cut short never passes for the whole entry. */
int cache__entry_rows(struct cache *c, const char *hash, struct cache_entry *e,
                      struct bld_err *err);
/* Read the rows and declared outputs of entry hash from the database (as
 * cache__entry_rows, never from what the handle knows). */
int cache__entry_rows_read(struct cache *c, const char *hash, struct cache_entry *e,
                           struct bld_err *err);
/* Read entry hash whole (summary, rows, declared outputs, manifest) in one
 * read transaction into *ret: 1, 0 when there is none, negative (err). */
int cache__entry_whole(struct cache *c, const char *hash, struct cache_entry *ret,
                       struct bld_err *err);
/* cache_has with c->lock held: 1, 0, or -1 when the query cannot be prepared. */
int cache__entry_exists_locked(struct cache *c, const char *hash);
/* The local store of c as a backend (cache_open makes it; freed by its ops). */
struct store_backend *cache__local_backend_new(struct cache *c);
/* Make e (hash, task, declared, rows, size, terminal, duration_ms,
 * manifest; every blob its rows name is in the blob store) visible in one
 * write transaction (nothing when hash has an entry already), then prune
 * to the automatic limit.  0 or BLD_ECACHE (err). */
int cache__entry_put(struct cache *c, const struct cache_entry *e, struct bld_err *err);

/* ---- artifact.c: an entry as one verifiable byte string (format 1) ---- */

/* Append the artifact of e (whole) to *ret; files holds the bytes of its
 * file rows, in row order.  0 or BLD_ECACHE. */
int cache__artifact_pack(const struct cache_entry *e, const void *files, size_t files_len,
                         struct sbuf *ret, struct bld_err *err);
/* Verify body as the artifact of task task_id with task hash hash (frame,
 * identity, manifest, terminal output, every file) and unpack it into *ret
 * (whole; its file bytes in ret->fetched at each row's off).  0, or
 * BLD_ECORRUPT (err says why; *ret is empty). */
int cache__artifact_unpack(const char *hash, const char *task_id, const void *body, size_t len,
                           struct cache_entry *ret, struct bld_err *err);

/* ---- transport.c: HTTP transfers (libcurl) on a thread of their own ---- */

enum { XFER_GET, XFER_PUT, XFER_HEAD };

/* One HTTP request.  The caller fills the inputs, submits, and owns it. */
struct xfer_req {
	int method;
	char *url;             /* owned */
	struct strvec headers; /* "Name: value" lines */
	const char *body;      /* PUT: borrowed until done */
	size_t body_len;
	size_t max_resp;       /* response bytes kept at most (0: no limit); past it the
	                        * transfer stops and truncated is set */
	void (*done_cb)(struct xfer_req *r); /* on the transport thread; may free r */
	void *arg;
	/* results */
	bool done, failed, truncated;
	long status;      /* HTTP status, 0 when none came */
	char error[256];  /* failed: what went wrong (never holds request headers) */
	struct sbuf resp; /* the body */
	char *tag;        /* an x-artifact-tag response header, or NULL */
	uint64_t ms;
	struct xfer_req *next; /* the queue (transport) */
};
struct xfer;
/* Start a transport whose transfers fail after stall_s seconds without progress. */
int xfer_new(long stall_s, struct xfer **ret, struct bld_err *err);
/* Queue r; it runs in parallel with the others. */
void xfer_submit(struct xfer *x, struct xfer_req *r);
/* Block until r is done (r must have no done_cb that frees it). */
void xfer_wait(struct xfer *x, struct xfer_req *r);
/* Stop: what is still running fails (its done_cb runs); NULL is fine. */
void xfer_free(struct xfer *x);
/* Free what r owns. */
void xfer_req_release(struct xfer_req *r);

/* Current time in unix seconds / nanoseconds of mtime. */
int64_t cache__now(void);

#endif
