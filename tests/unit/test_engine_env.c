/* test_engine_env.c - environments and the dotenv reader. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "env.h"

static void dotenv_syntax(void **state)
{
	struct envset e;
	envset_init(&e);
	const char *text = "# comment\n"
	                   "A=1\n"
	                   "export B = two words  # trailing comment\n"
	                   "C='literal $A'\n"
	                   "D=\"line\\nnext ${A}\"\n"
	                   "E=$A-${MISSING:-dflt}\n"
	                   "not a line\n"
	                   "F=\n";
	assert_int_equal(dotenv_apply(&e, text, false), 6);
	assert_string_equal(envset_get(&e, "A"), "1");
	assert_string_equal(envset_get(&e, "B"), "two words");
	assert_string_equal(envset_get(&e, "C"), "literal $A");
	assert_string_equal(envset_get(&e, "D"), "line\nnext 1");
	assert_string_equal(envset_get(&e, "E"), "1-dflt");
	assert_string_equal(envset_get(&e, "F"), "");
	envset_release(&e);
}

static void existing_variables_win_unless_override(void **state)
{
	struct envset e;
	envset_init(&e);
	char *env[] = {"A=client", "PATH=/bin", NULL};
	envset_add_all(&e, env);
	dotenv_apply(&e, "A=file\nB=file\n", false);
	assert_string_equal(envset_get(&e, "A"), "client");
	assert_string_equal(envset_get(&e, "B"), "file");
	dotenv_apply(&e, "A=forced\n", true);
	assert_string_equal(envset_get(&e, "A"), "forced");
	char **arr = envset_array(&e);
	size_t n = 0;
	while (arr[n])
		n++;
	assert_int_equal(n, 3);
	envset_release(&e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(dotenv_syntax),
	    cmocka_unit_test(existing_variables_win_unless_override),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
