/* test_metadata.c - the OpenAPI -> metadata.gen.ts codegen (bld:openapi-metadata). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "bld/base.h"
#include "bld/err.h"
#include "bld/gen.h"

/* The data folder: found from this file's compiled path, which meson gives
 * relative to the build folder, or from the executable's folder. */
static char *data_path(const char *name)
{
	char *dir = path_dirname(__FILE__);
	char *rel = xasprintf("%s/data/metadata/%s", dir, name);
	free(dir);
	if (file_exists(rel))
		return rel;
	char exe[4096];
	ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	assert_true(n > 0);
	exe[n] = '\0';
	char *exedir = path_dirname(exe);
	char *joined = xasprintf("%s/../../%s", exedir, rel);
	char *p = path_normalize(joined);
	free(joined);
	free(exedir);
	free(rel);
	return p;
}

static char *read_data(const char *name, size_t *ret_len)
{
	char *path = data_path(name), *buf = NULL;
	int rc = file_read(path, &buf, ret_len);
	if (rc < 0)
		fail_msg("cannot read %s: %s", path, bld_strerror(rc));
	free(path);
	return buf;
}

/* Generate from data/<name>.json and compare with data/<name>.gen.ts. */
static void compare_with_expected(const char *name)
{
	char *spec_name = xasprintf("%s.json", name), *exp_name = xasprintf("%s.gen.ts", name);
	size_t len = 0, exp_len = 0;
	char *spec = read_data(spec_name, &len), *expected = read_data(exp_name, &exp_len);
	struct sbuf out = SBUF_INIT;
	struct bld_err err;
	sbuf_init(&out);
	bld_err_clear(&err);
	int rc = gen_openapi_metadata(spec, len, spec_name, &out, &err);
	if (rc < 0)
		fail_msg("%s: %s", spec_name, err.msg);
	assert_string_equal(out.buf, expected);
	sbuf_release(&out);
	free(spec);
	free(expected);
	free(spec_name);
	free(exp_name);
}

/* Run on inline text; return the code and leave the message in err. */
static int run_inline(const char *spec, struct sbuf *out, struct bld_err *err)
{
	sbuf_init(out);
	bld_err_clear(err);
	return gen_openapi_metadata(spec, strlen(spec), "api.json", out, err);
}

static void fastapi_spec_matches_expected(void **state)
{
	compare_with_expected("fastapi");
}

static void tags_resolve_cross_tag_collisions(void **state)
{
	compare_with_expected("tagged");
}

static void empty_paths_give_empty_details(void **state)
{
	compare_with_expected("empty");
}

static void output_is_byte_deterministic(void **state)
{
	size_t len = 0;
	char *spec = read_data("tagged.json", &len);
	struct sbuf a = SBUF_INIT, b = SBUF_INIT;
	struct bld_err err;
	assert_int_equal(run_inline(spec, &a, &err), 0);
	assert_int_equal(run_inline(spec, &b, &err), 0);
	assert_int_equal(a.len, b.len);
	assert_memory_equal(a.buf, b.buf, a.len);
	sbuf_release(&a);
	sbuf_release(&b);
	free(spec);
}

static void collision_within_a_tag_names_both(void **state)
{
	struct sbuf out;
	struct bld_err err;
	int rc =
	    run_inline("{\"openapi\":\"3.0.0\",\"paths\":{"
	               "\"/a\":{\"get\":{\"operationId\":\"list_all\",\"tags\":[\"t\"]}},"
	               "\"/b\":{\"get\":{\"operationId\":\"listAll\",\"tags\":[\"t\",\"u\"]}}}}",
	               &out, &err);
	assert_int_equal(rc, BLD_ESCHEMA);
	assert_non_null(strstr(err.msg, "$.paths[\"/a\"].get"));
	assert_non_null(strstr(err.msg, "$.paths[\"/b\"].get"));
	assert_non_null(strstr(err.msg, "'listAll'"));
	assert_non_null(strstr(err.msg, "tag 't'"));
	assert_string_equal(err.file, "api.json");
	sbuf_release(&out);
}

static void collision_between_untagged_is_an_error(void **state)
{
	struct sbuf out;
	struct bld_err err;
	/* get-/a-b and get /a/b both become getAB. */
	int rc = run_inline("{\"openapi\":\"3.0.0\",\"paths\":{"
	                    "\"/a-b\":{\"get\":{}},\"/a/b\":{\"get\":{\"responses\":{}}}}}",
	                    &out, &err);
	assert_int_equal(rc, BLD_ESCHEMA);
	assert_non_null(strstr(err.msg, "GET /a-b"));
	assert_non_null(strstr(err.msg, "GET /a/b"));
	assert_non_null(strstr(err.msg, "untagged"));
	sbuf_release(&out);
}

static void same_operation_id_twice_untagged_names_both(void **state)
{
	struct sbuf out;
	struct bld_err err;
	int rc = run_inline("{\"openapi\":\"3.0.0\",\"paths\":{"
	                    "\"/a\":{\"get\":{\"operationId\":\"listItems\"}},"
	                    "\"/b\":{\"post\":{\"operationId\":\"listItems\"}}}}",
	                    &out, &err);
	assert_int_equal(rc, BLD_ESCHEMA);
	assert_non_null(strstr(err.msg, "$.paths[\"/a\"].get"));
	assert_non_null(strstr(err.msg, "GET /a"));
	assert_non_null(strstr(err.msg, "$.paths[\"/b\"].post"));
	assert_non_null(strstr(err.msg, "POST /b"));
	assert_non_null(strstr(err.msg, "'listItems'"));
	assert_non_null(strstr(err.msg, "untagged"));
	sbuf_release(&out);
}

static void two_untagged_beside_a_tagged_one_is_an_error(void **state)
{
	struct sbuf out;
	struct bld_err err;
	/* list_items and ListItems both become listItems; a tagged one does not rescue them */
	int rc = run_inline("{\"openapi\":\"3.0.0\",\"paths\":{"
	                    "\"/a\":{\"get\":{\"operationId\":\"list_items\"}},"
	                    "\"/b\":{\"get\":{\"operationId\":\"listItems\",\"tags\":[\"t\"]}},"
	                    "\"/c\":{\"put\":{\"operationId\":\"ListItems\"}}}}",
	                    &out, &err);
	assert_int_equal(rc, BLD_ESCHEMA);
	assert_non_null(strstr(err.msg, "GET /a"));
	assert_non_null(strstr(err.msg, "PUT /c"));
	assert_null(strstr(err.msg, "GET /b"));
	sbuf_release(&out);
}

static void a_method_or_path_given_twice_is_an_error(void **state)
{
	struct sbuf out;
	struct bld_err err;
	/* JavaScript's JSON.parse would keep only the last: one operation silently lost */
	int rc = run_inline("{\"openapi\":\"3.0.0\",\"paths\":{"
	                    "\"/a\":{\"get\":{\"operationId\":\"one\"},"
	                    "\"get\":{\"operationId\":\"two\"}}}}",
	                    &out, &err);
	assert_int_equal(rc, BLD_ESCHEMA);
	assert_non_null(strstr(err.msg, "$.paths[\"/a\"].get is given twice"));
	assert_non_null(strstr(err.msg, "'one' and 'two'"));
	rc = run_inline("{\"openapi\":\"3.0.0\",\"paths\":{"
	                "\"/a\":{\"get\":{}},\"/b\":{\"get\":{}},\"/a\":{\"put\":{}}}}",
	                &out, &err);
	assert_int_equal(rc, BLD_ESCHEMA);
	assert_non_null(strstr(err.msg, "\"/a\" is given twice"));
	sbuf_release(&out);
}

static void untagged_keeps_bare_name_beside_tagged(void **state)
{
	struct sbuf out;
	struct bld_err err;
	int rc = run_inline("{\"openapi\":\"3.0.0\",\"paths\":{"
	                    "\"/a\":{\"get\":{\"operationId\":\"x\"}},"
	                    "\"/b\":{\"get\":{\"operationId\":\"x\",\"tags\":[\"beta-tag\"]}}}}",
	                    &out, &err);
	assert_int_equal(rc, 0);
	assert_non_null(strstr(out.buf, "  'betaTag.x': { path: '/b', method: 'GET' },\n"
	                                "  x: { path: '/a', method: 'GET' },\n"));
	sbuf_release(&out);
}

static void x_streaming_true_flags_the_operation(void **state)
{
	struct sbuf out;
	struct bld_err err;
	int rc = run_inline("{\"openapi\":\"3.1.0\",\"paths\":{"
	                    "\"/s\":{\"get\":{\"operationId\":\"stream_items\",\"x-streaming\":true}},"
	                    "\"/t\":{\"get\":{\"operationId\":\"plain\",\"x-streaming\":false}},"
	                    "\"/u\":{\"post\":{\"operationId\":\"other\"}}}}",
	                    &out, &err);
	assert_int_equal(rc, 0);
	assert_non_null(strstr(out.buf, "  other: { path: '/u', method: 'POST' },\n"
	                                "  plain: { path: '/t', method: 'GET' },\n"
	                                "  streamItems: { path: '/s', method: 'GET', streaming: true },\n"));
	sbuf_release(&out);
}

static void malformed_json_gives_line_and_column(void **state)
{
	struct sbuf out;
	struct bld_err err;
	int rc = run_inline("{\"openapi\": \"3.0.0\",\n  \"paths\": {,}}", &out, &err);
	assert_int_equal(rc, BLD_EPARSE);
	assert_int_equal(err.line, 2);
	assert_true(err.col > 0);
	sbuf_release(&out);
}

static void wrong_shapes_name_the_json_path(void **state)
{
	static const struct {
		const char *spec, *want;
	} cases[] = {
	    {"[]", "$: expected"},
	    {"{\"swagger\":\"2.0\",\"paths\":{}}", "$.openapi: expected an OpenAPI 3"},
	    {"{\"openapi\":\"3.0.0\",\"paths\":[]}", "$.paths: expected an object"},
	    {"{\"openapi\":\"3.0.0\",\"paths\":{\"x\":{}}}", "$.paths[\"x\"]: a path must start"},
	    {"{\"openapi\":\"3.0.0\",\"paths\":{\"/x\":{\"get\":1}}}",
	     "$.paths[\"/x\"].get: expected"},
	    {"{\"openapi\":\"3.0.0\",\"paths\":{\"/x\":{\"get\":{\"operationId\":7}}}}",
	     "$.paths[\"/x\"].get.operationId: expected a string"},
	    {"{\"openapi\":\"3.0.0\",\"paths\":{\"/x\":{\"post\":{\"tags\":[\"a\",3]}}}}",
	     "$.paths[\"/x\"].post.tags[1]: expected a string"},
	    {"{\"openapi\":\"3.0.0\",\"paths\":{\"/x\":{\"get\":{\"operationId\":\"--\"}}}}",
	     "$.paths[\"/x\"].get.operationId: the operation name needs"},
	    {"{\"openapi\":\"3.0.0\",\"paths\":{\"/x\":{\"get\":{\"x-streaming\":\"yes\"}}}}",
	     "$.paths[\"/x\"].get[\"x-streaming\"]: expected true or false"},
	};
	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		struct sbuf out;
		struct bld_err err;
		int rc = run_inline(cases[i].spec, &out, &err);
		assert_int_equal(rc, BLD_ESCHEMA);
		if (!strstr(err.msg, cases[i].want))
			fail_msg("case %zu: got '%s', want '%s'", i, err.msg, cases[i].want);
		sbuf_release(&out);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(fastapi_spec_matches_expected),
	    cmocka_unit_test(tags_resolve_cross_tag_collisions),
	    cmocka_unit_test(empty_paths_give_empty_details),
	    cmocka_unit_test(output_is_byte_deterministic),
	    cmocka_unit_test(collision_within_a_tag_names_both),
	    cmocka_unit_test(collision_between_untagged_is_an_error),
	    cmocka_unit_test(untagged_keeps_bare_name_beside_tagged),
	    cmocka_unit_test(same_operation_id_twice_untagged_names_both),
	    cmocka_unit_test(two_untagged_beside_a_tagged_one_is_an_error),
	    cmocka_unit_test(a_method_or_path_given_twice_is_an_error),
	    cmocka_unit_test(x_streaming_true_flags_the_operation),
	    cmocka_unit_test(malformed_json_gives_line_and_column),
	    cmocka_unit_test(wrong_shapes_name_the_json_path),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
