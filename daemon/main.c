/*
 * main.c - bldd, the engine.
 *
 *     bldd --fd N                 serve the one request arriving on the connected
 *                                 socket N (the client's socketpair), then exit
 *     bldd --daemon [--root DIR]  the resident daemon of the workspace above DIR
 *                                 (default: the current folder): listen on its
 *                                 socket until stopped, idle, or retired
 *
 * One-shot, the exit status is the request's exit code (the client reads it
 * from the done message anyway).  Resident, 0 after a clean shutdown, and also
 * 0 at once when another daemon already serves the root.
 */
#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bld/sock.h"
#include "engine_int.h"

static void usage(void)
{
	fprintf(stderr, "usage: bldd --fd <fd>              (started by bld; serves one request)\n"
	                "       bldd --daemon [--root <dir>] (the workspace's resident daemon)\n"
	                "       bldd --version\n");
}

static int run_resident(const char *dir)
{
	/* One malloc arena for every thread (before any thread starts): a resident
	 * daemon's thread pool would otherwise get an arena per worker, each keeping
	 * what a load or a large request left behind (10,000 projects: 4 arenas,
	 * ~200 MB resident; one arena: 194 MB at peak where four reached 303, for the
	 * same daemon CPU per request within noise).  What the threads allocate is
	 * mostly short: workspace loads and cache work on the pool, events on the loop. */
	mallopt(M_ARENA_MAX, 1);
	char *root = NULL;
	int rc = path_find_root(dir ? dir : ".", &root);
	if (rc < 0) {
		fprintf(stderr, "bldd: no nx.json found in %s or any folder above it\n",
		        dir ? dir : ".");
		return 2;
	}
	setvbuf(stderr, NULL, _IOLBF, 0);
	struct daemon *d;
	if (daemon_new(false, &d) < 0) {
		fprintf(stderr, "bldd: cannot start the event loop\n");
		free(root);
		return 2;
	}
	rc = server_start(d, root);
	free(root);
	if (rc != 0) {
		/* 1: another daemon holds the lock, it serves the root */
		server_release(d);
		daemon_run(d); /* closes the signal handles and the loop */
		daemon_free(d);
		return rc == 1 ? 0 : 2;
	}
	/* nothing pins the folder the daemon happened to start in */
	if (chdir("/") < 0) {
		/* harmless: requests carry absolute paths */
	}
	int lrc = daemon_run(d);
	if (lrc != 0)
		server_log(d, "the event loop did not close cleanly (%s)", uv_strerror(lrc));
	server_release(d);
	daemon_free(d);
	return lrc == 0 ? 0 : 2;
}

int main(int argc, char **argv)
{
	int fd = -1;
	bool resident = false;
	const char *root = NULL;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--version")) {
			printf("bldd %s (protocol %d)\n", BLD_VERSION, PROTO_VERSION);
			return 0;
		}
		if (!strcmp(argv[i], "--fd") && i + 1 < argc)
			fd = atoi(argv[++i]);
		else if (!strncmp(argv[i], "--fd=", 5))
			fd = atoi(argv[i] + 5);
		else if (!strcmp(argv[i], "--daemon"))
			resident = true;
		else if (!strcmp(argv[i], "--root") && i + 1 < argc)
			root = argv[++i];
		else if (!strncmp(argv[i], "--root=", 7))
			root = argv[i] + 7;
	}
	signal(SIGPIPE, SIG_IGN);
	if (resident)
		return run_resident(root);
	if (fd < 0) {
		usage();
		return 2;
	}
	/* tasks must not inherit the client's socket: it would keep the client waiting
	 * after the engine is gone */
	fcntl(fd, F_SETFD, FD_CLOEXEC);
	struct daemon *d;
	if (daemon_new(true, &d) < 0) {
		fprintf(stderr, "bldd: cannot start the event loop\n");
		return 2;
	}
	int rc = daemon_serve_fd(d, fd);
	if (rc < 0)
		fprintf(stderr, "bldd: cannot use fd %d: %s\n", fd, uv_strerror(rc));
	int lrc = daemon_run(d);
	if (lrc != 0)
		fprintf(stderr, "bldd: the event loop did not close cleanly (%s)\n",
		        uv_strerror(lrc));
	int code = rc < 0 ? 2 : d->last_exit;
	daemon_free(d);
	return code;
}
