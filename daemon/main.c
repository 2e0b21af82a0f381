/*
 * main.c - bldd, the engine.  For now one-shot only:
 *
 *     bldd --fd N      serve the one request arriving on the connected
 *                      socket N (the client's socketpair), then exit
 *
 * The exit status is the request's exit code (the client reads it from the
 * done message anyway).
 */
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine_int.h"

static void usage(void)
{
	fprintf(stderr, "usage: bldd --fd <fd>   (started by bld; serves one request)\n"
	                "       bldd --version\n");
}

int main(int argc, char **argv)
{
	int fd = -1;
	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--version")) {
			printf("bldd %s (protocol %d)\n", BLD_VERSION, PROTO_VERSION);
			return 0;
		}
		if (!strcmp(argv[i], "--fd") && i + 1 < argc)
			fd = atoi(argv[++i]);
		else if (!strncmp(argv[i], "--fd=", 5))
			fd = atoi(argv[i] + 5);
	}
	if (fd < 0) {
		usage();
		return 2;
	}
	signal(SIGPIPE, SIG_IGN);
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
