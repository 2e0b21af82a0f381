/* test_pmworkspace.c - the package manager's workspace (graph/pmworkspace.c): Nx's
 * normalisation of the patterns, the shapes of package.json "workspaces",
 * pnpm-workspace.yaml and lerna.json, their errors, matching (no '.' folders under
 * stars) and the package manager's detection.  The files are given through a
 * workspace view (graph/view.c), so nothing touches the disk. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "bld/base.h"
#include "../../graph/ws_int.h"

struct fx {
	struct workspace ws;
	struct ws_view view;
	struct ws_pm pm;
	struct bld_err err;
};

static struct fx *fx_new(void)
{
	struct fx *f = xcalloc(1, sizeof(*f));
	strvec_init(&f->ws.files);
	ws_view_init(&f->view);
	ws__pm_init(&f->pm);
	bld_err_clear(&f->err);
	return f;
}

static void fx_free(struct fx *f)
{
	ws__pm_release(&f->pm);
	ws_view_release(&f->view);
	strvec_release(&f->ws.files);
	cJSON_Delete(f->ws.nx_json);
	free(f);
}

/* A workspace file with these contents. */
static void put(struct fx *f, const char *rel, const char *text)
{
	ws_view_put(&f->view, rel, xstrdup(text), strlen(text), false);
	strvec_push(&f->ws.files, rel);
}

static int read_pm(struct fx *f)
{
	strvec_sort(&f->ws.files);
	struct ws_src src = {.root_fd = -1, .view = &f->view};
	return ws__pm_read(&f->pm, &f->ws, &src, &f->err);
}

static void assert_list(const struct strvec *v, const char *const *want, size_t n)
{
	assert_int_equal(v->n, n);
	for (size_t i = 0; i < n; i++)
		assert_string_equal(v->v[i], want[i]);
}

static void npm_patterns_are_normalised_as_nx_does(void **state)
{
	struct fx *f = fx_new();
	put(f, "package.json",
	    "{\"name\": \"root\", \"workspaces\": [\"packages/*\", \"./apps/web/\", "
	    "\"tools/x/package.json\", \"!packages/skip\", \"libs/**\"]}");
	assert_int_equal(read_pm(f), 0);
	const char *inc[] = {"packages/*/package.json", "apps/web/package.json",
	                     "tools/x/package.json", "libs/**/package.json"};
	const char *exc[] = {"packages/skip/package.json"};
	assert_list(&f->pm.include, inc, 4);
	assert_list(&f->pm.exclude, exc, 1);
	assert_false(f->pm.root_project);
	assert_true(ws__pm_matches(&f->pm, "packages/a/package.json"));
	assert_true(ws__pm_matches(&f->pm, "apps/web/package.json"));
	assert_true(ws__pm_matches(&f->pm, "libs/a/b/c/package.json"));
	assert_false(ws__pm_matches(&f->pm, "packages/skip/package.json"));
	assert_false(ws__pm_matches(&f->pm, "packages/a/b/package.json"));
	assert_false(ws__pm_matches(&f->pm, "apps/other/package.json"));
	assert_false(ws__pm_matches(&f->pm, "package.json"));
	fx_free(f);
}

static void yarn_object_form_reads_packages_only(void **state)
{
	struct fx *f = fx_new();
	put(f, "package.json",
	    "{\"workspaces\": {\"packages\": [\"packages/*/*\"], \"nohoist\": [\"**/react\"]}}");
	assert_int_equal(read_pm(f), 0);
	const char *inc[] = {"packages/*/*/package.json"};
	assert_list(&f->pm.include, inc, 1);
	assert_int_equal(f->pm.exclude.n, 0);
	assert_true(ws__pm_matches(&f->pm, "packages/team/a/package.json"));
	assert_false(ws__pm_matches(&f->pm, "packages/a/package.json"));
	fx_free(f);
}

static void negations_alone_mean_all_but(void **state)
{
	struct fx *f = fx_new();
	put(f, "package.json", "{\"workspaces\": [\"!legacy/**\"]}");
	assert_int_equal(read_pm(f), 0);
	assert_true(ws__pm_matches(&f->pm, "x/package.json"));
	assert_true(ws__pm_matches(&f->pm, "a/b/package.json"));
	assert_false(ws__pm_matches(&f->pm, "legacy/a/package.json"));
	fx_free(f);
}

static void an_nx_key_makes_the_root_a_project(void **state)
{
	struct fx *f = fx_new();
	put(f, "package.json", "{\"name\": \"r\", \"nx\": {}, \"workspaces\": [\"a/*\"]}");
	assert_int_equal(read_pm(f), 0);
	assert_true(f->pm.root_project);
	assert_true(ws__pm_matches(&f->pm, "package.json"));
	assert_true(ws__pm_matches(&f->pm, "a/b/package.json"));
	fx_free(f);
}

static void stars_do_not_enter_dot_folders(void **state)
{
	struct fx *f = fx_new();
	put(f, "package.json", "{\"workspaces\": [\"packages/**\", \".config/*\"]}");
	assert_int_equal(read_pm(f), 0);
	assert_false(ws__pm_matches(&f->pm, "packages/.cache/x/package.json"));
	assert_false(ws__pm_matches(&f->pm, "packages/a/.x/package.json"));
	assert_true(ws__pm_matches(&f->pm, "packages/a/x/package.json"));
	assert_true(ws__pm_matches(&f->pm, ".config/tool/package.json")); /* spelled out */
	fx_free(f);
}

static void pnpm_yaml_shapes(void **state)
{
	static const struct {
		const char *yaml;
		size_t ninc, nexc;
	} cases[] = {
	    {"packages:\n  - 'packages/*'\n  - \"apps/**\"\n  - '!**/fixtures/**'\n", 2, 1},
	    {"packages: [packages/*, 'tools/*']\n", 2, 0},
	    {"packages:\n", 0, 0},
	    {"", 0, 0},
	    {"# only a comment\n", 0, 0},
	    {"catalog:\n  react: ^18\npackages:\n  - libs/*\n", 1, 0},
	};
	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		struct fx *f = fx_new();
		put(f, "pnpm-workspace.yaml", cases[i].yaml);
		assert_int_equal(read_pm(f), 0);
		assert_int_equal(f->pm.include.n, cases[i].ninc + (cases[i].nexc && !cases[i].ninc));
		assert_int_equal(f->pm.exclude.n, cases[i].nexc);
		fx_free(f);
	}
	struct fx *f = fx_new();
	put(f, "pnpm-workspace.yaml", "packages:\n  - 'packages/*'\n  - '!**/fixtures/**'\n");
	assert_int_equal(read_pm(f), 0);
	assert_true(ws__pm_matches(&f->pm, "packages/a/package.json"));
	assert_false(ws__pm_matches(&f->pm, "packages/fixtures/package.json"));
	fx_free(f);
}

/* The error of one pnpm-workspace.yaml text: its code, line and a word of its message. */
static void pnpm_error(const char *yaml, int code, int line, const char *word)
{
	struct fx *f = fx_new();
	put(f, "pnpm-workspace.yaml", yaml);
	assert_int_equal(read_pm(f), code);
	assert_string_equal(f->err.file, "pnpm-workspace.yaml");
	assert_int_equal(f->err.line, line);
	if (!strstr(f->err.msg, word))
		fail_msg("\"%s\" lacks \"%s\"", f->err.msg, word);
	fx_free(f);
}

static void pnpm_yaml_errors_name_line_and_column(void **state)
{
	pnpm_error("- packages/*\n", BLD_EPARSE, 1, "mapping");
	pnpm_error("packages:\n  a: b\n", BLD_EPARSE, 2, "list of glob strings");
	pnpm_error("packages:\n  - [a, b]\n", BLD_EPARSE, 2, "glob string");
	pnpm_error("packages:\n  - a\n - b\n", BLD_EPARSE, 3, "malformed YAML");
	pnpm_error("packages: [a, b\n", BLD_EPARSE, 2, "malformed YAML");
}

static void lerna_packages_and_its_default(void **state)
{
	struct fx *f = fx_new();
	put(f, "lerna.json", "{\"version\": \"1.0.0\"}");
	assert_int_equal(read_pm(f), 0);
	const char *def[] = {"packages/*/package.json"};
	assert_list(&f->pm.include, def, 1);
	fx_free(f);
	f = fx_new();
	put(f, "lerna.json", "{\"packages\": [\"modules/*\"]}");
	assert_int_equal(read_pm(f), 0);
	const char *own[] = {"modules/*/package.json"};
	assert_list(&f->pm.include, own, 1);
	fx_free(f);
}

static void every_source_counts_together(void **state)
{
	struct fx *f = fx_new();
	put(f, "package.json", "{\"workspaces\": [\"a/*\"]}");
	put(f, "pnpm-workspace.yaml", "packages:\n  - b/*\n");
	put(f, "lerna.json", "{\"packages\": [\"c/*\"]}");
	assert_int_equal(read_pm(f), 0);
	const char *inc[] = {"a/*/package.json", "b/*/package.json", "c/*/package.json"};
	assert_list(&f->pm.include, inc, 3);
	fx_free(f);
}

static void wrong_json_shapes_are_errors_with_a_place(void **state)
{
	static const char *const bad[] = {
	    "{\n  \"workspaces\": 3\n}",
	    "{\n  \"workspaces\": [\"a/*\", 4]\n}",
	    "{\n  \"workspaces\": {\"packages\": \"a/*\"}\n}",
	};
	for (size_t i = 0; i < ARRAY_LEN(bad); i++) {
		struct fx *f = fx_new();
		put(f, "package.json", bad[i]);
		assert_true(read_pm(f) < 0);
		assert_string_equal(f->err.file, "package.json");
		assert_int_equal(f->err.line, 2);
		fx_free(f);
	}
}

static void package_manager_detection(void **state)
{
	static const struct {
		const char *file, *cli, *want;
	} cases[] = {
	    {NULL, NULL, "npm"},
	    {"yarn.lock", NULL, "yarn"},
	    {"pnpm-lock.yaml", NULL, "pnpm"},
	    {"bun.lockb", NULL, "bun"},
	    {"yarn.lock", "pnpm", "pnpm"},     /* nx.json cli.packageManager first */
	    {"package-lock.json", NULL, "npm"},
	};
	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		struct fx *f = fx_new();
		if (cases[i].file)
			put(f, cases[i].file, "");
		strvec_sort(&f->ws.files);
		if (cases[i].cli) {
			f->ws.nx_json = cJSON_CreateObject();
			cJSON_AddStringToObject(cJSON_AddObjectToObject(f->ws.nx_json, "cli"),
			                        "packageManager", cases[i].cli);
		}
		assert_string_equal(ws__pm_detect(&f->ws), cases[i].want);
		fx_free(f);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(npm_patterns_are_normalised_as_nx_does),
	    cmocka_unit_test(yarn_object_form_reads_packages_only),
	    cmocka_unit_test(negations_alone_mean_all_but),
	    cmocka_unit_test(an_nx_key_makes_the_root_a_project),
	    cmocka_unit_test(stars_do_not_enter_dot_folders),
	    cmocka_unit_test(pnpm_yaml_shapes),
	    cmocka_unit_test(pnpm_yaml_errors_name_line_and_column),
	    cmocka_unit_test(lerna_packages_and_its_default),
	    cmocka_unit_test(every_source_counts_together),
	    cmocka_unit_test(wrong_json_shapes_are_errors_with_a_place),
	    cmocka_unit_test(package_manager_detection),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
