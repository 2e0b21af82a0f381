/* test_hash.c - canonical JSON and content hashes (the bytes the task hash is made of). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "../../cache/cache_int.h"

static char *canon(const char *json)
{
	cJSON *j = cJSON_Parse(json);
	struct sbuf sb = SBUF_INIT;
	sbuf_init(&sb);
	cache__json_canonical(j, &sb);
	cJSON_Delete(j);
	return sbuf_detach(&sb);
}

#define CANON(in, want)                                                                            \
	do {                                                                                       \
		char *s_ = canon(in);                                                              \
		assert_string_equal(s_, want);                                                     \
		free(s_);                                                                          \
	} while (0)

static void keys_are_sorted_recursively(void **state)
{
	CANON("{\"b\": 1, \"a\": {\"z\": true, \"y\": null}, \"c\": [3, 1]}",
	      "{\"a\":{\"y\":null,\"z\":true},\"b\":1,\"c\":[3,1]}");
	CANON("{\"B\": 1, \"a\": 2, \"_\": 3}", "{\"B\":1,\"_\":3,\"a\":2}");
}

static void numbers_are_stable(void **state)
{
	CANON("[1, 1.0, -0, 1e3, 0.5, 12345678901, 0.1]",
	      "[1,1,0,1000,0.5,12345678901,0.10000000000000001]");
}

static void strings_are_minimally_escaped(void **state)
{
	CANON("[\"a\\\"b\\\\c\\n\\t\\u0001é/\"]", "[\"a\\\"b\\\\c\\n\\t\\u0001é/\"]");
}

static void content_hash_is_xxh3_128_hex(void **state)
{
	char a[33], b[33], c[33];
	cache__hash_bytes("", 0, a);
	assert_int_equal(strlen(a), 32);
	/* XXH3-128 of the empty input, canonical (big-endian) hex */
	assert_string_equal(a, "99aa06d3014798d86001c324468d497f");
	cache__hash_bytes("abc", 3, b);
	cache__hash_bytes("abd", 3, c);
	assert_string_not_equal(b, c);
	assert_int_equal(strspn(b, "0123456789abcdef"), 32);
}

static void file_hash_matches_bytes(void **state)
{
	char path[] = "/tmp/bld-hash-XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "hello", 5), 5);
	lseek(fd, 0, SEEK_SET);
	char a[33], b[33];
	assert_int_equal(cache__hash_fd(fd, a), 0);
	cache__hash_bytes("hello", 5, b);
	assert_string_equal(a, b);
	close(fd);
	unlink(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(keys_are_sorted_recursively),
	    cmocka_unit_test(numbers_are_stable),
	    cmocka_unit_test(strings_are_minimally_escaped),
	    cmocka_unit_test(content_hash_is_xxh3_128_hex),
	    cmocka_unit_test(file_hash_matches_bytes),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
