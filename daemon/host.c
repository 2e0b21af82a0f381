/*
 * host.c - the workspace host: snapshots and their generations, the memo,
 * the cache handle kept open, and what the watcher's events do to them.
 *
 * A request asks for a snapshot (host_acquire).  The host first syncs with
 * its watcher (a cookie: every change made before the request is then known),
 * applies the coalesced changes (their memoised hashes are forgotten), and
 * when a change was structural -- a file or folder created, deleted or
 * renamed, or a file the workspace's configuration is read from modified --
 * loads a new generation on the thread pool.  The loop thread swaps the
 * pointer; requests hold references, so an old generation is freed when its
 * last request ends.  A plain content edit keeps the generation: only its
 * memo entry goes.
 *
 * Without a watcher (one-shot, or after events were lost) every batch of
 * waiting requests gets a fresh load and no memo: the one-shot engine is a
 * host serving one request.
 *
 * Outputs vouched for (vouch.h): a restore on the thread pool first puts a
 * pending vouch in the table and has the watcher watch the entry's folders,
 * then checks; any event at, above or below the entry's outputs drops the
 * vouch on the loop thread, and the cookie sync before each request proves
 * every earlier event was read, so a vouch still held then is true.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "engine_int.h"
#include "host.h"
#include "inflight.h"

/* More changed paths than this at one sync: forget every memoised hash. */
#define HOST_FORGET_ALL 512

/* Names whose content is configuration: a change reloads. */
static const char *const config_names[] = {
    "project.json",   "nx.json",  "package.json", "pyproject.toml", "pnpm-workspace.yaml",
    "lerna.json",     ".gitignore", ".nxignore",
};

/* ---- snapshots ---- */

struct snapshot *snapshot_load(const char *root, uint64_t generation)
{
	struct snapshot *s = xcalloc(1, sizeof(*s));
	atomic_init(&s->refs, 1);
	s->generation = generation;
	bld_err_clear(&s->err);
	uint64_t t0 = now_ns();
	/* notes are always collected; a request shows them when it is --verbose */
	struct ws_load_opts o = {.verbose = true};
	if (workspace_load(root, &o, &s->ws, &s->err) < 0)
		s->ws = NULL;
	if (s->ws)
		s->graphs = tg_memo_new(s->ws, SNAPSHOT_GRAPHS_MAX);
	s->load_ms = (double)(now_ns() - t0) / 1e6;
	return s;
}

struct snapshot *snapshot_ref(struct snapshot *s)
{
	atomic_fetch_add(&s->refs, 1);
	return s;
}

void snapshot_unref(struct snapshot *s)
{
	if (!s || atomic_fetch_sub(&s->refs, 1) != 1)
		return;
	tg_memo_free(s->graphs); /* a request frees its shares before its reference */
	free(atomic_load(&s->listing));
	workspace_free(s->ws);
	free(s);
}

/* ---- the watcher's events ---- */

static bool is_config(const char *rel)
{
	const char *base = strrchr(rel, '/');
	base = base ? base + 1 : rel;
	for (size_t i = 0; i < ARRAY_LEN(config_names); i++)
		if (!strcmp(base, config_names[i]))
			return true;
	return false;
}

static void changed_cb(void *arg, const char *rel, bool structural)
{
	struct host *h = arg;
	h->events++;
	if (structural || is_config(rel) || !strncmp(rel, ".git/", 5))
		h->stale = true;
	if (h->changed.n <= HOST_FORGET_ALL)
		strmap_put(&h->changed, rel, (void *)1);
}

static void touched_cb(void *arg, const char *rel)
{
	struct host *h = arg;
	pthread_mutex_lock(&h->vouch_lock);
	vouches_touch(h->vouches, rel);
	pthread_mutex_unlock(&h->vouch_lock);
}

static void pump(struct host *h);
static void after_sync(struct host *h);

/* Close the watcher; nothing is vouched for without it. */
static void unwatch(struct host *h)
{
	pthread_mutex_lock(&h->vouch_lock);
	struct watcher *w = h->watcher;
	h->watcher = NULL;
	vouches_clear(h->vouches);
	pthread_mutex_unlock(&h->vouch_lock);
	watcher_close(w);
}

/* Events may be lost: no memo, a load per request from now on. */
static void fall_back(struct host *h, const char *why)
{
	if (h->fallback)
		return;
	h->fallback = true;
	h->fallback_why = xstrdup(why);
	h->memo_on = false;
	cache_memo_clear(h->memo);
	h->stale = true;
	server_log(h->d, "watcher: %s; from now on every request reloads the workspace "
	                 "and re-checks file hashes and outputs (no memo)", why);
	unwatch(h);
	if (h->syncing) /* its cookie will never be seen: go on without it */
		after_sync(h);
}

static void lost_cb(void *arg, const char *why)
{
	fall_back(arg, why);
}

static void synced_cb(void *arg)
{
	struct host *h = arg;
	if (h->syncing)
		after_sync(h);
}

static const struct watcher_ops host_watcher_ops = {changed_cb, lost_cb, synced_cb,
                                                     touched_cb};

/* Forget the memoised hashes of what changed since the last sync. */
static void apply_changes(struct host *h)
{
	if (h->changed.n > HOST_FORGET_ALL) {
		cache_memo_clear(h->memo);
	} else {
		size_t it = 0;
		const char *k;
		void *v;
		const struct workspace *ws = h->snap ? h->snap->ws : NULL;
		while (strmap_next(&h->changed, &it, &k, &v)) {
			int owner = v && ws ? workspace_owner(ws, k) : -1;
			if (v)
				cache_memo_forget_owned(h->memo, k,
				                        owner >= 0 ? ws->projects[owner].name : NULL);
		}
	}
	strmap_release(&h->changed);
	strmap_init(&h->changed);
}

/* ---- loads ---- */

static void load_cb(uv_work_t *w)
{
	struct host *h = w->data;
	h->loaded = snapshot_load(h->root, h->generation + 1);
}

/* Watch the new generation's folders.  Folders watched only now may have
 * changed between the walk and their watch: the memo is cleared, and the
 * next request loads again (then nothing is new and the generation holds). */
static void rewatch(struct host *h)
{
	if (!h->watcher || !h->snap->ws)
		return;
	struct strvec dirs;
	strvec_init(&dirs);
	for (size_t i = 0; i < h->snap->ws->dirs.n; i++)
		strvec_push(&dirs, h->snap->ws->dirs.v[i]);
	char *info = path_join(h->root, ".git/info");
	if (dir_exists(info))
		strvec_push(&dirs, ".git/info"); /* its exclude file holds ignore rules */
	free(info);
	int added = watcher_set_dirs(h->watcher, &dirs);
	strvec_release(&dirs);
	if (added <= 0 || !h->watcher)
		return;
	cache_memo_clear(h->memo); /* rare (a tree moved in, the first load): all of it */
	h->stale = true;
}

static void serve(struct host *h);

static void loaded_cb(uv_work_t *w, int status)
{
	struct host *h = w->data;
	struct snapshot *s = h->loaded;
	h->loaded = NULL;
	h->loading = false;
	if (status < 0 || !s) { /* canceled: the pool never ran it */
		snapshot_unref(s);
		s = xcalloc(1, sizeof(*s));
		atomic_init(&s->refs, 1);
		s->generation = h->generation + 1;
		bld_err_set(&s->err, BLD_ECANCELED, "the workspace load was canceled");
	}
	snapshot_unref(h->snap);
	h->snap = s;
	h->generation = s->generation;
	h->loads++;
	h->last_load_ms = s->load_ms;
	if (!h->closing)
		rewatch(h);
	if (!s->ws)
		h->stale = true; /* a failed load tells no folders to watch: never reuse it */
	serve(h);
}

static void start_load(struct host *h)
{
	h->loading = true;
	h->stale = false; /* changes from now on make the next request load again */
	h->load_work.data = h;
	if (uv_queue_work(&h->d->loop, &h->load_work, load_cb, loaded_cb) < 0)
		loaded_cb(&h->load_work, -1);
}

/* ---- requests waiting for a snapshot ---- */

static struct request *pop(struct host *h)
{
	struct request *r = h->wait_head;
	h->wait_head = r->host_next;
	if (!h->wait_head)
		h->wait_tail = NULL;
	r->host_next = NULL;
	r->host_waiting = false;
	return r;
}

/* Hand the current snapshot to the requests the last sync covered. */
static void serve(struct host *h)
{
	size_t n = h->covered;
	h->covered = 0;
	struct snapshot *s = snapshot_ref(h->snap);
	while (n-- && h->wait_head) {
		struct request *r = pop(h);
		r->snap = snapshot_ref(s);
		r->t_host_ns = now_ns() - r->t_start_ns;
		request_dispatch(r); /* may finish and free r */
	}
	snapshot_unref(s);
	pump(h);
}

static void after_sync(struct host *h)
{
	h->syncing = false;
	if (!h->watcher || !atomic_load(&h->memo_on))
		h->stale = true; /* nothing tells what changed: load again */
	else
		apply_changes(h);
	if (h->stale || !h->snap)
		start_load(h);
	else
		serve(h);
}

/* Start the next sync for every request waiting now. */
static void pump(struct host *h)
{
	if (h->syncing || h->loading || !h->wait_head || h->closing)
		return;
	size_t n = 0;
	for (struct request *r = h->wait_head; r; r = r->host_next)
		n++;
	h->covered = n;
	h->syncing = true;
	h->syncs++;
	if (h->watcher && watcher_sync(h->watcher) == 0)
		return; /* synced_cb continues */
	if (h->watcher)
		fall_back(h, "the watcher's cookie could not be written"); /* calls after_sync */
	else
		after_sync(h);
}

void host_acquire(struct host *h, struct request *r)
{
	h->requests++;
	r->host = h;
	r->host_waiting = true;
	if (h->wait_tail)
		h->wait_tail->host_next = r;
	else
		h->wait_head = r;
	h->wait_tail = r;
	pump(h);
}

bool host_cancel(struct host *h, struct request *r)
{
	if (!r->host_waiting)
		return false;
	size_t i = 0;
	struct request *prev = NULL;
	for (struct request *q = h->wait_head; q; prev = q, q = q->host_next, i++) {
		if (q != r)
			continue;
		if (prev)
			prev->host_next = r->host_next;
		else
			h->wait_head = r->host_next;
		if (h->wait_tail == r)
			h->wait_tail = prev;
		if (i < h->covered)
			h->covered--;
		r->host_next = NULL;
		r->host_waiting = false;
		return true;
	}
	return false;
}

/* ---- life ---- */

struct host *host_new(struct daemon *d, const char *root, bool watch)
{
	struct host *h = xcalloc(1, sizeof(*h));
	h->d = d;
	h->root = xstrdup(root);
	h->stale = true;
	h->memo = cache_memo_new();
	h->inflight = inflight_new();
	strmap_init(&h->changed);
	pthread_mutex_init(&h->cache_lock, NULL);
	pthread_cond_init(&h->cache_given, NULL);
	pthread_mutex_init(&h->remote_lock, NULL);
	pthread_mutex_init(&h->vouch_lock, NULL);
	h->vouches = vouches_new();
	h->keep_cache = watch;
	if (watch) {
		struct watcher *w = NULL;
		int rc = watcher_new(&d->loop, root, ".bld", &host_watcher_ops, h, &w);
		pthread_mutex_lock(&h->vouch_lock);
		h->watcher = rc < 0 ? NULL : w;
		pthread_mutex_unlock(&h->vouch_lock);
		if (rc < 0) {
			char why[160];
			snprintf(why, sizeof(why), "no watcher (%s)", strerror(-rc));
			fall_back(h, why);
		} else {
			h->memo_on = true;
			start_load(h); /* warm before the first request asks */
		}
	}
	h->next = d->hosts;
	d->hosts = h;
	return h;
}

void host_close(struct host *h)
{
	h->closing = true;
	unwatch(h);
	h->memo_on = false;
}

void host_free(struct host *h)
{
	if (!h)
		return;
	snapshot_unref(h->snap);
	cache_close(h->cache);
	free(h->cache_dir);
	pthread_mutex_destroy(&h->cache_lock);
	pthread_cond_destroy(&h->cache_given);
	for (size_t i = 0; i < h->nremotes; i++)
		remote_link_free(h->remotes[i]); /* uploads still running fail now */
	pthread_mutex_destroy(&h->remote_lock);
	cache_memo_free(h->memo);
	inflight_free(h->inflight);
	vouches_free(h->vouches);
	free(h->vouch_dir);
	pthread_mutex_destroy(&h->vouch_lock);
	strmap_release(&h->changed);
	free(h->fallback_why);
	free(h->root);
	free(h);
}

struct host *host_for_request(struct daemon *d, struct request *r)
{
	char *root = NULL;
	struct bld_err err;
	bld_err_clear(&err);
	if (workspace_find_root(r->cwd, &root, &err) < 0)
		return NULL;
	struct host *h = d->hosts;
	while (h && strcmp(h->root, root))
		h = h->next;
	if (!h)
		h = host_new(d, root, d->resident && d->root && !strcmp(root, d->root));
	free(root);
	return h;
}

/* ---- the cache handle ---- */

/* The identity of the database file of cache folder dir: a folder made again,
 * or a database another process set aside (cache_open does with an unreadable
 * one) and made anew, is not the kept handle's. */
static int db_stat(const char *dir, struct stat *st)
{
	char *db = path_join(dir, CACHE_DB_FILE);
	int r = stat(db, st);
	free(db);
	return r;
}

int host_cache_take(struct host *h, const char *dir, struct cache **ret, bool *ret_lent,
                    struct bld_err *err)
{
	pthread_mutex_lock(&h->cache_lock);
	struct stat st;
	if (h->cache && !h->cache_lent &&
	    (db_stat(h->cache_dir, &st) < 0 || st.st_dev != h->cache_dev ||
	     st.st_ino != h->cache_ino)) {
		cache_close(h->cache); /* its database was removed or replaced meanwhile */
		h->cache = NULL;
		free(h->cache_dir);
		h->cache_dir = NULL;
		pthread_mutex_lock(&h->vouch_lock); /* and with it the entries vouched for */
		vouches_clear(h->vouches);
		pthread_mutex_unlock(&h->vouch_lock);
	}
	if (h->cache && !h->cache_lent && !strcmp(h->cache_dir, dir)) {
		h->cache_lent = true;
		*ret = h->cache;
		*ret_lent = true;
		pthread_mutex_unlock(&h->cache_lock);
		return 0;
	}
	pthread_mutex_unlock(&h->cache_lock);
	*ret_lent = false;
	return cache_open(dir, ret, err);
}

void host_cache_give(struct host *h, struct cache *c, bool lent, const char *dir)
{
	if (!c)
		return;
	cache_flush(c);
	cache_set_max_size(c, 0);
	pthread_mutex_lock(&h->cache_lock);
	if (lent) {
		h->cache_lent = false;
		h->cache_giving = false;
		pthread_cond_broadcast(&h->cache_given);
		c = NULL;
	} else if (!h->cache && h->keep_cache) { /* keep the first one (resident hosts only) */
		struct stat st;
		if (db_stat(dir, &st) == 0) {
			h->cache = c;
			h->cache_dir = xstrdup(dir);
			h->cache_dev = st.st_dev;
			h->cache_ino = st.st_ino;
			c = NULL;
		}
	}
	pthread_mutex_unlock(&h->cache_lock);
	cache_close(c);
}

struct give {
	uv_work_t work;
	struct host *h;
	struct cache *c;
	char *dir;
};

static void give_cb(uv_work_t *w)
{
	struct give *g = w->data;
	host_cache_give(g->h, g->c, true, g->dir);
	g->c = NULL;
}

static void given_cb(uv_work_t *w, int status)
{
	struct give *g = w->data;
	(void)status;
	if (g->c) /* the pool never ran it */
		host_cache_give(g->h, g->c, true, g->dir);
	free(g->dir);
	free(g);
}

void host_cache_give_later(struct host *h, struct cache *c, const char *dir)
{
	struct give *g = xcalloc(1, sizeof(*g));
	*g = (struct give){.h = h, .c = c, .dir = xstrdup(dir)};
	g->work.data = g;
	pthread_mutex_lock(&h->cache_lock);
	h->cache_giving = true;
	pthread_mutex_unlock(&h->cache_lock);
	if (uv_queue_work(&h->d->loop, &g->work, give_cb, given_cb) < 0)
		given_cb(&g->work, -1);
}

void host_cache_settle(struct host *h)
{
	pthread_mutex_lock(&h->cache_lock);
	while (h->cache_giving)
		pthread_cond_wait(&h->cache_given, &h->cache_lock);
	pthread_mutex_unlock(&h->cache_lock);
}

int host_remote_open(struct host *h, const struct remote_config *cfg,
                     struct store_backend **ret, struct bld_err *err)
{
	if (!h->keep_cache)
		return remote_new(cfg, ret, err);
	struct remote_link *l = NULL;
	int rc = 0;
	pthread_mutex_lock(&h->remote_lock);
	for (size_t i = 0; !l && i < h->nremotes; i++)
		if (remote_link_is(h->remotes[i], cfg))
			l = h->remotes[i];
	if (!l && h->nremotes < HOST_REMOTES_MAX && (rc = remote_link_new(cfg, &l, err)) == 0)
		h->remotes[h->nremotes++] = l;
	pthread_mutex_unlock(&h->remote_lock);
	if (rc < 0)
		return rc;
	return l ? remote_open(l, ret, err) : remote_new(cfg, ret, err);
}

/* ---- outputs vouched for ---- */

static void vouch_id_of(const struct cache_entry *e, struct vouch_id *ret)
{
	memset(ret, 0, sizeof(*ret));
	snprintf(ret->hash, sizeof(ret->hash), "%s", e->hash);
	ret->created = e->created;
	ret->size = e->size;
	ret->duration_ms = e->duration_ms;
	ret->terminal_len = e->terminal_len;
}

bool host_vouched(struct host *h, const char *dir, const struct cache_entry *e)
{
	if (!h || !dir)
		return false;
	struct vouch_id id;
	vouch_id_of(e, &id);
	pthread_mutex_lock(&h->vouch_lock);
	bool yes = h->watcher && h->vouch_dir && !strcmp(h->vouch_dir, dir) &&
	           vouches_holds(h->vouches, &id);
	pthread_mutex_unlock(&h->vouch_lock);
	if (yes)
		atomic_fetch_add(&h->vouched_hits, 1);
	return yes;
}

/* cache_restore's watch callback: a pending vouch, then the watches, both
 * before restore looks at any output. */
static void vouch_watch_cb(void *arg, const struct strvec *dirs, const struct strvec *roots)
{
	struct host_vouch *v = arg;
	struct host *h = v->h;
	pthread_mutex_lock(&h->vouch_lock);
	if (h->watcher) {
		if (!h->vouch_dir || strcmp(h->vouch_dir, v->dir)) { /* another cache folder */
			vouches_clear(h->vouches);
			free(h->vouch_dir);
			h->vouch_dir = xstrdup(v->dir);
		}
		v->token = vouches_begin(h->vouches, &v->id, roots);
		if (watcher_watch_outputs(h->watcher, dirs) < 0) { /* not all watched: no vouch */
			vouches_cancel(h->vouches, v->id.hash, v->token);
			v->token = 0;
		}
	}
	pthread_mutex_unlock(&h->vouch_lock);
}

void host_vouch_init(struct host_vouch *v, struct host *h, const char *dir,
                     const struct cache_entry *e)
{
	memset(v, 0, sizeof(*v));
	if (!h || !dir || !h->keep_cache)
		return;
	v->h = h;
	v->dir = dir;
	vouch_id_of(e, &v->id);
	v->w.watch = vouch_watch_cb;
	v->w.arg = v;
}

void host_vouch_end(struct host_vouch *v, bool ok)
{
	if (!v->token)
		return;
	pthread_mutex_lock(&v->h->vouch_lock);
	if (!ok || !v->w.clean || !vouches_grant(v->h->vouches, v->id.hash, v->token))
		vouches_cancel(v->h->vouches, v->id.hash, v->token);
	pthread_mutex_unlock(&v->h->vouch_lock);
	v->token = 0;
}

struct cache_memo *host_memo(struct host *h)
{
	return h && atomic_load(&h->memo_on) ? h->memo : NULL;
}

/* ---- status ---- */

void host_status(const struct host *h, struct sbuf *text, cJSON *json)
{
	size_t outs = 0, watched = h->watcher ? watcher_count(h->watcher, &outs) : 0;
	pthread_mutex_t *lock = (pthread_mutex_t *)&h->vouch_lock; /* a lock is no state */
	pthread_mutex_lock(lock);
	size_t vouched = vouches_count(h->vouches);
	pthread_mutex_unlock(lock);
	uint64_t trusted = atomic_load(&h->vouched_hits);
	const char *state = h->fallback ? h->fallback_why : h->watcher ? "watching" : "no watcher";
	if (json) {
		cJSON_AddNumberToObject(json, "watchedDirs", (double)watched);
		cJSON_AddNumberToObject(json, "generation", (double)h->generation);
		cJSON_AddNumberToObject(json, "loads", (double)h->loads);
		cJSON_AddNumberToObject(json, "lastLoadMs", h->last_load_ms);
		cJSON_AddNumberToObject(json, "watchEvents", (double)h->events);
		cJSON_AddBoolToObject(json, "fallback", h->fallback);
		if (h->fallback)
			cJSON_AddStringToObject(json, "fallbackReason", h->fallback_why);
		cJSON_AddBoolToObject(json, "memo", atomic_load(&h->memo_on));
		cJSON_AddNumberToObject(json, "remoteLinks", (double)h->nremotes);
		cJSON_AddNumberToObject(json, "outputWatches", (double)outs);
		cJSON_AddNumberToObject(json, "vouchedEntries", (double)vouched);
		cJSON_AddNumberToObject(json, "vouchedHits", (double)trusted);
		if (h->snap && !h->snap->ws)
			cJSON_AddStringToObject(json, "workspaceError", h->snap->err.msg);
		cJSON_AddNumberToObject(json, "tasksInFlight", (double)inflight_count(h->inflight));
		cJSON_AddNumberToObject(json, "tasksFollowed",
		                        (double)inflight_followers(h->inflight));
		struct tg_memo *g = h->snap ? h->snap->graphs : NULL;
		cJSON_AddNumberToObject(json, "taskGraphsKept", g ? (double)tg_memo_count(g) : 0);
		cJSON_AddNumberToObject(json, "taskGraphHits", g ? (double)tg_memo_hits(g) : 0);
	}
	if (text) {
		sbuf_addf(text, "watching:   %zu folders (%s)\n", watched, state);
		sbuf_addf(text, "generation: %llu (%llu loads, the last %.1f ms; %llu events)\n",
		          (unsigned long long)h->generation, (unsigned long long)h->loads,
		          h->last_load_ms, (unsigned long long)h->events);
		sbuf_addf(text, "outputs:    %zu cache entr%s vouched for (%zu output folders "
		                "watched; %llu hits skipped their check)\n",
		          vouched, vouched == 1 ? "y" : "ies", outs, (unsigned long long)trusted);
		if (h->nremotes)
			sbuf_addf(text, "remote:     connections kept for %zu configuration%s\n",
			          h->nremotes, h->nremotes == 1 ? "" : "s");
		if (h->fallback)
			sbuf_addf(text, "fallback:   every request reloads the workspace and "
			                "re-checks file hashes\n");
		if (h->snap && !h->snap->ws)
			sbuf_addf(text, "workspace:  does not load: %s\n", h->snap->err.msg);
		size_t n = inflight_count(h->inflight), f = inflight_followers(h->inflight);
		sbuf_addf(text, "in flight:  %zu task%s, followed by %zu other request%s\n", n,
		          n == 1 ? "" : "s", f, f == 1 ? "" : "s");
	}
}
