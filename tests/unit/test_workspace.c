/* test_workspace.c - workspace loading on real temporary workspaces (real
 * `git init` where ignore rules matter): JSONC, file:line:col errors, every
 * project.json field, targetDefaults merged as Nx 22 merges them (watched
 * with nx-oracle), tokens, name derivation, ignore rules, edges, errors,
 * suggestions, plugin targets, semver. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "bld/base.h"
#include "bld/err.h"
#include "bld/affected.h"
#include "bld/workspace.h"
#include "../../graph/ws_int.h"

/* ---- helpers ---- */

static char *tmp_ws(void)
{
	char t[] = "/tmp/bld-test-ws-XXXXXX";
	assert_non_null(mkdtemp(t));
	return xstrdup(t);
}

static void put(const char *root, const char *rel, const char *text)
{
	char *p = path_join(root, rel), *d = path_dirname(p);
	assert_int_equal(mkdir_p(d, 0755), 0);
	assert_int_equal(file_write_atomic(p, text, strlen(text), 0644), 0);
	free(p);
	free(d);
}

static void git_init(const char *root)
{
	char *cmd = xasprintf("git init -q '%s'", root);
	assert_int_equal(system(cmd), 0);
	free(cmd);
}

static struct workspace *load_ok(const char *root)
{
	struct workspace *ws = NULL;
	struct bld_err err = {0};
	struct ws_load_opts o = {.verbose = true};
	int rc = workspace_load(root, &o, &ws, &err);
	if (rc < 0) {
		char b[2048];
		bld_err_format(&err, b, sizeof(b));
		fail_msg("load failed: %s", b);
	}
	return ws;
}

static int load_err(const char *root, struct bld_err *err)
{
	struct workspace *ws = NULL;
	int rc = workspace_load(root, NULL, &ws, err);
	assert_true(rc < 0);
	assert_null(ws);
	return rc;
}

static void done(char *root, struct workspace *ws)
{
	workspace_free(ws);
	rm_rf(root);
	free(root);
}

static const cJSON *tget(const struct ws_project *p, const char *target, const char *key)
{
	struct ws_target *t = ws_project_target(p, target);
	assert_non_null(t);
	return cJSON_GetObjectItemCaseSensitive(t->json, key);
}

static const char *opt_str(const struct ws_project *p, const char *target, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(tget(p, target, "options"), key);
	return cJSON_IsString(v) ? v->valuestring : NULL;
}

static bool has_dep(const struct workspace *ws, const char *from, const char *to,
                    enum ws_dep_kind kind)
{
	const struct ws_project *p = workspace_project(ws, from), *q = workspace_project(ws, to);
	assert_non_null(p);
	assert_non_null(q);
	for (size_t i = 0; i < p->ndeps; i++)
		if (p->deps[i].project == workspace_project_index(ws, q))
			return p->deps[i].kind == kind;
	return false;
}

static char *json_of(const cJSON *v)
{
	return cJSON_PrintUnformatted(v);
}

/* ---- JSON ---- */

static void malformed_project_json_fails_the_load(void **state)
{
	char *root = tmp_ws();
	struct bld_err err = {0};
	put(root, "nx.json", "{}");
	put(root, "libs/a/project.json", "{\n  \"name\": \"a\"\n  \"targets\": {}\n}\n");
	assert_int_equal(load_err(root, &err), BLD_EPARSE);
	assert_string_equal(err.file, "libs/a/project.json");
	assert_int_equal(err.line, 3);
	assert_int_equal(err.col, 3);
	done(root, NULL);
}

static void oversized_project_json_fails_the_load(void **state)
{
	char *root = tmp_ws();
	struct bld_err err = {0};
	put(root, "nx.json", "{}");
	put(root, "libs/a/project.json", "{}");
	char *p = path_join(root, "libs/a/project.json");
	assert_int_equal(truncate(p, (off_t)WS_MAX_FILE + 1), 0); /* sparse */
	assert_int_equal(load_err(root, &err), -EFBIG);
	assert_string_equal(err.file, "libs/a/project.json");
	free(p);
	done(root, NULL);
}

/* ---- project.json fields ---- */

static void every_project_field_is_read(void **state)
{
	char *root = tmp_ws();
	put(root, "nx.json", "{}");
	put(root, "libs/a/project.json",
	    "{ \"name\": \"a\", \"sourceRoot\": \"libs/a/src\", \"projectType\": \"library\",\n"
	    "  \"tags\": [\"scope:x\", \"type:lib\"], \"implicitDependencies\": [\"b\"],\n"
	    "  \"metadata\": {\"owner\": \"me\"}, \"namedInputs\": {\"mine\": "
	    "[\"{projectRoot}/**\"]},\n"
	    "  \"targets\": { \"build\": { \"executor\": \"nx:run-commands\",\n"
	    "    \"options\": {\"command\": \"make\", \"cwd\": \"{projectRoot}\"},\n"
	    "    \"configurations\": {\"prod\": {\"command\": \"make prod\"}},\n"
	    "    \"defaultConfiguration\": \"prod\", \"dependsOn\": [\"^build\"],\n"
	    "    \"inputs\": [\"mine\"], \"outputs\": [\"{projectRoot}/out\"], \"cache\": true,\n"
	    "    \"parallelism\": false },\n"
	    "   \"serve\": { \"command\": \"serve\", \"continuous\": true } } }\n");
	put(root, "libs/b/project.json", "{\"name\": \"b\"}");
	struct workspace *ws = load_ok(root);
	assert_int_equal(ws->nprojects, 2);
	struct ws_project *a = workspace_project(ws, "a");
	assert_non_null(a);
	assert_string_equal(a->root, "libs/a");
	assert_string_equal(a->source_root, "libs/a/src");
	assert_string_equal(a->project_type, "library");
	assert_string_equal(a->config_file, "libs/a/project.json");
	assert_int_equal(a->tags.n, 2);
	assert_string_equal(a->tags.v[1], "type:lib");
	assert_non_null(a->named_inputs);
	assert_non_null(cJSON_GetObjectItem(a->json, "metadata"));
	assert_int_equal(a->ntargets, 2);
	struct ws_target *b = ws_project_target(a, "build");
	assert_string_equal(b->executor, "nx:run-commands");
	assert_true(b->cache);
	assert_true(b->has_inputs);
	assert_false(b->continuous);
	assert_string_equal(opt_str(a, "build", "cwd"), "libs/a"); /* resolved as Nx does */
	assert_true(cJSON_IsFalse(tget(a, "build", "parallelism")));
	assert_string_equal(tget(a, "build", "defaultConfiguration")->valuestring, "prod");
	assert_string_equal(cJSON_GetArrayItem(tget(a, "build", "outputs"), 0)->valuestring,
	                    "{projectRoot}/out"); /* outputs keep their tokens */
	struct ws_target *s = ws_project_target(a, "serve");
	assert_true(s->continuous);
	assert_string_equal(s->executor, "nx:run-commands");
	assert_string_equal(opt_str(a, "serve", "command"), "serve");
	assert_true(cJSON_IsTrue(tget(a, "serve", "parallelism")));
	assert_true(has_dep(ws, "a", "b", WS_DEP_IMPLICIT));
	assert_string_equal(ws->default_base, "main");
	done(root, ws);
}

static void names_are_derived_as_nx_does(void **state)
{
	char *root = tmp_ws();
	put(root, "nx.json", "{\"defaultBase\": \"develop\"}");
	put(root, "project.json", "{}");
	put(root, "libs/My-Lib/project.json", "{}");
	put(root, "apps/foo/project.json", "{}");
	put(root, "apps/foo/package.json", "{\"name\": \"@scope/foo\", \"version\": \"1.0.0\"}");
	struct workspace *ws = load_ok(root);
	assert_non_null(workspace_project(ws, "."));
	assert_string_equal(workspace_project(ws, ".")->root, "");
	assert_non_null(workspace_project(ws, "my-lib"));
	assert_string_equal(workspace_project(ws, "my-lib")->root, "libs/My-Lib");
	struct ws_project *foo = workspace_project(ws, "@scope/foo");
	assert_non_null(foo);
	assert_string_equal(foo->package_name, "@scope/foo");
	assert_int_equal(foo->tags.n, 1); /* Nx's package.json plugin tags it */
	assert_string_equal(foo->tags.v[0], "npm:public");
	/* sorted by name, bytewise */
	assert_string_equal(ws->projects[0].name, ".");
	assert_string_equal(ws->projects[1].name, "@scope/foo");
	assert_string_equal(ws->projects[2].name, "my-lib");
	assert_string_equal(ws->default_base, "develop");
	assert_string_equal(
	    cJSON_GetObjectItem(workspace_project(ws, ".")->json, "root")->valuestring, ".");
	done(root, ws);
}

static void root_package_json_names_the_root_project(void **state)
{
	char *root = tmp_ws();
	put(root, "nx.json", "{}");
	put(root, "package.json",
	    "{\"name\": \"root-ws\", \"private\": true, \"nx\": {\"tags\": [\"n\"]}}");
	put(root, "project.json", "{\"tags\": [\"p\", \"n\"]}");
	struct workspace *ws = load_ok(root);
	assert_int_equal(ws->nprojects, 1);
	assert_string_equal(ws->projects[0].name, "root-ws");
	assert_int_equal(ws->projects[0].tags.n, 3);
	assert_string_equal(ws->projects[0].tags.v[0], "npm:private");
	assert_string_equal(ws->projects[0].tags.v[1], "n");
	assert_string_equal(ws->projects[0].tags.v[2], "p");
	done(root, ws);
}

static void command_shorthand_and_target_drop_rules(void **state)
{
	char *root = tmp_ws();
	put(root, "nx.json", "{}");
	put(root, "p/project.json",
	    "{\"name\": \"p\", \"targets\": {\"c\": {\"command\": \"echo hi\", \"options\": "
	    "{\"cwd\": \"x\"}}, \"empty\": {}, \"opts\": {\"options\": {\"a\": 1}}, "
	    "\"agg\": {\"dependsOn\": [\"c\"]}, \"none\": {\"dependsOn\": []}}}");
	struct workspace *ws = load_ok(root);
	struct ws_project *p = workspace_project(ws, "p");
	assert_int_equal(p->ntargets, 2);
	assert_string_equal(ws_project_target(p, "c")->executor, "nx:run-commands");
	assert_string_equal(opt_str(p, "c", "command"), "echo hi");
	assert_string_equal(opt_str(p, "c", "cwd"), "x");
	assert_null(cJSON_GetObjectItem(ws_project_target(p, "c")->json, "command"));
	assert_string_equal(ws_project_target(p, "agg")->executor, "nx:noop");
	assert_null(ws_project_target(p, "empty"));
	assert_null(ws_project_target(p, "none"));
	done(root, ws);
}

/* ---- targetDefaults ---- */

/* The nx.json of the oracle session: name keys, executor keys, globs. */
static const char *const defaults_nx_json =
    "{ \"targetDefaults\": {\n"
    "  \"build\": {\"cache\": true, \"dependsOn\": [\"^build\"], \"inputs\": [\"prod\"],\n"
    "     \"outputs\": [\"{projectRoot}/dist\"], \"executor\": \"nx:run-commands\",\n"
    "     \"options\": {\"a\": 1, \"b\": 2, \"nested\": {\"x\": 1, \"y\": 2}},\n"
    "     \"configurations\": {\"prod\": {\"p\": 1, \"q\": 2}, \"dev\": {\"d\": 1}}},\n"
    "  \"nx:run-commands\": {\"cache\": false, \"options\": {\"fromExec\": true}},\n"
    "  \"lint\": {\"executor\": \"nx:run-commands\", \"options\": {\"command\": \"echo lint\"}, "
    "\"cache\": true},\n"
    "  \"e2e-*\": {\"cache\": true, \"inputs\": [\"glob\"]},\n"
    "  \"*-y\": {\"inputs\": [\"star-y\"]},\n"
    "  \"e2e-x\": {\"inputs\": [\"exact\"]},\n"
    "  \"jest\": {\"executor\": \"@nx/jest:jest\", \"options\": {\"jestConfig\": "
    "\"{projectRoot}/jest.config.ts\"}, \"cache\": true},\n"
    "  \"fmt\": {\"command\": \"echo fmt\", \"cache\": true},\n"
    "  \"cfg\": {\"defaultConfiguration\": \"prod\", \"configurations\": {\"prod\": {\"a\": 1}}, "
    "\"continuous\": true, \"parallelism\": false, \"metadata\": {\"d\": 1}},\n"
    "  \"nx:noop\": {\"inputs\": [\"noop-in\"]}\n"
    "}}\n";

static struct workspace *defaults_ws(char **root, const char *targets)
{
	*root = tmp_ws();
	put(*root, "nx.json", defaults_nx_json);
	char *pj = xasprintf("{\"name\": \"p\", \"targets\": %s}", targets);
	put(*root, "p/project.json", pj);
	free(pj);
	return load_ok(*root);
}

static void name_keyed_default_merges_shallowly(void **state)
{
	char *root;
	struct workspace *ws =
	    defaults_ws(&root, "{\"build\": {\"options\": {\"b\": 20, \"nested\": {\"x\": 10}}, "
	                       "\"configurations\": {\"prod\": {\"q\": 20}}}}");
	struct ws_project *p = workspace_project(ws, "p");
	struct ws_target *t = ws_project_target(p, "build");
	char *s = json_of(tget(p, "build", "options"));
	assert_string_equal(s, "{\"b\":20,\"nested\":{\"x\":10},\"a\":1}");
	free(s);
	s = json_of(tget(p, "build", "configurations"));
	assert_string_equal(s, "{\"prod\":{\"q\":20,\"p\":1},\"dev\":{\"d\":1}}");
	free(s);
	assert_string_equal(t->executor, "nx:run-commands");
	assert_true(t->cache);
	assert_true(t->has_inputs);
	assert_string_equal(cJSON_GetArrayItem(tget(p, "build", "dependsOn"), 0)->valuestring,
	                    "^build");
	done(root, ws);
}

static void executor_key_wins_over_name_key(void **state)
{
	char *root;
	/* a run-commands target named build: only "nx:run-commands" applies */
	struct workspace *ws = defaults_ws(
	    &root, "{\"build\": {\"command\": \"echo b\", \"outputs\": [\"x\"], \"dependsOn\": []},"
	           " \"lint\": {}, \"n\": {\"executor\": \"nx:noop\"}}");
	struct ws_project *p = workspace_project(ws, "p");
	struct ws_target *b = ws_project_target(p, "build");
	assert_false(b->cache);
	assert_false(b->has_inputs);
	assert_true(cJSON_IsTrue(cJSON_GetObjectItem(tget(p, "build", "options"), "fromExec")));
	assert_null(cJSON_GetObjectItem(tget(p, "build", "options"), "a"));
	assert_int_equal(cJSON_GetArraySize(tget(p, "build", "dependsOn")), 0);
	/* no executor: the name key gives one, and only the name key applies */
	struct ws_target *l = ws_project_target(p, "lint");
	assert_string_equal(l->executor, "nx:run-commands");
	assert_string_equal(opt_str(p, "lint", "command"), "echo lint");
	assert_true(l->cache);
	assert_null(cJSON_GetObjectItem(tget(p, "lint", "options"), "fromExec"));
	assert_true(ws_project_target(p, "n")->has_inputs);
	done(root, ws);
}

static void glob_keys_exact_first_then_longest_glob(void **state)
{
	char *root;
	struct workspace *ws =
	    defaults_ws(&root, "{\"e2e-x\": {\"executor\": \"nx:noop\"}, \"e2e-y\": {\"executor\": "
	                       "\"@x/y:z\"}, \"e2e-ci\": {\"command\": \"e2e\"}, \"e2e-z\": {}}");
	struct ws_project *p = workspace_project(ws, "p");
	/* an executor key beats the name key: nx:noop's inputs, not "exact" */
	assert_string_equal(cJSON_GetArrayItem(tget(p, "e2e-x", "inputs"), 0)->valuestring,
	                    "noop-in");
	/* "e2e-*" (5 chars) beats "*-y" (3) */
	assert_string_equal(cJSON_GetArrayItem(tget(p, "e2e-y", "inputs"), 0)->valuestring, "glob");
	assert_true(ws_project_target(p, "e2e-y")->cache);
	/* the command shorthand is run-commands: the executor key wins over the glob */
	assert_false(ws_project_target(p, "e2e-ci")->cache);
	/* a glob default without executor leaves an executor-less target: dropped */
	assert_null(ws_project_target(p, "e2e-z"));
	done(root, ws);
}

static void incompatible_defaults_are_ignored(void **state)
{
	char *root = tmp_ws();
	put(root, "nx.json",
	    "{\"targetDefaults\": {\"jest\": {\"executor\": \"@nx/jest:jest\", \"cache\": true},"
	    " \"rc\": {\"executor\": \"nx:run-commands\", \"options\": {\"command\": \"echo d\"}, "
	    "\"outputs\": [\"o\"]}, \"rc2\": {\"options\": {\"command\": \"echo d\"}, "
	    "\"outputs\": [\"o2\"]}}}");
	put(root, "p/project.json",
	    "{\"name\": \"p\", \"targets\": {\"jest\": {\"executor\": \"@nx/vite:test\"}, "
	    "\"rc\": {\"command\": \"echo mine\"}, \"rc2\": {\"executor\": \"nx:run-commands\", "
	    "\"options\": {\"command\": \"echo d\", \"extra\": 1}}}}");
	struct workspace *ws = load_ok(root);
	struct ws_project *p = workspace_project(ws, "p");
	assert_false(ws_project_target(p, "jest")->cache);
	assert_null(tget(p, "rc", "outputs"));
	assert_string_equal(cJSON_GetArrayItem(tget(p, "rc2", "outputs"), 0)->valuestring, "o2");
	done(root, ws);
}

static void default_fills_every_other_key_and_command_shorthand(void **state)
{
	char *root;
	struct workspace *ws = defaults_ws(
	    &root, "{\"cfg\": {\"executor\": \"@x/y:z\", \"configurations\": {\"dev\": {}}}, "
	           "\"fmt\": {}, \"jest\": {\"options\": {\"x\": \"{projectRoot}/{projectName}\", "
	           "\"w\": \"{workspaceRoot}/z\"}}}");
	struct ws_project *p = workspace_project(ws, "p");
	struct ws_target *c = ws_project_target(p, "cfg");
	assert_true(c->continuous);
	assert_true(cJSON_IsFalse(tget(p, "cfg", "parallelism")));
	assert_string_equal(tget(p, "cfg", "defaultConfiguration")->valuestring, "prod");
	assert_non_null(cJSON_GetObjectItem(tget(p, "cfg", "configurations"), "dev"));
	assert_non_null(cJSON_GetObjectItem(tget(p, "cfg", "configurations"), "prod"));
	assert_non_null(tget(p, "cfg", "metadata"));
	assert_string_equal(ws_project_target(p, "fmt")->executor, "nx:run-commands");
	assert_string_equal(opt_str(p, "fmt", "command"), "echo fmt");
	assert_string_equal(ws_project_target(p, "jest")->executor, "@nx/jest:jest");
	assert_string_equal(opt_str(p, "jest", "jestConfig"), "p/jest.config.ts");
	assert_string_equal(opt_str(p, "jest", "x"), "p/p");
	assert_string_equal(opt_str(p, "jest", "w"), "z");
	done(root, ws);
}

static void defaults_never_create_targets(void **state)
{
	char *root;
	struct workspace *ws = defaults_ws(&root, "{}");
	assert_int_equal(workspace_project(ws, "p")->ntargets, 0);
	done(root, ws);
}

/* ---- tokens ---- */

static void workspace_root_token_inside_an_option_is_an_error(void **state)
{
	char *root = tmp_ws();
	struct bld_err err = {0};
	put(root, "nx.json", "{}");
	put(root, "p/project.json",
	    "{\"name\": \"p\", \"targets\": {\n  \"b\": {\"command\": \"cd {workspaceRoot}/x\"}}}");
	assert_int_equal(load_err(root, &err), BLD_ESCHEMA);
	assert_string_equal(err.file, "p/project.json");
	assert_int_equal(err.line, 2);
	assert_int_equal(err.col, 3);
	assert_non_null(strstr(err.msg, "{workspaceRoot}"));
	/* a fault in a targetDefaults entry names nx.json */
	put(root, "nx.json",
	    "{\"targetDefaults\": {\n\"b\": {\"options\": {\"x\": \"a{workspaceRoot}\"}}}}");
	put(root, "p/project.json",
	    "{\"name\": \"p\", \"targets\": {\"b\": {\"command\": \"x\"}}}");
	assert_int_equal(load_err(root, &err), BLD_ESCHEMA);
	assert_string_equal(err.file, "nx.json");
	assert_int_equal(err.line, 2);
	assert_non_null(strstr(err.msg, "targetDefaults \"b\""));
	done(root, NULL);
}

static void tokens_expand_for_inputs_and_outputs(void **state)
{
	char *root = tmp_ws();
	put(root, "nx.json", "{}");
	put(root, "project.json", "{\"name\": \"top\"}");
	put(root, "libs/a/project.json", "{\"name\": \"a\"}");
	struct workspace *ws = load_ok(root);
	struct ws_project *a = workspace_project(ws, "a"), *top = workspace_project(ws, "top");
	const enum ws_tokens P = WS_TOKENS_PATH, O = WS_TOKENS_OPTION;
	struct {
		const struct ws_project *p;
		enum ws_tokens mode;
		const char *in, *want;
	} cases[] = {
	    {a, P, "{projectRoot}/dist/{projectName}", "libs/a/dist/a"},
	    {a, P, "{workspaceRoot}/dist/{projectRoot}", "dist/libs/a"},
	    {a, P, "!{workspaceRoot}/dist/**", "!dist/**"},
	    {top, P, "{projectRoot}/dist", "dist"},
	    {top, P, "!{projectRoot}/**/*.spec.ts", "!**/*.spec.ts"},
	    {top, P, "{projectRoot}", "."},
	    {top, P, "{workspaceRoot}/dist/{projectRoot}", "dist"},
	    {top, P, "{workspaceRoot}/dist/{projectRoot}/x", "dist/x"},
	    {a, P, "{options.outputPath}", "{options.outputPath}"},
	    {a, P, "dist/{workspaceRoot}", "dist/{workspaceRoot}"},
	    {top, O, "{projectRoot}/dist", "./dist"},
	    {top, O, "{projectRoot}", "."},
	    {a, O, "{workspaceRoot}/{projectRoot}/x", "libs/a/x"},
	    {a, O, "{workspaceRoot}", ""},
	    {a, O, "--name={projectName}", "--name=a"},
	};
	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		char *s = workspace_expand_tokens(cases[i].p, cases[i].in, cases[i].mode);
		assert_non_null(s);
		assert_string_equal(s, cases[i].want);
		free(s);
	}
	assert_null(workspace_expand_tokens(a, "x {workspaceRoot}/y", O));
	done(root, ws);
}

/* ---- ignore rules and the file list ---- */

static void ignore_layout(const char *root)
{
	put(root, "nx.json", "{}");
	const char *dirs[] = {"p1",
	                      "ign/p2",
	                      "nested/p3",
	                      "nested/keep",
	                      "nx-ign/p4",
	                      "dist/p5",
	                      "sub/dist/p8",
	                      "node_modules/x/p6",
	                      ".bld/p7",
	                      "nested/deep/x/p9",
	                      "neg/p10",
	                      "neg/p11",
	                      "out",
	                      "sub/nxn/p12",
	                      "sub/nxn/p13",
	                      "sub/nxn/zz/p14",
	                      "sub/nxn/q/zz/p15",
	                      "zz/p16"};
	for (size_t i = 0; i < ARRAY_LEN(dirs); i++) {
		char *rel = xasprintf("%s/project.json", dirs[i]);
		char *text = xasprintf("{\"name\": \"%s\"}", path_basename(dirs[i]));
		put(root, rel, text);
		free(rel);
		free(text);
	}
	put(root, ".gitignore", "ign/\nneg/*\n!neg/p11\nout\n*.log\n");
	put(root, "nested/.gitignore", "p3/\ndeep/**/p9\n");
	put(root, ".nxignore", "nx-ign\n");
	put(root, "sub/nxn/.nxignore", "# nested, as Nx 17+ reads them\n/p12\nzz\n");
	put(root, "p1/debug.log", "x");
	put(root, "p1/src/main.c", "int main;");
}

static void check_ignore_layout(struct workspace *ws)
{
	const char *want[] = {"keep", "p1", "p11", "p13", "p16"};
	assert_int_equal(ws->nprojects, ARRAY_LEN(want));
	for (size_t i = 0; i < ARRAY_LEN(want); i++)
		assert_string_equal(ws->projects[i].name, want[i]);
	assert_true(workspace_has_file(ws, "p1/src/main.c"));
	assert_true(workspace_has_file(ws, "nested/.gitignore"));
	assert_false(workspace_has_file(ws, "p1/debug.log"));
	assert_false(workspace_has_file(ws, "ign/p2/project.json"));
	for (size_t i = 1; i < ws->files.n; i++)
		assert_true(strcmp(ws->files.v[i - 1], ws->files.v[i]) < 0);
	for (size_t i = 0; i < ws->files.n; i++) {
		assert_false(str_starts(ws->files.v[i], ".git/"));
		assert_null(strstr(ws->files.v[i], "node_modules"));
	}
}

static void gitignore_nested_and_nxignore_rules_apply(void **state)
{
	char *root = tmp_ws();
	git_init(root);
	ignore_layout(root);
	struct workspace *ws = load_ok(root);
	check_ignore_layout(ws);
	done(root, ws);
}

static void ignore_rules_apply_outside_git_too(void **state)
{
	char *root = tmp_ws();
	ignore_layout(root);
	struct workspace *ws = load_ok(root);
	check_ignore_layout(ws);
	bool noted = false;
	for (size_t i = 0; i < ws->notes.n; i++)
		noted = noted || strstr(ws->notes.v[i], "in-memory") != NULL;
	assert_true(noted);
	done(root, ws);
}

static void workspace_below_the_git_root_prefixes_rules(void **state)
{
	char *top = tmp_ws();
	git_init(top);
	put(top, ".gitignore", "*.tmp\n");
	char *root = path_join(top, "ws");
	put(root, "nx.json", "{}");
	put(root, ".nxignore", "/skip\n");
	put(root, "skip/project.json", "{\"name\": \"skip\"}");
	put(root, "a/skip/project.json", "{\"name\": \"kept\"}");
	put(root, "a/x.tmp", "x");
	struct workspace *ws = load_ok(root);
	assert_int_equal(ws->nprojects, 1);
	assert_string_equal(ws->projects[0].name, "kept");
	assert_false(workspace_has_file(ws, "a/x.tmp"));
	workspace_free(ws);
	free(root);
	done(top, NULL);
}

static void a_git_ignored_workspace_still_loads(void **state)
{
	/* e.g. a scratch workspace inside a repository's ignored build folder */
	char *top = tmp_ws();
	git_init(top);
	put(top, ".gitignore", "scratch/\n");
	char *root = path_join(top, "scratch/ws");
	put(root, "nx.json", "{}");
	put(root, ".gitignore", "*.log\n");
	put(root, "a/project.json", "{\"name\": \"a\"}");
	put(root, "a/x.log", "x");
	struct workspace *ws = load_ok(root);
	assert_int_equal(ws->nprojects, 1);
	assert_false(workspace_has_file(ws, "a/x.log"));
	workspace_free(ws);
	free(root);
	done(top, NULL);
}

/* A load through a view (graph/view.c): the view's absent paths are gone, its other paths
 * are there with its contents (configuration included), unless ignored or skipped. */
static void view_put(struct ws_view *v, const char *rel, const char *text)
{
	ws_view_put(v, rel, text ? xstrdup(text) : NULL, text ? strlen(text) : 0, false);
}

static void a_view_shows_the_workspace_as_at_another_commit(void **state)
{
	char *root = tmp_ws();
	git_init(root);
	put(root, "nx.json", "{}");
	put(root, ".gitignore", "out/\n");
	put(root, "a/project.json", "{\"name\": \"a\", \"tags\": [\"now\"]}");
	put(root, "a/src/x.ts", "x");
	put(root, "b/project.json", "{\"name\": \"b\"}");
	struct ws_view v;
	ws_view_init(&v);
	view_put(&v, "a/project.json", "{\"name\": \"a\", \"tags\": [\"then\"]}");
	view_put(&v, "a/src/x.ts", NULL);                 /* absent there */
	view_put(&v, "a/src/old.ts", "old");              /* there only */
	view_put(&v, "b/project.json", NULL);             /* project b not there yet */
	view_put(&v, "c/project.json", "{\"name\": \"c\"}");
	view_put(&v, "out/gen.ts", "g");                  /* ignored */
	view_put(&v, "node_modules/m/index.js", "m");     /* skipped */
	struct workspace *ws = NULL;
	struct bld_err err = {0};
	struct ws_load_opts o = {.view = &v};
	assert_int_equal(workspace_load(root, &o, &ws, &err), 0);
	assert_ptr_equal(ws->view, &v);
	assert_int_equal(ws->nprojects, 2);
	assert_non_null(workspace_project(ws, "c"));
	assert_null(workspace_project(ws, "b"));
	const struct ws_project *a = workspace_project(ws, "a");
	assert_non_null(a);
	assert_string_equal(a->tags.v[0], "then");
	assert_true(workspace_has_file(ws, "a/src/old.ts"));
	assert_false(workspace_has_file(ws, "a/src/x.ts"));
	assert_false(workspace_has_file(ws, "out/gen.ts"));
	assert_false(workspace_has_file(ws, "node_modules/m/index.js"));
	assert_int_equal(workspace_owner(ws, "a/src/old.ts"), workspace_project_index(ws, a));
	workspace_free(ws);
	struct workspace *disk = load_ok(root);                 /* the disk is untouched */
	assert_non_null(workspace_project(disk, "b"));
	assert_true(workspace_has_file(disk, "a/src/x.ts"));
	ws_view_release(&v);
	done(root, disk);
}

static void symlinks_are_not_followed(void **state)
{
	char *root = tmp_ws();
	git_init(root);
	put(root, "nx.json", "{}");
	put(root, "a/project.json", "{\"name\": \"a\"}");
	put(root, "a/real.txt", "x");
	char *l1 = path_join(root, "a/link.txt"), *l2 = path_join(root, "a/loop");
	char *l3 = path_join(root, "a/dangling");
	assert_int_equal(symlink("real.txt", l1), 0);
	assert_int_equal(symlink("..", l2), 0);
	assert_int_equal(symlink("nowhere", l3), 0);
	struct workspace *ws = load_ok(root);
	assert_true(workspace_has_file(ws, "a/link.txt"));
	assert_false(workspace_has_file(ws, "a/loop"));
	assert_false(workspace_has_file(ws, "a/dangling"));
	assert_int_equal(ws->nprojects, 1);
	free(l1);
	free(l2);
	free(l3);
	done(root, ws);
}

/* libgit2's rules through our walk (with its name cache) must keep exactly
 * the files `git ls-files --others --exclude-standard` lists. */
static void check_walk_against_git(const char *gitignore)
{
	char *root = tmp_ws();
	git_init(root);
	put(root, "nx.json", "{}");
	put(root, ".gitignore", gitignore);
	put(root, "libs/.gitignore", "/a/tmp\n*.tmp\n!important.tmp\nsrc/*.gen\n");
	const char *files[] = {
	    "out-tsc/x.js",
	    "libs/out-tsc/x.js",
	    ".nx/cache/a",
	    "libs/p/.nx/cache/a",
	    "x.log",
	    "keep.log",
	    "libs/p/keep.log",
	    "libs/p/src/gen/a.ts",
	    "libs/p/src/gen/a.js",
	    "gen/b.ts",
	    "coverage/c",
	    "libs/p/coverage/c",
	    "libs/coverage",
	    ".idea/w",
	    "libs/.idea/w",
	    "docs/a/b/draft1.md",
	    "docs/final.md",
	    "docs/draft0.md",
	    "build/o",
	    "apps/web/build/o",
	    "apps/api/build/o",
	    "libs/a/tmp/z",
	    "libs/b/a/tmp/z",
	    "libs/a/x.tmp",
	    "libs/a/important.tmp",
	    "x.tmp",
	    "libs/p/project.json",
	    "libs/q/project.json",
	    "libs/q/src/index.ts",
	    "libs/q/src/gen/index.ts",
	    "libs/q/src/x.gen",
	    "libs/q/src/y/x.gen",
	    "libs/q/lib/src/x.gen",
	    "libs/src/x.gen",
	    "libs/q/src/deep/er/x.log",
	    "libs/r/src/deep/er/x.txt",
	    "libs/r/src/deep/er/keep.log",
	};
	for (size_t i = 0; i < ARRAY_LEN(files); i++)
		put(root, files[i], str_ends(files[i], ".json") ? "{}" : "x");
	struct workspace *ws = load_ok(root);
	assert_int_equal(ws->nprojects, 2);
	char *cmd = xasprintf("cd '%s' && git ls-files --others --exclude-standard", root);
	FILE *f = popen(cmd, "r");
	assert_non_null(f);
	struct strvec want;
	strvec_init(&want);
	char line[1024];
	while (fgets(line, sizeof(line), f)) {
		line[strcspn(line, "\n")] = '\0';
		strvec_push(&want, line);
	}
	pclose(f);
	strvec_sort(&want);
	for (size_t i = 0; i < want.n || i < ws->files.n; i++) {
		const char *a = i < want.n ? want.v[i] : "(none)";
		const char *b = i < ws->files.n ? ws->files.v[i] : "(none)";
		if (strcmp(a, b))
			fail_msg("git keeps %s, bld keeps %s", a, b);
	}
	strvec_release(&want);
	free(cmd);
	done(root, ws);
}

static void walk_agrees_with_git_on_tricky_patterns(void **state)
{
	/* "**" patterns: no name cache below the root */
	check_walk_against_git("/out-tsc\n.nx/cache\n*.log\n!keep.log\n**/gen/*.ts\ncoverage/\n"
	                       "/.idea\ndocs/**/draft*\nbuild\n!apps/web/build\n");
	/* anchored patterns at fixed depths: the name cache works between them */
	check_walk_against_git("/out-tsc\n.nx/cache\n*.log\n!keep.log\ncoverage/\n/.idea\n"
	                       "build\n!apps/web/build\nsrc/gen\n");
	/* names only */
	check_walk_against_git("*.log\n!keep.log\ngen\ncoverage/\nbuild\n.idea\n");
}

static void anchored_rules_are_not_cached_by_name(void **state)
{
	/* "/a/src" ignores one folder named src, not every folder named src */
	char *root = tmp_ws();
	git_init(root);
	put(root, "nx.json", "{}");
	put(root, ".gitignore", "/a/src\n");
	put(root, "a/src/x.c", "x");
	put(root, "b/src/x.c", "x");
	struct workspace *ws = load_ok(root);
	assert_false(workspace_has_file(ws, "a/src/x.c"));
	assert_true(workspace_has_file(ws, "b/src/x.c"));
	done(root, ws);
}

/* ---- errors ---- */

static void duplicate_names_name_both_files(void **state)
{
	char *root = tmp_ws();
	struct bld_err err = {0};
	put(root, "nx.json", "{}");
	put(root, "a/project.json", "{\"name\": \"x\"}");
	put(root, "b/project.json", "{\n  \"name\": \"x\"\n}");
	assert_int_equal(load_err(root, &err), BLD_ESCHEMA);
	assert_non_null(strstr(err.msg, "a/project.json"));
	assert_non_null(strstr(err.msg, "b/project.json"));
	assert_string_equal(err.file, "b/project.json");
	assert_int_equal(err.line, 2);
	done(root, NULL);
}

static void wrong_types_say_what_was_expected(void **state)
{
	char *root = tmp_ws();
	struct bld_err err = {0};
	put(root, "nx.json", "{}");
	put(root, "a/project.json", "{\"name\": \"a\",\n \"targets\": 3}");
	assert_int_equal(load_err(root, &err), BLD_ESCHEMA);
	assert_string_equal(err.file, "a/project.json");
	assert_int_equal(err.line, 2);
	assert_int_equal(err.col, 13); /* the value */
	assert_string_equal(err.msg, "targets must be an object, not a number");
	put(root, "a/project.json",
	    "{\"name\": \"a\", \"targets\": {\"b\": {\"outputs\": \"x\"}}}");
	assert_int_equal(load_err(root, &err), BLD_ESCHEMA);
	assert_string_equal(err.msg,
	                    "targets.b.outputs must be an array of strings, not a string");
	put(root, "a/project.json", "{\"name\": \"a\", \"tags\": [1]}");
	assert_int_equal(load_err(root, &err), BLD_ESCHEMA);
	put(root, "a/project.json", "{\"name\": \"a\"}");
	put(root, "nx.json", "{\n\"targetDefaults\": {\"build\": {\"cache\": \"yes\"}}}");
	assert_int_equal(load_err(root, &err), BLD_ESCHEMA);
	assert_string_equal(err.file, "nx.json");
	assert_non_null(strstr(err.msg, "true or false"));
	put(root, "nx.json", "{\"plugins\": [3]}");
	assert_int_equal(load_err(root, &err), BLD_ESCHEMA);
	done(root, NULL);
}

static void command_with_executor_and_cache_with_continuous_fail(void **state)
{
	char *root = tmp_ws();
	struct bld_err err = {0};
	put(root, "nx.json", "{}");
	put(root, "a/project.json",
	    "{\"name\": \"a\", \"targets\": {\"b\": {\"command\": \"x\", \"executor\": "
	    "\"nx:noop\"}}}");
	assert_int_equal(load_err(root, &err), BLD_ESCHEMA);
	assert_non_null(strstr(err.msg, "both \"executor\" and \"command\""));
	put(root, "a/project.json",
	    "{\"name\": \"a\", \"targets\": {\"b\": {\"command\": \"x\", \"cache\": true, "
	    "\"continuous\": true}}}");
	assert_int_equal(load_err(root, &err), BLD_ESCHEMA);
	assert_non_null(strstr(err.msg, "continuous"));
	done(root, NULL);
}

static void no_workspace_and_find_root(void **state)
{
	char *root = tmp_ws(), *found = NULL;
	struct bld_err err = {0};
	put(root, "nx.json", "{}");
	put(root, "a/b/c/file", "x");
	char *deep = path_join(root, "a/b/c");
	assert_int_equal(workspace_find_root(deep, &found, &err), 0);
	char *real = realpath(root, NULL);
	assert_string_equal(found, real);
	free(found);
	free(real);
	free(deep);
	assert_int_equal(workspace_find_root("/proc/self", &found, &err), BLD_ENOWORKSPACE);
	char *other = tmp_ws();
	assert_int_equal(load_err(other, &err), -ENOENT);
	assert_string_equal(err.file, "nx.json");
	done(other, NULL);
	done(root, NULL);
}

/* ---- edges ---- */

static void implicit_dependencies_patterns_and_exclusions(void **state)
{
	char *root = tmp_ws();
	put(root, "nx.json", "{}");
	put(root, "apps/bar/project.json",
	    "{\"name\": \"bar\", \"implicitDependencies\": [\"*\", \"!lib-b\"]}");
	put(root, "libs/lib-a/project.json",
	    "{\"name\": \"lib-a\", \"implicitDependencies\": [\"lib-*\"]}");
	put(root, "libs/lib-b/project.json", "{\"name\": \"lib-b\", \"tags\": [\"t\"]}");
	put(root, "libs/c/project.json",
	    "{\"name\": \"c\", \"implicitDependencies\": [\"libs/lib-a\", \"tag:t\", \"!lib-b\", "
	    "\"!ghost\"]}");
	struct workspace *ws = load_ok(root);
	struct ws_project *bar = workspace_project(ws, "bar");
	assert_int_equal(bar->ndeps, 2);
	assert_true(has_dep(ws, "bar", "c", WS_DEP_IMPLICIT));
	assert_true(has_dep(ws, "bar", "lib-a", WS_DEP_IMPLICIT));
	assert_false(has_dep(ws, "bar", "lib-b", WS_DEP_IMPLICIT));
	char *s = json_of(cJSON_GetObjectItem(bar->json, "implicitDependencies"));
	assert_string_equal(s, "[\"c\",\"lib-a\",\"!lib-b\"]");
	free(s);
	assert_int_equal(workspace_project(ws, "lib-a")->ndeps, 1);
	assert_true(has_dep(ws, "lib-a", "lib-b", WS_DEP_IMPLICIT));
	struct ws_project *c = workspace_project(ws, "c");
	assert_int_equal(c->ndeps, 1);
	assert_true(has_dep(ws, "c", "lib-a", WS_DEP_IMPLICIT));
	/* implicit_deps keeps what was written */
	assert_int_equal(c->implicit_deps.n, 4);
	done(root, ws);
}

static void unknown_implicit_dependency_suggests(void **state)
{
	char *root = tmp_ws();
	struct bld_err err = {0};
	put(root, "nx.json", "{}");
	put(root, "a/project.json", "{\"name\": \"my-api\"}");
	put(root, "b/project.json", "{\"name\": \"b\",\n \"implicitDependencies\": [\"my-apj\"]}");
	assert_int_equal(load_err(root, &err), BLD_ENOPROJECT);
	assert_string_equal(err.file, "b/project.json");
	assert_int_equal(err.line, 2);
	assert_non_null(strstr(err.msg, "\"my-apj\""));
	assert_non_null(strstr(err.msg, "did you mean \"my-api\""));
	done(root, NULL);
}

static void package_json_dependencies_make_static_edges(void **state)
{
	char *root = tmp_ws();
	put(root, "nx.json", "{}");
	put(root, "package.json", "{\"name\": \"root\", \"private\": true}");
	put(root, "a/package.json",
	    "{\"name\": \"@s/a\", \"version\": \"1.0.0\", \"dependencies\": {\"@s/b\": \"*\", "
	    "\"@s/f\": \"^3.0.0\", \"left-pad\": \"1.0.0\"}, \"devDependencies\": {\"@s/c\": "
	    "\"workspace:*\"}, \"peerDependencies\": {\"@s/d\": \"~1.2.0 || >=3\"}, "
	    "\"optionalDependencies\": {\"@s/e\": \"file:../e\", \"@s/g\": \"latest\"}}");
	put(root, "a/project.json", "{\"name\": \"a\"}");
	put(root, "h/package.json", "{\"name\": \"@s/h\", \"dependencies\": {\"@s/b\": \"*\"}}");
	put(root, "h/project.json", "{\"implicitDependencies\": [\"!@s/b\"]}");
	const char *others[][2] = {{"b", "1.0.0"}, {"c", "9.9.9"}, {"d", "1.2.7"},
	                           {"e", "0.1.0"}, {"f", "1.0.0"}, {"g", "1.0.0"}};
	for (size_t i = 0; i < ARRAY_LEN(others); i++) {
		char *rel = xasprintf("%s/package.json", others[i][0]);
		char *text = xasprintf("{\"name\": \"@s/%s\", \"version\": \"%s\"}", others[i][0],
		                       others[i][1]);
		put(root, rel, text);
		free(rel);
		free(text);
		rel = xasprintf("%s/project.json", others[i][0]);
		put(root, rel, "{}");
		free(rel);
	}
	struct workspace *ws = load_ok(root);
	struct ws_project *a = workspace_project(ws, "a");
	assert_non_null(a);
	assert_string_equal(a->package_name, "@s/a");
	assert_true(has_dep(ws, "a", "@s/b", WS_DEP_STATIC));
	assert_true(has_dep(ws, "a", "@s/c", WS_DEP_STATIC));
	assert_true(has_dep(ws, "a", "@s/d", WS_DEP_STATIC));
	assert_true(has_dep(ws, "a", "@s/e", WS_DEP_STATIC));
	assert_false(has_dep(ws, "a", "@s/f", WS_DEP_STATIC));
	assert_false(has_dep(ws, "a", "@s/g", WS_DEP_STATIC));
	assert_int_equal(a->ndeps, 4);
	assert_string_equal(a->deps[0].source, "a/package.json");
	assert_int_equal(workspace_project(ws, "@s/h")->ndeps, 0); /* "!x" drops it, as in Nx */
	bool noted = false;
	for (size_t i = 0; i < ws->notes.n; i++)
		noted = noted || strstr(ws->notes.v[i], "\"latest\"") != NULL;
	assert_true(noted);
	done(root, ws);
}

/* The oracle session's layout: package.json scripts, "nx" targets and keys,
 * project.json over them, targetDefaults on top (yarn.lock: "yarn x"). */
static void package_json_scripts_become_targets_as_in_nx(void **state)
{
	char *root = tmp_ws();
	put(root, "nx.json",
	    "{\"targetDefaults\": {\"build\": {\"cache\": true, \"inputs\": [\"x\"]}, "
	    "\"nx:run-script\": {\"options\": {\"extra\": 1}, \"outputs\": [\"o\"]}, "
	    "\"lint\": {\"cache\": true}}}");
	put(root, "yarn.lock", "");
	put(root, "a/package.json",
	    "{\"name\": \"@s/a\", \"scripts\": {\"build\": \"tsc\", \"test\": \"jest\", "
	    "\"lint\": \"eslint\", \"e2e\": \"pw\"}, \"nx\": {\"targets\": {\"build\": "
	    "{\"dependsOn\": [\"^build\"], \"outputs\": [\"{projectRoot}/dist\"]}, \"custom\": "
	    "{\"executor\": \"nx:noop\", \"dependsOn\": [\"build\"]}}, "
	    "\"implicitDependencies\": [\"b\"]}}");
	put(root, "a/project.json",
	    "{\"name\": \"a\", \"targets\": {\"test\": {\"executor\": \"nx:run-script\", "
	    "\"options\": {\"script\": \"test\", \"x\": 1}, \"cache\": true}, \"lint\": "
	    "{\"command\": \"eslint .\"}, \"e2e\": {\"executor\": \"nx:run-script\", "
	    "\"options\": {\"script\": \"other\"}}}}");
	put(root, "b/package.json",
	    "{\"name\": \"@s/b\", \"private\": true, \"scripts\": {\"build\": \"tsc\", "
	    "\"test\": \"jest\"}, \"nx\": {\"includedScripts\": [\"build\"]}}");
	put(root, "b/project.json", "{\"name\": \"b\"}");
	struct workspace *ws = load_ok(root);
	struct ws_project *a = workspace_project(ws, "a"), *b = workspace_project(ws, "b");
	/* build: the script, "nx" targets merged over it, then the executor-keyed
	 * default (not the name-keyed one: no cache) */
	struct ws_target *t = ws_project_target(a, "build");
	assert_string_equal(t->executor, "nx:run-script");
	assert_string_equal(opt_str(a, "build", "script"), "build");
	assert_false(t->cache);
	assert_int_equal(cJSON_GetObjectItem(tget(a, "build", "options"), "extra")->valueint, 1);
	assert_string_equal(cJSON_GetArrayItem(tget(a, "build", "outputs"), 0)->valuestring,
	                    "{projectRoot}/dist");
	assert_string_equal(
	    cJSON_GetObjectItem(tget(a, "build", "metadata"), "runCommand")->valuestring,
	    "yarn build");
	/* test: project.json merged over the script; the executor-keyed default */
	assert_true(ws_project_target(a, "test")->cache);
	assert_int_equal(cJSON_GetObjectItem(tget(a, "test", "options"), "x")->valueint, 1);
	assert_int_equal(cJSON_GetObjectItem(tget(a, "test", "options"), "extra")->valueint, 1);
	/* lint: the command replaces the script */
	assert_string_equal(ws_project_target(a, "lint")->executor, "nx:run-commands");
	assert_string_equal(opt_str(a, "lint", "command"), "eslint .");
	assert_null(opt_str(a, "lint", "script"));
	assert_string_equal(opt_str(a, "e2e", "script"), "other");
	assert_string_equal(ws_project_target(a, "custom")->executor, "nx:noop");
	assert_true(has_dep(ws, "a", "b", WS_DEP_IMPLICIT));
	/* includedScripts chooses */
	assert_non_null(ws_project_target(b, "build"));
	assert_null(ws_project_target(b, "test"));
	assert_non_null(cJSON_GetObjectItem(b->json, "includedScripts"));
	done(root, ws);
}

static void pyproject_dependencies_make_static_edges(void **state)
{
	char *root = tmp_ws();
	put(root, "nx.json", "{}");
	put(root, "pkgs/app/project.json", "{\"name\": \"app\"}");
	put(root, "pkgs/app/pyproject.toml",
	    "[project]\nname = \"my_scope.app\"\nversion = \"0.1.0\"\ndependencies = [\n"
	    "    \"my_scope.core>=1.0\",  # the library\n    \"requests[socks]>=2\",\n]\n\n"
	    "[tool.uv.sources]\n\"my-scope-util\" = { workspace = true }\n"
	    "requests = { git = \"https://example.com/r.git\" }\n");
	put(root, "pkgs/core/project.json", "{\"name\": \"core\"}");
	put(root, "pkgs/core/pyproject.toml", "[project]\nname = \"My.Scope-Core\"\n");
	put(root, "pkgs/util/project.json", "{\"name\": \"util\"}");
	put(root, "pkgs/util/pyproject.toml", "[project]\nname = \"my-scope-util\"\n");
	put(root, "pkgs/broken/project.json", "{\"name\": \"broken\"}");
	put(root, "pkgs/broken/pyproject.toml",
	    "[project]\nname = \"broken\"\ndependencies = [\"my_scope.core\"\n");
	struct workspace *ws = load_ok(root);
	assert_true(has_dep(ws, "app", "core", WS_DEP_STATIC));
	assert_true(has_dep(ws, "app", "util", WS_DEP_STATIC));
	assert_int_equal(workspace_project(ws, "app")->ndeps, 2);
	assert_string_equal(workspace_project(ws, "app")->deps[0].source,
	                    "pkgs/app/pyproject.toml");
	assert_int_equal(workspace_project(ws, "broken")->ndeps, 0);
	bool noted = false;
	for (size_t i = 0; i < ws->notes.n; i++)
		noted = noted || strstr(ws->notes.v[i], "pkgs/broken/pyproject.toml:") != NULL;
	assert_true(noted);
	done(root, ws);
}

static void cross_project_depends_on_makes_edges(void **state)
{
	char *root = tmp_ws();
	put(root, "nx.json",
	    "{\"targetDefaults\": {\"deploy\": {\"dependsOn\": [\"infra:synth\"]}}}");
	put(root, "a/project.json",
	    "{\"name\": \"a\", \"targets\": {\"build\": {\"command\": \"x\", \"dependsOn\": "
	    "[\"^build\", \"b:build\", \"lint\", {\"projects\": [\"c\", \"a\"], \"target\": "
	    "\"build\"}, {\"target\": \"t\", \"dependencies\": true}]}, \"deploy\": {\"command\": "
	    "\"y\"}}}");
	const char *names[] = {"b", "c", "d", "infra"};
	for (size_t i = 0; i < ARRAY_LEN(names); i++) {
		char *rel = xasprintf("%s/project.json", names[i]);
		char *text = xasprintf("{\"name\": \"%s\"}", names[i]);
		put(root, rel, text);
		free(rel);
		free(text);
	}
	struct workspace *ws = load_ok(root);
	struct ws_project *a = workspace_project(ws, "a");
	assert_int_equal(a->ndeps, 3);
	assert_true(has_dep(ws, "a", "b", WS_DEP_DEPENDSON));
	assert_true(has_dep(ws, "a", "c", WS_DEP_DEPENDSON));
	assert_true(has_dep(ws, "a", "infra", WS_DEP_DEPENDSON));
	for (size_t i = 1; i < a->ndeps; i++)
		assert_true(a->deps[i - 1].project < a->deps[i].project);
	done(root, ws);
}

/* ---- lookups ---- */

static void suggestions_for_projects_and_targets(void **state)
{
	char *root = tmp_ws();
	put(root, "nx.json", "{}");
	put(root, "a/project.json",
	    "{\"name\": \"my-api\", \"targets\": {\"build\": {\"command\": \"x\"}, \"bundle\": "
	    "{\"command\": \"y\"}, \"test\": {\"command\": \"z\"}}}");
	put(root, "b/project.json", "{\"name\": \"my-app\"}");
	put(root, "c/project.json", "{\"name\": \"zzz\"}");
	struct workspace *ws = load_ok(root);
	struct strvec s;
	strvec_init(&s);
	workspace_suggest(ws, NULL, "my-apx", 5, &s);
	assert_int_equal(s.n, 2);
	assert_string_equal(s.v[0], "my-api");
	assert_string_equal(s.v[1], "my-app");
	strvec_release(&s);
	workspace_suggest(ws, NULL, "api", 5, &s);
	assert_int_equal(s.n, 1);
	assert_string_equal(s.v[0], "my-api");
	strvec_release(&s);
	workspace_suggest(ws, workspace_project(ws, "my-api"), "buidl", 1, &s);
	assert_int_equal(s.n, 1);
	assert_string_equal(s.v[0], "build");
	strvec_release(&s);
	workspace_suggest(ws, NULL, "completely-different", 5, &s);
	assert_int_equal(s.n, 0);
	assert_null(workspace_project(ws, "nope"));
	assert_int_equal(workspace_project_index(ws, workspace_project(ws, "zzz")), 2);
	done(root, ws);
}

static void plugins_are_read_and_their_targets_reported(void **state)
{
	char *root = tmp_ws();
	put(root, "nx.json",
	    "{\"plugins\": [\"@nx/eslint/plugin\", {\"plugin\": \"@nx/vite/plugin\", \"options\": "
	    "{\"testTargetName\": \"vitest\"}}, {\"plugin\": \"@nx/js/typescript\", \"options\": "
	    "{\"typecheck\": {\"targetName\": \"tc\"}, \"build\": {\"targetName\": \"compile\"}}}, "
	    "\"@acme/custom\"]}");
	put(root, "web/project.json",
	    "{\"name\": \"web\", \"targets\": {\"lint\": {\"command\": \"x\"}}}");
	put(root, "web/vite.config.ts", "x");
	put(root, "web/eslint.config.mjs", "x");
	put(root, "web/tsconfig.json", "{}");
	put(root, "web/tsconfig.lib.json", "{}");
	struct workspace *ws = load_ok(root);
	assert_int_equal(ws->nplugins, 4);
	assert_string_equal(ws->plugins[1].name, "@nx/vite/plugin");
	assert_non_null(ws->plugins[1].options);
	struct strvec t, p;
	strvec_init(&t);
	strvec_init(&p);
	ws_project_plugin_targets(ws, workspace_project(ws, "web"), &t, &p);
	assert_true(strvec_find(&t, "lint") < 0); /* it has one */
	assert_true(strvec_find(&t, "vitest") >= 0);
	assert_true(strvec_find(&t, "build") >= 0);
	assert_true(strvec_find(&t, "tc") >= 0);
	assert_true(strvec_find(&t, "compile") >= 0);
	assert_string_equal(p.v[strvec_find(&t, "tc")], "@nx/js/typescript");
	assert_int_equal(t.n, p.n);
	strvec_release(&t);
	strvec_release(&p);
	done(root, ws);
}

static void semver_ranges(void **state)
{
	assert_int_equal(ws__semver_satisfies("1.2.3", "^1.0.0"), 1);
	assert_int_equal(ws__semver_satisfies("2.0.0", "^1.0.0"), 0);
	assert_int_equal(ws__semver_satisfies("0.2.5", "^0.2.3"), 1);
	assert_int_equal(ws__semver_satisfies("0.3.0", "^0.2.3"), 0);
	assert_int_equal(ws__semver_satisfies("1.2.9", "~1.2.3"), 1);
	assert_int_equal(ws__semver_satisfies("1.3.0", "~1.2.3"), 0);
	assert_int_equal(ws__semver_satisfies("1.0.0", ">1.0.0"), 0);
	assert_int_equal(ws__semver_satisfies("1.0.0", ">=1.0.0 <2"), 1);
	assert_int_equal(ws__semver_satisfies("1.5.0", "1.x"), 1);
	assert_int_equal(ws__semver_satisfies("1.5.0", "1.2 - 1.6"), 1);
	assert_int_equal(ws__semver_satisfies("3.1.0", "~1.0.0 || >=3"), 1);
	assert_int_equal(ws__semver_satisfies("1.0.0-beta", "^1.0.0"), 0);
	assert_int_equal(ws__semver_satisfies("1.0.0", "1.0.0-beta"), 0);
	assert_int_equal(ws__semver_satisfies("1.0.0", "latest"), -1);
	/* a part beyond long is not understood (it overflowed) */
	assert_int_equal(ws__semver_satisfies("1.0.0", "^99999999999999999999999.0.0"), -1);
	assert_int_equal(ws__semver_satisfies("1.0.0", "<=9223372036854775807"), -1);
	assert_int_equal(ws__pkg_spec_accepts("workspace:^9", "1.0.0", "a", "b"), 1);
	assert_int_equal(ws__pkg_spec_accepts("*", NULL, "a", "b"), 1);
	assert_int_equal(ws__pkg_spec_accepts("^1.0.0", NULL, "a", "b"), 0);
	assert_int_equal(ws__pkg_spec_accepts("file:../b", "1.0.0", "x/a", "x/b"), 1);
	assert_int_equal(ws__pkg_spec_accepts("link:../c", "1.0.0", "x/a", "x/b"), 0);
}

/* ---- the owner map and affected ---- */

static const char *owner_name(const struct workspace *ws, const char *path)
{
	int i = workspace_owner(ws, path);
	return i < 0 ? "-" : ws->projects[i].name;
}

static void owner_map_is_the_longest_root(void **state)
{
	char *root = tmp_ws();
	put(root, "nx.json", "{}");
	put(root, "libs/a/project.json", "{\"name\": \"a\"}");
	put(root, "libs/a/nested/project.json", "{\"name\": \"n\"}");
	put(root, "libs/a/nested/x.ts", "x");
	put(root, "libs/a/src/y.ts", "y");
	put(root, "libs/ab/z.ts", "z");
	struct workspace *ws = load_ok(root);
	assert_string_equal(owner_name(ws, "libs/a/src/y.ts"), "a");
	assert_string_equal(owner_name(ws, "libs/a/nested/x.ts"), "n");
	assert_string_equal(owner_name(ws, "libs/ab/z.ts"), "-"); /* "libs/a" is no prefix of it */
	assert_string_equal(owner_name(ws, "libs/a"), "a");      /* a folder: the cwd case */
	assert_string_equal(owner_name(ws, "libs/a/nested/"), "n");
	assert_string_equal(owner_name(ws, "libs/a/gone/deleted.ts"), "a"); /* not on disk */
	assert_string_equal(owner_name(ws, "nx.json"), "-");
	for (size_t f = 0; f < ws->files.n; f++) /* the per-file map agrees */
		assert_int_equal(ws->file_owner[f], workspace_owner(ws, ws->files.v[f]));
	int a = workspace_owner(ws, "libs/a");
	assert_int_equal(ws->nproject_files[a], 2); /* project.json and src/y.ts */
	done(root, ws);
	root = tmp_ws();
	put(root, "nx.json", "{}");
	put(root, "project.json", "{\"name\": \"top\"}");
	put(root, "libs/a/project.json", "{\"name\": \"a\"}");
	ws = load_ok(root);
	assert_string_equal(owner_name(ws, "nx.json"), "top");
	assert_string_equal(owner_name(ws, ""), "top");
	assert_string_equal(owner_name(ws, "tools/x"), "top");
	assert_string_equal(owner_name(ws, "libs/a/x"), "a");
	done(root, ws);
}

static void reverse_closure_follows_every_edge(void **state)
{
	char *root = tmp_ws();
	put(root, "nx.json", "{}");
	put(root, "core/project.json", "{\"name\": \"core\"}");
	put(root, "left/project.json", "{\"name\": \"left\", \"implicitDependencies\": [\"core\"]}");
	put(root, "right/project.json",
	    "{\"name\": \"right\", \"targets\": {\"build\": {\"command\": \"x\", \"dependsOn\": "
	    "[\"core:build\"]}}}");
	put(root, "top/project.json",
	    "{\"name\": \"top\", \"implicitDependencies\": [\"left\", \"right\"]}");
	put(root, "lone/project.json", "{\"name\": \"lone\"}");
	put(root, "excl/project.json",
	    "{\"name\": \"excl\", \"implicitDependencies\": [\"left\", \"!left\"]}");
	struct workspace *ws = load_ok(root);
	bool *sel = xcalloc(ws->nprojects + 1, sizeof(*sel));
	sel[workspace_owner(ws, "core")] = true;
	affected_add_dependents(ws, sel);
	struct sbuf got = SBUF_INIT;
	sbuf_init(&got);
	for (size_t i = 0; i < ws->nprojects; i++)
		if (sel[i])
			sbuf_addf(&got, "%s ", ws->projects[i].name);
	assert_string_equal(got.buf, "core left right top ");
	/* nx.json by --files: every project; a file of lone: lone */
	struct strvec files;
	strvec_init(&files);
	strvec_push(&files, "lone/a.ts");
	struct affected_opts o = {.base = "main", .files = &files};
	struct bld_err err = {0};
	assert_int_equal(affected_projects(ws, &o, sel, &err), 0);
	for (size_t i = 0; i < ws->nprojects; i++)
		assert_int_equal(sel[i], !strcmp(ws->projects[i].name, "lone"));
	strvec_push(&files, "nx.json");
	assert_int_equal(affected_projects(ws, &o, sel, &err), 0);
	for (size_t i = 0; i < ws->nprojects; i++)
		assert_true(sel[i]);
	strvec_release(&files);
	sbuf_release(&got);
	free(sel);
	done(root, ws);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(malformed_project_json_fails_the_load),
	    cmocka_unit_test(oversized_project_json_fails_the_load),
	    cmocka_unit_test(every_project_field_is_read),
	    cmocka_unit_test(names_are_derived_as_nx_does),
	    cmocka_unit_test(root_package_json_names_the_root_project),
	    cmocka_unit_test(command_shorthand_and_target_drop_rules),
	    cmocka_unit_test(name_keyed_default_merges_shallowly),
	    cmocka_unit_test(executor_key_wins_over_name_key),
	    cmocka_unit_test(glob_keys_exact_first_then_longest_glob),
	    cmocka_unit_test(incompatible_defaults_are_ignored),
	    cmocka_unit_test(default_fills_every_other_key_and_command_shorthand),
	    cmocka_unit_test(defaults_never_create_targets),
	    cmocka_unit_test(workspace_root_token_inside_an_option_is_an_error),
	    cmocka_unit_test(tokens_expand_for_inputs_and_outputs),
	    cmocka_unit_test(owner_map_is_the_longest_root),
	    cmocka_unit_test(reverse_closure_follows_every_edge),
	    cmocka_unit_test(gitignore_nested_and_nxignore_rules_apply),
	    cmocka_unit_test(a_view_shows_the_workspace_as_at_another_commit),
	    cmocka_unit_test(ignore_rules_apply_outside_git_too),
	    cmocka_unit_test(workspace_below_the_git_root_prefixes_rules),
	    cmocka_unit_test(anchored_rules_are_not_cached_by_name),
	    cmocka_unit_test(walk_agrees_with_git_on_tricky_patterns),
	    cmocka_unit_test(a_git_ignored_workspace_still_loads),
	    cmocka_unit_test(symlinks_are_not_followed),
	    cmocka_unit_test(duplicate_names_name_both_files),
	    cmocka_unit_test(wrong_types_say_what_was_expected),
	    cmocka_unit_test(command_with_executor_and_cache_with_continuous_fail),
	    cmocka_unit_test(no_workspace_and_find_root),
	    cmocka_unit_test(implicit_dependencies_patterns_and_exclusions),
	    cmocka_unit_test(unknown_implicit_dependency_suggests),
	    cmocka_unit_test(package_json_dependencies_make_static_edges),
	    cmocka_unit_test(package_json_scripts_become_targets_as_in_nx),
	    cmocka_unit_test(pyproject_dependencies_make_static_edges),
	    cmocka_unit_test(cross_project_depends_on_makes_edges),
	    cmocka_unit_test(suggestions_for_projects_and_targets),
	    cmocka_unit_test(plugins_are_read_and_their_targets_reported),
	    cmocka_unit_test(semver_ranges),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
