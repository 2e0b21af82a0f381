/*
 * fastapi.c - the py#fast-api generator: a FastAPI project for AWS Lambda
 * (packages/<snake>/) and its share of the infrastructure project, CDK
 * (packages/common/constructs) or Terraform (packages/common/terraform).
 *
 * A second API adds its files and targets to the infrastructure project and
 * touches nothing of the first.  An existing project name, project folder or
 * API file is BLD_EEXISTS before anything is written.
 */
#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "gen_int.h"

#define CONSTRUCTS "packages/common/constructs"
#define TERRAFORM "packages/common/terraform"
#define CONSTRUCTS_ALIAS ":common-constructs"

/* The plugin's current option names (infra, iac) and its earlier ones (computeType,
 * iacProvider) are both accepted; given together they must agree. */
static const char *const known_opts[] = {
    "name", "infra", "computeType", "auth", "directory", "iac", "iacProvider", "moduleName",
    "integrationPattern", NULL};
static const char *const compute_types[] = {"ServerlessApiGatewayRestApi",
                                            "ServerlessApiGatewayHttpApi", NULL};
/* In the order of compute_types; streaming-lambda (bld's own) is a Function URL. */
static const char *const infras[] = {"rest-lambda", "http-lambda", "streaming-lambda", NULL};
#define INFRA_STREAMING 2
static const char *const auths[] = {"IAM", "Cognito", "None", NULL};
static const char *const iac_providers[] = {"CDK", "Terraform", NULL};
static const char *const iacs[] = {"cdk", "terraform", "inherit", NULL};
/* isolated: a function per operation; shared: one `$router` function (the CDK
 * constructs' builder, the Terraform modules' integration_pattern). */
static const char *const patterns[] = {"isolated", "shared", NULL};

/* The API's names and choices; every string owned. */
struct api {
	char *name, *snake, *pascal, *module, *root, *dist, *up, *port;
	const char *compute, *auth, *iac, *pattern;
	bool streaming; /* --infra streaming-lambda: a Function URL through the web adapter */
	struct strmap vars; /* template variables, values borrowed from the fields above */
};

static void api_release(struct api *a)
{
	free(a->name);
	free(a->snake);
	free(a->pascal);
	free(a->module);
	free(a->root);
	free(a->dist);
	free(a->up);
	free(a->port);
	strmap_release(&a->vars);
}

static bool is_python_identifier(const char *s)
{
	static const char *const keywords[] = {
	    "and",    "as",   "assert", "async",   "await", "class", "def",    "del",
	    "elif",   "else", "except", "finally", "for",   "from",  "global", "if",
	    "import", "in",   "is",     "lambda",  "not",   "or",    "pass",   "raise",
	    "return", "try",  "while",  "with",    "yield", "test",  "tests"};
	if (!*s || (s[0] >= '0' && s[0] <= '9'))
		return false;
	for (const char *p = s; *p; p++)
		if (!((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9') || *p == '_'))
			return false;
	for (size_t i = 0; i < ARRAY_LEN(keywords); i++)
		if (!strcmp(s, keywords[i]))
			return false;
	return true;
}

/* Class names the generated constructs import or define beside the API's own class. */
static const char *const taken_classes[] = {
    "RestApi", "HttpApi", "RestApiIntegration", "HttpApiIntegration", "IntegrationBuilder",
    "LambdaIntegration", "HttpLambdaIntegration", "AuthorizationType",
    "CognitoUserPoolsAuthorizer", "HttpIamAuthorizer", "HttpUserPoolAuthorizer", "IUserPool",
    "IUserPoolClient", "UserPool", "UserPoolClient", "Architecture", "Code", "Function",
    "FunctionProps", "FunctionUrl", "FunctionUrlAuthType", "InvokeMode", "HttpMethod",
    "LayerVersion", "LambdaFunction", "Runtime", "Tracing", "Construct", "Duration", "Stack",
    "Grant", "IGrantable", "AccountPrincipal", "AnyPrincipal", "Effect", "PolicyDocument",
    "PolicyStatement", "RuntimeConfig", "OperationDetails", "Operations", "OPERATION_DETAILS",
    NULL};

/* s lower-cased with its separators ('-', '_', ' ', '.') dropped; any other
 * character that is not an ASCII letter or digit is kept as '?', so it never
 * matches what the names made from s keep. */
static char *alnum_lower(const char *s)
{
	struct sbuf sb = SBUF_INIT;
	sbuf_init(&sb);
	for (const char *p = s; *p; p++)
		if ((*p >= 'a' && *p <= 'z') || (*p >= '0' && *p <= '9'))
			sbuf_addc(&sb, *p);
		else if (*p >= 'A' && *p <= 'Z')
			sbuf_addc(&sb, (char)(*p - 'A' + 'a'));
		else if (!strchr("-_ .", *p))
			sbuf_addc(&sb, '?');
	return sbuf_detach(&sb);
}

static int check_name(struct api *a, const char *name, struct bld_err *err)
{
	if (strchr(name, '/'))
		return bld_err_set(err, BLD_EUSAGE,
		                   "--name '%s': expected a name without '/' (use --directory for "
		                   "the folder), such as my-api",
		                   name);
	if (!*a->name || !(a->name[0] >= 'a' && a->name[0] <= 'z'))
		return bld_err_set(
		    err, BLD_EUSAGE,
		    "--name '%s': expected a name starting with a letter, such as my-api", name);
	/* Every letter and digit must survive into the names made from it. */
	char *want = alnum_lower(name), *got = alnum_lower(a->snake);
	bool same = !strcmp(want, got);
	free(want);
	free(got);
	if (!same)
		return bld_err_set(err, BLD_EUSAGE,
		                   "--name '%s': expected ASCII letters, digits, '-', '_' or spaces "
		                   "(it would become '%s')",
		                   name, a->snake);
	for (size_t i = 0; taken_classes[i]; i++)
		if (!strcmp(a->pascal, taken_classes[i]))
			return bld_err_set(err, BLD_EUSAGE,
			                   "--name '%s': its construct class '%s' would clash with "
			                   "the class of that name the generated constructs use; "
			                   "choose another name",
			                   name, a->pascal);
	return 0;
}

static size_t index_of(const char *const *list, const char *v)
{
	size_t i = 0;
	while (list[i] && strcmp(list[i], v))
		i++;
	return i;
}

/* --infra or --computeType: which API deploys the Lambda functions. */
static int choose_infra(struct api *a, const cJSON *options, struct bld_err *err)
{
	const char *infra = NULL;
	int rc = gen__opt_choice(options, "infra", infras, infras[0], &infra, err);
	if (rc >= 0)
		rc = gen__opt_choice(options, "computeType", compute_types, compute_types[0],
		                     &a->compute, err);
	if (rc < 0 || !cJSON_GetObjectItemCaseSensitive(options, "infra"))
		return rc;
	size_t i = index_of(infras, infra);
	if (cJSON_GetObjectItemCaseSensitive(options, "computeType") &&
	    (i == INFRA_STREAMING || strcmp(compute_types[i], a->compute)))
		return bld_err_set(err, BLD_EUSAGE,
		                   "--infra %s and --computeType %s disagree; pass one of them "
		                   "(--computeType is the AWS plugin's earlier name of --infra)",
		                   infra, a->compute);
	a->streaming = i == INFRA_STREAMING;
	a->compute = compute_types[a->streaming ? 0 : i];
	return 0;
}

/* --iac or --iacProvider: CDK constructs or Terraform modules. */
static int choose_iac(struct api *a, const cJSON *options, struct bld_err *err)
{
	const char *iac = NULL;
	int rc = gen__opt_choice(options, "iac", iacs, "inherit", &iac, err);
	if (rc >= 0)
		rc = gen__opt_choice(options, "iacProvider", iac_providers, "CDK", &a->iac, err);
	if (rc < 0 || !strcmp(iac, "inherit"))
		return rc;
	size_t i = index_of(iacs, iac);
	if (cJSON_GetObjectItemCaseSensitive(options, "iacProvider") &&
	    strcmp(iac_providers[i], a->iac))
		return bld_err_set(err, BLD_EUSAGE,
		                   "--iac %s and --iacProvider %s disagree; pass one of them "
		                   "(--iacProvider is the AWS plugin's earlier name of --iac)",
		                   iac, a->iac);
	a->iac = iac_providers[i];
	return 0;
}

static int api_options(struct api *a, const cJSON *options, struct bld_err *err)
{
	const char *name = NULL, *dir = NULL, *module = NULL;
	int rc = gen__opt_known("py#fast-api", options, known_opts, err);
	if (rc >= 0)
		rc = gen__opt_str(options, "name", &name, err);
	if (rc >= 0 && (!name || !*name))
		rc = bld_err_set(err, BLD_EUSAGE,
		                 "py#fast-api: --name is required (e.g. --name my-api)");
	if (rc >= 0)
		rc = choose_infra(a, options, err);
	if (rc >= 0)
		rc = gen__opt_choice(options, "auth", auths, "IAM", &a->auth, err);
	if (rc >= 0)
		rc = choose_iac(a, options, err);
	if (rc >= 0)
		rc = gen__opt_choice(options, "integrationPattern", patterns, patterns[0], &a->pattern,
		                     err);
	if (rc >= 0)
		rc = gen__opt_str(options, "directory", &dir, err);
	if (rc >= 0)
		rc = gen__opt_str(options, "moduleName", &module, err);
	if (rc < 0)
		return rc;
	a->name = gen__kebab(name);
	a->snake = gen__snake(name);
	a->pascal = gen__pascal(name);
	rc = check_name(a, name, err);
	if (rc < 0)
		return rc;
	a->module = xstrdup(module ? module : a->snake);
	if (!is_python_identifier(a->module)) {
		if (module)
			return bld_err_set(
			    err, BLD_EUSAGE,
			    "--moduleName '%s': expected a Python module name: lower-case letters, "
			    "digits and '_', not starting with a digit, not a keyword",
			    module);
		return bld_err_set(err, BLD_EUSAGE,
		                   "--name '%s': its module name '%s' is not a usable Python module "
		                   "(a keyword, a digit first, or 'test'/'tests'); choose another "
		                   "--name or pass --moduleName",
		                   name, a->module);
	}
	char *d = path_normalize(dir && *dir ? dir : "packages");
	if (!path_is_safe_relative(d) || !*d || !strcmp(d, ".")) {
		free(d);
		return bld_err_set(
		    err, BLD_EUSAGE,
		    "--directory '%s': expected a folder inside the workspace, such as "
		    "packages",
		    dir);
	}
	a->root = path_join(d, a->snake);
	a->dist = path_join("dist", a->root);
	a->up = gen__up(a->root);
	free(d);
	return 0;
}

static void api_vars(struct api *a)
{
	bool rest = !strcmp(a->compute, compute_types[0]);
	strmap_init(&a->vars);
	strmap_put(&a->vars, "name", a->name);
	strmap_put(&a->vars, "snake", a->snake);
	strmap_put(&a->vars, "pascal", a->pascal);
	strmap_put(&a->vars, "module", a->module);
	strmap_put(&a->vars, "root", a->root);
	strmap_put(&a->vars, "dist", a->dist);
	strmap_put(&a->vars, "up", a->up);
	strmap_put(&a->vars, "port", a->port);
	strmap_put(&a->vars, "computeType", (char *)a->compute);
	strmap_put(&a->vars, "auth", (char *)a->auth);
	strmap_put(&a->vars, "kind", rest ? "REST" : "HTTP");
	strmap_put(&a->vars, "kind_dir", rest ? "rest-api" : "http-api");
	strmap_put(&a->vars, "iam", !strcmp(a->auth, "IAM") ? "true" : "");
	strmap_put(&a->vars, "cognito", !strcmp(a->auth, "Cognito") ? "true" : "");
	strmap_put(&a->vars, "streaming", a->streaming ? "true" : "");
	strmap_put(&a->vars, "shared", !strcmp(a->pattern, "shared") ? "true" : "");
}

/* ---- does a project of that name exist? ---- */

static bool skip_dir(const char *name)
{
	return name[0] == '.' || !strcmp(name, "node_modules") || !strcmp(name, "dist");
}

/* Depth-first walk of the workspace's project.json files: fn(path, parsed json, ctx),
 * until it returns true. */
typedef bool (*project_fn)(const char *rel, const cJSON *pj, void *ctx);

static bool walk_projects(const char *ws_root, const char *rel, int depth, project_fn fn,
                          void *ctx)
{
	char *dir = *rel ? path_join(ws_root, rel) : xstrdup(ws_root);
	DIR *d = depth < 8 ? opendir(dir) : NULL;
	struct dirent *e;
	bool stop = false;
	while (d && !stop && (e = readdir(d))) {
		if (skip_dir(e->d_name))
			continue;
		char *child = *rel ? path_join(rel, e->d_name) : xstrdup(e->d_name);
		char *full = path_join(ws_root, child);
		if (!strcmp(e->d_name, "project.json")) {
			char *text = NULL;
			size_t len = 0;
			cJSON *j = file_read(full, &text, &len) >= 0 ? cJSON_Parse(text) : NULL;
			if (j)
				stop = fn(child, j, ctx);
			cJSON_Delete(j);
			free(text);
		} else if (dir_exists(full)) {
			stop = walk_projects(ws_root, child, depth + 1, fn, ctx);
		}
		free(full);
		free(child);
	}
	if (d)
		closedir(d);
	free(dir);
	return stop;
}

struct find_ctx {
	const char *name;
	char *found;
};

static bool find_name(const char *rel, const cJSON *pj, void *ctx)
{
	struct find_ctx *f = ctx;
	const cJSON *n = cJSON_GetObjectItemCaseSensitive(pj, "name");
	if (cJSON_IsString(n) && !strcmp(n->valuestring, f->name))
		f->found = xstrdup(rel);
	return f->found != NULL;
}

/* Ports the workspace's serve targets use ("--port N" in a command), as a bit set. */
#define PORT_SPAN 1000
struct port_ctx {
	bool used[PORT_SPAN]; /* 8000 + i */
};

static void ports_in(const cJSON *j, struct port_ctx *pc)
{
	if (cJSON_IsString(j)) {
		for (const char *p = strstr(j->valuestring, "--port"); p; p = strstr(p + 1, "--port")) {
			const char *q = p + 6;
			while (*q == ' ' || *q == '=')
				q++;
			long port = strtol(q, NULL, 10);
			if (port >= 8000 && port < 8000 + PORT_SPAN)
				pc->used[port - 8000] = true;
		}
	}
	for (const cJSON *c = j ? j->child : NULL; c; c = c->next)
		ports_in(c, pc);
}

static bool collect_ports(const char *rel, const cJSON *pj, void *ctx)
{
	(void)rel;
	ports_in(cJSON_GetObjectItemCaseSensitive(pj, "targets"), ctx);
	return false;
}

/* The first free port from 8000 up, as the AWS plugin assigns them. */
static char *next_port(const struct gen_plan *plan)
{
	struct port_ctx *pc = xcalloc(1, sizeof(*pc));
	walk_projects(plan->ws_root, "", 0, collect_ports, pc);
	int i = 0;
	while (i < PORT_SPAN - 1 && pc->used[i])
		i++;
	free(pc);
	return xasprintf("%d", 8000 + i);
}

static int check_free(struct gen_plan *plan, const struct api *a, struct bld_err *err)
{
	struct find_ctx f = {a->name, NULL};
	walk_projects(plan->ws_root, "", 0, find_name, &f);
	char *found = f.found;
	if (found) {
		int rc =
		    bld_err_at(err, BLD_EEXISTS, found, 0, 0,
		               "a project named '%s' already exists; nothing was written", a->name);
		free(found);
		return rc;
	}
	char *full = gen__ws_path(plan, a->root);
	bool exists = file_exists(full) || dir_exists(full);
	free(full);
	if (exists)
		return bld_err_at(err, BLD_EEXISTS, a->root, 0, 0,
		                  "folder already exists; choose another --name or --directory; "
		                  "nothing was written");
	return 0;
}

/* ---- the Python project ---- */

static int plan_python(struct gen_plan *plan, struct api *a, struct bld_err *err)
{
	static const struct {
		const char *file, *tmpl;
		bool in_module, streaming_only;
	} files[] = {
	    {"project.json", "py/project.json", false, false},
	    {"pyproject.toml", "py/pyproject.toml", false, false},
	    {"README.md", "py/README.md", false, false},
	    {"__init__.py", "py/__init__.py", true, false},
	    {"init.py", "py/init.py", true, false},
	    {"main.py", "py/main.py", true, false},
	    {"scripts/generate_open_api.py", "py/generate_open_api.py", false, false},
	    {"tests/__init__.py", "py/tests/__init__.py", false, false},
	    {"tests/test_main.py", "py/tests/test_main.py", false, false},
	    {"run.sh", "py/run.sh", false, true},
	};
	int rc = 0;
	for (size_t i = 0; rc >= 0 && i < ARRAY_LEN(files); i++) {
		if (files[i].streaming_only && !a->streaming)
			continue;
		char *path = files[i].in_module
		                 ? xasprintf("%s/%s/%s", a->root, a->module, files[i].file)
		                 : xasprintf("%s/%s", a->root, files[i].file);
		rc = gen__plan_render(plan, path, files[i].tmpl, &a->vars, err);
		free(path);
	}
	return rc;
}

/* ---- the uv workspace (root pyproject.toml) ---- */

/* Add root to [tool.uv.workspace] members of the root pyproject.toml (made from the
 * template when missing); uv.lock is then made or refreshed by `uv lock`. */
static int plan_uv_workspace(struct gen_plan *plan, const struct api *a, struct bld_err *err)
{
	char *text = NULL;
	int rc = gen__read(plan, "pyproject.toml", &text, err);
	bool exists = rc == 0;
	if (rc == -ENOENT) {
		struct sbuf sb = SBUF_INIT;
		sbuf_init(&sb);
		rc = gen__render("root/pyproject.toml", &a->vars, &sb, err);
		text = sbuf_detach(&sb);
	}
	if (rc < 0) {
		free(text);
		return rc;
	}
	struct sbuf out = SBUF_INIT;
	sbuf_init(&out);
	char *quoted = xasprintf("\"%s\"", a->root);
	const char *ws = strstr(text, "[tool.uv.workspace]");
	const char *members = ws ? strstr(ws, "members") : NULL;
	const char *open = members ? strchr(members, '[') : NULL;
	const char *close = open ? strchr(open, ']') : NULL;
	const char *next_table = ws ? strstr(ws + 1, "\n[") : NULL;
	if (ws && (!close || (next_table && members > next_table))) {
		rc = bld_err_at(err, BLD_EGENERATOR, "pyproject.toml", 0, 0,
		                "[tool.uv.workspace] has no \"members = [...]\" list to add %s to; "
		                "nothing was written",
		                quoted);
	} else if (!ws) {
		sbuf_adds(&out, text);
		if (out.len && out.buf[out.len - 1] != '\n')
			sbuf_addc(&out, '\n');
		sbuf_addf(&out, "\n[tool.uv.workspace]\nmembers = [\n    %s,\n]\n", quoted);
	} else if (memmem(open, (size_t)(close - open), quoted, strlen(quoted))) {
		sbuf_adds(&out, text); /* already a member */
	} else {
		/* After the last entry (a comma added when it has none), one per line. */
		const char *last = close;
		while (last > open + 1 && (last[-1] == '\n' || last[-1] == ' ' || last[-1] == '\t'))
			last--;
		sbuf_add(&out, text, (size_t)(last - text));
		if (last[-1] != ',' && last[-1] != '[')
			sbuf_addc(&out, ',');
		sbuf_addf(&out, "\n    %s,\n", quoted);
		sbuf_adds(&out, close);
	}
	free(quoted);
	free(text);
	if (rc < 0) {
		sbuf_release(&out);
		return rc;
	}
	gen__plan_add(plan, "pyproject.toml", sbuf_detach(&out), exists);
	plan->uv_lock = true;
	return 0;
}

/* ---- project.json edits of the infrastructure project ---- */

static cJSON *obj_child(cJSON *parent, const char *key)
{
	cJSON *c = cJSON_GetObjectItemCaseSensitive(parent, key);
	if (!cJSON_IsObject(c)) {
		cJSON_DeleteItemFromObjectCaseSensitive(parent, key);
		c = cJSON_AddObjectToObject(parent, key);
	}
	return c;
}

static cJSON *arr_child(cJSON *parent, const char *key)
{
	cJSON *c = cJSON_GetObjectItemCaseSensitive(parent, key);
	if (!cJSON_IsArray(c)) {
		cJSON_DeleteItemFromObjectCaseSensitive(parent, key);
		c = cJSON_AddArrayToObject(parent, key);
	}
	return c;
}

/* {"projects": [project], "target": target} */
static cJSON *project_dep(const char *project, const char *target)
{
	cJSON *d = cJSON_CreateObject();
	cJSON *p = cJSON_AddArrayToObject(d, "projects");
	cJSON_AddItemToArray(p, cJSON_CreateString(project));
	cJSON_AddStringToObject(d, "target", target);
	return d;
}

/* Load the infrastructure project's project.json: planned, on disk, or the template. */
static int infra_project(struct gen_plan *plan, const char *rel, const char *tmpl,
                         const struct api *a, cJSON **ret, struct bld_err *err)
{
	int rc = gen__read_json(plan, rel, ret, err);
	if (rc != -ENOENT)
		return rc;
	struct sbuf sb = SBUF_INIT;
	sbuf_init(&sb);
	rc = gen__render(tmpl, &a->vars, &sb, err);
	*ret = rc < 0 ? NULL : cJSON_Parse(sb.buf);
	sbuf_release(&sb);
	if (rc >= 0 && !*ret)
		rc = bld_err_set(err, BLD_EGENERATOR, "template %s is not valid JSON", tmpl);
	return rc;
}

static int plan_constructs_project(struct gen_plan *plan, const struct api *a, struct bld_err *err)
{
	const char *rel = CONSTRUCTS "/project.json";
	cJSON *pj = NULL;
	int rc = infra_project(plan, rel, "constructs/project.json", a, &pj, err);
	if (rc < 0)
		return rc;
	cJSON *targets = obj_child(pj, "targets");
	char *gen_name = xasprintf("generate:%s-metadata", a->name);
	if (cJSON_GetObjectItemCaseSensitive(targets, gen_name)) {
		rc = bld_err_at(err, BLD_EEXISTS, rel, 0, 0,
		                "target '%s' already exists; nothing was written", gen_name);
		goto out;
	}
	cJSON *t = cJSON_AddObjectToObject(targets, gen_name);
	cJSON_AddStringToObject(t, "executor", "bld:openapi-metadata");
	cJSON_AddBoolToObject(t, "cache", true);
	cJSON_AddItemToArray(cJSON_AddArrayToObject(t, "dependsOn"),
	                     project_dep(a->name, "openapi"));
	cJSON *in = cJSON_AddArrayToObject(t, "inputs");
	cJSON *dto = cJSON_CreateObject();
	cJSON_AddStringToObject(dto, "dependentTasksOutputFiles", "**/openapi.json");
	cJSON_AddItemToArray(in, dto);
	char *out_dir = xasprintf("{projectRoot}/src/generated/%s", a->name);
	cJSON_AddItemToArray(cJSON_AddArrayToObject(t, "outputs"), cJSON_CreateString(out_dir));
	free(out_dir);
	cJSON *opts = cJSON_AddObjectToObject(t, "options");
	char *spec = xasprintf("%s/openapi/openapi.json", a->dist);
	char *out_file = xasprintf(CONSTRUCTS "/src/generated/%s/metadata.gen.ts", a->name);
	cJSON_AddStringToObject(opts, "openApiSpecPath", spec);
	cJSON_AddStringToObject(opts, "outputPath", out_file);
	free(spec);
	free(out_file);
	cJSON_AddItemToArray(arr_child(obj_child(targets, "compile"), "dependsOn"),
	                     cJSON_CreateString(gen_name));
	cJSON_AddItemToArray(arr_child(obj_child(targets, "build"), "dependsOn"),
	                     project_dep(a->name, "bundle"));
	cJSON_AddItemToArray(arr_child(pj, "implicitDependencies"), cJSON_CreateString(a->name));
	gen__plan_json(plan, rel, pj);
out:
	free(gen_name);
	cJSON_Delete(pj);
	return rc;
}

/* Plan path from template unless the file is already there (shared files stay as they are). */
static int plan_if_absent(struct gen_plan *plan, const char *path, const char *tmpl,
                          const struct strmap *vars, struct bld_err *err)
{
	char *full = gen__ws_path(plan, path);
	bool exists = file_exists(full) || gen__plan_find(plan, path);
	free(full);
	return exists ? 0 : gen__plan_render(plan, path, tmpl, vars, err);
}

/* A file of a generated folder and the template it comes from. */
struct dir_file {
	const char *file, *tmpl;
};

/* Each of files under dir, when absent (a file made earlier is the user's). */
static int plan_files(struct gen_plan *plan, const char *dir, const struct dir_file *files,
                      size_t n, const struct strmap *vars, struct bld_err *err)
{
	int rc = 0;
	for (size_t i = 0; rc >= 0 && i < n; i++) {
		char *path = xasprintf("%s/%s", dir, files[i].file);
		rc = plan_if_absent(plan, path, files[i].tmpl, vars, err);
		free(path);
	}
	return rc;
}

/* tsconfig.base.json with the path alias of the constructs package. */
static int plan_tsconfig_base(struct gen_plan *plan, const struct api *a, struct bld_err *err)
{
	cJSON *ts = NULL;
	int rc = gen__read_json(plan, "tsconfig.base.json", &ts, err);
	if (rc == -ENOENT) {
		struct sbuf sb = SBUF_INIT;
		sbuf_init(&sb);
		rc = gen__render("root/tsconfig.base.json", &a->vars, &sb, err);
		ts = rc < 0 ? NULL : cJSON_Parse(sb.buf);
		sbuf_release(&sb);
	}
	if (rc < 0 || !ts)
		return rc < 0 ? rc
		              : bld_err_set(err, BLD_EGENERATOR, "bad tsconfig.base.json template");
	cJSON *paths = obj_child(obj_child(ts, "compilerOptions"), "paths");
	if (!cJSON_GetObjectItemCaseSensitive(paths, CONSTRUCTS_ALIAS)) {
		cJSON *target = cJSON_AddArrayToObject(paths, CONSTRUCTS_ALIAS);
		cJSON_AddItemToArray(target, cJSON_CreateString("./" CONSTRUCTS "/src/index.ts"));
		gen__plan_json(plan, "tsconfig.base.json", ts);
	}
	cJSON_Delete(ts);
	return 0;
}

static int plan_apis_index(struct gen_plan *plan, const struct api *a, struct bld_err *err)
{
	const char *rel = CONSTRUCTS "/src/app/apis/index.ts";
	char *text = NULL;
	int rc = gen__read(plan, rel, &text, err);
	if (rc == -ENOENT) {
		struct sbuf sb = SBUF_INIT;
		sbuf_init(&sb);
		rc = gen__render("constructs/app/apis-index.ts", &a->vars, &sb, err);
		text = sbuf_detach(&sb);
	}
	if (rc < 0) {
		free(text);
		return rc;
	}
	char *full = gen__ws_path(plan, rel);
	bool exists = file_exists(full);
	free(full);
	struct sbuf sb = SBUF_INIT;
	sbuf_init(&sb);
	sbuf_adds(&sb, text);
	if (sb.len && sb.buf[sb.len - 1] != '\n')
		sbuf_addc(&sb, '\n');
	sbuf_addf(&sb, "export * from './%s.js';\n", a->name);
	gen__plan_add(plan, rel, sbuf_detach(&sb), exists);
	free(text);
	return 0;
}

static int plan_cdk(struct gen_plan *plan, struct api *a, struct bld_err *err)
{
	static const struct dir_file shared[] = {
	    {"tsconfig.json", "constructs/tsconfig.json"},
	    {"package.json", "constructs/package.json"},
	    {"src/index.ts", "constructs/index.ts"},
	    {"src/app/index.ts", "constructs/app/index.ts"},
	    {"src/core/index.ts", "constructs/core/index.ts"},
	    {"src/core/runtime-config.ts", "constructs/core/runtime-config.ts"},
	    {"src/core/api/utils.ts", "constructs/core/utils.ts"},
	    {"src/core/api/rest-api.ts", "constructs/core/rest-api.ts"},
	    {"src/core/api/http-api.ts", "constructs/core/http-api.ts"},
	};
	int rc = plan_files(plan, CONSTRUCTS, shared, ARRAY_LEN(shared), &a->vars, err);
	char *api_file = xasprintf(CONSTRUCTS "/src/app/apis/%s.ts", a->name);
	bool rest = !strcmp(a->compute, compute_types[0]);
	const char *tmpl = a->streaming ? "constructs/app/api-stream.ts"
	                   : rest       ? "constructs/app/api-rest.ts"
	                                : "constructs/app/api-http.ts";
	if (rc >= 0)
		rc = gen__plan_render(plan, api_file, tmpl, &a->vars, err);
	free(api_file);
	if (rc >= 0)
		rc = plan_apis_index(plan, a, err);
	if (rc >= 0)
		rc = plan_constructs_project(plan, a, err);
	if (rc >= 0)
		rc = plan_tsconfig_base(plan, a, err);
	return rc;
}

/* ---- Terraform ---- */

/* The library project of modules, and the root module the workspace deploys from. */
#define TF_ROOT "packages/tf-infra"

static int plan_terraform_project(struct gen_plan *plan, const struct api *a, struct bld_err *err)
{
	const char *rel = TERRAFORM "/project.json";
	cJSON *pj = NULL;
	int rc = infra_project(plan, rel, "terraform/project.json", a, &pj, err);
	if (rc < 0)
		return rc;
	cJSON *build = obj_child(obj_child(pj, "targets"), "build");
	cJSON *deps = arr_child(build, "dependsOn");
	cJSON_AddItemToArray(deps, project_dep(a->name, "openapi"));
	cJSON_AddItemToArray(deps, project_dep(a->name, "bundle"));
	cJSON_AddItemToArray(arr_child(pj, "implicitDependencies"), cJSON_CreateString(a->name));
	gen__plan_json(plan, rel, pj);
	cJSON_Delete(pj);
	return 0;
}

/* The modules every API shares: one per kind of API, and the OpenAPI reader they use. */
static int plan_terraform_core(struct gen_plan *plan, struct api *a, struct bld_err *err)
{
	static const struct dir_file core[] = {
	    {"versions.tf", "terraform/versions.tf"},
	    {"variables.tf", "terraform/variables.tf"},
	    {"lambdas.tf", "terraform/lambdas.tf"},
	    {"auth.tf", "terraform/auth.tf"},
	};
	static const struct {
		const char *dir;
		struct dir_file own[2];
	} kinds[] = {
	    {TERRAFORM "/src/core/api/rest-api",
	     {{"main.tf", "terraform/rest-main.tf"}, {"outputs.tf", "terraform/rest-outputs.tf"}}},
	    {TERRAFORM "/src/core/api/http-api",
	     {{"main.tf", "terraform/http-main.tf"}, {"outputs.tf", "terraform/http-outputs.tf"}}},
	};
	static const struct dir_file spec[] = {
	    {"versions.tf", "terraform/openapi/versions.tf"},
	    {"variables.tf", "terraform/openapi/variables.tf"},
	    {"main.tf", "terraform/openapi/main.tf"},
	    {"outputs.tf", "terraform/openapi/outputs.tf"},
	};
	int rc = 0;
	for (size_t k = 0; rc >= 0 && k < ARRAY_LEN(kinds); k++) {
		strmap_put(&a->vars, "kind", k ? "HTTP" : "REST");
		strmap_put(&a->vars, "rest", k ? "" : "true");
		rc = plan_files(plan, kinds[k].dir, core, ARRAY_LEN(core), &a->vars, err);
		if (rc >= 0)
			rc = plan_files(plan, kinds[k].dir, kinds[k].own, ARRAY_LEN(kinds[k].own),
			                &a->vars, err);
	}
	if (rc >= 0)
		rc = plan_files(plan, TERRAFORM "/src/core/api/openapi", spec, ARRAY_LEN(spec),
		                &a->vars, err);
	bool rest = !strcmp(a->compute, compute_types[0]);
	strmap_put(&a->vars, "kind", rest ? "REST" : "HTTP");
	strmap_put(&a->vars, "rest", rest ? "true" : "");
	return rc;
}

/* The streaming module (one function behind a Function URL), for --infra streaming-lambda. */
static int plan_terraform_stream(struct gen_plan *plan, struct api *a, struct bld_err *err)
{
	static const struct dir_file files[] = {
	    {"versions.tf", "terraform/versions.tf"},
	    {"variables.tf", "terraform/stream-variables.tf"},
	    {"main.tf", "terraform/stream-main.tf"},
	    {"outputs.tf", "terraform/stream-outputs.tf"},
	};
	int rc = plan_files(plan, TERRAFORM "/src/core/api/stream-api", files, ARRAY_LEN(files),
	                    &a->vars, err);
	/* The Function URL takes IAM auth, whatever --auth says (as the CDK construct). */
	strmap_put(&a->vars, "kind", "streaming Function URL");
	strmap_put(&a->vars, "auth", "IAM");
	strmap_put(&a->vars, "cognito", "");
	return rc;
}

/* The root module (packages/tf-infra) when absent, and the API's own file in it. */
static int plan_terraform_root(struct gen_plan *plan, struct api *a, struct bld_err *err)
{
	static const struct dir_file files[] = {
	    {"project.json", "terraform/root/project.json"},
	    {"src/providers.tf", "terraform/root/providers.tf"},
	    {"src/variables.tf", "terraform/root/variables.tf"},
	    {"src/main.tf", "terraform/root/main.tf"},
	    {"src/outputs.tf", "terraform/root/outputs.tf"},
	    {"src/env/dev.tfvars", "terraform/root/dev.tfvars"},
	};
	int rc = plan_files(plan, TF_ROOT, files, ARRAY_LEN(files), &a->vars, err);
	char *api = xasprintf(TF_ROOT "/src/%s.tf", a->name);
	if (rc >= 0)
		rc = gen__plan_render(plan, api, "terraform/root/api.tf", &a->vars, err);
	free(api);
	return rc;
}

static int plan_terraform(struct gen_plan *plan, struct api *a, struct bld_err *err)
{
	char *dir = xasprintf(TERRAFORM "/src/app/apis/%s", a->name);
	char *up = gen__up(dir);
	char *app = xasprintf("%s/%s.tf", dir, a->name);
	strmap_put(&a->vars, "tf_up", up);
	int rc = plan_terraform_core(plan, a, err);
	if (rc >= 0 && a->streaming)
		rc = plan_terraform_stream(plan, a, err);
	if (rc >= 0)
		rc = gen__plan_render(plan, app,
		                      a->streaming ? "terraform/app-stream.tf" : "terraform/app-api.tf",
		                      &a->vars, err);
	if (rc >= 0)
		rc = plan_terraform_project(plan, a, err);
	if (rc >= 0)
		rc = plan_terraform_root(plan, a, err);
	strmap_put(&a->vars, "tf_up", "");
	free(app);
	free(up);
	free(dir);
	return rc;
}

int gen__fastapi(struct gen_plan *plan, const cJSON *options, struct bld_err *err)
{
	struct api a = {0};
	strmap_init(&a.vars);
	int rc = api_options(&a, options, err);
	if (rc >= 0) {
		strmap_release(&a.vars);
		a.port = next_port(plan);
		api_vars(&a);
		rc = check_free(plan, &a, err);
	}
	if (rc >= 0)
		rc = plan_python(plan, &a, err);
	if (rc >= 0)
		rc = plan_uv_workspace(plan, &a, err);
	if (rc >= 0)
		rc = gen__plan_root(plan, err);
	if (rc >= 0)
		rc =
		    !strcmp(a.iac, "CDK") ? plan_cdk(plan, &a, err) : plan_terraform(plan, &a, err);
	api_release(&a);
	return rc;
}
