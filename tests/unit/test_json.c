/* test_json.c - the strict JSONC reader (graph/json.c): what Nx 22.1.3 accepts
 * (watched with nx-oracle) is accepted, everything else is BLD_EPARSE with
 * the line and column of the offending byte. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <malloc.h>
#include <unistd.h>

#include <cmocka.h>

#include "bld/base.h"
#include "../../graph/ws_int.h"

/* Parse len bytes; the error (code, line, col) when it fails. */
static int parse_n(const char *text, size_t len, cJSON **ret, struct bld_err *err)
{
	bld_err_clear(err);
	*ret = NULL;
	return ws__json_parse(text, len, "f.json", ret, NULL, err);
}

static void accepted(const char *text)
{
	cJSON *j;
	struct bld_err err;
	int rc = parse_n(text, strlen(text), &j, &err);
	if (rc != 0)
		fail_msg("rejected %s: %d:%d: %s", text, err.line, err.col, err.msg);
	cJSON_Delete(j);
}

/* Rejected, at line:col, with what in the message. */
static void rejected_n(const char *text, size_t len, int line, int col, const char *what)
{
	cJSON *j;
	struct bld_err err;
	int rc = parse_n(text, len, &j, &err);
	if (rc != BLD_EPARSE)
		fail_msg("accepted %.*s", (int)len, text);
	assert_null(j);
	assert_string_equal(err.file, "f.json");
	if (err.line != line || err.col != col || !strstr(err.msg, what))
		fail_msg("%.*s: got %d:%d: %s; wanted %d:%d: ...%s...", (int)len, text, err.line,
		         err.col, err.msg, line, col, what);
}

static void rejected(const char *text, int line, int col, const char *what)
{
	rejected_n(text, strlen(text), line, col, what);
}

static void comments_and_trailing_commas_are_accepted(void **state)
{
	const char *text = "{\n  // a comment, with \"quotes\"\n  \"a\": [1, 2,], /* block\n "
	                   "still */ \"s\": \"// not a comment, }\",\n}\n";
	cJSON *j;
	struct bld_err err;
	assert_int_equal(parse_n(text, strlen(text), &j, &err), 0);
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(j, "a")), 2);
	assert_string_equal(cJSON_GetObjectItem(j, "s")->valuestring, "// not a comment, }");
	cJSON_Delete(j);
	accepted("{\"a\": 1 /* a /* b */ }");
	accepted("{\"a\": 1} // to the end");
	accepted("{\"a\": 1}\r\n");
	accepted("{\"a\":\r1}");
	accepted("[]");
	accepted("\"just a string\"");
}

static void values_are_read_as_json_has_them(void **state)
{
	const char *text = "{\"n\": -1.5e2, \"z\": 0, \"t\": true, \"f\": false, \"x\": null, "
	                   "\"s\": \"a\\\"\\\\\\/\\b\\f\\n\\r\\t\\u00e9\\ud83d\\ude00\", "
	                   "\"u\": \"\xc3\xa9\xf0\x9f\x98\x80\x7f\"}";
	cJSON *j;
	struct bld_err err;
	assert_int_equal(parse_n(text, strlen(text), &j, &err), 0);
	assert_true(cJSON_GetObjectItem(j, "n")->valuedouble == -150.0);
	assert_true(cJSON_IsTrue(cJSON_GetObjectItem(j, "t")));
	assert_true(cJSON_IsFalse(cJSON_GetObjectItem(j, "f")));
	assert_true(cJSON_IsNull(cJSON_GetObjectItem(j, "x")));
	assert_string_equal(cJSON_GetObjectItem(j, "s")->valuestring,
	                    "a\"\\/\b\f\n\r\t\xc3\xa9\xf0\x9f\x98\x80");
	assert_string_equal(cJSON_GetObjectItem(j, "u")->valuestring,
	                    "\xc3\xa9\xf0\x9f\x98\x80\x7f");
	cJSON_Delete(j);
}

static void duplicate_keys_keep_the_last_value_in_the_first_place(void **state)
{
	cJSON *j;
	struct bld_err err;
	const char *text = "{\"a\": 1, \"b\": 2, \"a\": 3}";
	assert_int_equal(parse_n(text, strlen(text), &j, &err), 0);
	assert_string_equal(j->child->string, "a");
	assert_int_equal(j->child->valueint, 3);
	assert_int_equal(cJSON_GetArraySize(j), 2);
	cJSON_Delete(j);
	/* many keys: found through a map */
	struct sbuf sb = SBUF_INIT;
	sbuf_init(&sb);
	sbuf_adds(&sb, "{");
	for (int i = 0; i < 100; i++)
		sbuf_addf(&sb, "\"k%d\": %d, ", i % 40, i);
	sbuf_adds(&sb, "\"end\": 0}");
	assert_int_equal(parse_n(sb.buf, sb.len, &j, &err), 0);
	assert_int_equal(cJSON_GetArraySize(j), 41);
	assert_int_equal(cJSON_GetObjectItem(j, "k5")->valueint, 85);
	assert_string_equal(j->child->string, "k0");
	cJSON_Delete(j);
	sbuf_release(&sb);
}

static void malformed_json_names_line_and_col(void **state)
{
	/* the file Nx reports as "CommaExpected ... at 5:5" */
	rejected("{\n  \"name\": \"c\",\n  \"targets\": {\n    \"build\": { \"x\": 1 \n"
	         "    \"y\": 2 }\n  }\n}\n",
	         5, 5, "\"y\"");
	rejected("{\"a\": [1,\n", 2, 1, "end of file");
	rejected("{} x", 1, 4, "'x'");
	rejected("", 1, 1, "end of file");
	rejected("  \n", 2, 1, "end of file");
	rejected("{} {}", 1, 4, "'{}'");
	rejected("{'a': 1}", 1, 2, "key in double quotes");
	rejected("{a: 1}", 1, 2, "key in double quotes");
	rejected("{\"a\" 1}", 1, 6, "':'");
	rejected("{\"a\": 1 # x}", 1, 9, "'#");
	rejected("{\"a\": 1} /", 1, 10, "'/'");
	rejected("{\"a\": 1} /* open", 1, 10, "never closed");
	rejected("{\"a\": \"open", 1, 7, "never closed");
}

static void only_a_comma_after_a_value_is_a_trailing_comma(void **state)
{
	accepted("[1,2,]");
	accepted("{\"a\": 1,}");
	accepted("[1, /* c */ ]");
	rejected("{\"t\": {,}}", 1, 8, "unexpected ',");
	rejected("[,]", 1, 2, "unexpected ',");
	rejected("[1,,2]", 1, 4, "unexpected ',");
	rejected("[1,,]", 1, 4, "unexpected ',");
	rejected("{\"a\": 1,,}", 1, 9, "unexpected ',");
}

static void numbers_follow_json_grammar(void **state)
{
	accepted("[0, -0, 1.5, 1e5, 1E+5, 1e-5, -0.0e0, 123456789012345678901234567890]");
	rejected("[01]", 1, 3, "'1]'");
	rejected("[1.]", 1, 2, "digits after");
	rejected("[.5]", 1, 2, "'.5]'");
	rejected("[+1]", 1, 2, "'+1]'");
	rejected("[-]", 1, 2, "'-]'");
	rejected("[1e]", 1, 2, "exponent");
	rejected("[0x10]", 1, 3, "'x10]'");
	rejected("[Infinity]", 1, 2, "'Infinity]'");
	rejected("[NaN]", 1, 2, "'NaN]'");
	rejected("[True]", 1, 2, "'True]'");
	rejected("[nul]", 1, 2, "'nul]'");
}

static void nul_bytes_are_refused_anywhere(void **state)
{
	rejected_n("{\"a\": \"x\0y\"}", 12, 1, 9, "NUL");
	rejected_n("{\"a\":\0 1}", 9, 1, 6, "NUL");
	rejected_n("{\"a\": 1}\0", 9, 1, 9, "NUL");
	rejected_n("\0{}", 3, 1, 1, "NUL");
	rejected_n("{} // \0", 7, 1, 7, "NUL");
	rejected_n("{} /* \0 */", 11, 1, 7, "NUL");
	rejected("{\"a\": \"\\u0000\"}", 1, 8, "NUL");
}

static void invalid_utf8_of_every_kind_is_refused(void **state)
{
	rejected("[\"\xff\"]", 1, 3, "0xff");
	rejected("[\"\xfe\"]", 1, 3, "0xfe");
	rejected("[\"\x80\"]", 1, 3, "0x80");          /* a lone continuation byte */
	rejected("[\"\xc0\xaf\"]", 1, 3, "0xc0");      /* overlong '/' */
	rejected("[\"\xc1\xbf\"]", 1, 3, "0xc1");      /* overlong */
	rejected("[\"\xe0\x80\xaf\"]", 1, 3, "0xe0");  /* overlong, 3 bytes */
	rejected("[\"\xf0\x80\x80\xaf\"]", 1, 3, "0xf0"); /* overlong, 4 bytes */
	rejected("[\"\xed\xa0\x80\"]", 1, 3, "0xed");  /* encoded surrogate U+D800 */
	rejected("[\"\xed\xbf\xbf\"]", 1, 3, "0xed");  /* U+DFFF */
	rejected("[\"\xf4\x90\x80\x80\"]", 1, 3, "0xf4"); /* past U+10FFFF */
	rejected("[\"\xf5\x80\x80\x80\"]", 1, 3, "0xf5");
	rejected("[\"\xe2\x82\"]", 1, 3, "0xe2");      /* cut off */
	rejected("[\"\xe2\x82", 1, 3, "0xe2");         /* cut off by the end of file */
	rejected("[\"\xc3\"]", 1, 3, "0xc3");
	rejected("[\"\xc3 \"]", 1, 3, "0xc3");
	rejected("{\"a\": 1}\xff", 1, 9, "0xff");      /* outside a string */
	rejected("{\"\xff\": 1}", 1, 3, "0xff");       /* in a key */
	rejected("{} // \xc0 comment", 1, 7, "0xc0");  /* in a comment */
	rejected("{} /* \xe2\x82 */", 1, 7, "0xe2");
	accepted("{} // caf\xc3\xa9 \xf0\x9f\x98\x80");
	/* the column counts characters: a valid é before the fault */
	rejected("[\"\xc3\xa9\xff\"]", 1, 4, "0xff");
}

static void lone_surrogate_escapes_are_refused(void **state)
{
	rejected("[\"\\ud800\"]", 1, 3, "surrogate");
	rejected("[\"\\udc00\"]", 1, 3, "surrogate");
	rejected("[\"\\ud800\\u0041\"]", 1, 3, "surrogate");
	rejected("[\"\\ud800x\"]", 1, 3, "surrogate");
	rejected("[\"\\u12g4\"]", 1, 3, "four hex digits");
	rejected("[\"\\u12", 1, 3, "four hex digits");
}

static void control_characters_in_strings_are_refused(void **state)
{
	rejected("[\"a\tb\"]", 1, 4, "control character 0x09");
	rejected("[\"a\nb\"]", 1, 4, "control character 0x0a");
	rejected("[\"\x01\"]", 1, 3, "control character 0x01");
	rejected("[\"\x1f\"]", 1, 3, "control character 0x1f");
	rejected("[\"\\x\"]", 1, 3, "invalid escape '\\x'");
	rejected("[\"\\'\"]", 1, 3, "invalid escape");
	accepted("[\"\x7f\"]"); /* DEL is no control character to JSON */
}

static void whitespace_is_space_tab_cr_lf_only(void **state)
{
	rejected("\xef\xbb\xbf{}", 1, 1, "0xef");        /* a BOM: Nx says InvalidSymbol at 1:1 */
	rejected("{\"a\":\xc2\xa0 1}", 1, 6, "0xc2");     /* NBSP, also InvalidSymbol in Nx */
	rejected("{\"a\":\x0b 1}", 1, 6, "0x0b");
	rejected("{\"a\":\x0c 1}", 1, 6, "0x0c");
	rejected("{\"a\":\xe2\x80\xa8 1}", 1, 6, "0xe2"); /* U+2028 */
}

static void nesting_is_limited(void **state)
{
	struct sbuf sb = SBUF_INIT;
	sbuf_init(&sb);
	for (int i = 0; i < 600; i++)
		sbuf_addc(&sb, '[');
	rejected_n(sb.buf, sb.len, 1, 513, "nested deeper");
	sbuf_reset(&sb);
	for (int i = 0; i < 500; i++)
		sbuf_addc(&sb, '[');
	for (int i = 0; i < 500; i++)
		sbuf_addc(&sb, ']');
	accepted(sb.buf);
	sbuf_release(&sb);
}

static void spans_give_where_each_value_starts(void **state)
{
	const char *text = "{\n  \"a\": [1, {\"b\": \"x\"}],\n  \"a\": true\n}";
	struct ws_json_spans sp = {0};
	struct bld_err err;
	cJSON *j;
	size_t off;
	assert_int_equal(ws__json_parse(text, strlen(text), "f", &j, &sp, &err), 0);
	assert_true(ws__json_span_of(&sp, j, &off));
	assert_int_equal(off, 0);
	cJSON *a = cJSON_GetObjectItem(j, "a"); /* the duplicate's value */
	assert_true(ws__json_span_of(&sp, a, &off));
	int line, col;
	ws__text_linecol(text, off, &line, &col);
	assert_int_equal(line, 3);
	assert_int_equal(col, 8);
	cJSON *other = cJSON_CreateNull();
	assert_false(ws__json_span_of(&sp, other, &off));
	cJSON_Delete(other);
	cJSON_Delete(j);
	ws__json_spans_release(&sp);
}

static void a_small_file_is_read_into_a_buffer_of_its_size(void **state)
{
	char path[] = "/tmp/bld-json-XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	const char body[] = "{\"name\": \"a\", \"targets\": {}}\n";
	assert_int_equal(fd_write_all(fd, body, sizeof(body) - 1), 0);
	close(fd);
	char *buf = NULL;
	size_t len = 0;
	assert_int_equal(ws__read_small(path, &buf, &len), 0);
	assert_int_equal(len, sizeof(body) - 1);
	assert_string_equal(buf, body);
	/* a load keeps every project.json's text to its end: not 4 KiB each */
	assert_true(malloc_usable_size(buf) < 256);
	free(buf);
	unlink(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(comments_and_trailing_commas_are_accepted),
	    cmocka_unit_test(values_are_read_as_json_has_them),
	    cmocka_unit_test(duplicate_keys_keep_the_last_value_in_the_first_place),
	    cmocka_unit_test(malformed_json_names_line_and_col),
	    cmocka_unit_test(only_a_comma_after_a_value_is_a_trailing_comma),
	    cmocka_unit_test(numbers_follow_json_grammar),
	    cmocka_unit_test(nul_bytes_are_refused_anywhere),
	    cmocka_unit_test(invalid_utf8_of_every_kind_is_refused),
	    cmocka_unit_test(lone_surrogate_escapes_are_refused),
	    cmocka_unit_test(control_characters_in_strings_are_refused),
	    cmocka_unit_test(whitespace_is_space_tab_cr_lf_only),
	    cmocka_unit_test(nesting_is_limited),
	    cmocka_unit_test(spans_give_where_each_value_starts),
	    cmocka_unit_test(a_small_file_is_read_into_a_buffer_of_its_size),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
