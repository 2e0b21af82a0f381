/*
 * test_sock.c - the daemon socket helpers: the peer-credential check on a real
 * socketpair, the socket path and its short fallback for long roots, the root
 * rule, listen + connect.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cmocka.h>

#include "bld/base.h"
#include "bld/sock.h"

static void peer_of_another_uid_is_refused(void **state)
{
	(void)state;
	int sv[2];
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	assert_int_equal(sock_check_peer(sv[0], geteuid()), 0);
	assert_int_equal(sock_check_peer(sv[0], geteuid() + 1), -EPERM);
	assert_int_equal(sock_check_peer(sv[1], 65534 == geteuid() ? 0 : 65534), -EPERM);
	close(sv[0]);
	close(sv[1]);
	/* not a socket: the kernel cannot say, and that is not a yes */
	int fd = open("/dev/null", O_RDONLY);
	assert_true(sock_check_peer(fd, geteuid()) < 0);
	close(fd);
}

static char *make_tmp(void)
{
	char tmpl[] = "/tmp/bld-test-sock-XXXXXX";
	assert_non_null(mkdtemp(tmpl));
	return xstrdup(tmpl);
}

static void short_root_uses_its_own_folder(void **state)
{
	(void)state;
	char *root = make_tmp();
	char *p = NULL;
	bool fb = true;
	assert_int_equal(sock_path(root, &p, &fb), 0);
	assert_false(fb);
	char *want = path_join(root, ".bld/bldd.sock");
	assert_string_equal(p, want);
	free(want);
	free(p);
	rm_rf(root);
	free(root);
}

static void long_root_falls_back_to_a_private_folder(void **state)
{
	(void)state;
	char *base = make_tmp();
	struct sbuf sb = SBUF_INIT;
	sbuf_init(&sb);
	sbuf_adds(&sb, base);
	while (sb.len < 150)
		sbuf_adds(&sb, "/a-rather-long-folder-name");
	char *xdg = path_join(base, "run");
	assert_int_equal(mkdir(xdg, 0700), 0);
	setenv("XDG_RUNTIME_DIR", xdg, 1);
	char *p = NULL, *q = NULL;
	bool fb = false;
	assert_int_equal(sock_path(sb.buf, &p, &fb), 0);
	assert_true(fb);
	struct sockaddr_un sa;
	assert_true(strlen(p) < sizeof(sa.sun_path));
	char *dir = path_join(xdg, "bld");
	assert_true(str_starts(p, dir));
	struct stat st;
	assert_int_equal(stat(dir, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0700);
	/* one name per root, the same every time */
	assert_int_equal(sock_path(sb.buf, &q, NULL), 0);
	assert_string_equal(p, q);
	free(q);
	sbuf_adds(&sb, "2");
	assert_int_equal(sock_path(sb.buf, &q, NULL), 0);
	assert_string_not_equal(p, q);
	free(q);
	/* a folder others can enter is refused, never used */
	assert_int_equal(chmod(dir, 0755), 0);
	assert_int_equal(sock_path(sb.buf, &q, NULL), -EPERM);
	/* listen and connect through the fallback path, socket mode 0600 */
	assert_int_equal(chmod(dir, 0700), 0);
	int l = sock_listen(p);
	assert_true(l >= 0);
	assert_int_equal(stat(p, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	int c = sock_connect(p);
	assert_true(c >= 0);
	close(c);
	close(l);
	/* a stale socket file (nobody listening) refuses connections, and is replaced */
	assert_int_equal(sock_connect(p), -ECONNREFUSED);
	l = sock_listen(p);
	assert_true(l >= 0);
	close(l);
	unsetenv("XDG_RUNTIME_DIR");
	char *tmpdir = sock_fallback_dir(NULL, 1234);
	assert_string_equal(tmpdir, "/tmp/bld-1234");
	free(tmpdir);
	free(dir);
	free(p);
	free(xdg);
	sbuf_release(&sb);
	rm_rf(base);
	free(base);
}

static void root_is_the_nearest_folder_with_nx_json(void **state)
{
	(void)state;
	char *root = make_tmp();
	char *sub = path_join(root, "a/b");
	assert_int_equal(mkdir_p(sub, 0777), 0);
	char *nx = path_join(root, "nx.json");
	assert_int_equal(file_write_atomic(nx, "{}", 2, 0644), 0);
	char *got = NULL;
	assert_int_equal(path_find_root(sub, &got), 0);
	assert_string_equal(got, root);
	free(got);
	assert_int_equal(path_find_root("/", &got), -ENOENT);
	free(nx);
	free(sub);
	rm_rf(root);
	free(root);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(peer_of_another_uid_is_refused),
	    cmocka_unit_test(short_root_uses_its_own_folder),
	    cmocka_unit_test(long_root_falls_back_to_a_private_folder),
	    cmocka_unit_test(root_is_the_nearest_folder_with_nx_json),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
