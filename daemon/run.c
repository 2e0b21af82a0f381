/*
 * run.c - `bld run` and `bld run-many`: workspace -> task graph -> for each
 * task, once its dependencies are done: hash, cache lookup, restore and
 * replay on a hit, else execute (job.c) and store; events to the client.
 *
 * The loop is driven by pump(): start every ready task (hits and no-ops at
 * once, processes while slots are free), and end the run when the scheduler
 * says so and no process is left.
 */
#include <stdlib.h>
#include <string.h>

#include "host.h"
#include "run.h"

static void pump(struct run *run);
static void timing(struct run *run, const char *phase, uint64_t *t0);
static void task_forwarded(const struct task *t, struct strvec *ret);
static const struct event_frags *frags_of(const struct run *run, int i);

/* ---- events ---- */

static const char *task_cache_state(const struct run *run, const struct task *t)
{
	if (!t->cache || t->continuous)
		return "off";
	if (!run->cache)
		return "off";
	return "miss";
}

void run__task_start_event(struct run *run, struct job *j, const char *cache)
{
	const struct task *t = &run->tg->tasks[j->index];
	j->started = true;
	j->start_ms = now_ms();
	event_task_start(&run->ev, j->index, t, frags_of(run, j->index), cache, j->follows);
	request_send_json_text(run->rq, run->ev.buf, run->ev.len);
	share_started(j);
}

static void task_end_event(struct run *run, struct job *j, const char *status, const char *cache)
{
	j->ended = true;
	event_task_end(&run->ev, j->index, frags_of(run, j->index), status, cache,
	               j->started ? now_ms() - j->start_ms : 0, j->exit_code, j->follows);
	request_send_json_text(run->rq, run->ev.buf, run->ev.len);
}

/* Pause or resume reading every live process of the run. */
static void set_paused(struct run *run, bool paused)
{
	run->paused = paused;
	for (size_t i = 0; i < run->tg->ntasks; i++) {
		job_set_paused(&run->jobs[i], paused);
		share_follower_paused(&run->jobs[i]);
	}
}

void run__task_output(struct run *run, struct job *j, int stream, const char *data, size_t len)
{
	if (!len)
		return;
	struct conn *c = run->rq->conn;
	if (c) {
		/* frames stay far below PROTO_MAX_FRAME, whatever a cache entry replays */
		for (size_t off = 0; off < len; off += RUN_FRAME_CHUNK) {
			size_t n = len - off < RUN_FRAME_CHUNK ? len - off : RUN_FRAME_CHUNK;
			conn_send_output(c, (uint32_t)j->index, stream, data + off, n);
		}
		if (!run->paused && conn_write_queue_size(c) > CONN_QUEUE_HIGH)
			set_paused(run, true);
	}
	if (j->record)
		sbuf_add(&j->term, data, len);
	share_output(j, stream, data, len);
}

void run_output_drained(struct run *run)
{
	if (run->paused)
		set_paused(run, false);
}

/* ---- cache (the work itself is in cachework.c) ---- */

static bool cacheable(const struct run *run, const struct task *t)
{
	return run->cache && t->cache && !t->continuous && t->hash[0];
}

/* A cache hit: the outputs are restored; replay the recorded output. */
static void replay_hit(struct run *run, struct job *j, struct cache_entry *e)
{
	sched_start_noslot(&run->sched, j->index);
	const char *source = j->remote_hit ? "remote" : "local";
	run__task_start_event(run, j, source);
	j->record = false;
	run__task_output(run, j, 1, e->terminal, e->terminal_len);
	j->exit_code = e->exit_code;
	task_end_event(run, j, "success", source);
	run->hits++;
	sched_finish(&run->sched, j->index, true);
}

/* ---- task lifecycle ---- */

void run__task_up(struct run *run, struct job *j)
{
	sched_task_up(&run->sched, j->index);
	pump(run);
}

/* Task j ended: store it (unless another request's job ran it), task-end, and the
 * same for the requests following it; the caller pumps. */
static void task_end(struct run *run, struct job *j, bool ok)
{
	const struct task *t = &run->tg->tasks[j->index];
	uint64_t ms = now_ms() - j->start_ms;
	const char *status = ok ? "success" : (run->canceled ? "canceled" : "failure");
	if (!ok && !j->exit_code)
		j->exit_code = 1;
	if (!j->follows || j->store_own)
		cachework_finish(run, j, ok && !run->canceled, j->exit_code, ms);
	task_end_event(run, j, status, task_cache_state(run, t));
	share_done(j, ok);
	if (!ok)
		run->failed++;
	run->ran++;
	sched_finish(&run->sched, j->index, ok);
}

void run__task_done(struct run *run, struct job *j, bool ok)
{
	if (j->ended)
		return;
	if (run->ending) {
		j->ended = true; /* a continuous dependency stopped at the end of the run */
		return;
	}
	task_end(run, j, ok);
	pump(run);
}

/* Task i is ready: hash it and look it up off the loop; run__task_prepared continues. */
static void start_task(struct run *run, int i)
{
	sched_prepare(&run->sched, i);
	struct job *j = &run->jobs[i];
	if (j->pre_hit) { /* restored by the run's first pool trip */
		struct cache_entry e = j->pre_entry;
		j->pre_hit = false;
		run__task_prepared(run, j, true, &e);
		return;
	}
	if (!run->hasher) {
		run__task_prepared(run, &run->jobs[i], false, NULL);
		return;
	}
	cachework_prepare(run, &run->jobs[i]);
}

/* Start j's processes, timed for the run's stats. */
static void spawn(struct run *run, struct job *j)
{
	uint64_t t0 = now_ns();
	job_spawn(j);
	run->st.spawn += now_ns() - t0;
}

/* Execute task j (a miss, or not cacheable). */
static void execute(struct run *run, struct job *j)
{
	int i = j->index;
	const struct task *t = &run->tg->tasks[i];
	j->record = cacheable(run, t);
	if (!j->planned) {
		/* bad options: the task fails, naming the problem */
		sched_start_noslot(&run->sched, i);
		run__task_start_event(run, j, NULL);
		run__task_done(run, j, false);
		return;
	}
	if (j->plan.kind == EXEC_NOOP || j->plan.kind == EXEC_OPENAPI) {
		sched_start_noslot(&run->sched, i);
		run__task_start_event(run, j, NULL);
		if (j->plan.kind == EXEC_NOOP)
			run__task_done(run, j, true);
		else
			job_run_native(j);
		return;
	}
	if (t->continuous) {
		sched_start_noslot(&run->sched, i);
		run__task_start_event(run, j, NULL);
		spawn(run, j);
		return;
	}
	sched_enqueue(&run->sched, i);
}

void run__task_prepared(struct run *run, struct job *j, bool hit, struct cache_entry *e)
{
	if (run->canceled || run->sched.stopped) {
		share_leave(j);
		sched_abandon(&run->sched, j->index);
	} else if (hit) {
		share_prepared(j, true);
		replay_hit(run, j, e);
	} else {
		share_prepared(j, false);
		execute(run, j);
	}
	if (e)
		cache_entry_release(e);
	pump(run);
}

void run__cache_idle(struct run *run)
{
	pump(run);
}

static void skipped_events(struct run *run)
{
	int i;
	while ((i = sched_pop_skipped(&run->sched)) >= 0) {
		struct job *j = &run->jobs[i];
		share_leave(j); /* a queued task others follow: one of them runs it */
		if (j->ended)
			continue;
		run->skipped++;
		task_end_event(run, j, "skipped", "off");
	}
}

/* --verbose or BLD_DEBUG: where the request's time went, on the daemon's side. */
static void say_stats(struct run *run)
{
	if (!run->stats)
		return;
	const struct run_stats *s = &run->st;
	struct request *rq = run->rq;
	request_message(rq, "info",
	                "bld: daemon: %.2f ms: host %.2f ms (generation %llu), graph %.2f ms, "
	                "hashing %.2f ms, lookup %.2f ms, restore %.2f ms, store %.2f ms, "
	                "spawn %.2f ms; %zu tasks, %d from the cache, %d run; %u pool trips, %u preparing tasks",
	                (double)(now_ns() - rq->t_start_ns) / 1e6, (double)rq->t_host_ns / 1e6,
	                rq->snap ? (unsigned long long)rq->snap->generation : 0ULL,
	                (double)s->graph / 1e6, (double)s->hash / 1e6, (double)s->lookup / 1e6,
	                (double)s->restore / 1e6, (double)s->store / 1e6, (double)s->spawn / 1e6,
	                run->tg ? run->tg->ntasks : 0, run->hits, run->ran, run->trips,
	                run->prepare_trips);
}

static void run_finish(struct run *run)
{
	if (cachework_drain(run))
		return; /* back through run__cache_idle once the uploads are done */
	timing(run, "tasks", &run->t_start);
	say_stats(run);
	int code = run->canceled ? 130 : (run->failed || run->skipped) ? 1 : 0;
	struct request *rq = run->rq;
	request_finish(rq, code); /* frees the request and this run */
}

/* j's run leaves a task another request's job runs: a started one ends as
 * canceled here, one still waiting for that job is abandoned. */
static void stop_following(struct run *run, struct job *j)
{
	if (j->ended)
		return;
	if (j->started)
		task_end(run, j, false);
	else if (run->sched.t[j->index].state == SCHED_PREPARING)
		sched_abandon(&run->sched, j->index);
}

/* Stop every task of the run; a task other requests also want goes on for them. */
static void kill_all(struct run *run)
{
	for (size_t i = 0; i < run->tg->ntasks; i++) {
		struct job *j = &run->jobs[i];
		if (share_leave(j))
			stop_following(run, j);
		else
			job_kill(j);
	}
}

static void pump(struct run *run)
{
	if (run->pumping) {
		run->pump_again = true;
		return;
	}
	run->pumping = true;
	do {
		run->pump_again = false;
		int i;
		while ((i = sched_pop_ready(&run->sched)) >= 0)
			start_task(run, i);
		while ((i = sched_pop_runnable(&run->sched)) >= 0) {
			run__task_start_event(run, &run->jobs[i], NULL);
			spawn(run, &run->jobs[i]);
		}
		skipped_events(run);
	} while (run->pump_again);
	run->pumping = false;
	cachework_kick(run);
	if (!run->ending && sched_done(&run->sched)) {
		skipped_events(run);
		run->ending = true;
		kill_all(run); /* continuous dependencies and readyWhen-detached processes */
	}
	if (run->ending && run->live_procs == 0 && cachework_idle(run))
		run_finish(run);
}

void run__proc_started(struct run *run, struct job *j, int pid)
{
	/* the client kills these process groups itself should the engine die */
	cJSON *m = cJSON_CreateObject();
	cJSON_AddStringToObject(m, "t", "spawn");
	cJSON_AddNumberToObject(m, "task", j->index);
	cJSON_AddNumberToObject(m, "pid", pid);
	request_send(run->rq, m);
	share_spawned(j, pid);
}

void run__proc_gone(struct run *run)
{
	run->live_procs--;
	if (!run->pumping && run->ending && run->live_procs == 0 && cachework_idle(run))
		run_finish(run);
}

void run_cancel(struct run *run)
{
	if (run->canceled)
		return;
	run->canceled = true;
	if (run->paused)
		set_paused(run, false); /* nobody is reading: drain the pipes into the void */
	sched_stop(&run->sched);
	cachework_stop_waiting(run);
	bool pumping = run->pumping;
	run->pumping = true; /* a task ended in kill_all must not end the run under it */
	kill_all(run);
	run->pumping = pumping;
	pump(run);
}

/* Wait (bounded) for the remote's uploads, add its counters to the cache's. */
static void close_remote(struct run *run)
{
	if (!run->remote)
		return;
	store_flush(run->remote);
	struct cache_remote_stats st = {0};
	store_take_stats(run->remote, &st);
	if (run->cache)
		cache_add_remote_stats(run->cache, &st);
	store_backend_free(run->remote);
	run->remote = NULL;
}

void run_free(struct run *run)
{
	if (!run)
		return;
	for (size_t i = 0; run->jobs && i < run->tg->ntasks; i++) {
		share_leave(&run->jobs[i]); /* nothing is left in the table at the end */
		if (run->jobs[i].pre_hit)
			cache_entry_release(&run->jobs[i].pre_entry);
		job_release(&run->jobs[i]);
	}
	free(run->jobs);
	cachework_release(run);
	sched_release(&run->sched);
	hasher_free(run->hasher);
	close_remote(run);
	cmd_close_cache(run->rq, run->cache);
	task_graph_free(run->tg);
	strvec_release(&run->hints);
	cJSON_Delete(run->overrides);
	sbuf_release(&run->ev);
	free(run);
}

/* ---- setup ---- */

/* BLD_DEBUG=1 in the client's environment: phase timings as info messages. */
static void timing(struct run *run, const char *phase, uint64_t *t0)
{
	if (!run->debug)
		return;
	uint64_t now = now_ns();
	request_message(run->rq, "info", "bld: %-16s %8.2f ms", phase, (double)(now - *t0) / 1e6);
	*t0 = now;
}

/* "proj:target[:config]"; a target name may itself hold ':' (Nx resolves it the same way). */
static int parse_task_spec(struct run *run, const char *spec, struct tg_request *tq,
                           char **ret_config, struct bld_err *err)
{
	const char *colon = strchr(spec, ':');
	if (!colon || colon == spec || !colon[1])
		return bld_err_set(
		    err, BLD_EUSAGE,
		    "\"%s\" is not a task: expected <project>:<target>[:<configuration>]", spec);
	char *proj = xstrndup(spec, (size_t)(colon - spec));
	const char *rest = colon + 1;
	struct ws_project *p = workspace_project(run->ws, proj);
	char *target = xstrdup(rest);
	char *last = strrchr(target, ':');
	if (p && last && !ws_project_target(p, target)) {
		*last = '\0';
		*ret_config = xstrdup(last + 1);
	}
	strvec_push_owned(&tq->projects, proj);
	strvec_push_owned(&tq->targets, target);
	return 0;
}

/* The project whose root holds the client's cwd (the owner map's answer), or NULL. */
static const char *project_of_cwd(const struct run *run)
{
	char *rel = path_relative(run->ws->root, run->rq->cwd);
	int owner = rel ? workspace_owner(run->ws, rel) : -1;
	free(rel);
	return owner >= 0 ? run->ws->projects[owner].name : NULL;
}

static int build_request(struct run *run, struct tg_request *tq, char **ret_config,
                         struct bld_err *err)
{
	struct request *rq = run->rq;
	if (!strcmp(rq->cmd, "run")) {
		const char *spec = request_arg_str(rq, "task");
		const char *target = request_arg_str(rq, "target");
		if (spec)
			return parse_task_spec(run, spec, tq, ret_config, err);
		if (!target)
			return bld_err_set(err, BLD_EUSAGE,
			                   "run: which task? bld run <project>:<target>");
		const char *proj = request_arg_str(rq, "project");
		if (!proj)
			proj = project_of_cwd(run);
		if (!proj)
			return bld_err_set(
			    err, BLD_EUSAGE,
			    "\"%s\" is not a bld command, and %s is in no project to run "
			    "it as a target of (bld <target> <project>; bld help lists "
			    "the commands)",
			    target, rq->cwd);
		strvec_push(&tq->projects, proj);
		strvec_push(&tq->targets, target);
		return 0;
	}
	request_arg_list(rq, "targets", &tq->targets);
	int rc = 0;
	if (!tq->targets.n)
		rc = bld_err_set(err, BLD_EUSAGE, "%s needs -t <target>...", rq->cmd);
	if (rc >= 0)
		rc = cmd_select_projects(rq, run->ws, &tq->projects, err);
	tq->skip_missing = true;
	return rc;
}

static int check_executors(struct run *run, struct bld_err *err)
{
	for (size_t i = 0; i < run->tg->ntasks; i++) {
		const struct task *t = &run->tg->tasks[i];
		if (!exec_supported(t->target->executor)) {
			char *all = exec_supported_list();
			int rc = bld_err_set(err, BLD_EEXECUTOR,
			                     "%s uses executor \"%s\", which bld cannot run "
			                     "(bld runs: %s)",
			                     t->id, t->target->executor, all);
			free(all);
			return rc;
		}
	}
	return 0;
}

/* The execution plans of a graph's tasks, in task order, kept with the graph
 * (task_graph_attach): a plan depends on the task's executor and options and
 * on the workspace, all fixed for a kept graph, so a repeated request reuses
 * them.  A plan that cannot be built keeps its error. */
struct plans {
	size_t n;
	struct exec_plan *v;
	char **err;                /* NULL where the plan was built */
	struct event_frags *frags; /* what the task's events always say (events.c) */
};

static const struct event_frags *frags_of(const struct run *run, int i)
{
	return &run->plans->frags[i];
}

static void plans_free(void *data)
{
	struct plans *p = data;
	for (size_t i = 0; i < p->n; i++) {
		exec_plan_release(&p->v[i]);
		free(p->err[i]);
		event_frags_release(&p->frags[i]);
	}
	free(p->v);
	free(p->err);
	free(p->frags);
	free(p);
}

static struct plans *plans_build(const struct run *run)
{
	struct plans *p = xcalloc(1, sizeof(*p));
	p->n = run->tg->ntasks;
	p->v = xcalloc(p->n + 1, sizeof(*p->v));
	p->err = xcalloc(p->n + 1, sizeof(*p->err));
	p->frags = xcalloc(p->n + 1, sizeof(*p->frags));
	for (size_t i = 0; i < p->n; i++) {
		const struct task *t = &run->tg->tasks[i];
		exec_plan_init(&p->v[i]);
		struct bld_err err;
		bld_err_clear(&err);
		char *pdir = path_join(run->ws->root, t->project->root);
		struct strvec fwd;
		strvec_init(&fwd);
		task_forwarded(t, &fwd);
		if (exec_plan_build(t->target->executor, t->options, &fwd, run->ws->root, pdir,
		                    run->ws->package_manager, &p->v[i], &err) < 0)
			p->err[i] = xstrdup(err.msg);
		event_frags_init(&p->frags[i], t, p->err[i] ? NULL : &p->v[i].commands);
		strvec_release(&fwd);
		free(pdir);
	}
	return p;
}

static void plan_jobs(struct run *run)
{
	run->jobs = xcalloc(run->tg->ntasks ? run->tg->ntasks : 1, sizeof(*run->jobs));
	const struct plans *p = task_graph_attached(run->tg);
	if (!p)
		p = task_graph_attach(run->tg, plans_build(run), plans_free);
	run->plans = p;
	for (size_t i = 0; i < run->tg->ntasks; i++) {
		struct job *j = &run->jobs[i];
		j->run = run;
		j->index = (int)i;
		j->plan = p->v[i]; /* borrowed: the graph frees it */
		j->planned = !p->err[i];
		if (p->err[i])
			request_message(run->rq, "error", "%s: %s", run->tg->tasks[i].id, p->err[i]);
	}
}

static void open_cache(struct run *run)
{
	struct request *rq = run->rq;
	if (!run->cache_opened)
		run->cache = cmd_open_cache(rq, run->ws);
	struct bld_err err;
	bld_err_clear(&err);
	if (cmd_new_hasher(rq, run->ws, run->cache, &run->hasher, &err) < 0) {
		run->hasher = NULL;
		if (run->cache)
			request_message(rq, "warn",
			                "hashing unavailable: %s; tasks run without the cache",
			                err.msg);
	}
	if (run->cache && run->hasher)
		run->remote = cmd_open_remote(rq, run->ws);
}

static int parallel_of(const struct request *rq)
{
	int n = request_arg_int(rq, "parallel", 0);
	if (n > 0)
		return n;
	const char *e = request_getenv(rq, "BLD_PARALLEL");
	if (e && atoi(e) > 0)
		return atoi(e);
	return (int)uv_available_parallelism();
}

static bool env_true(const struct request *rq, const char *name)
{
	const char *v = request_getenv(rq, name);
	return v && v[0] && strcmp(v, "0") && strcmp(v, "false");
}

static void send_run_start(struct run *run, const struct tg_request *tq, int parallel)
{
	struct sbuf *e = &run->ev;
	sbuf_reset(e);
	sbuf_adds(e, "{\"t\":\"run-start\",\"cmd\":");
	sbuf_add_json_str(e, run->rq->cmd);
	sbuf_adds(e, ",\"targets\":[");
	for (size_t i = 0; i < tq->targets.n; i++) {
		sbuf_adds(e, i ? "," : "");
		sbuf_add_json_str(e, tq->targets.v[i]);
	}
	sbuf_adds(e, "],\"projects\":[");
	/* each project of a requested task once, in task order */
	bool *seen = xcalloc(run->ws->nprojects + 1, sizeof(*seen));
	int requested = 0;
	for (size_t i = 0; i < run->tg->ntasks; i++) {
		const struct task *t = &run->tg->tasks[i];
		size_t pi = (size_t)(t->project - run->ws->projects);
		if (!t->requested)
			continue;
		if (!seen[pi]) {
			sbuf_adds(e, requested ? "," : "");
			sbuf_add_json_str(e, t->project->name);
			seen[pi] = true;
		}
		requested++;
	}
	free(seen);
	sbuf_addf(e, "],\"tasks\":%zu,\"requested\":%d,\"parallel\":%d}", run->tg->ntasks,
	          requested, parallel);
	request_send_json_text(run->rq, e->buf, e->len);
}

/*
 * The request's overrides, with the forwarded arguments as "__unparsed__" (the
 * name Nx's executors receive them under): the task graph merges overrides into
 * the requested tasks' options and into those of dependencies reached with
 * params: "forward", so the arguments go exactly where Nx sends them, and they
 * are part of the task's options, hence of its hash.
 */
static void collect_forwarded(struct run *run)
{
	struct request *rq = run->rq;
	struct strvec fwd;
	strvec_init(&fwd);
	request_arg_list_raw(rq, "forward", &fwd);
	const cJSON *ov = cJSON_GetObjectItemCaseSensitive(rq->args, "overrides");
	if (cJSON_IsObject(ov) && cJSON_GetArraySize(ov) > 0)
		run->overrides = cJSON_Duplicate(ov, true);
	if (fwd.n) {
		if (!run->overrides)
			run->overrides = cJSON_CreateObject();
		cJSON_DeleteItemFromObjectCaseSensitive(run->overrides, "__unparsed__");
		cJSON *arr = cJSON_AddArrayToObject(run->overrides, "__unparsed__");
		for (size_t i = 0; i < fwd.n; i++)
			cJSON_AddItemToArray(arr, cJSON_CreateString(fwd.v[i]));
	}
	strvec_release(&fwd);
}

/* The forwarded arguments a task's options carry (see collect_forwarded). */
static void task_forwarded(const struct task *t, struct strvec *ret)
{
	const cJSON *e;
	cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(t->options, "__unparsed__"))
	{
		if (cJSON_IsString(e))
			strvec_push(ret, e->valuestring);
	}
}

/* An unknown target that a plugin would infer: say why bld lacks it. */
static void hint_plugin_targets(struct run *run, const struct tg_request *tq)
{
	for (size_t i = 0; i < tq->projects.n; i++) {
		const struct ws_project *p = workspace_project(run->ws, tq->projects.v[i]);
		struct strvec targets, plugins;
		strvec_init(&targets);
		strvec_init(&plugins);
		if (p)
			ws_project_plugin_targets(run->ws, p, &targets, &plugins);
		for (size_t k = 0; k < tq->targets.n; k++) {
			int at = strvec_find(&targets, tq->targets.v[k]);
			if (at >= 0)
				strvec_push_owned(
				    &run->hints,
				    xasprintf("%s:%s would be inferred by the nx.json plugin "
				              "%s; bld runs no plugins: add the target to %s",
				              p->name, tq->targets.v[k],
				              (size_t)at < plugins.n ? plugins.v[at] : "?",
				              p->config_file));
		}
		strvec_release(&targets);
		strvec_release(&plugins);
	}
}

/* run-many -p matched nothing: say so, with the names the patterns may have meant. */
static void warn_no_projects(struct run *run)
{
	struct strvec pats, sug;
	strvec_init(&pats);
	strvec_init(&sug);
	request_arg_list(run->rq, "projects", &pats);
	struct sbuf s = SBUF_INIT;
	sbuf_init(&s);
	for (size_t i = 0; i < pats.n; i++) {
		sbuf_addf(&s, "%s%s", i ? ", " : "", pats.v[i]);
		workspace_suggest(run->ws, NULL, pats.v[i], 3, &sug);
	}
	struct sbuf m = SBUF_INIT;
	sbuf_init(&m);
	for (size_t i = 0; i < sug.n; i++)
		sbuf_addf(&m, "%s%s", i ? ", " : "", sug.v[i]);
	request_message(run->rq, "warn", "no project matches -p %s%s%s%s; no tasks were run", s.buf,
	                sug.n ? " (did you mean " : "", m.buf, sug.n ? "?)" : "");
	sbuf_release(&s);
	sbuf_release(&m);
	strvec_release(&pats);
	strvec_release(&sug);
}

static int run_setup(struct run *run, struct bld_err *err)
{
	struct request *rq = run->rq;
	struct tg_request tq;
	tg_request_init(&tq);
	char *config = NULL;
	int rc = build_request(run, &tq, &config, err);
	const char *c = request_arg_str(rq, "configuration");
	tq.configuration = c ? c : config;
	tq.overrides = run->overrides;
	tq.exclude_task_deps = request_arg_bool(rq, "excludeTaskDependencies");
	if (rc >= 0 && !tq.projects.n)
		warn_no_projects(run);
	if (rc >= 0)
		rc = cmd_task_graph(rq, run->ws, &tq, &run->tg, err);
	if (rc == BLD_ENOTARGET)
		hint_plugin_targets(run, &tq);
	if (rc >= 0 && !run->tg->ntasks && tq.projects.n)
		request_message(rq, "warn",
		                "none of the selected projects has target%s %s; "
		                "no tasks were run",
		                tq.targets.n > 1 ? "s" : "", tq.targets.n ? tq.targets.v[0] : "");
	for (size_t i = 0; rc >= 0 && run->verbose && i < run->tg->notes.n; i++)
		request_message(rq, "info", "%s", run->tg->notes.v[i]);
	if (rc >= 0 && request_arg_str(rq, "shard")) {
		run->cache = cmd_open_cache(rq, run->ws); /* its durations balance the shards */
		run->cache_opened = true;
		rc = cmd_shard_graph(rq, run->cache, run->tg, err);
	}
	if (rc >= 0)
		rc = check_executors(run, err);
	if (rc >= 0) {
		int parallel = parallel_of(rq);
		send_run_start(run, &tq, parallel);
		sched_init(&run->sched, run->tg, parallel, request_arg_bool(rq, "bail"));
	}
	tg_request_release(&tq);
	free(config);
	return rc;
}

void run_start(struct request *rq)
{
	struct run *run = xcalloc(1, sizeof(*run));
	run->rq = rq;
	rq->run = run;
	strvec_init(&run->hints);
	run->verbose = request_arg_bool(rq, "verbose");
	run->skip_cache = request_arg_bool(rq, "skipCache") || env_true(rq, "BLD_SKIP_CACHE");
	run->debug = env_true(rq, "BLD_DEBUG");
	run->stats = run->debug || run->verbose;
	collect_forwarded(run);
	uint64_t t0 = now_ns();
	int code = cmd_load_workspace(rq, &run->ws);
	if (code) {
		request_finish(rq, code);
		return;
	}
	timing(run, "workspace", &t0);
	uint64_t t_graph = now_ns();
	struct bld_err err;
	bld_err_clear(&err);
	if (run_setup(run, &err) < 0) {
		code = request_error(rq, &err);
		for (size_t i = 0; i < run->hints.n; i++)
			request_message(rq, "info", "%s", run->hints.v[i]);
		request_finish(rq, code);
		return;
	}
	timing(run, "task graph", &t0);
	plan_jobs(run);
	timing(run, "plans", &t0);
	run->st.graph = now_ns() - t_graph;
	open_cache(run);
	timing(run, "cache open", &t0);
	run->t_start = t0;
	if (!cachework_presolve(run))
		pump(run);
}
