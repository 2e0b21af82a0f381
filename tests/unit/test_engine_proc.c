/*
 * test_engine_proc.c - child processes over libuv: output and exit status,
 * pause and resume, killing the whole process group, and the loop closing
 * to zero afterwards.  Real /bin/sh children.
 */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include <cmocka.h>

#include "proc.h"
#include "bld/base.h"

struct capture {
	struct sbuf out, err;
	int exit_code;
	bool exited;
	struct proc *p;
	uv_timer_t timer;
};

static void on_output(void *ctx, struct proc *p, int stream, const char *data, size_t len)
{
	struct capture *c = ctx;
	sbuf_add(stream == 1 ? &c->out : &c->err, data, len);
}

static void on_exit_cb(void *ctx, struct proc *p, int code)
{
	struct capture *c = ctx;
	c->exited = true;
	c->exit_code = code;
	c->p = NULL;
}

static struct proc *spawn(uv_loop_t *loop, struct capture *c, const char *cmd)
{
	memset(c, 0, sizeof(*c));
	sbuf_init(&c->out);
	sbuf_init(&c->err);
	char *env[] = {"PATH=/usr/bin:/bin", NULL};
	struct proc_opts o = {.command = cmd,
	                      .cwd = "/",
	                      .env = env,
	                      .on_output = on_output,
	                      .on_exit = on_exit_cb,
	                      .ctx = c};
	struct bld_err err;
	bld_err_clear(&err);
	assert_int_equal(proc_spawn(loop, &o, &c->p, &err), 0);
	return c->p;
}

static void capture_release(struct capture *c)
{
	sbuf_release(&c->out);
	sbuf_release(&c->err);
}

static void output_and_exit_status(void **state)
{
	uv_loop_t loop;
	uv_loop_init(&loop);
	struct capture c;
	spawn(&loop, &c, "printf 'a\\0b'; echo err >&2; exit 3");
	uv_run(&loop, UV_RUN_DEFAULT);
	assert_true(c.exited);
	assert_int_equal(c.exit_code, 3);
	assert_int_equal(c.out.len, 3);
	assert_memory_equal(c.out.buf, "a\0b", 3);
	assert_string_equal(c.err.buf, "err\n");
	assert_int_equal(uv_loop_close(&loop), 0);
	capture_release(&c);
}

static void resume_cb(uv_timer_t *t)
{
	struct capture *c = t->data;
	if (c->p)
		proc_resume(c->p);
	uv_close((uv_handle_t *)t, NULL);
}

static void paused_output_is_not_lost(void **state)
{
	uv_loop_t loop;
	uv_loop_init(&loop);
	struct capture c;
	/* more than a pipe holds: the child blocks while we do not read */
	struct proc *p = spawn(&loop, &c, "head -c 300000 /dev/zero");
	proc_pause(p);
	uv_timer_init(&loop, &c.timer);
	c.timer.data = &c;
	uv_timer_start(&c.timer, resume_cb, 300, 0);
	uv_run(&loop, UV_RUN_DEFAULT);
	assert_true(c.exited);
	assert_int_equal(c.exit_code, 0);
	assert_int_equal(c.out.len, 300000);
	assert_int_equal(uv_loop_close(&loop), 0);
	capture_release(&c);
}

/* Running (not gone, not a zombie waiting for its new parent to reap it). */
static bool alive(int pid)
{
	char path[64], *text;
	size_t len;
	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	if (file_read(path, &text, &len) < 0)
		return false;
	const char *close_paren = strrchr(text, ')');
	bool zombie = close_paren && close_paren[1] == ' ' && close_paren[2] == 'Z';
	free(text);
	return !zombie;
}

static void kill_cb(uv_timer_t *t)
{
	struct capture *c = t->data;
	if (c->p)
		proc_kill(c->p, 200);
	uv_close((uv_handle_t *)t, NULL);
}

static void kill_stops_the_process_group_grandchildren_too(void **state)
{
	char pidfile[] = "/tmp/bld-test-proc-XXXXXX";
	int fd = mkstemp(pidfile);
	assert_true(fd >= 0);
	close(fd);
	uv_loop_t loop;
	uv_loop_init(&loop);
	struct capture c;
	char *cmd = xasprintf("trap '' TERM; sleep 30 & echo $! > %s; wait", pidfile);
	spawn(&loop, &c, cmd);
	uv_timer_init(&loop, &c.timer);
	c.timer.data = &c;
	uv_timer_start(&c.timer, kill_cb, 200, 0);
	uint64_t t0 = now_ms();
	uv_run(&loop, UV_RUN_DEFAULT);
	assert_true(c.exited);
	assert_true(c.exit_code > 128); /* killed: 128 + signal */
	assert_true(now_ms() - t0 < 5000);
	char *text;
	size_t len;
	assert_int_equal(file_read(pidfile, &text, &len), 0);
	int grandchild = atoi(text);
	assert_true(grandchild > 1);
	for (int i = 0; i < 50 && alive(grandchild); i++)
		usleep(20 * 1000);
	assert_false(alive(grandchild)); /* SIGKILL reached the whole group */
	free(text);
	free(cmd);
	unlink(pidfile);
	assert_int_equal(uv_loop_close(&loop), 0);
	capture_release(&c);
}

static long minor_faults(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_minflt;
}

/* A spawn must not fork the engine: fork() copies the page tables of the whole
 * engine and write-protects its memory, so the engine's next write to every page
 * faults.  posix_spawn (vfork semantics) leaves the engine's memory alone. */
static void spawning_leaves_the_engines_memory_alone(void **state)
{
	const size_t size = 64u << 20, page = (size_t)sysconf(_SC_PAGESIZE);
	char *mem = xmalloc(size);
	memset(mem, 1, size);
	uv_loop_t loop;
	uv_loop_init(&loop);
	struct capture c[4];
	long faults = 0;
	for (int i = 0; i < 4; i++) {
		spawn(&loop, &c[i], "exit 0");
		long f0 = minor_faults();
		for (size_t off = 0; off < size; off += page)
			mem[off] = (char)i;
		faults += minor_faults() - f0;
	}
	uv_run(&loop, UV_RUN_DEFAULT);
	for (int i = 0; i < 4; i++) {
		assert_true(c[i].exited);
		assert_int_equal(c[i].exit_code, 0);
		capture_release(&c[i]);
	}
	/* a fork makes size / page (16,384) faults per spawn */
	assert_true(faults < (long)(size / page / 4));
	assert_int_equal(uv_loop_close(&loop), 0);
	free(mem);
}

/* The engine ignores SIGPIPE and may block signals; the task gets the defaults. */
static void task_gets_default_signals(void **state)
{
	signal(SIGPIPE, SIG_IGN);
	sigset_t block, old;
	sigemptyset(&block);
	sigaddset(&block, SIGTERM);
	sigprocmask(SIG_BLOCK, &block, &old);
	uv_loop_t loop;
	uv_loop_init(&loop);
	struct capture c, d;
	/* ignored on entry, a signal stays ignored in sh: it would survive and echo */
	spawn(&loop, &c, "kill -PIPE $$; echo survived");
	spawn(&loop, &d, "kill -TERM $$; echo survived");
	uv_run(&loop, UV_RUN_DEFAULT);
	sigprocmask(SIG_SETMASK, &old, NULL);
	signal(SIGPIPE, SIG_DFL);
	assert_int_equal(c.exit_code, 128 + SIGPIPE);
	assert_int_equal(c.out.len, 0);
	assert_int_equal(d.exit_code, 128 + SIGTERM);
	assert_int_equal(d.out.len, 0);
	assert_int_equal(uv_loop_close(&loop), 0);
	capture_release(&c);
	capture_release(&d);
}

/* A missing working folder fails the spawn (no child left behind), and says where. */
static void missing_cwd_is_an_error(void **state)
{
	uv_loop_t loop;
	uv_loop_init(&loop);
	char *env[] = {"PATH=/usr/bin:/bin", NULL};
	struct capture c;
	memset(&c, 0, sizeof(c));
	struct proc_opts o = {.command = "true",
	                      .cwd = "/nonexistent/bld-test",
	                      .env = env,
	                      .on_output = on_output,
	                      .on_exit = on_exit_cb,
	                      .ctx = &c};
	struct bld_err err;
	bld_err_clear(&err);
	struct proc *p = NULL;
	assert_true(proc_spawn(&loop, &o, &p, &err) < 0);
	assert_non_null(strstr(err.msg, "/nonexistent/bld-test"));
	uv_run(&loop, UV_RUN_DEFAULT);
	assert_false(c.exited);
	assert_int_equal(uv_loop_close(&loop), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(output_and_exit_status),
	    cmocka_unit_test(paused_output_is_not_lost),
	    cmocka_unit_test(kill_stops_the_process_group_grandchildren_too),
	    cmocka_unit_test(spawning_leaves_the_engines_memory_alone),
	    cmocka_unit_test(task_gets_default_signals),
	    cmocka_unit_test(missing_cwd_is_an_error),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
