/* test_select.c - -p / --exclude project patterns, with the selections real
 * Nx 22 (`nx show projects -p ...`) printed for the same workspace (the glob
 * matcher behind them is tested in test_pattern.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "bld/taskgraph.h"
#include "../../graph/tg_int.h"
#include "tg_fixture.h"

#define SPEC                                                                                       \
	"{'apps/web/project.json': {'name': 'web', 'tags': ['type:app', 'scope:shop']},"           \
	" 'apps/admin/project.json': {'name': 'admin', 'tags': ['type:app']},"                     \
	" 'libs/ui/project.json': {'name': 'ui', 'tags': ['scope:shop']},"                         \
	" 'libs/ui-kit/project.json': {'name': 'ui-kit'},"                                         \
	" 'libs/nested/deep/project.json': {'name': 'deep'},"                                      \
	" 'libs/other/project.json': {'name': '@scope/other'}}"

static int setup(void **state)
{
	struct fixture *fx = xcalloc(1, sizeof(*fx));
	fx_load(fx, SPEC);
	*state = fx;
	return 0;
}

static int teardown(void **state)
{
	fx_release(*state);
	free(*state);
	return 0;
}

/* Select with comma-separated patterns and excludes; the names joined by ' '. */
static const char *sel(void **state, const char *patterns, const char *excludes)
{
	static char buf[512];
	struct fixture *fx = *state;
	struct strvec p, e, out;
	strvec_init(&p);
	strvec_init(&e);
	strvec_init(&out);
	strvec_split(&p, patterns, ",");
	strvec_split(&e, excludes, ",");
	struct bld_err err = {0};
	assert_int_equal(ws_select_projects(fx->ws, &p, &e, &out, &err), 0);
	buf[0] = '\0';
	for (size_t i = 0; i < out.n; i++) {
		strcat(buf, i ? " " : "");
		strcat(buf, out.v[i]);
	}
	strvec_release(&p);
	strvec_release(&e);
	strvec_release(&out);
	return buf;
}

static void empty_patterns_select_everything(void **state)
{
	assert_string_equal(sel(state, "", ""), "@scope/other admin deep ui ui-kit web");
}

static void exact_names_and_name_globs(void **state)
{
	assert_string_equal(sel(state, "web", ""), "web");
	assert_string_equal(sel(state, "ui*", ""), "ui ui-kit");
	assert_string_equal(sel(state, "*-kit", ""), "ui-kit");
	assert_string_equal(sel(state, "@scope/*", ""), "@scope/other");
	assert_string_equal(sel(state, "**", ""), "@scope/other admin deep ui ui-kit web");
}

static void plain_name_matches_whole_words_any_case(void **state)
{
	/* Nx: "other" selects "@scope/other", "WEB" selects "web", "ui" not "ui-kit" */
	assert_string_equal(sel(state, "other", ""), "@scope/other");
	assert_string_equal(sel(state, "WEB", ""), "web");
	assert_string_equal(sel(state, "ui?kit", ""), "");
}

static void directory_globs_over_roots(void **state)
{
	assert_string_equal(sel(state, "apps/*", ""), "admin web");
	assert_string_equal(sel(state, "libs/*", ""), "@scope/other ui ui-kit");
	assert_string_equal(sel(state, "libs/**", ""), "@scope/other deep ui ui-kit");
	assert_string_equal(sel(state, "libs/nested/deep", ""), "deep");
	assert_string_equal(sel(state, "libs", ""), "");
}

static void tags_exact_and_globbed(void **state)
{
	assert_string_equal(sel(state, "tag:scope:shop", ""), "ui web");
	assert_string_equal(sel(state, "tag:type:*", ""), "admin web");
	assert_string_equal(sel(state, "tag:*shop", ""), "ui web");
	assert_string_equal(sel(state, "tag:nope", ""), "");
}

static void negation_in_order(void **state)
{
	assert_string_equal(sel(state, "!web", ""), "@scope/other admin deep ui ui-kit");
	assert_string_equal(sel(state, "ui*,!ui-kit", ""), "ui");
	assert_string_equal(sel(state, "*,!tag:type:app", ""), "@scope/other deep ui ui-kit");
	assert_string_equal(sel(state, "!nope", ""), "@scope/other admin deep ui ui-kit web");
}

static void exclude_after_selection(void **state)
{
	assert_string_equal(sel(state, "", "web"), "@scope/other admin deep ui ui-kit");
	assert_string_equal(sel(state, "tag:type:app", "admin"), "web");
	assert_string_equal(sel(state, "", "libs/**,nope"), "admin web");
}

static void unmatched_pattern_is_not_an_error(void **state)
{
	assert_string_equal(sel(state, "nope", ""), "");
	assert_string_equal(sel(state, "web,nope", ""), "web");
}

/* Nx's order of matches (its Set of names), as implicitDependencies show it. */
static void match_order_is_nx_set_order(void **state)
{
	struct fixture *fx = *state;
	const struct workspace *ws = fx->ws;
	const char *pats[] = {"ui-kit", "tag:type:app", "ui-kit"};
	bool *sel = xcalloc(ws->nprojects + 1, sizeof(*sel));
	int *order = xcalloc(ws->nprojects + 1, sizeof(*order));
	size_t n = workspace_match_projects(ws, pats, 3, sel, order);
	assert_int_equal(n, 3);
	assert_string_equal(ws->projects[order[0]].name, "ui-kit");
	assert_string_equal(ws->projects[order[1]].name, "admin");
	assert_string_equal(ws->projects[order[2]].name, "web");
	const char *none[] = {"", "nx-cloud:x"};
	assert_int_equal(workspace_match_projects(ws, none, 2, sel, order), 0);
	free(sel);
	free(order);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(empty_patterns_select_everything),
	    cmocka_unit_test(exact_names_and_name_globs),
	    cmocka_unit_test(plain_name_matches_whole_words_any_case),
	    cmocka_unit_test(directory_globs_over_roots),
	    cmocka_unit_test(tags_exact_and_globbed),
	    cmocka_unit_test(negation_in_order),
	    cmocka_unit_test(exclude_after_selection),
	    cmocka_unit_test(unmatched_pattern_is_not_an_error),
	    cmocka_unit_test(match_order_is_nx_set_order),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
