/* test_glob.c - Nx-style globs: stars, folders, classes, braces, extglobs, negation sets. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../../cache/cache_int.h"

#define M(p, s) assert_int_equal(cache__glob_match(p, s), 1)
#define N(p, s) assert_int_equal(cache__glob_match(p, s), 0)

static void star_stays_in_one_folder(void **state)
{
	M("test/*.spec.ts", "test/file.spec.ts");
	N("test/*.spec.ts", "test/file.ts");
	N("test/*.spec.ts", "test/a/file.spec.ts");
	M("packages/*/package.json", "packages/nx/package.json");
	N("packages/*/package.json", "packages/nx/test-files/package.json");
	M("*", ".gitignore");
}

static void double_star_spans_folders(void **state)
{
	M("packages/**/package.json", "packages/nx/test-files/package.json");
	M("packages/**/package.json", "packages/package.json");
	M("**/node_modules", "node_modules");
	M("**/node_modules", "packages/nx/node_modules");
	M("*/**/Cargo.toml", "packages/a/Cargo.toml");
	M("*/**/Cargo.toml", "a/Cargo.toml");
	N("*/**/Cargo.toml", "Cargo.toml");
	M("libs/a/**/*", "libs/a/x");
	M("libs/a/**/*", "libs/a/b/c/d.ts");
	N("libs/a/**/*", "libs/ab/x");
	N("libs/a/**/*", "libs/a");
	M("libs/a/**", "libs/a/b/c");
	M("**/*", "x/y");
	M("**/*.ts", "a.ts");
	M("**/*.ts", "a/b/c.ts");
	N("**/*.ts", "a/b/c.tsx");
}

static void trailing_slash_means_everything_below(void **state)
{
	M("nested/", "nested/a/b.js");
	N("nested/", "another/nested/b.js");
}

static void literal_paths_and_escapes(void **state)
{
	M("nx.json", "nx.json");
	N("nx.json", "a/nx.json");
	M("a\\*b", "a*b");
	N("a\\*b", "axb");
	M("dist/libs/@scope/pkg/x.js", "dist/libs/@scope/pkg/x.js");
	M("a+b/c.txt", "a+b/c.txt");
	M("a.(b)/c", "a.(b)/c");
}

static void classes_and_braces(void **state)
{
	M("src/[ab].ts", "src/a.ts");
	N("src/[ab].ts", "src/c.ts");
	M("src/[!ab].ts", "src/c.ts");
	N("src/[!ab].ts", "src/a.ts");
	M("nested/*.{css,map}", "nested/file.css");
	M("nested/*.{css,map}", "nested/file.map");
	N("nested/*.{css,map}", "nested/file.js");
	M("{a,b/**}/x.ts", "b/c/d/x.ts");
	M("{a,b/**}/x.ts", "a/x.ts");
	M("x.{t{s,sx},js}", "x.tsx");
}

static void extglobs_as_nx_writes_them(void **state)
{
	const char *spec = "libs/**/?(*.)+(spec|test).[jt]s?(x)?(.snap)";
	M(spec, "libs/a/b.spec.ts");
	M(spec, "libs/a/b.test.tsx");
	M(spec, "libs/a/b.spec.tsx.snap");
	M(spec, "libs/spec.js");
	N(spec, "libs/a/b.ts");
	N(spec, "libs/a/b.spects");
	M("a/@(x|y).ts", "a/y.ts");
	N("a/@(x|y).ts", "a/z.ts");
	M("a/*(ab).c", "a/ababab.c");
	M("a/*(ab).c", "a/.c");
}

static void set_with_negations(void **state)
{
	struct strvec pats;
	strvec_init(&pats);
	strvec_push(&pats, "!test/root/**/?(*.)+(spec|test).[jt]s?(x)?(.snap)");
	strvec_push(&pats, "test/root/**/*");
	struct cache_globset gs;
	assert_int_equal(cache__globset_init(&gs, &pats, NULL), 0);
	assert_true(cache__globset_match(&gs, "test/root/test1.ts"));
	assert_true(cache__globset_match(&gs, "test/root/src/module/test3.ts"));
	assert_false(cache__globset_match(&gs, "test/root/test.spec.ts"));
	assert_false(cache__globset_match(&gs, "test/root/test.spec.tsx.snap"));
	assert_false(cache__globset_match(&gs, "other/x.ts"));
	cache__globset_release(&gs);
	strvec_release(&pats);
}

static void only_negations_match_everything_else(void **state)
{
	struct strvec pats;
	strvec_init(&pats);
	strvec_push(&pats, "!test/*.spec.ts");
	struct cache_globset gs;
	assert_int_equal(cache__globset_init(&gs, &pats, NULL), 0);
	assert_false(cache__globset_match(&gs, "test/file.spec.ts"));
	assert_true(cache__globset_match(&gs, "test/file.ts"));
	cache__globset_release(&gs);
	strvec_release(&pats);
}

static void overlong_patterns_are_refused(void **state)
{
	/* a million nested groups would recurse a million frames deep */
	size_t depth = 1000000;
	char *p = malloc(2 * depth + 2);
	memset(p, '{', depth);
	p[depth] = 'a';
	memset(p + depth + 1, '}', depth);
	p[2 * depth + 1] = '\0';
	assert_int_equal(cache__glob_match(p, "a"), -1);
	free(p);
	M("{{{{a}}}}", "a");
}

static void magic_detection(void **state)
{
	assert_false(cache__glob_has_magic("dist/packages/a"));
	assert_true(cache__glob_has_magic("dist/**/*.js"));
	assert_true(cache__glob_has_magic("a/+(b|c)"));
	assert_false(cache__glob_has_magic("a+b"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(star_stays_in_one_folder),
	    cmocka_unit_test(double_star_spans_folders),
	    cmocka_unit_test(trailing_slash_means_everything_below),
	    cmocka_unit_test(literal_paths_and_escapes),
	    cmocka_unit_test(classes_and_braces),
	    cmocka_unit_test(extglobs_as_nx_writes_them),
	    cmocka_unit_test(set_with_negations),
	    cmocka_unit_test(only_negations_match_everything_else),
	    cmocka_unit_test(overlong_patterns_are_refused),
	    cmocka_unit_test(magic_detection),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
