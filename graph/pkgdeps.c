/*
 * pkgdeps.c - package.json: a project's package name and the workspace
 * packages it depends on.
 *
 * Nx 22 (watched with `nx graph --file`) makes a static edge from a project
 * to another workspace project when one of dependencies, devDependencies,
 * peerDependencies or optionalDependencies names the other's package.json
 * "name" and the spec accepts it: "workspace:..." always, "file:"/"link:"
 * when the path is that project's folder, "*" (even when the package has no
 * version), and a semver range only when the package's version satisfies
 * it ("^3.0.0" against 1.0.0 is no edge; neither is a tag such as
 * "latest").  This file holds the small semver range matcher for that.
 *
 * Nx's package.json plugin also tags such projects "npm:private" or
 * "npm:public" (then the "nx": {"tags"} of package.json, then project.json's
 * tags); workspace.c applies that.  Its targets (ws__pkg_targets): every
 * script becomes an nx:run-script target unless project.json has a target
 * of that name with a command or another executor; "nx": {"targets"} merge
 * over them; project.json's targets merge over all that.
 */
#include "ws_int.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>

static const char *const dep_fields[] = {"dependencies", "devDependencies", "peerDependencies",
                                         "optionalDependencies"};

void ws__pkg_release(struct ws_pkg *pkg)
{
	free(pkg->name);
	free(pkg->version);
	strvec_release(&pkg->dep_names);
	strvec_release(&pkg->dep_specs);
	strvec_release(&pkg->nx_tags);
	strvec_release(&pkg->keywords);
	cJSON_Delete(pkg->json);
	memset(pkg, 0, sizeof(*pkg));
}

int ws__pkg_read(const struct ws_src *src, const char *rel, struct ws_pkg *pkg, char **ret_text,
                 struct bld_err *err)
{
	memset(pkg, 0, sizeof(*pkg));
	cJSON *json = NULL;
	int rc = ws__src_json(src, rel, WS_SCHEMA_PACKAGE, &json, ret_text, err);
	if (rc == -ENOENT)
		rc = 1;
	if (rc == 0 && !cJSON_IsObject(json))
		rc = bld_err_at(err, BLD_ESCHEMA, rel, 1, 1, "package.json must hold an object");
	if (rc == 0) {
		const cJSON *v = cJSON_GetObjectItemCaseSensitive(json, "name");
		pkg->name = cJSON_IsString(v) ? xstrdup(v->valuestring) : NULL;
		v = cJSON_GetObjectItemCaseSensitive(json, "version");
		pkg->version = cJSON_IsString(v) ? xstrdup(v->valuestring) : NULL;
		pkg->is_private = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(json, "private"));
		const cJSON *nx = cJSON_GetObjectItemCaseSensitive(json, "nx"), *t;
		cJSON_ArrayForEach(t, cJSON_GetObjectItemCaseSensitive(nx, "tags"))
		{
			if (cJSON_IsString(t))
				strvec_push(&pkg->nx_tags, t->valuestring);
		}
		cJSON_ArrayForEach(t, cJSON_GetObjectItemCaseSensitive(json, "keywords"))
		{
			if (cJSON_IsString(t))
				strvec_push(&pkg->keywords, t->valuestring);
		}
		pkg->entry_points = cJSON_GetObjectItemCaseSensitive(json, "exports") ||
		                    cJSON_GetObjectItemCaseSensitive(json, "main") ||
		                    cJSON_GetObjectItemCaseSensitive(json, "module") ||
		                    cJSON_GetObjectItemCaseSensitive(json, "bin");
		for (size_t i = 0; i < ARRAY_LEN(dep_fields); i++) {
			const cJSON *d;
			cJSON_ArrayForEach(d, cJSON_GetObjectItemCaseSensitive(json, dep_fields[i]))
			{
				if (!cJSON_IsString(d))
					continue;
				strvec_push(&pkg->dep_names, d->string);
				strvec_push(&pkg->dep_specs, d->valuestring);
			}
		}
	}
	if (rc == 0)
		pkg->json = json;
	else
		cJSON_Delete(json);
	return rc;
}

/* ---- semver ---- */

struct semver {
	long v[3];
	char pre[64]; /* prerelease, "" for a release */
};

/* A partial version: "1", "1.2", "1.2.3-pre", "1.x", "*".  nparts = how
 * many of major/minor/patch were given as numbers.  0 or -1. */
static int parse_partial(const char *s, size_t len, struct semver *ret, int *ret_nparts)
{
	memset(ret, 0, sizeof(*ret));
	*ret_nparts = 0;
	size_t i = 0;
	if (i < len && (s[i] == 'v' || s[i] == '='))
		i++;
	for (int part = 0; part < 3 && i < len; part++) {
		if (strchr("xX*", s[i])) {
			i++;
			while (i < len && s[i] == '.' && i + 1 < len && strchr("xX*", s[i + 1]))
				i += 2;
			break;
		}
		if (!isdigit((unsigned char)s[i]))
			return -1;
		long v = 0;
		while (i < len && isdigit((unsigned char)s[i])) {
			if (v > (LONG_MAX - 10) / 10)
				return -1; /* not a version we compare (and bump stays in range) */
			v = v * 10 + (s[i++] - '0');
		}
		ret->v[part] = v;
		*ret_nparts = part + 1;
		if (i < len && s[i] == '.')
			i++;
		else
			break;
	}
	if (i < len && s[i] == '-') {
		size_t n = 0;
		i++;
		while (i < len && s[i] != '+' && n + 1 < sizeof(ret->pre))
			ret->pre[n++] = s[i++];
		ret->pre[n] = '\0';
	}
	if (i < len && s[i] == '+')
		i = len;
	return i == len ? 0 : -1;
}

static int cmp_pre(const char *a, const char *b)
{
	if (!*a || !*b)
		return !*a - !*b; /* a release sorts after any prerelease */
	while (*a || *b) {
		size_t la = strcspn(a, "."), lb = strcspn(b, ".");
		bool na = la && strspn(a, "0123456789") >= la,
		     nb = lb && strspn(b, "0123456789") >= lb;
		int c;
		if (na && nb)
			c = la != lb ? (la < lb ? -1 : 1) : strncmp(a, b, la);
		else if (na != nb)
			c = na ? -1 : 1;
		else {
			c = strncmp(a, b, la < lb ? la : lb);
			if (!c && la != lb)
				c = la < lb ? -1 : 1;
		}
		if (c)
			return c;
		a += la + (a[la] == '.');
		b += lb + (b[lb] == '.');
		if (!*a || !*b)
			return !*b - !*a;
	}
	return 0;
}

static int cmp_ver(const struct semver *a, const struct semver *b)
{
	for (int i = 0; i < 3; i++)
		if (a->v[i] != b->v[i])
			return a->v[i] < b->v[i] ? -1 : 1;
	return cmp_pre(a->pre, b->pre);
}

/* A comparator as an interval [lo, hi) with inclusive flags; none = open. */
struct interval {
	struct semver lo, hi;
	bool has_lo, has_hi, lo_incl, hi_incl;
};

static void bump(struct semver *v, int part)
{
	v->v[part]++;
	for (int i = part + 1; i < 3; i++)
		v->v[i] = 0;
	strcpy(v->pre, "0"); /* "<2.0.0-0": below every 2.0.0 prerelease */
}

/* Turn one comparator into an interval; -1 when not understood. */
static int comparator(const char *s, size_t len, struct interval *iv)
{
	memset(iv, 0, sizeof(*iv));
	char op[3] = "";
	size_t i = 0;
	while (i < len && i < 2 && strchr("<>=^~", s[i]))
		op[i] = s[i], i++;
	struct semver v;
	int n;
	if (parse_partial(s + i, len - i, &v, &n) < 0)
		return -1;
	if (!strcmp(op, "") || !strcmp(op, "=")) {
		if (n == 0)
			return 0; /* "*" */
		iv->lo = iv->hi = v;
		iv->has_lo = iv->has_hi = iv->lo_incl = true;
		if (n == 3) {
			iv->hi_incl = true;
		} else {
			bump(&iv->hi, n - 1);
		}
		return 0;
	}
	if (!strcmp(op, "^") || !strcmp(op, "~")) {
		iv->lo = iv->hi = v;
		iv->has_lo = iv->has_hi = iv->lo_incl = true;
		int part = 0;
		if (op[0] == '~')
			part = n >= 2 ? 1 : 0;
		else if (v.v[0] == 0 && n >= 2)
			part = (v.v[1] == 0 && n == 3) ? 2 : 1;
		if (n == 0)
			return 0;
		iv->hi.pre[0] = '\0';
		bump(&iv->hi, part);
		return 0;
	}
	if (n == 0) /* ">=*" and friends */
		return 0;
	if (op[0] == '>') {
		iv->has_lo = true;
		iv->lo = v;
		iv->lo_incl = op[1] == '=';
		if (n < 3 && !iv->lo_incl) {
			bump(&iv->lo, n - 1);
			iv->lo.pre[0] = '\0';
			iv->lo_incl = true;
		}
		return 0;
	}
	if (op[0] == '<') {
		iv->has_hi = true;
		iv->hi = v;
		iv->hi_incl = op[1] == '=';
		if (n < 3 && iv->hi_incl) {
			bump(&iv->hi, n - 1);
			iv->hi_incl = false;
		} else if (n < 3) {
			strcpy(iv->hi.pre, "0");
		}
		return 0;
	}
	return -1;
}

static bool in_interval(const struct semver *v, const struct interval *iv)
{
	if (iv->has_lo) {
		int c = cmp_ver(v, &iv->lo);
		if (c < 0 || (c == 0 && !iv->lo_incl))
			return false;
	}
	if (iv->has_hi) {
		int c = cmp_ver(v, &iv->hi);
		if (c > 0 || (c == 0 && !iv->hi_incl))
			return false;
	}
	return true;
}

/* One space-separated set ("a - b" hyphen ranges too): 1, 0 or -1. */
static int satisfies_set(const struct semver *v, const char *s, size_t len)
{
	struct strvec toks;
	strvec_init(&toks);
	char *copy = xstrndup(s, len);
	strvec_split(&toks, copy, " \t");
	free(copy);
	int rc = 1;
	bool pre_allowed = !*v->pre;
	for (size_t i = 0; i < toks.n && rc >= 0; i++) {
		struct interval iv;
		const char *t = toks.v[i];
		if (i + 2 < toks.n && !strcmp(toks.v[i + 1], "-")) {
			char *a = xasprintf(">=%s", t), *b = xasprintf("<=%s", toks.v[i + 2]);
			struct interval i2;
			if (comparator(a, strlen(a), &iv) < 0 || comparator(b, strlen(b), &i2) < 0)
				rc = -1;
			else if (!in_interval(v, &iv) || !in_interval(v, &i2))
				rc = 0;
			free(a);
			free(b);
			i += 2;
			continue;
		}
		if (comparator(t, strlen(t), &iv) < 0) {
			rc = -1;
			break;
		}
		if (!in_interval(v, &iv))
			rc = 0;
		/* a prerelease only satisfies a range naming a prerelease of its x.y.z */
		const struct semver *b = iv.has_lo && *iv.lo.pre ? &iv.lo
		                         : iv.has_hi && *iv.hi.pre && strcmp(iv.hi.pre, "0")
		                             ? &iv.hi
		                             : NULL;
		if (b && b->v[0] == v->v[0] && b->v[1] == v->v[1] && b->v[2] == v->v[2])
			pre_allowed = true;
	}
	strvec_release(&toks);
	if (rc == 1 && !pre_allowed)
		rc = 0;
	return rc;
}

int ws__semver_satisfies(const char *version, const char *range)
{
	struct semver v;
	int n;
	if (!version || parse_partial(version, strlen(version), &v, &n) < 0 || n != 3)
		return -1;
	int result = 0;
	const char *s = range;
	for (;;) {
		const char *bar = strstr(s, "||");
		size_t len = bar ? (size_t)(bar - s) : strlen(s);
		while (len && isspace((unsigned char)*s))
			s++, len--;
		while (len && isspace((unsigned char)s[len - 1]))
			len--;
		int r = len ? satisfies_set(&v, s, len) : (*v.pre ? 0 : 1);
		if (r < 0)
			return -1;
		if (r == 1)
			result = 1;
		if (!bar)
			break;
		s = bar + 2;
	}
	return result;
}

int ws__pkg_spec_accepts(const char *spec, const char *version, const char *from_dir,
                         const char *target_root)
{
	while (isspace((unsigned char)*spec))
		spec++;
	if (str_starts(spec, "workspace:"))
		return 1;
	if (str_starts(spec, "file:") || str_starts(spec, "link:")) {
		char *joined = path_join(from_dir, spec + 5);
		char *norm = path_normalize(joined);
		int ok =
		    !strcmp(norm, *target_root ? target_root : ".") || (!*target_root && !*norm);
		free(joined);
		free(norm);
		return ok;
	}
	if (!*spec || !strcmp(spec, "*") || !strcmp(spec, "x") || !strcmp(spec, "X"))
		return 1;
	if (!version)
		return ws__semver_satisfies("0.0.0", spec) < 0 ? -1 : 0;
	return ws__semver_satisfies(version, spec);
}

/* ---- the package.json plugin's targets ---- */

static bool overridden(const cJSON *project_targets, const char *script)
{
	const cJSON *t = cJSON_GetObjectItemCaseSensitive(project_targets, script);
	if (!t)
		return false;
	const cJSON *ex = cJSON_GetObjectItemCaseSensitive(t, "executor");
	const cJSON *sc = cJSON_GetObjectItemCaseSensitive(
	    cJSON_GetObjectItemCaseSensitive(t, "options"), "script");
	if (ws__json_has(t, "command"))
		return true;
	return cJSON_IsString(ex) && (strcmp(ex->valuestring, "nx:run-script") ||
	                              !cJSON_IsString(sc) || strcmp(sc->valuestring, script));
}

static cJSON *script_target(const char *script, const cJSON *content, const char *run)
{
	cJSON *t = cJSON_CreateObject();
	cJSON_AddStringToObject(t, "executor", "nx:run-script");
	cJSON_AddStringToObject(cJSON_AddObjectToObject(t, "options"), "script", script);
	cJSON *meta = cJSON_AddObjectToObject(t, "metadata");
	if (cJSON_IsString(content))
		cJSON_AddStringToObject(meta, "scriptContent", content->valuestring);
	char *rc = xasprintf("%s %s", run, script);
	cJSON_AddStringToObject(meta, "runCommand", rc);
	free(rc);
	return t;
}

static cJSON *release_publish_target(const cJSON *td)
{
	const cJSON *d = cJSON_GetObjectItemCaseSensitive(td, "nx-release-publish"), *e;
	cJSON *t = cJSON_CreateObject();
	cJSON_AddStringToObject(t, "executor", "@nx/js:release-publish");
	cJSON_ArrayForEach(e, d)
	{
		if (strcmp(e->string, "dependsOn") && strcmp(e->string, "options"))
			cJSON_AddItemToObject(t, e->string, cJSON_Duplicate(e, true));
	}
	cJSON *deps = cJSON_AddArrayToObject(t, "dependsOn");
	cJSON_AddItemToArray(deps, cJSON_CreateString("^nx-release-publish"));
	cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(d, "dependsOn"))
	    cJSON_AddItemToArray(deps, cJSON_Duplicate(e, true));
	const cJSON *o = cJSON_GetObjectItemCaseSensitive(d, "options");
	cJSON_AddItemToObject(t, "options",
	                      cJSON_IsObject(o) ? cJSON_Duplicate(o, true) : cJSON_CreateObject());
	return t;
}

cJSON *ws__pkg_targets(const struct ws_pkg *pkg, const cJSON *project_targets, const char *run,
                       bool release_publish, const cJSON *target_defaults)
{
	const cJSON *scripts = cJSON_GetObjectItemCaseSensitive(pkg->json, "scripts");
	const cJSON *nx = cJSON_GetObjectItemCaseSensitive(pkg->json, "nx");
	const cJSON *incl = cJSON_GetObjectItemCaseSensitive(nx, "includedScripts"), *e;
	cJSON *res = cJSON_CreateObject();
	const cJSON *names = cJSON_IsArray(incl) ? incl : scripts;
	cJSON_ArrayForEach(e, names)
	{
		const char *name =
		    cJSON_IsArray(incl) ? (cJSON_IsString(e) ? e->valuestring : NULL) : e->string;
		if (!name || overridden(project_targets, name) || ws__json_has(res, name))
			continue;
		const cJSON *content = cJSON_GetObjectItemCaseSensitive(scripts, name);
		cJSON_AddItemToObject(res, name, script_target(name, content, run));
	}
	const cJSON *nxt = cJSON_GetObjectItemCaseSensitive(nx, "targets");
	if (cJSON_IsObject(nxt)) {
		cJSON *merged = ws__merge_target_maps(res, nxt);
		cJSON_Delete(res);
		res = merged;
	}
	if (!pkg->is_private && release_publish && !ws__json_has(res, "nx-release-publish"))
		cJSON_AddItemToObject(res, "nx-release-publish",
		                      release_publish_target(target_defaults));
	return res;
}

cJSON *ws__pkg_metadata(const cJSON *pkg_json, const cJSON *targets, bool in_workspaces)
{
	cJSON *md = cJSON_CreateObject(), *groups = cJSON_AddObjectToObject(md, "targetGroups");
	const cJSON *scripts = cJSON_GetObjectItemCaseSensitive(pkg_json, "scripts"), *t;
	cJSON *names = cJSON_CreateArray();
	cJSON_ArrayForEach(t, targets)
	{
		const cJSON *ex = cJSON_GetObjectItemCaseSensitive(t, "executor");
		if (cJSON_IsString(ex) && !strcmp(ex->valuestring, "nx:run-script") &&
		    cJSON_GetObjectItemCaseSensitive(scripts, t->string))
			cJSON_AddItemToArray(names, cJSON_CreateString(t->string));
	}
	if (cJSON_GetArraySize(names))
		cJSON_AddItemToObject(groups, "NPM Scripts", names);
	else
		cJSON_Delete(names);
	const cJSON *d = cJSON_GetObjectItemCaseSensitive(pkg_json, "description");
	if (d)
		cJSON_AddItemToObject(md, "description", cJSON_Duplicate(d, true));
	cJSON *js = cJSON_AddObjectToObject(md, "js");
	static const char *const keys[][2] = {{"name", "packageName"},
	                                      {"version", "packageVersion"},
	                                      {"exports", "packageExports"},
	                                      {"main", "packageMain"}};
	for (size_t i = 0; i < ARRAY_LEN(keys); i++) {
		const cJSON *v = cJSON_GetObjectItemCaseSensitive(pkg_json, keys[i][0]);
		if (v)
			cJSON_AddItemToObject(js, keys[i][1], cJSON_Duplicate(v, true));
	}
	cJSON_AddBoolToObject(js, "isInPackageManagerWorkspaces", in_workspaces);
	return md;
}
