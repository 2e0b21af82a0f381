/*
 * share.c - a run's side of the in-flight table (inflight.h): one task hash,
 * one execution, however many requests of this engine want it.
 *
 * A cacheable task that misses the cache claims its hash in the table before
 * it takes the cross-process task lock, on the thread pool in the same step
 * (cachework.c): nobody in this engine had it, so the job is the owner and
 * its preparation goes on (lock, look up again, run).  Somebody has it: the
 * op comes back to the loop (share_missed) and the job follows the owner's
 * job instead.  A follower takes no lock, no process slot and stores
 * nothing; it gets the owner's task-start (or, joining late, task-start and
 * the output so far), every output frame, the processes' pids and the
 * task-end, under its own task number, and its run goes on from there as if
 * it had run the task.
 *
 * Leaving (Ctrl-C, a closed connection, the engine stopping) gives up one
 * request's interest only: a follower is taken out; an owner whose task runs
 * hands the job over to its earliest follower (processes, output so far, the
 * task lock and the manifest move to that follower's job, which stores the
 * entry); an owner nobody follows is stopped as before.  An owner that stops
 * before it runs anything (canceled while it waited for the lock, or its
 * lookup hit after all) closes the job, and its followers prepare again.
 *
 * The job stays in the table until the owner's store is done, so a request
 * arriving meanwhile waits for that and then restores the entry.
 */
#include <stdlib.h>
#include <string.h>

#include "host.h"
#include "inflight.h"
#include "run.h"

struct inflight *share_table(const struct run *run)
{
	return run->rq->host ? run->rq->host->inflight : NULL;
}

bool share_claim(struct run *run, struct job *j, struct inflight_job **ret_sj)
{
	bool claimed;
	*ret_sj = inflight_claim(share_table(run), run->tg->tasks[j->index].hash, j, &claimed);
	return claimed;
}

/* Pause the owner's processes while its own client or any follower's is slow. */
static void owner_repause(struct job *owner)
{
	struct inflight_job *sj = owner->shared;
	bool slow = owner->run->paused;
	for (size_t i = 0; sj && !slow && i < inflight_nsubs(sj); i++)
		slow = inflight_sub(sj, i)->run->paused;
	job_set_paused(owner, slow);
}

/* Follower f starts: task-start, the output so far, the live processes. */
static void follow_start(struct job *f, struct job *owner)
{
	struct run *run = f->run;
	sched_start_noslot(&run->sched, f->index);
	run__task_start_event(run, f, NULL);
	run__task_output(run, f, 1, owner->term.buf, owner->term.len);
	for (size_t k = 0; k < owner->nprocs; k++)
		if (owner->procs[k])
			run__proc_started(run, f, proc_pid(owner->procs[k]));
}

/* Follower f's job waits for another engine's task lock: say so, as its owner did. */
static void say_waiting(struct job *f)
{
	request_message(f->run->rq, "info", "waiting for another bld running %s",
	                f->run->tg->tasks[f->index].id);
}

void share_missed(struct run *run, struct job *j)
{
	if (run->canceled || run->sched.stopped) {
		run__task_prepared(run, j, false, NULL); /* abandons it */
		return;
	}
	struct inflight_job *sj = NULL;
	bool claimed = !share_table(run) || share_claim(run, j, &sj);
	j->shared = sj;
	if (claimed) { /* its job was closed since the worker looked */
		cachework_prepare_claimed(run, j);
		return;
	}
	j->follows = true;
	j->record = true; /* its output, should it store the result into its own cache */
	inflight_subscribe(sj, j);
	if (inflight_phase(sj) == INFLIGHT_CLAIMED && inflight_owner(sj)->lock_said)
		say_waiting(j);
	if (inflight_phase(sj) == INFLIGHT_RUNNING && inflight_started(sj)) {
		follow_start(j, inflight_owner(sj));
		owner_repause(inflight_owner(sj));
	}
}

/* Take the owner's job out of the table; whoever still waited for it
 * prepares again (looks the hash up: the entry is there, or claims it). */
static void close_job(struct job *owner)
{
	struct inflight_job *sj = owner->shared;
	struct job **subs;
	size_t n;
	owner->shared = NULL;
	inflight_close(share_table(owner->run), sj, &subs, &n);
	for (size_t i = 0; i < n; i++) {
		subs[i]->shared = NULL;
		subs[i]->follows = false;
		cachework_prepare_again(subs[i]->run, subs[i]);
	}
	free(subs);
}

static bool is_owner(const struct job *j)
{
	return j->shared && !j->follows;
}

void share_prepared(struct job *j, bool hit)
{
	if (!is_owner(j))
		return;
	if (hit)
		close_job(j); /* another engine stored it: followers restore it too */
	else
		inflight_set_phase(j->shared, INFLIGHT_RUNNING);
}

void share_waiting(struct job *j)
{
	if (!is_owner(j))
		return;
	for (size_t i = 0; i < inflight_nsubs(j->shared); i++)
		say_waiting(inflight_sub(j->shared, i));
}

void share_started(struct job *j)
{
	if (!is_owner(j))
		return;
	struct inflight_job *sj = j->shared;
	inflight_set_started(sj);
	for (size_t i = 0; i < inflight_nsubs(sj); i++)
		follow_start(inflight_sub(sj, i), j);
	owner_repause(j);
}

void share_output(struct job *j, int stream, const char *data, size_t len)
{
	if (!is_owner(j) || inflight_phase(j->shared) != INFLIGHT_RUNNING)
		return;
	struct inflight_job *sj = j->shared;
	for (size_t i = 0; i < inflight_nsubs(sj); i++) {
		struct job *f = inflight_sub(sj, i);
		run__task_output(f->run, f, stream, data, len);
	}
	if (inflight_nsubs(sj))
		owner_repause(j);
}

void share_spawned(struct job *j, int pid)
{
	if (!is_owner(j) || inflight_phase(j->shared) != INFLIGHT_RUNNING)
		return;
	struct inflight_job *sj = j->shared;
	for (size_t i = 0; i < inflight_nsubs(sj); i++) {
		struct job *f = inflight_sub(sj, i);
		run__proc_started(f->run, f, pid);
	}
}

/* The cache folder run stores into ("" without a cache). */
static const char *cache_folder(const struct run *run)
{
	return run->cache && run->rq->cache_dir ? run->rq->cache_dir : "";
}

void share_done(struct job *j, bool ok)
{
	if (!is_owner(j) || inflight_phase(j->shared) != INFLIGHT_RUNNING)
		return;
	inflight_set_phase(j->shared, INFLIGHT_ENDED);
	struct job **subs;
	size_t n;
	inflight_take_subs(j->shared, &subs, &n);
	for (size_t i = 0; i < n; i++) {
		struct job *f = subs[i];
		f->shared = NULL; /* f->follows stays: its run stores nothing for it, */
		/* unless it stores into another cache (BLD_CACHE_DIR) than the owner's:
		 * then it stores the outputs on disk, which the owner's store reads too */
		f->store_own = strcmp(cache_folder(f->run), cache_folder(j->run)) != 0;
		f->exit_code = j->exit_code;
		run__task_done(f->run, f, ok); /* may end f's run */
	}
	free(subs);
}

void share_stored(struct job *j)
{
	if (is_owner(j))
		close_job(j);
}

void share_follower_paused(struct job *f)
{
	if (f->shared && f->follows)
		owner_repause(inflight_owner(f->shared));
}

/* The owner j leaves a running job: heir takes it over. */
static void hand_over(struct job *j, struct job *heir)
{
	bool started = inflight_started(j->shared);
	j->shared = NULL;
	j->follows = true; /* its task is run by another request's job now */
	heir->follows = false;
	job_move(heir, j);
	if (started)
		owner_repause(heir);
	else
		run__task_prepared(heir->run, heir, false, NULL); /* a miss: run it there */
}

bool share_leave(struct job *j)
{
	struct inflight_job *sj = j->shared;
	if (!sj)
		return j->follows;
	if (j->follows) {
		struct job *owner = inflight_owner(sj);
		inflight_unsubscribe(sj, j);
		j->shared = NULL;
		owner_repause(owner);
		return true;
	}
	if (inflight_phase(sj) == INFLIGHT_ENDED)
		return false; /* being stored: the store closes it */
	struct job *heir = inflight_phase(sj) == INFLIGHT_RUNNING ? inflight_hand_over(sj) : NULL;
	if (!heir) {
		close_job(j);
		return false;
	}
	hand_over(j, heir);
	return true;
}
