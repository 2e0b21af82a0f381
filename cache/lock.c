/*
 * lock.c - the cross-process task lock: one engine at a time runs a task of a
 * given hash against a cache folder.
 *
 * A lock is an open-file-description record lock (fcntl F_OFD_SETLK, write
 * lock) on one byte of <cache>/locks/tasks, at an offset taken from the task
 * hash (its first 15 hex digits: 60 bits, below any file size limit).  Such a
 * lock belongs to the open file description, so the kernel drops it when its
 * holder dies (kill -9 included).  The file is created once, holds no data
 * and is never removed.
 *
 * A process opens each lock file once, while it holds locks in it (struct
 * lock_file, shared by every cache handle of the process on that folder), and
 * keeps the bytes it holds: locks of one open file description never conflict
 * with each other, so two takers in one process (two requests of one resident
 * daemon) exclude each other through that list.  One description, not one per
 * lock: a resident daemon holds hundreds of task locks in a cold build (every
 * ready task is locked when it is prepared), each child it spawns gets a copy
 * of its fd table, and closing each of hundreds of fds on one inode at exec
 * walks that inode's list of hundreds of locks: half of the engine's CPU.
 *
 * Two hashes that share their first 60 bits share a byte: the second waits for
 * the first, as for a busy lock, and goes on when it is released (a task's
 * dependencies are done before it takes its lock, so it cannot wait for one of
 * its own dependents).  Nothing is wrong then, only slower, once in 2^30
 * concurrent tasks or so.
 *
 * Until 2026-12 a lock was flock() on a file of its own, <cache>/locks/<hash>.lock,
 * created and unlinked by each holder: the inode made and freed for every task
 * that ran was 45% of a resident daemon's CPU in a cold build.  cache__gc_locks
 * removes such files left by those versions' holders that died.
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
#include <sys/stat.h>
#include <unistd.h>

#define LOCK_FILE "tasks"

/* A lock file open in this process while it holds bytes of it. */
struct lock_file {
	dev_t dev;
	ino_t ino;
	int fd;
	off_t *held; /* the bytes this process holds */
	size_t nheld, cap;
	struct lock_file *next;
};

struct cache_task_lock {
	struct lock_file *f;
	off_t off;
};

/* The process's open lock files; everything in lock.c runs under files_mu. */
static pthread_mutex_t files_mu = PTHREAD_MUTEX_INITIALIZER;
static struct lock_file *files;

/* The byte of the lock file that stands for hash (32 lower-case hex digits). */
static off_t lock_offset(const char *hash)
{
	off_t off = 0;
	for (int i = 0; i < 15; i++)
		off = off << 4 | (hash[i] <= '9' ? hash[i] - '0' : hash[i] - 'a' + 10);
	return off;
}

static struct lock_file *find_file(const struct stat *st)
{
	for (struct lock_file *f = files; f; f = f->next)
		if (f->dev == st->st_dev && f->ino == st->st_ino)
			return f;
	return NULL;
}

/* The lock file of dir, opened (made) unless this process has it open; NULL
 * and *ret_errno on failure. */
static struct lock_file *lock_file_get(const char *dir, int *ret_errno)
{
	char *path = path_join(dir, LOCK_FILE);
	struct stat st;
	struct lock_file *f = stat(path, &st) == 0 ? find_file(&st) : NULL;
	int fd = -1;
	if (!f) {
		fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
		if (fd < 0 && errno == ENOENT && mkdir_p(dir, 0755) == 0)
			fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
	}
	if (!f && fd >= 0 && fstat(fd, &st) == 0) {
		f = xcalloc(1, sizeof(*f));
		f->dev = st.st_dev;
		f->ino = st.st_ino;
		f->fd = fd;
		f->next = files;
		files = f;
	} else if (!f) {
		*ret_errno = errno;
		if (fd >= 0)
			close(fd);
	}
	free(path);
	return f;
}

/* Close f when this process holds nothing in it any more. */
static void lock_file_put(struct lock_file *f)
{
	if (f->nheld)
		return;
	for (struct lock_file **p = &files; *p; p = &(*p)->next)
		if (*p == f) {
			*p = f->next;
			break;
		}
	close(f->fd);
	free(f->held);
	free(f);
}

static bool held_here(const struct lock_file *f, off_t off)
{
	for (size_t i = 0; i < f->nheld; i++)
		if (f->held[i] == off)
			return true;
	return false;
}

/* 1 locked, 0 busy, -errno. */
static int lock_byte(struct lock_file *f, off_t off)
{
	if (held_here(f, off))
		return 0;
	struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET, .l_start = off, .l_len = 1};
	if (fcntl(f->fd, F_OFD_SETLK, &fl) < 0)
		return errno == EAGAIN || errno == EACCES ? 0 : -errno;
	if (f->nheld == f->cap) {
		f->cap = f->cap ? 2 * f->cap : 16;
		f->held = xrealloc(f->held, f->cap * sizeof(*f->held));
	}
	f->held[f->nheld++] = off;
	return 1;
}

int cache_task_lock_try(struct cache *c, const char *hash, struct cache_task_lock **ret_lock,
                        struct bld_err *err)
{
	if (strlen(hash) != 32 || strspn(hash, "0123456789abcdef") != 32)
		return bld_err_set(err, BLD_ECACHE, "cache: \"%s\" is not a task hash", hash);
	char *dir = path_join(c->dir, "locks");
	off_t off = lock_offset(hash);
	int e = 0, r;
	pthread_mutex_lock(&files_mu);
	struct lock_file *f = lock_file_get(dir, &e);
	r = f ? lock_byte(f, off) : -e;
	if (f && r <= 0)
		lock_file_put(f);
	pthread_mutex_unlock(&files_mu);
	if (r < 0)
		bld_err_set(err, r, "cache: cannot lock task %s in %s: %s", hash, dir, strerror(-r));
	free(dir);
	if (r <= 0)
		return r; /* busy, or the error */
	struct cache_task_lock *l = xmalloc(sizeof(*l));
	l->f = f;
	l->off = off;
	*ret_lock = l;
	return 1;
}

void cache_task_lock_release(struct cache_task_lock *l)
{
	if (!l)
		return;
	struct lock_file *f = l->f;
	struct flock fl = {.l_type = F_UNLCK, .l_whence = SEEK_SET, .l_start = l->off, .l_len = 1};
	pthread_mutex_lock(&files_mu);
	fcntl(f->fd, F_OFD_SETLK, &fl);
	for (size_t i = 0; i < f->nheld; i++)
		if (f->held[i] == l->off) {
			f->held[i] = f->held[--f->nheld];
			break;
		}
	lock_file_put(f); /* the last one closes the file */
	pthread_mutex_unlock(&files_mu);
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
		/* a file of the older format nobody holds was left by a holder that
		 * died: take it and unlink it as a holder did (takers re-checked the
		 * inode) */
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
