/*
 * tgopts.c - a task's options and the helpers of task-graph messages.
 *
 * Options are built as Nx builds them: the target's "options", then the
 * chosen configuration's object merged over them key by key, then the
 * task's overrides (forwarded arguments).  Tokens in strings are expanded
 * the way Nx resolves them in options: {workspaceRoot} only at the start,
 * where it is dropped with a following '/' (paths stay workspace-relative),
 * {projectRoot} (Nx's "." for the root project) and {projectName} anywhere.
 * {options.x}, {args.x} and {sourceRoot} are left as written: the first two
 * belong to outputs and to run-commands, Nx does not expand the third.
 */
#include <stdlib.h>
#include <string.h>

#include "bld/taskgraph.h"
#include "tg_int.h"

static int expand_string(cJSON *item, const struct ws_project *p, const char *where,
                         const char *key, struct bld_err *err)
{
	char *b = workspace_expand_tokens(p, item->valuestring, WS_TOKENS_OPTION);
	if (!b)
		return bld_err_at(err, BLD_ESCHEMA, p->config_file ? p->config_file : "", 0, 0,
		                  "%s: option %s: the {workspaceRoot} token is only valid at the "
		                  "beginning of an option (as in Nx)",
		                  where, key ? key : "?");
	if (strcmp(b, item->valuestring) != 0)
		cJSON_SetValuestring(item, b);
	free(b);
	return 0;
}

int tg__expand_options(cJSON *json, const struct ws_project *p, const char *where,
                       struct bld_err *err)
{
	cJSON *it;
	cJSON_ArrayForEach(it, json)
	{
		int r = 0;
		if (cJSON_IsString(it) && it->valuestring)
			r = expand_string(it, p, where, it->string, err);
		else if (cJSON_IsObject(it) || cJSON_IsArray(it))
			r = tg__expand_options(it, p, where, err);
		if (r < 0)
			return r;
	}
	return 0;
}

/* Shallow merge: every member of src replaces the same key of dst (copies). */
void tg__merge_into(cJSON *dst, const cJSON *src)
{
	const cJSON *it;
	if (!cJSON_IsObject(src))
		return;
	cJSON_ArrayForEach(it, src)
	{
		if (!it->string || strcmp(it->string, "__overrides_unparsed__") == 0)
			continue;
		cJSON *copy = cJSON_Duplicate(it, true);
		if (cJSON_GetObjectItemCaseSensitive(dst, it->string))
			cJSON_ReplaceItemInObjectCaseSensitive(dst, it->string, copy);
		else
			cJSON_AddItemToObject(dst, it->string, copy);
	}
}

/* The target's options merged with configuration cfg's (may be NULL). */
cJSON *tg__target_options(const struct ws_target *t, const char *cfg)
{
	cJSON *opts = cJSON_CreateObject();
	tg__merge_into(opts, cJSON_GetObjectItemCaseSensitive(t->json, "options"));
	if (cfg) {
		cJSON *cfgs = cJSON_GetObjectItemCaseSensitive(t->json, "configurations");
		tg__merge_into(opts, cJSON_GetObjectItemCaseSensitive(cfgs, cfg));
	}
	return opts;
}

int tg__task_options(struct task *task, const cJSON *overrides, struct bld_err *err)
{
	char *where = xasprintf("%s:%s", task->project->name, task->target->name);
	cJSON *opts = tg__target_options(task->target, task->configuration);
	int r = tg__expand_options(opts, task->project, where, err);
	if (r >= 0 && overrides) {
		/* overrides come from the command line, not from a project file */
		struct ws_project cli = *task->project;
		cli.config_file = NULL;
		char *cli_where = xasprintf("%s (a command-line override)", where);
		cJSON *ov = cJSON_Duplicate(overrides, true);
		r = tg__expand_options(ov, &cli, cli_where, err);
		free(cli_where);
		tg__merge_into(opts, ov);
		cJSON_Delete(ov);
	}
	free(where);
	if (r < 0) {
		cJSON_Delete(opts);
		return r;
	}
	task->options = opts;
	return 0;
}

struct cand {
	const char *name;
	int dist;
};

static int cand_cmp(const void *a, const void *b)
{
	const struct cand *x = a, *y = b;
	if (x->dist != y->dist)
		return x->dist - y->dist;
	return strcmp(x->name, y->name);
}

void tg__suggest(const char *name, const char *const *cands, size_t ncands, size_t max,
                 struct sbuf *out)
{
	int limit = (int)strlen(name) / 3 + 1;
	if (limit > 3)
		limit = 3;
	struct cand *c = xcalloc(ncands + 1, sizeof(*c));
	size_t n = 0;
	for (size_t i = 0; i < ncands; i++) {
		int d = str_edit_distance(name, cands[i], limit);
		if (d > limit && !(strlen(name) >= 3 && strstr(cands[i], name)))
			continue;
		c[n].name = cands[i];
		c[n++].dist = d;
	}
	qsort(c, n, sizeof(*c), cand_cmp);
	for (size_t i = 0; i < n && i < max; i++)
		sbuf_addf(out, "%s'%s'", i ? ", " : "", c[i].name);
	free(c);
}
