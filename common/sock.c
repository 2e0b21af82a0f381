/*
 * sock.c - the daemon socket's path and the Unix-socket calls of sock.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "bld/base.h"
#include "bld/sock.h"

int path_find_root(const char *start, char **ret)
{
	char *dir = realpath(start, NULL);
	if (!dir)
		return -errno;
	for (;;) {
		char *nx = path_join(dir, "nx.json");
		bool found = file_exists(nx);
		free(nx);
		if (found) {
			*ret = dir;
			return 0;
		}
		if (!strcmp(dir, "/"))
			break;
		char *up = path_dirname(dir);
		free(dir);
		dir = *up ? up : (free(up), xstrdup("/"));
	}
	free(dir);
	return -ENOENT;
}

char *sock_fallback_dir(const char *xdg, unsigned uid)
{
	if (xdg && xdg[0] == '/')
		return path_join(xdg, "bld");
	char buf[64];
	snprintf(buf, sizeof(buf), "/tmp/bld-%u", uid);
	return xstrdup(buf);
}

/* dir exists (made 0700 when missing), is a folder of uid, no group/other access. */
static int private_dir(const char *dir, uid_t uid)
{
	if (mkdir(dir, 0700) < 0 && errno != EEXIST)
		return -errno;
	struct stat st;
	if (lstat(dir, &st) < 0)
		return -errno;
	if (!S_ISDIR(st.st_mode) || st.st_uid != uid || (st.st_mode & 077))
		return -EPERM;
	return 0;
}

int sock_path(const char *root, char **ret, bool *ret_fallback)
{
	struct sockaddr_un sa;
	char *p = path_join(root, ".bld/bldd.sock");
	bool fallback = strlen(p) >= sizeof(sa.sun_path);
	if (fallback) {
		free(p);
		char *dir = sock_fallback_dir(getenv("XDG_RUNTIME_DIR"), (unsigned)geteuid());
		/* $XDG_RUNTIME_DIR itself must exist; its bld/ folder is ours to make */
		int rc = private_dir(dir, geteuid());
		if (rc < 0) {
			free(dir);
			return rc;
		}
		char name[40];
		snprintf(name, sizeof(name), "%016llx.sock", (unsigned long long)str_hash(root));
		p = path_join(dir, name);
		free(dir);
		if (strlen(p) >= sizeof(sa.sun_path)) {
			free(p);
			return -ENAMETOOLONG;
		}
	}
	if (ret_fallback)
		*ret_fallback = fallback;
	*ret = p;
	return 0;
}

static int fill_addr(struct sockaddr_un *sa, const char *path)
{
	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	if (strlen(path) >= sizeof(sa->sun_path))
		return -ENAMETOOLONG;
	memcpy(sa->sun_path, path, strlen(path) + 1);
	return 0;
}

int sock_connect(const char *path)
{
	struct sockaddr_un sa;
	int rc = fill_addr(&sa, path);
	if (rc < 0)
		return rc;
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	while (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		if (errno == EINTR)
			continue;
		int e = errno;
		close(fd);
		return -e;
	}
	return fd;
}

int sock_listen(const char *path)
{
	struct sockaddr_un sa;
	int rc = fill_addr(&sa, path);
	if (rc < 0)
		return rc;
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	if (unlink(path) < 0 && errno != ENOENT) {
		rc = -errno;
		close(fd);
		return rc;
	}
	mode_t old = umask(077);
	rc = bind(fd, (struct sockaddr *)&sa, sizeof(sa));
	int e = errno;
	umask(old);
	if (rc < 0 || chmod(path, 0600) < 0 || listen(fd, 128) < 0) {
		if (rc >= 0)
			e = errno;
		close(fd);
		return -e;
	}
	return fd;
}

int sock_check_peer(int fd, uid_t want)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);
	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) < 0)
		return -errno;
	return cred.uid == want ? 0 : -EPERM;
}
