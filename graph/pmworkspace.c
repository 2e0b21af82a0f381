/*
 * pmworkspace.c - the package manager's workspace: which package.json files
 * are projects, and which package manager runs their scripts.
 *
 * What Nx 22.1.3 does (its package.json plugin, watched with nx-oracle and
 * read in getGlobPatternsFromPackageManagerWorkspaces):
 *
 *  - Patterns come from, in this order and all together: "workspaces" of the
 *    root package.json (an array, or {"packages": [...]} as yarn writes
 *    it), "packages" of pnpm-workspace.yaml, and "packages" of lerna.json
 *    (a default of packages/<star> when it has none).  The root package.json is
 *    a project too when it has an "nx" key.
 *  - Each pattern not ending in "/package.json" gets "/package.json"
 *    appended (the path normalised: "./a/b" and "a/b/" are "a/b"); "!x"
 *    patterns exclude.  A package.json is a project when some positive
 *    pattern matches its path and no negative one does; with negative
 *    patterns only, every package.json is a candidate.  Matching is
 *    minimatch's: "*" stays in one folder, "**" crosses folders.
 *  - Only files the workspace walk keeps count (.gitignore, .nxignore,
 *    node_modules), as for project.json files.
 *  - The package manager (for nx:run-script and runCommand): nx.json
 *    "cli": {"packageManager"}, else bun.lockb/bun.lock -> bun, yarn.lock
 *    -> yarn, pnpm-lock.yaml -> pnpm, else npm.
 *
 * Unlike Nx, which warns and goes on, a malformed pnpm-workspace.yaml,
 * lerna.json or root package.json is an error naming file:line:col.
 */
#include "ws_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yaml.h>

void ws__pm_init(struct ws_pm *pm)
{
	strvec_init(&pm->include);
	strvec_init(&pm->exclude);
	pm->root_project = false;
	pm->inc = pm->exc = NULL;
	pm->ninc = pm->nexc = 0;
	strvec_init(&pm->members);
}

void ws__pm_release(struct ws_pm *pm)
{
	strvec_release(&pm->include);
	strvec_release(&pm->exclude);
	for (size_t i = 0; i < pm->ninc; i++)
		pattern_release(&pm->inc[i]);
	for (size_t i = 0; i < pm->nexc; i++)
		pattern_release(&pm->exc[i]);
	free(pm->inc);
	free(pm->exc);
	strvec_release(&pm->members);
	pm->inc = pm->exc = NULL;
	pm->ninc = pm->nexc = 0;
}

/* Nx's normalizePatterns: ".../package.json", "./" dropped, "!" kept. */
static void add_pattern(struct ws_pm *pm, const char *pat)
{
	bool neg = pat[0] == '!';
	const char *body = pat + neg;
	char *joined = !*body || !strcmp(body, ".") ? xstrdup("package.json")
	               : str_ends(body, "/package.json") || !strcmp(body, "package.json")
	                   ? xstrdup(body)
	                   : xasprintf("%s/package.json", body);
	char *norm = path_normalize(joined);
	free(joined);
	strvec_push_owned(neg ? &pm->exclude : &pm->include, norm);
}

/* An array of pattern strings in a JSON file's key; file/text for messages. */
static int add_json_patterns(struct ws_pm *pm, const cJSON *arr, const char *what,
                             const char *file, const char *text, struct bld_err *err)
{
	const cJSON *e;
	int line, col;
	if (!cJSON_IsArray(arr)) {
		ws__json_key_pos(text, what, &line, &col);
		return bld_err_at(err, BLD_ESCHEMA, file, line, col,
		                  "\"%s\" must be an array of glob strings (\"packages/*\"), not %s",
		                  what, ws__json_kind(arr));
	}
	cJSON_ArrayForEach(e, arr)
	{
		if (!cJSON_IsString(e)) {
			ws__json_key_pos(text, what, &line, &col);
			return bld_err_at(err, BLD_ESCHEMA, file, line, col,
			                  "\"%s\" must hold only strings, not %s", what,
			                  ws__json_kind(e));
		}
		add_pattern(pm, e->valuestring);
	}
	return 0;
}

/* "workspaces": [...] or {"packages": [...]} (yarn's form; other keys such
 * as "nohoist" are the package manager's). */
static int root_workspaces(struct ws_pm *pm, const cJSON *pkg, const char *text,
                           struct bld_err *err)
{
	const cJSON *w = cJSON_GetObjectItemCaseSensitive(pkg, "workspaces");
	if (!w)
		return 0;
	if (cJSON_IsObject(w)) {
		const cJSON *p = cJSON_GetObjectItemCaseSensitive(w, "packages");
		return p ? add_json_patterns(pm, p, "packages", "package.json", text, err) : 0;
	}
	if (!cJSON_IsArray(w)) {
		int line, col;
		ws__json_key_pos(text, "workspaces", &line, &col);
		return bld_err_at(err, BLD_ESCHEMA, "package.json", line, col,
		                  "\"workspaces\" must be an array of globs or an object with "
		                  "\"packages\", not %s",
		                  ws__json_kind(w));
	}
	return add_json_patterns(pm, w, "workspaces", "package.json", text, err);
}

/* ---- pnpm-workspace.yaml ---- */

static int yaml_fail(struct bld_err *err, const yaml_mark_t *m, const char *what)
{
	return bld_err_at(err, BLD_EPARSE, "pnpm-workspace.yaml", (int)m->line + 1,
	                  (int)m->column + 1, "%s", what);
}

/* "packages" of the document's top-level mapping, if any. */
static int pnpm_packages(struct ws_pm *pm, yaml_document_t *doc, struct bld_err *err)
{
	yaml_node_t *root = yaml_document_get_root_node(doc);
	if (!root || (root->type == YAML_SCALAR_NODE && !root->data.scalar.length))
		return 0; /* empty file */
	if (root->type != YAML_MAPPING_NODE)
		return yaml_fail(err, &root->start_mark,
		                 "pnpm-workspace.yaml must be a mapping (packages: [...])");
	for (yaml_node_pair_t *kv = root->data.mapping.pairs.start;
	     kv < root->data.mapping.pairs.top; kv++) {
		yaml_node_t *k = yaml_document_get_node(doc, kv->key);
		yaml_node_t *v = yaml_document_get_node(doc, kv->value);
		if (!k || k->type != YAML_SCALAR_NODE ||
		    strcmp((const char *)k->data.scalar.value, "packages"))
			continue;
		if (v->type == YAML_SCALAR_NODE && !strcmp((const char *)v->data.scalar.value, "") &&
		    v->data.scalar.style == YAML_PLAIN_SCALAR_STYLE)
			return 0; /* "packages:" with nothing: none */
		if (v->type != YAML_SEQUENCE_NODE)
			return yaml_fail(err, &v->start_mark,
			                 "\"packages\" must be a list of glob strings "
			                 "(- \"packages/*\")");
		for (yaml_node_item_t *it = v->data.sequence.items.start;
		     it < v->data.sequence.items.top; it++) {
			yaml_node_t *e = yaml_document_get_node(doc, *it);
			if (!e || e->type != YAML_SCALAR_NODE)
				return yaml_fail(err, e ? &e->start_mark : &v->start_mark,
				                 "each \"packages\" entry must be a glob string");
			add_pattern(pm, (const char *)e->data.scalar.value);
		}
	}
	return 0;
}

static int read_pnpm(struct ws_pm *pm, const struct ws_src *src, struct bld_err *err)
{
	char *text;
	size_t len;
	int rc = ws__src_read(src, "pnpm-workspace.yaml", &text, &len);
	if (rc < 0)
		return bld_err_set(err, rc, "pnpm-workspace.yaml: %s", strerror(-rc));
	yaml_parser_t parser;
	yaml_document_t doc;
	yaml_parser_initialize(&parser);
	yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
	if (!yaml_parser_load(&parser, &doc)) {
		const yaml_mark_t *m =
		    parser.problem_mark.line || parser.problem_mark.column ? &parser.problem_mark
		                                                           : &parser.context_mark;
		char what[300];
		snprintf(what, sizeof(what), "malformed YAML: %s%s%s",
		         parser.problem ? parser.problem : "parse error",
		         parser.context ? " " : "", parser.context ? parser.context : "");
		rc = yaml_fail(err, m, what);
	} else {
		rc = pnpm_packages(pm, &doc, err);
		yaml_document_delete(&doc);
	}
	yaml_parser_delete(&parser);
	free(text);
	return rc;
}

/* ---- lerna.json ---- */

static int read_lerna(struct ws_pm *pm, const struct ws_src *src, struct bld_err *err)
{
	cJSON *json = NULL;
	char *text = NULL;
	int rc = ws__src_json(src, "lerna.json", WS_SCHEMA_NONE, &json, &text, err);
	if (rc < 0)
		return rc;
	const cJSON *p = cJSON_GetObjectItemCaseSensitive(json, "packages");
	if (cJSON_GetArraySize(p) > 0)
		rc = add_json_patterns(pm, p, "packages", "lerna.json", text, err);
	else
		add_pattern(pm, "packages/*");
	cJSON_Delete(json);
	free(text);
	return rc;
}

/* Package-manager globs are minimatch's, which Nx calls without dot: true;
 * the pattern module's name dialect is minimatch with dot: true, and
 * ws__pm_matches makes up the difference for paths with '.' folders. */
static int compile(const struct strvec *src, struct pattern **ret, size_t *ret_n,
                   struct bld_err *err)
{
	*ret = xcalloc(src->n + 1, sizeof(**ret));
	for (size_t i = 0; i < src->n; i++) {
		int rc = pattern_init(&(*ret)[i], src->v[i], PATTERN_NAMES, err);
		if (rc < 0)
			return rc;
		(*ret_n)++;
	}
	return 0;
}

int ws__pm_read(struct ws_pm *pm, const struct workspace *ws, const struct ws_src *src,
                struct bld_err *err)
{
	int rc = 0;
	if (workspace_has_file(ws, "package.json")) {
		cJSON *json = NULL;
		char *text = NULL;
		rc = ws__src_json(src, "package.json", WS_SCHEMA_PACKAGE, &json, &text,
		                      err);
		if (rc == 0 && !cJSON_IsObject(json))
			rc = bld_err_at(err, BLD_ESCHEMA, "package.json", 1, 1,
			                "package.json must hold an object, not %s",
			                ws__json_kind(json));
		if (rc == 0)
			rc = root_workspaces(pm, json, text, err);
		pm->root_project = rc == 0 && ws__json_has(json, "nx");
		cJSON_Delete(json);
		free(text);
	}
	if (rc == 0 && workspace_has_file(ws, "pnpm-workspace.yaml"))
		rc = read_pnpm(pm, src, err);
	if (rc == 0 && workspace_has_file(ws, "lerna.json"))
		rc = read_lerna(pm, src, err);
	if (pm->root_project)
		strvec_push(&pm->include, "package.json");
	/* negations alone (or beside only the root's own entry) mean "all but" */
	if (pm->exclude.n && (!pm->include.n || (pm->include.n == 1 && pm->root_project)))
		strvec_push(&pm->include, "**/package.json");
	if (rc == 0)
		rc = compile(&pm->include, &pm->inc, &pm->ninc, err);
	if (rc == 0)
		rc = compile(&pm->exclude, &pm->exc, &pm->nexc, err);
	return rc;
}

/* Does s have a path segment that starts with '.'? */
static bool has_dot_segment(const char *s)
{
	return s[0] == '.' || strstr(s, "/.") != NULL;
}

bool ws__pm_matches(const struct ws_pm *pm, const char *path)
{
	/* minimatch without dot: true: "*" and "**" never match a name starting
	 * with '.', so such a path needs a pattern that spells a '.' segment out */
	bool dotted = has_dot_segment(path), in = false;
	for (size_t i = 0; i < pm->ninc && !in; i++)
		in = (!dotted || has_dot_segment(pm->include.v[i])) &&
		     pattern_match(&pm->inc[i], path);
	for (size_t i = 0; i < pm->nexc && in; i++)
		in = !pattern_match(&pm->exc[i], path);
	return in;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

bool ws__pm_is_member(const struct ws_pm *pm, const char *path)
{
	return pm->members.n && bsearch(&path, pm->members.v, pm->members.n, sizeof(char *),
	                                cmp_str) != NULL;
}

const char *ws__pm_detect(const struct workspace *ws)
{
	const cJSON *cli = cJSON_GetObjectItemCaseSensitive(ws->nx_json, "cli");
	const cJSON *pm = cJSON_GetObjectItemCaseSensitive(cli, "packageManager");
	static const char *const known[] = {"npm", "yarn", "pnpm", "bun"};
	for (size_t i = 0; cJSON_IsString(pm) && i < ARRAY_LEN(known); i++)
		if (!strcmp(pm->valuestring, known[i]))
			return known[i];
	if (workspace_has_file(ws, "bun.lockb") || workspace_has_file(ws, "bun.lock"))
		return "bun";
	if (workspace_has_file(ws, "yarn.lock"))
		return "yarn";
	if (workspace_has_file(ws, "pnpm-lock.yaml"))
		return "pnpm";
	return "npm";
}
