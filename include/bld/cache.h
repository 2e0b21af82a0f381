/*
 * cache.h - task hashing and the local content-addressed cache.
 *
 * Task hash: machine-independent XXH3-128 over the hash format version, the
 * task identity, executor and resolved options (canonical JSON), every input
 * file (workspace-relative path + content hash), env and runtime inputs,
 * external-dependency lock files, and dependency outputs where the inputs
 * say so.  Format: docs/cache.md.
 *
 * Store: SQLite (WAL) under the cache folder for the file index, entries,
 * output manifests, input manifests and run history; output bytes as blobs
 * named by their content hash, written to a temporary name and renamed
 * before the transaction that makes an entry visible commits.
 *
 * Nothing here prints: warnings are returned in a caller's strvec.
 */
#ifndef BLD_CACHE_H
#define BLD_CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "bld/base.h"
#include "bld/err.h"
#include "bld/taskgraph.h"
#include "bld/workspace.h"

#define CACHE_HASH_FORMAT 1

struct cache;      /* an open cache folder (SQLite + blobs); opaque */
struct hasher;     /* request-scoped hashing state: file index, glob results; opaque */

/* Open (creating) the cache at dir.  0 and *ret_cache, or negative (err). */
int cache_open(const char *dir, struct cache **ret_cache, struct bld_err *err);
/* Write what is still queued (run history, file index rows) and close; NULL is fine. */
void cache_close(struct cache *c);
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

/*
 * Start hashing for one request over ws (borrowed; c may be NULL for no file
 * index).  env is the client's environment (NULL-terminated "K=V" array,
 * borrowed for the hasher's life).
 */
int hasher_new(struct workspace *ws, struct cache *c, char *const *env,
               struct hasher **ret, struct bld_err *err);
/* Flush the file index rows it found and free; NULL is fine. */
void hasher_free(struct hasher *h);

/*
 * Compute tg->tasks[i].hash.  Tasks whose inputs include dependency outputs
 * must be hashed after those dependencies finished.  The input manifest (what
 * went into the hash, for `cache why`) is returned in *ret_manifest when not
 * NULL (caller frees with cJSON_Delete).
 */
int hasher_task_hash(struct hasher *h, struct task_graph *tg, int i, cJSON **ret_manifest,
                     struct bld_err *err);

/*
 * File content hashes kept across requests by a resident engine.  A hasher
 * given a memo (hasher_set_memo) takes a file's hash from it without any
 * stat or read, and adds the hashes it computes.  The engine's watcher must
 * call cache_memo_forget for every workspace-relative path that changed
 * (a folder: everything below it) before the next request hashes, and
 * cache_memo_clear when it may have lost events.  Thread-safe.
 */
struct cache_memo;
/* An empty memo; free with cache_memo_free (NULL is fine). */
struct cache_memo *cache_memo_new(void);
void cache_memo_free(struct cache_memo *m);
/* Forget rel_path's hash, or every hash below it when it is a folder ("": all). */
void cache_memo_forget(struct cache_memo *m, const char *rel_path);
/* Forget every hash. */
void cache_memo_clear(struct cache_memo *m);
/* Use m (borrowed; must outlive h) for h's file hashes. */
void hasher_set_memo(struct hasher *h, struct cache_memo *m);

/* A cache entry as found by cache_lookup. */
struct cache_entry {
	char hash[33];
	char *task;            /* task id */
	int exit_code;
	uint64_t duration_ms;
	uint64_t size;         /* bytes of outputs */
	int64_t created;       /* unix seconds */
	char *terminal;        /* recorded terminal output (stdout and stderr interleaved) */
	size_t terminal_len;
};
/* Free what e owns (task, terminal) and zero it; NULL is fine. */
void cache_entry_release(struct cache_entry *e);

/* 1 when hash has an entry, 0 when not, -1 on a database error (no read of it). */
int cache_has(struct cache *c, const char *hash);
/* 1 and fills *ret when hash has an entry, 0 when not, negative on error. */
int cache_lookup(struct cache *c, const char *hash, struct cache_entry *ret, struct bld_err *err);

/*
 * Restore entry's outputs into the workspace at ws_root: outputs already
 * matching are left alone; only declared outputs are written; nothing goes
 * outside ws_root.  A blob whose bytes no longer match its hash is
 * BLD_ECORRUPT (then treat as a miss).  *ret_restored counts files written.
 */
int cache_restore(struct cache *c, const struct cache_entry *e, const char *ws_root,
                  size_t *ret_restored, struct bld_err *err);

/* The most terminal output a cache entry keeps; a task printing more is not cached. */
#define CACHE_MAX_TERMINAL (256u << 20)

/*
 * Store the outputs of a successful task: outputs are the task's resolved
 * output paths (workspace-relative, globs allowed); absent ones are recorded
 * as absent.  manifest (borrowed) is the input manifest from hasher_task_hash.
 * BLD_ETOOBIG when terminal_len is over CACHE_MAX_TERMINAL.
 */
int cache_store(struct cache *c, const struct task *t, const char *ws_root,
                const struct strvec *outputs, const char *terminal, size_t terminal_len,
                uint64_t duration_ms, const cJSON *manifest, struct bld_err *err);

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

/* Remote cache counters of one run, added to the totals `cache stats` shows. */
struct cache_remote_stats {
	uint64_t hits, misses, refused, uploads, bytes_down, bytes_up, ms;
};
void cache_add_remote_stats(struct cache *c, const struct cache_remote_stats *s);

/* Record a run (hit or miss) in the history for stats. */
int cache_record_run(struct cache *c, const char *task_id, const char *hash, const char *source,
                     int exit_code, uint64_t duration_ms);

/* For each of the n task ids, the run time (ms) of its newest entry created
 * before the unix time `before`, 0 when it has none, into ret_ms[0..n-1]
 * (for --shard's balance).  0 or negative (err). */
int cache_task_durations(struct cache *c, const char *const *task_ids, size_t n, int64_t before,
                         uint64_t *ret_ms, struct bld_err *err);

/* The resolved output paths of a task (tokens expanded, workspace-relative). */
void task_outputs(const struct workspace *ws, const struct task *t, struct strvec *ret);

/* `bld cache ls|show|stats|prune|why` as text (or JSON when json) into out. */
int cache_cmd_ls(struct cache *c, bool json, struct sbuf *out, struct bld_err *err);
int cache_cmd_show(struct cache *c, const char *hash, bool json, struct sbuf *out,
                   struct bld_err *err);
int cache_cmd_stats(struct cache *c, bool json, struct sbuf *out, struct bld_err *err);
int cache_cmd_prune(struct cache *c, uint64_t max_bytes, struct sbuf *out, struct bld_err *err);
/* Explain why task i would miss: compare its manifest with the newest entry of that task. */
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
 * takes this lock once per hash.  flock on a file under <cache>/locks/: the
 * kernel releases it when its holder dies.  Never blocks.
 */
struct cache_task_lock;
/* 1 and *ret_lock when taken, 0 when another holder has it (retry later),
 * negative on error (err; then run unlocked).  Release with cache_task_lock_release. */
int cache_task_lock_try(struct cache *c, const char *hash, struct cache_task_lock **ret_lock,
                        struct bld_err *err);
/* Release and free l; NULL is fine.  Thread-safe (touches only l). */
void cache_task_lock_release(struct cache_task_lock *l);

#endif
