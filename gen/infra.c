/*
 * infra.c - the ts#infra generator: a CDK app (packages/<name>) whose stack
 * instantiates every API construct that packages/common/constructs lists in
 * src/app/apis/index.ts when it runs, with a cached `synth` target into
 * dist/packages/<name>/cdk.out that waits for the constructs' build (which
 * bundles every API).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "gen_int.h"

#define CONSTRUCTS "packages/common/constructs"

static const char *const known_opts[] = {"name", "directory", NULL};

/* API names listed by the constructs' apis/index.ts ("export * from './my-api.js';",
 * or without ".js" as bld wrote it before the constructs became an ES module). */
static int list_apis(struct gen_plan *plan, struct strvec *ret, struct bld_err *err)
{
	char *text = NULL;
	int rc = gen__read(plan, CONSTRUCTS "/src/app/apis/index.ts", &text, err);
	if (rc == -ENOENT)
		return 0;
	if (rc < 0)
		return rc;
	struct strvec lines;
	strvec_init(&lines);
	strvec_split(&lines, text, "\n");
	const char *pre = "export * from './";
	for (size_t i = 0; i < lines.n; i++) {
		char *l = lines.v[i];
		char *end = strstr(l, "';");
		if (end && end - l > 3 && !strncmp(end - 3, ".js", 3))
			end -= 3;
		if (str_starts(l, pre) && end && end > l + strlen(pre))
			strvec_push_owned(
			    ret, xstrndup(l + strlen(pre), (size_t)(end - l - strlen(pre))));
	}
	strvec_release(&lines);
	free(text);
	return 0;
}

/* Does the API's construct build integrations (an API Gateway API), or is it the
 * streaming Function URL, which takes no props? */
static bool takes_integrations(struct gen_plan *plan, const char *api)
{
	char *rel = xasprintf(CONSTRUCTS "/src/app/apis/%s.ts", api), *text = NULL;
	struct bld_err ignored;
	bld_err_clear(&ignored);
	bool yes = gen__read(plan, rel, &text, &ignored) < 0 ||
	           strstr(text, "static defaultIntegrations(") != NULL;
	free(text);
	free(rel);
	return yes;
}

/* The stack's import lines and construct instantiations. */
static void stack_code(struct gen_plan *plan, const struct strvec *apis, struct sbuf *imports,
                       struct sbuf *body)
{
	if (!apis->n)
		return;
	sbuf_adds(imports, "import {");
	for (size_t i = 0; i < apis->n; i++) {
		char *p = gen__pascal(apis->v[i]);
		sbuf_addf(imports, " %s%s", p, i + 1 < apis->n ? "," : "");
		if (takes_integrations(plan, apis->v[i]))
			sbuf_addf(body,
			          "    new %s(this, '%s', {\n"
			          "      integrations: %s.defaultIntegrations(this).build(),\n"
			          "    });\n",
			          p, p, p);
		else
			sbuf_addf(body, "    new %s(this, '%s');\n", p, p);
		free(p);
	}
	sbuf_adds(imports, " } from ':common-constructs';\n");
}

static int infra_names(const cJSON *options, char **ret_name, char **ret_root, char **ret_up,
                       struct bld_err *err)
{
	const char *name = NULL, *dir = NULL;
	int rc = gen__opt_known("ts#infra", options, known_opts, err);
	if (rc >= 0)
		rc = gen__opt_str(options, "name", &name, err);
	if (rc >= 0)
		rc = gen__opt_str(options, "directory", &dir, err);
	if (rc < 0)
		return rc;
	*ret_name = gen__kebab(name && *name ? name : "infra");
	if (!**ret_name || !(**ret_name >= 'a' && **ret_name <= 'z'))
		return bld_err_set(err, BLD_EUSAGE,
		                   "--name '%s': expected a name starting with a letter", name);
	char *d = path_normalize(dir && *dir ? dir : "packages");
	if (!path_is_safe_relative(d) || !*d || !strcmp(d, ".")) {
		free(d);
		return bld_err_set(err, BLD_EUSAGE,
		                   "--directory '%s': expected a folder inside the "
		                   "workspace, such as packages",
		                   dir);
	}
	*ret_root = path_join(d, *ret_name);
	*ret_up = gen__up(*ret_root);
	free(d);
	return 0;
}

static int plan_infra_files(struct gen_plan *plan, const char *root, struct strmap *vars,
                            struct bld_err *err)
{
	static const struct {
		const char *file, *tmpl;
	} files[] = {
	    {"project.json", "infra/project.json"},
	    {"package.json", "infra/package.json"},
	    {"cdk.json", "infra/cdk.json"},
	    {"tsconfig.json", "infra/tsconfig.json"},
	    {"README.md", "infra/README.md"},
	    {"src/main.ts", "infra/main.ts"},
	    {"src/stacks/application-stack.ts", "infra/application-stack.ts"},
	};
	int rc = 0;
	for (size_t i = 0; rc >= 0 && i < ARRAY_LEN(files); i++) {
		char *path = xasprintf("%s/%s", root, files[i].file);
		rc = gen__plan_render(plan, path, files[i].tmpl, vars, err);
		free(path);
	}
	return rc;
}

/* Without a constructs project the app depends on nothing (Nx rejects unknown names). */
static int fix_deps(struct gen_plan *plan, const char *root, bool has_constructs,
                    struct bld_err *err)
{
	if (has_constructs)
		return 0;
	char *rel = xasprintf("%s/project.json", root);
	cJSON *pj = NULL;
	int rc = gen__read_json(plan, rel, &pj, err);
	if (rc >= 0) {
		cJSON_ReplaceItemInObjectCaseSensitive(pj, "implicitDependencies",
		                                       cJSON_CreateArray());
		gen__plan_json(plan, rel, pj);
		cJSON_Delete(pj);
	}
	free(rel);
	return rc;
}

int gen__infra(struct gen_plan *plan, const cJSON *options, struct bld_err *err)
{
	char *name = NULL, *root = NULL, *up = NULL;
	struct strvec apis;
	struct strmap vars;
	struct sbuf imports = SBUF_INIT, body = SBUF_INIT;
	strvec_init(&apis);
	strmap_init(&vars);
	sbuf_init(&imports);
	sbuf_init(&body);
	int rc = infra_names(options, &name, &root, &up, err);
	char *full = rc >= 0 ? gen__ws_path(plan, root) : NULL;
	if (rc >= 0 && (file_exists(full) || dir_exists(full)))
		rc =
		    bld_err_at(err, BLD_EEXISTS, root, 0, 0, "already exists; nothing was written");
	free(full);
	if (rc >= 0)
		rc = list_apis(plan, &apis, err);
	if (rc >= 0) {
		stack_code(plan, &apis, &imports, &body);
		strmap_put(&vars, "name", name);
		strmap_put(&vars, "root", root);
		strmap_put(&vars, "up", up);
		strmap_put(&vars, "imports", imports.buf);
		strmap_put(&vars, "apis", body.buf);
		rc = plan_infra_files(plan, root, &vars, err);
	}
	char *cpj = gen__ws_path(plan, CONSTRUCTS "/project.json");
	bool has_constructs = file_exists(cpj);
	free(cpj);
	if (rc >= 0)
		rc = fix_deps(plan, root, has_constructs, err);
	if (rc >= 0)
		rc = gen__plan_root(plan, err);
	char *tsb = gen__ws_path(plan, "tsconfig.base.json");
	if (rc >= 0 && !file_exists(tsb) && !gen__plan_find(plan, "tsconfig.base.json"))
		rc = gen__plan_render(plan, "tsconfig.base.json", "root/tsconfig.base.json", &vars,
		                      err);
	free(tsb);
	sbuf_release(&imports);
	sbuf_release(&body);
	strmap_release(&vars);
	strvec_release(&apis);
	free(name);
	free(root);
	free(up);
	return rc;
}
