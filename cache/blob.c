/*
 * blob.c - the content-addressed blob store: <cache>/blobs/<h[0..2]>/<h>,
 * where h is the XXH3-128 of the bytes.
 *
 * A blob is written under <cache>/blobs/tmp/ (reflinked from the source
 * where the file system can, else copied while hashing), then renamed to its
 * name: a blob name never holds partial bytes.  Blobs are read-only (0444)
 * and never rewritten.  Restoring copies a blob to a temporary name beside
 * the destination (FICLONE, else copy_file_range, else read/write), sets
 * the mode and renames it over the destination.
 */
#include "cache_int.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

char *cache__blob_path(const struct cache *c, const char *hash)
{
	return xasprintf("%s/%.2s/%s", c->blobs, hash, hash);
}

/* Move tmp to the blob's name (or drop it when the blob is there already). */
static int blob_install(struct cache *c, const char *tmp, const char *hash, struct bld_err *err)
{
	char *dst = cache__blob_path(c, hash);
	char *dir = path_dirname(dst);
	int r = mkdir_p(dir, 0755);
	if (r == 0 && file_exists(dst))
		unlink(tmp);
	else if (r == 0 && rename(tmp, dst) < 0)
		r = -errno;
	if (r < 0) {
		unlink(tmp);
		bld_err_set(err, r, "cache: cannot store blob %s: %s", dst, strerror(-r));
	}
	free(dir);
	free(dst);
	return r;
}

int cache__blob_put(struct cache *c, int dirfd, const char *name, const char *known, char out[33],
                    struct bld_err *err)
{
	if (known) {
		char *p = cache__blob_path(c, known);
		bool there = file_exists(p);
		free(p);
		if (there) {
			memcpy(out, known, 33);
			return 0;
		}
	}
	int src = openat(dirfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (src < 0)
		return bld_err_set(err, -errno, "cache: cannot read output %s: %s", name,
		                   strerror(errno));
	char *tmpdir = path_join(c->blobs, "tmp");
	char *tmp = xasprintf("%s/put-XXXXXX", tmpdir);
	int r = mkdir_p(tmpdir, 0755), dst = -1;
	if (r == 0 && (dst = mkostemp(tmp, O_CLOEXEC)) < 0)
		r = -errno;
	if (r == 0) {
		if (ioctl(dst, FICLONE, src) == 0) { /* hash the clone: what the blob holds */
			int rd = open(tmp, O_RDONLY | O_CLOEXEC);
			r = rd < 0 ? -errno : cache__hash_fd(rd, out);
			if (rd >= 0)
				close(rd);
		} else {
			r = cache__hash_copy(src, dst, out);
		}
		if (r == 0 && fchmod(dst, 0444) < 0)
			r = -errno;
		if (close(dst) < 0 && r == 0)
			r = -errno;
		if (r < 0)
			unlink(tmp);
	}
	close(src);
	if (r < 0)
		bld_err_set(err, r, "cache: cannot write blob for %s: %s", name, strerror(-r));
	else
		r = blob_install(c, tmp, out, err);
	free(tmp);
	free(tmpdir);
	return r;
}

int cache__blob_verify(const struct cache *c, const char *hash, struct bld_err *err)
{
	char *p = cache__blob_path(c, hash), got[33];
	int fd = open(p, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	int r = fd < 0 ? -errno : cache__hash_fd(fd, got);
	if (fd >= 0)
		close(fd);
	if (r == -ENOENT)
		r = bld_err_set(err, BLD_ECORRUPT, "cache blob %s is missing", p);
	else if (r < 0)
		bld_err_set(err, r, "cache blob %s: %s", p, strerror(-r));
	else if (strcmp(got, hash)) {
		r = bld_err_set(err, BLD_ECORRUPT,
		                "cache blob %s does not match its hash (bytes "
		                "changed on disk)",
		                p);
		/* garbage under a content address: left there, every later store
		 * of these bytes would find it "present" and reuse it */
		unlink(p);
	}
	free(p);
	return r;
}

static int copy_range(int src, int dst)
{
	for (;;) {
		ssize_t n = copy_file_range(src, NULL, dst, NULL, 1 << 30, 0);
		if (n == 0)
			return 0;
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
	}
}

/* read/write, for file systems without reflink or copy_file_range */
static int copy_plain(int src, int dst)
{
	char scratch[33];
	return cache__hash_copy(src, dst, scratch);
}

int cache__blob_copy_out(const struct cache *c, const char *hash, int dirfd, const char *name,
                         unsigned mode, struct bld_err *err)
{
	char *p = cache__blob_path(c, hash);
	/* bounded (a 250-byte name still gets a legal temporary name) and unique
	 * per process and thread */
	char *tmp = xasprintf(".%.64s.bld-%d-%d.tmp", name, (int)getpid(), (int)gettid());
	int src = open(p, O_RDONLY | O_NOFOLLOW | O_CLOEXEC), dst = -1, r = 0;
	if (src < 0)
		r = -errno;
	if (r == 0) {
		unlinkat(dirfd, tmp, 0);
		dst =
		    openat(dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
		if (dst < 0)
			r = -errno;
	}
	if (r == 0 && ioctl(dst, FICLONE, src) < 0) {
		r = copy_range(src, dst);
		if (r < 0) { /* start over from byte 0 of both files */
			if (lseek(src, 0, SEEK_SET) == 0 && lseek(dst, 0, SEEK_SET) == 0 &&
			    ftruncate(dst, 0) == 0)
				r = copy_plain(src, dst);
			else
				r = -errno;
		}
	}
	if (r == 0 && fchmod(dst, mode & 07777) < 0)
		r = -errno;
	if (dst >= 0 && close(dst) < 0 && r == 0)
		r = -errno;
	if (r == 0 && renameat(dirfd, tmp, dirfd, name) < 0)
		r = -errno;
	if (r < 0 && dst >= 0)
		unlinkat(dirfd, tmp, 0);
	if (src >= 0)
		close(src);
	if (r < 0)
		bld_err_set(err, r, "cache: cannot restore %s from blob %s: %s", name, hash,
		            strerror(-r));
	free(tmp);
	free(p);
	return r;
}

int cache__blob_put_bytes(struct cache *c, const void *data, size_t len, const char *hash,
                          struct bld_err *err)
{
	char *p = cache__blob_path(c, hash);
	bool there = file_exists(p);
	free(p);
	if (there)
		return 0;
	char *tmpdir = path_join(c->blobs, "tmp");
	char *tmp = xasprintf("%s/put-XXXXXX", tmpdir);
	int r = mkdir_p(tmpdir, 0755), fd = -1;
	if (r == 0 && (fd = mkostemp(tmp, O_CLOEXEC)) < 0)
		r = -errno;
	if (r == 0)
		r = fd_write_all(fd, data, len);
	if (r == 0 && fchmod(fd, 0444) < 0)
		r = -errno;
	if (fd >= 0 && close(fd) < 0 && r == 0)
		r = -errno;
	if (r < 0) {
		if (fd >= 0)
			unlink(tmp);
		bld_err_set(err, r, "cache: cannot write blob %s: %s", hash, strerror(-r));
	} else {
		r = blob_install(c, tmp, hash, err);
	}
	free(tmp);
	free(tmpdir);
	return r;
}

int cache__blob_read(struct cache *c, const char *hash, struct sbuf *ret, struct bld_err *err)
{
	char *p = cache__blob_path(c, hash), *buf = NULL, got[33];
	size_t len = 0;
	int r = file_read(p, &buf, &len);
	if (r == -ENOENT)
		r = bld_err_set(err, BLD_ECORRUPT, "cache blob %s is missing", p);
	else if (r < 0)
		bld_err_set(err, r, "cache blob %s: %s", p, strerror(-r));
	if (r == 0) {
		cache__hash_bytes(buf, len, got);
		if (strcmp(got, hash)) {
			r = bld_err_set(err, BLD_ECORRUPT, "cache blob %s does not match its hash", p);
			unlink(p); /* as cache__blob_verify: never reuse garbage under a name */
		} else {
			sbuf_add(ret, buf, len);
		}
	}
	free(buf);
	free(p);
	return r;
}
