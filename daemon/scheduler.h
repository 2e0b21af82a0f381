/*
 * scheduler.h - the scheduler: which task may start next.  Pure logic over a task
 * graph, no processes and no libuv, so it is unit-tested alone.
 *
 * A task moves WAITING -> READY (its dependencies are done) -> PREPARING
 * (hash and cache lookup, optional) -> QUEUED (it needs a process slot) ->
 * RUNNING -> OK / FAILED, or to SKIPPED when a dependency failed or the run
 * was stopped.  Tasks that need no slot (cache
 * restores, nx:noop, continuous tasks) go READY -> RUNNING directly.
 * Among ready or queued tasks the one with the longest remaining path starts
 * first.  Ready tasks are handed out for preparing only while fewer than
 * `ahead` tasks are PREPARING or QUEUED: a miss keeps its input manifest and
 * its task lock from its preparing to its store, so preparing a whole wide
 * graph ahead of two process slots held 10,000 of each at once (a cold build
 * of 10,000 tasks peaked at 600 MB).  A continuous task releases its dependents once it is "ready"
 * (started, or its readyWhen text was seen) and does not hold a slot.
 */
#ifndef BLD_SCHED_H
#define BLD_SCHED_H

#include <stdbool.h>
#include <stddef.h>

#include "bld/taskgraph.h"

enum sched_state {
	SCHED_WAITING,
	SCHED_READY,
	SCHED_PREPARING, /* being hashed / looked up in the cache */
	SCHED_QUEUED,
	SCHED_RUNNING,
	SCHED_OK,
	SCHED_FAILED,
	SCHED_SKIPPED,
};

struct sched_task {
	enum sched_state state;
	int pending;      /* dependencies not yet done (or released) */
	int priority;     /* longest path to a sink, counting this task */
	bool slot;        /* holds a process slot */
	bool released;    /* dependents were told this task is done or ready */
	bool must_finish; /* the run waits for it: not continuous, or continuous and requested */
};

/* A binary max-heap of task indices ordered by priority (ties: lower index first). */
struct sched_heap {
	int *v;
	size_t n, cap;
};

/* The look-ahead: this many tasks per process slot, and this many more. */
#define SCHED_AHEAD_PER_SLOT 4
#define SCHED_AHEAD_MIN 16

struct sched {
	const struct task_graph *tg; /* borrowed */
	struct sched_task *t;        /* owned, tg->ntasks entries */
	size_t n;
	struct sched_heap ready, queued;
	int parallel; /* process slots */
	int ahead;     /* most tasks PREPARING or QUEUED at once (sched_pop_ready) */
	int ahead_now; /* tasks PREPARING or QUEUED now */
	int running;  /* slots in use */
	int active;   /* tasks RUNNING (with or without a slot) */
	size_t open;  /* must_finish tasks not yet OK/FAILED/SKIPPED */
	bool bail;    /* stop starting tasks after the first failure */
	bool stopped; /* no new task starts (bail hit, or canceled) */
	int failed;   /* count of FAILED */
	int *skipped; /* newly skipped tasks, not yet taken */
	size_t nskipped, capskipped;
};

/* Set s up over tg (borrowed for s's life); parallel >= 1. */
void sched_init(struct sched *s, const struct task_graph *tg, int parallel, bool bail);
void sched_release(struct sched *s);
/* The ready task of highest priority (now READY -> caller decides), or -1. */
int sched_pop_ready(struct sched *s);
/* Task i needs a process slot: queue it. */
void sched_enqueue(struct sched *s, int i);
/* The queued task of highest priority when a slot is free (now RUNNING with a slot), or -1. */
int sched_pop_runnable(struct sched *s);
/* Task i (READY) is being prepared (hashed, looked up); the run waits for it. */
void sched_prepare(struct sched *s, int i);
/* Task i (PREPARING) will not run after all (the run stopped meanwhile): SKIPPED. */
void sched_abandon(struct sched *s, int i);
/* Task i (READY or PREPARING) runs without a slot. */
void sched_start_noslot(struct sched *s, int i);
/* Continuous task i is up: its dependents may start. */
void sched_task_up(struct sched *s, int i);
/* Task i ended.  Success releases dependents; failure skips them (transitively). */
void sched_finish(struct sched *s, int i, bool ok);
/* Start nothing more; tasks not yet running will be SKIPPED. */
void sched_stop(struct sched *s);
/* A task newly SKIPPED (its dependency failed, or the run stopped), or -1. */
int sched_pop_skipped(struct sched *s);
/*
 * True when the run is over: nothing the run waits for is still running or
 * could still start.  When stopped, tasks that never started become SKIPPED
 * (take them with sched_pop_skipped).
 */
bool sched_done(struct sched *s);

#endif
