/* test_base.c - sbuf, strvec, strmap, paths, whole-file I/O. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <unistd.h>

#include <cmocka.h>
#include <cjson/cJSON.h>

#include "bld/base.h"
#include "bld/err.h"

static void sbuf_grows_and_formats(void **state)
{
	struct sbuf sb = SBUF_INIT;
	sbuf_init(&sb);
	for (int i = 0; i < 1000; i++)
		sbuf_addf(&sb, "%d,", i);
	assert_true(str_starts(sb.buf, "0,1,2,"));
	assert_true(str_ends(sb.buf, "998,999,"));
	char *s = sbuf_detach(&sb);
	assert_int_equal(sb.len, 0);
	free(s);
	sbuf_release(&sb);
}

/* Random puts and deletes against a plain array: after each, every key is
 * found exactly when it should be (deletes shift probe runs back, wrapping
 * around the end of the slots). */
static void strmap_deletes_keep_every_other_key_reachable(void **state)
{
	(void)state;
	enum { NKEYS = 300 };
	bool in[NKEYS] = {0};
	size_t n = 0;
	struct strmap m;
	strmap_init(&m);
	unsigned seed = 12345;
	char key[16];
	for (int step = 0; step < 40000; step++) {
		seed = seed * 1103515245u + 12345u;
		int k = (int)((seed >> 8) % NKEYS);
		snprintf(key, sizeof(key), "k%d", k);
		if ((seed >> 20) & 1) {
			if (!in[k])
				n++;
			in[k] = true;
			strmap_put(&m, key, (void *)(intptr_t)(k + 1));
		} else {
			void *v = strmap_del(&m, key);
			assert_ptr_equal(v, in[k] ? (void *)(intptr_t)(k + 1) : NULL);
			if (in[k])
				n--;
			in[k] = false;
		}
		assert_int_equal(m.n, n);
		if (step % 97)
			continue;
		for (int i = 0; i < NKEYS; i++) {
			snprintf(key, sizeof(key), "k%d", i);
			assert_ptr_equal(strmap_get(&m, key), in[i] ? (void *)(intptr_t)(i + 1) : NULL);
		}
	}
	size_t it = 0, seen = 0;
	while (strmap_next(&m, &it, NULL, NULL))
		seen++;
	assert_int_equal(seen, n);
	assert_null(strmap_del(&m, "never"));
	strmap_release(&m);
	assert_null(strmap_del(&m, "k1")); /* an empty map */
}

/* Odd strings: quotes, backslashes, every control character, UTF-8, DEL. */
static const char *const odd_strings[] = {
    "",
    "plain",
    "say \"hi\"",
    "C:\\dir\\file",
    "tab\there\nnew line\r\b\f",
    "\x01\x02\x1f\x7f end",
    "pr\xc3\xb6j \xe2\x86\x92 \xf0\x9f\x9a\x80",
    "</script>\\u0041 {\"a\":[1]}",
};

static void json_string_is_escaped_as_cjson_prints_it(void **state)
{
	char all[32];
	for (int c = 1; c < 32; c++)
		all[c - 1] = (char)c;
	all[31] = '\0';
	for (size_t i = 0; i <= ARRAY_LEN(odd_strings); i++) {
		const char *s = i < ARRAY_LEN(odd_strings) ? odd_strings[i] : all;
		struct sbuf sb = SBUF_INIT;
		sbuf_init(&sb);
		sbuf_add_json_str(&sb, s);
		cJSON *str = cJSON_CreateString(s);
		char *want = cJSON_PrintUnformatted(str);
		assert_string_equal(sb.buf, want); /* byte for byte */
		cJSON *back = cJSON_Parse(sb.buf);
		assert_non_null(back);
		assert_string_equal(back->valuestring, s); /* and it reads back */
		cJSON_Delete(back);
		free(want);
		cJSON_Delete(str);
		sbuf_release(&sb);
	}
}

static void json_mem_escapes_a_nul_and_stops_at_len(void **state)
{
	struct sbuf sb = SBUF_INIT;
	sbuf_init(&sb);
	sbuf_add_json_mem(&sb, "a\0b\"cdef", 5);
	assert_string_equal(sb.buf, "\"a\\u0000b\\\"c\"");
	sbuf_release(&sb);
}

static int values_freed;

static void count_free(void *v)
{
	values_freed++;
	free(v);
}

/* strmap_release_values frees every value once and leaves an empty, usable map. */
static void strmap_release_values_frees_each_value(void **state)
{
	(void)state;
	struct strmap m;
	strmap_init(&m);
	char key[16];
	for (int i = 0; i < 100; i++) {
		snprintf(key, sizeof(key), "k%d", i);
		strmap_put(&m, key, xstrdup(key));
	}
	free(strmap_del(&m, "k7"));
	values_freed = 0;
	strmap_release_values(&m, count_free);
	assert_int_equal(values_freed, 99);
	assert_int_equal(m.n, 0);
	assert_null(strmap_get(&m, "k1"));
	strmap_put(&m, "again", NULL);
	assert_true(strmap_has(&m, "again"));
	strmap_release(&m);
}

static void strmap_holds_many_keys(void **state)
{
	struct strmap m;
	strmap_init(&m);
	char key[32];
	for (intptr_t i = 0; i < 5000; i++) {
		snprintf(key, sizeof(key), "k%ld", (long)i);
		strmap_put(&m, key, (void *)(i + 1));
	}
	assert_int_equal(m.n, 5000);
	assert_ptr_equal(strmap_get(&m, "k4321"), (void *)4322);
	assert_null(strmap_get(&m, "nope"));
	size_t it = 0, count = 0;
	while (strmap_next(&m, &it, NULL, NULL))
		count++;
	assert_int_equal(count, 5000);
	strmap_release(&m);
}

static void strvec_splits_on_any_separator(void **state)
{
	struct strvec sv;
	strvec_init(&sv);
	strvec_split(&sv, "build,test  lint,", ", ");
	assert_int_equal(sv.n, 3);
	assert_string_equal(sv.v[2], "lint");
	strvec_release(&sv);
}

static void paths_normalize_and_stay_safe(void **state)
{
	char *p = path_normalize("a/./b//c/../d");
	assert_string_equal(p, "a/b/d");
	free(p);
	p = path_relative("/w/s", "/w/s/x/y");
	assert_string_equal(p, "x/y");
	free(p);
	assert_null(path_relative("/w/s", "/w/sx"));
	assert_true(path_is_safe_relative("dist/x"));
	assert_false(path_is_safe_relative("../x"));
	assert_false(path_is_safe_relative("a/../../x"));
	assert_false(path_is_safe_relative("/etc/passwd"));
}

static void mkdir_p_refuses_an_empty_path(void **state)
{
	assert_int_equal(mkdir_p("", 0755), -ENOENT);
}

static void file_write_atomic_replaces_whole_files(void **state)
{
	char dir[] = "/tmp/bld-test-base-XXXXXX";
	assert_non_null(mkdtemp(dir));
	char *sub = path_join(dir, "a/b"), *f = path_join(sub, "f.txt"), *buf = NULL;
	size_t len = 0;
	assert_int_equal(mkdir_p(sub, 0755), 0);
	assert_int_equal(file_write_atomic(f, "first", 5, 0644), 0);
	assert_int_equal(file_write_atomic(f, "second", 6, 0644), 0);
	assert_int_equal(file_read(f, &buf, &len), 0);
	assert_int_equal(len, 6);
	assert_string_equal(buf, "second");
	free(buf);
	assert_int_equal(rm_rf(dir), 0);
	assert_false(file_exists(dir));
	free(f);
	free(sub);
}

static void error_codes_have_messages(void **state)
{
	assert_string_equal(bld_strerror(BLD_ECYCLE), "dependency cycle");
	assert_true(BLD_EPARSE < -10000);
	struct bld_err e;
	bld_err_at(&e, BLD_EPARSE, "nx.json", 3, 7, "expected '%c'", '}');
	char buf[256];
	bld_err_format(&e, buf, sizeof(buf));
	assert_string_equal(buf, "nx.json:3:7: expected '}'");
}

static void file_read_max_refuses_big_files(void **state)
{
	char path[] = "/tmp/bld-test-readmax-XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "0123456789", 10), 10);
	close(fd);
	char *buf = NULL;
	size_t len = 0;
	assert_int_equal(file_read_max(path, 9, &buf, &len), -EFBIG);
	assert_null(buf);
	assert_int_equal(file_read_max(path, 10, &buf, &len), 0);
	assert_int_equal(len, 10);
	assert_string_equal(buf, "0123456789");
	free(buf);
	unlink(path);
}

static void edit_distance_is_capped(void **state)
{
	assert_int_equal(str_edit_distance("build", "biuld", 3), 2);
	assert_int_equal(str_edit_distance("a", "abcdefgh", 2), 3);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(sbuf_grows_and_formats),
		cmocka_unit_test(json_string_is_escaped_as_cjson_prints_it),
		cmocka_unit_test(json_mem_escapes_a_nul_and_stops_at_len),
		cmocka_unit_test(strmap_holds_many_keys),
		cmocka_unit_test(strmap_release_values_frees_each_value),
		cmocka_unit_test(strmap_deletes_keep_every_other_key_reachable),
		cmocka_unit_test(strvec_splits_on_any_separator),
		cmocka_unit_test(paths_normalize_and_stay_safe),
		cmocka_unit_test(mkdir_p_refuses_an_empty_path),
		cmocka_unit_test(file_write_atomic_replaces_whole_files),
		cmocka_unit_test(error_codes_have_messages),
		cmocka_unit_test(edit_distance_is_capped),
		cmocka_unit_test(file_read_max_refuses_big_files),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
