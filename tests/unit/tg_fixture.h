/*
 * tg_fixture.h - temporary Nx workspaces on disk for the task-graph tests
 * (test_taskgraph.c, test_select.c, test_export.c).
 *
 * fx_load(spec) writes every file of spec - a JSON object mapping a
 * workspace-relative path to its JSON content, written with single quotes
 * for readability - into a new temporary git repository, then loads it with
 * workspace_load().  While graph/workspace.c is still the link-only stub
 * (workspace_load returns -ENOSYS), a small loader here builds the same
 * struct workspace from the files (names, roots, tags, implicit
 * dependencies, targets with nx.json targetDefaults merged by target name);
 * it goes away once the real loader lands.
 */
#ifndef TG_FIXTURE_H
#define TG_FIXTURE_H

#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "bld/base.h"
#include "bld/err.h"
#include "bld/workspace.h"

struct fixture {
	char dir[256];
	struct workspace *ws;
	bool own; /* ws built by the fallback loader below */
};

/* ---- fallback loader (only while workspace_load is a stub) ------------- */

static struct strvec fx__found;

static int fx__walk_cb(const char *path, const struct stat *st, int type, struct FTW *f)
{
	(void)st;
	(void)f;
	if (type == FTW_F && strcmp(path_basename(path), "project.json") == 0)
		strvec_push(&fx__found, path);
	return 0;
}

static cJSON *fx__read_json(const char *path)
{
	char *buf;
	size_t len;
	if (file_read(path, &buf, &len) < 0)
		return NULL;
	cJSON *j = cJSON_Parse(buf);
	free(buf);
	return j;
}

static void fx__strvec_from(struct strvec *sv, const cJSON *arr)
{
	const cJSON *it;
	strvec_init(sv);
	cJSON_ArrayForEach(it, arr)
	{
		if (cJSON_IsString(it))
			strvec_push(sv, it->valuestring);
	}
}

/* A target: targetDefaults[name] with the project's keys over it. */
static void fx__target(struct ws_target *t, const char *name, const cJSON *tj,
                       const cJSON *defaults)
{
	cJSON *m = cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(defaults, name), true);
	if (!m)
		m = cJSON_CreateObject();
	const cJSON *it;
	cJSON_ArrayForEach(it, tj)
	{
		cJSON_DeleteItemFromObjectCaseSensitive(m, it->string);
		cJSON_AddItemToObject(m, it->string, cJSON_Duplicate(it, true));
	}
	const cJSON *cmd = cJSON_GetObjectItemCaseSensitive(m, "command");
	if (cmd) {
		cJSON *opts = cJSON_GetObjectItemCaseSensitive(m, "options");
		if (!opts)
			opts = cJSON_AddObjectToObject(m, "options");
		cJSON_AddItemToObject(opts, "command", cJSON_Duplicate(cmd, true));
		cJSON_DeleteItemFromObjectCaseSensitive(m, "command");
	}
	const cJSON *ex = cJSON_GetObjectItemCaseSensitive(m, "executor");
	t->name = xstrdup(name);
	t->executor = xstrdup(cJSON_IsString(ex) ? ex->valuestring : "nx:run-commands");
	t->json = m;
	t->cache = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(m, "cache"));
	t->continuous = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(m, "continuous"));
}

static int fx__cmp_project(const void *a, const void *b)
{
	return strcmp(((const struct ws_project *)a)->name, ((const struct ws_project *)b)->name);
}

static void fx__project(struct workspace *ws, struct ws_project *p, const char *file,
                        const cJSON *defaults)
{
	cJSON *j = fx__read_json(file);
	char *rel = path_relative(ws->root, file);
	p->root = path_dirname(rel);
	p->config_file = rel;
	const cJSON *name = cJSON_GetObjectItemCaseSensitive(j, "name");
	p->name = xstrdup(cJSON_IsString(name) ? name->valuestring : path_basename(p->root));
	const cJSON *pt = cJSON_GetObjectItemCaseSensitive(j, "projectType");
	p->project_type = cJSON_IsString(pt) ? xstrdup(pt->valuestring) : NULL;
	fx__strvec_from(&p->tags, cJSON_GetObjectItemCaseSensitive(j, "tags"));
	fx__strvec_from(&p->implicit_deps,
	                cJSON_GetObjectItemCaseSensitive(j, "implicitDependencies"));
	const cJSON *targets = cJSON_GetObjectItemCaseSensitive(j, "targets"), *it;
	p->targets = xcalloc((size_t)cJSON_GetArraySize(targets) + 1, sizeof(*p->targets));
	cJSON_ArrayForEach(it, targets)
	{
		fx__target(&p->targets[p->ntargets++], it->string, it, defaults);
	}
	cJSON_Delete(j);
}

static struct workspace *fx__fallback_load(const char *root)
{
	struct workspace *ws = xcalloc(1, sizeof(*ws));
	ws->root = xstrdup(root);
	char *nxp = path_join(root, "nx.json");
	ws->nx_json = fx__read_json(nxp);
	free(nxp);
	const cJSON *defaults = cJSON_GetObjectItemCaseSensitive(ws->nx_json, "targetDefaults");
	strvec_init(&fx__found);
	nftw(root, fx__walk_cb, 16, FTW_PHYS);
	strvec_sort(&fx__found);
	ws->projects = xcalloc(fx__found.n + 1, sizeof(*ws->projects));
	for (size_t i = 0; i < fx__found.n; i++)
		fx__project(ws, &ws->projects[ws->nprojects++], fx__found.v[i], defaults);
	strvec_release(&fx__found);
	qsort(ws->projects, ws->nprojects, sizeof(*ws->projects), fx__cmp_project);
	strmap_init(&ws->by_name);
	for (size_t i = 0; i < ws->nprojects; i++)
		strmap_put(&ws->by_name, ws->projects[i].name, &ws->projects[i]);
	for (size_t i = 0; i < ws->nprojects; i++) {
		struct ws_project *p = &ws->projects[i];
		p->deps = xcalloc(p->implicit_deps.n + 1, sizeof(*p->deps));
		for (size_t k = 0; k < ws->nprojects; k++) /* sorted by project index */
			if (strvec_find(&p->implicit_deps, ws->projects[k].name) >= 0)
				p->deps[p->ndeps++] =
				    (struct ws_dep){(int)k, WS_DEP_IMPLICIT, NULL};
	}
	return ws;
}

static void fx__fallback_free(struct workspace *ws)
{
	for (size_t i = 0; i < ws->nprojects; i++) {
		struct ws_project *p = &ws->projects[i];
		for (size_t k = 0; k < p->ntargets; k++) {
			free(p->targets[k].name);
			free(p->targets[k].executor);
			cJSON_Delete(p->targets[k].json);
		}
		free(p->targets);
		free(p->name);
		free(p->root);
		free(p->config_file);
		free(p->project_type);
		free(p->deps);
		strvec_release(&p->tags);
		strvec_release(&p->implicit_deps);
	}
	free(ws->projects);
	strmap_release(&ws->by_name);
	cJSON_Delete(ws->nx_json);
	free(ws->root);
	free(ws);
}

/* ---- the fixture ---------------------------------------------------------- */

/* Write spec's files (single quotes stand for double quotes) and load them. */
static struct workspace *fx_load(struct fixture *fx, const char *spec)
{
	char *text = xstrdup(spec);
	for (char *c = text; *c; c++)
		if (*c == '\'')
			*c = '"';
	cJSON *files = cJSON_Parse(text);
	free(text);
	if (!files) {
		fprintf(stderr, "fixture: bad spec near: %s\n", cJSON_GetErrorPtr());
		abort();
	}
	snprintf(fx->dir, sizeof(fx->dir), "/tmp/bld-tg-XXXXXX");
	if (!mkdtemp(fx->dir))
		abort();
	if (!cJSON_GetObjectItemCaseSensitive(files, "nx.json"))
		cJSON_AddItemToObject(files, "nx.json", cJSON_CreateObject());
	const cJSON *f;
	cJSON_ArrayForEach(f, files)
	{
		char *path = path_join(fx->dir, f->string);
		char *dir = path_dirname(path);
		char *body = cJSON_Print(f);
		mkdir_p(dir, 0755);
		file_write_atomic(path, body, strlen(body), 0644);
		free(body);
		free(dir);
		free(path);
	}
	cJSON_Delete(files);
	char cmd[400];
	snprintf(cmd, sizeof(cmd), "git init -q '%s' >/dev/null 2>&1", fx->dir);
	if (system(cmd) != 0)
		abort();
	struct bld_err err = {0};
	int r = workspace_load(fx->dir, NULL, &fx->ws, &err);
	fx->own = (r == -ENOSYS);
	if (fx->own)
		fx->ws = fx__fallback_load(fx->dir);
	else if (r < 0) {
		fprintf(stderr, "fixture: workspace_load: %s\n", err.msg);
		abort();
	}
	return fx->ws;
}

static void fx_release(struct fixture *fx)
{
	if (fx->own)
		fx__fallback_free(fx->ws);
	else
		workspace_free(fx->ws);
	fx->ws = NULL;
	if (fx->dir[0])
		rm_rf(fx->dir);
}

#endif
