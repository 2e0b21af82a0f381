/* fuzz_config.c - libFuzzer target: loading nx.json and project.json with
 * the schema checks (graph/json.c, schema.c, project.c): the input is
 * nx.json, a line "---", then project.json.  What the reader and the schema
 * accept goes through ws__project_parse and ws__project_resolve (command
 * shorthand, targetDefaults merging, option tokens) as workspace_load does.
 * A package.json pass reads the second part with that schema too. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../graph/ws_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void load_project(struct workspace *ws, const char *text, size_t len)
{
	struct bld_err err;
	cJSON *json = NULL;
	struct ws_project p;
	if (ws__json_parse_as(text, len, "p/project.json", WS_SCHEMA_PROJECT, &json, &err) < 0)
		return;
	if (ws__project_parse(&p, json, text, "p/project.json", &err) == 0) {
		if (!p.name)
			p.name = ws__project_derive_name(p.root);
		struct ws_texts texts = {text, NULL};
		ws__project_resolve(ws, &p, &texts, &err);
	}
	ws__project_release(&p);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* NUL-terminated copies: the loader keeps texts as C strings for messages */
	char *all = malloc(size + 1);
	memcpy(all, data, size);
	all[size] = '\0';
	const char *sep = memmem(all, size, "\n---\n", 5);
	size_t nx_len = sep ? (size_t)(sep - all) : 0;
	const char *pj = sep ? sep + 5 : all;
	size_t pj_len = size - (size_t)(pj - all);
	char *nx_text = malloc(nx_len + 1), *pj_text = malloc(pj_len + 1);
	memcpy(nx_text, all, nx_len); /* not strndup: the text may hold NUL bytes */
	nx_text[nx_len] = '\0';
	memcpy(pj_text, pj, pj_len);
	pj_text[pj_len] = '\0';

	struct workspace ws;
	struct bld_err err;
	memset(&ws, 0, sizeof(ws));
	if (!sep || ws__json_parse_as(nx_text, nx_len, "nx.json", WS_SCHEMA_NX, &ws.nx_json,
	                              &err) == 0) {
		ws.target_defaults = cJSON_GetObjectItemCaseSensitive(ws.nx_json, "targetDefaults");
		ws.named_inputs = cJSON_GetObjectItemCaseSensitive(ws.nx_json, "namedInputs");
		load_project(&ws, pj_text, pj_len);
	}
	cJSON_Delete(ws.nx_json);

	cJSON *pkg = NULL;
	if (ws__json_parse_as(pj_text, pj_len, "p/package.json", WS_SCHEMA_PACKAGE, &pkg, &err) ==
	    0)
		cJSON_Delete(pkg);
	free(nx_text);
	free(pj_text);
	free(all);
	return 0;
}
