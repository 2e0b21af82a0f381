/*
 * run.h - the state of one `run` / `run-many` request, shared by run.c
 * (setup, scheduling, cache, events) and job.c (executing one task).
 */
#ifndef BLD_RUN_H
#define BLD_RUN_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "bld/cache.h"
#include "bld/remote.h"
#include "bld/taskgraph.h"
#include "bld/workspace.h"
#include "engine_int.h"
#include "env.h"
#include "exec.h"
#include "inflight.h"
#include "proc.h"
#include "scheduler.h"

#define RUN_KILL_GRACE_MS 2000
#define RUN_FRAME_CHUNK (1u << 20) /* largest output frame sent */

/* One task being executed. */
struct job {
	struct run *run; /* borrowed back pointer */
	int index;       /* into run->tg->tasks */
	struct exec_plan plan; /* borrowed from the graph's kept plans (run.c, plan_jobs) */
	bool planned;        /* plan was built (ok) */
	struct envset env;   /* the processes' environment */
	struct proc **procs; /* live processes (NULL once exited) */
	size_t nprocs;
	size_t next_cmd;     /* serial mode: next command to start */
	int live;            /* processes still running */
	int exit_code;       /* first non-zero exit, else 0 */
	bool started, ended; /* task-start / task-end sent */
	bool detached;       /* readyWhen met: the task counts as done, processes live on */
	bool *ready_seen;    /* per readyWhen text */
	struct sbuf tail;    /* last bytes of output, for readyWhen across chunks */
	struct sbuf term;    /* recorded terminal output (for the cache) */
	bool record;         /* record output for the cache */
	uint64_t start_ms;
	char *manifest; /* owned input manifest (JSON text; the hasher's tree is far
	                 * bigger, and a cold build prepares many tasks ahead), or NULL */
	struct cache_task_lock *lock; /* owned: held from a miss until the task's store */
	bool lock_wait;               /* another engine runs this task: retry (cachework.c) */
	bool lock_said;               /* "waiting for another bld" was said */
	bool remote_hit; /* restored from an artifact of the remote cache */
	bool pre_hit;    /* restored by the run's first pool trip (cachework_presolve) */
	struct cache_entry pre_entry; /* its entry (owned while pre_hit) */
	/* share.c: the in-flight job this one owns or follows, or NULL */
	struct inflight_job *shared;
	bool follows; /* another request's job runs (or ran) the task: store nothing */
	bool store_own; /* ...but that job stored into another cache folder: store the
	                 * result into this run's own too (share_done) */
};

struct run {
	struct request *rq;    /* borrowed; owns this run */
	struct workspace *ws;  /* borrowed from the request's snapshot */
	struct task_graph *tg; /* owned */
	struct cache *cache;   /* owned, NULL when unavailable */
	bool cache_opened;     /* cache was opened (early, for --shard) */
	struct hasher *hasher; /* owned, NULL when unavailable */
	struct store_backend *remote; /* owned, NULL when no remote cache is configured */
	bool draining, drained; /* cachework_drain: waiting for uploads / done */
	struct sched sched;
	struct job *jobs;    /* owned, one per task */
	struct strvec hints; /* said after a setup error */
	cJSON *overrides;    /* owned, or NULL */
	bool skip_cache;
	bool verbose;
	atomic_bool canceled; /* written on the loop thread, read by cache work on the pool */
	bool ending; /* the scheduler is done; waiting for processes to go */
	bool pumping, pump_again;
	int live_procs;
	int hits, ran, failed, skipped;
	struct cache_op *ops_head, *ops_tail; /* cachework.c: queued operations (FIFO) */
	struct cache_batch *batch_running;    /* the batch on the thread pool, or NULL */
	uv_timer_t *retry_timer;              /* cachework.c: retries tasks waiting for a lock */
	bool debug;                           /* BLD_DEBUG: phase timings */
	bool stats;                           /* --verbose or BLD_DEBUG: where the time went */
	struct run_stats {                    /* ns, summed over the run's tasks */
		uint64_t graph, hash, lookup, restore, store, spawn;
	} st;
	unsigned trips, prepare_trips;        /* cache work sent to the pool; of it, preparing tasks */
	bool paused;                          /* processes' output is not read (client is slow) */
	uint64_t t_start;                     /* when tasks started (ns), for the timing */
	struct sbuf ev;                       /* the event being written (run.c), reused */
	const struct plans *plans;            /* the graph's kept plans (run.c, plan_jobs) */
};

/* events.c: the run's task messages as JSON text (out is emptied first). */
/* What a task's events always say, escaped once: ,"id":..,"project":.. then
 * ,"commands":[..] (the first id_len bytes are the id alone). */
struct event_frags {
	char *text; /* owned */
	size_t id_len, head_len, len;
};
/* The fragments of task t, whose commands are the plan's (NULL: none planned). */
void event_frags_init(struct event_frags *f, const struct task *t, const struct strvec *commands);
void event_frags_release(struct event_frags *f);
/* task-start of task index t (f its fragments); cache: where a hit comes from
 * ("local", "remote") or NULL; shared: another request runs it. */
void event_task_start(struct sbuf *out, int index, const struct task *t,
                      const struct event_frags *f, const char *cache, bool shared);
/* task-end of task index (f its fragments): status, cache state, its time, exit code. */
void event_task_end(struct sbuf *out, int index, const struct event_frags *f, const char *status,
                    const char *cache, uint64_t ms, int exit_code, bool shared);

/* job.c */
/* Start the processes of job j (its plan is built).  Failure to start ends the task. */
void job_spawn(struct job *j);
/* Run a native (in-engine) executor to completion. */
void job_run_native(struct job *j);
/* Stop every live process of j. */
void job_kill(struct job *j);
/* Stop / restart reading j's processes' output. */
void job_set_paused(struct job *j, bool paused);
/* The task's execution moves from `from` to `to`, a job of another request
 * for the same task hash: its processes, environment, output so far, exit
 * code, task lock and manifest (to's unused ones go to from). */
void job_move(struct job *to, struct job *from);
void job_release(struct job *j);

/* cachework.c: the cache work of a run, one operation at a time on the thread pool. */
struct cache_op;
struct cache_batch;
/* Hash j, look it up, restore a hit; then run__task_prepared on the loop
 * (a cacheable miss goes to share_missed first). */
void cachework_prepare(struct run *run, struct job *j);
/* Before the first task starts: in one pool trip, hash, look up and restore
 * every task whose dependencies all hit that way (j->pre_hit), then pump.
 * False when there is nothing to do that way (the caller pumps). */
bool cachework_presolve(struct run *run);
/* j claimed its hash in the in-flight table: take the task lock, look up
 * again, then run__task_prepared (or wait for another engine's lock). */
void cachework_prepare_claimed(struct run *run, struct job *j);
/* The in-flight job j followed went away: prepare j again (it is hashed). */
void cachework_prepare_again(struct run *run, struct job *j);
/* Task j ended: store its outputs when store (and it is cacheable), record the run. */
void cachework_finish(struct run *run, struct job *j, bool store, int exit_code, uint64_t ms);
/* Send what pump queued to the pool, as one batch: the tasks that became
 * ready together are prepared in one trip and start in one loop iteration
 * (one's output is not shown alone before the others start). */
void cachework_kick(struct run *run);
/* No cache operation queued or running. */
bool cachework_idle(const struct run *run);
/* The run is canceled: tasks waiting for another engine's lock are abandoned. */
void cachework_stop_waiting(struct run *run);
/* Close the retry timer (freed in its close callback). */
void cachework_release(struct run *run);
/* At the end of a run: wait (off the loop, bounded) for its remote uploads and
 * say their warnings, then run__cache_idle.  False when there is nothing to
 * wait for (no remote, done already, canceled). */
bool cachework_drain(struct run *run);

/* share.c: the run's side of the in-flight table (inflight.h).  Each is a
 * no-op for a job that neither owns nor follows an in-flight job. */
/* The in-flight table of the run's workspace host, or NULL (nothing is shared). */
struct inflight *share_table(const struct run *run);
/* Claim job j's task hash in the table (any thread).  True when j owns it
 * now; *ret_sj is the table's job either way. */
bool share_claim(struct run *run, struct job *j, struct inflight_job **ret_sj);
/* j's cacheable task missed and its hash was claimed by another request: follow
 * that job (or, closed since, claim it and go on: cachework_prepare_claimed). */
void share_missed(struct run *run, struct job *j);
/* The owner's claimed preparation came back: a hit closes the job (followers
 * prepare again and restore); a miss: it runs. */
void share_prepared(struct job *j, bool hit);
/* The owner starts waiting for another engine's task lock: followers are told. */
void share_waiting(struct job *j);
/* The owner's task-start was sent: followers start too. */
void share_started(struct job *j);
/* The owner's output: to every follower. */
void share_output(struct job *j, int stream, const char *data, size_t len);
/* A process of the owner's task started. */
void share_spawned(struct job *j, int pid);
/* The owner's task ended (ok or not): every follower's task ends the same way. */
void share_done(struct job *j, bool ok);
/* The owner's store is done: the job leaves the table. */
void share_stored(struct job *j);
/* Follower f's run paused or resumed reading: so does the owner's task. */
void share_follower_paused(struct job *f);
/* j's run no longer wants j's task (canceled, stopped, freed).  True when j
 * follows another request's job (or handed its own over): there is nothing of
 * j to kill, and a started task of j ends as canceled.  False: stop j as
 * ever (nobody else wants its processes). */
bool share_leave(struct job *j);

/* run.c: callbacks from job.c and cachework.c */
/* Task j was hashed (and restored when hit; e is then the entry, released by the callee). */
void run__task_prepared(struct run *run, struct job *j, bool hit, struct cache_entry *e);
/* A cache operation without a task follow-up ended. */
void run__cache_idle(struct run *run);
void run__task_output(struct run *run, struct job *j, int stream, const char *data, size_t len);
/* The task's work is over (ok or not); updates the scheduler and pumps. */
void run__task_done(struct run *run, struct job *j, bool ok);
/* Continuous task j is up (readyWhen seen, or started). */
void run__task_up(struct run *run, struct job *j);
/* A process of task j started (its pid is also its process group). */
void run__proc_started(struct run *run, struct job *j, int pid);
/* A process of the run exited (after run__task_done bookkeeping). */
void run__proc_gone(struct run *run);
/* Send task-start for j. */
void run__task_start_event(struct run *run, struct job *j, const char *cache);

#endif
