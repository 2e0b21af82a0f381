/*
 * watch.c - the workspace watcher: one inotify instance, one watch per folder
 * (inotify is not recursive), read on the loop thread through a uv_poll_t.
 *
 * Folders come from the host (the walk's list, watcher_set_dirs) and from
 * the events themselves: a folder created or moved in is watched at once,
 * before anything reloads, so files made in it right after are seen.  Folder
 * names every walk skips (.git, node_modules, .bld, dist) make no event.
 *
 * Cookies (as watchman does): watcher_sync creates <cookie_dir>/cookie-<pid>-<n>
 * in a watched folder; inotify delivers the events of one instance in order,
 * so once the cookie's event is read every change made before it was read
 * too.  A cookie not seen within WATCH_COOKIE_MS means events are lost.
 *
 * Lost events (ops->lost): IN_Q_OVERFLOW, ENOSPC from inotify_add_watch
 * (fs.inotify.max_user_watches), a failing read.  libuv's uv_fs_event would
 * hide the first: an overflow event carries wd -1, which names no handle.
 * BLD_WATCH_LIMIT (a test hook, read from bldd's environment) makes adds past
 * that many watches fail as ENOSPC would.
 */
#include <errno.h>
#include <fcntl.h>
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

struct watcher {
	uv_poll_t poll; /* first: the handle's address is the watcher's */
	uv_timer_t cookie_timer;
	int open_handles;
	int fd;
	char *root;       /* owned */
	char *cookie_dir; /* owned, workspace-relative */
	const struct watcher_ops *ops;
	void *arg;
	struct strmap by_rel; /* folder -> wd (as intptr_t) */
	struct strmap by_wd;  /* "wd" -> folder (owned string) */
	unsigned cookie_seq;  /* last cookie written */
	bool cookie_pending;
	bool dead; /* lost events: nothing more is reported */
	size_t limit; /* BLD_WATCH_LIMIT (test hook): act as if out of watches past it */
};

static void wd_key(int wd, char key[16])
{
	snprintf(key, 16, "%d", wd);
}

static void forget_wd(struct watcher *w, int wd)
{
	char key[16];
	wd_key(wd, key);
	char *rel = strmap_get(&w->by_wd, key);
	if (!rel)
		return;
	if ((intptr_t)strmap_get(&w->by_rel, rel) == wd)
		strmap_put(&w->by_rel, rel, NULL);
	strmap_put(&w->by_wd, key, NULL);
	free(rel);
}

static void lose(struct watcher *w, const char *why)
{
	if (w->dead)
		return;
	w->dead = true;
	w->ops->lost(w->arg, why);
}

/* Watch folder rel: 1 added, 0 already watched or gone, negative errno. */
static int add(struct watcher *w, const char *rel)
{
	if (strmap_get(&w->by_rel, rel))
		return 0;
	char *abs = *rel ? path_join(w->root, rel) : xstrdup(w->root);
	bool full = w->limit && watcher_count(w) >= w->limit;
	int wd = full ? -1 : inotify_add_watch(w->fd, abs, WATCH_MASK);
	int e = full ? ENOSPC : errno;
	free(abs);
	if (wd < 0) {
		if (e == ENOSPC)
			lose(w, "out of inotify watches (raise fs.inotify.max_user_watches)");
		return e == ENOENT || e == ENOTDIR || e == EACCES ? 0 : -e;
	}
	char key[16];
	wd_key(wd, key);
	char *old = strmap_get(&w->by_wd, key); /* the same folder under another name */
	if (old) {
		strmap_put(&w->by_rel, old, NULL);
		free(old);
	}
	strmap_put(&w->by_wd, key, xstrdup(rel));
	strmap_put(&w->by_rel, rel, (void *)(intptr_t)wd);
	return 1;
}

/* Stop watching rel and every folder below it (a folder moved away: its
 * watches would report the old names). */
static void remove_below(struct watcher *w, const char *rel)
{
	size_t n = strlen(rel), it = 0;
	const char *k;
	void *v;
	struct strvec gone;
	strvec_init(&gone);
	while (strmap_next(&w->by_rel, &it, &k, &v))
		if (v && (!strncmp(k, rel, n) && (k[n] == '\0' || k[n] == '/')))
			strvec_push(&gone, k);
	for (size_t i = 0; i < gone.n; i++) {
		int wd = (int)(intptr_t)strmap_get(&w->by_rel, gone.v[i]);
		inotify_rm_watch(w->fd, wd);
		forget_wd(w, wd);
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

static void event(struct watcher *w, const struct inotify_event *e)
{
	if (e->mask & IN_Q_OVERFLOW) {
		lose(w, "the inotify queue overflowed");
		return;
	}
	char key[16];
	wd_key(e->wd, key);
	const char *dir = strmap_get(&w->by_wd, key);
	if (!dir)
		return;
	if (!strcmp(dir, w->cookie_dir)) {
		cookie_event(w, e);
		return;
	}
	if (e->mask & IN_IGNORED) {
		forget_wd(w, e->wd); /* the folder is gone; its parent said so */
		return;
	}
	if (!e->len || ((e->mask & IN_ISDIR) && workspace_folder_skipped(e->name)))
		return;
	char *rel = *dir ? xasprintf("%s/%s", dir, e->name) : xstrdup(e->name);
	bool structural = e->mask & (IN_CREATE | IN_DELETE | IN_MOVED_FROM | IN_MOVED_TO);
	if ((e->mask & IN_ISDIR) && (e->mask & IN_MOVED_FROM))
		remove_below(w, rel);
	if ((e->mask & IN_ISDIR) && (e->mask & (IN_CREATE | IN_MOVED_TO)) && add(w, rel) < 0)
		lose(w, "a new folder could not be watched");
	w->ops->changed(w->arg, rel, structural);
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
	strmap_init(&w->by_rel);
	strmap_init(&w->by_wd);
	uv_poll_init(loop, &w->poll, fd);
	uv_timer_init(loop, &w->cookie_timer);
	w->cookie_timer.data = w;
	w->open_handles = 2;
	uv_poll_start(&w->poll, UV_READABLE, poll_cb);
	int rc = add(w, cookie_dir);
	if (rc < 0 || !strmap_get(&w->by_rel, cookie_dir)) {
		watcher_close(w);
		return rc < 0 ? rc : -ENOENT;
	}
	*ret = w;
	return 0;
}

int watcher_set_dirs(struct watcher *w, const struct strvec *dirs)
{
	struct strmap want;
	strmap_init(&want);
	int added = 0;
	for (size_t i = 0; i < dirs->n && !w->dead; i++) {
		strmap_put(&want, dirs->v[i], (void *)1);
		int rc = add(w, dirs->v[i]);
		if (rc < 0) {
			strmap_release(&want);
			return rc;
		}
		added += rc;
	}
	strmap_put(&want, w->cookie_dir, (void *)1);
	size_t it = 0;
	const char *k;
	void *v;
	struct strvec drop;
	strvec_init(&drop);
	while (strmap_next(&w->by_rel, &it, &k, &v))
		if (v && !strmap_get(&want, k))
			strvec_push(&drop, k);
	for (size_t i = 0; i < drop.n; i++) {
		int wd = (int)(intptr_t)strmap_get(&w->by_rel, drop.v[i]);
		inotify_rm_watch(w->fd, wd);
		forget_wd(w, wd);
	}
	strvec_release(&drop);
	strmap_release(&want);
	return added;
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

size_t watcher_count(const struct watcher *w)
{
	size_t n = 0, it = 0;
	void *v;
	while (strmap_next(&w->by_rel, &it, NULL, &v))
		n += v != NULL;
	return n;
}

static void closed_cb(uv_handle_t *h)
{
	struct watcher *w = h->data;
	if (--w->open_handles)
		return;
	size_t it = 0;
	void *v;
	while (strmap_next(&w->by_wd, &it, NULL, &v))
		free(v);
	strmap_release(&w->by_wd);
	strmap_release(&w->by_rel);
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
