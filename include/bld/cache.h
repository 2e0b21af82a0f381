/*
 * cache.h - the task hasher: what a task's hash and input manifest are.
 * The store it feeds (entries by hash, task id and manifests) is store.h.
 *
 * Task hash: machine-independent XXH3-128 over the hash format version, the
 * task identity, executor and resolved options (canonical JSON), every input
 * file (workspace-relative path + content hash), env and runtime inputs,
 * external-dependency lock files, and dependency outputs where the inputs
 * say so.  Format: docs/cache.md.
 *
 * Nothing here prints.
 */
#ifndef BLD_CACHE_H
#define BLD_CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "bld/base.h"
#include "bld/err.h"
#include "bld/store.h"
#include "bld/taskgraph.h"
#include "bld/workspace.h"

#define CACHE_HASH_FORMAT 1

struct hasher; /* request-scoped hashing state: file index, glob results; opaque */

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
/* The same for a path that project owns (workspace_owner; NULL: none known):
 * kept task hashes that read no file of project, no root-level file and no
 * workspace-wide glob stay valid. */
void cache_memo_forget_owned(struct cache_memo *m, const char *rel_path, const char *project);
/* Forget every hash. */
void cache_memo_clear(struct cache_memo *m);
/* Use m (borrowed; must outlive h) for h's file hashes, and for the hashes
 * of tasks whose inputs are all workspace files (no env, runtime or
 * dependency-output input), kept per workspace generation (h's workspace is
 * generation `generation` of its engine; 0: keep no task hashes, e.g. for a
 * workspace loaded as at another commit) until what they read is forgotten. */
void hasher_set_memo(struct hasher *h, struct cache_memo *m, uint64_t generation);

/* The resolved output paths of a task (tokens expanded, workspace-relative). */
void task_outputs(const struct workspace *ws, const struct task *t, struct strvec *ret);

#endif
