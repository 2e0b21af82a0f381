/*
 * lock.c - the cross-process task lock: one engine at a time runs a task of a
 * given hash against a cache folder.
 *
 * A lock is flock(LOCK_EX) on <cache>/locks/<hash>.lock.  flock belongs to
 * the open file description, so the kernel drops it when its holder dies
 * (kill -9 included), and two opens in one process exclude each other too
 * (two requests of one resident daemon).  The holder unlinks the file before
 * it unlocks, so lock files do not pile up; a taker therefore checks, once
 * it holds the lock, that the path still names the inode it locked (else
 * the file was unlinked between its open and its flock: it tries again).
 *
 * Taking never blocks: a busy lock is reported, and the caller retries when
 * it likes (a timer on the event loop), so it stays responsive to Ctrl-C.
 */
#include "cache_int.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <unistd.h>

struct cache_task_lock {
	int fd;
	char *path;
};

/* One attempt: 1 locked (*ret_fd), 0 busy, 2 the file vanished (try again), -errno. */
static int lock_once(const char *path, int *ret_fd)
{
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd < 0)
		return -errno;
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		int e = errno;
		close(fd);
		return e == EWOULDBLOCK ? 0 : -e;
	}
	struct stat held, now;
	if (fstat(fd, &held) < 0 || stat(path, &now) < 0 || held.st_ino != now.st_ino ||
	    held.st_dev != now.st_dev) {
		close(fd); /* a holder unlinked it after our open: that inode is dead */
		return 2;
	}
	*ret_fd = fd;
	return 1;
}

int cache_task_lock_try(struct cache *c, const char *hash, struct cache_task_lock **ret_lock,
                        struct bld_err *err)
{
	if (strlen(hash) != 32 || strspn(hash, "0123456789abcdef") != 32)
		return bld_err_set(err, BLD_ECACHE, "cache: \"%s\" is not a task hash", hash);
	char *dir = path_join(c->dir, "locks");
	char *path = xasprintf("%s/%s.lock", dir, hash);
	int r = mkdir_p(dir, 0755), fd = -1;
	for (int tries = 0; r == 0 && tries < 100; tries++) {
		r = lock_once(path, &fd);
		if (r != 2)
			break;
		r = 0; /* the file was unlinked under us: open the new one */
	}
	free(dir);
	if (r <= 0) {
		free(path);
		if (r < 0)
			return bld_err_set(err, r, "cache: cannot lock task %s in %s/locks: %s", hash,
			                   c->dir, strerror(-r));
		return 0; /* busy */
	}
	struct cache_task_lock *l = xmalloc(sizeof(*l));
	l->fd = fd;
	l->path = path;
	*ret_lock = l;
	return 1;
}

void cache_task_lock_release(struct cache_task_lock *l)
{
	if (!l)
		return;
	unlink(l->path); /* while still holding it: see the file header */
	close(l->fd);
	free(l->path);
	free(l);
}

void cache__gc_locks(struct cache *c)
{
	char *dir = path_join(c->dir, "locks");
	DIR *d = opendir(dir);
	struct dirent *de;
	while (d && (de = readdir(d))) {
		if (!str_ends(de->d_name, ".lock"))
			continue;
		/* a file nobody holds is left by a holder that died: take it and
		 * unlink it as a holder would (takers re-check the inode) */
		char *p = path_join(dir, de->d_name);
		int fd = open(p, O_RDWR | O_CLOEXEC | O_NOFOLLOW);
		if (fd >= 0 && flock(fd, LOCK_EX | LOCK_NB) == 0)
			unlink(p);
		if (fd >= 0)
			close(fd);
		free(p);
	}
	if (d)
		closedir(d);
	free(dir);
}
