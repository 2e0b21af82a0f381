/* test_proto.c - frames survive being split at every byte. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "bld/err.h"
#include "bld/proto.h"

static void frames_decode_when_fed_byte_by_byte(void **state)
{
	struct sbuf out = SBUF_INIT;
	sbuf_init(&out);
	const char json[] = "{\"t\":\"hello\",\"v\":1}";
	const char bytes[] = "a\0b\r\n\x1b[31mred";
	proto_encode_json(&out, json, strlen(json));
	proto_encode_output(&out, 7, 2, bytes, sizeof(bytes) - 1);

	struct proto_reader r;
	struct proto_frame f;
	int got = 0;
	proto_reader_init(&r);
	for (size_t i = 0; i < out.len; i++) {
		proto_reader_feed(&r, out.buf + i, 1);
		while (proto_reader_next(&r, &f) == 1) {
			if (got++ == 0) {
				assert_int_equal(f.type, PROTO_JSON);
				assert_string_equal(f.data, json);
			} else {
				assert_int_equal(f.type, PROTO_OUTPUT);
				assert_int_equal(f.task, 7);
				assert_int_equal(f.stream, 2);
				assert_int_equal(f.len, sizeof(bytes) - 1);
				assert_memory_equal(f.data, bytes, f.len);
			}
		}
	}
	assert_int_equal(got, 2);
	proto_reader_release(&r);
	sbuf_release(&out);
}

static void oversized_or_unknown_frames_are_rejected(void **state)
{
	struct proto_reader r;
	struct proto_frame f;
	const unsigned char big[] = {0xff, 0xff, 0xff, 0xff, 'J'};
	const unsigned char bad[] = {0, 0, 0, 1, 'Z', 'x'};
	proto_reader_init(&r);
	proto_reader_feed(&r, big, sizeof(big));
	assert_int_equal(proto_reader_next(&r, &f), BLD_EPROTO);
	proto_reader_release(&r);
	proto_reader_init(&r);
	proto_reader_feed(&r, bad, sizeof(bad));
	assert_int_equal(proto_reader_next(&r, &f), BLD_EPROTO);
	proto_reader_release(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(frames_decode_when_fed_byte_by_byte),
		cmocka_unit_test(oversized_or_unknown_frames_are_rejected),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
