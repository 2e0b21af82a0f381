/* test_client_args.c - bld's command line -> the request's command and arguments. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "client.h"

static int parse(struct cli *c, struct bld_err *err, ...)
{
	char *argv[32] = {"bld"};
	int argc = 1;
	va_list ap;
	va_start(ap, err);
	for (char *a; (a = va_arg(ap, char *));)
		argv[argc++] = a;
	va_end(ap);
	bld_err_clear(err);
	return cli_parse(argc, argv, c, err);
}

static const char *arg_str(const struct cli *c, const char *name)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(c->args, name);
	return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* The list argument name joined with '|'. */
static char *arg_list(const struct cli *c, const char *name)
{
	struct sbuf sb = SBUF_INIT;
	sbuf_init(&sb);
	const cJSON *e;
	cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(c->args, name))
	{
		if (sb.len)
			sbuf_addc(&sb, '|');
		sbuf_adds(&sb, e->valuestring);
	}
	return sbuf_detach(&sb);
}

static void run_task_with_config_and_parallel(void **state)
{
	struct cli c;
	struct bld_err err;
	assert_int_equal(parse(&c, &err, "run", "a:build", "-c", "prod", "--parallel=3", NULL), 0);
	assert_int_equal(c.action, CLI_ENGINE);
	assert_string_equal(c.cmd, "run");
	assert_string_equal(arg_str(&c, "task"), "a:build");
	assert_string_equal(arg_str(&c, "configuration"), "prod");
	assert_int_equal(cJSON_GetObjectItem(c.args, "parallel")->valueint, 3);
	cli_release(&c);
}

static void list_options_take_spaces_commas_and_repeats(void **state)
{
	struct cli c;
	struct bld_err err;
	assert_int_equal(parse(&c, &err, "run-many", "-t", "build", "test,lint", "--targets=e2e",
	                       "-p", "a", "--exclude", "b,c", NULL),
	                 0);
	char *t = arg_list(&c, "targets"), *p = arg_list(&c, "projects"),
	     *x = arg_list(&c, "exclude");
	assert_string_equal(t, "build|test|lint|e2e");
	assert_string_equal(p, "a");
	assert_string_equal(x, "b|c");
	free(t);
	free(p);
	free(x);
	cli_release(&c);
}

static void option_names_ignore_case_and_dashes(void **state)
{
	struct cli c;
	struct bld_err err;
	assert_int_equal(parse(&c, &err, "run", "a:b", "--excludeTaskDependencies",
	                       "--skip-nx-cache", "--nx-bail", NULL),
	                 0);
	assert_true(cJSON_IsTrue(cJSON_GetObjectItem(c.args, "excludeTaskDependencies")));
	assert_true(cJSON_IsTrue(cJSON_GetObjectItem(c.args, "skipCache")));
	assert_true(cJSON_IsTrue(cJSON_GetObjectItem(c.args, "bail")));
	cli_release(&c);
	assert_int_equal(parse(&c, &err, "run", "a:b", "--exclude-task-dependencies=false", NULL),
	                 0);
	assert_true(cJSON_IsFalse(cJSON_GetObjectItem(c.args, "excludeTaskDependencies")));
	cli_release(&c);
}

static void double_dash_args_are_forwarded_whole(void **state)
{
	struct cli c;
	struct bld_err err;
	assert_int_equal(
	    parse(&c, &err, "run", "a:echo", "--", "--foo", "bar", "two words", "-c", NULL), 0);
	char *f = arg_list(&c, "forward");
	assert_string_equal(f, "--foo|bar|two words|-c");
	assert_null(cJSON_GetObjectItem(c.args, "configuration"));
	free(f);
	cli_release(&c);
}

static void double_dash_is_never_an_option_value(void **state)
{
	struct cli c;
	struct bld_err err;
	assert_int_equal(parse(&c, &err, "run-many", "-t", "build", "--flag", "--", "x", NULL), 0);
	char *t = arg_list(&c, "targets"), *f = arg_list(&c, "forward");
	assert_string_equal(t, "build");
	assert_string_equal(f, "--flag|x");
	free(t);
	free(f);
	cli_release(&c);
	assert_int_equal(parse(&c, &err, "run", "a:b", "--parallel", "--", "y", NULL), 0);
	assert_null(cJSON_GetObjectItem(c.args, "parallel"));
	cli_release(&c);
}

static void unknown_run_options_become_overrides_and_forwarded(void **state)
{
	struct cli c;
	struct bld_err err;
	assert_int_equal(parse(&c, &err, "run", "a:echo", "--foo=bar", "--flag", NULL), 0);
	const cJSON *ov = cJSON_GetObjectItem(c.args, "overrides");
	assert_string_equal(cJSON_GetObjectItem(ov, "foo")->valuestring, "bar");
	assert_true(cJSON_IsTrue(cJSON_GetObjectItem(ov, "flag")));
	char *f = arg_list(&c, "forward");
	assert_string_equal(f, "--foo=bar|--flag");
	free(f);
	cli_release(&c);
}

static void shorthand_target_project(void **state)
{
	struct cli c;
	struct bld_err err;
	assert_int_equal(parse(&c, &err, "build", "app", "--", "-v", NULL), 0);
	assert_string_equal(c.cmd, "run");
	assert_string_equal(arg_str(&c, "target"), "build");
	assert_string_equal(arg_str(&c, "project"), "app");
	char *f = arg_list(&c, "forward");
	assert_string_equal(f, "-v");
	free(f);
	cli_release(&c);
}

static void usage_errors(void **state)
{
	struct cli c;
	struct bld_err err;
	assert_int_equal(parse(&c, &err, "run", NULL), BLD_EUSAGE);
	assert_int_equal(parse(&c, &err, "run-many", NULL), BLD_EUSAGE);
	assert_int_equal(parse(&c, &err, "run-many", "-p", "app", NULL), BLD_EUSAGE);
	assert_int_equal(parse(&c, &err, "run", "a:b", "--parallel", "lots", NULL), BLD_EUSAGE);
	assert_non_null(strstr(err.msg, "lots"));
	assert_int_equal(parse(&c, &err, "show", "projects", "--bogus", NULL), BLD_EUSAGE);
	assert_non_null(strstr(err.msg, "--bogus"));
	assert_int_equal(parse(&c, &err, "show", "nothing", NULL), BLD_EUSAGE);
	assert_int_equal(parse(&c, &err, "cache", "frob", NULL), BLD_EUSAGE);
	assert_int_equal(parse(&c, &err, "--bogus", NULL), BLD_EUSAGE);
}

static void help_and_version_are_local(void **state)
{
	struct cli c;
	struct bld_err err;
	assert_int_equal(parse(&c, &err, "--version", NULL), 0);
	assert_int_equal(c.action, CLI_VERSION);
	assert_int_equal(parse(&c, &err, "help", "run", NULL), 0);
	assert_int_equal(c.action, CLI_HELP);
	assert_string_equal(c.topic, "run");
	cli_release(&c);
	assert_int_equal(parse(&c, &err, "run-many", "--help", NULL), 0);
	assert_int_equal(c.action, CLI_HELP);
	assert_string_equal(c.topic, "run-many");
	cli_release(&c);
	struct sbuf sb = SBUF_INIT;
	sbuf_init(&sb);
	assert_true(help_text("run", &sb));
	assert_non_null(strstr(sb.buf, "--parallel"));
	assert_false(help_text("nope", &sb));
	sbuf_release(&sb);
}

static void show_cache_generate_positional(void **state)
{
	struct cli c;
	struct bld_err err;
	assert_int_equal(parse(&c, &err, "show", "project", "x", "--json", NULL), 0);
	assert_string_equal(arg_str(&c, "what"), "project");
	assert_string_equal(arg_str(&c, "name"), "x");
	cli_release(&c);
	assert_int_equal(parse(&c, &err, "cache", "why", "a:build", NULL), 0);
	assert_string_equal(arg_str(&c, "sub"), "why");
	assert_string_equal(arg_str(&c, "arg"), "a:build");
	cli_release(&c);
	assert_int_equal(parse(&c, &err, "g", "py#fast-api", "--name", "my-api", "--dry-run", NULL),
	                 0);
	assert_string_equal(c.cmd, "generate");
	assert_string_equal(arg_str(&c, "generator"), "py#fast-api");
	const cJSON *o = cJSON_GetObjectItem(c.args, "options");
	assert_string_equal(cJSON_GetObjectItem(o, "name")->valuestring, "my-api");
	assert_true(cJSON_IsTrue(cJSON_GetObjectItem(c.args, "dryRun")));
	cli_release(&c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(run_task_with_config_and_parallel),
	    cmocka_unit_test(list_options_take_spaces_commas_and_repeats),
	    cmocka_unit_test(option_names_ignore_case_and_dashes),
	    cmocka_unit_test(double_dash_args_are_forwarded_whole),
	    cmocka_unit_test(unknown_run_options_become_overrides_and_forwarded),
	    cmocka_unit_test(double_dash_is_never_an_option_value),
	    cmocka_unit_test(shorthand_target_project),
	    cmocka_unit_test(usage_errors),
	    cmocka_unit_test(help_and_version_are_local),
	    cmocka_unit_test(show_cache_generate_positional),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
