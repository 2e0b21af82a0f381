/*
 * job.c - executing one task: its environment (client env, .env files,
 * envFile, the env option, Nx's task variables), its processes (one after
 * another, or all at once), readyWhen, and the native executors.
 *
 * Environment precedence, as Nx 22 does it (lowest first): .env files of the
 * task (never overriding the client's variables), envFile, the client's
 * environment, the executor's env option, then NX_TASK_* variables.
 */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "bld/gen.h"
#include "run.h"

static void load_env_file(struct envset *e, const char *path, bool override)
{
	char *text;
	size_t len;
	/* A .env file is a few lines; past 16 MiB it is not one, and is ignored
	 * like a missing one rather than read whole into the engine. */
	if (file_read_max(path, 16u << 20, &text, &len) < 0)
		return;
	dotenv_apply(e, text, override);
	free(text);
}

/* The .env files Nx loads for a task, most specific first (first one wins). */
static void load_dotenv_files(struct job *j, struct envset *e)
{
	const struct task *t = &j->run->tg->tasks[j->index];
	const char *root = j->run->ws->root;
	const char *ids[4];
	size_t n = 0;
	char *tc = NULL;
	if (t->configuration) {
		tc = xasprintf("%s.%s", t->target->name, t->configuration);
		ids[n++] = tc;
		ids[n++] = t->configuration;
	}
	ids[n++] = t->target->name;
	ids[n++] = "";
	const char *dirs[2] = {t->project->root, ""};
	for (size_t d = 0; d < 2; d++) {
		if (d == 0 && !t->project->root[0])
			continue;
		for (size_t i = 0; i < n; i++) {
			char *names[4];
			size_t nn = 0;
			if (ids[i][0]) {
				names[nn++] = xasprintf(".env.%s.local", ids[i]);
				names[nn++] = xasprintf(".env.%s", ids[i]);
				names[nn++] = xasprintf(".%s.local.env", ids[i]);
				names[nn++] = xasprintf(".%s.env", ids[i]);
			} else {
				names[nn++] = xstrdup(".env.local");
				names[nn++] = xstrdup(".local.env");
				names[nn++] = xstrdup(".env");
			}
			for (size_t k = 0; k < nn; k++) {
				char *dir = path_join(root, dirs[d]);
				char *p = path_join(dir, names[k]);
				load_env_file(e, p, false);
				free(p);
				free(dir);
				free(names[k]);
			}
		}
	}
	free(tc);
}

/* Prepend node_modules/.bin of cwd and its parents up to the root, as npm-run-path does. */
static void add_node_bins(struct envset *e, const char *cwd, const char *root)
{
	struct sbuf path = SBUF_INIT;
	sbuf_init(&path);
	char *dir = xstrdup(cwd);
	for (;;) {
		char *bin = path_join(dir, "node_modules/.bin");
		if (dir_exists(bin))
			sbuf_addf(&path, "%s:", bin);
		free(bin);
		if (!strcmp(dir, root) || !strcmp(dir, "/") || !str_starts(dir, root))
			break;
		char *up = path_dirname(dir);
		free(dir);
		dir = up[0] ? up : xstrdup("/");
		if (!up[0])
			free(up);
	}
	free(dir);
	if (path.len) {
		const char *old = envset_get(e, "PATH");
		sbuf_adds(&path, old ? old : "/usr/bin:/bin");
		envset_set(e, "PATH", path.buf, true);
	}
	sbuf_release(&path);
}

static void add_venv(struct envset *e, const char *venv)
{
	char *bin = path_join(venv, "bin");
	if (dir_exists(bin) && !envset_get(e, "VIRTUAL_ENV")) {
		const char *old = envset_get(e, "PATH");
		char *p = xasprintf("%s:%s", bin, old ? old : "/usr/bin:/bin");
		envset_set(e, "PATH", p, true);
		envset_set(e, "VIRTUAL_ENV", venv, true);
		free(p);
	}
	free(bin);
}

static void build_env(struct job *j)
{
	struct run *run = j->run;
	struct request *rq = run->rq;
	const struct task *t = &run->tg->tasks[j->index];
	struct envset *e = &j->env;
	envset_init(e);
	envset_add_all(e, rq->env);
	const char *load = envset_get(e, "NX_LOAD_DOT_ENV_FILES");
	if (!load || strcmp(load, "false")) {
		load_dotenv_files(j, e);
		if (j->plan.env_file)
			load_env_file(e, j->plan.env_file, false);
	}
	for (size_t i = 0; i < j->plan.env.n; i++)
		envset_put(e, j->plan.env.v[i]);
	const char *cwd = j->plan.cwd ? j->plan.cwd : run->ws->root;
	add_node_bins(e, cwd, run->ws->root);
	if (j->plan.venv)
		add_venv(e, j->plan.venv);
	envset_set(e, "NX_TASK_TARGET_PROJECT", t->project->name, true);
	envset_set(e, "NX_TASK_TARGET_TARGET", t->target->name, true);
	if (t->configuration)
		envset_set(e, "NX_TASK_TARGET_CONFIGURATION", t->configuration, true);
	if (t->hash[0])
		envset_set(e, "NX_TASK_HASH", t->hash, true);
	envset_set(e, "NX_WORKSPACE_ROOT", run->ws->root, true);
	envset_set(e, "LERNA_PACKAGE_NAME", t->project->name, true);
	envset_set(e, "NX_TUI", "false", true);
	if (run->skip_cache)
		envset_set(e, "NX_SKIP_NX_CACHE", "true", true);
	if (rq->color && !envset_get(e, "NO_COLOR"))
		envset_set(e, "FORCE_COLOR", "true", false);
}

static void job_end_if_over(struct job *j);

static void check_ready(struct job *j, const char *data, size_t len)
{
	if (!j->plan.ready_when.n || j->detached || !j->ready_seen)
		return;
	sbuf_add(&j->tail, data, len);
	bool all = true;
	size_t longest = 0;
	for (size_t i = 0; i < j->plan.ready_when.n; i++) {
		const char *want = j->plan.ready_when.v[i];
		if (strlen(want) > longest)
			longest = strlen(want);
		if (!j->ready_seen[i] && memmem(j->tail.buf, j->tail.len, want, strlen(want)))
			j->ready_seen[i] = true;
		all = all && j->ready_seen[i];
	}
	if (j->tail.len > longest) {
		size_t keep = longest;
		memmove(j->tail.buf, j->tail.buf + j->tail.len - keep, keep);
		j->tail.len = keep;
		j->tail.buf[keep] = '\0';
	}
	if (!all)
		return;
	j->detached = true;
	const struct task *t = &j->run->tg->tasks[j->index];
	if (t->continuous)
		run__task_up(j->run, j);
	else
		run__task_done(j->run, j, true);
}

static void proc_output(void *ctx, struct proc *p, int stream, const char *data, size_t len)
{
	struct job *j = ctx;
	run__task_output(j->run, j, stream, data, len);
	check_ready(j, data, len);
}

static int spawn_one(struct job *j, size_t k);

/* After exit 127 ("not found"): when the command needs uv and the task's PATH lacks
 * it, say how to get uv (the shell's "uv: not found" alone does not). */
static void explain_not_found(struct job *j, const char *command)
{
	const char *tool = exec_missing_tool(command, envset_get(&j->env, "PATH"));
	if (!tool)
		return;
	const struct task *t = &j->run->tg->tasks[j->index];
	char *msg = xasprintf("bld: %s needs %s, which is not on its PATH: " EXEC_UV_INSTALL "\n",
	                      t->id, tool);
	run__task_output(j->run, j, 2, msg, strlen(msg));
	free(msg);
}

static void proc_exited(void *ctx, struct proc *p, int code)
{
	struct job *j = ctx;
	for (size_t i = 0; i < j->nprocs; i++)
		if (j->procs[i] == p) {
			j->procs[i] = NULL;
			if (code == 127)
				explain_not_found(j, j->plan.commands.v[i]);
		}
	j->live--;
	if (code && !j->exit_code)
		j->exit_code = code;
	bool serial = !j->plan.parallel;
	if (serial && !code && !j->run->canceled && j->next_cmd < j->plan.commands.n) {
		spawn_one(j, j->next_cmd++);
	}
	struct run *run = j->run;
	job_end_if_over(j);
	run__proc_gone(run);
}

/* The task is over when no process runs any more (unless readyWhen ended it before). */
static void job_end_if_over(struct job *j)
{
	if (j->live > 0 || j->ended)
		return;
	if (j->detached && !j->run->tg->tasks[j->index].continuous)
		return; /* readyWhen already counted it done */
	run__task_done(j->run, j, j->exit_code == 0);
}

static int spawn_one(struct job *j, size_t k)
{
	struct run *run = j->run;
	struct bld_err err;
	bld_err_clear(&err);
	struct proc_opts o = {
	    .command = j->plan.commands.v[k],
	    .cwd = j->plan.cwd ? j->plan.cwd : run->ws->root,
	    .env = envset_array(&j->env),
	    .on_output = proc_output,
	    .on_exit = proc_exited,
	    .ctx = j,
	};
	struct proc *p;
	int rc = proc_spawn(&run->rq->d->loop, &o, &p, &err);
	if (rc < 0) {
		char msg[1200];
		int n = snprintf(msg, sizeof(msg), "bld: %s\n", err.msg);
		run__task_output(run, j, 2, msg, (size_t)n);
		if (!j->exit_code)
			j->exit_code = 127;
		return rc;
	}
	j->procs[k] = p;
	run__proc_started(run, j, proc_pid(p));
	j->live++;
	run->live_procs++;
	return 0;
}

void job_spawn(struct job *j)
{
	build_env(j);
	size_t n = j->plan.commands.n;
	j->procs = xcalloc(n ? n : 1, sizeof(*j->procs));
	j->nprocs = n;
	if (j->plan.ready_when.n)
		j->ready_seen = xcalloc(j->plan.ready_when.n, sizeof(bool));
	sbuf_init(&j->tail);
	if (!n) {
		run__task_done(j->run, j, true);
		return;
	}
	if (j->plan.parallel) {
		for (size_t k = 0; k < n; k++)
			spawn_one(j, k);
	} else {
		j->next_cmd = 1;
		spawn_one(j, 0);
	}
	if (j->run->tg->tasks[j->index].continuous && !j->plan.ready_when.n && j->live)
		run__task_up(j->run, j);
	job_end_if_over(j);
}

void job_run_native(struct job *j)
{
	struct run *run = j->run;
	struct bld_err err;
	bld_err_clear(&err);
	char *spec = NULL;
	size_t len = 0;
	struct sbuf out = SBUF_INIT, msg = SBUF_INIT;
	sbuf_init(&out);
	sbuf_init(&msg);
	char *spec_rel = path_relative(run->ws->root, j->plan.spec_path);
	char *out_rel = path_relative(run->ws->root, j->plan.output_path);
	const char *sname = spec_rel ? spec_rel : j->plan.spec_path;
	const char *oname = out_rel ? out_rel : j->plan.output_path;
	int rc = file_read_max(j->plan.spec_path, 64u << 20, &spec, &len);
	if (rc < 0)
		sbuf_addf(&msg, "bld: cannot read OpenAPI spec %s: %s\n", sname, bld_strerror(rc));
	if (rc >= 0) {
		rc = gen_openapi_metadata(spec, len, sname, &out, &err);
		if (rc < 0) {
			char buf[2048];
			bld_err_format(&err, buf, sizeof(buf));
			sbuf_addf(&msg, "bld: %s\n", buf);
		}
	}
	if (rc >= 0) {
		char *dir = path_dirname(j->plan.output_path);
		rc = mkdir_p(dir, 0777);
		free(dir);
		if (rc >= 0)
			rc = file_write_atomic(j->plan.output_path, out.buf, out.len, 0644);
		if (rc < 0)
			sbuf_addf(&msg, "bld: cannot write %s: %s\n", oname, bld_strerror(rc));
		else
			sbuf_addf(&msg, "Generated %s from %s\n", oname, sname);
	}
	run__task_output(run, j, rc < 0 ? 2 : 1, msg.buf, msg.len);
	j->exit_code = rc < 0 ? 1 : 0;
	free(spec);
	free(spec_rel);
	free(out_rel);
	sbuf_release(&out);
	sbuf_release(&msg);
	run__task_done(run, j, rc >= 0);
}

void job_kill(struct job *j)
{
	for (size_t i = 0; i < j->nprocs; i++)
		if (j->procs[i])
			proc_kill(j->procs[i], RUN_KILL_GRACE_MS);
	j->next_cmd = j->plan.commands.n; /* serial mode: start nothing more */
}

void job_set_paused(struct job *j, bool paused)
{
	for (size_t i = 0; i < j->nprocs; i++)
		if (j->procs[i])
			(paused ? proc_pause : proc_resume)(j->procs[i]);
}

/* The fields that make up a task's execution (see job_move). */
static void move_execution(struct job *dst, const struct job *src)
{
	dst->env = src->env;
	dst->procs = src->procs;
	dst->nprocs = src->nprocs;
	dst->next_cmd = src->next_cmd;
	dst->live = src->live;
	dst->exit_code = src->exit_code;
	dst->detached = src->detached;
	dst->ready_seen = src->ready_seen;
	dst->tail = src->tail;
	dst->term = src->term;
	dst->record = src->record;
	dst->start_ms = src->start_ms;
	dst->manifest = src->manifest;
	dst->lock = src->lock;
}

void job_move(struct job *to, struct job *from)
{
	struct job old = *to;
	move_execution(to, from);
	move_execution(from, &old);
	for (size_t k = 0; k < to->nprocs; k++)
		if (to->procs[k])
			proc_set_ctx(to->procs[k], to);
	from->run->live_procs -= to->live;
	to->run->live_procs += to->live;
}

void job_release(struct job *j)
{
	envset_release(&j->env); /* not the plan: the task graph keeps it (run.c) */
	free(j->procs);
	free(j->ready_seen);
	sbuf_release(&j->tail);
	sbuf_release(&j->term);
	free(j->manifest);
	cache_task_lock_release(j->lock);
	j->lock = NULL;
}
