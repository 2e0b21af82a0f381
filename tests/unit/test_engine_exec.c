/* test_engine_exec.c - executors: nx:run-commands options -> command lines, as Nx 22 builds them.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "exec.h"

/* Plan executor with options (JSON text) and forwarded args (NULL-terminated). */
static const char *pkg_manager = "npm";

static int plan(struct exec_plan *p, struct bld_err *err, const char *executor, const char *json,
                ...)
{
	struct strvec fwd;
	strvec_init(&fwd);
	va_list ap;
	va_start(ap, json);
	for (const char *a; (a = va_arg(ap, const char *));)
		strvec_push(&fwd, a);
	va_end(ap);
	cJSON *opts = cJSON_Parse(json);
	assert_non_null(opts);
	exec_plan_init(p);
	bld_err_clear(err);
	int rc = exec_plan_build(executor, opts, &fwd, "/ws", "/ws/libs/a", pkg_manager, p, err);
	cJSON_Delete(opts);
	strvec_release(&fwd);
	return rc;
}

static void single_command_gets_forwarded_args_quoted(void **state)
{
	struct exec_plan p;
	struct bld_err err;
	assert_int_equal(plan(&p, &err, "nx:run-commands", "{\"command\":\"sh x.sh fixed\"}",
	                      "--foo", "bar", "--x=1", "two words", "--k=a b", "it's", NULL),
	                 0);
	assert_int_equal(p.kind, EXEC_COMMANDS);
	assert_int_equal(p.commands.n, 1);
	assert_string_equal(p.commands.v[0],
	                    "sh x.sh fixed --foo bar --x=1 'two words' --k='a b' 'it'\\''s'");
	assert_false(p.parallel);
	exec_plan_release(&p);
}

static void args_option_and_unknown_options_are_appended(void **state)
{
	struct exec_plan p;
	struct bld_err err;
	assert_int_equal(
	    plan(&p, &err, "nx:run-commands",
	         "{\"command\":\"echo\",\"args\":\"--a=1\",\"color\":true,\"mode\":\"x\"}", NULL),
	    0);
	assert_string_equal(p.commands.v[0], "echo --mode=x --a=1");
	exec_plan_release(&p);
}

static void args_placeholders_are_interpolated(void **state)
{
	struct exec_plan p;
	struct bld_err err;
	assert_int_equal(plan(&p, &err, "nx:run-commands", "{\"command\":\"echo {args.name}!\"}",
	                      "--name=bob", NULL),
	                 0);
	assert_string_equal(p.commands.v[0], "echo bob!");
	exec_plan_release(&p);
	assert_int_equal(
	    plan(&p, &err, "nx:run-commands", "{\"command\":\"echo {args.a} {args}\"}", NULL),
	    BLD_ESCHEMA);
	exec_plan_release(&p);
}

static void commands_default_to_parallel_and_respect_forward_all_args(void **state)
{
	struct exec_plan p;
	struct bld_err err;
	assert_int_equal(plan(&p, &err, "nx:run-commands",
	                      "{\"commands\":[\"echo one\",{\"command\":\"echo two\","
	                      "\"forwardAllArgs\":false}]}",
	                      "x", NULL),
	                 0);
	assert_true(p.parallel);
	assert_int_equal(p.commands.n, 2);
	assert_string_equal(p.commands.v[0], "echo one x");
	assert_string_equal(p.commands.v[1], "echo two");
	exec_plan_release(&p);
	assert_int_equal(plan(&p, &err, "nx:run-commands",
	                      "{\"commands\":[\"a\",\"b\"],\"parallel\":false}", NULL),
	                 0);
	assert_false(p.parallel);
	exec_plan_release(&p);
}

static void cwd_env_envfile_ready_when(void **state)
{
	struct exec_plan p;
	struct bld_err err;
	assert_int_equal(plan(&p, &err, "nx:run-commands",
	                      "{\"command\":\"serve\",\"cwd\":\"libs/a\",\"env\":{\"A\":\"1\"},"
	                      "\"envFile\":\"libs/a/.env.x\",\"readyWhen\":\"listening\"}",
	                      NULL),
	                 0);
	assert_string_equal(p.cwd, "/ws/libs/a");
	assert_string_equal(p.env_file, "/ws/libs/a/.env.x");
	assert_int_equal(p.env.n, 1);
	assert_string_equal(p.env.v[0], "A=1");
	assert_int_equal(p.ready_when.n, 1);
	assert_true(p.parallel); /* a single command with readyWhen runs "in parallel" */
	exec_plan_release(&p);
	assert_int_equal(plan(&p, &err, "nx:run-commands",
	                      "{\"commands\":[\"a\"],\"parallel\":false,\"readyWhen\":\"x\"}",
	                      NULL),
	                 BLD_ESCHEMA);
	exec_plan_release(&p);
}

static void unsupported_executor_is_named_with_the_list(void **state)
{
	struct exec_plan p;
	struct bld_err err;
	assert_int_equal(plan(&p, &err, "@nx/webpack:webpack", "{}", NULL), BLD_EEXECUTOR);
	assert_non_null(strstr(err.msg, "@nx/webpack:webpack"));
	assert_non_null(strstr(err.msg, "nx:run-commands"));
	assert_non_null(strstr(err.msg, "nx:noop"));
	exec_plan_release(&p);
	assert_false(exec_supported("@nx/webpack:webpack"));
	assert_true(exec_supported("@nxlv/python:run-commands"));
}

static void other_executors(void **state)
{
	struct exec_plan p;
	struct bld_err err;
	assert_int_equal(plan(&p, &err, "nx:noop", "{}", NULL), 0);
	assert_int_equal(p.kind, EXEC_NOOP);
	exec_plan_release(&p);
	assert_int_equal(
	    plan(&p, &err, "@nxlv/python:run-commands", "{\"command\":\"pytest\"}", NULL), 0);
	assert_string_equal(p.venv, "/ws/.venv");
	exec_plan_release(&p);
	assert_int_equal(plan(&p, &err, "nx:run-script", "{\"script\":\"build\"}", "-x", NULL), 0);
	assert_string_equal(p.commands.v[0], "npm run build -- -x");
	assert_string_equal(p.cwd, "/ws/libs/a");
	exec_plan_release(&p);
	assert_int_equal(plan(&p, &err, "bld:openapi-metadata",
	                      "{\"openApiSpecPath\":\"dist/o.json\",\"outputPath\":\"gen/m.ts\"}",
	                      NULL),
	                 0);
	assert_int_equal(p.kind, EXEC_OPENAPI);
	assert_string_equal(p.spec_path, "/ws/dist/o.json");
	assert_string_equal(p.output_path, "/ws/gen/m.ts");
	exec_plan_release(&p);
}

/* Nx's getPackageManagerCommand().run(): "--" for npm and bun only. */
static void run_script_uses_the_package_manager(void **state)
{
	static const char *const want[][3] = {
	    {"npm", "npm run build -- -x 'a b'", "npm run build"},
	    {"yarn", "yarn build -x 'a b'", "yarn build"},
	    {"pnpm", "pnpm run build -x 'a b'", "pnpm run build"},
	    {"bun", "bun run build -- -x 'a b'", "bun run build"},
	};
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
		struct exec_plan p;
		struct bld_err err;
		pkg_manager = want[i][0];
		assert_int_equal(
		    plan(&p, &err, "nx:run-script", "{\"script\":\"build\"}", "-x", "a b", NULL), 0);
		assert_string_equal(p.commands.v[0], want[i][1]);
		exec_plan_release(&p);
		assert_int_equal(plan(&p, &err, "nx:run-script", "{\"script\":\"build\"}", NULL), 0);
		assert_string_equal(p.commands.v[0], want[i][2]);
		exec_plan_release(&p);
	}
	pkg_manager = "npm";
}

/* The uv command of an @nxlv/python executor (no guard: the engine explains exit 127). */
static const char *uv_command(const struct exec_plan *p)
{
	assert_int_equal(p->commands.n, 1);
	return p->commands.v[0];
}

static void nxlv_python_executors_map_onto_uv(void **state)
{
	struct exec_plan p;
	struct bld_err err;
	/* /ws has no pyproject.toml here: not a uv workspace, so commands run in the project. */
	assert_int_equal(plan(&p, &err, "@nxlv/python:ruff-check",
	                      "{\"lintFilePatterns\":[\"pkg\",\"tests\"]}", "--fix", NULL),
	                 0);
	assert_string_equal(uv_command(&p), "uv run ruff check pkg tests --fix");
	assert_string_equal(p.cwd, "/ws/libs/a");
	assert_string_equal(p.venv, "/ws/.venv");
	exec_plan_release(&p);
	assert_int_equal(plan(&p, &err, "@nxlv/python:ruff-format",
	                      "{\"filePatterns\":[\"pkg\"],\"check\":true}", NULL),
	                 0);
	assert_string_equal(uv_command(&p), "uv run ruff format pkg --check");
	exec_plan_release(&p);
	assert_int_equal(plan(&p, &err, "@nxlv/python:build",
	                      "{\"outputPath\":\"dist/b\"}",
	                      NULL),
	                 0);
	assert_string_equal(uv_command(&p),
	                    "rm -rf /ws/dist/b && uv build /ws/libs/a --out-dir /ws/dist/b");
	exec_plan_release(&p);
	assert_int_equal(plan(&p, &err, "@nxlv/python:build", "{}", NULL), BLD_ESCHEMA);
	assert_non_null(strstr(err.msg, "outputPath"));
	exec_plan_release(&p);
	assert_int_equal(plan(&p, &err, "@nxlv/python:install",
	                      "{\"verbose\":true,\"args\":\"--frozen  --no-dev\"}", NULL),
	                 0);
	assert_string_equal(uv_command(&p), "uv sync -v --frozen --no-dev");
	exec_plan_release(&p);
	assert_int_equal(plan(&p, &err, "@nxlv/python:lock", "{\"update\":false}", "--update", NULL),
	                 0);
	assert_string_equal(uv_command(&p), "uv lock --upgrade");
	exec_plan_release(&p);
	assert_int_equal(plan(&p, &err, "@nxlv/python:add",
	                      "{\"group\":\"dev\",\"extras\":[\"cli\"]}", "requests", NULL),
	                 0);
	assert_string_equal(uv_command(&p), "uv add requests --group dev --extra cli");
	exec_plan_release(&p);
	assert_int_equal(plan(&p, &err, "@nxlv/python:update", "{}", "--name=boto3", NULL), 0);
	assert_string_equal(uv_command(&p), "uv lock --upgrade-package boto3 && uv sync");
	exec_plan_release(&p);
	assert_int_equal(plan(&p, &err, "@nxlv/python:remove", "{\"name\":\"six\"}", NULL), 0);
	assert_string_equal(uv_command(&p), "uv remove six");
	exec_plan_release(&p);
	assert_int_equal(plan(&p, &err, "@nxlv/python:remove", "{}", NULL), BLD_ESCHEMA);
	assert_non_null(strstr(err.msg, "needs the package"));
	exec_plan_release(&p);
}

static void missing_uv_is_named_only_when_a_word_needs_it(void **state)
{
	/* /nonexistent holds no uv; /bin holds sh but no uv on Debian or in CI images. */
	const char *none = "/nonexistent:/bin";
	assert_string_equal(exec_missing_tool("uv lock", none), "uv");
	assert_string_equal(exec_missing_tool("rm -rf d && uv build x --out-dir d", none), "uv");
	assert_string_equal(exec_missing_tool("X=1 uvx ruff check .", none), "uv");
	assert_string_equal(exec_missing_tool("echo $(uv --version)|cat", none), "uv");
	assert_string_equal(exec_missing_tool("if true; then env A=b uv sync; fi", none), "uv");
	assert_string_equal(exec_missing_tool("a\nuv sync", none), "uv");
	assert_null(exec_missing_tool("echo uv; echo > uv", none));
	assert_null(exec_missing_tool("uvicorn app:main", none));
	assert_null(exec_missing_tool("ls ./uv", none));
	assert_null(exec_missing_tool("echo", none));
}

static void codegen_output_outside_the_workspace_is_refused(void **state)
{
	struct exec_plan p;
	struct bld_err err = {0};
	const char *bad[] = {"../elsewhere/m.ts", "/etc/m.ts", "gen/../../m.ts", "."};
	for (size_t i = 0; i < ARRAY_LEN(bad); i++) {
		char *json = xasprintf("{\"openApiSpecPath\":\"o.json\",\"outputPath\":\"%s\"}",
		                       bad[i]);
		assert_int_equal(plan(&p, &err, "bld:openapi-metadata", json, NULL), BLD_EUNSAFE);
		assert_non_null(strstr(err.msg, "outputPath"));
		exec_plan_release(&p);
		free(json);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(single_command_gets_forwarded_args_quoted),
	    cmocka_unit_test(run_script_uses_the_package_manager),
	    cmocka_unit_test(args_option_and_unknown_options_are_appended),
	    cmocka_unit_test(args_placeholders_are_interpolated),
	    cmocka_unit_test(commands_default_to_parallel_and_respect_forward_all_args),
	    cmocka_unit_test(cwd_env_envfile_ready_when),
	    cmocka_unit_test(unsupported_executor_is_named_with_the_list),
	    cmocka_unit_test(other_executors),
	    cmocka_unit_test(nxlv_python_executors_map_onto_uv),
	    cmocka_unit_test(missing_uv_is_named_only_when_a_word_needs_it),
	    cmocka_unit_test(codegen_output_outside_the_workspace_is_refused),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
