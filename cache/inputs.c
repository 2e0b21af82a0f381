/*
 * inputs.c - a task's `inputs` expanded into hash instructions, as Nx's
 * hash planner does (packages/nx/src/native/tasks/hash_planner.rs and
 * inputs.rs of Nx 22):
 *
 *   - no `inputs`: [every file below {projectRoot}, "^default"];
 *   - named inputs: "default" is every file below {projectRoot}, overridden by nx.json
 *     namedInputs, overridden by the project's namedInputs; a string that is
 *     not a named input must be a fileset starting with {projectRoot} or
 *     {workspaceRoot} (optionally '!'), else it is an error naming it;
 *   - `^name` / {"input": name, "dependencies": true} / `^{projectRoot}/..`:
 *     for every project reachable over the project graph (transitively; the
 *     edges bld adds for cross-project dependsOn are not followed, as Nx keeps
 *     dependsOn out of its project graph; the
 *     task's own project excluded, each visited once per such input), that
 *     project's own expansion of the input;
 *   - every project whose inputs are gathered contributes its configuration
 *     and the root tsconfig; its {projectRoot} filesets form ONE file set (so
 *     a negation removes files whatever named input they came from), its
 *     {workspaceRoot} filesets another;
 *   - the task itself adds nx.json, .gitignore, .nxignore and its external
 *     dependencies (all of them unless `externalDependencies` says which);
 *   - {"dependentTasksOutputFiles": glob, "transitive": b}: the outputs of
 *     the dependency tasks (direct, or all) that declare outputs;
 *   - {"input": name, "projects": [...]}: the named input of those projects.
 */
#include "hasher_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bld/taskgraph.h"

enum in_kind {
	IN_STRING,
	IN_FILESET,
	IN_INPUT,
	IN_ENV,
	IN_RUNTIME,
	IN_EXTDEPS,
	IN_DEPOUT,
	IN_PROJECTS
};

struct input {
	enum in_kind kind;
	bool deps;         /* applies to dependencies (^) */
	const char *s;     /* fileset, input name, env name, command, glob */
	const cJSON *list; /* externalDependencies names, projects */
	bool transitive;
};

struct inputs {
	struct input *v;
	size_t n, cap;
	size_t named; /* named inputs expanded into it: bounded, as their
	                 references can fan out exponentially with depth */
};

/* The most named-input references one expansion follows. */
#define INPUTS_MAX_NAMED 10000

static void inputs_push(struct inputs *in, struct input x)
{
	xgrow(&in->v, &in->cap, in->n + 1, sizeof(*in->v));
	in->v[in->n++] = x;
}

/* Where an error about project p's inputs points. */
static int in_err(struct bld_err *err, const struct ws_project *p, const char *fmt, const char *a)
{
	bld_err_at(err, BLD_ESCHEMA, p && p->config_file ? p->config_file : "nx.json", 0, 0,
	           "inputs of project \"%s\": ", p ? p->name : "?");
	size_t n = strlen(err ? err->msg : "");
	if (err)
		snprintf(err->msg + n, sizeof(err->msg) - n, fmt, a);
	return BLD_ESCHEMA;
}

static int parse_object(const cJSON *o, const struct ws_project *p, struct input *x,
                        struct bld_err *err)
{
	const cJSON *v;
	bool deps = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, "dependencies"));
	if ((v = cJSON_GetObjectItemCaseSensitive(o, "fileset")) && cJSON_IsString(v)) {
		*x = (struct input){IN_FILESET, deps, v->valuestring, NULL, false};
	} else if ((v = cJSON_GetObjectItemCaseSensitive(o, "input")) && cJSON_IsString(v)) {
		const cJSON *pr = cJSON_GetObjectItemCaseSensitive(o, "projects");
		*x = (struct input){IN_INPUT, deps, v->valuestring, NULL, false};
		if (cJSON_IsString(pr) && !strcmp(pr->valuestring, "dependencies"))
			x->deps = true;
		else if (pr && !(cJSON_IsString(pr) && !strcmp(pr->valuestring, "self")) && !deps) {
			x->kind = IN_PROJECTS;
			x->list = pr;
		}
	} else if ((v = cJSON_GetObjectItemCaseSensitive(o, "env")) && cJSON_IsString(v)) {
		*x = (struct input){IN_ENV, false, v->valuestring, NULL, false};
	} else if ((v = cJSON_GetObjectItemCaseSensitive(o, "runtime")) && cJSON_IsString(v)) {
		*x = (struct input){IN_RUNTIME, false, v->valuestring, NULL, false};
	} else if ((v = cJSON_GetObjectItemCaseSensitive(o, "externalDependencies")) &&
	           cJSON_IsArray(v)) {
		*x = (struct input){IN_EXTDEPS, false, NULL, v, false};
	} else if ((v = cJSON_GetObjectItemCaseSensitive(o, "dependentTasksOutputFiles")) &&
	           cJSON_IsString(v)) {
		bool tr = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, "transitive"));
		*x = (struct input){IN_DEPOUT, false, v->valuestring, NULL, tr};
	} else {
		char *s = cJSON_PrintUnformatted(o);
		in_err(err, p,
		       "unsupported input %s (expected fileset, input, env, runtime, "
		       "externalDependencies or dependentTasksOutputFiles)",
		       s);
		free(s);
		return BLD_ESCHEMA;
	}
	return 0;
}

/* One element of an inputs array. */
static int parse_input(const cJSON *item, const struct ws_project *p, struct input *x,
                       struct bld_err *err)
{
	if (cJSON_IsString(item)) {
		const char *s = item->valuestring;
		if (*s == '^') {
			bool fs = str_starts(s + 1, "{projectRoot}") ||
			          str_starts(s + 1, "{workspaceRoot}");
			*x = (struct input){fs ? IN_FILESET : IN_INPUT, true, s + 1, NULL, false};
		} else {
			*x = (struct input){IN_STRING, false, s, NULL, false};
		}
		return 0;
	}
	if (cJSON_IsObject(item))
		return parse_object(item, p, x, err);
	char *s = cJSON_PrintUnformatted(item);
	in_err(err, p, "an input must be a string or an object, not %s", s);
	free(s);
	return BLD_ESCHEMA;
}

/* The definition of named input name for project p, or NULL. */
static const cJSON *named_input(const struct hasher *h, const struct ws_project *p,
                                const char *name)
{
	const cJSON *d =
	    p->named_inputs ? cJSON_GetObjectItemCaseSensitive(p->named_inputs, name) : NULL;
	if (!d && h->ws->named_inputs)
		d = cJSON_GetObjectItemCaseSensitive(h->ws->named_inputs, name);
	return d;
}

static bool valid_fileset(const char *s)
{
	if (*s == '!')
		s++;
	return str_starts(s, "{projectRoot}") || str_starts(s, "{workspaceRoot}");
}

static int expand_named(const struct hasher *h, const struct ws_project *p, const char *name,
                        int depth, struct inputs *out, struct bld_err *err);

/* Expand the self inputs of project p (named inputs resolved) into out. */
static int expand_one(const struct hasher *h, const struct ws_project *p, const struct input *x,
                      int depth, struct inputs *out, struct bld_err *err)
{
	switch (x->kind) {
	case IN_STRING:
		if (named_input(h, p, x->s) || !strcmp(x->s, "default"))
			return expand_named(h, p, x->s, depth, out, err);
		if (!valid_fileset(x->s))
			return in_err(err, p,
			              "\"%s\" is neither a named input (nx.json or project "
			              "namedInputs) nor a fileset starting with {projectRoot} or "
			              "{workspaceRoot}",
			              x->s);
		inputs_push(out, (struct input){IN_FILESET, false, x->s, NULL, false});
		return 0;
	case IN_INPUT:
		return expand_named(h, p, x->s, depth, out, err);
	case IN_FILESET:
		if (!valid_fileset(x->s))
			return in_err(err, p,
			              "fileset \"%s\" must start with {projectRoot} or "
			              "{workspaceRoot}",
			              x->s);
		inputs_push(out, *x);
		return 0;
	default:
		inputs_push(out, *x);
		return 0;
	}
}

static int expand_list(const struct hasher *h, const struct ws_project *p, const cJSON *arr,
                       int depth, struct inputs *out, struct bld_err *err)
{
	const cJSON *item;
	cJSON_ArrayForEach(item, arr)
	{
		struct input x;
		int r = parse_input(item, p, &x, err);
		if (r < 0)
			return r;
		if (x.deps || x.kind == IN_PROJECTS)
			return in_err(err, p,
			              "%s: namedInputs definitions can only refer to other "
			              "named inputs of the same project (no ^ or projects)",
			              cJSON_IsString(item) ? item->valuestring : "an input");
		if ((r = expand_one(h, p, &x, depth, out, err)) < 0)
			return r;
	}
	return 0;
}

static int expand_named(const struct hasher *h, const struct ws_project *p, const char *name,
                        int depth, struct inputs *out, struct bld_err *err)
{
	if (depth > 32)
		return in_err(err, p, "named input \"%s\" refers to itself", name);
	if (++out->named > INPUTS_MAX_NAMED)
		return in_err(err, p,
		              "named input \"%s\": the named inputs refer to each other more "
		              "than 10000 times",
		              name);
	const cJSON *d = named_input(h, p, name);
	if (!d && !strcmp(name, "default")) {
		inputs_push(out,
		            (struct input){IN_FILESET, false, "{projectRoot}/**/*", NULL, false});
		return 0;
	}
	if (!d)
		return in_err(err, p,
		              "named input \"%s\" is not defined (nx.json namedInputs or the "
		              "project's namedInputs)",
		              name);
	if (!cJSON_IsArray(d))
		return in_err(err, p, "named input \"%s\" must be an array", name);
	return expand_list(h, p, d, depth + 1, out, err);
}

/* ---- plans ---- */

void cache__plan_init(struct cache_plan *p)
{
	memset(p, 0, sizeof(*p));
	strmap_init(&p->keys);
}

void cache__plan_release(struct cache_plan *p)
{
	for (size_t i = 0; i < p->n; i++) {
		strvec_release(&p->v[i].globs);
		free(p->v[i].arg);
		free(p->v[i].key);
	}
	free(p->v);
	strmap_release(&p->keys);
	memset(p, 0, sizeof(*p));
}

/* Add an instruction (takes ownership of its strings); duplicates are dropped. */
static void plan_add(struct cache_plan *p, struct cache_instr ins)
{
	if (strmap_has(&p->keys, ins.key)) {
		strvec_release(&ins.globs);
		free(ins.arg);
		free(ins.key);
		return;
	}
	xgrow(&p->v, &p->cap, p->n + 1, sizeof(*p->v));
	p->v[p->n++] = ins;
	strmap_put(&p->keys, ins.key, (void *)(intptr_t)p->n);
}

static char *join_globs(const struct strvec *g)
{
	struct sbuf sb = SBUF_INIT;
	sbuf_init(&sb);
	for (size_t i = 0; i < g->n; i++) {
		if (i)
			sbuf_addc(&sb, ',');
		sbuf_adds(&sb, g->v[i]);
	}
	return sbuf_detach(&sb);
}

/* The parts (up to four, NULL ends them early) concatenated into a new string:
 * the plan's keys, built tens of thousands of times per run, without printf. */
static char *key_cat(const char *a, const char *b, const char *c, const char *d)
{
	const char *part[4] = {a, b, c, d};
	size_t len[4] = {0}, n = 0, total = 0;
	for (; n < 4 && part[n]; n++)
		total += len[n] = strlen(part[n]);
	char *k = xmalloc(total + 1), *w = k;
	for (size_t i = 0; i < n; i++) {
		memcpy(w, part[i], len[i]);
		w += len[i];
	}
	*w = '\0';
	return k;
}

static void add_files(struct cache_plan *plan, enum cache_instr_kind kind, int project,
                      const char *pname, struct strvec *globs)
{
	strvec_sort(globs);
	char *j = join_globs(globs);
	struct cache_instr ins = {.kind = kind, .project = project, .dep_task = -1};
	ins.key = kind == INS_PFILES ? key_cat("files:", pname, ":", j)
	                             : key_cat("workspace-files:", j, NULL, NULL);
	ins.globs = *globs;
	memset(globs, 0, sizeof(*globs));
	free(j);
	plan_add(plan, ins);
}

/* The self inputs of project pi: its configuration, tsconfig, file sets, env, runtime. */
static void gather_self(struct hasher *h, int pi, const struct inputs *self,
                        struct cache_plan *plan)
{
	const struct ws_project *p = &h->ws->projects[pi];
	struct strvec pglobs, wglobs;
	strvec_init(&pglobs);
	strvec_init(&wglobs);
	for (size_t i = 0; i < self->n; i++) {
		const struct input *x = &self->v[i];
		if (x->kind == IN_FILESET) {
			const char *s = x->s + (*x->s == '!');
			struct strvec *to = str_starts(s, "{projectRoot}/")     ? &pglobs
			                    : str_starts(s, "{workspaceRoot}/") ? &wglobs
			                                                        : NULL;
			if (to)
				strvec_push_owned(to, workspace_expand_tokens(p, x->s, WS_TOKENS_PATH));
		} else if (x->kind == IN_ENV || x->kind == IN_RUNTIME) {
			bool env = x->kind == IN_ENV;
			struct cache_instr ins = {
			    .kind = env ? INS_ENV : INS_RUNTIME, .project = -1, .dep_task = -1};
			ins.arg = xstrdup(x->s);
			ins.key = xasprintf("%s:%s", env ? "env" : "runtime", x->s);
			plan_add(plan, ins);
		}
	}
	if (pglobs.n)
		add_files(plan, INS_PFILES, pi, p->name, &pglobs);
	if (wglobs.n)
		add_files(plan, INS_WFILES, -1, NULL, &wglobs);
	strvec_release(&pglobs);
	strvec_release(&wglobs);
	struct cache_instr cfg = {.kind = INS_CONFIG, .project = pi, .dep_task = -1};
	cfg.key = key_cat("project-config:", p->name, NULL, NULL);
	plan_add(plan, cfg);
	struct cache_instr ts = {.kind = INS_TSCONFIG, .project = -1, .dep_task = -1};
	ts.key = xstrdup("tsconfig");
	plan_add(plan, ts);
}

/* dependentTasksOutputFiles: the dependency tasks (direct or transitive) with outputs. */
static void gather_dep_outputs(struct hasher *h, const struct task_graph *tg, int ti,
                               const struct inputs *depout, struct cache_plan *plan)
{
	for (size_t k = 0; k < depout->n; k++) {
		const struct input *x = &depout->v[k];
		bool *seen = xcalloc(tg->ntasks, sizeof(bool));
		int *queue = xmalloc(sizeof(int) * (tg->ntasks + 1));
		size_t qh = 0, qt = 0;
		queue[qt++] = ti;
		while (qh < qt) {
			const struct task *t = &tg->tasks[queue[qh++]];
			for (size_t d = 0; d < t->ndeps; d++) {
				int di = t->deps[d];
				if (seen[di] || di == ti)
					continue;
				seen[di] = true;
				if (x->transitive)
					queue[qt++] = di;
				struct strvec outs;
				strvec_init(&outs);
				task_outputs(h->ws, &tg->tasks[di], &outs);
				if (outs.n) {
					struct cache_instr ins = {
					    .kind = INS_DEPOUT, .project = -1, .dep_task = di};
					ins.arg = xstrdup(x->s);
					ins.key =
					    xasprintf("outputs:%s:%s", tg->tasks[di].id, x->s);
					plan_add(plan, ins);
				}
				strvec_release(&outs);
			}
		}
		free(seen);
		free(queue);
	}
}

/* Everything one DFS over the project graph shares. */
struct walk {
	struct hasher *h;
	const struct task_graph *tg;
	int task;
	struct cache_plan *plan;
	bool *visited;
	int *log; /* visited in order, for rollback */
	size_t nlog;
	struct bld_err *err;
};

static int self_and_deps(struct walk *w, int pi, const struct inputs *self,
                         const struct inputs *depout, const struct inputs *deps);

/* Visit dependency project di for one ^ input (and, through it, its deps). */
static int visit_dep(struct walk *w, int di, const struct input *x)
{
	if (w->visited[di])
		return 0;
	w->visited[di] = true;
	w->log[w->nlog++] = di;
	const struct ws_project *d = &w->h->ws->projects[di];
	struct inputs exp = {0}, self = {0}, depout = {0}, deps = {0};
	int r = 0;
	if (x->kind == IN_FILESET)
		inputs_push(&exp, (struct input){IN_FILESET, false, x->s, NULL, false});
	else
		r = expand_named(w->h, d, x->s, 0, &exp, w->err);
	for (size_t i = 0; r >= 0 && i < exp.n; i++)
		inputs_push(exp.v[i].kind == IN_DEPOUT ? &depout : &self, exp.v[i]);
	inputs_push(&deps, *x);
	if (r >= 0)
		r = self_and_deps(w, di, &self, &depout, &deps);
	free(exp.v);
	free(self.v);
	free(depout.v);
	free(deps.v);
	return r;
}

static int gather_deps(struct walk *w, int pi, const struct inputs *deps)
{
	const struct ws_project *p = &w->h->ws->projects[pi];
	for (size_t k = 0; k < deps->n; k++) {
		size_t scope = w->nlog;
		for (size_t d = 0; d < p->ndeps; d++) {
			/* Nx keeps dependsOn out of the project graph: not followed by ^ */
			if (p->deps[d].kind == WS_DEP_DEPENDSON)
				continue;
			int r = visit_dep(w, p->deps[d].project, &deps->v[k]);
			if (r < 0)
				return r;
		}
		if (deps->n > 1) {
			while (w->nlog > scope)
				w->visited[w->log[--w->nlog]] = false;
		}
	}
	return 0;
}

static int self_and_deps(struct walk *w, int pi, const struct inputs *self,
                         const struct inputs *depout, const struct inputs *deps)
{
	gather_self(w->h, pi, self, w->plan);
	gather_dep_outputs(w->h, w->tg, w->task, depout, w->plan);
	return gather_deps(w, pi, deps);
}

/* {"input": x, "projects": [...]}: x of each selected project. */
static int gather_projects(struct walk *w, const struct inputs *proj)
{
	for (size_t k = 0; k < proj->n; k++) {
		const struct input *x = &proj->v[k];
		struct strvec pats, sel;
		strvec_init(&pats);
		strvec_init(&sel);
		const cJSON *it;
		if (cJSON_IsString(x->list))
			strvec_push(&pats, x->list->valuestring);
		cJSON_ArrayForEach(it, x->list)
		{
			if (cJSON_IsString(it))
				strvec_push(&pats, it->valuestring);
		}
		int r = ws_select_projects(w->h->ws, &pats, NULL, &sel, w->err);
		for (size_t i = 0; r >= 0 && i < sel.n; i++) {
			int qi = cache__project_index(w->h, sel.v[i]);
			struct inputs exp = {0};
			if (qi < 0)
				continue;
			r = expand_named(w->h, &w->h->ws->projects[qi], x->s, 0, &exp, w->err);
			if (r >= 0)
				gather_self(w->h, qi, &exp, w->plan);
			free(exp.v);
		}
		strvec_release(&pats);
		strvec_release(&sel);
		if (r < 0)
			return r;
	}
	return 0;
}

/* External dependencies of the task (Nx's target_input), approximated by lock files. */
static void gather_externals(const struct task *t, const struct inputs *self,
                             struct cache_plan *plan)
{
	const char *ex = t->target->executor;
	struct strvec names;
	strvec_init(&names);
	bool declared = false;
	if (str_starts(ex, "@nx/") || str_starts(ex, "@nrwl/")) {
		strvec_push_owned(&names, xstrndup(ex, strcspn(ex, ":")));
		declared = true;
	} else {
		for (size_t i = 0; i < self->n; i++) {
			if (self->v[i].kind != IN_EXTDEPS)
				continue;
			declared = true;
			const cJSON *it;
			cJSON_ArrayForEach(it, self->v[i].list)
			{
				if (cJSON_IsString(it) && strvec_find(&names, it->valuestring) < 0)
					strvec_push(&names, it->valuestring);
			}
		}
	}
	if (declared && !names.n) {
		strvec_release(&names);
		return; /* "externalDependencies": [] - none */
	}
	strvec_sort(&names);
	char *j = join_globs(&names);
	struct cache_instr ins = {.kind = INS_EXTERNALS, .project = -1, .dep_task = -1};
	ins.key = declared ? xasprintf("externals:%s", j) : xstrdup("externals:*");
	ins.globs = names;
	free(j);
	plan_add(plan, ins);
}

static void gather_always(struct cache_plan *plan)
{
	struct strvec g;
	strvec_init(&g);
	strvec_push(&g, "nx.json");
	strvec_push(&g, ".gitignore");
	strvec_push(&g, ".nxignore");
	add_files(plan, INS_WFILES, -1, NULL, &g);
	strvec_release(&g);
}

/* Split the target's inputs into self (expanded), dependency outputs, ^ inputs and
 * {input, projects}. */
static int split_inputs(struct hasher *h, const struct task *t, struct inputs *self,
                        struct inputs *depout, struct inputs *deps, struct inputs *proj,
                        struct bld_err *err)
{
	const struct ws_project *p = t->project;
	const cJSON *arr = t->target->has_inputs
	                       ? cJSON_GetObjectItemCaseSensitive(t->target->json, "inputs")
	                       : NULL;
	struct inputs raw = {0}, exp = {0};
	int r = 0;
	if (!arr) {
		inputs_push(&raw,
		            (struct input){IN_FILESET, false, "{projectRoot}/**/*", NULL, false});
		inputs_push(&raw, (struct input){IN_INPUT, true, "default", NULL, false});
	} else if (!cJSON_IsArray(arr)) {
		r = in_err(err, p, "target \"%s\": \"inputs\" must be an array", t->target->name);
	} else {
		const cJSON *it;
		cJSON_ArrayForEach(it, arr)
		{
			struct input x;
			if ((r = parse_input(it, p, &x, err)) < 0)
				break;
			inputs_push(&raw, x);
		}
	}
	for (size_t i = 0; r >= 0 && i < raw.n; i++) {
		const struct input *x = &raw.v[i];
		if (x->deps)
			inputs_push(deps, *x);
		else if (x->kind == IN_PROJECTS)
			inputs_push(proj, *x);
		else
			r = expand_one(h, p, x, 0, &exp, err);
	}
	for (size_t i = 0; r >= 0 && i < exp.n; i++)
		inputs_push(exp.v[i].kind == IN_DEPOUT ? depout : self, exp.v[i]);
	free(raw.v);
	free(exp.v);
	return r;
}

int cache__plan_task(struct hasher *h, const struct task_graph *tg, int i, struct cache_plan *plan,
                     struct bld_err *err)
{
	const struct task *t = &tg->tasks[i];
	int pi = cache__project_index(h, t->project->name);
	if (pi < 0)
		return bld_err_set(err, BLD_ENOPROJECT, "project \"%s\" is not in the workspace",
		                   t->project->name);
	struct inputs self = {0}, depout = {0}, deps = {0}, proj = {0};
	int r = split_inputs(h, t, &self, &depout, &deps, &proj, err);
	struct walk w = {h, tg, i, plan, NULL, NULL, 0, err};
	if (r >= 0) {
		w.visited = xcalloc(h->ws->nprojects + 1, sizeof(bool));
		w.log = xmalloc(sizeof(int) * (h->ws->nprojects + 1));
		w.visited[pi] = true;
		gather_externals(t, &self, plan);
		gather_always(plan);
		r = self_and_deps(&w, pi, &self, &depout, &deps);
	}
	if (r >= 0)
		r = gather_projects(&w, &proj);
	free(w.visited);
	free(w.log);
	free(self.v);
	free(depout.v);
	free(deps.v);
	free(proj.v);
	return r;
}
