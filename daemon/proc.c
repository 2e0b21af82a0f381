/*
 * proc.c - child processes over libuv.  See proc.h.
 *
 * Four handles per proc (process, two pipes, a timer); the proc is freed in
 * the close callback of the last one.  The timer serves two purposes, one at
 * a time: escalating SIGTERM to SIGKILL, and bounding the wait for the pipes'
 * end of file after the process exited (a background grandchild may hold
 * them open).
 */
#include "proc.h"

#include <signal.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "bld/base.h"

#define DRAIN_MS 200

struct proc {
	uv_process_t process;
	uv_pipe_t out, err;
	uv_timer_t timer;
	int open_handles;
	int open_pipes;
	bool exited, reported, killing;
	bool paused;             /* reading stopped: the client is slow (backpressure) */
	bool out_open, err_open; /* pipes not yet at end of file */
	int exit_code;
	int pid;
	proc_output_fn on_output;
	proc_exit_fn on_exit;
	void *ctx;
	char buf[65536];
};

static void closed_cb(uv_handle_t *h)
{
	struct proc *p = h->data;
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
	close_handle(p, (uv_handle_t *)&p->process);
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

static void exit_cb(uv_process_t *pr, int64_t status, int term_signal)
{
	struct proc *p = pr->data;
	p->exited = true;
	p->exit_code = term_signal ? 128 + term_signal : (int)status;
	if (p->killing)
		uv_kill(-p->pid, SIGKILL); /* leftovers of the group */
	uv_timer_stop(&p->timer);
	if (p->open_pipes && !p->paused)
		uv_timer_start(&p->timer, drain_timeout_cb, DRAIN_MS, 0);
	maybe_report(p);
}

int proc_spawn(uv_loop_t *loop, const struct proc_opts *o, struct proc **ret, struct bld_err *err)
{
	struct proc *p = xcalloc(1, sizeof(*p));
	p->on_output = o->on_output;
	p->on_exit = o->on_exit;
	p->ctx = o->ctx;
	uv_pipe_init(loop, &p->out, 0);
	uv_pipe_init(loop, &p->err, 0);
	uv_timer_init(loop, &p->timer);
	p->out.data = p->err.data = p->timer.data = p->process.data = p;
	p->open_handles = 3;

	char *args[] = {"/bin/sh", "-c", (char *)o->command, NULL};
	uv_stdio_container_t stdio[3] = {
	    {.flags = UV_IGNORE},
	    {.flags = UV_CREATE_PIPE | UV_WRITABLE_PIPE, .data.stream = (uv_stream_t *)&p->out},
	    {.flags = UV_CREATE_PIPE | UV_WRITABLE_PIPE, .data.stream = (uv_stream_t *)&p->err},
	};
	uv_process_options_t po = {
	    .exit_cb = exit_cb,
	    .file = args[0],
	    .args = args,
	    .env = o->env,
	    .cwd = o->cwd,
	    .flags = UV_PROCESS_DETACHED, /* setsid: its own process group */
	    .stdio_count = 3,
	    .stdio = stdio,
	};
	int rc = uv_spawn(loop, &p->process, &po);
	if (rc < 0) {
		/* the process handle is initialised even on failure: close it too */
		p->open_handles = 4;
		p->reported = true;
		close_handle(p, (uv_handle_t *)&p->out);
		close_handle(p, (uv_handle_t *)&p->err);
		close_handle(p, (uv_handle_t *)&p->timer);
		close_handle(p, (uv_handle_t *)&p->process);
		return bld_err_set(err, rc, "cannot start /bin/sh in %s: %s", o->cwd,
		                   uv_strerror(rc));
	}
	p->open_handles = 4;
	p->open_pipes = 2;
	p->out_open = p->err_open = true;
	p->pid = p->process.pid;
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
