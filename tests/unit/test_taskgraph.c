/* test_taskgraph.c - dependsOn expansion, configurations, options, cycles,
 * unknown names, --exclude-task-dependencies and run-many's skipping, each
 * behaviour as real Nx 22 showed it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "bld/taskgraph.h"
#include "../../graph/tg_int.h"
#include "tg_fixture.h"

struct run {
	struct fixture fx;
	struct task_graph *tg;
	struct bld_err err;
	int rc;
};

/* Build the graph of projects x targets (comma lists) over spec. */
static int run_graph(struct run *r, const char *spec, const char *projects, const char *targets,
                     const char *cfg, const char *overrides, unsigned flags)
{
	memset(r, 0, sizeof(*r));
	struct workspace *ws = fx_load(&r->fx, spec);
	struct tg_request rq;
	tg_request_init(&rq);
	strvec_split(&rq.projects, projects, ",");
	strvec_split(&rq.targets, targets, ",");
	rq.configuration = cfg;
	rq.overrides = overrides ? cJSON_Parse(overrides) : NULL;
	rq.exclude_task_deps = flags & 1;
	rq.skip_missing = flags & 2;
	r->rc = task_graph_build(ws, &rq, &r->tg, &r->err);
	cJSON_Delete(rq.overrides);
	tg_request_release(&rq);
	return r->rc;
}

static void run_release(struct run *r)
{
	task_graph_free(r->tg);
	fx_release(&r->fx);
}

static const struct task *task_of(const struct run *r, const char *id)
{
	int i = task_graph_find(r->tg, id);
	if (i < 0)
		fail_msg("no task %s", id);
	return &r->tg->tasks[i];
}

/* The dependencies of id, sorted, joined by commas (static buffer). */
static const char *deps_of(const struct run *r, const char *id)
{
	static char buf[512];
	const struct task *t = task_of(r, id);
	struct strvec sv;
	strvec_init(&sv);
	for (size_t i = 0; i < t->ndeps; i++)
		strvec_push(&sv, r->tg->tasks[t->deps[i]].id);
	strvec_sort(&sv);
	buf[0] = '\0';
	for (size_t i = 0; i < sv.n; i++) {
		strcat(buf, i ? "," : "");
		strcat(buf, sv.v[i]);
	}
	strvec_release(&sv);
	return buf;
}

#define CHAIN_SPEC                                                                                 \
	"{'nx.json': {'targetDefaults': {'build': {'dependsOn': ['^build']}}},"                    \
	" 'libs/a/project.json': {'name': 'a', 'implicitDependencies': ['b'],"                     \
	"   'targets': {'build': {'command': 'echo a'}}},"                                         \
	" 'libs/b/project.json': {'name': 'b', 'implicitDependencies': ['c'],"                     \
	"   'targets': {'build': {'command': 'echo b'}}},"                                         \
	" 'libs/c/project.json': {'name': 'c', 'targets': {'build': {'command': 'echo c'}}}}"

static void caret_chain_runs_in_order(void **state)
{
	struct run r;
	assert_int_equal(run_graph(&r, CHAIN_SPEC, "a", "build", NULL, NULL, 0), 0);
	assert_int_equal(r.tg->ntasks, 3);
	assert_string_equal(deps_of(&r, "a:build"), "b:build");
	assert_string_equal(deps_of(&r, "b:build"), "c:build");
	assert_string_equal(deps_of(&r, "c:build"), "");
	int *order = task_graph_topo(r.tg);
	assert_string_equal(r.tg->tasks[order[0]].id, "c:build");
	assert_string_equal(r.tg->tasks[order[1]].id, "b:build");
	assert_string_equal(r.tg->tasks[order[2]].id, "a:build");
	free(order);
	assert_int_equal(task_of(&r, "c:build")->priority, 2);
	assert_int_equal(task_of(&r, "a:build")->priority, 0);
	assert_true(task_of(&r, "a:build")->requested);
	assert_false(task_of(&r, "c:build")->requested);
	assert_int_equal(task_of(&r, "c:build")->nrdeps, 1);
	run_release(&r);
}

static void caret_looks_through_project_lacking_target(void **state)
{
	struct run r;
	assert_int_equal(
	    run_graph(&r,
	              "{'nx.json': {'targetDefaults': {'build': {'dependsOn': ['^build']}}},"
	              " 'a/project.json': {'name': 'a', 'implicitDependencies': ['b'],"
	              "   'targets': {'build': {'command': 'x'}}},"
	              " 'b/project.json': {'name': 'b', 'implicitDependencies': ['c', 'a'],"
	              "   'targets': {'test': {'command': 'x'}}},"
	              " 'c/project.json': {'name': 'c', 'targets': {'build': {'command': 'x'}}}}",
	              "a", "build", NULL, NULL, 0),
	    0);
	assert_string_equal(deps_of(&r, "a:build"), "c:build");
	assert_int_equal(r.tg->ntasks, 2);
	run_release(&r);
}

#define FORMS_SPEC                                                                                 \
	"{'libs/a/project.json': {'name': 'a', 'implicitDependencies': ['b'], 'targets': {"        \
	"   'build': {'command': 'x', 'dependsOn': ['b:lint', 'build:types',"                      \
	"      {'target': 'test', 'projects': 'self'},"                                            \
	"      {'target': 'lint', 'projects': ['c', 'd*']},"                                       \
	"      {'target': 'pack', 'dependencies': true}]},"                                        \
	"   'build:types': {'command': 'x'}, 'test': {'command': 'x'},"                            \
	"   'tags': {'command': 'x', 'dependsOn': [{'target': 'build', 'projects': 'tag:x'}]},"    \
	"   'neg': {'command': 'x', 'dependsOn': [{'target': 'lint', 'projects': ['*', '!b']}]},"  \
	"   'glob': {'command': 'x', 'dependsOn': ['lint-*', {'target': 'l*', 'projects': 'b'}]}," \
	"   'missing': {'command': 'x', 'dependsOn': ['nope', 'b:nope', 'nope:build']}}},"         \
	" 'libs/b/project.json': {'name': 'b', 'targets': {'lint': {'command': 'x'},"              \
	"   'pack': {'command': 'x'}}},"                                                           \
	" 'libs/c/project.json': {'name': 'c', 'tags': ['x'], 'targets': {'lint': {'command': "    \
	"'x'},"                                                                                    \
	"   'build': {'command': 'x'}, 'pack': {'command': 'x'}}},"                                \
	" 'libs/d1/project.json': {'name': 'd1', 'targets': {'lint': {'command': 'x'}}},"          \
	" 'libs/d2/project.json': {'name': 'd2', 'targets': {'build': {'command': 'x'}}}}"

static void project_target_and_object_forms(void **state)
{
	struct run r;
	assert_int_equal(run_graph(&r, FORMS_SPEC, "a", "build", NULL, NULL, 0), 0);
	/* c:pack is not pulled in: a reaches c only through a dependsOn, which is
	 * no project-graph edge for Nx, so {target: pack, dependencies} skips it */
	assert_string_equal(deps_of(&r, "a:build"),
	                    "a:build:types,a:test,b:lint,b:pack,c:lint,d1:lint");
	run_release(&r);
}

static void projects_by_tag_and_negation(void **state)
{
	struct run r;
	assert_int_equal(run_graph(&r, FORMS_SPEC, "a", "tags,neg", NULL, NULL, 0), 0);
	assert_string_equal(deps_of(&r, "a:tags"), "c:build");
	assert_string_equal(deps_of(&r, "a:neg"), "c:lint,d1:lint");
	run_release(&r);
}

static void glob_target_and_missing_targets(void **state)
{
	struct run r;
	/* "lint-*" matches no target name; unknown targets are skipped, as in Nx */
	assert_int_equal(run_graph(&r, FORMS_SPEC, "a", "glob,missing", NULL, NULL, 0), 0);
	assert_string_equal(deps_of(&r, "a:glob"), "b:lint");
	assert_string_equal(deps_of(&r, "a:missing"), "");
	run_release(&r);
}

static void dependson_pattern_matching_nothing_is_a_note(void **state)
{
	struct run r;
	/* Nx warns "dependsOn is misconfigured" and goes on */
	assert_int_equal(
	    run_graph(&r,
	              "{'a/project.json': {'name': 'a', 'targets': {'build': {'command': 'x',"
	              "   'dependsOn': [{'target': 'build', 'projects': ['nope*']}]}}}}",
	              "a", "build", NULL, NULL, 0),
	    0);
	assert_int_equal(r.tg->ntasks, 1);
	assert_int_equal(r.tg->notes.n, 1);
	assert_non_null(strstr(r.tg->notes.v[0], "a:build"));
	run_release(&r);
}

static void malformed_dependson_names_the_file(void **state)
{
	struct run r;
	int rc =
	    run_graph(&r,
	              "{'libs/a/project.json': {'name': 'a', 'targets': {'build': {'command': 'x',"
	              "   'dependsOn': ['ok', {'projects': 'b'}]}}}}",
	              "a", "build", NULL, NULL, 0);
	assert_int_equal(rc, BLD_ESCHEMA);
	assert_string_equal(r.err.file, "libs/a/project.json");
	assert_non_null(strstr(r.err.msg, "a:build: dependsOn[1]"));
	run_release(&r);
}

#define FORWARD_SPEC                                                                               \
	"{'a/project.json': {'name': 'a', 'implicitDependencies': ['b'], 'targets': {"             \
	"   'build': {'command': 'x', 'options': {'mode': 'a'}, 'dependsOn': ["                    \
	"     {'target': 'pack', 'dependencies': true, 'params': 'forward'},"                      \
	"     {'target': 'lint', 'projects': 'b', 'params': 'ignore'},"                            \
	"     {'target': 'gen', 'projects': 'b', 'options': 'forward'}]}}},"                       \
	" 'b/project.json': {'name': 'b', 'targets': {'pack': {'command': 'x'},"                   \
	"   'lint': {'command': 'x'}, 'gen': {'command': 'x'}}}}"

static void params_forward_passes_overrides(void **state)
{
	struct run r;
	assert_int_equal(run_graph(&r, FORWARD_SPEC, "a", "build", NULL, "{\"foo\": \"bar\"}", 0),
	                 0);
	const cJSON *o = task_of(&r, "b:pack")->options;
	assert_string_equal(cJSON_GetObjectItem(o, "foo")->valuestring, "bar");
	assert_null(cJSON_GetObjectItem(task_of(&r, "b:lint")->options, "foo"));
	assert_string_equal(
	    cJSON_GetObjectItem(task_of(&r, "a:build")->options, "foo")->valuestring, "bar");
	/* options: "forward" hands the source target's options down */
	o = task_of(&r, "b:gen")->options;
	assert_string_equal(cJSON_GetObjectItem(o, "mode")->valuestring, "a");
	assert_null(cJSON_GetObjectItem(o, "foo"));
	run_release(&r);
}

static void task_reached_twice_keeps_depth_first_overrides(void **state)
{
	struct run r;
	/* Nx expands depth first: c:x is met through b:y (forward) before a's own
	 * params: "ignore" entry, so it keeps the forwarded overrides */
	assert_int_equal(
	    run_graph(&r,
	              "{'a/project.json': {'name': 'a', 'targets': {'build': {'command': 'x',"
	              "   'dependsOn': [{'target': 'y', 'projects': 'b', 'params': 'forward'},"
	              "                 {'target': 'x', 'projects': 'c', 'params': 'ignore'}]}}},"
	              " 'b/project.json': {'name': 'b', 'targets': {'y': {'command': 'x',"
	              "   'dependsOn': [{'target': 'x', 'projects': 'c', 'params': 'forward'}]}}},"
	              " 'c/project.json': {'name': 'c', 'targets': {'x': {'command': 'x'}}}}",
	              "a", "build", NULL, "{\"foo\": \"bar\"}", 0),
	    0);
	assert_non_null(cJSON_GetObjectItem(task_of(&r, "c:x")->options, "foo"));
	run_release(&r);
}

#define CONFIG_SPEC                                                                                \
	"{'nx.json': {'targetDefaults': {'build': {'dependsOn': ['^build', 'lint']}}},"            \
	" 'a/project.json': {'name': 'a', 'implicitDependencies': ['b'], 'targets': {"             \
	"   'build': {'command': 'x', 'configurations': {'prod': {}, 'dev': {}},"                  \
	"     'defaultConfiguration': 'dev'},"                                                     \
	"   'lint': {'command': 'x', 'configurations': {'prod': {}}}}},"                           \
	" 'b/project.json': {'name': 'b', 'implicitDependencies': ['c'], 'targets': {"             \
	"   'build': {'command': 'x', 'configurations': {'dev': {}}}}},"                           \
	" 'c/project.json': {'name': 'c', 'targets': {"                                            \
	"   'build': {'command': 'x', 'configurations': {'prod': {}, 'dev': {}}}}}}"

static void configuration_carried_to_dependencies(void **state)
{
	struct run r;
	/* b lacks prod: no configuration; c gets prod although b stood between */
	assert_int_equal(run_graph(&r, CONFIG_SPEC, "a", "build", "prod", NULL, 0), 0);
	assert_string_equal(deps_of(&r, "a:build:prod"), "a:lint:prod,b:build");
	assert_string_equal(deps_of(&r, "b:build"), "c:build:prod");
	assert_string_equal(task_of(&r, "c:build:prod")->configuration, "prod");
	run_release(&r);
}

static void default_configuration_is_not_carried(void **state)
{
	struct run r;
	/* a resolves to its default dev, but what travels down is "none" */
	assert_int_equal(run_graph(&r, CONFIG_SPEC, "a", "build", NULL, NULL, 0), 0);
	assert_string_equal(deps_of(&r, "a:build:dev"), "a:lint,b:build");
	assert_string_equal(deps_of(&r, "b:build"), "c:build");
	assert_null(task_of(&r, "b:build")->configuration);
	run_release(&r);
}

static void unknown_configuration_falls_back_to_default(void **state)
{
	struct run r;
	assert_int_equal(run_graph(&r, CONFIG_SPEC, "a", "build", "nope", NULL, 0), 0);
	assert_int_equal(task_graph_find(r.tg, "a:build:dev") >= 0, 1);
	run_release(&r);
}

#define OPTIONS_SPEC                                                                               \
	"{'libs/a/project.json': {'name': 'a', 'targets': {'build': {'executor': "                 \
	"'nx:run-commands',"                                                                       \
	"   'options': {'command': 'echo {projectRoot} {projectName} {args.x}', 'x': 'base',"      \
	"     'w': '{workspaceRoot}/out/{projectName}', 'nested': {'k': ['{projectRoot}/src']},"   \
	"     'keep': 'base'},"                                                                    \
	"   'configurations': {'prod': {'x': 'prod-{projectName}'}}}}}}"

static void options_merge_configuration_then_overrides(void **state)
{
	struct run r;
	assert_int_equal(
	    run_graph(&r, OPTIONS_SPEC, "a", "build", "prod", "{\"keep\": \"cli\"}", 0), 0);
	const cJSON *o = task_of(&r, "a:build:prod")->options;
	assert_string_equal(cJSON_GetObjectItem(o, "command")->valuestring,
	                    "echo libs/a a {args.x}");
	assert_string_equal(cJSON_GetObjectItem(o, "x")->valuestring, "prod-a");
	assert_string_equal(cJSON_GetObjectItem(o, "w")->valuestring, "out/a");
	assert_string_equal(
	    cJSON_GetArrayItem(cJSON_GetObjectItem(cJSON_GetObjectItem(o, "nested"), "k"), 0)
	        ->valuestring,
	    "libs/a/src");
	assert_string_equal(cJSON_GetObjectItem(o, "keep")->valuestring, "cli");
	run_release(&r);
}

static void workspace_root_token_only_at_start(void **state)
{
	/* Nx refuses {workspaceRoot} anywhere but at the start of an option */
	struct ws_project p = {.name = "a", .root = "libs/a", .config_file = "libs/a/project.json"};
	cJSON *o = cJSON_Parse("{\"ok\": \"{workspaceRoot}\", \"bad\": [\"x {workspaceRoot}\"]}");
	struct bld_err err = {0};
	assert_int_equal(tg__expand_options(o, &p, "a:build", &err), BLD_ESCHEMA);
	assert_non_null(strstr(err.msg, "{workspaceRoot}"));
	assert_non_null(strstr(err.msg, "a:build"));
	assert_string_equal(err.file, "libs/a/project.json");
	assert_string_equal(cJSON_GetObjectItem(o, "ok")->valuestring, "");
	cJSON_Delete(o);
}

static void cycle_reports_whole_path(void **state)
{
	struct run r;
	assert_int_equal(
	    run_graph(&r,
	              "{'a/project.json': {'name': 'a', 'targets': {'build': {'command': 'x',"
	              "   'dependsOn': ['b:build']}}},"
	              " 'b/project.json': {'name': 'b', 'targets': {'build': {'command': 'x',"
	              "   'dependsOn': ['c:build']}}},"
	              " 'c/project.json': {'name': 'c', 'targets': {'build': {'command': 'x',"
	              "   'dependsOn': ['a:build']}}}}",
	              "a", "build", NULL, NULL, 0),
	    BLD_ECYCLE);
	assert_string_equal(r.err.msg,
	                    TG_CYCLE_MSG "\n\n" "a:build --> b:build --> c:build --> a:build");
	run_release(&r);
}

static void cycle_below_requested_task_shows_the_way_in(void **state)
{
	struct run r;
	/* Nx: "x:build --> a:build --> b:build --> a:build" */
	assert_int_equal(
	    run_graph(&r,
	              "{'x/project.json': {'name': 'x', 'targets': {'build': {'command': 'x',"
	              "   'dependsOn': ['a:build']}}},"
	              " 'a/project.json': {'name': 'a', 'targets': {'build': {'command': 'x',"
	              "   'dependsOn': ['b:build']}}},"
	              " 'b/project.json': {'name': 'b', 'targets': {'build': {'command': 'x',"
	              "   'dependsOn': ['a:build']}}}}",
	              "x", "build", NULL, NULL, 0),
	    BLD_ECYCLE);
	assert_string_equal(r.err.msg,
	                    TG_CYCLE_MSG "\n\n" "x:build --> a:build --> b:build --> a:build");
	run_release(&r);
}

static void caret_cycle_in_project_graph_is_an_error(void **state)
{
	struct run r;
	assert_int_equal(
	    run_graph(&r,
	              "{'nx.json': {'targetDefaults': {'build': {'dependsOn': ['^build']}}},"
	              " 'a/project.json': {'name': 'a', 'implicitDependencies': ['b'],"
	              "   'targets': {'build': {'command': 'x'}}},"
	              " 'b/project.json': {'name': 'b', 'implicitDependencies': ['a'],"
	              "   'targets': {'build': {'command': 'x'}}}}",
	              "b", "build", NULL, NULL, 0),
	    BLD_ECYCLE);
	assert_string_equal(r.err.msg,
	                    TG_CYCLE_MSG "\n\n" "b:build --> a:build --> b:build");
	run_release(&r);
}

static void self_dependency_is_ignored(void **state)
{
	struct run r;
	assert_int_equal(
	    run_graph(&r,
	              "{'a/project.json': {'name': 'a', 'targets': {'build': {'command': 'x',"
	              "   'dependsOn': ['build', 'a:build']}}}}",
	              "a", "build", NULL, NULL, 0),
	    0);
	assert_string_equal(deps_of(&r, "a:build"), "");
	run_release(&r);
}

static void continuous_and_cache_flags(void **state)
{
	struct run r;
	assert_int_equal(
	    run_graph(&r,
	              "{'a/project.json': {'name': 'a', 'targets': {"
	              "  'e2e': {'command': 'x', 'cache': true, 'dependsOn': ['serve']},"
	              "  'serve': {'command': 'x', 'continuous': true}}}}",
	              "a", "e2e", NULL, NULL, 0),
	    0);
	assert_true(task_of(&r, "a:e2e")->cache);
	assert_false(task_of(&r, "a:e2e")->continuous);
	assert_true(task_of(&r, "a:serve")->continuous);
	assert_string_equal(deps_of(&r, "a:e2e"), "a:serve");
	run_release(&r);
}

static void unknown_project_suggests_names(void **state)
{
	struct run r;
	assert_int_equal(run_graph(&r, CHAIN_SPEC, "bb", "build", NULL, NULL, 0), BLD_ENOPROJECT);
	assert_non_null(strstr(r.err.msg, "'bb'"));
	assert_non_null(strstr(r.err.msg, "did you mean 'b'"));
	run_release(&r);
}

static void unknown_target_suggests_names(void **state)
{
	struct run r;
	assert_int_equal(run_graph(&r, CHAIN_SPEC, "a", "bulid", NULL, NULL, 0), BLD_ENOTARGET);
	assert_non_null(strstr(r.err.msg, "did you mean 'build'"));
	run_release(&r);
}

static void exclude_task_deps_keeps_only_requested(void **state)
{
	struct run r;
	assert_int_equal(run_graph(&r, CHAIN_SPEC, "a,b", "build", NULL, NULL, 1), 0);
	assert_int_equal(r.tg->ntasks, 2);
	assert_string_equal(deps_of(&r, "a:build"), "b:build");
	assert_string_equal(deps_of(&r, "b:build"), "");
	assert_int_equal(task_graph_find(r.tg, "c:build"), -1);
	run_release(&r);
}

static void skip_missing_skips_projects_without_target(void **state)
{
	struct run r;
	const char *spec =
	    "{'a/project.json': {'name': 'a', 'targets': {'build': {'command': 'x'}}},"
	    " 'b/project.json': {'name': 'b', 'targets': {'test': {'command': 'x'}}}}";
	assert_int_equal(run_graph(&r, spec, "a,b", "build", NULL, NULL, 2), 0);
	assert_int_equal(r.tg->ntasks, 1);
	assert_string_equal(r.tg->tasks[0].id, "a:build");
	assert_int_equal(r.tg->notes.n, 1);
	assert_non_null(strstr(r.tg->notes.v[0], "'b'"));
	run_release(&r);
	assert_int_equal(run_graph(&r, spec, "a,b", "build", NULL, NULL, 0), BLD_ENOTARGET);
	run_release(&r);
}

static const char shard_spec[] =
    "{'a/project.json': {'name': 'a', 'targets': {'build': {'command': 'x',"
    "   'dependsOn': ['^build']}}, 'implicitDependencies': ['b']},"
    " 'b/project.json': {'name': 'b', 'targets': {'build': {'command': 'x'}}},"
    " 'c/project.json': {'name': 'c', 'targets': {'build': {'command': 'x'}}},"
    " 'd/project.json': {'name': 'd', 'targets': {'build': {'command': 'x'}}}}";

static void shard_balances_by_recorded_durations(void **state)
{
	struct run r;
	assert_int_equal(run_graph(&r, shard_spec, "a,b,c,d", "build", NULL, NULL, 0), 0);
	size_t n = r.tg->ntasks;
	uint64_t ms[8] = {0};
	ms[task_graph_find(r.tg, "c:build")] = 100000; /* c alone outweighs the rest */
	for (size_t i = 0; i < n; i++)
		if (!ms[i])
			ms[i] = 10;
	int a[8], again[8];
	task_graph_shard_assign(r.tg, ms, 2, a);
	task_graph_shard_assign(r.tg, ms, 2, again);
	assert_memory_equal(a, again, n * sizeof(*a)); /* deterministic */
	int c = a[task_graph_find(r.tg, "c:build")];
	for (size_t i = 0; i < n; i++)
		if ((int)i != task_graph_find(r.tg, "c:build"))
			assert_int_not_equal(a[i], c);
	task_graph_shard_assign(r.tg, NULL, 2, a); /* by count: two and two */
	int on0 = 0;
	for (size_t i = 0; i < n; i++)
		on0 += a[i] == 0;
	assert_int_equal(on0, 2);
	run_release(&r);
}

static void shard_keeps_its_tasks_and_their_dependencies(void **state)
{
	struct run r;
	assert_int_equal(run_graph(&r, shard_spec, "a,b,c,d", "build", NULL, NULL, 0), 0);
	int assign[8] = {0};
	assign[task_graph_find(r.tg, "b:build")] = 1; /* a on shard 0, its dependency on 1 */
	task_graph_keep_shard(r.tg, assign, 0);
	assert_int_equal(r.tg->ntasks, 4);
	assert_true(task_of(&r, "a:build")->requested);
	assert_false(task_of(&r, "b:build")->requested); /* kept as a dependency */
	assert_string_equal(deps_of(&r, "a:build"), "b:build");
	assert_int_equal(task_of(&r, "b:build")->nrdeps, 1);
	assert_int_equal(task_of(&r, "b:build")->priority, 1);
	run_release(&r);
	assert_int_equal(run_graph(&r, shard_spec, "a,b,c,d", "build", NULL, NULL, 0), 0);
	int only_b[8] = {1, 1, 1, 1, 1, 1, 1, 1};
	only_b[task_graph_find(r.tg, "b:build")] = 0;
	task_graph_keep_shard(r.tg, only_b, 0);
	assert_int_equal(r.tg->ntasks, 1); /* dependents are not pulled in */
	assert_true(task_of(&r, "b:build")->requested);
	assert_int_equal(task_of(&r, "b:build")->nrdeps, 0);
	run_release(&r);
}

static void shard_spec_is_parsed_strictly(void **state)
{
	int i = 0, n = 0;
	struct bld_err err;
	assert_int_equal(task_graph_parse_shard("2/4", &i, &n, &err), 0);
	assert_int_equal(i, 2);
	assert_int_equal(n, 4);
	const char *bad[] = {"0/4", "5/4", "4", "1/0", "/4", "1/", "x/y", "1/4 ", "-1/2", "1/1001"};
	for (size_t k = 0; k < sizeof(bad) / sizeof(*bad); k++)
		assert_int_equal(task_graph_parse_shard(bad[k], &i, &n, &err), BLD_EUSAGE);
}

/* A request of projects x targets (comma lists), with overrides (JSON text) or NULL. */
static void request_of(struct tg_request *rq, const char *projects, const char *targets,
                       const char *cfg, const char *overrides)
{
	tg_request_init(rq);
	strvec_split(&rq->projects, projects, ",");
	strvec_split(&rq->targets, targets, ",");
	rq->configuration = cfg;
	rq->overrides = overrides ? cJSON_Parse(overrides) : NULL;
}

static void request_done(struct tg_request *rq)
{
	cJSON_Delete(rq->overrides);
	tg_request_release(rq);
}

/* Build through memo m; the graph (a share) in *ret. */
static void memo_build(struct tg_memo *m, struct workspace *ws, const char *projects,
                       const char *targets, const char *cfg, const char *overrides,
                       struct task_graph **ret)
{
	struct tg_request rq;
	request_of(&rq, projects, targets, cfg, overrides);
	struct bld_err err = {0};
	assert_int_equal(tg_memo_build(m, ws, &rq, ret, &err), 0);
	request_done(&rq);
}

static void memo_shares_the_graph_of_the_same_request(void **state)
{
	struct fixture fx = {0};
	struct workspace *ws = fx_load(&fx, FORWARD_SPEC);
	struct tg_memo *m = tg_memo_new(ws, 4);
	struct task_graph *g1, *g2;
	memo_build(m, ws, "a", "build", NULL, "{\"foo\": \"bar\"}", &g1);
	memo_build(m, ws, "a", "build", NULL, "{\"foo\": \"bar\"}", &g2);
	assert_int_equal(tg_memo_count(m), 1);
	assert_int_equal(tg_memo_hits(m), 1);
	assert_ptr_not_equal(g1, g2);
	assert_ptr_not_equal(g1->tasks, g2->tasks); /* each request its own task array */
	int i = task_graph_find(g2, "b:pack");
	assert_true(i >= 0);
	assert_ptr_equal(g1->tasks[i].options, g2->tasks[i].options); /* expanded once */
	assert_string_equal(cJSON_GetObjectItem(g2->tasks[i].options, "foo")->valuestring, "bar");
	/* a request's hash is its own */
	strcpy(g1->tasks[i].hash, "0123");
	assert_string_equal(g2->tasks[i].hash, "");
	/* the memo may go first: the shares keep their graph */
	tg_memo_free(m);
	assert_string_equal(g1->tasks[task_graph_find(g1, "a:build")].id, "a:build");
	task_graph_free(g1);
	assert_int_equal(g2->tasks[task_graph_find(g2, "b:gen")].ndeps, 0);
	task_graph_free(g2);
	fx_release(&fx);
}

static void memo_keys_every_part_of_the_request(void **state)
{
	struct fixture fx = {0};
	struct workspace *ws = fx_load(&fx, FORWARD_SPEC);
	struct tg_memo *m = tg_memo_new(ws, 8);
	struct task_graph *g[6];
	memo_build(m, ws, "a", "build", NULL, NULL, &g[0]);
	memo_build(m, ws, "a", "build", NULL, "{\"foo\": \"bar\"}", &g[1]);
	memo_build(m, ws, "a", "build", NULL, "{\"foo\": \"baz\"}", &g[2]);
	memo_build(m, ws, "b", "pack,lint", NULL, NULL, &g[3]);
	memo_build(m, ws, "b", "pack", NULL, NULL, &g[4]);
	memo_build(m, ws, "b", "pack", "prod", NULL, &g[5]);
	assert_int_equal(tg_memo_count(m), 6);
	assert_int_equal(tg_memo_hits(m), 0);
	assert_null(cJSON_GetObjectItem(g[0]->tasks[task_graph_find(g[0], "b:pack")].options,
	                                "foo"));
	assert_string_equal(
	    cJSON_GetObjectItem(g[2]->tasks[task_graph_find(g[2], "b:pack")].options, "foo")
	        ->valuestring,
	    "baz");
	assert_int_equal(g[3]->ntasks, 2);
	assert_int_equal(g[4]->ntasks, 1);
	for (size_t i = 0; i < 6; i++)
		task_graph_free(g[i]);
	tg_memo_free(m);
	fx_release(&fx);
}

static void memo_drops_the_least_recently_used(void **state)
{
	struct fixture fx = {0};
	struct workspace *ws = fx_load(&fx, FORWARD_SPEC);
	struct tg_memo *m = tg_memo_new(ws, 2);
	struct task_graph *g;
	const char *targets[] = {"pack", "lint", "pack", "gen", "pack", "lint"};
	for (size_t i = 0; i < 6; i++) {
		memo_build(m, ws, "b", targets[i], NULL, NULL, &g);
		task_graph_free(g);
	}
	/* pack (kept), lint, pack (hit), gen (lint goes), pack (hit), lint (gen goes) */
	assert_int_equal(tg_memo_count(m), 2);
	assert_int_equal(tg_memo_hits(m), 2);
	tg_memo_free(m);
	fx_release(&fx);
}

/* A workspace of 300 projects with a chain of builds: the memo holds at most
 * 2 x 300 + 256 = 856 tasks. */
static void memo_holds_a_bounded_number_of_tasks(void **state)
{
	struct sbuf spec = SBUF_INIT;
	sbuf_init(&spec);
	sbuf_adds(&spec, "{");
	for (int i = 0; i < 300; i++)
		sbuf_addf(&spec, "%s'p%03d/project.json': {'name': 'p%03d', 'targets': "
		          "{'build': {'command': 'x'}, 'test': {'command': 'x'}, "
		          "'lint': {'command': 'x'}}}",
		          i ? ", " : "", i, i);
	sbuf_adds(&spec, "}");
	struct fixture fx = {0};
	struct workspace *ws = fx_load(&fx, spec.buf);
	sbuf_release(&spec);
	struct sbuf all = SBUF_INIT;
	sbuf_init(&all);
	for (int i = 0; i < 300; i++)
		sbuf_addf(&all, "%sp%03d", i ? "," : "", i);
	struct tg_memo *m = tg_memo_new(ws, 8);
	struct task_graph *g;
	const char *targets[] = {"build", "test", "lint", "build"};
	for (size_t i = 0; i < 4; i++) { /* 300 tasks each */
		memo_build(m, ws, all.buf, targets[i], NULL, NULL, &g);
		assert_int_equal(g->ntasks, 300);
		task_graph_free(g);
	}
	/* build, test, lint (856 < 900: build goes), build again (test goes) */
	assert_int_equal(tg_memo_count(m), 2);
	assert_int_equal(tg_memo_hits(m), 0);
	memo_build(m, ws, "p001", "build", NULL, NULL, &g); /* small ones still fit */
	task_graph_free(g);
	assert_int_equal(tg_memo_count(m), 3);
	tg_memo_free(m);
	sbuf_release(&all);
	fx_release(&fx);
}

static void memo_keeps_no_failure(void **state)
{
	struct fixture fx = {0};
	struct workspace *ws = fx_load(&fx, FORWARD_SPEC);
	struct tg_memo *m = tg_memo_new(ws, 2);
	struct tg_request rq;
	request_of(&rq, "a", "nope", NULL, NULL);
	struct task_graph *g = NULL;
	struct bld_err err = {0};
	assert_int_equal(tg_memo_build(m, ws, &rq, &g, &err), BLD_ENOTARGET);
	assert_int_equal(tg_memo_build(m, ws, &rq, &g, &err), BLD_ENOTARGET);
	assert_null(g);
	assert_int_equal(tg_memo_count(m), 0);
	request_done(&rq);
	tg_memo_free(m);
	fx_release(&fx);
}

static int attached_frees;

static void count_free(void *data)
{
	attached_frees++;
	free(data);
}

static void attached_data_is_kept_with_the_shared_graph(void **state)
{
	struct fixture fx = {0};
	struct workspace *ws = fx_load(&fx, FORWARD_SPEC);
	struct tg_memo *m = tg_memo_new(ws, 2);
	struct task_graph *g1, *g2;
	memo_build(m, ws, "a", "build", NULL, NULL, &g1);
	assert_null(task_graph_attached(g1));
	attached_frees = 0;
	char *mine = xstrdup("plans");
	assert_ptr_equal(task_graph_attach(g1, mine, count_free), mine);
	memo_build(m, ws, "a", "build", NULL, NULL, &g2);
	assert_ptr_equal(task_graph_attached(g2), mine); /* another request finds it */
	char *late = xstrdup("late");
	assert_ptr_equal(task_graph_attach(g2, late, count_free), mine); /* the first stays */
	assert_int_equal(attached_frees, 1);                            /* late is gone */
	task_graph_free(g1);
	tg_memo_free(m);
	assert_int_equal(attached_frees, 1); /* g2 still holds the graph */
	task_graph_free(g2);
	assert_int_equal(attached_frees, 2);
	fx_release(&fx);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(caret_chain_runs_in_order),
	    cmocka_unit_test(caret_looks_through_project_lacking_target),
	    cmocka_unit_test(project_target_and_object_forms),
	    cmocka_unit_test(projects_by_tag_and_negation),
	    cmocka_unit_test(glob_target_and_missing_targets),
	    cmocka_unit_test(dependson_pattern_matching_nothing_is_a_note),
	    cmocka_unit_test(malformed_dependson_names_the_file),
	    cmocka_unit_test(params_forward_passes_overrides),
	    cmocka_unit_test(task_reached_twice_keeps_depth_first_overrides),
	    cmocka_unit_test(configuration_carried_to_dependencies),
	    cmocka_unit_test(default_configuration_is_not_carried),
	    cmocka_unit_test(unknown_configuration_falls_back_to_default),
	    cmocka_unit_test(options_merge_configuration_then_overrides),
	    cmocka_unit_test(workspace_root_token_only_at_start),
	    cmocka_unit_test(cycle_reports_whole_path),
	    cmocka_unit_test(shard_balances_by_recorded_durations),
	    cmocka_unit_test(shard_keeps_its_tasks_and_their_dependencies),
	    cmocka_unit_test(shard_spec_is_parsed_strictly),
	    cmocka_unit_test(cycle_below_requested_task_shows_the_way_in),
	    cmocka_unit_test(caret_cycle_in_project_graph_is_an_error),
	    cmocka_unit_test(self_dependency_is_ignored),
	    cmocka_unit_test(continuous_and_cache_flags),
	    cmocka_unit_test(unknown_project_suggests_names),
	    cmocka_unit_test(unknown_target_suggests_names),
	    cmocka_unit_test(exclude_task_deps_keeps_only_requested),
	    cmocka_unit_test(skip_missing_skips_projects_without_target),
	    cmocka_unit_test(memo_shares_the_graph_of_the_same_request),
	    cmocka_unit_test(memo_keys_every_part_of_the_request),
	    cmocka_unit_test(memo_drops_the_least_recently_used),
	    cmocka_unit_test(memo_keeps_no_failure),
	    cmocka_unit_test(memo_holds_a_bounded_number_of_tasks),
	    cmocka_unit_test(attached_data_is_kept_with_the_shared_graph),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
