/*
 * host.h - the workspace host: the warm state of one workspace root that the
 * engine serves (docs/architecture.md, "The workspace host").
 *
 *     struct host            one per root, owned by struct daemon
 *       struct snapshot      the current generation: an immutable workspace,
 *                            reference counted; a request keeps the one it
 *                            started with to its end
 *       struct cache_memo    warm file hashes, forgotten by the watcher
 *       struct cache         one handle kept open, lent to one request at a time
 *       struct remote_link   remote cache transports (connections), by configuration
 *       struct watcher       inotify on every folder the walk entered, and on the
 *                            folders of outputs it vouches for (watch.c)
 *       struct vouches       cache entries whose outputs are known to be in place (vouch.h)
 *       struct inflight      the tasks running now, by task hash (inflight.h, share.c)
 *
 * Everything here runs on the loop thread except what is said otherwise:
 * loads run on the thread pool and the loop thread swaps the pointer;
 * host_cache_take/give and the host_vouch functions are called from pool
 * threads too (mutexes).
 */
#ifndef BLD_HOST_H
#define BLD_HOST_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include <uv.h>

#include "bld/cache.h"
#include "bld/err.h"
#include "bld/remote.h"
#include "bld/store.h"
#include "bld/taskgraph.h"
#include "bld/workspace.h"
#include "vouch.h"

struct daemon;
struct inflight;
struct request;
struct watcher;

/* Bytes a generation keeps once made (malloc'd with their length). */
struct snapshot_blob {
	size_t len;
	char data[];
};

/* One generation of the workspace.  Nothing in it changes once published,
 * except what is kept for it: derived from ws alone, made by the first
 * request that needs it, then shared by the generation's later requests. */
struct snapshot {
	atomic_int refs;
	uint64_t generation;
	struct workspace *ws; /* owned; NULL when the load failed */
	struct bld_err err;   /* why the load failed (file:line:col) */
	double load_ms;
	struct tg_memo *graphs; /* owned: task graphs by request shape; NULL without ws */
	/* owned: the frames answering a plain `show projects` (cmds.c); set once */
	_Atomic(struct snapshot_blob *) listing;
};

/* Task graphs a generation keeps (request shapes; the least recently used go). */
#define SNAPSHOT_GRAPHS_MAX 8

/* Load root into a new snapshot (refs 1), on any thread; a failed load is a
 * snapshot too (ws NULL, err set). */
struct snapshot *snapshot_load(const char *root, uint64_t generation);
/* Take another reference (any thread). */
struct snapshot *snapshot_ref(struct snapshot *s);
/* Drop a reference; the last one frees the workspace.  NULL is fine. */
void snapshot_unref(struct snapshot *s);

/* Remote cache configurations a host keeps connections for; more get a
 * connection per request. */
#define HOST_REMOTES_MAX 4

struct host {
	struct daemon *d;
	struct host *next;
	char *root;               /* owned, absolute */
	struct snapshot *snap;    /* the current generation (a reference), or NULL */
	uint64_t generation;      /* of snap; the next load gets generation + 1 */
	bool stale;               /* the next request needs a new generation */
	bool loading;             /* a load is on the thread pool */
	bool syncing;             /* waiting for the watcher's cookie */
	bool closing;             /* shutting down: no new load */
	uv_work_t load_work;
	struct snapshot *loaded;  /* the pool's result, taken by the loop thread */
	/* requests waiting for a snapshot, FIFO; the first `covered` are served by
	 * the sync (and load) in progress, the rest wait for the next one */
	struct request *wait_head, *wait_tail;
	size_t covered;
	/* the watcher; NULL without one (one-shot, another root, or fallen back) */
	struct watcher *watcher;
	struct cache_memo *memo;  /* owned; handed to requests only while memo_on */
	atomic_bool memo_on;      /* read by pool threads (cmd_new_hasher) */
	struct strmap changed;    /* paths changed since the last sync (coalesced) */
	bool fallback;            /* events may be lost: reload per request, no memo */
	char *fallback_why;       /* owned: said once in the log and in status */
	/* the cache handle, lent to one request at a time (cache_lock) */
	pthread_mutex_t cache_lock;
	struct cache *cache;      /* owned; NULL until a request gave one back */
	char *cache_dir;          /* owned: cache's folder */
	dev_t cache_dev;          /* its database file's identity when kept: a folder */
	ino_t cache_ino;          /* or database made again is opened again */
	bool cache_lent;
	bool cache_giving;        /* lent to a give on the pool (host_cache_give_later) */
	pthread_cond_t cache_given; /* signalled when that give is done */
	bool keep_cache;          /* resident: keep a handle between requests (immutable) */
	/* remote cache links kept across requests (resident hosts), one per
	 * configuration, at most HOST_REMOTES_MAX; made on first use, freed with h */
	pthread_mutex_t remote_lock;
	struct remote_link *remotes[HOST_REMOTES_MAX];
	size_t nremotes;
	struct inflight *inflight; /* owned: one execution per task hash (share.c) */
	/* outputs vouched for (vouch.h).  vouch_lock guards vouches and vouch_dir,
	 * and the watcher pointer against pool threads (the loop changes it under it) */
	pthread_mutex_t vouch_lock;
	struct vouches *vouches;  /* owned */
	char *vouch_dir;          /* owned: the cache folder whose entries are vouched for */
	atomic_uint_fast64_t vouched_hits; /* hits that skipped restore's checks */
	/* figures for `bld daemon status` */
	uint64_t requests, loads, syncs, events;
	double last_load_ms;
};

/* A host for root.  watch: keep it warm with a watcher (resident daemon).
 * Starts loading at once when watch is set. */
struct host *host_new(struct daemon *d, const char *root, bool watch);
/* Free (after the loop ended: no request left); NULL is fine. */
void host_free(struct host *h);
/* Close the watcher's handles (shutdown); waiting requests stay queued. */
void host_close(struct host *h);

/* The host of r's workspace (found from r->cwd, made when new), or NULL
 * when r->cwd is in no workspace.  One-shot, a host without a watcher. */
struct host *host_for_request(struct daemon *d, struct request *r);
/* Queue r for a snapshot of h: once every change made before now has been
 * read (the watcher's cookie) and the snapshot is current, r->snap gets a
 * reference and request_dispatch(r) runs (on the loop thread; maybe at once). */
void host_acquire(struct host *h, struct request *r);
/* r is canceled while it waits: take it off the queue.  False when it was not queued. */
bool host_cancel(struct host *h, struct request *r);

/* The cache for folder dir: the host's open handle when it is free and of
 * that folder (then *ret_lent), else a new one.  Any thread.  0 or negative (err). */
int host_cache_take(struct host *h, const char *dir, struct cache **ret, bool *ret_lent,
                    struct bld_err *err);
/* Give back a handle of folder dir from host_cache_take: flushed, and kept
 * (the host's own, or the first a resident host sees) or closed.  Any thread. */
void host_cache_give(struct host *h, struct cache *c, bool lent, const char *dir);
/* host_cache_give of the host's own (lent) handle on the thread pool: its
 * flush (the run history, the hits' usage rows) is SQLite writes the loop
 * thread need not wait for.  Loop thread. */
void host_cache_give_later(struct host *h, struct cache *c, const char *dir);
/* Wait until no give of h's handle is in flight, so that a request starting
 * now sees what the last one wrote and takes the kept handle.  Loop thread
 * only (a pool thread could wait for a give queued behind itself). */
void host_cache_settle(struct host *h);
/* A remote cache backend for cfg: over the host's kept link of that
 * configuration (made on first use) when h is resident, else over a link of
 * its own.  Any thread.  0 and *ret (free with store_backend_free), or negative. */
int host_remote_open(struct host *h, const struct remote_config *cfg,
                     struct store_backend **ret, struct bld_err *err);
/*
 * Outputs vouched for (docs/architecture.md): a restore that found every
 * output of an entry in place, with the watcher watching their folders from
 * before the check, lets later hits of that entry skip the check until any
 * change under those folders (or lost events) drops the vouch.  Any thread.
 */
struct host_vouch {
	struct cache_restore_watch w; /* pass &v->w to cache_restore */
	struct host *h;
	const char *dir;    /* borrowed: the cache folder of the entry */
	struct vouch_id id;
	uint64_t token;     /* the pending vouch, 0: none */
};
/* Does h vouch for the outputs of hit e of cache folder dir (NULL h: no)?
 * Counted as a vouched hit when it does. */
bool host_vouched(struct host *h, const char *dir, const struct cache_entry *e);
/* Set v up for a cache_restore of e (dir borrowed until host_vouch_end): its
 * folders are watched before they are checked.  NULL h or dir: v does nothing. */
void host_vouch_init(struct host_vouch *v, struct host *h, const char *dir,
                     const struct cache_entry *e);
/* That cache_restore returned (ok: it succeeded): vouch for e when it found
 * everything in place and nothing changed meanwhile. */
void host_vouch_end(struct host_vouch *v, bool ok);

/* The memo a request's hasher may use now, or NULL. */
struct cache_memo *host_memo(struct host *h);

/* `bld daemon status` lines (text) or fields (json) of h. */
void host_status(const struct host *h, struct sbuf *text, cJSON *json);

/* watch.c: one inotify instance read through a uv_poll_t.  Why not
 * uv_fs_event: libuv drops IN_Q_OVERFLOW (its wd -1 names no handle) and
 * does not say whether a created entry is a folder. */
struct watcher_ops {
	/* rel changed (workspace-relative); structural: created, deleted or moved */
	void (*changed)(void *arg, const char *rel, bool structural);
	/* events may have been lost (queue overflow, out of watches, a read error) */
	void (*lost)(void *arg, const char *why);
	/* the cookie of watcher_sync was seen: every earlier event was delivered */
	void (*synced)(void *arg);
	/* rel (workspace-relative, "" the root) or something in it changed: any
	 * event of any watched folder, workspace or output, before the above */
	void (*touched)(void *arg, const char *rel);
};
/* Watch nothing yet; cookies go to <root>/<cookie_dir> (which is watched, and
 * skipped by every walk).  0 or negative errno. */
int watcher_new(uv_loop_t *loop, const char *root, const char *cookie_dir,
                const struct watcher_ops *ops, void *arg, struct watcher **ret);
/* Watch exactly the folders of dirs (workspace-relative): add the new ones,
 * drop the rest.  Returns how many were added, or negative (-ENOSPC: out of
 * watches; ops->lost was called). */
int watcher_set_dirs(struct watcher *w, const struct strvec *dirs);
/* Write a cookie; ops->synced follows once its event was read (or ops->lost
 * when it is not seen in time).  0 or negative errno (then nothing follows). */
int watcher_sync(struct watcher *w);
/* Also watch dirs (workspace-relative, parents before their folders), the
 * folders of outputs: from any thread.  A folder that is not there (or not a
 * folder) is no error: its parent's events tell when it comes.  0, or
 * negative (-ENOSPC: over the outputs' share of the watches; the events of
 * the workspace's folders are still all seen). */
int watcher_watch_outputs(struct watcher *w, const struct strvec *dirs);
/* Folders watched now; *ret_outputs (may be NULL): how many for outputs. */
size_t watcher_count(struct watcher *w, size_t *ret_outputs);
/* Stop; freed in its handles' close callbacks.  NULL is fine. */
void watcher_close(struct watcher *w);

#endif
