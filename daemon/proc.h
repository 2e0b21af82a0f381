/*
 * proc.h - one child process: spawned through libuv in its own session and
 * process group, stdout and stderr through pipes, streamed to a callback.
 *
 * The exit callback fires once, after the process exited and its pipes
 * reached end of file (or a short drain time passed), so every byte of output
 * is delivered first.  After it the proc closes its handles and frees itself
 * in their close callbacks: the caller must forget the pointer.
 */
#ifndef BLD_PROC_H
#define BLD_PROC_H

#include <stddef.h>

#include <uv.h>

#include "bld/err.h"

struct proc;

/* stream: 1 stdout, 2 stderr; data borrowed for the call. */
typedef void (*proc_output_fn)(void *ctx, struct proc *p, int stream, const char *data, size_t len);
/* exit_code: the process's status, or 128 + signal. */
typedef void (*proc_exit_fn)(void *ctx, struct proc *p, int exit_code);

struct proc_opts {
	const char *command; /* run with /bin/sh -c */
	const char *cwd;     /* absolute */
	char **env;          /* NULL-terminated "K=V", borrowed for the call */
	proc_output_fn on_output;
	proc_exit_fn on_exit;
	void *ctx;
};

/* Spawn; 0 and *ret (owned by the loop until on_exit returns), or -errno (err). */
int proc_spawn(uv_loop_t *loop, const struct proc_opts *o, struct proc **ret, struct bld_err *err);
/* SIGTERM to the process group now, SIGKILL after grace_ms if still alive. */
void proc_kill(struct proc *p, unsigned grace_ms);
/* Stop / restart reading the process's output (the client cannot keep up); the
 * process blocks on a full pipe meanwhile. */
void proc_pause(struct proc *p);
void proc_resume(struct proc *p);
/* Process id (for messages). */
int proc_pid(const struct proc *p);
/* From now on pass ctx to the callbacks (the task moved to another job). */
void proc_set_ctx(struct proc *p, void *ctx);

#endif
