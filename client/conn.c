/*
 * conn.c - talking to the engine: connect to the workspace's resident daemon
 * (starting it when none answers), or start bldd one-shot on a socketpair;
 * send hello and the request, render the events until done, forward Ctrl-C
 * as a cancel.  `bld daemon start|stop|status|logs` and `bld reset` (which
 * stops the daemon first) are handled here too.
 *
 * The engine runs in its own process group (one-shot) or session (daemon),
 * so a Ctrl-C typed at the terminal reaches only this client, which asks the
 * engine to stop the tasks (it sends SIGTERM, then SIGKILL, to each task's
 * process group) and waits for its done.  If the client dies, the engine sees
 * the socket close and does the same.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bld/proto.h"
#include "bld/sock.h"
#include "client.h"

extern char **environ;

#define CANCEL_WAIT_MS 15000
#define DAEMON_START_WAIT_MS 10000 /* a new daemon must answer within this */
#define DAEMON_STOP_WAIT_MS 15000  /* a stopping daemon must let go of its lock */

/* The signal handler's only channel: the write end of a self-pipe. */
static int signal_pipe_w = -1;

static void on_signal(int sig)
{
	int saved = errno;
	unsigned char b = (unsigned char)sig;
	if (signal_pipe_w >= 0 && write(signal_pipe_w, &b, 1) < 0) {
		/* nothing to do: the pipe is full, a signal is already pending */
	}
	errno = saved;
}

/* Path of bldd: $BLDD, else beside this executable (or ../daemon/ in a build tree). */
static char *find_engine(void)
{
	const char *env = getenv("BLDD");
	if (env && *env)
		return xstrdup(env);
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	if (n > 0) {
		self[n] = '\0';
		char *dir = path_dirname(self);
		const char *cands[] = {"bldd", "../daemon/bldd", "../libexec/bldd"};
		for (size_t i = 0; i < ARRAY_LEN(cands); i++) {
			char *p = path_join(dir, cands[i]);
			if (access(p, X_OK) == 0) {
				free(dir);
				return p;
			}
			free(p);
		}
		free(dir);
	}
	return xstrdup("bldd");
}

/* Start bldd --fd 3 on one end of a socketpair; 0, *ret_fd and *ret_pid, or -errno. */
static int engine_start(const char *path, int *ret_fd, pid_t *ret_pid)
{
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		return -errno;
	pid_t pid = fork();
	if (pid < 0) {
		int e = errno;
		close(sv[0]);
		close(sv[1]);
		return -e;
	}
	if (pid == 0) {
		setpgid(0, 0);
		signal(SIGINT, SIG_DFL);
		signal(SIGTERM, SIG_DFL);
		if (dup2(sv[1], 3) < 0)
			_exit(127);
		int devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
		if (devnull >= 0)
			dup2(devnull, 0);
		execl(path, "bldd", "--fd", "3", (char *)NULL);
		fprintf(stderr, "bld: error: cannot start the engine %s: %s\n", path,
		        strerror(errno));
		_exit(127);
	}
	close(sv[1]);
	*ret_fd = sv[0];
	*ret_pid = pid;
	return 0;
}

static bool env_set(const char *name)
{
	const char *v = getenv(name);
	return v && *v && strcmp(v, "0") && strcmp(v, "false");
}

static bool want_color(void)
{
	if (env_set("NO_COLOR"))
		return false;
	const char *force = getenv("FORCE_COLOR");
	if (force && *force)
		return strcmp(force, "0") && strcmp(force, "false");
	const char *term = getenv("TERM");
	return isatty(1) && !(term && !strcmp(term, "dumb"));
}

static int columns(void)
{
	struct winsize ws;
	if (ioctl(1, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
		return ws.ws_col;
	const char *c = getenv("COLUMNS");
	return c && atoi(c) > 0 ? atoi(c) : 80;
}

/* BLD_VERSION, or BLD_FAKE_VERSION: the test hook that makes a client (and the daemon
 * it starts, which inherits the variable) claim another version. */
static const char *client_version(void)
{
	const char *fake = getenv("BLD_FAKE_VERSION");
	return fake && *fake ? fake : BLD_VERSION;
}

static int send_json(int fd, cJSON *msg)
{
	char *text = cJSON_PrintUnformatted(msg);
	struct sbuf sb = SBUF_INIT;
	sbuf_init(&sb);
	proto_encode_json(&sb, text, strlen(text));
	int rc = proto_write_all(fd, sb.buf, sb.len);
	free(text);
	sbuf_release(&sb);
	return rc;
}

static int send_hello_and_request(int fd, const struct cli *cli, bool color)
{
	cJSON *hello = cJSON_CreateObject();
	cJSON_AddStringToObject(hello, "t", "hello");
	cJSON_AddNumberToObject(hello, "proto", PROTO_VERSION);
	cJSON_AddStringToObject(hello, "client", client_version());
	int rc = send_json(fd, hello);
	cJSON_Delete(hello);
	if (rc < 0)
		return rc;
	char cwd[PATH_MAX];
	if (!getcwd(cwd, sizeof(cwd)))
		return -errno;
	cJSON *req = cJSON_CreateObject();
	cJSON_AddStringToObject(req, "t", "request");
	cJSON_AddStringToObject(req, "cmd", cli->cmd);
	cJSON_AddItemReferenceToObject(req, "args", cli->args);
	cJSON_AddStringToObject(req, "cwd", cwd);
	cJSON *env = cJSON_AddArrayToObject(req, "env");
	for (char **e = environ; *e; e++)
		cJSON_AddItemToArray(env, cJSON_CreateString(*e));
	cJSON_AddBoolToObject(req, "tty", isatty(1));
	cJSON_AddBoolToObject(req, "color", color);
	cJSON_AddNumberToObject(req, "columns", columns());
	rc = send_json(fd, req);
	cJSON_Delete(req);
	return rc;
}

/* State of one conversation. */
struct session {
	int fd;
	struct render render;
	struct proto_reader rd;
	bool hello_ok, done, canceled;
	bool daemon; /* talking to a resident daemon */
	bool retry;  /* the daemon is of another version and retires: start ours */
	int engine_pid;
	int exit_code;
	/* BLD_DEBUG: where the client's time went */
	uint64_t t_begin, t_connected, t_hello;
	const char *how;      /* "one-shot", "daemon", "daemon started" */
	int attempts;
	/* task processes the engine started: (task, pid) pairs, pid 0 once the task ended;
	 * should the engine die, the client stops their process groups itself */
	struct spawned {
		int task, pid;
	} * spawned;
	size_t nspawned, capspawned;
};

static void track_spawn(struct session *s, const cJSON *ev)
{
	const cJSON *task = cJSON_GetObjectItemCaseSensitive(ev, "task");
	const cJSON *pid = cJSON_GetObjectItemCaseSensitive(ev, "pid");
	if (!cJSON_IsNumber(task) || !cJSON_IsNumber(pid) || pid->valueint <= 1)
		return;
	xgrow(&s->spawned, &s->capspawned, s->nspawned + 1, sizeof(*s->spawned));
	s->spawned[s->nspawned++] = (struct spawned){task->valueint, pid->valueint};
}

static void untrack_task(struct session *s, const cJSON *ev)
{
	const cJSON *task = cJSON_GetObjectItemCaseSensitive(ev, "task");
	for (size_t i = 0; cJSON_IsNumber(task) && i < s->nspawned; i++)
		if (s->spawned[i].task == task->valueint)
			s->spawned[i].pid = 0;
}

/* The engine died mid-run: SIGTERM every task process group it left, then SIGKILL. */
static void kill_orphans(struct session *s)
{
	bool any = false;
	for (size_t i = 0; i < s->nspawned; i++)
		if (s->spawned[i].pid > 1 && kill(-s->spawned[i].pid, SIGTERM) == 0)
			any = true;
	if (!any)
		return;
	struct timespec ts = {1, 0};
	nanosleep(&ts, NULL);
	for (size_t i = 0; i < s->nspawned; i++)
		if (s->spawned[i].pid > 1)
			kill(-s->spawned[i].pid, SIGKILL);
}

/* Handle the frames buffered so far; -1 on a protocol error. */
static int handle_frames(struct session *s)
{
	struct proto_frame f;
	int rc;
	while (!s->done && (rc = proto_reader_next(&s->rd, &f)) == 1) {
		if (f.type == PROTO_OUTPUT) {
			render_output(&s->render, f.task, f.stream, f.data, f.len);
			continue;
		}
		cJSON *ev = cJSON_ParseWithLength(f.data, f.len);
		if (!ev)
			return -1;
		const cJSON *t = cJSON_GetObjectItemCaseSensitive(ev, "t");
		if (cJSON_IsString(t) && !strcmp(t->valuestring, "hello")) {
			s->hello_ok = true;
			s->t_hello = now_ns();
			const cJSON *pid = cJSON_GetObjectItemCaseSensitive(ev, "pid");
			const cJSON *ver = cJSON_GetObjectItemCaseSensitive(ev, "version");
			const cJSON *proto = cJSON_GetObjectItemCaseSensitive(ev, "proto");
			s->engine_pid = cJSON_IsNumber(pid) ? pid->valueint : 0;
			if (s->daemon &&
			    (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(ev, "retire")) ||
			     !cJSON_IsString(ver) || strcmp(ver->valuestring, client_version()) ||
			     !cJSON_IsNumber(proto) || proto->valueint != PROTO_VERSION)) {
				s->retry = true;
				s->done = true;
			}
		} else if (cJSON_IsString(t) && !strcmp(t->valuestring, "done")) {
			const cJSON *x = cJSON_GetObjectItemCaseSensitive(ev, "exit");
			s->exit_code = cJSON_IsNumber(x) ? x->valueint : 2;
			s->done = true;
		} else {
			if (cJSON_IsString(t) && !strcmp(t->valuestring, "spawn"))
				track_spawn(s, ev);
			else if (cJSON_IsString(t) && !strcmp(t->valuestring, "task-end"))
				untrack_task(s, ev);
			render_event(&s->render, ev);
		}
		cJSON_Delete(ev);
	}
	return rc < 0 ? -1 : 0;
}

static void send_cancel(struct session *s)
{
	if (s->canceled)
		return;
	s->canceled = true;
	cJSON *m = cJSON_CreateObject();
	cJSON_AddStringToObject(m, "t", "cancel");
	send_json(s->fd, m);
	cJSON_Delete(m);
}

/* Read events until done (or the engine goes away); returns the exit code. */
static int converse(struct session *s, int sig_r)
{
	char buf[65536];
	uint64_t deadline = 0;
	while (!s->done) {
		struct pollfd p[2] = {{.fd = s->fd, .events = POLLIN},
		                      {.fd = sig_r, .events = POLLIN}};
		int timeout = -1;
		if (deadline) {
			uint64_t now = now_ms();
			if (now >= deadline) {
				kill_orphans(
				    s); /* the engine does not answer: stop the tasks here */
				return 130;
			}
			timeout = (int)(deadline - now);
		}
		if (poll(p, 2, timeout) < 0 && errno != EINTR)
			return 2;
		if (p[1].revents & POLLIN) {
			unsigned char sig;
			if (read(sig_r, &sig, 1) == 1) {
				if (s->canceled)
					return 130; /* a second Ctrl-C: leave now, the engine cleans
					               up */
				send_cancel(s);
				deadline = now_ms() + CANCEL_WAIT_MS;
			}
		}
		if (!(p[0].revents & (POLLIN | POLLHUP | POLLERR)))
			continue;
		ssize_t n = read(s->fd, buf, sizeof(buf));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		proto_reader_feed(&s->rd, buf, (size_t)n);
		if (handle_frames(s) < 0) {
			fprintf(stderr, "bld: error: protocol error from the engine\n");
			return 2;
		}
	}
	if (!s->done && s->daemon && !s->hello_ok && !s->canceled) {
		s->retry = true; /* closed before it said hello: a retiring or dying daemon */
		return 2;
	}
	if (!s->done) {
		kill_orphans(s);
		if (s->canceled)
			return 130;
		fprintf(stderr, "bld: error: the engine exited without finishing the request\n");
		return 2;
	}
	return s->canceled && s->exit_code == 0 ? 130 : s->exit_code;
}

/* Reap the engine: it exits right after done; wait briefly, then stop it, unless it
 * is still stopping tasks after a cancel (it exits by itself once they are gone). */
static void engine_reap(pid_t pid, bool canceled)
{
	/* Poll from 50 us upwards: the engine is usually gone within a millisecond,
	 * and a fixed 5 ms sleep would add that to every cached command. ~2 s in all. */
	long wait_ns = 50 * 1000;
	for (uint64_t waited = 0; waited < 2000ULL * 1000 * 1000; waited += (uint64_t)wait_ns) {
		if (waitpid(pid, NULL, WNOHANG) != 0)
			return;
		struct timespec ts = {0, wait_ns};
		nanosleep(&ts, NULL);
		if (wait_ns < 5 * 1000 * 1000)
			wait_ns *= 2;
	}
	if (canceled)
		return;
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
}

static int setup_signals(int *ret_r)
{
	int p[2];
	if (pipe2(p, O_CLOEXEC | O_NONBLOCK) < 0)
		return -errno;
	signal_pipe_w = p[1];
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
	*ret_r = p[0];
	return 0;
}

/* ---- the resident daemon ---- */

/* BLD_DEBUG set (any value but 0/false): say where the client's time went. */
static bool debug_on(void)
{
	return env_set("BLD_DEBUG");
}

/* Use the daemon?  BLD_DAEMON=1 forces it (even with CI=true), BLD_DAEMON=0,
 * --no-daemon, --daemon=false and CI=true keep the engine one-shot. */
static bool daemon_wanted(const struct cli *cli)
{
	if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(cli->args, "noDaemon")) ||
	    cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(cli->args, "daemon")))
		return false;
	const char *v = getenv("BLD_DAEMON");
	if (v && *v)
		return strcmp(v, "0") && strcmp(v, "false");
	const char *ci = getenv("CI");
	return !(ci && !strcmp(ci, "true"));
}

/* <root>/.bld/<name> (new string). */
static char *state_file(const char *root, const char *name)
{
	char *dir = path_join(root, ".bld");
	char *p = path_join(dir, name);
	free(dir);
	return p;
}

/* Start `bldd --daemon --root root` detached: its own session, not our child,
 * stdin /dev/null, stdout and stderr appended to .bld/daemon.log. */
static int daemon_spawn(const char *bldd, const char *root)
{
	char *dir = path_join(root, ".bld");
	int rc = mkdir_p(dir, 0777);
	free(dir);
	if (rc < 0)
		return rc;
	char *log = state_file(root, "daemon.log");
	int logfd = open(log, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0644);
	free(log);
	if (logfd < 0)
		return -errno;
	pid_t pid = fork();
	if (pid < 0) {
		rc = -errno;
		close(logfd);
		return rc;
	}
	if (pid == 0) {
		setsid();
		if (fork() != 0)
			_exit(0); /* the daemon is nobody's child: init reaps it */
		signal(SIGINT, SIG_DFL);
		signal(SIGTERM, SIG_DFL);
		signal(SIGHUP, SIG_DFL);
		int devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
		if (devnull >= 0)
			dup2(devnull, 0);
		dup2(logfd, 1);
		dup2(logfd, 2);
		execl(bldd, "bldd", "--daemon", "--root", root, (char *)NULL);
		fprintf(stderr, "bld: cannot start the daemon %s: %s\n", bldd, strerror(errno));
		_exit(127);
	}
	close(logfd);
	while (waitpid(pid, NULL, 0) < 0 && errno == EINTR) {
	}
	return 0;
}

static void sleep_us(long us)
{
	struct timespec ts = {us / 1000000, (us % 1000000) * 1000};
	nanosleep(&ts, NULL);
}

/* Connect to root's daemon; with start, start one when none answers and retry within
 * DAEMON_START_WAIT_MS.  A connected fd, or -errno (-ECONNREFUSED: none runs). */
static int daemon_connect(const char *root, const char *bldd, bool start, bool *ret_started)
{
	char *path;
	int rc = sock_path(root, &path, NULL);
	if (rc < 0)
		return rc;
	int fd = sock_connect(path);
	if (fd >= 0 || !start) {
		free(path);
		return fd == -ENOENT ? -ECONNREFUSED : fd;
	}
	rc = daemon_spawn(bldd, root);
	if (rc < 0) {
		free(path);
		return rc;
	}
	if (ret_started)
		*ret_started = true;
	uint64_t deadline = now_ms() + DAEMON_START_WAIT_MS;
	long wait_us = 200;
	for (;;) {
		fd = sock_connect(path);
		if (fd >= 0 || now_ms() > deadline)
			break;
		sleep_us(wait_us);
		if (wait_us < 20000)
			wait_us *= 2;
	}
	free(path);
	return fd;
}

/* Wait until no daemon holds root's lock (it exited); false after the bounded wait. */
static bool daemon_wait_gone(const char *root)
{
	char *lock = state_file(root, "bldd.lock");
	int fd = open(lock, O_RDONLY | O_CLOEXEC);
	free(lock);
	if (fd < 0)
		return true;
	bool gone = false;
	uint64_t deadline = now_ms() + DAEMON_STOP_WAIT_MS;
	while (!gone && now_ms() <= deadline) {
		if (flock(fd, LOCK_EX | LOCK_NB) == 0) {
			flock(fd, LOCK_UN);
			gone = true;
		} else {
			sleep_us(2000);
		}
	}
	close(fd);
	return gone;
}

/* One conversation on fd: hello, request, events until done.  *s is set up here. */
static int converse_on(struct session *s, int fd, bool daemon, const struct cli *cli,
                       bool color, int sig_r)
{
	s->fd = fd;
	s->daemon = daemon;
	if (send_hello_and_request(fd, cli, color) < 0) {
		if (daemon && !s->canceled) {
			s->retry = true;
			return 2;
		}
		fprintf(stderr, "bld: error: the engine is unreachable\n");
		return 2;
	}
	return converse(s, sig_r);
}

static void session_reset(struct session *s)
{
	proto_reader_release(&s->rd);
	proto_reader_init(&s->rd);
	free(s->spawned);
	s->spawned = NULL;
	s->nspawned = s->capspawned = 0;
	s->hello_ok = s->done = s->retry = false;
	s->exit_code = 0;
}

/* Serve cli through root's daemon, starting it (and replacing one of another version)
 * as needed.  The exit code. */
static int via_daemon(const struct cli *cli, const char *root, const char *bldd,
                      struct session *s, bool color, int sig_r)
{
	int code = 2;
	for (int attempt = 0; attempt < 4; attempt++) {
		bool started = false;
		int fd = daemon_connect(root, bldd, true, &started);
		s->t_connected = now_ns();
		s->how = started ? "daemon started" : "daemon";
		s->attempts = attempt + 1;
		if (fd < 0) {
			fprintf(stderr,
			        "bld: error: the daemon of %s does not answer (%s); see "
			        "%s/.bld/daemon.log, or run with BLD_DAEMON=0\n",
			        root, strerror(-fd), root);
			return 2;
		}
		code = converse_on(s, fd, true, cli, color, sig_r);
		close(fd);
		s->fd = -1;
		if (!s->retry)
			return code;
		session_reset(s);
		if (s->canceled)
			return 130;
	}
	fprintf(stderr, "bld: error: the daemon of %s keeps going away; see %s/.bld/daemon.log\n",
	        root, root);
	return 2;
}

/* A request the daemon answers on its own (status, stop, start): 0 and the done's exit
 * code in *code, or -ECONNREFUSED when no daemon runs (and start is false). */
static int daemon_request(const struct cli *cli, const char *root, const char *bldd, bool start,
                          struct session *s, int sig_r, int *code)
{
	for (int attempt = 0; attempt < 4; attempt++) {
		int fd = daemon_connect(root, bldd, start, NULL);
		if (fd < 0)
			return fd;
		*code = converse_on(s, fd, true, cli, false, sig_r);
		close(fd);
		s->fd = -1;
		if (!s->retry)
			return 0;
		session_reset(s);
		if (!start)
			return -ECONNREFUSED; /* a retiring daemon of another version */
	}
	return -ECONNREFUSED;
}

/* Stop root's daemon if one runs; true when none runs any more. */
static bool daemon_stop(const char *root, const char *bldd, struct session *s, int sig_r,
                        int *ret_pid)
{
	struct cli stop = {.action = CLI_ENGINE, .cmd = "daemon", .args = cJSON_CreateObject()};
	cJSON_AddStringToObject(stop.args, "sub", "stop");
	int code = 0;
	int rc = daemon_request(&stop, root, bldd, false, s, sig_r, &code);
	cJSON_Delete(stop.args);
	*ret_pid = rc == 0 ? s->engine_pid : 0;
	return daemon_wait_gone(root);
}

/* bld daemon start|stop|status|logs */
static int daemon_command(const struct cli *cli, const char *root, const char *bldd,
                          struct session *s, int sig_r)
{
	const char *sub = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(cli->args, "sub"));
	if (!root) {
		fprintf(stderr, "bld: error: bld daemon: no nx.json found in the current folder "
		                "or any folder above it\n");
		return 2;
	}
	if (!strcmp(sub, "logs")) {
		char *log = state_file(root, "daemon.log");
		char *text = NULL;
		size_t len = 0;
		int rc = file_read(log, &text, &len);
		if (rc < 0) {
			fprintf(stderr, "bld: no daemon log yet (%s: %s)\n", log, strerror(-rc));
			free(log);
			return rc == -ENOENT ? 0 : 2;
		}
		fwrite(text, 1, len, stdout);
		free(text);
		free(log);
		return 0;
	}
	if (!strcmp(sub, "stop")) {
		int pid = 0;
		if (!daemon_stop(root, bldd, s, sig_r, &pid)) {
			fprintf(stderr, "bld: error: the daemon of %s did not stop within %d s\n", root,
			        DAEMON_STOP_WAIT_MS / 1000);
			return 2;
		}
		if (pid)
			printf("bld daemon stopped (pid %d)\n", pid);
		else
			printf("no bld daemon runs for %s\n", root);
		return 0;
	}
	int code = 0;
	bool start = !strcmp(sub, "start");
	int rc = daemon_request(cli, root, bldd, start, s, sig_r, &code);
	if (rc == -ECONNREFUSED && !start) {
		printf("no bld daemon runs for %s\n", root);
		return 3;
	}
	if (rc < 0) {
		fprintf(stderr, "bld: error: the daemon of %s does not answer (%s); see %s/.bld/daemon.log\n",
		        root, strerror(-rc), root);
		return 2;
	}
	return code;
}

int client_run(const struct cli *cli)
{
	int sig_r = -1;
	if (setup_signals(&sig_r) < 0) {
		fprintf(stderr, "bld: error: cannot set up signal handling\n");
		return 2;
	}
	char *path = find_engine();
	char cwd[PATH_MAX];
	char *root = NULL;
	if (getcwd(cwd, sizeof(cwd)) && path_find_root(cwd, &root) < 0)
		root = NULL;
	struct session s = {.fd = -1, .t_begin = now_ns()};
	bool color = want_color();
	render_init(&s.render, 1, 2, color);
	s.render.verbose = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(cli->args, "verbose"));
	proto_reader_init(&s.rd);
	int code;
	bool is_daemon_cmd = !strcmp(cli->cmd, "daemon");
	if (is_daemon_cmd) {
		code = daemon_command(cli, root, path, &s, sig_r);
	} else {
		bool use_daemon = root && daemon_wanted(cli);
		if (root && !strcmp(cli->cmd, "reset")) {
			/* the daemon goes first: reset deletes .bld/, its socket and lock with it */
			int pid;
			if (!daemon_stop(root, path, &s, sig_r, &pid)) {
				fprintf(stderr, "bld: error: the daemon of %s did not stop\n", root);
				code = 2;
				goto out;
			}
			session_reset(&s);
			use_daemon = false;
		}
		if (use_daemon) {
			code = via_daemon(cli, root, path, &s, color, sig_r);
		} else {
			pid_t pid = -1;
			int fd = -1;
			int rc = engine_start(path, &fd, &pid);
			if (rc < 0) {
				fprintf(stderr, "bld: error: cannot start the engine %s: %s\n", path,
				        strerror(-rc));
				code = 2;
				goto out;
			}
			s.t_connected = now_ns();
			s.how = "one-shot";
			code = converse_on(&s, fd, false, cli, color, sig_r);
			close(fd);
			engine_reap(pid, s.canceled);
		}
	}
	render_done(&s.render, code);
	if ((debug_on() || cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(cli->args, "verbose"))) &&
	    s.how) {
		uint64_t end = now_ns();
		fprintf(stderr,
		        "bld: client: engine reached in %.2f ms (%s%s), its hello after %.2f ms, "
		        "done after %.2f ms, total %.2f ms\n",
		        (double)(s.t_connected - s.t_begin) / 1e6, s.how,
		        s.attempts > 1 ? ", replaced" : "",
		        s.t_hello ? (double)(s.t_hello - s.t_connected) / 1e6 : 0.0,
		        (double)(end - s.t_connected) / 1e6, (double)(end - s.t_begin) / 1e6);
	}
out:
	render_release(&s.render);
	proto_reader_release(&s.rd);
	free(s.spawned);
	free(root);
	free(path);
	return code;
}
