/*
 * conn.c - talking to the engine: start bldd one-shot on a socketpair, send
 * hello and the request, render the events until done, forward Ctrl-C as a
 * cancel.
 *
 * The engine runs in its own process group, so a Ctrl-C typed at the
 * terminal reaches only this client, which asks the engine to stop the tasks
 * (it sends SIGTERM, then SIGKILL, to each task's process group) and waits
 * for its done.  If the client dies, the engine sees the socket close and
 * does the same.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bld/proto.h"
#include "client.h"

extern char **environ;

#define CANCEL_WAIT_MS 15000

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
	cJSON_AddStringToObject(hello, "client", BLD_VERSION);
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
	int exit_code;
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

int client_run(const struct cli *cli)
{
	int sig_r = -1;
	if (setup_signals(&sig_r) < 0) {
		fprintf(stderr, "bld: error: cannot set up signal handling\n");
		return 2;
	}
	char *path = find_engine();
	struct session s = {.fd = -1};
	pid_t pid = -1;
	int rc = engine_start(path, &s.fd, &pid);
	if (rc < 0) {
		fprintf(stderr, "bld: error: cannot start the engine %s: %s\n", path,
		        strerror(-rc));
		free(path);
		return 2;
	}
	bool color = want_color();
	render_init(&s.render, 1, 2, color);
	s.render.verbose = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(cli->args, "verbose"));
	proto_reader_init(&s.rd);
	int code;
	if (send_hello_and_request(s.fd, cli, color) < 0) {
		fprintf(stderr, "bld: error: the engine %s is unreachable\n", path);
		code = 2;
	} else {
		code = converse(&s, sig_r);
	}
	render_done(&s.render, code);
	close(s.fd);
	engine_reap(pid, s.canceled);
	render_release(&s.render);
	proto_reader_release(&s.rd);
	free(s.spawned);
	free(path);
	return code;
}
