/*
 * proc.c - child processes over libuv.  See proc.h.
 *
 * A child is started with posix_spawn(), which glibc implements with
 * clone(CLONE_VM | CLONE_VFORK): the child borrows the engine's memory until
 * it calls execve.  libuv's uv_spawn (1.44) forks instead, copying the page
 * tables of the whole engine (tens of MB for a resident daemon) for every
 * task and tearing the copy down again at execve: most of the engine's CPU in
 * a cold build (docs/benchmarks.md).  The child's exit is watched through a
 * pidfd (Linux 5.3) polled on the loop, then reaped with waitpid; libuv's
 * SIGCHLD handler reaps only its own uv_process_t children, never ours.
 *
 * Four handles per proc (the pidfd's poll, two pipes, a timer); the proc is
 * freed in the close callback of the last one.  The timer serves two
 * purposes, one at a time: escalating SIGTERM to SIGKILL, and bounding the
 * wait for the pipes' end of file after the process exited (a background
 * grandchild may hold them open).
 */
#include "proc.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bld/base.h"

#define DRAIN_MS 200

struct proc {
	uv_poll_t exit_watch; /* the pidfd: readable once the child has exited */
	uv_pipe_t out, err;
	uv_timer_t timer;
	int open_handles;
	int open_pipes;
	bool exited, reported, killing;
	bool paused;             /* reading stopped: the client is slow (backpressure) */
	bool out_open, err_open; /* pipes not yet at end of file */
	int exit_code;
	int pid;
	int pidfd;
	proc_output_fn on_output;
	proc_exit_fn on_exit;
	void *ctx;
	char buf[65536];
};

static void closed_cb(uv_handle_t *h)
{
	struct proc *p = h->data;
	if (h == (uv_handle_t *)&p->exit_watch)
		close(p->pidfd); /* only now: libuv has forgotten the fd */
	if (--p->open_handles == 0)
		free(p);
}

static void close_handle(struct proc *p, uv_handle_t *h)
{
	if (!uv_is_closing(h))
		uv_close(h, closed_cb);
}

static void maybe_report(struct proc *p)
{
	if (p->reported || !p->exited || p->open_pipes > 0)
		return;
	p->reported = true;
	uv_timer_stop(&p->timer);
	p->on_exit(p->ctx, p, p->exit_code);
	close_handle(p, (uv_handle_t *)&p->out);
	close_handle(p, (uv_handle_t *)&p->err);
	close_handle(p, (uv_handle_t *)&p->timer);
	close_handle(p, (uv_handle_t *)&p->exit_watch);
}

static void pipe_done(struct proc *p, uv_pipe_t *pipe)
{
	uv_read_stop((uv_stream_t *)pipe);
	if (pipe == &p->out)
		p->out_open = false;
	else
		p->err_open = false;
	p->open_pipes--;
	maybe_report(p);
}

static void alloc_cb(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
	struct proc *p = h->data;
	buf->base = p->buf;
	buf->len = sizeof(p->buf);
}

static void read_cb(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
	struct proc *p = s->data;
	if (n > 0) {
		if (!p->reported)
			p->on_output(p->ctx, p, s == (uv_stream_t *)&p->out ? 1 : 2, buf->base,
			             (size_t)n);
		return;
	}
	if (n < 0)
		pipe_done(p, (uv_pipe_t *)s);
}

static void drain_timeout_cb(uv_timer_t *t)
{
	struct proc *p = t->data;
	if (p->exited) {
		/* pipes still open (a grandchild holds them): give up on them */
		if (!uv_is_closing((uv_handle_t *)&p->out) && p->open_pipes) {
			uv_read_stop((uv_stream_t *)&p->out);
			uv_read_stop((uv_stream_t *)&p->err);
		}
		p->open_pipes = 0;
		maybe_report(p);
		return;
	}
	/* the grace period after SIGTERM ran out */
	uv_kill(-p->pid, SIGKILL);
}

/* The child is gone: status as waitpid gives it. */
static void exited(struct proc *p, int status)
{
	p->exited = true;
	p->exit_code = WIFSIGNALED(status) ? 128 + WTERMSIG(status) : WEXITSTATUS(status);
	if (p->killing)
		uv_kill(-p->pid, SIGKILL); /* leftovers of the group */
	uv_timer_stop(&p->timer);
	if (p->open_pipes && !p->paused)
		uv_timer_start(&p->timer, drain_timeout_cb, DRAIN_MS, 0);
	maybe_report(p);
}

static void exit_watch_cb(uv_poll_t *w, int status, int events)
{
	struct proc *p = w->data;
	int st = 0;
	pid_t r;
	while ((r = waitpid(p->pid, &st, WNOHANG)) < 0 && errno == EINTR)
		;
	if (r == 0)
		return; /* not yet: a spurious wake-up */
	uv_poll_stop(w);
	/* r < 0 (ECHILD) cannot happen while nothing else reaps our children; if it
	 * did, the status is lost: report a failure rather than wait forever */
	exited(p, r < 0 ? 1 << 8 : st);
}

/* fd itself, or a copy of it above 2 when it is 0, 1 or 2 (the child's stdio
 * slots, where the child's first dup2 would overwrite it before the second
 * one read it); only an engine started with closed stdio gets such fds.
 * -1 on failure (fd closed). */
static int off_stdio(int fd)
{
	if (fd > 2)
		return fd;
	int hi = fcntl(fd, F_DUPFD_CLOEXEC, 3);
	close(fd);
	return hi;
}

/* Two close-on-exec pipes for stdout and stderr ([0] read, [1] write); 0 or
 * -errno, with every fd set to -1 or open (the caller closes them). */
static int make_pipes(int out[2], int err[2])
{
	out[0] = out[1] = err[0] = err[1] = -1;
	if (pipe2(out, O_CLOEXEC) < 0 || pipe2(err, O_CLOEXEC) < 0)
		return -errno;
	for (int i = 0; i < 2; i++) {
		out[i] = off_stdio(out[i]);
		err[i] = off_stdio(err[i]);
		if (out[i] < 0 || err[i] < 0)
			return -EMFILE;
	}
	return 0;
}

static void close_fds(const int *fds, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (fds[i] >= 0)
			close(fds[i]);
}

/* /bin/sh -c command in a new session (so its own process group), stdin from
 * /dev/null, stdout and stderr to the pipes, every signal at its default and
 * unblocked (the engine ignores SIGPIPE; a task must not).  The engine's
 * other fds are all close-on-exec: closing them in the child before its exec
 * (posix_spawn_file_actions_addclosefrom_np) would keep the loop waiting
 * longer, as close() of SQLite's locked files is not cheap.
 * 0 and *ret_pid, or -errno (from chdir or execve too: glibc reports them). */
static int spawn_sh(const struct proc_opts *o, int out_w, int err_w, pid_t *ret_pid)
{
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	sigset_t none, all;
	sigemptyset(&none);
	sigfillset(&all);
	posix_spawn_file_actions_init(&fa);
	posix_spawnattr_init(&attr);
	posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSID | POSIX_SPAWN_SETSIGMASK |
	                                    POSIX_SPAWN_SETSIGDEF);
	posix_spawnattr_setsigmask(&attr, &none);
	posix_spawnattr_setsigdefault(&attr, &all);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_adddup2(&fa, out_w, 1);
	posix_spawn_file_actions_adddup2(&fa, err_w, 2);
	posix_spawn_file_actions_addchdir_np(&fa, o->cwd);
	char *args[] = {"/bin/sh", "-c", (char *)o->command, NULL};
	int rc = posix_spawn(ret_pid, args[0], &fa, &attr, args, o->env);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&attr);
	return -rc;
}

/* Kill a child we cannot watch, and reap it. */
static void kill_and_reap(pid_t pid)
{
	kill(-pid, SIGKILL);
	while (waitpid(pid, NULL, 0) < 0 && errno == EINTR)
		;
}

int proc_spawn(uv_loop_t *loop, const struct proc_opts *o, struct proc **ret, struct bld_err *err)
{
	int out[2], errp[2];
	int rc = make_pipes(out, errp);
	if (rc < 0) {
		close_fds(out, 2);
		close_fds(errp, 2);
		return bld_err_set(err, rc, "cannot make pipes for /bin/sh in %s: %s", o->cwd,
		                   strerror(-rc));
	}
	struct proc *p = xcalloc(1, sizeof(*p));
	p->on_output = o->on_output;
	p->on_exit = o->on_exit;
	p->ctx = o->ctx;
	p->pidfd = -1;
	uv_pipe_init(loop, &p->out, 0);
	uv_pipe_init(loop, &p->err, 0);
	uv_timer_init(loop, &p->timer);
	p->out.data = p->err.data = p->timer.data = p->exit_watch.data = p;
	p->open_handles = 3;
	/* once opened, a pipe handle owns its read end (uv_close closes it) */
	rc = uv_pipe_open(&p->out, out[0]);
	if (rc < 0) {
		close(out[0]);
		close(errp[0]);
	} else if ((rc = uv_pipe_open(&p->err, errp[0])) < 0) {
		close(errp[0]);
	}
	pid_t pid = -1;
	if (rc >= 0)
		rc = spawn_sh(o, out[1], errp[1], &pid);
	close(out[1]);
	close(errp[1]);
	if (rc >= 0 && (p->pidfd = (int)syscall(SYS_pidfd_open, pid, 0)) < 0)
		rc = -errno;
	if (rc >= 0)
		rc = uv_poll_init(loop, &p->exit_watch, p->pidfd);
	if (rc < 0) {
		if (pid > 0)
			kill_and_reap(pid);
		if (p->pidfd >= 0)
			close(p->pidfd);
		p->reported = true;
		close_handle(p, (uv_handle_t *)&p->out);
		close_handle(p, (uv_handle_t *)&p->err);
		close_handle(p, (uv_handle_t *)&p->timer);
		return bld_err_set(err, rc, "cannot start /bin/sh in %s: %s", o->cwd,
		                   strerror(-rc));
	}
	p->open_handles = 4;
	p->open_pipes = 2;
	p->out_open = p->err_open = true;
	p->pid = pid;
	uv_poll_start(&p->exit_watch, UV_READABLE, exit_watch_cb);
	uv_read_start((uv_stream_t *)&p->out, alloc_cb, read_cb);
	uv_read_start((uv_stream_t *)&p->err, alloc_cb, read_cb);
	*ret = p;
	return 0;
}

void proc_kill(struct proc *p, unsigned grace_ms)
{
	if (p->exited || p->killing)
		return;
	p->killing = true;
	uv_kill(-p->pid, SIGTERM);
	uv_timer_start(&p->timer, drain_timeout_cb, grace_ms, 0);
}

void proc_pause(struct proc *p)
{
	if (p->paused || p->reported)
		return;
	p->paused = true;
	if (p->out_open)
		uv_read_stop((uv_stream_t *)&p->out);
	if (p->err_open)
		uv_read_stop((uv_stream_t *)&p->err);
	if (p->exited)
		uv_timer_stop(&p->timer); /* no drain deadline while we are not reading */
}

void proc_resume(struct proc *p)
{
	if (!p->paused || p->reported)
		return;
	p->paused = false;
	if (p->out_open)
		uv_read_start((uv_stream_t *)&p->out, alloc_cb, read_cb);
	if (p->err_open)
		uv_read_start((uv_stream_t *)&p->err, alloc_cb, read_cb);
	if (p->exited && p->open_pipes)
		uv_timer_start(&p->timer, drain_timeout_cb, DRAIN_MS, 0);
}

int proc_pid(const struct proc *p)
{
	return p->pid;
}

void proc_set_ctx(struct proc *p, void *ctx)
{
	p->ctx = ctx;
}
