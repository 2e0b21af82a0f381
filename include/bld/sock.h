/*
 * sock.h - where a workspace's daemon listens, and the Unix-socket calls the
 * client and the daemon share: the workspace root rule, the socket path (with
 * its short fallback folder), connect, listen, and the peer-credential check.
 */
#ifndef BLD_SOCK_H
#define BLD_SOCK_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/*
 * The workspace root: the nearest folder upwards from start (resolved with
 * realpath) that holds nx.json.  0 and a new absolute path in *ret, or
 * -ENOENT when there is none (-errno when start cannot be resolved).
 */
int path_find_root(const char *start, char **ret);

/*
 * The daemon socket of root: "<root>/.bld/bldd.sock" when it fits sun_path,
 * else "<dir>/<16 hex digits of str_hash(root)>.sock" with dir
 * "$XDG_RUNTIME_DIR/bld" or "/tmp/bld-<uid>" (created 0700; refused when it is
 * not a real folder of this user closed to group and others).  0 and a new
 * string in *ret, or -errno.  *ret_fallback (may be NULL) says which.
 */
int sock_path(const char *root, char **ret, bool *ret_fallback);

/* The fallback folder for uid (xdg: $XDG_RUNTIME_DIR or NULL); new string. */
char *sock_fallback_dir(const char *xdg, unsigned uid);

/* Connect to the socket at path: a connected fd (CLOEXEC) or -errno. */
int sock_connect(const char *path);

/* Replace whatever is at path with a listening socket of mode 0600: fd or -errno. */
int sock_listen(const char *path);

/*
 * The peer of the connected Unix socket fd is uid want (SO_PEERCRED): 0, or
 * -EPERM when it is another user, or -errno when the kernel cannot say.
 */
int sock_check_peer(int fd, uid_t want);

#endif
