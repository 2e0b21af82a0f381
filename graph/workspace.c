/*
 * workspace.c - workspace_load: nx.json, the walk, every project.json,
 * targetDefaults, the project graph's edges; lookups and suggestions.
 *
 * Edges (ws_project.deps), deduplicated per target project, first reason
 * wins in this order: implicitDependencies ("!x" exclusions remove implicit
 * and package.json/pyproject.toml edges alike, as in Nx; "*",
 * globs over names and roots, "tag:x" and plain roots as Nx's
 * findMatchingProjects), package.json dependencies naming a workspace
 * project's package (pkgdeps.c), pyproject.toml dependencies naming a
 * workspace Python project (pyproject.c), cross-project dependsOn
 * ("proj:target", {"projects": [...]}).  Nx itself keeps dependsOn out of
 * the project graph; bld records those edges as WS_DEP_DEPENDSON.
 */
#include "ws_int.h"
#include "bld/sock.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* A project while loading: what is read besides ws_project. */
struct loading {
	struct ws_project p;
	char *text; /* project.json text, for error positions */
	struct ws_pkg pkg;
	bool has_pkg;
	struct ws_pyproject py;
	bool has_py;
};

struct edge {
	int project;
	enum ws_dep_kind kind;
	const char *source;
	size_t seq;
};

/* ---- small helpers ---- */

static int cmp_strp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(char *const *)b);
}

bool workspace_has_file(const struct workspace *ws, const char *path)
{
	return ws->files.n &&
	       bsearch(&path, ws->files.v, ws->files.n, sizeof(char *), cmp_strp) != NULL;
}

static char *in_root(const char *root, const char *name)
{
	return *root ? xasprintf("%s/%s", root, name) : xstrdup(name);
}

struct ws_project *workspace_project(const struct workspace *ws, const char *name)
{
	return strmap_get(&ws->by_name, name);
}

int workspace_project_index(const struct workspace *ws, const struct ws_project *p)
{
	return (int)(p - ws->projects);
}

int workspace_find_root(const char *start, char **ret_root, struct bld_err *err)
{
	/* one rule, shared with the client (it finds the daemon's socket by the root) */
	int rc = path_find_root(start, ret_root);
	if (rc == -ENOENT && access(start, F_OK) == 0)
		return bld_err_set(err, BLD_ENOWORKSPACE,
		                   "no nx.json found in %s or any folder above it", start);
	if (rc < 0)
		return bld_err_set(err, BLD_ENOWORKSPACE, "no nx.json found: %s: %s", start,
		                   strerror(-rc));
	return 0;
}

/* ---- nx.json ---- */

/* Types were checked when nx.json was read (schema.c): "plugins" is an
 * array of strings and objects. */
static int read_plugins(struct workspace *ws, const char *text, struct bld_err *err)
{
	const cJSON *pl = cJSON_GetObjectItemCaseSensitive(ws->nx_json, "plugins"), *e;
	int line, col;
	if (!pl)
		return 0;
	ws__json_key_pos(text, "plugins", &line, &col);
	ws->plugins = xcalloc((size_t)cJSON_GetArraySize(pl) + 1, sizeof(*ws->plugins));
	cJSON_ArrayForEach(e, pl)
	{
		const cJSON *name =
		    cJSON_IsObject(e) ? cJSON_GetObjectItemCaseSensitive(e, "plugin") : e;
		if (!cJSON_IsString(name))
			return bld_err_at(
			    err, BLD_ESCHEMA, "nx.json", line, col,
			    "each \"plugins\" object needs a \"plugin\" (the module to load)");
		struct ws_plugin *p = &ws->plugins[ws->nplugins++];
		p->name = xstrdup(name->valuestring);
		p->options =
		    cJSON_IsObject(e) ? cJSON_GetObjectItemCaseSensitive(e, "options") : NULL;
	}
	return 0;
}

static int read_nx_json(struct workspace *ws, const struct ws_src *src, char **ret_text,
                        struct bld_err *err)
{
	char *text = NULL;
	int rc = ws__src_json(src, "nx.json", WS_SCHEMA_NX, &ws->nx_json, &text, err);
	if (rc < 0)
		return rc;
	/* the types of what follows were checked by the read (schema.c) */
	ws->named_inputs = cJSON_GetObjectItemCaseSensitive(ws->nx_json, "namedInputs");
	ws->target_defaults = cJSON_GetObjectItemCaseSensitive(ws->nx_json, "targetDefaults");
	/* Nx: defaultBase, else the older affected.defaultBase, else "main" */
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(ws->nx_json, "defaultBase");
	if (!cJSON_IsString(v))
		v = cJSON_GetObjectItemCaseSensitive(
		    cJSON_GetObjectItemCaseSensitive(ws->nx_json, "affected"), "defaultBase");
	ws->default_base = xstrdup(cJSON_IsString(v) ? v->valuestring : "main");
	rc = read_plugins(ws, text, err);
	*ret_text = text;
	return rc;
}

/* ---- projects ---- */

/* What every project read of one load shares. */
struct load_ctx {
	const char *run;      /* the package manager's "npm run"-style prefix */
	bool release_publish; /* @nx/js is installed: public packages get nx-release-publish */
	struct ws_pm pm;      /* the package manager's workspace patterns */
	const struct ws_src *src;
	const struct ws_load_opts *opts;
};

/* Nx's order: npm:private|npm:public, npm:<keyword>..., package.json
 * nx.tags, project.json tags (bld keeps the first of duplicates). */
static void add_package_tags(struct ws_project *p, const struct ws_pkg *pkg)
{
	struct strvec tags;
	strvec_init(&tags);
	strvec_push(&tags, pkg->is_private ? "npm:private" : "npm:public");
	for (size_t i = 0; i < pkg->keywords.n; i++) {
		char *k = xasprintf("npm:%s", pkg->keywords.v[i]);
		if (strvec_find(&tags, k) < 0)
			strvec_push(&tags, k);
		free(k);
	}
	for (size_t i = 0; i < pkg->nx_tags.n; i++)
		if (strvec_find(&tags, pkg->nx_tags.v[i]) < 0)
			strvec_push(&tags, pkg->nx_tags.v[i]);
	for (size_t i = 0; i < p->tags.n; i++)
		if (strvec_find(&tags, p->tags.v[i]) < 0)
			strvec_push(&tags, p->tags.v[i]);
	strvec_release(&p->tags);
	p->tags = tags;
	cJSON *arr = cJSON_CreateArray();
	for (size_t i = 0; i < tags.n; i++)
		cJSON_AddItemToArray(arr, cJSON_CreateString(tags.v[i]));
	cJSON_DeleteItemFromObjectCaseSensitive(p->json, "tags");
	cJSON_AddItemToObject(p->json, "tags", arr);
}

/* How the package manager runs a script, as Nx's runCommand shows it. */
static const char *script_runner(const char *pm)
{
	return !strcmp(pm, "bun")    ? "bun run"
	       : !strcmp(pm, "yarn") ? "yarn"
	       : !strcmp(pm, "pnpm") ? "pnpm run"
	                             : "npm run";
}

/* package.json "nx" keys other than targets and tags, under project.json's:
 * implicitDependencies concatenated, namedInputs merged, the rest filled in. */
static void add_package_nx_keys(struct ws_project *p, const cJSON *nx)
{
	const cJSON *e;
	cJSON_ArrayForEach(e, nx)
	{
		const char *k = e->string;
		if (!strcmp(k, "targets") || !strcmp(k, "tags") || !strcmp(k, "name") ||
		    !strcmp(k, "root"))
			continue;
		cJSON *mine = cJSON_GetObjectItemCaseSensitive(p->json, k);
		if (!strcmp(k, "implicitDependencies") && cJSON_IsArray(e)) {
			struct strvec all;
			strvec_init(&all);
			const cJSON *d;
			cJSON_ArrayForEach(d, e) if (cJSON_IsString(d))
			    strvec_push(&all, d->valuestring);
			for (size_t i = 0; i < p->implicit_deps.n; i++)
				strvec_push(&all, p->implicit_deps.v[i]);
			strvec_release(&p->implicit_deps);
			p->implicit_deps = all;
		} else if (!strcmp(k, "namedInputs") && cJSON_IsObject(e) && cJSON_IsObject(mine)) {
			const cJSON *n;
			cJSON_ArrayForEach(n, e)
			{
				if (!ws__json_has(mine, n->string))
					cJSON_AddItemToObject(mine, n->string,
					                      cJSON_Duplicate(n, true));
			}
		} else if (!mine) {
			cJSON_AddItemToObject(p->json, k, cJSON_Duplicate(e, true));
		}
	}
	/* fields project.json did not set come from the nx key */
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(p->json, "projectType");
	if (!p->project_type && cJSON_IsString(v))
		p->project_type = xstrdup(v->valuestring);
	v = cJSON_GetObjectItemCaseSensitive(p->json, "sourceRoot");
	if (!p->source_root && cJSON_IsString(v))
		p->source_root = xstrdup(v->valuestring);
}

/* Keep project.json's own "metadata" (or a null) where the package.json
 * plugin's will be shown, at the end of the keys read so far, as Nx merges
 * it; ws_project_json_shown fills it (only show project and graph need it). */
static void place_package_metadata(struct ws_project *p)
{
	cJSON *mine = cJSON_DetachItemFromObjectCaseSensitive(p->json, "metadata");
	cJSON_AddItemToObject(p->json, "metadata", mine ? mine : cJSON_CreateNull());
}

cJSON *ws_project_json_shown(const struct ws_project *p)
{
	cJSON *j = cJSON_Duplicate(p->json, true);
	if (!p->package_json || !j)
		return j;
	cJSON *md = ws__pkg_metadata(p->package_json,
	                             cJSON_GetObjectItemCaseSensitive(p->json, "targets"),
	                             p->in_pm_workspaces);
	const cJSON *mine = cJSON_GetObjectItemCaseSensitive(j, "metadata"), *e;
	const cJSON *own = cJSON_IsObject(mine) ? mine : NULL;
	cJSON_ArrayForEach(e, own)
	{
		cJSON_DeleteItemFromObjectCaseSensitive(md, e->string);
		cJSON_AddItemToObject(md, e->string, cJSON_Duplicate(e, true));
	}
	if (mine)
		cJSON_ReplaceItemInObjectCaseSensitive(j, "metadata", md);
	else
		cJSON_AddItemToObject(j, "metadata", md);
	return j;
}

/* Put the package.json plugin's targets under project.json's (Nx merges the
 * package.json node first, project.json over it). */
static int add_package_targets(struct workspace *ws, struct loading *l, const char *pj,
                               const char *pj_text, const struct load_ctx *cx,
                               struct bld_err *err)
{
	const cJSON *nx = cJSON_GetObjectItemCaseSensitive(l->pkg.json, "nx");
	if (cJSON_IsObject(nx))
		add_package_nx_keys(&l->p, nx);
	const cJSON *pt = cJSON_GetObjectItemCaseSensitive(l->p.json, "targets");
	cJSON *base =
	    ws__pkg_targets(&l->pkg, pt, cx->run, cx->release_publish, ws->target_defaults);
	if (cJSON_GetArraySize(base)) {
		cJSON *merged = ws__merge_target_maps(base, pt);
		cJSON_DeleteItemFromObjectCaseSensitive(l->p.json, "targets");
		cJSON_AddItemToObject(l->p.json, "targets", merged);
	}
	cJSON_Delete(base);
	return 0;
}

/* The package.json at pj as the package.json plugin reads it, onto l->p:
 * package name, tags, nx keys, script targets, metadata.  ret_text (may be
 * NULL) gets its text.  0, 1 when absent, or an error. */
static int read_package(struct workspace *ws, const char *pj, struct loading *l,
                        const struct load_ctx *cx, char **ret_text, struct bld_err *err)
{
	char *text = NULL;
	int rc = ws__pkg_read(cx->src, pj, &l->pkg, &text, err);
	l->has_pkg = rc == 0;
	if (rc == 0) {
		l->p.has_package_json = true;
		l->p.pkg_entry_points = l->pkg.entry_points;
		if (l->pkg.name)
			l->p.package_name = xstrdup(l->pkg.name);
		add_package_tags(&l->p, &l->pkg);
		rc = add_package_targets(ws, l, pj, text, cx, err);
	}
	if (rc == 0) {
		place_package_metadata(&l->p);
		l->p.in_pm_workspaces = ws__pm_is_member(&cx->pm, pj);
	}
	if (ret_text && rc >= 0)
		*ret_text = text;
	else
		free(text);
	return rc;
}

/* Name and Python side of a project, once project.json and package.json are read. */
static void finish_read(struct workspace *ws, struct loading *l, const struct load_ctx *cx)
{
	const cJSON *nxname = cJSON_GetObjectItemCaseSensitive(
	    cJSON_GetObjectItemCaseSensitive(l->pkg.json, "nx"), "name");
	if (!l->p.name && cJSON_IsString(nxname))
		l->p.name = xstrdup(nxname->valuestring);
	if (!l->p.name)
		l->p.name = l->p.package_name ? xstrdup(l->p.package_name)
		                              : ws__project_derive_name(l->p.root);
	char *pp = in_root(l->p.root, "pyproject.toml");
	ws__pyproject_init(&l->py);
	if (workspace_has_file(ws, pp)) {
		char *text;
		size_t len;
		if (ws__src_read(cx->src, pp, &text, &len) == 0) {
			ws__pyproject_parse(text, len, pp, &l->py,
			                    cx->opts->verbose ? &ws->notes : NULL);
			l->has_py = true;
			free(text);
		}
	}
	free(pp);
}

/* A project with a project.json (and maybe a package.json beside it). */
static int read_project(struct workspace *ws, const char *config, struct loading *l,
                        const struct load_ctx *cx, struct bld_err *err)
{
	cJSON *json = NULL;
	int rc = ws__src_json(cx->src, config, WS_SCHEMA_PROJECT, &json, &l->text, err);
	if (rc < 0)
		return rc;
	if ((rc = ws__project_parse(&l->p, json, l->text, config, err)) < 0)
		return rc;
	char *pj = in_root(l->p.root, "package.json");
	if (workspace_has_file(ws, pj))
		rc = read_package(ws, pj, l, cx, NULL, err);
	free(pj);
	if (rc < 0)
		return rc;
	finish_read(ws, l, cx);
	return 0;
}

/* A package of the package manager's workspace without a project.json:
 * Nx's package.json plugin alone makes it a project. */
static int read_package_project(struct workspace *ws, const char *pj, struct loading *l,
                                const struct load_ctx *cx, struct bld_err *err)
{
	char *dir = path_dirname(pj);
	cJSON *json = cJSON_CreateObject();
	cJSON_AddStringToObject(json, "root", *dir ? dir : ".");
	free(dir);
	int rc = ws__project_parse(&l->p, json, NULL, pj, err);
	if (rc == 0)
		rc = read_package(ws, pj, l, cx, &l->text, err);
	if (rc < 0)
		return rc;
	const cJSON *nx = cJSON_GetObjectItemCaseSensitive(l->pkg.json, "nx");
	if (!l->pkg.name && !*l->p.root && !cJSON_IsString(cJSON_GetObjectItemCaseSensitive(nx, "name")))
		return bld_err_at(err, BLD_ESCHEMA, pj, 1, 1,
		                  "the root package.json needs a \"name\" to be a project (it has "
		                  "an \"nx\" key)");
	finish_read(ws, l, cx);
	return 0;
}

static int cmp_loading(const void *a, const void *b)
{
	return strcmp(((const struct loading *)a)->p.name, ((const struct loading *)b)->p.name);
}

static int check_duplicates(struct loading *ls, size_t n, struct bld_err *err)
{
	for (size_t i = 1; i < n; i++) {
		if (strcmp(ls[i - 1].p.name, ls[i].p.name))
			continue;
		int line, col;
		ws__json_key_pos(ls[i].text, "name", &line, &col);
		return bld_err_at(err, BLD_ESCHEMA, ls[i].p.config_file, line, col,
		                  "two projects are named \"%s\": %s and %s (project names must be "
		                  "unique: set a distinct \"name\" in one of them)",
		                  ls[i].p.name, ls[i - 1].p.config_file, ls[i].p.config_file);
	}
	return 0;
}

/* ---- project patterns (workspace_match_projects, select.c) ---- */

/* A growable list of project indices. */
struct ivec {
	int *v;
	size_t n, cap;
};

static void ivec_push(struct ivec *iv, int i)
{
	xgrow(&iv->v, &iv->cap, iv->n + 1, sizeof(*iv->v));
	iv->v[iv->n++] = i;
}

/* Push the projects the patterns select, in Nx's order; how many. */
static size_t match_patterns(const struct workspace *ws, const char *const *pats, size_t n,
                             struct ivec *out)
{
	bool *sel = xcalloc(ws->nprojects + 1, sizeof(*sel));
	int *order = xcalloc(ws->nprojects + 1, sizeof(*order));
	size_t k = workspace_match_projects(ws, pats, n, sel, order);
	for (size_t i = 0; i < k; i++)
		ivec_push(out, order[i]);
	free(sel);
	free(order);
	return k;
}

static size_t match_pattern(const struct workspace *ws, const char *pat, struct ivec *out)
{
	return match_patterns(ws, &pat, 1, out);
}

static void add_edge(struct edge **v, size_t *n, size_t *cap, int project, enum ws_dep_kind kind,
                     const char *source)
{
	xgrow(v, cap, *n + 1, sizeof(**v));
	(*v)[*n] = (struct edge){project, kind, source, *n};
	(*n)++;
}

static void suggest_into(const struct workspace *ws, const char *pat, char *buf, size_t size)
{
	struct strvec s;
	strvec_init(&s);
	workspace_suggest(ws, NULL, pat, 3, &s);
	buf[0] = '\0';
	for (size_t i = 0; i < s.n; i++) {
		size_t l = strlen(buf);
		snprintf(buf + l, size - l, "%s\"%s\"", i ? ", " : " (did you mean ", s.v[i]);
	}
	if (s.n) {
		size_t l = strlen(buf);
		snprintf(buf + l, size - l, "?)");
	}
	strvec_release(&s);
}

/* implicitDependencies: edges, and the expanded list Nx shows (matches in
 * pattern order, then the "!x" exclusions as written). */
static int implicit_edges(struct workspace *ws, struct loading *l, int self, struct edge **v,
                          size_t *n, size_t *cap, struct bld_err *err)
{
	struct ws_project *p = &ws->projects[self];
	cJSON *shown = cJSON_CreateArray();
	int rc = 0;
	cJSON_DeleteItemFromObjectCaseSensitive(p->json, "implicitDependencies");
	cJSON_AddItemToObject(p->json, "implicitDependencies", shown);
	if (!p->implicit_deps.n)
		return 0;
	struct ivec hits = {0}, excl = {0};
	for (size_t k = 0; k < p->implicit_deps.n && rc == 0; k++) {
		const char *pat = p->implicit_deps.v[k];
		if (pat[0] == '!') {
			match_pattern(ws, pat + 1, &excl);
		} else if (!match_pattern(ws, pat, &hits)) {
			char did[300];
			int line, col;
			suggest_into(ws, pat, did, sizeof(did));
			ws__json_key_pos(l->text, "implicitDependencies", &line, &col);
			rc = bld_err_at(err, BLD_ENOPROJECT, p->config_file, line, col,
			                "implicitDependencies: no project matches \"%s\"%s", pat,
			                did);
		}
	}
	bool *drop = xcalloc(ws->nprojects + 1, sizeof(bool));
	drop[self] = true;
	for (size_t k = 0; k < excl.n; k++)
		drop[excl.v[k]] = true;
	for (size_t k = 0; k < hits.n && rc == 0; k++) {
		int i = hits.v[k];
		if (drop[i])
			continue;
		drop[i] = true;
		add_edge(v, n, cap, i, WS_DEP_IMPLICIT, p->config_file);
		cJSON_AddItemToArray(shown, cJSON_CreateString(ws->projects[i].name));
	}
	for (size_t k = 0; k < p->implicit_deps.n; k++) {
		const char *pat = p->implicit_deps.v[k];
		struct ivec any = {0};
		if (pat[0] == '!' && match_pattern(ws, pat + 1, &any)) /* Nx drops unknown ones */
			cJSON_AddItemToArray(shown, cJSON_CreateString(pat));
		free(any.v);
	}
	free(drop);
	free(hits.v);
	free(excl.v);
	return rc;
}

/* "!x" in implicitDependencies also removes the edges Nx infers from
 * package.json (and bld from pyproject.toml): watched with nx-oracle. */
static void drop_excluded(const struct workspace *ws, const struct ws_project *p, struct edge *v,
                          size_t *n)
{
	struct ivec excl = {0};
	for (size_t k = 0; k < p->implicit_deps.n; k++)
		if (p->implicit_deps.v[k][0] == '!')
			match_pattern(ws, p->implicit_deps.v[k] + 1, &excl);
	size_t out = 0;
	for (size_t i = 0; i < *n; i++) {
		bool drop = false;
		for (size_t k = 0; k < excl.n && v[i].kind == WS_DEP_STATIC; k++)
			drop = drop || excl.v[k] == v[i].project;
		if (!drop)
			v[out++] = v[i];
	}
	*n = out;
	free(excl.v);
}

static void dependson_edges(struct workspace *ws, int self, struct edge **v, size_t *n, size_t *cap)
{
	struct ws_project *p = &ws->projects[self];
	struct ivec hits = {0};
	for (size_t t = 0; t < p->ntargets; t++) {
		const cJSON *e;
		cJSON_ArrayForEach(
		    e, cJSON_GetObjectItemCaseSensitive(p->targets[t].json, "dependsOn"))
		{
			if (cJSON_IsString(e) && e->valuestring[0] != '^' &&
			    strchr(e->valuestring, ':')) {
				char *proj = xstrndup(e->valuestring, strcspn(e->valuestring, ":"));
				struct ws_project *q = workspace_project(ws, proj);
				if (q)
					ivec_push(&hits, (int)(q - ws->projects));
				free(proj);
			}
			const cJSON *ps = cJSON_GetObjectItemCaseSensitive(e, "projects"), *pe;
			const cJSON *plist = cJSON_IsArray(ps) ? ps : NULL;
			if (cJSON_IsString(ps))
				match_pattern(ws, ps->valuestring, &hits);
			cJSON_ArrayForEach(pe, plist)
			{
				if (cJSON_IsString(pe))
					match_pattern(ws, pe->valuestring, &hits);
			}
		}
	}
	for (size_t k = 0; k < hits.n; k++)
		if (hits.v[k] != self)
			add_edge(v, n, cap, hits.v[k], WS_DEP_DEPENDSON, p->config_file);
	free(hits.v);
}

static void package_edges(struct workspace *ws, struct loading *l, struct strmap *by_pkg, int self,
                          struct edge **v, size_t *n, size_t *cap, bool verbose, struct sbuf *src)
{
	const struct ws_pkg *pkg = &l->pkg;
	struct ws_project *p = &ws->projects[self];
	for (size_t k = 0; k < pkg->dep_names.n; k++) {
		struct loading *q = strmap_get(by_pkg, pkg->dep_names.v[k]);
		if (!q || &q->p == &l->p)
			continue;
		int ok =
		    ws__pkg_spec_accepts(pkg->dep_specs.v[k], q->pkg.version, p->root, q->p.root);
		int qi = workspace_project_index(ws, workspace_project(ws, q->p.name));
		if (ok == 1)
			add_edge(v, n, cap, qi, WS_DEP_STATIC, src->buf);
		else if (verbose)
			strvec_push_owned(
			    &ws->notes,
			    xasprintf("%s: \"%s\": \"%s\" %s workspace project %s (version "
			              "%s): no dependency",
			              src->buf, pkg->dep_names.v[k], pkg->dep_specs.v[k],
			              ok < 0 ? "is not understood for" : "does not accept",
			              q->p.name, q->pkg.version ? q->pkg.version : "none"));
	}
}

static void python_edges(struct workspace *ws, struct loading *l, struct strmap *by_py, int self,
                         struct edge **v, size_t *n, size_t *cap, const char *src)
{
	const struct strvec *lists[] = {&l->py.deps, &l->py.uv_ws};
	for (size_t li = 0; li < 2; li++) {
		for (size_t k = 0; k < lists[li]->n; k++) {
			struct loading *q = strmap_get(by_py, lists[li]->v[k]);
			if (!q || q == l)
				continue;
			int qi = workspace_project_index(ws, workspace_project(ws, q->p.name));
			add_edge(v, n, cap, qi, WS_DEP_STATIC, src);
		}
	}
}

static int cmp_edge(const void *a, const void *b)
{
	const struct edge *x = a, *y = b;
	if (x->project != y->project)
		return x->project < y->project ? -1 : 1;
	return x->seq < y->seq ? -1 : x->seq > y->seq;
}

/* Keep one edge per target project (the first reason), sorted. */
static void store_edges(struct ws_project *p, struct edge *v, size_t n)
{
	if (n > 1)
		qsort(v, n, sizeof(*v), cmp_edge);
	p->deps = xcalloc(n + 1, sizeof(*p->deps));
	for (size_t i = 0; i < n; i++) {
		if (i && v[i].project == v[i - 1].project)
			continue;
		struct ws_dep *d = &p->deps[p->ndeps++];
		d->project = v[i].project;
		d->kind = v[i].kind;
		d->source = v[i].source ? xstrdup(v[i].source) : NULL;
	}
}

static int project_edges(struct workspace *ws, struct loading *ls, struct strmap *by_pkg,
                         struct strmap *by_py, const struct ws_load_opts *opts, struct bld_err *err)
{
	int rc = 0;
	struct sbuf pkgsrc = SBUF_INIT, pysrc = SBUF_INIT;
	sbuf_init(&pkgsrc);
	sbuf_init(&pysrc);
	for (size_t i = 0; i < ws->nprojects && rc == 0; i++) {
		struct edge *v = NULL;
		size_t n = 0, cap = 0;
		struct ws_project *p = &ws->projects[i];
		sbuf_reset(&pkgsrc);
		sbuf_reset(&pysrc);
		sbuf_adds(&pkgsrc, *p->root ? p->root : "");
		sbuf_adds(&pkgsrc, *p->root ? "/package.json" : "package.json");
		sbuf_adds(&pysrc, *p->root ? p->root : "");
		sbuf_adds(&pysrc, *p->root ? "/pyproject.toml" : "pyproject.toml");
		rc = implicit_edges(ws, &ls[i], (int)i, &v, &n, &cap, err);
		if (rc == 0 && ls[i].has_pkg)
			package_edges(ws, &ls[i], by_pkg, (int)i, &v, &n, &cap, opts->verbose,
			              &pkgsrc);
		if (rc == 0 && ls[i].has_py)
			python_edges(ws, &ls[i], by_py, (int)i, &v, &n, &cap, pysrc.buf);
		if (rc == 0)
			drop_excluded(ws, p, v, &n);
		if (rc == 0)
			dependson_edges(ws, (int)i, &v, &n, &cap);
		if (rc == 0)
			store_edges(p, v, n);
		free(v);
	}
	sbuf_release(&pkgsrc);
	sbuf_release(&pysrc);
	return rc;
}

/* The project object as `nx show project --json` shows it: "root" and
 * "name" first, then what project.json wrote (targets merged, tags and
 * implicitDependencies always present).  Items move, so ws_target.json
 * pointers stay valid. */
static void finish_json(struct ws_project *p)
{
	cJSON *old = p->json, *j = cJSON_CreateObject();
	cJSON_AddItemToObject(j, "root", cJSON_CreateString(*p->root ? p->root : "."));
	cJSON_AddItemToObject(j, "name", cJSON_CreateString(p->name));
	cJSON_DeleteItemFromObjectCaseSensitive(old, "name");
	cJSON_DeleteItemFromObjectCaseSensitive(old, "root");
	while (old->child) {
		cJSON *e = cJSON_DetachItemViaPointer(old, old->child);
		cJSON_AddItemToObject(j, e->string, e); /* copies the key, then frees e's */
	}
	if (!ws__json_has(j, "tags"))
		cJSON_AddArrayToObject(j, "tags");
	cJSON_Delete(old);
	p->json = j;
	p->named_inputs = cJSON_GetObjectItemCaseSensitive(j, "namedInputs");
}

/* ---- load ---- */

static void loading_release(struct loading *ls, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		ws__project_release(&ls[i].p);
		free(ls[i].text);
		ws__pkg_release(&ls[i].pkg);
		ws__pyproject_release(&ls[i].py);
	}
	free(ls);
}

/* The package.json files that are projects of their own: packages of the
 * package manager's workspace with no project.json beside them (those
 * with one are read with their project.json).  Fills pm->members. */
static void package_projects(const struct ws_walk *walk, struct ws_pm *pm, struct strvec *ret)
{
	struct sbuf pj = SBUF_INIT;
	sbuf_init(&pj);
	for (size_t i = 0; i < walk->packages.n; i++) {
		const char *path = walk->packages.v[i];
		if (!ws__pm_matches(pm, path))
			continue;
		strvec_push(&pm->members, path); /* sorted, as walk->packages is */
		sbuf_reset(&pj);
		sbuf_add(&pj, path, strlen(path) - strlen("package.json"));
		sbuf_adds(&pj, "project.json");
		const char *key = pj.buf;
		if (!walk->configs.n || !bsearch(&key, walk->configs.v, walk->configs.n,
		                                 sizeof(char *), cmp_strp))
			strvec_push(ret, path);
	}
	sbuf_release(&pj);
}

static int load_projects(struct workspace *ws, struct ws_walk *walk, const char *nx_text,
                         const struct ws_src *src, const struct ws_load_opts *opts,
                         struct bld_err *err)
{
	struct load_ctx cx = {.src = src, .opts = opts};
	struct strvec pkgs;
	strvec_init(&pkgs);
	ws__pm_init(&cx.pm);
	ws->package_manager = ws__pm_detect(ws);
	cx.run = script_runner(ws->package_manager);
	char *nxjs = path_join(ws->root, "node_modules/@nx/js/package.json");
	cx.release_publish = file_exists(nxjs); /* Nx adds nx-release-publish with @nx/js */
	free(nxjs);
	int rc = ws__pm_read(&cx.pm, ws, src, err);
	if (rc == 0)
		package_projects(walk, &cx.pm, &pkgs);
	size_t nc = walk->configs.n, n = nc + pkgs.n;
	struct loading *ls = xcalloc(n + 1, sizeof(*ls));
	struct strmap by_pkg, by_py;
	strmap_init(&by_pkg);
	strmap_init(&by_py);
	for (size_t i = 0; i < nc && rc == 0; i++)
		rc = read_project(ws, walk->configs.v[i], &ls[i], &cx, err);
	for (size_t i = 0; i < pkgs.n && rc == 0; i++)
		rc = read_package_project(ws, pkgs.v[i], &ls[nc + i], &cx, err);
	ws__pm_release(&cx.pm);
	strvec_release(&pkgs);
	if (rc == 0) {
		qsort(ls, n, sizeof(*ls), cmp_loading);
		rc = check_duplicates(ls, n, err);
	}
	if (rc == 0) {
		ws->projects = xcalloc(n + 1, sizeof(*ws->projects));
		for (size_t i = 0; i < n; i++) {
			ws->projects[i] = ls[i].p; /* moved; ls[i].p keeps only borrowed views */
			strmap_put(&ws->by_name, ws->projects[i].name, &ws->projects[i]);
			if (ls[i].pkg.name && !strmap_has(&by_pkg, ls[i].pkg.name))
				strmap_put(&by_pkg, ls[i].pkg.name, &ls[i]);
			if (ls[i].has_py && ls[i].py.name && !strmap_has(&by_py, ls[i].py.name))
				strmap_put(&by_py, ls[i].py.name, &ls[i]);
		}
		ws->nprojects = n;
	}
	for (size_t i = 0; i < ws->nprojects && rc == 0; i++) {
		struct ws_texts texts = {ls[i].text, nx_text};
		rc = ws__project_resolve(ws, &ws->projects[i], &texts, err);
	}
	for (size_t i = 0; i < ws->nprojects; i++)
		ls[i].p = ws->projects[i]; /* refresh the views (names for by_pkg) */
	if (rc == 0)
		rc = project_edges(ws, ls, &by_pkg, &by_py, opts, err);
	for (size_t i = 0; i < ws->nprojects; i++) {
		finish_json(&ws->projects[i]);
		ws->projects[i].package_json = ls[i].pkg.json; /* moved: metadata is built from it */
		ls[i].pkg.json = NULL;
		memset(&ls[i].p, 0, sizeof(ls[i].p)); /* owned by ws now */
	}
	strmap_release(&by_pkg);
	strmap_release(&by_py);
	loading_release(ls, n);
	return rc;
}

int workspace_load(const char *root, const struct ws_load_opts *opts, struct workspace **ret_ws,
                   struct bld_err *err)
{
	static const struct ws_load_opts defaults = {0};
	struct workspace *ws = xcalloc(1, sizeof(*ws));
	struct ws_walk walk;
	opts = opts ? opts : &defaults;
	strmap_init(&ws->by_name);
	strvec_init(&ws->files);
	strvec_init(&ws->dirs);
	strvec_init(&ws->notes);
	ws__walk_init(&walk);
	uint64_t t0 = now_ns(), t1 = t0, t2 = t0;
	ws->root = realpath(root, NULL);
	ws->view = opts->view;
	struct ws_src src = {.root_fd = -1, .view = opts->view};
	int rc = ws->root ? 0 : bld_err_set(err, -errno, "%s: %s", root, strerror(errno));
	if (rc == 0 && (src.root_fd = open(ws->root, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		rc = bld_err_set(err, -errno, "%s: %s", ws->root, strerror(errno));
	char *nx_text = NULL;
	if (rc == 0)
		rc = read_nx_json(ws, &src, &nx_text, err);
	if (rc == 0)
		rc = ws__walk(ws->root, &walk, opts->verbose ? &ws->notes : NULL, opts->view, err);
	t1 = now_ns();
	if (rc == 0) {
		ws->files = walk.files;
		strvec_init(&walk.files);
		ws->dirs = walk.dirs;
		strvec_init(&walk.dirs);
		rc = load_projects(ws, &walk, nx_text, &src, opts, err);
	}
	if (src.root_fd >= 0)
		close(src.root_fd);
	if (rc == 0)
		workspace_owners_build(ws);
	free(nx_text);
	t2 = now_ns();
	if (rc == 0 && opts->verbose)
		strvec_push_owned(
		    &ws->notes,
		    xasprintf("workspace loaded in %.1f ms: walk %.1f ms (%zu files, %u "
		              "libgit2 ignore queries%s), projects %.1f ms (%zu)",
		              (double)(t2 - t0) / 1e6, (double)(t1 - t0) / 1e6, ws->files.n,
		              walk.libgit2_calls, walk.git ? "" : ", in-memory repository",
		              (double)(t2 - t1) / 1e6, ws->nprojects));
	ws__walk_release(&walk);
	if (rc < 0) {
		workspace_free(ws);
		return rc;
	}
	*ret_ws = ws;
	return 0;
}

void workspace_free(struct workspace *ws)
{
	if (!ws)
		return;
	for (size_t i = 0; i < ws->nprojects; i++)
		ws__project_release(&ws->projects[i]);
	free(ws->projects);
	for (size_t i = 0; i < ws->nplugins; i++)
		free(ws->plugins[i].name);
	free(ws->plugins);
	cJSON_Delete(ws->nx_json);
	free(ws->default_base);
	free(ws->root);
	strmap_release(&ws->by_name);
	workspace_owners_release(ws);
	strvec_release(&ws->files);
	strvec_release(&ws->dirs);
	strvec_release(&ws->notes);
	free(ws);
}

/* Nx's getProjectType (normalize-project-nodes): computed when asked, so
 * a load pays nothing for it. */
const char *ws_project_graph_type(const struct workspace *ws, const struct ws_project *p)
{
	if (p->project_type) {
		if (!strcmp(p->project_type, "library"))
			return "lib";
		return str_ends(p->name, "-e2e") || !strcmp(p->name, "e2e") ? "e2e" : "app";
	}
	char *f = in_root(p->root, "tsconfig.lib.json");
	bool lib = workspace_has_file(ws, f);
	free(f);
	if (lib)
		return "lib";
	f = in_root(p->root, "tsconfig.app.json");
	bool app = workspace_has_file(ws, f);
	free(f);
	if (app)
		return "app";
	/* without a package.json Nx's read fails and it says "lib" */
	return p->has_package_json && !p->pkg_entry_points ? "app" : "lib";
}

/* ---- suggestions ---- */

struct cand {
	const char *name;
	int dist;
};

static int cmp_cand(const void *a, const void *b)
{
	const struct cand *x = a, *y = b;
	return x->dist != y->dist ? x->dist - y->dist : strcmp(x->name, y->name);
}

void workspace_suggest(const struct workspace *ws, const struct ws_project *p, const char *name,
                       size_t max, struct strvec *ret)
{
	size_t n = p ? p->ntargets : ws->nprojects, k = 0;
	struct cand *c = xcalloc(n + 1, sizeof(*c));
	int limit = (int)strlen(name) / 3;
	limit = limit < 2 ? 2 : limit;
	for (size_t i = 0; i < n; i++) {
		const char *cand = p ? p->targets[i].name : ws->projects[i].name;
		int d = str_edit_distance(name, cand, limit);
		if (d > limit && strlen(name) >= 3 && strstr(cand, name))
			d = limit; /* "api" -> "my-api" */
		if (d <= limit)
			c[k++] = (struct cand){cand, d};
	}
	qsort(c, k, sizeof(*c), cmp_cand);
	for (size_t i = 0; i < k && i < max; i++)
		strvec_push(ret, c[i].name);
	free(c);
}

/* ---- plugins bld does not run ---- */

struct plugin_target {
	const char *option; /* the plugin option naming the target, or NULL */
	const char *name;   /* its default name */
};

struct plugin_info {
	const char *plugin;
	const char *configs; /* space-separated config files in the project root */
	struct plugin_target targets[7];
};

#define JS_EXTS(base) base ".js " base ".ts " base ".mjs " base ".mts " base ".cjs " base ".cts"
static const struct plugin_info known_plugins[] = {
    {"@nx/vite/plugin",
     JS_EXTS("vite.config"),
     {{"buildTargetName", "build"},
      {"testTargetName", "test"},
      {"serveTargetName", "serve"},
      {"previewTargetName", "preview"},
      {"serveStaticTargetName", "serve-static"},
      {"typecheckTargetName", "typecheck"}}},
    {"@nx/vitest",
     JS_EXTS("vitest.config") " " JS_EXTS("vite.config"),
     {{"testTargetName", "test"}}},
    {"@nx/jest/plugin", JS_EXTS("jest.config"), {{"targetName", "test"}}},
    {"@nx/eslint/plugin",
     JS_EXTS("eslint.config") " .eslintrc .eslintrc.json .eslintrc.js .eslintrc.cjs "
                              ".eslintrc.yaml .eslintrc.yml",
     {{"targetName", "lint"}}},
    {"@nx/playwright/plugin",
     JS_EXTS("playwright.config"),
     {{"targetName", "e2e"}, {"ciTargetName", "e2e-ci"}}},
    {"@nx/cypress/plugin",
     JS_EXTS("cypress.config"),
     {{"targetName", "e2e"},
      {"componentTestingTargetName", "component-test"},
      {"ciTargetName", "e2e-ci"},
      {"openTargetName", "open-cypress"}}},
    {"@nx/webpack/plugin",
     JS_EXTS("webpack.config"),
     {{"buildTargetName", "build"},
      {"serveTargetName", "serve"},
      {"previewTargetName", "preview"},
      {"serveStaticTargetName", "serve-static"}}},
    {"@nx/next/plugin",
     JS_EXTS("next.config"),
     {{"buildTargetName", "build"},
      {"devTargetName", "dev"},
      {"startTargetName", "start"},
      {"serveStaticTargetName", "serve-static"}}},
    {"@nx/rollup/plugin", JS_EXTS("rollup.config"), {{"buildTargetName", "build"}}},
    {"@nx/storybook/plugin",
     JS_EXTS(".storybook/main"),
     {{"buildStorybookTargetName", "build-storybook"},
      {"serveStorybookTargetName", "storybook"},
      {"testStorybookTargetName", "test-storybook"},
      {"staticStorybookTargetName", "static-storybook"}}},
};

static bool has_config(const struct workspace *ws, const struct ws_project *p, const char *configs)
{
	struct strvec names;
	strvec_init(&names);
	strvec_split(&names, configs, " ");
	bool found = false;
	for (size_t i = 0; i < names.n && !found; i++) {
		char *f = in_root(p->root, names.v[i]);
		found = workspace_has_file(ws, f);
		free(f);
	}
	strvec_release(&names);
	return found;
}

static void push_missing(const struct ws_project *p, const char *target, const char *plugin,
                         struct strvec *ret_targets, struct strvec *ret_plugins)
{
	if (!target || ws_project_target(p, target) || strvec_find(ret_targets, target) >= 0)
		return;
	strvec_push(ret_targets, target);
	if (ret_plugins)
		strvec_push(ret_plugins, plugin);
}

/* @nx/js/typescript: typecheck where tsconfig.json is, build (when its
 * "build" option is set) where tsconfig.lib.json (or build.configName) is. */
static void typescript_targets(const struct workspace *ws, const struct ws_plugin *pl,
                               const struct ws_project *p, struct strvec *rt, struct strvec *rp)
{
	const cJSON *tc = cJSON_GetObjectItemCaseSensitive(pl->options, "typecheck");
	const cJSON *b = cJSON_GetObjectItemCaseSensitive(pl->options, "build");
	if (!cJSON_IsFalse(tc) && has_config(ws, p, "tsconfig.json")) {
		const cJSON *n = cJSON_GetObjectItemCaseSensitive(tc, "targetName");
		push_missing(p, cJSON_IsString(n) ? n->valuestring : "typecheck", pl->name, rt, rp);
	}
	if (b && !cJSON_IsFalse(b)) {
		const cJSON *n = cJSON_GetObjectItemCaseSensitive(b, "targetName");
		const cJSON *cfg = cJSON_GetObjectItemCaseSensitive(b, "configName");
		if (has_config(ws, p, cJSON_IsString(cfg) ? cfg->valuestring : "tsconfig.lib.json"))
			push_missing(p, cJSON_IsString(n) ? n->valuestring : "build", pl->name, rt,
			             rp);
	}
}

void ws_project_plugin_targets(const struct workspace *ws, const struct ws_project *p,
                               struct strvec *ret_targets, struct strvec *ret_plugins)
{
	for (size_t i = 0; i < ws->nplugins; i++) {
		const struct ws_plugin *pl = &ws->plugins[i];
		if (!strcmp(pl->name, "@nx/js/typescript")) {
			typescript_targets(ws, pl, p, ret_targets, ret_plugins);
			continue;
		}
		for (size_t k = 0; k < ARRAY_LEN(known_plugins); k++) {
			const struct plugin_info *info = &known_plugins[k];
			if (strcmp(pl->name, info->plugin) || !has_config(ws, p, info->configs))
				continue;
			for (size_t t = 0; t < ARRAY_LEN(info->targets) && info->targets[t].name;
			     t++) {
				const cJSON *o = cJSON_GetObjectItemCaseSensitive(
				    pl->options, info->targets[t].option);
				push_missing(
				    p, cJSON_IsString(o) ? o->valuestring : info->targets[t].name,
				    pl->name, ret_targets, ret_plugins);
			}
		}
	}
}
