/* test_pyproject.c - the minimal pyproject.toml reader: real-shaped files
 * (uv workspace members, @aws/nx-plugin-style Python projects, poetry,
 * setuptools) and malformed ones, which must yield no dependency at all. */
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

struct parsed {
	struct ws_pyproject py;
	struct strvec notes;
};

static void parse(struct parsed *r, const char *text)
{
	ws__pyproject_init(&r->py);
	strvec_init(&r->notes);
	ws__pyproject_parse(text, strlen(text), "x/pyproject.toml", &r->py, &r->notes);
}

static void release(struct parsed *r)
{
	ws__pyproject_release(&r->py);
	strvec_release(&r->notes);
}

static bool noted(const struct parsed *r, const char *what)
{
	for (size_t i = 0; i < r->notes.n; i++)
		if (strstr(r->notes.v[i], what))
			return true;
	return false;
}

/* Shaped like the Python projects @aws/nx-plugin generates (uv, hatchling). */
static const char aws_style[] = "[project]\n"
                                "name = \"my_scope.my_api\"\n"
                                "version = \"1.0.0\"\n"
                                "description = \"\"\n"
                                "requires-python = \">=3.12\"\n"
                                "readme = 'README.md'\n"
                                "dependencies = [ \"my_scope.shared_lib\", \"fastapi==0.115.*\",\n"
                                "  \"mangum>=0.19\" ]\n"
                                "\n"
                                "[dependency-groups]\n"
                                "dev = []\n"
                                "\n"
                                "[tool.hatch.build.targets.wheel]\n"
                                "packages = [ \"my_scope_my_api\" ]\n"
                                "\n"
                                "[tool.hatch.metadata]\n"
                                "allow-direct-references = true\n"
                                "\n"
                                "[build-system]\n"
                                "requires = [ \"hatchling\" ]\n"
                                "build-backend = \"hatchling.build\"\n"
                                "\n"
                                "[tool.uv.sources]\n"
                                "\"my_scope.shared_lib\" = { workspace = true }\n";

static void aws_nx_plugin_style_project(void **state)
{
	struct parsed r;
	parse(&r, aws_style);
	assert_string_equal(r.py.name, "my-scope-my-api");
	assert_int_equal(r.py.deps.n, 3);
	assert_string_equal(r.py.deps.v[0], "my-scope-shared-lib");
	assert_string_equal(r.py.deps.v[1], "fastapi");
	assert_string_equal(r.py.deps.v[2], "mangum");
	assert_int_equal(r.py.uv_ws.n, 1);
	assert_string_equal(r.py.uv_ws.v[0], "my-scope-shared-lib");
	assert_int_equal(r.notes.n, 0);
	release(&r);
}

/* A uv workspace root and a member, as `uv init` writes them. */
static void uv_workspace_root_and_member(void **state)
{
	struct parsed r;
	parse(&r,
	      "[project]\nname = \"albatross\"\nversion = \"0.1.0\"\nrequires-python = "
	      "\">=3.12\"\ndependencies = [\"bird-feeder\", \"tqdm>=4,<5\"]\n\n"
	      "[tool.uv.sources]\nbird-feeder = { workspace = true }\n\n"
	      "[tool.uv.workspace]\nmembers = [\"packages/*\"]\nexclude = [\"packages/seeds\"]\n");
	assert_string_equal(r.py.name, "albatross");
	assert_int_equal(r.py.deps.n, 2);
	assert_string_equal(r.py.deps.v[0], "bird-feeder");
	assert_string_equal(r.py.uv_ws.v[0], "bird-feeder");
	release(&r);
	parse(&r,
	      "[project]\nname = \"bird-feeder\"\nversion = \"1.0.0\"\n"
	      "requires-python = \">=3.12\"\ndependencies = [\"anyio>=4.3.0\", \"seeds\"]\n\n"
	      "[tool.uv.sources]\nseeds = { path = \"../seeds\" }\n\n"
	      "[build-system]\nrequires = [\"hatchling\"]\nbuild-backend = \"hatchling.build\"\n");
	assert_string_equal(r.py.name, "bird-feeder");
	assert_int_equal(r.py.deps.n, 2);
	assert_int_equal(r.py.uv_ws.n, 0); /* a path source is not a workspace source */
	release(&r);
}

static void sources_as_subtables_and_dotted_keys(void **state)
{
	struct parsed r;
	parse(&r, "project.name = \"A_B\"\n[tool.uv.sources.lib-one]\nworkspace = true\n"
	          "[tool.uv.sources.lib-two]\nworkspace = false\n[tool.uv]\n"
	          "sources.Lib_Three = { workspace = true, editable = true }\n"
	          "sources.lib-four.workspace = true\n");
	assert_string_equal(r.py.name, "a-b");
	assert_int_equal(r.py.uv_ws.n, 3);
	assert_string_equal(r.py.uv_ws.v[0], "lib-one");
	assert_string_equal(r.py.uv_ws.v[1], "lib-three");
	assert_string_equal(r.py.uv_ws.v[2], "lib-four");
	release(&r);
}

static void strings_comments_and_other_values(void **state)
{
	struct parsed r;
	parse(&r, "# top comment\n[project] # trailing\nname = 'lit\\eral'\n"
	          "description = \"\"\"multi\nline \\\"quoted\\\" \\\n  text\"\"\"\n"
	          "license = '''raw\n'''\nversion = \"1.0\"\nclassifiers = []\n"
	          "dependencies = [\n  # first\n  \"a-b[x,y] >= 1 ; python_version < '3.10'\",\n"
	          "  'c @ https://example.com/c.whl',\n  \"D.E\", # trailing\n]\n"
	          "[tool.x]\nn = 1_000\nf = 3.14\nd = 1979-05-27 07:32:00Z\nb = false\n"
	          "inline = { a = [1, 2], b = { c = \"d\" } }\n[[tool.y]]\nname = \"ignored\"\n");
	assert_int_equal(r.notes.n, 0);
	assert_string_equal(r.py.name, "lit\\eral"); /* a literal string keeps its backslash */
	assert_int_equal(r.py.deps.n, 3);
	assert_string_equal(r.py.deps.v[0], "a-b");
	assert_string_equal(r.py.deps.v[1], "c");
	assert_string_equal(r.py.deps.v[2], "d-e");
	release(&r);
}

static void poetry_and_setuptools_files_give_no_wrong_dependencies(void **state)
{
	struct parsed r;
	parse(&r,
	      "[tool.poetry]\nname = \"svc\"\nversion = \"0.1.0\"\n\n"
	      "[tool.poetry.dependencies]\npython = \"^3.11\"\nshared = { path = \"../shared\", "
	      "develop = true }\n\n[build-system]\nrequires = [\"poetry-core\"]\n");
	assert_null(r.py.name);
	assert_int_equal(r.py.deps.n, 0);
	assert_int_equal(r.py.uv_ws.n, 0);
	release(&r);
	parse(&r, "[build-system]\nrequires = [\"setuptools>=61\"]\n[project]\nname = \"x\"\n"
	          "dynamic = [\"dependencies\"]\n[tool.setuptools.dynamic]\n"
	          "dependencies = {file = [\"requirements.txt\"]}\n");
	assert_string_equal(r.py.name, "x");
	assert_int_equal(r.py.deps.n, 0);
	release(&r);
}

static void malformed_files_yield_nothing_and_a_note(void **state)
{
	static const char *const bad[] = {
	    "[project]\nname = \"x\"\ndependencies = [\"a\"\n",       /* unclosed array */
	    "[project]\nname = \"x\ndependencies = [\"a\"]\n",        /* unclosed string */
	    "[project\nname = \"x\"\ndependencies = [\"a\"]\n",       /* unclosed header */
	    "[project]\nname \"x\"\ndependencies = [\"a\"]\n",        /* no '=' */
	    "[project]\nname = \"x\" junk\ndependencies = [\"a\"]\n", /* text after value */
	    "[project]\ndependencies = [\"a\"]\nname = \"\\q\"\n",    /* bad escape */
	    "[project]\ndependencies = [\"a\" \"b\"]\n",              /* missing comma */
	    "[project]\ndependencies = [\"a\"]\n[tool.uv.sources]\nb = { workspace = true\n",
	};
	for (size_t i = 0; i < ARRAY_LEN(bad); i++) {
		struct parsed r;
		parse(&r, bad[i]);
		assert_null(r.py.name);
		assert_int_equal(r.py.deps.n, 0);
		assert_int_equal(r.py.uv_ws.n, 0);
		assert_true(noted(&r, "x/pyproject.toml:"));
		assert_true(noted(&r, "expected"));
		release(&r);
	}
}

static void unparseable_requirements_are_skipped_with_a_note(void **state)
{
	struct parsed r;
	parse(&r, "[project]\nname = \"x\"\ndependencies = [\"good\", \"-e ../local\", 3, "
	          "\"./path/pkg\"]\n");
	assert_int_equal(r.py.deps.n, 1);
	assert_string_equal(r.py.deps.v[0], "good");
	assert_true(noted(&r, "-e ../local"));
	assert_true(noted(&r, "not a string"));
	release(&r);
}

static void pep503_normalises(void **state)
{
	char *s = ws__pep503("My__Pkg.Name-", 13);
	assert_string_equal(s, "my-pkg-name");
	free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(aws_nx_plugin_style_project),
	    cmocka_unit_test(uv_workspace_root_and_member),
	    cmocka_unit_test(sources_as_subtables_and_dotted_keys),
	    cmocka_unit_test(strings_comments_and_other_values),
	    cmocka_unit_test(poetry_and_setuptools_files_give_no_wrong_dependencies),
	    cmocka_unit_test(malformed_files_yield_nothing_and_a_note),
	    cmocka_unit_test(unparseable_requirements_are_skipped_with_a_note),
	    cmocka_unit_test(pep503_normalises),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
