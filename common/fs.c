/*
 * fs.c - paths, whole-file I/O, mkdir -p, rm -rf and clocks.  See base.h.
 */
#include "bld/base.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

char *path_join(const char *a, const char *b)
{
	if (!*a || *b == '/')
		return xstrdup(b);
	if (!*b)
		return xstrdup(a);
	size_t la = strlen(a);
	return xasprintf("%s%s%s", a, a[la - 1] == '/' ? "" : "/", b);
}

char *path_normalize(const char *p)
{
	struct strvec parts;
	struct sbuf sb = SBUF_INIT;
	bool abs = *p == '/';
	strvec_init(&parts);
	strvec_split(&parts, p, "/");
	size_t out = 0;
	for (size_t i = 0; i < parts.n; i++) {
		char *c = parts.v[i];
		if (!strcmp(c, ".")) {
			free(c);
		} else if (!strcmp(c, "..") && out > 0 && strcmp(parts.v[out - 1], "..")) {
			free(c);
			free(parts.v[--out]);
		} else if (!strcmp(c, "..") && abs) {
			free(c);
		} else {
			parts.v[out++] = c;
		}
	}
	parts.n = out;
	sbuf_init(&sb);
	if (abs)
		sbuf_addc(&sb, '/');
	for (size_t i = 0; i < parts.n; i++) {
		if (i)
			sbuf_addc(&sb, '/');
		sbuf_adds(&sb, parts.v[i]);
	}
	strvec_release(&parts);
	return sbuf_detach(&sb);
}

char *path_relative(const char *base, const char *p)
{
	size_t lb = strlen(base);
	while (lb > 1 && base[lb - 1] == '/')
		lb--;
	if (strncmp(base, p, lb))
		return NULL;
	if (p[lb] == '\0')
		return xstrdup("");
	if (p[lb] != '/' && !(lb == 1 && base[0] == '/'))
		return NULL;
	return xstrdup(p + lb + (p[lb] == '/'));
}

char *path_dirname(const char *p)
{
	const char *s = strrchr(p, '/');
	if (!s)
		return xstrdup("");
	if (s == p)
		return xstrdup("/");
	return xstrndup(p, (size_t)(s - p));
}

const char *path_basename(const char *p)
{
	const char *s = strrchr(p, '/');
	return s ? s + 1 : p;
}

bool path_is_safe_relative(const char *p)
{
	if (!*p || *p == '/')
		return false;
	const char *c = p;
	while (*c) {
		size_t n = strcspn(c, "/");
		if (n == 2 && c[0] == '.' && c[1] == '.')
			return false;
		c += n;
		if (*c)
			c++;
	}
	return true;
}

int file_read(const char *path, char **ret_buf, size_t *ret_len)
{
	return file_read_max(path, SIZE_MAX - 1, ret_buf, ret_len);
}

int file_read_max(const char *path, size_t max, char **ret_buf, size_t *ret_len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	struct sbuf sb = SBUF_INIT;
	struct stat st;
	size_t chunk = 4096;
	sbuf_init(&sb);
	/* Size the buffer from fstat so a small file costs one small allocation. */
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0) {
		if ((uint64_t)st.st_size > max) {
			close(fd);
			return -EFBIG;
		}
		chunk = (size_t)st.st_size + 1;
	}
	for (;;) {
		sbuf_grow(&sb, chunk);
		chunk = 65536;
		ssize_t n = read(fd, sb.buf + sb.len, sb.cap - sb.len - 1);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			int e = -errno;
			close(fd);
			sbuf_release(&sb);
			return e;
		}
		if (n == 0)
			break;
		sb.len += (size_t)n;
		sb.buf[sb.len] = '\0';
		if (sb.len > max) {
			close(fd);
			sbuf_release(&sb);
			return -EFBIG;
		}
	}
	close(fd);
	if (ret_len)
		*ret_len = sb.len;
	*ret_buf = sbuf_detach(&sb);
	return 0;
}

int fd_write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;
	while (len) {
		ssize_t n = write(fd, p, len);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int file_write_atomic(const char *path, const void *data, size_t len, unsigned mode)
{
	/* pid and thread id: two engine threads writing one path never share a
	 * temporary file */
	char *tmp = xasprintf("%s.tmp.%d.%d", path, (int)getpid(), (int)gettid());
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	int r = 0;
	if (fd < 0) {
		r = -errno;
		free(tmp);
		return r;
	}
	r = fd_write_all(fd, data, len);
	/* the bytes reach the disk before the name does: a crash never leaves
	 * an empty file where the old one was */
	if (!r && fsync(fd) < 0)
		r = -errno;
	if (close(fd) < 0 && !r)
		r = -errno;
	if (!r && rename(tmp, path) < 0)
		r = -errno;
	if (r)
		unlink(tmp);
	free(tmp);
	return r;
}

int mkdir_p(const char *path, unsigned mode)
{
	if (!*path)
		return -ENOENT;
	char *p = xstrdup(path);
	int r = 0;
	for (char *s = p + 1;; s++) {
		if (*s != '/' && *s)
			continue;
		char c = *s;
		*s = '\0';
		if (mkdir(p, mode) < 0 && errno != EEXIST) {
			r = -errno;
			break;
		}
		*s = c;
		if (!c)
			break;
	}
	if (!r && !dir_exists(path))
		r = -ENOTDIR;
	free(p);
	return r;
}

static int rm_at(int at, const char *name)
{
	if (unlinkat(at, name, 0) == 0 || errno == ENOENT)
		return 0;
	if (errno != EISDIR && errno != EPERM)
		return -errno;
	int fd = openat(at, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	DIR *d = fdopendir(fd);
	if (!d) {
		close(fd);
		return -errno;
	}
	int r = 0;
	struct dirent *e;
	while (!r && (e = readdir(d))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
			continue;
		r = rm_at(dirfd(d), e->d_name);
	}
	closedir(d);
	if (!r && unlinkat(at, name, AT_REMOVEDIR) < 0 && errno != ENOENT)
		r = -errno;
	return r;
}

int rm_rf(const char *path)
{
	return rm_at(AT_FDCWD, path);
}

bool file_exists(const char *path)
{
	struct stat st;
	return lstat(path, &st) == 0;
}

bool dir_exists(const char *path)
{
	struct stat st;
	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

uint64_t now_ms(void)
{
	return now_ns() / 1000000ULL;
}
