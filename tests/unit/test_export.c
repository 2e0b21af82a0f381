/* test_export.c - `bld graph --file`: JSON shaped like `nx graph --file`,
 * DOT, and a self-contained HTML page. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "bld/taskgraph.h"
#include "tg_fixture.h"

#define SPEC                                                                                       \
	"{'nx.json': {'targetDefaults': {'build': {'dependsOn': ['^build']}}},"                    \
	" 'apps/a/project.json': {'name': 'a', 'projectType': 'application',"                      \
	"   'implicitDependencies': ['b'], 'targets': {'build': {'command': 'x'},"                 \
	"   'e2e': {'command': 'x', 'dependsOn': ['serve']},"                                      \
	"   'serve': {'command': 'x', 'continuous': true}}},"                                      \
	" 'libs/b/project.json': {'name': 'b', 'implicitDependencies': ['c'],"                     \
	"   'targets': {'build': {'command': 'x', 'cache': true}}},"                               \
	" 'libs/c/project.json': {'name': 'c', 'tags': ['t<&>'], 'targets': {'build': "            \
	"{'command': 'x'}}}}"

struct ctx {
	struct fixture fx;
	struct task_graph *tg;
	struct sbuf out;
};

static int setup(void **state)
{
	struct ctx *c = xcalloc(1, sizeof(*c));
	fx_load(&c->fx, SPEC);
	struct tg_request rq;
	tg_request_init(&rq);
	strvec_push(&rq.projects, "a");
	strvec_push(&rq.targets, "build");
	strvec_push(&rq.targets, "e2e");
	struct bld_err err = {0};
	if (task_graph_build(c->fx.ws, &rq, &c->tg, &err) < 0)
		fail_msg("task_graph_build: %s", err.msg);
	tg_request_release(&rq);
	sbuf_init(&c->out);
	*state = c;
	return 0;
}

static int teardown(void **state)
{
	struct ctx *c = *state;
	sbuf_release(&c->out);
	task_graph_free(c->tg);
	fx_release(&c->fx);
	free(c);
	return 0;
}

static cJSON *export_json(struct ctx *c, bool with_tasks)
{
	sbuf_reset(&c->out);
	graph_export(c->fx.ws, with_tasks ? c->tg : NULL, GRAPH_JSON, &c->out);
	cJSON *j = cJSON_Parse(c->out.buf);
	assert_non_null(j);
	return j;
}

static void json_has_nx_graph_shape(void **state)
{
	struct ctx *c = *state;
	cJSON *j = export_json(c, false);
	assert_null(cJSON_GetObjectItem(j, "tasks"));
	cJSON *nodes = cJSON_GetObjectItem(cJSON_GetObjectItem(j, "graph"), "nodes");
	cJSON *a = cJSON_GetObjectItem(nodes, "a");
	assert_string_equal(cJSON_GetObjectItem(a, "name")->valuestring, "a");
	assert_string_equal(cJSON_GetObjectItem(a, "type")->valuestring, "app");
	assert_string_equal(
	    cJSON_GetObjectItem(cJSON_GetObjectItem(nodes, "b"), "type")->valuestring, "lib");
	cJSON *data = cJSON_GetObjectItem(a, "data");
	assert_non_null(cJSON_GetObjectItem(cJSON_GetObjectItem(data, "targets"), "build"));
	cJSON *deps = cJSON_GetObjectItem(cJSON_GetObjectItem(j, "graph"), "dependencies");
	cJSON *e = cJSON_GetArrayItem(cJSON_GetObjectItem(deps, "a"), 0);
	assert_string_equal(cJSON_GetObjectItem(e, "source")->valuestring, "a");
	assert_string_equal(cJSON_GetObjectItem(e, "target")->valuestring, "b");
	assert_string_equal(cJSON_GetObjectItem(e, "type")->valuestring, "implicit");
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(deps, "c")), 0);
	cJSON_Delete(j);
}

static void json_with_tasks_splits_continuous(void **state)
{
	struct ctx *c = *state;
	cJSON *j = export_json(c, true);
	cJSON *t = cJSON_GetObjectItem(j, "tasks");
	cJSON *ab = cJSON_GetObjectItem(cJSON_GetObjectItem(t, "tasks"), "a:build");
	assert_string_equal(cJSON_GetObjectItem(ab, "projectRoot")->valuestring, "apps/a");
	cJSON *tgt = cJSON_GetObjectItem(ab, "target");
	assert_string_equal(cJSON_GetObjectItem(tgt, "project")->valuestring, "a");
	assert_string_equal(cJSON_GetObjectItem(tgt, "target")->valuestring, "build");
	cJSON *deps = cJSON_GetObjectItem(t, "dependencies");
	assert_string_equal(
	    cJSON_GetArrayItem(cJSON_GetObjectItem(deps, "a:build"), 0)->valuestring, "b:build");
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(deps, "a:e2e")), 0);
	cJSON *cdeps = cJSON_GetObjectItem(t, "continuousDependencies");
	assert_string_equal(cJSON_GetArrayItem(cJSON_GetObjectItem(cdeps, "a:e2e"), 0)->valuestring,
	                    "a:serve");
	cJSON *roots = cJSON_GetObjectItem(t, "roots");
	assert_int_equal(cJSON_GetArraySize(roots), 2); /* c:build and a:serve */
	cJSON_Delete(j);
}

static void dot_is_a_digraph_with_edges(void **state)
{
	struct ctx *c = *state;
	sbuf_reset(&c->out);
	graph_export(c->fx.ws, c->tg, GRAPH_DOT, &c->out);
	assert_true(str_starts(c->out.buf, "digraph bld {\n"));
	assert_true(str_ends(c->out.buf, "}\n"));
	assert_non_null(strstr(c->out.buf, "\t\"a\" -> \"b\" [style=dashed];\n"));
	assert_non_null(strstr(c->out.buf, "\t\"task a:build\" -> \"task b:build\";\n"));
	int open = 0, close = 0;
	for (const char *p = c->out.buf; *p; p++) {
		open += (*p == '{');
		close += (*p == '}');
	}
	assert_int_equal(open, close);
}

static void html_is_self_contained(void **state)
{
	struct ctx *c = *state;
	sbuf_reset(&c->out);
	graph_export(c->fx.ws, c->tg, GRAPH_HTML, &c->out);
	const char *h = c->out.buf;
	assert_true(str_starts(h, "<!DOCTYPE html>"));
	assert_true(str_ends(h, "</html>\n"));
	assert_non_null(strstr(h, "<svg"));
	assert_non_null(strstr(h, "data-name=\"a\""));
	assert_non_null(strstr(h, "<td><b>a:build</b></td>"));
	assert_non_null(strstr(h, "t&lt;&amp;&gt;")); /* tags escaped */
	assert_null(strstr(h, "t<&>"));
	/* nothing fetched: the SVG namespace is the only URL */
	for (const char *p = strstr(h, "http"); p; p = strstr(p + 1, "http"))
		assert_true(str_starts(p, "http://www.w3.org/2000/svg"));
	assert_null(strstr(h, "<link"));
	assert_null(strstr(h, "src="));
	assert_null(strstr(h, "@import"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(json_has_nx_graph_shape),
	    cmocka_unit_test(json_with_tasks_splits_continuous),
	    cmocka_unit_test(dot_is_a_digraph_with_edges),
	    cmocka_unit_test(html_is_self_contained),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
