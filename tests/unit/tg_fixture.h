/*
 * tg_fixture.h - temporary Nx workspaces on disk for the task-graph tests
 * (test_taskgraph.c, test_select.c, test_export.c).
 *
 * fx_load(spec) writes every file of spec - a JSON object mapping a
 * workspace-relative path to its JSON content, written with single quotes
 * for readability - into a new temporary git repository, then loads it with
 * the real workspace_load().
 */
#ifndef TG_FIXTURE_H
#define TG_FIXTURE_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "bld/base.h"
#include "bld/err.h"
#include "bld/workspace.h"

struct fixture {
	char dir[256];
	struct workspace *ws;
};

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
	if (workspace_load(fx->dir, NULL, &fx->ws, &err) < 0) {
		fprintf(stderr, "fixture: workspace_load: %s\n", err.msg);
		abort();
	}
	return fx->ws;
}

static void fx_release(struct fixture *fx)
{
	workspace_free(fx->ws);
	fx->ws = NULL;
	if (fx->dir[0])
		rm_rf(fx->dir);
}

#endif
