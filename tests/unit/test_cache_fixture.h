/*
 * test_cache_fixture.h - a hand-built workspace and task graph on a real
 * temporary folder, for the cache unit tests (no workspace loader needed).
 */
#ifndef TEST_CACHE_FIXTURE_H
#define TEST_CACHE_FIXTURE_H

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "bld/cache.h"
#include "bld/taskgraph.h"
#include "bld/workspace.h"

#define FX_MAX 16

struct fx {
	char root[256];
	struct workspace ws;
	struct task_graph tg;
	cJSON *pjson[FX_MAX];
};

static inline void fx_write(struct fx *f, const char *rel, const char *content)
{
	char *abs = path_join(f->root, rel), *dir = path_dirname(abs);
	mkdir_p(dir, 0755);
	FILE *fp = fopen(abs, "w");
	fputs(content, fp);
	fclose(fp);
	free(dir);
	free(abs);
}

static inline void fx_nxjson(struct fx *f, const char *text)
{
	cJSON_Delete(f->ws.nx_json);
	f->ws.nx_json = cJSON_Parse(text);
	f->ws.named_inputs = cJSON_GetObjectItem(f->ws.nx_json, "namedInputs");
	fx_write(f, "nx.json", text);
}

static inline void fx_init(struct fx *f)
{
	memset(f, 0, sizeof(*f));
	snprintf(f->root, sizeof(f->root), "/tmp/bld-cache-test-XXXXXX");
	if (!mkdtemp(f->root))
		abort();
	f->ws.root = xstrdup(f->root);
	f->ws.projects = xcalloc(FX_MAX, sizeof(struct ws_project));
	f->tg.tasks = xcalloc(FX_MAX, sizeof(struct task));
	f->tg.ws = &f->ws;
	strvec_init(&f->ws.files);
	strmap_init(&f->ws.by_name);
	strmap_init(&f->tg.by_id);
	fx_nxjson(f, "{}");
}

/* A project from a project.json-like text: namedInputs, tags, targets. */
static inline int fx_project(struct fx *f, const char *name, const char *root, const char *json)
{
	int i = (int)f->ws.nprojects++;
	struct ws_project *p = &f->ws.projects[i];
	cJSON *j = f->pjson[i] = cJSON_Parse(json);
	p->name = xstrdup(name);
	p->root = xstrdup(root);
	p->config_file = xasprintf("%s%sproject.json", root, *root ? "/" : "");
	strvec_init(&p->tags);
	strvec_init(&p->implicit_deps);
	p->json = j;
	p->named_inputs = cJSON_GetObjectItem(j, "namedInputs");
	const cJSON *t, *targets = cJSON_GetObjectItem(j, "targets");
	p->targets = xcalloc(8, sizeof(struct ws_target));
	cJSON_ArrayForEach(t, targets)
	{
		struct ws_target *wt = &p->targets[p->ntargets++];
		const cJSON *ex = cJSON_GetObjectItem(t, "executor");
		wt->name = xstrdup(t->string);
		wt->executor = xstrdup(ex ? ex->valuestring : "nx:run-commands");
		wt->json = (cJSON *)t;
		wt->cache = !cJSON_IsFalse(cJSON_GetObjectItem(t, "cache"));
		wt->has_inputs = cJSON_GetObjectItem(t, "inputs") != NULL;
	}
	strmap_put(&f->ws.by_name, name, p);
	fx_write(f, p->config_file, json);
	return i;
}

static inline void fx_dep(struct fx *f, int a, int b)
{
	struct ws_project *p = &f->ws.projects[a];
	p->deps = realloc(p->deps, sizeof(*p->deps) * (p->ndeps + 1));
	p->deps[p->ndeps++] = (struct ws_dep){b, WS_DEP_IMPLICIT, NULL};
}

static inline void fx_walk(struct fx *f, const char *rel)
{
	char *abs = *rel ? path_join(f->root, rel) : xstrdup(f->root);
	DIR *d = opendir(abs);
	struct dirent *de;
	while (d && (de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, "..") ||
		    !strcmp(de->d_name, ".bld") || (!*rel && !strcmp(de->d_name, "dist")))
			continue;
		char *sub = path_join(rel, de->d_name), *sabs = path_join(f->root, sub);
		struct stat st;
		lstat(sabs, &st);
		if (S_ISDIR(st.st_mode))
			fx_walk(f, sub);
		else
			strvec_push(&f->ws.files, sub);
		free(sub);
		free(sabs);
	}
	if (d)
		closedir(d);
	free(abs);
}

/* Re-list the workspace's files (call after edits, as a new request would). */
static inline void fx_scan(struct fx *f)
{
	strvec_release(&f->ws.files);
	strvec_init(&f->ws.files);
	fx_walk(f, "");
	strvec_sort(&f->ws.files);
	workspace_owners_build(&f->ws);
}

static inline int fx_task(struct fx *f, int project, const char *target)
{
	int i = (int)f->tg.ntasks++;
	struct task *t = &f->tg.tasks[i];
	struct ws_project *p = &f->ws.projects[project];
	t->project = p;
	t->target = ws_project_target(p, target);
	for (size_t k = 0; !t->target && k < p->ntargets; k++)
		if (!strcmp(p->targets[k].name, target))
			t->target = &p->targets[k];
	t->id = xasprintf("%s:%s", p->name, target);
	const cJSON *o = cJSON_GetObjectItem(t->target->json, "options");
	t->options = o ? cJSON_Duplicate(o, 1) : cJSON_CreateObject();
	t->cache = t->target->cache;
	t->deps = xcalloc(FX_MAX, sizeof(int));
	strmap_put(&f->tg.by_id, t->id, (void *)(intptr_t)(i + 1));
	return i;
}

static inline void fx_taskdep(struct fx *f, int a, int b)
{
	struct task *t = &f->tg.tasks[a];
	t->deps[t->ndeps++] = b;
}

/* Hash task i as a fresh request would; 0 or negative. */
static inline int fx_hash_env(struct fx *f, struct cache *c, int i, char *const *env, char out[33],
                              cJSON **manifest, struct bld_err *err)
{
	struct hasher *h;
	fx_scan(f);
	int r = hasher_new(&f->ws, c, env, &h, err);
	if (r == 0)
		r = hasher_task_hash(h, &f->tg, i, manifest, err);
	if (r == 0)
		memcpy(out, f->tg.tasks[i].hash, 33);
	hasher_free(h);
	return r;
}

static inline void fx_hash(struct fx *f, int i, char out[33])
{
	struct bld_err err = {0};
	int r = fx_hash_env(f, NULL, i, NULL, out, NULL, &err);
	if (r) {
		fprintf(stderr, "hash failed: %s\n", err.msg);
		abort();
	}
}

static inline void fx_free(struct fx *f)
{
	char *cmd = xasprintf("rm -rf '%s'", f->root);
	if (system(cmd)) {
	}
	free(cmd);
	for (size_t i = 0; i < f->tg.ntasks; i++) {
		free(f->tg.tasks[i].id);
		free(f->tg.tasks[i].deps);
		cJSON_Delete(f->tg.tasks[i].options);
	}
	free(f->tg.tasks);
	for (size_t i = 0; i < f->ws.nprojects; i++) {
		struct ws_project *p = &f->ws.projects[i];
		for (size_t k = 0; k < p->ntargets; k++) {
			free(p->targets[k].name);
			free(p->targets[k].executor);
		}
		free(p->targets);
		free(p->name);
		free(p->root);
		free(p->config_file);
		free(p->deps);
		strvec_release(&p->tags);
		strvec_release(&p->implicit_deps);
		cJSON_Delete(f->pjson[i]);
	}
	free(f->ws.projects);
	free(f->ws.root);
	cJSON_Delete(f->ws.nx_json);
	workspace_owners_release(&f->ws);
	strvec_release(&f->ws.files);
	strmap_release(&f->ws.by_name);
	strmap_release(&f->tg.by_id);
}

#endif
