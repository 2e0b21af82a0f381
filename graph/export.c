/*
 * export.c - `bld graph --file`: the project graph (and the task graph when
 * given) as JSON shaped like `nx graph --file=out.json` (and, with tasks,
 * like `nx run-many --graph=out.json`), as Graphviz DOT, or as one
 * self-contained HTML page (inline CSS, JS and SVG; no network, no fonts).
 *
 * JSON: { "graph": { "nodes": { name: { name, type, data } },
 *                    "dependencies": { name: [ { source, target, type } ] } },
 *         "tasks": { roots, tasks: { id: { id, target, projectRoot, options,
 *                    cache, continuous, priority } }, dependencies,
 *                    continuousDependencies } }
 * Edges declared by a cross-project dependsOn are typed "implicit" (Nx has
 * no such edge and no type for it); DOT draws static edges solid, implicit
 * ones dashed and dependsOn ones dotted.  Tasks carry "options" (the
 * merged options) where Nx shows only the command line's "overrides".
 * A node's type is Nx's: "lib" for projectType library, "e2e" for another
 * projectType and a name ending "-e2e", "app" for the rest; without a
 * projectType, tsconfig.lib.json / tsconfig.app.json decide, else a
 * package.json without exports, main, module or bin makes an "app".
 * The HTML layout is layered: a project's column is one more than the
 * deepest of its dependencies (leaves on the left), rows ordered by the
 * mean row of the dependencies; cycles are broken at the back edge.
 */
#include <stdlib.h>
#include <string.h>

#include "bld/affected.h"
#include "bld/taskgraph.h"
#include "tg_int.h"

static const char *dep_type(enum ws_dep_kind k)
{
	return k == WS_DEP_STATIC ? "static" : "implicit";
}

/* True when the workspace holds the file root/name (ws->files is sorted). */
static bool ws_has_file(const struct workspace *ws, const char *root, const char *name)
{
	char *path = root[0] ? xasprintf("%s/%s", root, name) : xstrdup(name);
	size_t lo = 0, hi = ws->files.n;
	bool found = false;
	while (lo < hi && !found) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(ws->files.v[mid], path);
		if (c == 0)
			found = true;
		else if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	free(path);
	return found;
}

/* A package.json without exports, main, module or bin (Nx: an application). */
static bool package_is_app(const struct workspace *ws, const struct ws_project *p)
{
	char *rel = p->root[0] ? xasprintf("%s/package.json", p->root) : xstrdup("package.json");
	char *path = path_join(ws->root, rel), *buf = NULL;
	size_t len;
	bool app = false;
	free(rel);
	if (file_read(path, &buf, &len) >= 0) {
		cJSON *j = cJSON_Parse(buf);
		app = cJSON_IsObject(j) && !(cJSON_GetObjectItemCaseSensitive(j, "exports") != NULL) &&
		      !(cJSON_GetObjectItemCaseSensitive(j, "main") != NULL) && !(cJSON_GetObjectItemCaseSensitive(j, "module") != NULL) &&
		      !(cJSON_GetObjectItemCaseSensitive(j, "bin") != NULL);
		cJSON_Delete(j);
	}
	free(buf);
	free(path);
	return app;
}

const char *tg__project_type(const struct workspace *ws, const struct ws_project *p)
{
	if (p->project_type) {
		if (strcmp(p->project_type, "library") == 0)
			return "lib";
		return str_ends(p->name, "-e2e") || strcmp(p->name, "e2e") == 0 ? "e2e" : "app";
	}
	if (ws_has_file(ws, p->root, "tsconfig.lib.json"))
		return "lib";
	if (ws_has_file(ws, p->root, "tsconfig.app.json"))
		return "app";
	return package_is_app(ws, p) ? "app" : "lib";
}

/* ---- JSON --------------------------------------------------------------- */

static cJSON *strvec_json(const struct strvec *sv)
{
	cJSON *a = cJSON_CreateArray();
	for (size_t i = 0; i < sv->n; i++)
		cJSON_AddItemToArray(a, cJSON_CreateString(sv->v[i]));
	return a;
}

/* The node's data: the resolved project object, or one built from fields. */
static cJSON *project_data(const struct ws_project *p)
{
	if (p->json)
		return ws_project_json_shown(p);
	cJSON *d = cJSON_CreateObject();
	cJSON_AddStringToObject(d, "root", p->root[0] ? p->root : ".");
	cJSON_AddStringToObject(d, "name", p->name);
	if (p->source_root)
		cJSON_AddStringToObject(d, "sourceRoot", p->source_root);
	if (p->project_type)
		cJSON_AddStringToObject(d, "projectType", p->project_type);
	cJSON_AddItemToObject(d, "tags", strvec_json(&p->tags));
	cJSON_AddItemToObject(d, "implicitDependencies", strvec_json(&p->implicit_deps));
	cJSON *targets = cJSON_AddObjectToObject(d, "targets");
	for (size_t i = 0; i < p->ntargets; i++)
		cJSON_AddItemToObject(targets, p->targets[i].name,
		                      p->targets[i].json ? cJSON_Duplicate(p->targets[i].json, true)
		                                         : cJSON_CreateObject());
	return d;
}

static cJSON *project_graph_json(const struct workspace *ws)
{
	cJSON *g = cJSON_CreateObject();
	cJSON *nodes = cJSON_AddObjectToObject(g, "nodes");
	cJSON *deps = cJSON_AddObjectToObject(g, "dependencies");
	for (size_t i = 0; i < ws->nprojects; i++) {
		const struct ws_project *p = &ws->projects[i];
		cJSON *n = cJSON_AddObjectToObject(nodes, p->name);
		cJSON_AddStringToObject(n, "name", p->name);
		cJSON_AddStringToObject(n, "type", tg__project_type(ws, p));
		cJSON_AddItemToObject(n, "data", project_data(p));
		cJSON *edges = cJSON_AddArrayToObject(deps, p->name);
		for (size_t k = 0; k < p->ndeps; k++) {
			cJSON *e = cJSON_CreateObject();
			cJSON_AddStringToObject(e, "source", p->name);
			cJSON_AddStringToObject(e, "target", ws->projects[p->deps[k].project].name);
			cJSON_AddStringToObject(e, "type", dep_type(p->deps[k].kind));
			cJSON_AddItemToArray(edges, e);
		}
	}
	return g;
}

static cJSON *task_json(const struct task *t)
{
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "id", t->id);
	cJSON *target = cJSON_AddObjectToObject(o, "target");
	cJSON_AddStringToObject(target, "project", t->project->name);
	cJSON_AddStringToObject(target, "target", t->target->name);
	if (t->configuration)
		cJSON_AddStringToObject(target, "configuration", t->configuration);
	cJSON_AddStringToObject(o, "projectRoot", t->project->root[0] ? t->project->root : ".");
	cJSON_AddItemToObject(
	    o, "options", t->options ? cJSON_Duplicate(t->options, true) : cJSON_CreateObject());
	cJSON_AddBoolToObject(o, "cache", t->cache);
	cJSON_AddBoolToObject(o, "continuous", t->continuous);
	cJSON_AddBoolToObject(o, "requested", t->requested);
	cJSON_AddNumberToObject(o, "priority", t->priority);
	if (t->hash[0])
		cJSON_AddStringToObject(o, "hash", t->hash);
	return o;
}

static cJSON *task_graph_json(const struct task_graph *tg)
{
	cJSON *o = cJSON_CreateObject();
	cJSON *roots = cJSON_AddArrayToObject(o, "roots");
	cJSON *tasks = cJSON_AddObjectToObject(o, "tasks");
	cJSON *deps = cJSON_AddObjectToObject(o, "dependencies");
	cJSON *cdeps = cJSON_AddObjectToObject(o, "continuousDependencies");
	for (size_t i = 0; i < tg->ntasks; i++) {
		const struct task *t = &tg->tasks[i];
		if (t->ndeps == 0)
			cJSON_AddItemToArray(roots, cJSON_CreateString(t->id));
		cJSON_AddItemToObject(tasks, t->id, task_json(t));
		cJSON *d = cJSON_AddArrayToObject(deps, t->id);
		cJSON *c = cJSON_AddArrayToObject(cdeps, t->id);
		for (size_t k = 0; k < t->ndeps; k++) {
			const struct task *dt = &tg->tasks[t->deps[k]];
			cJSON_AddItemToArray(dt->continuous ? c : d, cJSON_CreateString(dt->id));
		}
	}
	return o;
}

static void deps_closure(const struct workspace *ws, int p, bool *ret)
{
	for (size_t k = 0; k < ws->projects[p].ndeps; k++) {
		int d = ws->projects[p].deps[k].project;
		if (!ret[d]) {
			ret[d] = true;
			deps_closure(ws, d, ret);
		}
	}
}

void graph_focus_set(const struct workspace *ws, int f, bool *ret)
{
	memset(ret, 0, ws->nprojects * sizeof(*ret));
	if (f < 0)
		return;
	ret[f] = true;
	affected_add_dependents(ws, ret);
	ret[f] = true;
	deps_closure(ws, f, ret);
}

static cJSON *names_json(const struct workspace *ws, const bool *sel)
{
	cJSON *a = cJSON_CreateArray();
	for (size_t i = 0; i < ws->nprojects; i++)
		if (sel[i])
			cJSON_AddItemToArray(a, cJSON_CreateString(ws->projects[i].name));
	return a;
}

static void marks_json(const struct workspace *ws, const struct graph_marks *m, cJSON *root)
{
	if (m->affected)
		cJSON_AddItemToObject(root, "affectedProjects", names_json(ws, m->affected));
	if (m->focus < 0)
		return;
	bool *set = xcalloc(ws->nprojects + 1, sizeof(*set));
	graph_focus_set(ws, m->focus, set);
	cJSON *f = cJSON_AddObjectToObject(root, "focus");
	cJSON_AddStringToObject(f, "project", ws->projects[m->focus].name);
	cJSON_AddItemToObject(f, "projects", names_json(ws, set));
	free(set);
}

static void export_json(const struct workspace *ws, const struct task_graph *tg,
                        const struct graph_marks *m, struct sbuf *out)
{
	cJSON *root = cJSON_CreateObject();
	cJSON_AddItemToObject(root, "graph", project_graph_json(ws));
	if (tg)
		cJSON_AddItemToObject(root, "tasks", task_graph_json(tg));
	marks_json(ws, m, root);
	char *s = cJSON_Print(root);
	sbuf_adds(out, s);
	sbuf_addc(out, '\n');
	cJSON_free(s);
	cJSON_Delete(root);
}

/* ---- DOT ---------------------------------------------------------------- */

static void dot_quote(struct sbuf *out, const char *prefix, const char *s)
{
	sbuf_addc(out, '"');
	sbuf_adds(out, prefix);
	for (; *s; s++) {
		if (*s == '"' || *s == '\\')
			sbuf_addc(out, '\\');
		sbuf_addc(out, *s);
	}
	sbuf_addc(out, '"');
}

/* A node's marks: affected ones filled, the focused one bold, the rest of
 * the focus outlined blue, projects outside a focus grey. */
static void dot_marks(const struct graph_marks *m, const bool *focus, size_t i, struct sbuf *out)
{
	if (m->affected && m->affected[i])
		sbuf_adds(out, ", style=filled, fillcolor=\"#ffd8d3\"");
	if (m->focus < 0)
		return;
	if ((int)i == m->focus)
		sbuf_adds(out, ", color=\"#0969da\", penwidth=3");
	else if (focus[i])
		sbuf_adds(out, ", color=\"#0969da\", penwidth=1.5");
	else
		sbuf_adds(out, ", color=gray75, fontcolor=gray55");
}

static void export_dot(const struct workspace *ws, const struct task_graph *tg,
                       const struct graph_marks *m, struct sbuf *out)
{
	bool *focus = xcalloc(ws->nprojects + 1, sizeof(*focus));
	graph_focus_set(ws, m->focus, focus);
	sbuf_adds(out,
	          "digraph bld {\n\trankdir=LR;\n\tnode [shape=box, fontname=\"sans-serif\"];\n");
	sbuf_adds(out, "\tsubgraph cluster_projects {\n\t\tlabel=\"projects\";\n");
	for (size_t i = 0; i < ws->nprojects; i++) {
		sbuf_adds(out, "\t\t");
		dot_quote(out, "", ws->projects[i].name);
		sbuf_addf(out, " [label=");
		dot_quote(out, "", ws->projects[i].name);
		sbuf_addf(out, ", tooltip=");
		dot_quote(out, "", ws->projects[i].root[0] ? ws->projects[i].root : ".");
		dot_marks(m, focus, i, out);
		sbuf_adds(out, "];\n");
	}
	free(focus);
	sbuf_adds(out, "\t}\n");
	for (size_t i = 0; i < ws->nprojects; i++) {
		const struct ws_project *p = &ws->projects[i];
		for (size_t k = 0; k < p->ndeps; k++) {
			sbuf_addc(out, '\t');
			dot_quote(out, "", p->name);
			sbuf_adds(out, " -> ");
			dot_quote(out, "", ws->projects[p->deps[k].project].name);
			sbuf_addf(out, "%s;\n",
			          p->deps[k].kind == WS_DEP_STATIC     ? ""
			          : p->deps[k].kind == WS_DEP_IMPLICIT ? " [style=dashed]"
			                                               : " [style=dotted]");
		}
	}
	if (tg) {
		sbuf_adds(out, "\tsubgraph cluster_tasks {\n\t\tlabel=\"tasks\";\n");
		for (size_t i = 0; i < tg->ntasks; i++) {
			sbuf_adds(out, "\t\t");
			dot_quote(out, "task ", tg->tasks[i].id);
			sbuf_adds(out, " [label=");
			dot_quote(out, "", tg->tasks[i].id);
			sbuf_adds(out, tg->tasks[i].requested ? ", style=bold];\n" : "];\n");
		}
		sbuf_adds(out, "\t}\n");
		for (size_t i = 0; i < tg->ntasks; i++)
			for (size_t k = 0; k < tg->tasks[i].ndeps; k++) {
				sbuf_addc(out, '\t');
				dot_quote(out, "task ", tg->tasks[i].id);
				sbuf_adds(out, " -> ");
				dot_quote(out, "task ", tg->tasks[tg->tasks[i].deps[k]].id);
				sbuf_adds(out, ";\n");
			}
	}
	sbuf_adds(out, "}\n");
}

void graph_export_marked(const struct workspace *ws, const struct task_graph *tg,
                         const struct graph_marks *marks, enum graph_format fmt,
                         struct sbuf *out)
{
	static const struct graph_marks none = {NULL, -1};
	const struct graph_marks *m = marks ? marks : &none;
	switch (fmt) {
	case GRAPH_JSON:
		export_json(ws, tg, m, out);
		break;
	case GRAPH_DOT:
		export_dot(ws, tg, m, out);
		break;
	case GRAPH_HTML:
		tg__export_html(ws, tg, m, out);
		break;
	}
}

void graph_export(const struct workspace *ws, const struct task_graph *tg, enum graph_format fmt,
                  struct sbuf *out)
{
	graph_export_marked(ws, tg, NULL, fmt, out);
}
