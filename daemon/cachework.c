/*
 * cachework.c - the run's cache work off the event loop.
 *
 * Hashing (reading input files), SQLite lookups, restores and stores block,
 * so they run on libuv's thread pool, and their results are applied on the
 * loop thread.  The hasher and the cache are not thread-safe, so a run's
 * cache operations form one FIFO queue executed in order: at most one batch
 * of them is on the pool, and the loop thread never calls the cache or the
 * hasher while one is.  Batching what is queued saves a thread hop per task
 * when many tasks are ready at once.  FIFO order also keeps a task's store ahead of its
 * dependents' lookups.
 *
 *     PREPARE  hash the task; unless --skip-cache: lookup, restore on a hit,
 *              record the hit.  -> run__task_prepared()
 *              A cacheable miss claims its hash in the in-flight table
 *              (inflight.h; taken by another request of this engine: back to
 *              the loop, share_missed, to follow it), then takes the task
 *              lock, looks up again, and on a local miss asks the remote cache
 *              when one is configured (a verified artifact is written into the
 *              local cache, then restored from there).
 *     FINISH   store the outputs of a successful cacheable task, queue its upload
 *              to the remote cache, record the run, release the task lock.
 *
 * At the end of a run, cachework_drain waits on the pool (bounded) for the
 * remote uploads still in flight and says their warnings.
 *
 * The task lock (cache_task_lock_try): a cacheable task that misses is run
 * only by the engine holding its lock (in the engine, by the request that
 * claimed its hash), from before it runs until its entry is
 * stored.  When another engine holds it, the op comes back "busy": the task
 * waits (still PREPARING), says so once, and a timer on the loop re-submits
 * it every CACHEWORK_RETRY_MS as a retry (look up again, then try the lock
 * again) -- the loop never blocks, so Ctrl-C is served while waiting.  Once
 * locked, the entry is looked up again: the other engine may have stored it
 * between our lookup and our lock.
 *
 * Worker functions touch only the op, the task's hash/manifest, the hasher,
 * the cache, and the workspace (read-only); messages are collected in the op
 * and sent from the loop thread.
 */
#include <stdlib.h>
#include <string.h>

#include "host.h"
#include "run.h"

enum op_kind { OP_PRESOLVE, OP_PREPARE, OP_FINISH };

/* At most this many queued operations go to the pool as one work item. */
#define CACHEWORK_BATCH 64
/* How often a task waiting for another engine's lock looks again. */
#define CACHEWORK_RETRY_MS 100

struct cache_op {
	struct run *run;
	struct job *job;
	enum op_kind kind;
	struct cache_op *next;
	/* FINISH input */
	bool store;
	int exit_code;
	uint64_t ms;
	/* PREPARE input: the task is hashed and its request claimed the hash in the
	 * in-flight table (just now, or it waited for another engine's lock since) */
	bool claimed;
	bool hashed; /* hashed already (the batch's prefetch pass, or before) */
	struct inflight *table; /* the run's in-flight table, or NULL */
	/* PREPARE output */
	bool hit;
	bool busy;      /* another engine holds the task's lock: wait and retry */
	bool unclaimed; /* a miss whose hash another request claimed (share_missed) */
	struct inflight_job *sj; /* a miss claimed here: the job's shared job */
	struct cache_entry entry;
	/* both: warnings for the client */
	struct strvec warnings;
	/* both: where the worker's time went (ns), added to run->st by the loop */
	uint64_t t_hash, t_lookup, t_restore, t_store;
};

/* Operations run together on the pool, in order. */
struct cache_batch {
	uv_work_t work; /* first: the uv_work_t's address is the batch's */
	struct run *run;
	struct cache_op *ops;
};

static void op_warn(struct cache_op *op, const char *fmt, const char *a, const char *b)
{
	strvec_push_owned(&op->warnings, xasprintf(fmt, a, b));
}

static bool cacheable(const struct run *run, const struct task *t)
{
	return run->cache && t->cache && !t->continuous && t->hash[0];
}

/* Hash the task; with_manifest: also keep the manifest a store needs (only a
 * miss stores, so a task that is looked up first gets it after a miss). */
static void prepare_hash(struct cache_op *op, bool with_manifest)
{
	struct run *run = op->run;
	struct job *j = op->job;
	struct task *t = &run->tg->tasks[j->index];
	struct bld_err err;
	bld_err_clear(&err);
	cJSON *manifest = NULL;
	uint64_t t0 = now_ns();
	int rc = hasher_task_hash(run->hasher, run->tg, j->index, with_manifest ? &manifest : NULL,
	                          &err);
	op->t_hash += now_ns() - t0;
	if (rc < 0) {
		t->hash[0] = '\0';
		op_warn(op, "%s: hashing failed: %s; the task runs without the cache", t->id,
		        err.msg);
		return;
	}
	free(j->manifest);
	j->manifest = manifest ? cJSON_PrintUnformatted(manifest) : NULL;
	cJSON_Delete(manifest);
}

/* Lookup; 1 hit (op->entry filled), 0 miss, negative error (warned). */
static int lookup(struct cache_op *op)
{
	struct run *run = op->run;
	const struct task *t = &run->tg->tasks[op->job->index];
	struct bld_err err;
	bld_err_clear(&err);
	uint64_t t0 = now_ns();
	int rc = cache_lookup(run->cache, t->hash, &op->entry, &err);
	op->t_lookup += now_ns() - t0;
	if (rc < 0)
		op_warn(op, "%s: cache lookup failed: %s", t->id, err.msg);
	return rc;
}

/* Take the task's lock: true when the task may go on (locked, or the lock
 * failed and it runs unlocked), false when another engine holds it. */
static bool lock_task(struct cache_op *op)
{
	struct run *run = op->run;
	struct job *j = op->job;
	const struct task *t = &run->tg->tasks[j->index];
	struct bld_err err;
	bld_err_clear(&err);
	int rc = cache_task_lock_try(run->cache, t->hash, &j->lock, &err);
	if (rc < 0)
		op_warn(op, "%s: %s; running it without the lock", t->id, err.msg);
	op->busy = rc == 0;
	return rc != 0;
}

/* The cache folder of run's cache when it is its request's (the one the
 * host may vouch for entries of), else NULL. */
static const char *vouch_dir(const struct run *run)
{
	return run->cache == run->rq->cache ? run->rq->cache_dir : NULL;
}

/* Restore op's entry: skipped when trust and the host vouches for its
 * outputs, else checked with the host watching them (host_vouch). */
static int restore_outputs(struct cache_op *op, bool trust, struct bld_err *err)
{
	struct run *run = op->run;
	struct host *h = run->rq->host;
	if (trust && host_vouched(h, vouch_dir(run), &op->entry)) {
		cache_restore_kept(run->cache, &op->entry);
		return 0;
	}
	struct host_vouch v;
	host_vouch_init(&v, h, vouch_dir(run), &op->entry);
	int rc = cache_restore(run->cache, &op->entry, run->ws->root, &v.w, NULL, err);
	host_vouch_end(&v, rc >= 0);
	return rc;
}

/* 1 restored, 0 not (a miss, or a corrupt entry: warned and dropped);
 * source is "local" or "remote" (for the events and the history).  trust:
 * a vouch for the entry's outputs may stand for the check (only while no
 * task of the run has run: their writes may not have been read yet). */
static int restore(struct cache_op *op, const char *source, bool trust)
{
	struct run *run = op->run;
	const struct task *t = &run->tg->tasks[op->job->index];
	struct bld_err err;
	bld_err_clear(&err);
	uint64_t t0 = now_ns();
	int rc = restore_outputs(op, trust, &err);
	op->t_restore += now_ns() - t0;
	if (rc < 0) {
		op_warn(op, "%s: %s; running the task instead", t->id,
		        rc == BLD_ECORRUPT ? "corrupted cache entry" : err.msg);
		cache_entry_release(&op->entry);
		memset(&op->entry, 0, sizeof(op->entry));
		return 0;
	}
	op->hit = true;
	op->job->remote_hit = !strcmp(source, "remote");
	cache_record_run(run->cache, true);
	return 1;
}

/* A local miss: ask the remote cache; its entry (verified there) is copied
 * into the local store, then looked up and restored as any other.  1 restored. */
static int remote_lookup(struct cache_op *op)
{
	struct run *run = op->run;
	const struct task *t = &run->tg->tasks[op->job->index];
	struct bld_err err;
	bld_err_clear(&err);
	int rc = store_copy(run->remote, cache_backend(run->cache), t->hash, t->id, &err);
	store_take_warnings(run->remote, &op->warnings);
	if (rc == BLD_ECORRUPT)
		op_warn(op, "%s: the remote cache's artifact was refused: %s; running the task",
		        t->id, err.msg);
	else if (rc < 0)
		op_warn(op, "%s: a remote cache hit could not be stored locally: %s", t->id,
		        err.msg);
	return rc > 0 && lookup(op) > 0 && restore(op, "remote", false);
}

/* A claimed miss: take the lock and look up again (another engine may have
 * stored it meanwhile); restore a hit, else hash with the manifest a store
 * will want.  A busy lock leaves op->busy set. */
static void prepare_lookup(struct cache_op *op)
{
	struct job *j = op->job;
	if (!lock_task(op))
		return;
	if ((lookup(op) > 0 && restore(op, "local", false)) ||
	    (op->run->remote && remote_lookup(op))) {
		cache_task_lock_release(j->lock); /* stored by the engine we waited for */
		j->lock = NULL;
		return;
	}
	prepare_hash(op, true);
}

/* Queue the upload of the entry just stored (sent in the background; the
 * run's end waits for it, bounded). */
static void upload(struct cache_op *op)
{
	struct run *run = op->run;
	const struct task *t = &run->tg->tasks[op->job->index];
	struct bld_err err;
	bld_err_clear(&err);
	if (store_copy(cache_backend(run->cache), run->remote, t->hash, t->id, &err) < 0)
		op_warn(op, "%s: not uploaded to the remote cache: %s", t->id, err.msg);
	store_take_warnings(run->remote, &op->warnings);
}

/* A follower of another cache's job stores the result into its own cache
 * (share.c, store_own): hashed again for its manifest (the request's hasher
 * answers from the file hashes it read before the task ran, so the hash is the
 * one looked up), and under its own cache's task lock (busy: another engine
 * runs the task against that cache and stores it). */
static bool own_store_ready(struct cache_op *op)
{
	prepare_hash(op, true);
	return op->run->tg->tasks[op->job->index].hash[0] && lock_task(op);
}

static void finish_store(struct cache_op *op)
{
	struct run *run = op->run;
	struct job *j = op->job;
	const struct task *t = &run->tg->tasks[j->index];
	struct bld_err err;
	bld_err_clear(&err);
	uint64_t t0 = now_ns();
	bool store = op->store && cacheable(run, t);
	if (store && j->store_own)
		store = own_store_ready(op);
	if (store) {
		struct strvec outs;
		strvec_init(&outs);
		task_outputs(run->ws, t, &outs);
		if (cache_store(run->cache, t->hash, t->id, run->ws->root, &outs, j->term.buf,
		                j->term.len, op->ms, j->manifest, &err) < 0)
			op_warn(op, "%s: not cached: %s", t->id, err.msg);
		else if (run->remote)
			upload(op);
		strvec_release(&outs);
	}
	/* stored: the manifest (often tens of KB) is not kept to the end of the run */
	free(j->manifest);
	j->manifest = NULL;
	op->t_store += now_ns() - t0;
	if (run->cache && t->hash[0])
		cache_record_run(run->cache, false);
	cache_task_lock_release(j->lock); /* after the store: waiters find the entry */
	j->lock = NULL;
}

/* A miss: claim the hash in the in-flight table.  False when another request
 * of this engine has it (op->unclaimed: the loop makes the job follow it). */
static bool claim(struct cache_op *op)
{
	if (!op->table)
		return true;
	struct inflight_job *sj;
	bool claimed = share_claim(op->run, op->job, &sj);
	if (claimed)
		op->sj = sj;
	op->unclaimed = !claimed;
	return claimed;
}

/*
 * PRESOLVE: the run's first operation, alone on the pool before any task
 * starts.  In dependency order, every task whose dependencies all hit here is
 * hashed, looked up and on a hit restored (recorded as any hit); its job keeps
 * the entry (pre_hit) and start_task replays it with no pool trip.  A fully
 * cached run thus costs one trip instead of one per level of its graph.  A
 * miss or any failure decides nothing: the task and its dependents take the
 * normal path (PREPARE), which hashes again, claims and warns as always; so
 * the warnings here are dropped, but for a failed restore's (the corrupt entry
 * is gone by then: the normal path only misses).
 */
static void presolve(struct cache_op *op)
{
	struct run *run = op->run;
	struct task_graph *tg = run->tg;
	size_t n = tg->ntasks;
	int *waiting = xcalloc(n ? n : 1, sizeof(*waiting)); /* deps not yet hit */
	int *order = xcalloc(n ? n : 1, sizeof(*order));
	size_t head = 0, tail = 0;
	for (size_t i = 0; i < n; i++) {
		waiting[i] = (int)tg->tasks[i].ndeps;
		if (!waiting[i])
			order[tail++] = (int)i;
	}
	while (head < tail && !run->canceled) {
		int i = order[head++];
		struct task *t = &tg->tasks[i];
		struct job *j = &run->jobs[i];
		if (!t->cache || t->continuous)
			continue;
		struct cache_op sub = {.run = run, .job = j, .kind = OP_PREPARE};
		strvec_init(&sub.warnings);
		prepare_hash(&sub, false);
		if (cacheable(run, t) && lookup(&sub) > 0) {
			strvec_release(&sub.warnings);
			strvec_init(&sub.warnings);
			if (restore(&sub, "local", true)) {
				j->pre_hit = true;
				j->pre_entry = sub.entry;
				for (size_t k = 0; k < t->nrdeps; k++)
					if (--waiting[t->rdeps[k]] == 0)
						order[tail++] = t->rdeps[k];
			}
			/* a corrupt entry is dropped: its warning is said here only */
			for (size_t k = 0; k < sub.warnings.n; k++)
				strvec_push(&op->warnings, sub.warnings.v[k]);
		}
		strvec_release(&sub.warnings);
		op->t_hash += sub.t_hash;
		op->t_lookup += sub.t_lookup;
		op->t_restore += sub.t_restore;
	}
	free(waiting);
	free(order);
}

static void op_run(struct cache_op *op)
{
	struct run *run = op->run;
	if (op->kind == OP_PRESOLVE) {
		presolve(op);
		return;
	}
	if (op->kind == OP_FINISH) {
		finish_store(op);
		return;
	}
	if (!run->hasher || run->canceled)
		return;
	const struct task *t = &run->tg->tasks[op->job->index];
	bool look = !run->skip_cache && run->cache && t->cache && !t->continuous;
	if (!op->claimed && !op->hashed)
		prepare_hash(op, !look); /* a hit needs no manifest */
	if (!cacheable(run, t))
		return;
	if (!op->claimed) {
		if (look && lookup(op) > 0 && restore(op, "local", false))
			return;
		if (!claim(op))
			return;
	}
	if (look) {
		prepare_lookup(op);
	} else {
		lock_task(op); /* --skip-cache: it writes the same outputs, so it waits too */
	}
}

/* With a remote cache: hash the batch's new tasks first and start downloading
 * every one the local cache lacks, all at once, so that the lookups that
 * follow in order wait for transfers running in parallel, not one by one. */
static void prefetch(struct cache_batch *b)
{
	struct run *run = b->run;
	if (!run->remote || !run->hasher || run->skip_cache || run->canceled)
		return;
	struct strvec hashes;
	strvec_init(&hashes);
	for (struct cache_op *op = b->ops; op; op = op->next) {
		if (op->kind != OP_PREPARE)
			continue;
		const struct task *t = &run->tg->tasks[op->job->index];
		if (op->claimed || op->hashed || !t->cache ||
		    t->continuous)
			continue;
		prepare_hash(op, false);
		op->hashed = true;
		if (cacheable(run, t) && cache_has(run->cache, t->hash) == 0)
			strvec_push(&hashes, t->hash);
	}
	if (hashes.n > 1)
		store_prefetch(run->remote, (const char *const *)hashes.v, hashes.n);
	strvec_release(&hashes);
}

static void work_cb(uv_work_t *w)
{
	struct cache_batch *b = (struct cache_batch *)w;
	prefetch(b);
	for (struct cache_op *op = b->ops; op; op = op->next)
		op_run(op);
}

static void submit(struct run *run, struct cache_op *op);
static struct cache_op *op_new(struct run *run, struct job *j, enum op_kind kind);

/* Every task waiting for a lock is submitted again as a retry. */
static void retry_cb(uv_timer_t *timer)
{
	struct run *run = timer->data;
	for (size_t i = 0; i < run->tg->ntasks; i++) {
		struct job *j = &run->jobs[i];
		if (!j->lock_wait)
			continue;
		j->lock_wait = false;
		struct cache_op *op = op_new(run, j, OP_PREPARE);
		op->claimed = true;
		submit(run, op);
	}
}

/* Another engine runs j's task: say so once, look again in a while. */
static void wait_for_lock(struct run *run, struct job *j)
{
	if (run->canceled || run->sched.stopped) {
		run__task_prepared(run, j, false, NULL); /* abandons it */
		return;
	}
	if (!j->lock_said) {
		request_message(run->rq, "info", "waiting for another bld running %s",
		                run->tg->tasks[j->index].id);
		share_waiting(j);
	}
	j->lock_said = true;
	j->lock_wait = true;
	if (!run->retry_timer) {
		run->retry_timer = xcalloc(1, sizeof(*run->retry_timer));
		uv_timer_init(&run->rq->d->loop, run->retry_timer);
		run->retry_timer->data = run;
	}
	if (!uv_is_active((uv_handle_t *)run->retry_timer))
		uv_timer_start(run->retry_timer, retry_cb, CACHEWORK_RETRY_MS, 0);
}

void cachework_stop_waiting(struct run *run)
{
	for (size_t i = 0; run->jobs && i < run->tg->ntasks; i++) {
		if (run->jobs[i].lock_wait) {
			run->jobs[i].lock_wait = false;
			sched_abandon(&run->sched, (int)i);
		}
	}
	if (run->retry_timer)
		uv_timer_stop(run->retry_timer);
}

static void free_timer_cb(uv_handle_t *h)
{
	free(h);
}

void cachework_release(struct run *run)
{
	if (run->retry_timer)
		uv_close((uv_handle_t *)run->retry_timer, free_timer_cb);
	run->retry_timer = NULL;
}

/* Apply one op's result on the loop thread; frees op.  The run may end (and be
 * freed) inside: callers touch nothing of it afterwards unless work is pending. */
static void deliver(struct run *run, struct cache_op *op)
{
	for (size_t i = 0; i < op->warnings.n; i++)
		request_message(run->rq, "warn", "%s", op->warnings.v[i]);
	strvec_release(&op->warnings);
	run->st.hash += op->t_hash;
	run->st.lookup += op->t_lookup;
	run->st.restore += op->t_restore;
	run->st.store += op->t_store;
	enum op_kind kind = op->kind;
	struct job *j = op->job;
	bool hit = op->hit, busy = op->busy, unclaimed = op->unclaimed;
	struct cache_entry e = op->entry;
	if (op->sj)
		j->shared = op->sj; /* claimed on the pool: j owns it from now on */
	free(op);
	if (kind == OP_PREPARE && busy) {
		wait_for_lock(run, j);
	} else if (kind == OP_PRESOLVE) {
		run__cache_idle(run); /* the first pump */
	} else if (kind == OP_PREPARE && unclaimed) {
		share_missed(run, j);
	} else if (kind == OP_PREPARE) {
		run__task_prepared(run, j, hit, &e);
	} else {
		share_stored(j);
		run__cache_idle(run);
	}
}

static void start_next(struct run *run);

static void after_cb(uv_work_t *w, int status)
{
	struct cache_batch *b = (struct cache_batch *)w;
	struct run *run = b->run;
	struct cache_op *ops = b->ops;
	free(b);
	/* while batch_running is set the run cannot end: deliver all but the last */
	while (ops->next) {
		struct cache_op *op = ops;
		ops = ops->next;
		deliver(run, op);
	}
	run->batch_running = NULL;
	if (run->ops_head)
		start_next(run);
	deliver(run, ops); /* may end the run: nothing after this */
}

/* Send up to CACHEWORK_BATCH queued ops to the thread pool as one work item. */
static void start_next(struct run *run)
{
	struct cache_batch *b = xcalloc(1, sizeof(*b));
	b->run = run;
	struct cache_op **tail = &b->ops;
	bool prepares = false;
	for (int n = 0; n < CACHEWORK_BATCH && run->ops_head; n++) {
		struct cache_op *op = run->ops_head;
		prepares |= op->kind == OP_PREPARE;
		run->ops_head = op->next;
		op->next = NULL;
		*tail = op;
		tail = &op->next;
	}
	if (!run->ops_head)
		run->ops_tail = NULL;
	run->batch_running = b;
	run->trips++;
	run->prepare_trips += prepares;
	uv_queue_work(&run->rq->d->loop, &b->work, work_cb, after_cb);
}

static void submit(struct run *run, struct cache_op *op)
{
	if (run->ops_tail)
		run->ops_tail->next = op;
	else
		run->ops_head = op;
	run->ops_tail = op;
	if (!run->batch_running && !run->pumping) /* pump kicks once it started all it can */
		start_next(run);
}

void cachework_kick(struct run *run)
{
	if (!run->batch_running && run->ops_head)
		start_next(run);
}

static struct cache_op *op_new(struct run *run, struct job *j, enum op_kind kind)
{
	struct cache_op *op = xcalloc(1, sizeof(*op));
	op->run = run;
	op->job = j;
	op->kind = kind;
	op->table = share_table(run);
	strvec_init(&op->warnings);
	return op;
}

bool cachework_presolve(struct run *run)
{
	if (!run->hasher || !run->cache || run->skip_cache || !run->tg->ntasks)
		return false;
	submit(run, op_new(run, NULL, OP_PRESOLVE));
	return true;
}

void cachework_prepare(struct run *run, struct job *j)
{
	submit(run, op_new(run, j, OP_PREPARE));
}

void cachework_prepare_claimed(struct run *run, struct job *j)
{
	struct cache_op *op = op_new(run, j, OP_PREPARE);
	op->claimed = true;
	submit(run, op);
}

void cachework_prepare_again(struct run *run, struct job *j)
{
	struct cache_op *op = op_new(run, j, OP_PREPARE);
	op->hashed = true;
	submit(run, op);
}

void cachework_finish(struct run *run, struct job *j, bool store, int exit_code, uint64_t ms)
{
	if (!run->cache)
		return;
	j->record = false; /* no more appends to j->term: the worker reads it */
	struct cache_op *op = op_new(run, j, OP_FINISH);
	op->store = store;
	op->exit_code = exit_code;
	op->ms = ms;
	submit(run, op);
}

bool cachework_idle(const struct run *run)
{
	return !run->batch_running && !run->ops_head && !run->draining;
}

/* ---- the end of a run: its uploads ---- */

struct drain {
	uv_work_t work;
	struct run *run;
	struct strvec warnings;
};

static void drain_work_cb(uv_work_t *w)
{
	struct drain *d = (struct drain *)w;
	store_flush(d->run->remote);
	store_take_warnings(d->run->remote, &d->warnings);
}

static void drain_after_cb(uv_work_t *w, int status)
{
	struct drain *d = (struct drain *)w;
	struct run *run = d->run;
	for (size_t i = 0; i < d->warnings.n; i++)
		request_message(run->rq, "warn", "%s", d->warnings.v[i]);
	strvec_release(&d->warnings);
	free(d);
	run->draining = false;
	run->drained = true;
	run__cache_idle(run); /* finishes the run */
}

bool cachework_drain(struct run *run)
{
	if (!run->remote || run->drained || run->canceled)
		return false;
	if (run->draining)
		return true;
	struct drain *d = xcalloc(1, sizeof(*d));
	d->run = run;
	strvec_init(&d->warnings);
	run->draining = true;
	uv_queue_work(&run->rq->d->loop, &d->work, drain_work_cb, drain_after_cb);
	return true;
}

