/* test_pattern.c - the pattern module: file globs (stars, folders, classes, braces,
 * extglobs, negation sets) and Nx's name dialect. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "bld/pattern.h"

#define M(p, s) assert_int_equal(pattern_match_once(p, s, PATTERN_FILES), 1)
#define N(p, s) assert_int_equal(pattern_match_once(p, s, PATTERN_FILES), 0)

static void star_stays_in_one_folder(void **state)
{
	M("test/*.spec.ts", "test/file.spec.ts");
	N("test/*.spec.ts", "test/file.ts");
	N("test/*.spec.ts", "test/a/file.spec.ts");
	M("packages/*/package.json", "packages/nx/package.json");
	N("packages/*/package.json", "packages/nx/test-files/package.json");
	M("*", ".gitignore");
}

/* "prefix/STAR/literal" takes the one-segment fast path: it must answer as the regex */
static void one_segment_fast_path(void **state)
{
	const enum pattern_dialect ds[] = {PATTERN_FILES, PATTERN_NAMES};
	for (size_t i = 0; i < 2; i++) {
		enum pattern_dialect d = ds[i];
		assert_int_equal(pattern_match_once("packages/*/package.json", "packages/a/package.json", d), 1);
		assert_int_equal(pattern_match_once("packages/*/package.json", "packages/.x/package.json", d), 1);
		assert_int_equal(pattern_match_once("packages/*/package.json", "packages/a/b/package.json", d), 0);
		assert_int_equal(pattern_match_once("packages/*/package.json", "packages/a/package.jsonx", d), 0);
		assert_int_equal(pattern_match_once("packages/*/package.json", "packagesx/a/package.json", d), 0);
		assert_int_equal(pattern_match_once("packages/*/package.json", "packages/package.json", d), 0);
		assert_int_equal(pattern_match_once("apps/*", "apps/web", d), 1);
		assert_int_equal(pattern_match_once("apps/*", "apps/web/x", d), 0);
		assert_int_equal(pattern_match_once("*/package.json", "a/package.json", d), 1);
		assert_int_equal(pattern_match_once("*/package.json", "package.json", d), 0);
		/* not the fast path (magic after the star): still right */
		assert_int_equal(pattern_match_once("packages/*/src/*.ts", "packages/a/src/b.ts", d), 1);
		assert_int_equal(pattern_match_once("packages/*.json", "packages/a.json", d), 1);
	}
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
	struct pattern_set gs;
	assert_int_equal(pattern_set_init(&gs, &pats, NULL), 0);
	assert_true(pattern_set_match(&gs, "test/root/test1.ts"));
	assert_true(pattern_set_match(&gs, "test/root/src/module/test3.ts"));
	assert_false(pattern_set_match(&gs, "test/root/test.spec.ts"));
	assert_false(pattern_set_match(&gs, "test/root/test.spec.tsx.snap"));
	assert_false(pattern_set_match(&gs, "other/x.ts"));
	pattern_set_release(&gs);
	strvec_release(&pats);
}

static void only_negations_match_everything_else(void **state)
{
	struct strvec pats;
	strvec_init(&pats);
	strvec_push(&pats, "!test/*.spec.ts");
	struct pattern_set gs;
	assert_int_equal(pattern_set_init(&gs, &pats, NULL), 0);
	assert_false(pattern_set_match(&gs, "test/file.spec.ts"));
	assert_true(pattern_set_match(&gs, "test/file.ts"));
	pattern_set_release(&gs);
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
	assert_int_equal(pattern_match_once(p, "a", PATTERN_FILES), -1);
	free(p);
	M("{{{{a}}}}", "a");
}

static void magic_detection(void **state)
{
	assert_false(pattern_is_glob("dist/packages/a", PATTERN_FILES));
	assert_true(pattern_is_glob("dist/**/*.js", PATTERN_FILES));
	assert_true(pattern_is_glob("a/+(b|c)", PATTERN_FILES));
	assert_false(pattern_is_glob("a+b", PATTERN_FILES));
}

#define MN(p, s) assert_int_equal(pattern_match_once(p, s, PATTERN_NAMES), 1)
#define NN(p, s) assert_int_equal(pattern_match_once(p, s, PATTERN_NAMES), 0)

/* Each case as minimatch.makeRe(p, {dot: true}) of Nx 22.1.3 answered it. */
static void names_read_as_nx_minimatch(void **state)
{
	MN("libs/**", "libs");
	MN("libs/**", "libs/a");
	MN("libs/**/a", "libs/a");
	MN("libs/**/a", "libs/x/y/a");
	NN("*", "a/b");
	MN("*", ".x");
	MN("a**", "ab");
	NN("a**", "a/b");
	MN("**/a", "a");
	MN("ui?kit", "ui-kit");
	MN("[abc]", "b");
	NN("[!abc]", "b");
	MN("[^b]", "a");
	MN("{web,admin}", "admin");
	MN("x-{a,b{c,d}}", "x-bd");
	NN("libs/*", "libs/a/b");
	NN("libs/*/", "libs/a");
	MN("+(a|b)c", "abc");
	MN("a?(b)c", "abc");
	MN("a\\*", "a*");
	MN("e2e-*", "e2e-ci");
	MN("libs/**", "libsroot"); /* makeRe's final globstar: Nx selects "libsroot" by -p libs/STARSTAR */
	MN("libs/**", "libs-x/y");
	NN("libs/**", "lib");
	MN("a/*/**", "a/bc");
	MN("a/*/**", "a/b/c");
	NN("a/*/**", "a");
}

/* Where the two dialects part: braces without a comma, a final slash, "x/STARSTAR". */
static void names_and_files_differ_where_nx_does(void **state)
{
	NN("{a}", "a");
	MN("{a}", "{a}"); /* the string equal to the pattern always matches */
	MN("\\x", "\\x"); /* also a literal with an escape (found by fuzz_pattern) */
	MN("\\x", "x");
	M("{a}", "a");
	NN("a/", "a/b");
	M("a/", "a/b");
	MN("libs/**", "libs");
	N("libs/**", "libs");
	assert_true(pattern_is_glob("a|b", PATTERN_NAMES));
	assert_true(pattern_is_glob("(x)", PATTERN_NAMES));
	assert_false(pattern_is_glob("ui?kit", PATTERN_NAMES));
	assert_true(pattern_is_glob("ui?kit", PATTERN_FILES));
	assert_false(pattern_is_glob("a|b", PATTERN_FILES));
}

/* Compile once, match many: the form the hasher and the selection use. */
static void compiled_pattern_matches_many(void **state)
{
	struct pattern g;
	assert_int_equal(pattern_init(&g, "packages/*/src/**", PATTERN_FILES, NULL), 0);
	assert_true(pattern_match(&g, "packages/a/src/x.ts"));
	assert_true(pattern_match(&g, "packages/b/src/d/y.ts"));
	assert_false(pattern_match(&g, "packages/a/test/x.ts"));
	assert_false(pattern_match(&g, "other/a/src/x.ts"));
	pattern_release(&g);
	pattern_release(&g); /* a released (zeroed) pattern is fine */
	struct bld_err err = {0};
	char *big = xcalloc(PATTERN_MAX_LEN + 2, 1);
	memset(big, 'a', PATTERN_MAX_LEN + 1);
	assert_int_equal(pattern_init(&g, big, PATTERN_NAMES, &err), BLD_ESCHEMA);
	free(big);
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
	    cmocka_unit_test(one_segment_fast_path),
	    cmocka_unit_test(set_with_negations),
	    cmocka_unit_test(only_negations_match_everything_else),
	    cmocka_unit_test(overlong_patterns_are_refused),
	    cmocka_unit_test(magic_detection),
	    cmocka_unit_test(names_read_as_nx_minimatch),
	    cmocka_unit_test(names_and_files_differ_where_nx_does),
	    cmocka_unit_test(compiled_pattern_matches_many),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
