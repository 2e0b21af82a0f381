/*
 * watch.c - the watcher: one inotify instance, one watch per folder (inotify
 * is not recursive), read on the loop thread through a uv_poll_t.
 *
 * Two kinds of folders share the instance, one watch each (a folder may be
 * both):
 *   - the workspace's (tree): from the host (the walk's list,
 *     watcher_set_dirs) and from the events themselves: a folder created or
 *     moved into one is watched at once, before anything reloads, so files
 *     made in it right after are seen.  Folder names every walk skips (.git,
 *     node_modules, .bld, dist) are not watched that way.  Their changes go
 *     to ops->changed.
 *   - outputs' (watcher_watch_outputs, called from pool threads): the folders
 *     of cache outputs the host vouches for, and every folder above them,
 *     often in ignored folders such as dist/.  Kept until the folder goes.
 * Every event of either kind -- on skipped names too, and a folder's own
 * (deleted, moved, attributes) -- goes to ops->touched first, with the path
 * it concerns.
 *
 * Cookies (as watchman does): watcher_sync creates <cookie_dir>/cookie-<pid>-<n>
 * in a watched folder; inotify delivers the events of one instance in order,
 * so once the cookie's event is read every change made before it was read
 * too.  A cookie not seen within WATCH_COOKIE_MS means events are lost.
 *
 * Lost events (ops->lost): IN_Q_OVERFLOW, ENOSPC from inotify_add_watch for a
 * workspace folder (fs.inotify.max_user_watches), a failing read.  libuv's
 * uv_fs_event would hide the first: an overflow event carries wd -1, which
 * names no handle.  Output folders never make events lost: they are watched
 * only while fewer than half the watches allowed are in use (the other half
 * stays for the workspace), and a folder that cannot be watched makes
 * watcher_watch_outputs fail (the host then vouches for nothing there).
 * BLD_WATCH_LIMIT (a test hook, read from bldd's environment) makes adds past
 * that many watches fail as ENOSPC would, and halves to the outputs' share.
 *
 * Threads: lock guards the maps, the counts and dead, since outputs are
 * watched from pool threads; everything else is the loop thread's.  No
 * callback is called with lock held.
 */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <unistd.h>

#include "host.h"

#define WATCH_COOKIE_MS 3000
#define WATCH_MASK                                                                              \
	(IN_CREATE | IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO | IN_MODIFY | IN_ATTRIB |          \
	 IN_CLOSE_WRITE | IN_DELETE_SELF | IN_MOVE_SELF | IN_ONLYDIR | IN_DONT_FOLLOW)
/* The watches allowed when /proc does not say (the kernel's old default). */
#define WATCH_DEFAULT_MAX 8192

/* One watched folder. */
struct watch {
	int wd;
	bool tree; /* a workspace folder */
	bool out;  /* a folder of outputs (or above them) */
	char rel[]; /* workspace-relative, "" the root */
};

struct watcher {
	uv_poll_t poll; /* first: the handle's address is the watcher's */
	uv_timer_t cookie_timer;
	int open_handles;
	int fd;
	char *root;       /* owned */
	char *cookie_dir; /* owned, workspace-relative */
	const struct watcher_ops *ops;
	void *arg;
	pthread_mutex_t lock;
	struct strmap by_rel; /* folder -> struct watch */
	struct strmap by_wd;  /* "wd" -> the same struct watch, owned through this map */
	size_t nwatches;
	size_t limit;   /* BLD_WATCH_LIMIT (test hook): act as if out of watches past it */
	size_t out_cap; /* output folders are watched only while fewer watches than this */
	bool out_full;  /* ENOSPC for an output folder: no more until a watch goes */
	unsigned cookie_seq; /* last cookie written */
	bool cookie_pending;
	bool dead; /* lost events: nothing more is reported */
};

static void wd_key(int wd, char key[16])
{
	snprintf(key, 16, "%d", wd);
}

/* Drop x from the maps and free it (lock held). */
static void forget(struct watcher *w, struct watch *x)
{
	char key[16];
	wd_key(x->wd, key);
	if (strmap_get(&w->by_rel, x->rel) == x)
		strmap_del(&w->by_rel, x->rel);
	if (strmap_get(&w->by_wd, key) == x)
		strmap_del(&w->by_wd, key);
	w->nwatches--;
	w->out_full = false;
	free(x);
}

static void lose(struct watcher *w, const char *why)
{
	pthread_mutex_lock(&w->lock);
	bool was = w->dead;
	w->dead = true;
	pthread_mutex_unlock(&w->lock);
	if (!was)
		w->ops->lost(w->arg, why);
}

static const char *const out_of_watches =
    "out of inotify watches (raise fs.inotify.max_user_watches)";

/* Watch folder rel as a workspace folder (tree) or an output's (lock held):
 * 1 added (or a workspace folder that was watched as an output's only),
 * 0 watched already, or no folder there (gone, a file, a symlink; for a
 * workspace folder also unreadable), negative errno (-ENOSPC: out of watches;
 * the caller says it, never under lock). */
static int add(struct watcher *w, const char *rel, bool tree)
{
	struct watch *x = strmap_get(&w->by_rel, rel);
	if (x) {
		bool promoted = tree && !x->tree; /* its changes were not reported before */
		x->tree |= tree;
		x->out |= !tree;
		return promoted;
	}
	bool full = (w->limit && w->nwatches >= w->limit) ||
	            (!tree && (w->out_full || w->nwatches >= w->out_cap));
	char *abs = *rel ? path_join(w->root, rel) : xstrdup(w->root);
	int wd = full ? -1 : inotify_add_watch(w->fd, abs, WATCH_MASK);
	int e = full ? ENOSPC : errno;
	free(abs);
	if (wd < 0) {
		if (!full && e == ENOSPC && !tree)
			w->out_full = true;
		bool gone = e == ENOENT || e == ENOTDIR || (tree && e == EACCES);
		return gone ? 0 : -e;
	}
	char key[16];
	wd_key(wd, key);
	x = xmalloc(sizeof(*x) + strlen(rel) + 1);
	x->wd = wd;
	x->tree = tree;
	x->out = !tree;
	strcpy(x->rel, rel);
	struct watch *old = strmap_get(&w->by_wd, key); /* the same folder under another name */
	if (old) {
		x->tree |= old->tree;
		x->out |= old->out;
		forget(w, old);
	}
	strmap_put(&w->by_wd, key, x);
	strmap_put(&w->by_rel, rel, x);
	w->nwatches++;
	return 1;
}

/* Stop watching rel and every folder below it (a folder moved away: its
 * watches would report the old names).  Lock held. */
static void remove_below(struct watcher *w, const char *rel)
{
	size_t n = strlen(rel), it = 0;
	void *v;
	struct strvec gone;
	strvec_init(&gone);
	while (strmap_next(&w->by_rel, &it, NULL, &v)) {
		struct watch *x = v;
		if (!strncmp(x->rel, rel, n) && (x->rel[n] == '\0' || x->rel[n] == '/'))
			strvec_push(&gone, x->rel);
	}
	for (size_t i = 0; i < gone.n; i++) {
		struct watch *x = strmap_get(&w->by_rel, gone.v[i]);
		inotify_rm_watch(w->fd, x->wd);
		forget(w, x);
	}
	strvec_release(&gone);
}

static void cookie_path(const struct watcher *w, unsigned seq, char *buf, size_t len)
{
	snprintf(buf, len, "%s/%s/cookie-%d-%u", w->root, w->cookie_dir, (int)getpid(), seq);
}

/* An event in the cookie folder: only our cookies count. */
static void cookie_event(struct watcher *w, const struct inotify_event *e)
{
	char want[48];
	snprintf(want, sizeof(want), "cookie-%d-%u", (int)getpid(), w->cookie_seq);
	if (!(e->mask & (IN_CREATE | IN_MOVED_TO)) || !e->len || strcmp(e->name, want) ||
	    !w->cookie_pending)
		return;
	char path[4096];
	cookie_path(w, w->cookie_seq, path, sizeof(path));
	unlink(path);
	w->cookie_pending = false;
	uv_timer_stop(&w->cookie_timer);
	w->ops->synced(w->arg);
}

/* What one event means for the watches themselves (lock held); returns the
 * error of watching a new workspace folder, or 0. */
static int update_watches(struct watcher *w, struct watch *x, const struct inotify_event *e,
                          const char *rel, bool report)
{
	bool isdir = e->mask & IN_ISDIR;
	if (e->mask & IN_IGNORED)
		forget(w, x); /* the folder is gone (its parent said so) */
	else if ((e->mask & IN_MOVE_SELF) && *rel)
		remove_below(w, rel); /* its name is not its own any more */
	else if (isdir && (e->mask & IN_MOVED_FROM))
		remove_below(w, rel);
	if (report && isdir && (e->mask & (IN_CREATE | IN_MOVED_TO)))
		return add(w, rel, true);
	return 0;
}

static void event(struct watcher *w, const struct inotify_event *e)
{
	if (e->mask & IN_Q_OVERFLOW) {
		lose(w, "the inotify queue overflowed");
		return;
	}
	char key[16];
	wd_key(e->wd, key);
	pthread_mutex_lock(&w->lock);
	struct watch *x = strmap_get(&w->by_wd, key);
	bool cookies = x && !strcmp(x->rel, w->cookie_dir); /* the engine's own files */
	if (!x || (cookies && e->len && !strncmp(e->name, "cookie-", 7))) {
		pthread_mutex_unlock(&w->lock);
		if (x)
			cookie_event(w, e);
		return;
	}
	/* the path the event is about: a folder's own events name the folder */
	char *rel = !e->len ? xstrdup(x->rel)
	            : *x->rel ? xasprintf("%s/%s", x->rel, e->name) : xstrdup(e->name);
	bool ignored = e->mask & IN_IGNORED;
	bool report = x->tree && !cookies && e->len && !ignored &&
	              !((e->mask & IN_ISDIR) && workspace_folder_skipped(e->name));
	int rc = update_watches(w, x, e, rel, report); /* x may be freed */
	pthread_mutex_unlock(&w->lock);
	if (!ignored)
		w->ops->touched(w->arg, rel);
	if (rc < 0)
		lose(w, rc == -ENOSPC ? out_of_watches : "a new folder could not be watched");
	if (report)
		w->ops->changed(w->arg, rel,
		                e->mask & (IN_CREATE | IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO));
	free(rel);
}

static void poll_cb(uv_poll_t *h, int status, int events)
{
	struct watcher *w = (struct watcher *)h;
	(void)events;
	char buf[65536] __attribute__((aligned(__alignof__(struct inotify_event))));
	for (;;) {
		ssize_t n = status < 0 ? -1 : read(w->fd, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			return;
		if (n <= 0) {
			lose(w, "the inotify descriptor failed");
			uv_poll_stop(h);
			return;
		}
		for (char *p = buf; p < buf + n;) {
			const struct inotify_event *e = (const struct inotify_event *)p;
			if (!w->dead)
				event(w, e);
			p += sizeof(*e) + e->len;
		}
	}
}

static void cookie_timeout_cb(uv_timer_t *t)
{
	struct watcher *w = t->data;
	if (!w->cookie_pending)
		return;
	w->cookie_pending = false;
	lose(w, "the watcher's cookie was not seen in time");
	w->ops->synced(w->arg);
}

/* The watches this user may have (fs.inotify.max_user_watches). */
static size_t max_user_watches(void)
{
	char buf[32] = "";
	FILE *f = fopen("/proc/sys/fs/inotify/max_user_watches", "re");
	bool ok = f && fgets(buf, sizeof(buf), f);
	if (f)
		fclose(f);
	size_t n = ok ? strtoul(buf, NULL, 10) : 0;
	return n ? n : WATCH_DEFAULT_MAX;
}

int watcher_new(uv_loop_t *loop, const char *root, const char *cookie_dir,
                const struct watcher_ops *ops, void *arg, struct watcher **ret)
{
	int fd = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (fd < 0)
		return -errno;
	struct watcher *w = xcalloc(1, sizeof(*w));
	w->fd = fd;
	w->root = xstrdup(root);
	w->cookie_dir = xstrdup(cookie_dir);
	w->ops = ops;
	w->arg = arg;
	const char *limit = getenv("BLD_WATCH_LIMIT");
	w->limit = limit && *limit ? strtoul(limit, NULL, 10) : 0;
	w->out_cap = (w->limit ? w->limit : max_user_watches()) / 2;
	pthread_mutex_init(&w->lock, NULL);
	strmap_init(&w->by_rel);
	strmap_init(&w->by_wd);
	uv_poll_init(loop, &w->poll, fd);
	uv_timer_init(loop, &w->cookie_timer);
	w->cookie_timer.data = w;
	w->open_handles = 2;
	uv_poll_start(&w->poll, UV_READABLE, poll_cb);
	pthread_mutex_lock(&w->lock);
	int rc = add(w, cookie_dir, true);
	bool there = strmap_get(&w->by_rel, cookie_dir) != NULL;
	pthread_mutex_unlock(&w->lock);
	if (rc < 0 || !there) {
		watcher_close(w);
		return rc < 0 ? rc : -ENOENT;
	}
	*ret = w;
	return 0;
}

/* Stop watching the workspace folders not in want: a folder that is also
 * an output's stays, as an output's only.  Lock held. */
static void drop_tree_dirs(struct watcher *w, const struct strmap *want)
{
	size_t it = 0;
	void *v;
	struct strvec drop;
	strvec_init(&drop);
	while (strmap_next(&w->by_rel, &it, NULL, &v)) {
		struct watch *x = v;
		if (!x->tree || strmap_get(want, x->rel))
			continue;
		if (x->out)
			x->tree = false;
		else
			strvec_push(&drop, x->rel);
	}
	for (size_t i = 0; i < drop.n; i++) {
		struct watch *x = strmap_get(&w->by_rel, drop.v[i]);
		inotify_rm_watch(w->fd, x->wd);
		forget(w, x);
	}
	strvec_release(&drop);
}

int watcher_set_dirs(struct watcher *w, const struct strvec *dirs)
{
	struct strmap want;
	strmap_init(&want);
	int added = 0, rc = 0;
	pthread_mutex_lock(&w->lock);
	for (size_t i = 0; i < dirs->n && !w->dead && rc >= 0; i++) {
		strmap_put(&want, dirs->v[i], (void *)1);
		rc = add(w, dirs->v[i], true);
		added += rc > 0;
	}
	if (rc >= 0) {
		strmap_put(&want, w->cookie_dir, (void *)1);
		drop_tree_dirs(w, &want);
	}
	pthread_mutex_unlock(&w->lock);
	strmap_release(&want);
	if (rc == -ENOSPC)
		lose(w, out_of_watches);
	return rc < 0 ? rc : added;
}

int watcher_watch_outputs(struct watcher *w, const struct strvec *dirs)
{
	pthread_mutex_lock(&w->lock);
	int rc = w->dead ? -EIO : 0;
	for (size_t i = 0; i < dirs->n && rc >= 0; i++)
		rc = add(w, dirs->v[i], false);
	pthread_mutex_unlock(&w->lock);
	return rc < 0 ? rc : 0;
}

int watcher_sync(struct watcher *w)
{
	if (w->dead)
		return -EIO;
	char path[4096];
	if (w->cookie_pending) /* the one on its way proves the same */
		return 0;
	w->cookie_seq++;
	cookie_path(w, w->cookie_seq, path, sizeof(path));
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	close(fd);
	w->cookie_pending = true;
	uv_timer_start(&w->cookie_timer, cookie_timeout_cb, WATCH_COOKIE_MS, 0);
	return 0;
}

size_t watcher_count(struct watcher *w, size_t *ret_outputs)
{
	size_t it = 0, outs = 0;
	void *v;
	pthread_mutex_lock(&w->lock);
	size_t n = w->nwatches;
	while (ret_outputs && strmap_next(&w->by_rel, &it, NULL, &v))
		outs += ((struct watch *)v)->out;
	pthread_mutex_unlock(&w->lock);
	if (ret_outputs)
		*ret_outputs = outs;
	return n;
}

static void closed_cb(uv_handle_t *h)
{
	struct watcher *w = h->data;
	if (--w->open_handles)
		return;
	strmap_release_values(&w->by_wd, free);
	strmap_release(&w->by_rel);
	pthread_mutex_destroy(&w->lock);
	close(w->fd);
	free(w->root);
	free(w->cookie_dir);
	free(w);
}

void watcher_close(struct watcher *w)
{
	if (!w)
		return;
	if (w->cookie_pending) {
		char path[4096];
		cookie_path(w, w->cookie_seq, path, sizeof(path));
		unlink(path);
	}
	w->poll.data = w;
	w->cookie_timer.data = w;
	uv_close((uv_handle_t *)&w->poll, closed_cb);
	uv_close((uv_handle_t *)&w->cookie_timer, closed_cb);
}
