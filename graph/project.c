/*
 * project.c - project.json parsing, targetDefaults merging, option tokens.
 *
 * What Nx 22.1.3 does, as watched with `nx show project --json` on scratch
 * workspaces (and read in its project-configuration-utils.js), and what
 * this file therefore does:
 *
 *  - name: "name" of project.json; when absent, "name" of the package.json
 *    in the project's root; when that is absent too, the root folder's last
 *    component lowercased ("libs/My-Lib" -> "my-lib"), "." for the root.
 *    root: project.json "root" if given, else the folder of project.json.
 *  - Each target is first normalised: the `command` shorthand becomes
 *    executor "nx:run-commands" with options.command (having both is an
 *    error); "options" and "configurations" always exist; in options and
 *    configurations, a leading "{workspaceRoot}/" is dropped ({workspaceRoot}
 *    anywhere else is an error), {projectRoot} and {projectName} are
 *    replaced; "parallelism" defaults to true.
 *  - ONE targetDefaults entry applies, chosen by: the target's executor as a
 *    key, else the target name as a key, else the longest glob key matching
 *    the name ("e2e-*").  Executor-keyed and name-keyed entries are never
 *    combined: with both "build" and "nx:run-commands" present, a
 *    run-commands target named build gets only "nx:run-commands".
 *  - The entry applies only when compatible: one side has no executor, or
 *    both have the same; for nx:run-commands also the same command (or one
 *    side without a command).  An incompatible entry is ignored entirely.
 *  - Merging: options - the default's keys fill in keys the target lacks
 *    (shallow: a target's "nested": {...} replaces the default's wholly);
 *    configurations - per configuration the same shallow fill-in, missing
 *    configurations added; every other key (inputs, outputs, dependsOn,
 *    cache, executor, parallelism, continuous, defaultConfiguration,
 *    metadata, syncGenerators...) - taken from the default only when the
 *    project.json target does not write it (arrays are replaced, never
 *    concatenated).  The default's own `command` shorthand is normalised
 *    first, and its option tokens resolved for this project.
 *  - After merging, a target with no executor is removed, unless it has a
 *    non-empty dependsOn: then its executor is "nx:noop".
 *  - cache and continuous both true is an error.
 *  - A targetDefaults entry never creates a target a project lacks.
 *  - When a package.json sits next to project.json, its scripts are targets
 *    too (executor nx:run-script, options.script), then "nx": {"targets"};
 *    project.json's targets merge over those (command shorthand applied
 *    first; options and configurations merged when compatible, replaced
 *    otherwise) before targetDefaults apply.  A script that project.json
 *    redefines with a command or another executor/script is dropped.
 *
 * bld differs on purpose: it rejects wrongly typed fields ("targets": 3)
 * that Nx passes through (schema.c, when the file is read), and sets no
 * "continuous" from executor schemas.
 */
#include "ws_int.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- parsing ---- */

static char *strip_root(const char *r)
{
	char *n = path_normalize(r);
	if (!strcmp(n, ".")) {
		free(n);
		return xstrdup("");
	}
	return n;
}

char *ws__project_derive_name(const char *root)
{
	if (!*root)
		return xstrdup(".");
	char *name = xstrdup(path_basename(root));
	for (char *c = name; *c; c++)
		*c = (char)tolower((unsigned char)*c);
	return name;
}

static char *opt_string(const cJSON *obj, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
	return cJSON_IsString(v) ? xstrdup(v->valuestring) : NULL;
}

static void push_strings(struct strvec *sv, const cJSON *arr)
{
	const cJSON *e;
	cJSON_ArrayForEach(e, arr) if (cJSON_IsString(e)) strvec_push(sv, e->valuestring);
}

int ws__project_parse(struct ws_project *p, cJSON *json, const char *text, const char *config_file,
                      struct bld_err *err)
{
	memset(p, 0, sizeof(*p));
	strvec_init(&p->tags);
	strvec_init(&p->implicit_deps);
	p->json = json;
	p->config_file = xstrdup(config_file);
	if (!cJSON_IsObject(json)) /* the reader's schema check said so, with a position */
		return bld_err_at(err, BLD_ESCHEMA, config_file, 1, 1,
		                  "a project.json must hold an object, not %s",
		                  ws__json_kind(json));
	char *dir = path_dirname(config_file);
	char *root = opt_string(json, "root");
	p->root = strip_root(root ? root : dir);
	free(root);
	free(dir);
	if (!path_is_safe_relative(p->root) && *p->root) {
		int line, col;
		ws__json_key_pos(text, "root", &line, &col);
		return bld_err_at(err, BLD_EUNSAFE, config_file, line, col,
		                  "\"root\" must stay inside the workspace");
	}
	p->name = opt_string(json, "name");
	p->source_root = opt_string(json, "sourceRoot");
	p->project_type = opt_string(json, "projectType");
	push_strings(&p->tags, cJSON_GetObjectItemCaseSensitive(json, "tags"));
	push_strings(&p->implicit_deps,
	             cJSON_GetObjectItemCaseSensitive(json, "implicitDependencies"));
	return 0;
}

void ws__project_release(struct ws_project *p)
{
	if (!p)
		return;
	free(p->name);
	free(p->root);
	free(p->source_root);
	free(p->project_type);
	free(p->config_file);
	strvec_release(&p->tags);
	strvec_release(&p->implicit_deps);
	cJSON_Delete(p->json);
	for (size_t i = 0; i < p->ntargets; i++) {
		free(p->targets[i].name);
		free(p->targets[i].executor);
		free(p->targets[i].inferred_by);
	}
	free(p->targets);
	for (size_t i = 0; i < p->ndeps; i++)
		free(p->deps[i].source);
	free(p->deps);
	free(p->package_name);
	cJSON_Delete(p->package_json);
	memset(p, 0, sizeof(*p));
}

/* ---- tokens ---- */

/* Nx's option tokens in one string value, in place. */
static int resolve_string(cJSON *v, const struct ws_project *p, const char *file, const char *where,
                          struct bld_err *err)
{
	if (!strchr(v->valuestring, '{'))
		return 0;
	char *b = workspace_expand_tokens(p, v->valuestring, WS_TOKENS_OPTION);
	if (!b)
		return bld_err_at(err, BLD_ESCHEMA, file, 0, 0,
		                  "the {workspaceRoot} token is only valid at the beginning of an "
		                  "option (%s), as in Nx",
		                  where);
	cJSON_SetValuestring(v, b);
	free(b);
	return 0;
}

int ws__resolve_option_tokens(cJSON *v, const struct ws_project *p, const char *file,
                              const char *where, struct bld_err *err)
{
	cJSON *e;
	cJSON_ArrayForEach(e, v)
	{
		int rc = 0;
		if (cJSON_IsString(e))
			rc = resolve_string(e, p, file, where, err);
		else if (cJSON_IsObject(e) || cJSON_IsArray(e))
			rc = ws__resolve_option_tokens(e, p, file, where, err);
		if (rc < 0)
			return rc;
	}
	return 0;
}

/* ---- normalising and merging targets ---- */

static cJSON *ensure_object(cJSON *obj, const char *key)
{
	cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
	if (cJSON_IsObject(v))
		return v;
	if (v)
		cJSON_DeleteItemFromObjectCaseSensitive(obj, key);
	return cJSON_AddObjectToObject(obj, key);
}

static void set_item(cJSON *obj, const char *key, cJSON *val)
{
	if (ws__json_has(obj, key))
		cJSON_ReplaceItemInObjectCaseSensitive(obj, key, val);
	else
		cJSON_AddItemToObject(obj, key, val);
}

/* Nx's normalizeTarget: a new object; tokens resolved for p. */
static int normalize_target(const cJSON *raw, const struct ws_project *p, const char *file,
                            const char *where, cJSON **ret, struct bld_err *err)
{
	cJSON *t = cJSON_Duplicate(raw, true);
	cJSON *cmd = cJSON_DetachItemFromObjectCaseSensitive(t, "command");
	cJSON *opts = ensure_object(t, "options");
	ensure_object(t, "configurations");
	int rc = 0;
	if (cmd && ws__json_has(t, "executor"))
		rc = bld_err_at(err, BLD_ESCHEMA, file, 0, 0,
		                "%s: has both \"executor\" and \"command\" (the command shorthand "
		                "means nx:run-commands)",
		                where);
	if (cmd && rc == 0) {
		set_item(t, "executor", cJSON_CreateString("nx:run-commands"));
		set_item(opts, "command", cmd);
		cmd = NULL;
	}
	cJSON_Delete(cmd);
	if (rc == 0)
		rc = ws__resolve_option_tokens(opts, p, file, where, err);
	cJSON *c;
	cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(t, "configurations"))
	{
		if (rc == 0)
			rc = ws__resolve_option_tokens(c, p, file, where, err);
	}
	if (!ws__json_has(t, "parallelism"))
		cJSON_AddTrueToObject(t, "parallelism");
	if (rc < 0) {
		cJSON_Delete(t);
		return rc;
	}
	*ret = t;
	return 0;
}

/* The one targetDefaults entry for a target (see the file header). */
static const cJSON *find_default(const cJSON *td, const char *name, const char *executor)
{
	const cJSON *d;
	if (!td)
		return NULL;
	if (executor && (d = cJSON_GetObjectItemCaseSensitive(td, executor)))
		return d;
	if ((d = cJSON_GetObjectItemCaseSensitive(td, name)))
		return d;
	const cJSON *best = NULL;
	cJSON_ArrayForEach(d, td)
	{
		if (!pattern_is_glob(d->string, PATTERN_NAMES) ||
		    pattern_match_once(d->string, name, PATTERN_NAMES) != 1)
			continue;
		if (!best || strlen(best->string) < strlen(d->string))
			best = d;
	}
	return best;
}

static const char *get_str(const cJSON *o, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
	return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* options.command, or options.commands joined by " && " (strings only). */
static char *run_command_of(const cJSON *t)
{
	const cJSON *o = cJSON_GetObjectItemCaseSensitive(t, "options");
	const char *c = get_str(o, "command");
	if (c)
		return xstrdup(c);
	const cJSON *cs = cJSON_GetObjectItemCaseSensitive(o, "commands"), *e;
	if (!cJSON_IsArray(cs) || !cJSON_GetArraySize(cs))
		return NULL;
	struct sbuf sb = SBUF_INIT;
	sbuf_init(&sb);
	cJSON_ArrayForEach(e, cs)
	{
		if (sb.len)
			sbuf_adds(&sb, " && ");
		if (cJSON_IsString(e))
			sbuf_adds(&sb, e->valuestring);
		else
			sbuf_adds(&sb, "[object Object]"); /* what JavaScript's join writes */
	}
	return sbuf_detach(&sb);
}

static bool compatible(const cJSON *a, const cJSON *b)
{
	const char *ea = get_str(a, "executor"), *eb = get_str(b, "executor");
	if (!ea || !eb)
		return true;
	if (strcmp(ea, eb))
		return false;
	const char *field = !strcmp(ea, "nx:run-commands") ? "command"
	                    : !strcmp(ea, "nx:run-script") ? "script"
	                                                   : NULL;
	if (!field)
		return true;
	char *ca, *cb;
	if (!strcmp(field, "command")) {
		ca = run_command_of(a);
		cb = run_command_of(b);
	} else {
		const char *sa = get_str(cJSON_GetObjectItemCaseSensitive(a, "options"), "script");
		const char *sb = get_str(cJSON_GetObjectItemCaseSensitive(b, "options"), "script");
		ca = sa ? xstrdup(sa) : NULL;
		cb = sb ? xstrdup(sb) : NULL;
	}
	bool ok = !ca || !cb || !*ca || !*cb || !strcmp(ca, cb);
	free(ca);
	free(cb);
	return ok;
}

/* Nx's mergeTargetConfigurations(target = over, baseTarget = base). */
static cJSON *merge_target(const cJSON *base, const cJSON *over)
{
	if (!base)
		return cJSON_Duplicate(over, true);
	bool ok = compatible(base, over);
	cJSON *r = cJSON_CreateObject();
	const cJSON *e, *kept = ok ? base : NULL;
	cJSON_ArrayForEach(e, kept)
	{
		if (strcmp(e->string, "options") && strcmp(e->string, "configurations"))
			cJSON_AddItemToObject(r, e->string, cJSON_Duplicate(e, true));
	}
	cJSON_ArrayForEach(e, over) set_item(r, e->string, cJSON_Duplicate(e, true));
	const cJSON *bo = ok ? cJSON_GetObjectItemCaseSensitive(base, "options") : NULL;
	const cJSON *oo = cJSON_GetObjectItemCaseSensitive(over, "options");
	if (bo || oo) {
		cJSON *opts = cJSON_IsObject(bo) ? cJSON_Duplicate(bo, true) : cJSON_CreateObject();
		const cJSON *src = cJSON_IsObject(oo) ? oo : NULL;
		cJSON_ArrayForEach(e, src) set_item(opts, e->string, cJSON_Duplicate(e, true));
		set_item(r, "options", opts);
	}
	const cJSON *bc = ok ? cJSON_GetObjectItemCaseSensitive(base, "configurations") : NULL;
	const cJSON *oc = cJSON_GetObjectItemCaseSensitive(over, "configurations");
	if (bc || oc) {
		cJSON *cfgs = cJSON_IsObject(bc) ? cJSON_Duplicate(bc, true) : cJSON_CreateObject();
		const cJSON *src = cJSON_IsObject(oc) ? oc : NULL;
		cJSON_ArrayForEach(e, src)
		{
			cJSON *into = ensure_object(cfgs, e->string);
			const cJSON *k;
			cJSON_ArrayForEach(k, e)
			    set_item(into, k->string, cJSON_Duplicate(k, true));
		}
		set_item(r, "configurations", cfgs);
	}
	return r;
}

/* The command shorthand, applied (as Nx does) before a target is merged
 * onto another; new object. */
static cJSON *desugar(const cJSON *t)
{
	cJSON *d = cJSON_Duplicate(t, true);
	if (!ws__json_has(d, "command") || ws__json_has(d, "executor"))
		return d; /* both: normalize_target reports it */
	cJSON *cmd = cJSON_DetachItemFromObjectCaseSensitive(d, "command");
	cJSON_AddStringToObject(d, "executor", "nx:run-commands");
	set_item(ensure_object(d, "options"), "command", cmd);
	return d;
}

cJSON *ws__merge_target_maps(const cJSON *base, const cJSON *over)
{
	cJSON *r = cJSON_CreateObject();
	const cJSON *e;
	cJSON_ArrayForEach(e, base)
	{
		const cJSON *o = cJSON_GetObjectItemCaseSensitive(over, e->string);
		cJSON *d = o ? desugar(o) : NULL;
		cJSON_AddItemToObject(r, e->string,
		                      d ? merge_target(e, d) : cJSON_Duplicate(e, true));
		cJSON_Delete(d);
	}
	cJSON_ArrayForEach(e, over)
	{
		if (!ws__json_has(r, e->string))
			cJSON_AddItemToObject(r, e->string, cJSON_Duplicate(e, true));
	}
	return r;
}

/* Fill keys of from that into lacks, shallowly. */
static void fill_missing(cJSON *into, const cJSON *from)
{
	const cJSON *e;
	cJSON_ArrayForEach(e, from)
	{
		if (!ws__json_has(into, e->string))
			cJSON_AddItemToObject(into, e->string, cJSON_Duplicate(e, true));
	}
}

/* mergeTargetDefaultWithTargetDefinition: t (normalised) gains what the
 * normalised default d offers and the raw target did not write. */
static void merge_default(cJSON *t, const cJSON *raw, const cJSON *d)
{
	const cJSON *e;
	cJSON_ArrayForEach(e, d)
	{
		if (!strcmp(e->string, "options")) {
			fill_missing(ensure_object(t, "options"), e);
		} else if (!strcmp(e->string, "configurations")) {
			cJSON *cfgs = ensure_object(t, "configurations");
			const cJSON *c;
			cJSON_ArrayForEach(c, e) fill_missing(ensure_object(cfgs, c->string), c);
		} else if (!ws__json_has(raw, e->string)) {
			set_item(t, e->string, cJSON_Duplicate(e, true));
		}
	}
}

/* Point an error without a position at key in text (the target's name). */
static int locate(int rc, struct bld_err *err, const char *text, const char *key)
{
	if (err && err->line == 0)
		ws__json_key_pos(text, key, &err->line, &err->col);
	return rc;
}

/* One target: normalise, merge its default, decide whether it stays.
 * 0 and *ret (NULL when Nx would drop it), or an error. */
static int resolve_target(struct workspace *ws, const struct ws_project *p, const cJSON *raw,
                          const struct ws_texts *texts, cJSON **ret, struct bld_err *err)
{
	char where[512];
	snprintf(where, sizeof(where), "target \"%s\"", raw->string);
	cJSON *t;
	int rc = normalize_target(raw, p, p->config_file, where, &t, err);
	if (rc < 0)
		return locate(rc, err, texts->project, raw->string);
	const cJSON *d = find_default(ws->target_defaults, raw->string, get_str(t, "executor"));
	if (d && compatible(t, d)) {
		cJSON *nd;
		snprintf(where, sizeof(where), "targetDefaults \"%s\" (for %s:%s)", d->string,
		         p->name, raw->string);
		rc = normalize_target(d, p, "nx.json", where, &nd, err);
		if (rc < 0) {
			cJSON_Delete(t);
			return locate(rc, err, texts->nx, d->string);
		}
		merge_default(t, raw, nd);
		cJSON_Delete(nd);
	}
	if (!get_str(t, "executor")) {
		const cJSON *dep = cJSON_GetObjectItemCaseSensitive(t, "dependsOn");
		if (!cJSON_IsArray(dep) || !cJSON_GetArraySize(dep)) {
			cJSON_Delete(t);
			*ret = NULL;
			return 0;
		}
		set_item(t, "executor", cJSON_CreateString("nx:noop"));
	}
	if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(t, "cache")) &&
	    cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(t, "continuous"))) {
		cJSON_Delete(t);
		rc = bld_err_at(err, BLD_ESCHEMA, p->config_file, 0, 0,
		                "%s has both \"cache\" and \"continuous\" set to true; continuous "
		                "targets cannot be cached",
		                where);
		return locate(rc, err, texts->project, raw->string);
	}
	*ret = t;
	return 0;
}

static void fill_target(struct ws_target *wt, cJSON *t)
{
	memset(wt, 0, sizeof(*wt));
	wt->name = xstrdup(t->string);
	wt->executor = xstrdup(get_str(t, "executor"));
	wt->json = t;
	wt->cache = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(t, "cache"));
	wt->continuous = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(t, "continuous"));
	wt->has_inputs = ws__json_has(t, "inputs");
}

int ws__project_resolve(struct workspace *ws, struct ws_project *p, const struct ws_texts *texts,
                        struct bld_err *err)
{
	cJSON *raw = cJSON_DetachItemFromObjectCaseSensitive(p->json, "targets");
	cJSON *merged = cJSON_CreateObject();
	const cJSON *r;
	int rc = 0;
	cJSON_ArrayForEach(r, raw)
	{
		cJSON *t = NULL;
		if ((rc = resolve_target(ws, p, r, texts, &t, err)) < 0)
			break;
		if (t)
			cJSON_AddItemToObject(merged, r->string, t);
	}
	cJSON_Delete(raw);
	cJSON_AddItemToObject(p->json, "targets", merged);
	if (rc < 0)
		return rc;
	size_t n = (size_t)cJSON_GetArraySize(merged), i = 0;
	p->targets = xcalloc(n ? n : 1, sizeof(*p->targets));
	cJSON *t;
	cJSON_ArrayForEach(t, merged) fill_target(&p->targets[i++], t);
	p->ntargets = n;
	return 0;
}

/* ---- public lookups and tokens ---- */

struct ws_target *ws_project_target(const struct ws_project *p, const char *name)
{
	for (size_t i = 0; p && i < p->ntargets; i++)
		if (!strcmp(p->targets[i].name, name))
			return &p->targets[i];
	return NULL;
}

/* A root project's "." for {projectRoot}, in PATH mode: "./" at the start
 * of a segment and a final "/." are dropped ("{projectRoot}/dist" is "dist"). */
static void add_root_dot(struct sbuf *sb, const char **s)
{
	bool at_seg = sb->len == 0 || strchr("/!^", sb->buf[sb->len - 1]);
	if (at_seg && **s == '/') {
		(*s)++;
	} else if (at_seg && !**s && sb->len > 1 && sb->buf[sb->len - 1] == '/') {
		sb->buf[--sb->len] = '\0';
	} else {
		sbuf_addc(sb, '.');
	}
}

char *workspace_expand_tokens(const struct ws_project *p, const char *s, enum ws_tokens mode)
{
	static const char wr[] = "{workspaceRoot}", pr[] = "{projectRoot}", pn[] = "{projectName}";
	struct sbuf sb = SBUF_INIT;
	sbuf_init(&sb);
	const char *start = s + (mode == WS_TOKENS_PATH && *s == '!');
	if (start > s)
		sbuf_addc(&sb, '!');
	s = start;
	if (str_starts(s, wr))
		s += strlen(wr) + (s[strlen(wr)] == '/');
	while (*s) {
		if (str_starts(s, pr)) {
			s += strlen(pr);
			if (*p->root)
				sbuf_adds(&sb, p->root);
			else if (mode == WS_TOKENS_PATH)
				add_root_dot(&sb, &s);
			else
				sbuf_addc(&sb, '.');
		} else if (str_starts(s, pn)) {
			s += strlen(pn);
			sbuf_adds(&sb, p->name);
		} else if (mode == WS_TOKENS_OPTION && str_starts(s, wr)) {
			sbuf_release(&sb);
			return NULL;
		} else {
			sbuf_addc(&sb, *s++);
		}
	}
	return sbuf_detach(&sb);
}
