/*
 * taskgraph.c - the task graph: requested tasks plus everything dependsOn
 * pulls in, as Nx 22 builds it (verified against real Nx).
 *
 * dependsOn entries are normalised to { target, projects | dependencies,
 * params, options }: "^t" is { t, dependencies }, "p:t" is { t, projects:
 * [p] } when p is a project (else the whole string names a target of the
 * same project, target names may hold colons), "t" is the same project;
 * "projects" takes Nx project patterns ("self" = the same project).  A target
 * that is a glob expands to every matching target name of the workspace.
 *
 * Frames are (task, project used to derive dependencies), expanded depth
 * first like Nx's recursion.  For "dependencies", the project's edges count
 * except those bld adds for a cross-project dependsOn (WS_DEP_DEPENDSON: Nx
 * keeps dependsOn out of its project graph, so "^t" never follows them); a
 * dependency project that lacks the target is looked through: its own
 * dependencies are examined for the same task, as Nx does with its dummy
 * tasks.  A project lacking a target named by "projects" or by the
 * same-project form is skipped silently (Nx does so too).
 *
 * Configuration: every task takes the request's configuration when its
 * target has it, else the target's defaultConfiguration; the request's (not
 * the resolved) configuration is what travels down the graph.
 * Overrides: requested tasks get the request's overrides; a dependency gets
 * them only with params: "forward" (and the source target's options with
 * options: "forward").  A task reached twice keeps what it got first, in
 * depth-first order.
 * Self edges are dropped; any other cycle (continuous tasks included) is an
 * error that spells the whole cycle.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bld/taskgraph.h"
#include "tg_int.h"

/* One normalised dependsOn entry. */
struct dep_cfg {
	char *target;      /* owned */
	bool dependencies; /* the target in each project dependency */
	int *projects;     /* indices into ws->projects, or NULL: same project */
	size_t nprojects;
	bool has_projects;
	bool forward_params;  /* params: "forward" */
	bool forward_options; /* options: "forward" */
};

struct dep_cfgs {
	struct dep_cfg *v;
	size_t n, cap;
	bool done;
};

/* A task being expanded, with its cursor (the expansion is depth-first, as
 * Nx's: a task met for the first time is expanded before its parent goes
 * on, which decides whose overrides a task reached twice keeps). */
struct frame {
	int task;   /* index into tg->tasks */
	int derive; /* project whose edges "dependencies" follows */
	size_t cfg; /* next dependsOn entry */
	size_t k;   /* next candidate project of that entry */
};

/* Request-scoped state of one build. */
struct tgb {
	struct workspace *ws;
	const struct tg_request *rq;
	struct task_graph *tg;
	size_t cap;            /* of tg->tasks */
	size_t *depcap;        /* per task: capacity of deps */
	struct dep_cfgs *cfgs; /* per task: its normalised dependsOn */
	struct frame *stack;
	size_t nstack, capstack;
	struct strmap seen;        /* "task/project" frames already pushed */
	struct strvec all_targets; /* every target name, for glob targets; lazy */
	bool all_targets_done;
	struct bld_err *err;
};

void tg_request_init(struct tg_request *rq)
{
	memset(rq, 0, sizeof(*rq));
	strvec_init(&rq->projects);
	strvec_init(&rq->targets);
}

void tg_request_release(struct tg_request *rq)
{
	if (!rq)
		return;
	strvec_release(&rq->projects);
	strvec_release(&rq->targets);
}

static void dep_cfgs_release(struct dep_cfgs *c)
{
	for (size_t i = 0; i < c->n; i++) {
		free(c->v[i].target);
		free(c->v[i].projects);
	}
	free(c->v);
}

void task_graph_free(struct task_graph *tg)
{
	if (!tg)
		return;
	if (tg->base) { /* a share: its own task array, a reference to the rest */
		task_graph_free(tg->base);
		free(tg->tasks);
		free(tg);
		return;
	}
	if (atomic_fetch_sub(&tg->refs, 1) > 1)
		return;
	for (size_t i = 0; i < tg->ntasks; i++) {
		struct task *t = &tg->tasks[i];
		free(t->id);
		free(t->configuration);
		cJSON_Delete(t->options);
		free(t->deps);
		free(t->rdeps);
	}
	free(tg->tasks);
	strmap_release(&tg->by_id);
	strvec_release(&tg->notes);
	struct tg_attached *a = atomic_load(&tg->attached);
	if (a)
		a->free_fn(a->data);
	free(a);
	free(tg);
}

void *task_graph_attach(struct task_graph *tg, void *data, void (*free_fn)(void *data))
{
	struct task_graph *base = tg->base ? tg->base : tg;
	struct tg_attached *mine = xmalloc(sizeof(*mine)), *none = NULL;
	*mine = (struct tg_attached){data, free_fn};
	if (atomic_compare_exchange_strong(&base->attached, &none, mine))
		return data;
	free_fn(data); /* another caller was first: none is theirs */
	free(mine);
	return none->data;
}

void *task_graph_attached(const struct task_graph *tg)
{
	const struct task_graph *base = tg->base ? tg->base : tg;
	struct tg_attached *a = atomic_load(&((struct task_graph *)base)->attached);
	return a ? a->data : NULL;
}

struct task_graph *task_graph_share(struct task_graph *tg)
{
	struct task_graph *base = tg->base ? tg->base : tg;
	atomic_fetch_add(&base->refs, 1);
	struct task_graph *s = xcalloc(1, sizeof(*s));
	s->ws = base->ws;
	s->base = base;
	s->ntasks = base->ntasks;
	s->tasks = xmalloc((base->ntasks ? base->ntasks : 1) * sizeof(*s->tasks));
	if (base->ntasks) /* no tasks: base->tasks may be NULL */
		memcpy(s->tasks, base->tasks, base->ntasks * sizeof(*s->tasks));
	s->by_id = base->by_id;  /* read only, as the rest of base */
	s->notes = base->notes;
	return s;
}

int task_graph_find(const struct task_graph *tg, const char *id)
{
	return (int)(intptr_t)strmap_get(&tg->by_id, id) - 1;
}

/* ---- configurations and task creation ------------------------------- */

static const char *json_str(const cJSON *obj, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
	return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* Nx: the wanted configuration when the target has it, else its default. */
static const char *resolve_config(const struct ws_target *t, const char *want)
{
	const char *def = json_str(t->json, "defaultConfiguration");
	if (!want)
		want = def;
	const cJSON *cfgs = cJSON_GetObjectItemCaseSensitive(t->json, "configurations");
	if (want && cJSON_GetObjectItemCaseSensitive(cfgs, want))
		return want;
	return def;
}

static void frame_push(struct tgb *b, int task, int derive)
{
	char key[48];
	snprintf(key, sizeof(key), "%d/%d", task, derive);
	if (strmap_has(&b->seen, key))
		return;
	strmap_put(&b->seen, key, (void *)1);
	xgrow(&b->stack, &b->capstack, b->nstack + 1, sizeof(*b->stack));
	b->stack[b->nstack++] = (struct frame){task, derive, 0, 0};
}

/* Index of the task for (p, t) under the request's configuration, created
 * (with overrides) when new; negative on error. */
static int task_get(struct tgb *b, struct ws_project *p, struct ws_target *t,
                    const cJSON *overrides, bool requested)
{
	struct task_graph *tg = b->tg;
	const char *cfg = resolve_config(t, b->rq->configuration);
	char *id = cfg ? xasprintf("%s:%s:%s", p->name, t->name, cfg)
	               : xasprintf("%s:%s", p->name, t->name);
	int idx = task_graph_find(tg, id);
	if (idx >= 0) {
		free(id);
		tg->tasks[idx].requested |= requested;
		return idx;
	}
	size_t old = b->cap;
	xgrow(&tg->tasks, &b->cap, tg->ntasks + 1, sizeof(*tg->tasks));
	if (b->cap != old) {
		b->depcap = xrealloc(b->depcap, b->cap * sizeof(*b->depcap));
		b->cfgs = xrealloc(b->cfgs, b->cap * sizeof(*b->cfgs));
	}
	idx = (int)tg->ntasks;
	struct task *task = &tg->tasks[idx];
	memset(task, 0, sizeof(*task));
	memset(&b->cfgs[idx], 0, sizeof(b->cfgs[idx]));
	b->depcap[idx] = 0;
	task->id = id;
	task->project = p;
	task->target = t;
	task->configuration = cfg ? xstrdup(cfg) : NULL;
	task->requested = requested;
	task->cache = t->cache;
	task->continuous = t->continuous;
	tg->ntasks++;
	strmap_put(&tg->by_id, id, (void *)(intptr_t)(idx + 1));
	int r = tg__task_options(task, overrides, b->err);
	if (r < 0)
		return r;
	frame_push(b, idx, (int)(p - b->ws->projects));
	return idx;
}

static void edge_add(struct tgb *b, int from, int to)
{
	struct task *t = &b->tg->tasks[from];
	if (from == to)
		return;
	for (size_t i = 0; i < t->ndeps; i++)
		if (t->deps[i] == to)
			return;
	xgrow(&t->deps, &b->depcap[from], t->ndeps + 1, sizeof(*t->deps));
	t->deps[t->ndeps++] = to;
}

/* ---- dependsOn normalisation ---------------------------------------- */

static int schema_err(struct tgb *b, const struct task *t, size_t i, const char *what)
{
	return bld_err_at(b->err, BLD_ESCHEMA,
	                  t->project->config_file ? t->project->config_file : "", 0, 0,
	                  "%s:%s: dependsOn[%zu]: %s", t->project->name, t->target->name, i, what);
}

static void cfg_push(struct dep_cfgs *c, const struct dep_cfg *d)
{
	xgrow(&c->v, &c->cap, c->n + 1, sizeof(*c->v));
	c->v[c->n++] = *d;
}

/* Add a note (taking ownership of s) unless the same one is there. */
static void note(struct tgb *b, char *s)
{
	if (strvec_find(&b->tg->notes, s) < 0)
		strvec_push_owned(&b->tg->notes, s);
	else
		free(s);
}

/* "projects" as Nx reads it: "self", "dependencies", a pattern, or a list. */
static int cfg_projects(struct tgb *b, const struct task *t, size_t i, const cJSON *pj,
                        struct dep_cfg *d)
{
	if (cJSON_IsString(pj) && strcmp(pj->valuestring, "self") == 0)
		return 0;
	if (cJSON_IsString(pj) && strcmp(pj->valuestring, "dependencies") == 0) {
		d->dependencies = true;
		return 0;
	}
	struct strvec pats;
	strvec_init(&pats);
	const cJSON *it;
	if (cJSON_IsString(pj))
		strvec_push(&pats, pj->valuestring);
	else if (cJSON_IsArray(pj)) {
		cJSON_ArrayForEach(it, pj)
		{
			if (cJSON_IsString(it))
				strvec_push(&pats, it->valuestring);
		}
	}
	if (!cJSON_IsString(pj) && !cJSON_IsArray(pj)) {
		strvec_release(&pats);
		return schema_err(b, t, i, "\"projects\" must be a string or an array of strings");
	}
	bool *sel = xcalloc(b->ws->nprojects + 1, sizeof(*sel));
	size_t n = pats.n ? workspace_match_projects(b->ws, (const char *const *)pats.v, pats.n, sel, NULL) : 0;
	d->has_projects = true;
	d->projects = xcalloc(n + 1, sizeof(*d->projects));
	for (size_t k = 0; k < b->ws->nprojects; k++)
		if (sel[k])
			d->projects[d->nprojects++] = (int)k;
	if (n == 0)
		note(b, xasprintf("dependsOn of %s:%s: project patterns match no project",
		                  t->project->name, t->target->name));
	free(sel);
	strvec_release(&pats);
	return 0;
}

/* A string entry: "^t", "p:t" or "t". */
static void cfg_from_string(struct tgb *b, const char *s, struct dep_cfg *d)
{
	if (s[0] == '^') {
		d->target = xstrdup(s + 1);
		d->dependencies = true;
		return;
	}
	for (const char *c = strchr(s, ':'); c; c = strchr(c + 1, ':')) {
		char *proj = xstrndup(s, (size_t)(c - s));
		struct ws_project *p = tg__project(b->ws, proj);
		free(proj);
		if (p) {
			d->target = xstrdup(c + 1);
			d->has_projects = true;
			d->projects = xcalloc(1, sizeof(*d->projects));
			d->projects[0] = (int)(p - b->ws->projects);
			d->nprojects = 1;
			return;
		}
	}
	d->target = xstrdup(s);
}

static int cfg_from_object(struct tgb *b, const struct task *t, size_t i, const cJSON *o,
                           struct dep_cfg *d)
{
	const char *target = json_str(o, "target");
	if (!target)
		return schema_err(b, t, i, "expected an object with a string \"target\"");
	d->target = xstrdup(target);
	const char *params = json_str(o, "params"), *options = json_str(o, "options");
	d->forward_params = params && strcmp(params, "forward") == 0;
	d->forward_options = options && strcmp(options, "forward") == 0;
	d->dependencies = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(o, "dependencies"));
	const cJSON *pj = cJSON_GetObjectItemCaseSensitive(o, "projects");
	if (pj && !cJSON_IsNull(pj)) {
		int r = cfg_projects(b, t, i, pj, d);
		if (r < 0)
			return r;
		if (d->has_projects)
			d->dependencies = false; /* "projects" wins, as in Nx */
	}
	return 0;
}

static const struct strvec *all_targets(struct tgb *b)
{
	if (b->all_targets_done)
		return &b->all_targets;
	struct strmap seen;
	strmap_init(&seen);
	for (size_t i = 0; i < b->ws->nprojects; i++) {
		const struct ws_project *p = &b->ws->projects[i];
		for (size_t k = 0; k < p->ntargets; k++)
			if (!strmap_put(&seen, p->targets[k].name, (void *)1))
				strvec_push(&b->all_targets, p->targets[k].name);
	}
	strmap_release(&seen);
	strvec_sort(&b->all_targets);
	b->all_targets_done = true;
	return &b->all_targets;
}

/* Push d, or one copy per matching target name when d's target is a glob. */
static void cfg_add(struct tgb *b, struct dep_cfgs *c, struct dep_cfg *d)
{
	struct pattern g;
	if (!pattern_is_glob(d->target, PATTERN_NAMES) ||
	    pattern_init(&g, d->target, PATTERN_NAMES, NULL) < 0) {
		cfg_push(c, d);
		return;
	}
	const struct strvec *names = all_targets(b);
	for (size_t i = 0; i < names->n; i++) {
		if (!pattern_match(&g, names->v[i]))
			continue;
		struct dep_cfg copy = *d;
		copy.target = xstrdup(names->v[i]);
		if (d->projects) {
			copy.projects = xcalloc(d->nprojects + 1, sizeof(*copy.projects));
			memcpy(copy.projects, d->projects, d->nprojects * sizeof(*copy.projects));
		}
		cfg_push(c, &copy);
	}
	pattern_release(&g);
	free(d->target);
	free(d->projects);
}

static int cfgs_load(struct tgb *b, int ti)
{
	struct dep_cfgs *c = &b->cfgs[ti];
	if (c->done)
		return 0;
	c->done = true;
	const struct task *t = &b->tg->tasks[ti];
	const cJSON *deps = cJSON_GetObjectItemCaseSensitive(t->target->json, "dependsOn");
	if (!deps || cJSON_IsNull(deps))
		return 0;
	if (!cJSON_IsArray(deps))
		return schema_err(b, t, 0, "\"dependsOn\" must be an array");
	size_t i = 0;
	const cJSON *it;
	cJSON_ArrayForEach(it, deps)
	{
		struct dep_cfg d = {0};
		int r = 0;
		if (cJSON_IsString(it))
			cfg_from_string(b, it->valuestring, &d);
		else if (cJSON_IsObject(it))
			r = cfg_from_object(b, t, i, it, &d);
		else
			r = schema_err(b, t, i, "expected a string or an object with \"target\"");
		if (r < 0) {
			free(d.target);
			free(d.projects);
			return r;
		}
		cfg_add(b, c, &d);
		i++;
	}
	return 0;
}

/* ---- expansion ---------------------------------------------------------- */

/* Overrides a dependency gets from source task ti through d; NULL for none. */
static cJSON *dep_overrides(struct tgb *b, int ti, const struct dep_cfg *d)
{
	if (!d->forward_options && !(d->forward_params && b->rq->overrides))
		return NULL;
	cJSON *ov = cJSON_CreateObject();
	if (d->forward_options) {
		const struct task *src = &b->tg->tasks[ti];
		cJSON *opts = tg__target_options(src->target, src->configuration);
		tg__merge_into(ov, opts);
		cJSON_Delete(opts);
	}
	if (d->forward_params && b->rq->overrides)
		tg__merge_into(ov, b->rq->overrides);
	return ov;
}

/* Link task ti to target of d in project pi, creating it; 1 when pi lacks it. */
static int link_one(struct tgb *b, int ti, int pi, const struct dep_cfg *d, const cJSON *ov)
{
	struct ws_project *p = &b->ws->projects[pi];
	struct ws_target *t = tg__target(p, d->target);
	if (!t)
		return 1;
	int di = task_get(b, p, t, ov, false);
	if (di < 0)
		return di;
	edge_add(b, ti, di);
	return 0;
}

/* Candidate k of d for frame f: a project index, -1 to pass over, -2 past
 * the last. */
static int candidate(const struct tgb *b, const struct frame *f, const struct dep_cfg *d, size_t k)
{
	if (d->has_projects)
		return k < d->nprojects ? d->projects[k] : -2;
	if (d->dependencies) {
		const struct ws_project *p = &b->ws->projects[f->derive];
		if (k >= p->ndeps)
			return -2;
		/* bld's dependsOn edges are no project-graph edges for Nx */
		return p->deps[k].kind == WS_DEP_DEPENDSON ? -1 : p->deps[k].project;
	}
	return k == 0 ? (int)(b->tg->tasks[f->task].project - b->ws->projects) : -2;
}

/* One step: the next candidate of the top frame (which may push frames). */
static int expand_step(struct tgb *b)
{
	struct frame *f = &b->stack[b->nstack - 1];
	int r = cfgs_load(b, f->task);
	if (r < 0)
		return r;
	if (f->cfg >= b->cfgs[f->task].n) {
		b->nstack--;
		return 0;
	}
	const struct dep_cfg *d = &b->cfgs[f->task].v[f->cfg]; /* stable: v is not moved */
	int ti = f->task, pi = candidate(b, f, d, f->k++);
	if (pi == -2) {
		f->cfg++;
		f->k = 0;
		return 0;
	}
	if (pi == -1)
		return 0;
	cJSON *ov = dep_overrides(b, ti, d);
	r = link_one(b, ti, pi, d, ov); /* f is stale from here on */
	cJSON_Delete(ov);
	if (r == 1 && d->dependencies && !d->has_projects)
		frame_push(b, ti, pi); /* look through a project lacking the target */
	return r < 0 ? r : 0;
}

static int expand_all(struct tgb *b)
{
	/* requested tasks were pushed in order: expand the first one first */
	for (size_t i = 0, j = b->nstack; i + 1 < j; i++, j--) {
		struct frame t = b->stack[i];
		b->stack[i] = b->stack[j - 1];
		b->stack[j - 1] = t;
	}
	while (b->nstack) {
		int r = expand_step(b);
		if (r < 0)
			return r;
	}
	return 0;
}

/* ---- the request -------------------------------------------------------- */

static int err_no_project(struct tgb *b, const char *name)
{
	struct sbuf sb = SBUF_INIT;
	sbuf_init(&sb);
	const char **names = xcalloc(b->ws->nprojects + 1, sizeof(*names));
	for (size_t i = 0; i < b->ws->nprojects; i++)
		names[i] = b->ws->projects[i].name;
	tg__suggest(name, names, b->ws->nprojects, 3, &sb);
	free(names);
	int r = bld_err_set(b->err, BLD_ENOPROJECT, "cannot find project '%s'%s%s%s", name,
	                    sb.len ? "; did you mean " : "", sb.buf, sb.len ? "?" : "");
	sbuf_release(&sb);
	return r;
}

static int err_no_target(struct tgb *b, const struct ws_project *p, const char *name)
{
	struct sbuf sb = SBUF_INIT;
	sbuf_init(&sb);
	const char **names = xcalloc(p->ntargets + 1, sizeof(*names));
	for (size_t i = 0; i < p->ntargets; i++)
		names[i] = p->targets[i].name;
	tg__suggest(name, names, p->ntargets, 3, &sb);
	free(names);
	int r = bld_err_set(b->err, BLD_ENOTARGET, "project '%s' has no target '%s'%s%s%s", p->name,
	                    name, sb.len ? "; did you mean " : "", sb.buf, sb.len ? "?" : "");
	sbuf_release(&sb);
	return r;
}

static int add_requested(struct tgb *b)
{
	const struct tg_request *rq = b->rq;
	for (size_t i = 0; i < rq->projects.n; i++) {
		struct ws_project *p = tg__project(b->ws, rq->projects.v[i]);
		if (!p)
			return err_no_project(b, rq->projects.v[i]);
		size_t found = 0;
		for (size_t k = 0; k < rq->targets.n; k++) {
			struct ws_target *t = tg__target(p, rq->targets.v[k]);
			if (!t && rq->skip_missing)
				continue;
			if (!t)
				return err_no_target(b, p, rq->targets.v[k]);
			int r = task_get(b, p, t, rq->overrides, true);
			if (r < 0)
				return r;
			found++;
		}
		if (!found && rq->targets.n == 1)
			note(b, xasprintf("project '%s' has no target '%s': skipped", p->name,
			                  rq->targets.v[0]));
		else if (!found && rq->targets.n)
			note(b, xasprintf("project '%s' has none of the requested targets: skipped",
			                  p->name));
	}
	return 0;
}

int task_graph_build(struct workspace *ws, const struct tg_request *rq, struct task_graph **ret_tg,
                     struct bld_err *err)
{
	struct task_graph *tg = xcalloc(1, sizeof(*tg));
	atomic_init(&tg->refs, 1);
	tg->ws = ws;
	strmap_init(&tg->by_id);
	strvec_init(&tg->notes);
	struct tgb b = {.ws = ws, .rq = rq, .tg = tg, .err = err};
	strmap_init(&b.seen);
	strvec_init(&b.all_targets);
	int r = add_requested(&b);
	if (r >= 0)
		r = expand_all(&b);
	for (size_t i = 0; i < tg->ntasks && b.cfgs; i++)
		dep_cfgs_release(&b.cfgs[i]);
	free(b.cfgs);
	free(b.depcap);
	free(b.stack);
	strmap_release(&b.seen);
	strvec_release(&b.all_targets);
	if (r >= 0 && rq->exclude_task_deps)
		tg__prune_unrequested(tg);
	if (r >= 0)
		r = tg__finish(tg, err);
	if (r < 0) {
		task_graph_free(tg);
		return r;
	}
	*ret_tg = tg;
	return 0;
}
