/*
 * taskoutputs.c - a task's declared outputs as paths (tokens expanded, Nx's
 * defaults): the hasher's side of storing, which the store then takes as
 * plain workspace-relative paths (cache_store).
 *
 * Outputs as Nx resolves them (tasks-runner/utils.ts): each `outputs` string
 * with {workspaceRoot}/ dropped, {projectRoot}, {projectName} and
 * {options.a.b} replaced, and dropped when a token stays unresolved; with no
 * `outputs` at all: options.outputPath, else for `build` and `prepare`
 * targets dist/<root>, <root>/dist, <root>/build, <root>/public.
 */
#include "hasher_int.h"

#include <stdlib.h>
#include <string.h>

#include "bld/taskgraph.h"

/* Replace {options.a.b} tokens from opts; unresolvable ones stay as written. */
static char *expand_options(const char *s, const cJSON *opts)
{
	struct sbuf sb = SBUF_INIT;
	sbuf_init(&sb);
	while (*s) {
		const char *b = strstr(s, "{options.");
		const char *e = b ? strchr(b, '}') : NULL;
		if (!b || !e) {
			sbuf_adds(&sb, s);
			break;
		}
		sbuf_add(&sb, s, (size_t)(b - s));
		char *path = xstrndup(b + 9, (size_t)(e - b - 9));
		const cJSON *v = opts;
		char *sp = NULL; /* strtok_r: engine threads expand outputs concurrently */
		for (char *tok = strtok_r(path, ".", &sp); v && tok; tok = strtok_r(NULL, ".", &sp))
			v = cJSON_IsObject(v) ? cJSON_GetObjectItemCaseSensitive(v, tok) : NULL;
		if (cJSON_IsString(v) && *v->valuestring)
			sbuf_adds(&sb, v->valuestring);
		else if (cJSON_IsNumber(v) && v->valuedouble != 0)
			sbuf_addf(&sb, "%g", v->valuedouble);
		else if (cJSON_IsTrue(v))
			sbuf_adds(&sb, "true");
		else
			sbuf_add(&sb, b, (size_t)(e - b + 1));
		free(path);
		s = e + 1;
	}
	return sbuf_detach(&sb);
}

static void push_output(struct strvec *ret, const char *raw, const struct workspace *ws,
                        const struct ws_project *p, const cJSON *opts)
{
	bool neg = *raw == '!';
	char *c = workspace_expand_tokens(p, raw + neg, WS_TOKENS_PATH);
	char *d = expand_options(c, opts);
	const char *e = d;
	while (str_starts(e, "./"))
		e += 2;
	char *n = path_normalize(e);
	char *inside = *n == '/' && ws ? path_relative(ws->root, n) : NULL;
	if (inside) { /* an absolute path into the workspace (an option holding one) */
		free(n);
		n = inside;
	}
	bool unresolved = strstr(n, "{projectRoot}") || strstr(n, "{workspaceRoot}") ||
	                  strstr(n, "{options.") || strstr(n, "{projectName}");
	if (*n && !unresolved) {
		char *full = neg ? xasprintf("!%s", n) : xstrdup(n);
		if (strvec_find(ret, full) < 0)
			strvec_push_owned(ret, full);
		else
			free(full);
	}
	free(c);
	free(d);
	free(n);
}

void task_outputs(const struct workspace *ws, const struct task *t, struct strvec *ret)
{
	const cJSON *outs = cJSON_GetObjectItemCaseSensitive(t->target->json, "outputs");
	const struct ws_project *p = t->project;
	if (cJSON_IsArray(outs)) {
		const cJSON *it;
		cJSON_ArrayForEach(it, outs)
		{
			if (cJSON_IsString(it))
				push_output(ret, it->valuestring, ws, p, t->options);
		}
		return;
	}
	const cJSON *op = cJSON_GetObjectItemCaseSensitive(t->options, "outputPath");
	if (cJSON_IsString(op) && *op->valuestring) {
		push_output(ret, op->valuestring, ws, p, t->options);
	} else if (cJSON_IsArray(op)) {
		const cJSON *it;
		cJSON_ArrayForEach(it, op)
		{
			if (cJSON_IsString(it))
				push_output(ret, it->valuestring, ws, p, t->options);
		}
	} else if (!strcmp(t->target->name, "build") || !strcmp(t->target->name, "prepare")) {
		char *v[4] = {xasprintf("dist/%s", p->root), path_join(p->root, "dist"),
		              path_join(p->root, "build"), path_join(p->root, "public")};
		for (size_t i = 0; i < 4; i++) {
			push_output(ret, v[i], ws, p, t->options);
			free(v[i]);
		}
	}
}
