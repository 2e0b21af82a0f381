/* test_inputs.c - which edits change a task's hash: each input kind, as Nx decides. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "test_cache_fixture.h"

#define BUILD(extra)                                                                               \
	"{\"targets\": {\"build\": {\"command\": \"true\"" extra "}, "                             \
	"\"test\": {\"command\": \"true\", \"options\": {\"x\": 1}}}}"

/* b, and a depending on b, each with src/main.txt and README.md. */
static void two_projects(struct fx *f, const char *a_extra, int *ta)
{
	fx_init(f);
	fx_nxjson(f, "{\"namedInputs\": {\"default\": [\"{projectRoot}/**/*\"], "
	             "\"production\": [\"default\", \"!{projectRoot}/**/*.md\"]}}");
	char *aj = xasprintf(BUILD("%s"), a_extra);
	int a = fx_project(f, "a", "a", aj);
	int b = fx_project(f, "b", "b", BUILD(""));
	free(aj);
	fx_dep(f, a, b);
	fx_write(f, "a/src/main.txt", "a");
	fx_write(f, "b/src/main.txt", "b");
	fx_write(f, "a/README.md", "doc");
	fx_write(f, "b/README.md", "doc");
	*ta = fx_task(f, a, "build");
}

static void changed(struct fx *f, int t, const char *file, const char *content, bool expect)
{
	char h1[33], h2[33];
	fx_hash(f, t, h1);
	fx_write(f, file, content);
	fx_hash(f, t, h2);
	if (expect != !!strcmp(h1, h2))
		fail_msg("editing %s: expected the hash to %s", file, expect ? "change" : "stay");
}

static void default_inputs_include_dependencies(void **state)
{
	struct fx f;
	int t;
	two_projects(&f, "", &t);
	char h[33];
	fx_hash(&f, t, h);
	assert_int_equal(strlen(h), 32);
	changed(&f, t, "a/src/main.txt", "a2", true);
	changed(&f, t, "b/src/main.txt", "b2", true);
	changed(&f, t, "b/README.md", "doc2", true);
	changed(&f, t, "README.md", "root readme, owned by no project", false);
	fx_free(&f);
}

static void depends_on_edges_are_not_followed(void **state)
{
	struct fx f;
	int t;
	two_projects(&f, "", &t);
	f.ws.projects[0].deps[0].kind = WS_DEP_DEPENDSON; /* a -> b only through dependsOn */
	changed(&f, t, "b/src/main.txt", "b2", false);
	fx_free(&f);
}

static void no_inputs_hash_all_own_files_whatever_default_says(void **state)
{
	struct fx f;
	int t;
	fx_init(&f);
	int a = fx_project(&f, "a", "a",
	                   "{\"namedInputs\": {\"default\": [\"{projectRoot}/src/**/*\"]}, "
	                   "\"targets\": {\"build\": {\"command\": \"true\"}}}");
	fx_write(&f, "a/src/x.txt", "x");
	t = fx_task(&f, a, "build");
	changed(&f, t, "a/README.md", "x", true); /* Nx: the literal every-file fileset */
	fx_free(&f);
}

static void own_files_only_ignore_dependencies(void **state)
{
	struct fx f;
	int t;
	two_projects(&f, ", \"inputs\": [\"{projectRoot}/**/*\"]", &t);
	changed(&f, t, "b/src/main.txt", "b2", false);
	changed(&f, t, "a/src/main.txt", "a2", true);
	fx_free(&f);
}

static void negated_files_do_not_count(void **state)
{
	struct fx f;
	int t;
	two_projects(&f, ", \"inputs\": [\"production\", \"^production\"]", &t);
	changed(&f, t, "a/README.md", "x", false);
	changed(&f, t, "b/README.md", "x", false);
	changed(&f, t, "b/src/main.txt", "x", true);
	changed(&f, t, "a/src/main.txt", "x", true);
	fx_free(&f);
}

static void dependency_configuration_counts_through_caret(void **state)
{
	struct fx f;
	int t;
	two_projects(&f, "", &t);
	char h1[33], h2[33];
	fx_hash(&f, t, h1);
	/* b's test target options change: Nx hashes b's whole project configuration */
	cJSON *opts = cJSON_GetObjectItem(
	    cJSON_GetObjectItem(cJSON_GetObjectItem(f.pjson[1], "targets"), "test"), "options");
	cJSON_ReplaceItemInObject(opts, "x", cJSON_CreateNumber(2));
	fx_hash(&f, t, h2);
	assert_string_not_equal(h1, h2);
	fx_free(&f);
}

static void env_input_changes_hash(void **state)
{
	struct fx f;
	int t;
	two_projects(&f, ", \"inputs\": [\"default\", {\"env\": \"MYVAR\"}]", &t);
	char *e1[] = {"MYVAR=1", "OTHER=1", NULL}, *e2[] = {"MYVAR=2", "OTHER=1", NULL};
	char *e3[] = {"MYVAR=1", "OTHER=2", NULL};
	char h1[33], h2[33], h3[33];
	struct bld_err err = {0};
	assert_int_equal(fx_hash_env(&f, NULL, t, e1, h1, NULL, &err), 0);
	assert_int_equal(fx_hash_env(&f, NULL, t, e2, h2, NULL, &err), 0);
	assert_int_equal(fx_hash_env(&f, NULL, t, e3, h3, NULL, &err), 0);
	assert_string_not_equal(h1, h2);
	assert_string_equal(h1, h3);
	fx_free(&f);
}

static void runtime_input_runs_in_workspace_root(void **state)
{
	struct fx f;
	int t;
	two_projects(&f, ", \"inputs\": [{\"runtime\": \"cat version.txt\"}]", &t);
	fx_write(&f, "version.txt", "1");
	char *env[] = {"PATH=/usr/bin:/bin", NULL};
	char h1[33], h2[33];
	struct bld_err err = {0};
	assert_int_equal(fx_hash_env(&f, NULL, t, env, h1, NULL, &err), 0);
	fx_write(&f, "version.txt", "2");
	assert_int_equal(fx_hash_env(&f, NULL, t, env, h2, NULL, &err), 0);
	assert_string_not_equal(h1, h2);
	fx_free(&f);
}

static void runtime_input_output_is_limited(void **state)
{
	struct fx f;
	int t;
	/* "yes" never ends by itself: the limit stops it */
	two_projects(&f, ", \"inputs\": [{\"runtime\": \"yes\"}]", &t);
	char *env[] = {"PATH=/usr/bin:/bin", NULL};
	char h[33];
	struct bld_err err = {0};
	assert_int_equal(fx_hash_env(&f, NULL, t, env, h, NULL, &err), BLD_ETOOBIG);
	assert_non_null(strstr(err.msg, "runtime input \"yes\" printed more than"));
	fx_free(&f);
}

static void named_input_fan_out_is_bounded(void **state)
{
	/* n0 -> n1 twice -> n2 four times ... : 2^30 references unbounded */
	struct sbuf nx = SBUF_INIT;
	sbuf_adds(&nx, "{\"namedInputs\": {");
	for (int i = 0; i < 30; i++)
		sbuf_addf(&nx, "\"n%d\": [\"n%d\", \"n%d\"], ", i, i + 1, i + 1);
	sbuf_adds(&nx, "\"n30\": [\"{projectRoot}/**/*\"]}}");
	struct fx f;
	fx_init(&f);
	fx_nxjson(&f, nx.buf);
	int a = fx_project(&f, "a", "a", BUILD(", \"inputs\": [\"n0\"]"));
	fx_write(&f, "a/src/main.txt", "a");
	int t = fx_task(&f, a, "build");
	char h[33];
	struct bld_err err = {0};
	assert_int_equal(fx_hash_env(&f, NULL, t, NULL, h, NULL, &err), BLD_ESCHEMA);
	assert_non_null(strstr(err.msg, "more than 10000 times"));
	sbuf_release(&nx);
	fx_free(&f);
}

static void unknown_named_input_is_an_error(void **state)
{
	struct fx f;
	int t;
	two_projects(&f, ", \"inputs\": [\"prodution\"]", &t);
	char h[33];
	struct bld_err err = {0};
	assert_int_equal(fx_hash_env(&f, NULL, t, NULL, h, NULL, &err), BLD_ESCHEMA);
	assert_non_null(strstr(err.msg, "prodution"));
	assert_non_null(strstr(err.file, "a/project.json"));
	fx_free(&f);
}

static void unknown_caret_input_is_an_error(void **state)
{
	struct fx f;
	int t;
	two_projects(&f, ", \"inputs\": [\"^nope\"]", &t);
	char h[33];
	struct bld_err err = {0};
	assert_int_equal(fx_hash_env(&f, NULL, t, NULL, h, NULL, &err), BLD_ESCHEMA);
	assert_non_null(strstr(err.msg, "nope"));
	fx_free(&f);
}

static void nested_project_files_are_its_own(void **state)
{
	struct fx f;
	int t;
	two_projects(&f, ", \"inputs\": [\"{projectRoot}/**/*\"]", &t);
	fx_project(&f, "asub", "a/sub", "{\"targets\": {}}");
	fx_write(&f, "a/sub/x.txt", "1");
	changed(&f, t, "a/sub/x.txt", "2", false);
	changed(&f, t, "a/other/x.txt", "2", true);
	fx_free(&f);
}

static void always_on_workspace_files(void **state)
{
	struct fx f;
	int t;
	two_projects(&f, ", \"inputs\": [\"{projectRoot}/**/*\"]", &t);
	changed(&f, t, ".gitignore", "dist\n", true);
	char h1[33], h2[33];
	fx_hash(&f, t, h1);
	fx_nxjson(
	    &f,
	    "{\"namedInputs\": {\"default\": [\"{projectRoot}/**/*\"], "
	    "\"production\": [\"default\", \"!{projectRoot}/**/*.md\"]}, \"defaultBase\": \"x\"}");
	fx_hash(&f, t, h2);
	assert_string_not_equal(h1, h2);
	fx_free(&f);
}

static void tsconfig_without_paths(void **state)
{
	struct fx f;
	int t;
	two_projects(&f, ", \"inputs\": [\"{projectRoot}/**/*\"]", &t);
	changed(&f, t, "tsconfig.base.json", "{\"compilerOptions\": {\"strict\": true}}", true);
	changed(
	    &f, t, "tsconfig.base.json",
	    "// comment\n{\"compilerOptions\": {\"strict\": true, \"paths\": {\"x\": [\"a\"]}}}",
	    false);
	fx_free(&f);
}

static void workspace_filesets(void **state)
{
	struct fx f;
	int t;
	two_projects(&f,
	             ", \"inputs\": [\"{workspaceRoot}/shared/**/*\", "
	             "\"!{workspaceRoot}/shared/**/*.md\"]",
	             &t);
	changed(&f, t, "shared/x.txt", "1", true);
	changed(&f, t, "shared/x.md", "1", false);
	changed(&f, t, "a/src/main.txt", "2", false);
	fx_free(&f);
}

static void dependent_task_outputs(void **state)
{
	struct fx f;
	int t;
	two_projects(&f, ", \"inputs\": [{\"dependentTasksOutputFiles\": \"**/*.js\"}]", &t);
	cJSON *bt = cJSON_GetObjectItem(cJSON_GetObjectItem(f.pjson[1], "targets"), "build");
	cJSON_AddItemToObject(bt, "outputs", cJSON_Parse("[\"{workspaceRoot}/dist/b\"]"));
	int tb = fx_task(&f, 1, "build");
	fx_taskdep(&f, t, tb);
	changed(&f, t, "dist/b/x.js", "1", true);
	changed(&f, t, "dist/b/x.txt", "1", false);
	changed(&f, t, "b/src/main.txt", "x", false);
	fx_free(&f);
}

static void external_dependencies_are_lock_files(void **state)
{
	struct fx f;
	int t;
	two_projects(&f, "", &t);
	changed(&f, t, "package-lock.json", "{\"lockfileVersion\": 3}", true);
	int t2 = fx_task(&f, 1, "test");
	(void)t2;
	fx_free(&f);
	two_projects(&f, ", \"inputs\": [\"default\", {\"externalDependencies\": []}]", &t);
	changed(&f, t, "uv.lock", "x", false);
	fx_free(&f);
}

static void hash_is_machine_independent(void **state)
{
	struct fx f1, f2;
	int t1, t2;
	two_projects(&f1, "", &t1);
	two_projects(&f2, "", &t2);
	char h1[33], h2[33];
	fx_hash(&f1, t1, h1);
	fx_hash(&f2, t2, h2);
	assert_string_not_equal(f1.root, f2.root);
	assert_string_equal(h1, h2);
	fx_free(&f1);
	fx_free(&f2);
}

static void options_count_canonically(void **state)
{
	struct fx f;
	int t;
	two_projects(&f, "", &t);
	cJSON_Delete(f.tg.tasks[t].options);
	f.tg.tasks[t].options = cJSON_Parse("{\"a\": 1, \"b\": [1, \"x\"]}");
	char h1[33], h2[33], h3[33];
	fx_hash(&f, t, h1);
	cJSON_Delete(f.tg.tasks[t].options);
	f.tg.tasks[t].options = cJSON_Parse("{\"b\": [1, \"x\"], \"a\": 1.0}");
	fx_hash(&f, t, h2);
	assert_string_equal(h1, h2);
	cJSON_Delete(f.tg.tasks[t].options);
	f.tg.tasks[t].options = cJSON_Parse("{\"b\": [1, \"x\"], \"a\": 2}");
	fx_hash(&f, t, h3);
	assert_string_not_equal(h1, h3);
	fx_free(&f);
}

static void manifest_lists_inputs(void **state)
{
	struct fx f;
	int t;
	two_projects(&f, "", &t);
	char h[33];
	cJSON *m = NULL;
	struct bld_err err = {0};
	assert_int_equal(fx_hash_env(&f, NULL, t, NULL, h, &m, &err), 0);
	cJSON *in = cJSON_GetObjectItem(m, "inputs");
	cJSON *own = cJSON_GetObjectItem(in, "files:a:a/**/*");
	cJSON *dep = cJSON_GetObjectItem(in, "files:b:b/**/*");
	assert_non_null(own);
	assert_non_null(dep);
	assert_non_null(
	    strstr(cJSON_GetObjectItem(dep, "files")->valuestring, " b/src/main.txt\n"));
	assert_non_null(cJSON_GetObjectItem(in, "project-config:b"));
	assert_non_null(cJSON_GetObjectItem(in, "workspace-files:.gitignore,.nxignore,nx.json"));
	assert_string_equal(cJSON_GetObjectItem(m, "hash")->valuestring, h);
	cJSON_Delete(m);
	fx_free(&f);
}

static void project_inputs_of_other_projects(void **state)
{
	struct fx f;
	int t;
	/* b does not depend on a; a's input names b's files explicitly */
	two_projects(&f, "", &t);
	int c = fx_project(&f, "c", "c",
	                   "{\"targets\": {\"build\": {\"command\": \"true\", "
	                   "\"inputs\": [\"{projectRoot}/**/*\", {\"input\": \"default\", "
	                   "\"projects\": [\"b\"]}]}}}");
	fx_write(&f, "c/x.txt", "c");
	int tc = fx_task(&f, c, "build");
	struct bld_err err = {0};
	char h1[33], h2[33];
	int r = fx_hash_env(&f, NULL, tc, NULL, h1, NULL, &err);
	if (r != 0) /* project selection lives in the graph module */
		skip();
	fx_write(&f, "b/src/main.txt", "changed");
	assert_int_equal(fx_hash_env(&f, NULL, tc, NULL, h2, NULL, &err), 0);
	assert_string_not_equal(h1, h2);
	fx_free(&f);
}

static int hash_with_memo(struct fx *f, struct cache_memo *m, int t, char out[33])
{
	struct hasher *h;
	struct bld_err err = {0};
	fx_scan(f);
	int r = hasher_new(&f->ws, NULL, NULL, &h, &err);
	hasher_set_memo(h, m, 1);
	if (r == 0)
		r = hasher_task_hash(h, &f->tg, t, NULL, &err);
	memcpy(out, f->tg.tasks[t].hash, 33);
	hasher_free(h);
	return r;
}

static void memo_keeps_hashes_until_forgotten(void **state)
{
	struct fx f;
	int t;
	two_projects(&f, "", &t);
	struct cache_memo *m = cache_memo_new();
	char h1[33], h2[33], h3[33], h4[33];
	assert_int_equal(hash_with_memo(&f, m, t, h1), 0);
	fx_write(&f, "b/src/main.txt", "edited");
	assert_int_equal(hash_with_memo(&f, m, t, h2), 0);
	assert_string_equal(h1, h2);   /* no watcher event yet: the memo answers */
	cache_memo_forget(m, "b/src"); /* a folder: everything below */
	assert_int_equal(hash_with_memo(&f, m, t, h3), 0);
	assert_string_not_equal(h1, h3);
	fx_write(&f, "a/src/main.txt", "edited");
	cache_memo_clear(m);
	assert_int_equal(hash_with_memo(&f, m, t, h4), 0);
	assert_string_not_equal(h3, h4);
	cache_memo_forget(m, "b/src/main"); /* not a path prefix of b/src/main.txt */
	cache_memo_free(m);
	fx_free(&f);
}

static void memo_task_hashes_follow_options_and_forgets(void **state)
{
	struct fx f;
	int t;
	two_projects(&f, "", &t);
	struct cache_memo *m = cache_memo_new();
	char h1[33], h2[33], h3[33], h4[33];
	assert_int_equal(hash_with_memo(&f, m, t, h1), 0);
	assert_int_equal(hash_with_memo(&f, m, t, h2), 0);
	assert_string_equal(h1, h2); /* kept */
	cJSON *o = f.tg.tasks[t].options;
	cJSON_AddStringToObject(o, "flag", "x"); /* e.g. forwarded arguments */
	assert_int_equal(hash_with_memo(&f, m, t, h3), 0);
	assert_string_not_equal(h1, h3); /* the options are part of the key */
	cJSON_DeleteItemFromObject(o, "flag");
	/* a forget owned by a project the task reads nothing of keeps it: the edit
	 * below is not seen (a watcher would have named b's file, owned by b) */
	fx_write(&f, "b/src/main.txt", "edited unseen");
	cache_memo_forget_owned(m, "zz/other.txt", "zz");
	assert_int_equal(hash_with_memo(&f, m, t, h2), 0);
	assert_string_equal(h1, h2);
	cache_memo_forget_owned(m, "b/src/main.txt", "b"); /* its dependency's file */
	assert_int_equal(hash_with_memo(&f, m, t, h2), 0);
	assert_string_not_equal(h1, h2);
	fx_write(&f, "a/src/main.txt", "edited");
	cache_memo_forget(m, "a/src/main.txt"); /* any forget: task hashes are computed again */
	assert_int_equal(hash_with_memo(&f, m, t, h4), 0);
	assert_string_not_equal(h1, h4);
	cache_memo_free(m);
	fx_free(&f);
}

/* A request's hasher keeps what it read (file hashes, evaluated inputs) for its
 * whole life.  When another request forgets a file meanwhile, a task hash this
 * hasher computes afterwards mixes the old content with the new forget counts:
 * it must not be kept, or the next request is answered with the old hash. */
static void memo_task_hash_not_kept_from_a_hasher_older_than_a_forget(void **state)
{
	struct fx f;
	int ta;
	two_projects(&f, "", &ta);
	int tb = fx_task(&f, 1, "build");
	fx_scan(&f);
	struct cache_memo *m = cache_memo_new();
	struct bld_err err = {0};
	struct hasher *h;
	assert_int_equal(hasher_new(&f.ws, NULL, NULL, &h, &err), 0);
	hasher_set_memo(h, m, 1);
	/* the long request reads b's files for b:build ... */
	assert_int_equal(hasher_task_hash(h, &f.tg, tb, NULL, &err), 0);
	/* ... b's file is edited, and another request's sync forgets it ... */
	fx_write(&f, "b/src/main.txt", "edited while the request runs");
	cache_memo_forget_owned(m, "b/src/main.txt", "b");
	/* ... then the long request hashes a:build from what it read before */
	assert_int_equal(hasher_task_hash(h, &f.tg, ta, NULL, &err), 0);
	hasher_free(h);
	char kept[33], fresh[33];
	assert_int_equal(hash_with_memo(&f, m, ta, kept), 0);
	struct cache_memo *none = cache_memo_new();
	assert_int_equal(hash_with_memo(&f, none, ta, fresh), 0);
	assert_string_equal(kept, fresh);
	cache_memo_free(none);
	cache_memo_free(m);
	fx_free(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(default_inputs_include_dependencies),
	    cmocka_unit_test(own_files_only_ignore_dependencies),
	    cmocka_unit_test(no_inputs_hash_all_own_files_whatever_default_says),
	    cmocka_unit_test(depends_on_edges_are_not_followed),
	    cmocka_unit_test(negated_files_do_not_count),
	    cmocka_unit_test(dependency_configuration_counts_through_caret),
	    cmocka_unit_test(env_input_changes_hash),
	    cmocka_unit_test(runtime_input_runs_in_workspace_root),
	    cmocka_unit_test(runtime_input_output_is_limited),
	    cmocka_unit_test(named_input_fan_out_is_bounded),
	    cmocka_unit_test(unknown_named_input_is_an_error),
	    cmocka_unit_test(unknown_caret_input_is_an_error),
	    cmocka_unit_test(nested_project_files_are_its_own),
	    cmocka_unit_test(always_on_workspace_files),
	    cmocka_unit_test(tsconfig_without_paths),
	    cmocka_unit_test(workspace_filesets),
	    cmocka_unit_test(dependent_task_outputs),
	    cmocka_unit_test(external_dependencies_are_lock_files),
	    cmocka_unit_test(hash_is_machine_independent),
	    cmocka_unit_test(options_count_canonically),
	    cmocka_unit_test(manifest_lists_inputs),
	    cmocka_unit_test(project_inputs_of_other_projects),
	    cmocka_unit_test(memo_keeps_hashes_until_forgotten),
	    cmocka_unit_test(memo_task_hashes_follow_options_and_forgets),
	    cmocka_unit_test(memo_task_hash_not_kept_from_a_hasher_older_than_a_forget),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
