/* fuzz_proto.c - libFuzzer target: the protocol frame decoder
 * (common/proto.c).  The input is fed in pieces whose sizes come from the
 * input itself; every frame taken out lies inside what was fed, and a
 * re-encoded frame decodes to the same bytes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bld/err.h"
#include "bld/proto.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void roundtrip(const struct proto_frame *f)
{
	struct sbuf out = SBUF_INIT;
	struct proto_reader r;
	struct proto_frame g;
	sbuf_init(&out);
	if (f->type == PROTO_JSON)
		proto_encode_json(&out, f->data, f->len);
	else
		proto_encode_output(&out, f->task, f->stream, f->data, f->len);
	proto_reader_init(&r);
	proto_reader_feed(&r, out.buf, out.len);
	if (proto_reader_next(&r, &g) != 1 || g.type != f->type || g.len != f->len ||
	    memcmp(g.data, f->data, f->len))
		abort();
	proto_reader_release(&r);
	sbuf_release(&out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct proto_reader r;
	struct proto_frame f;
	size_t i = 0, fed = 0;
	proto_reader_init(&r);
	while (i < size) {
		size_t piece = 1 + data[i] % 64;
		i++;
		if (piece > size - i)
			piece = size - i;
		proto_reader_feed(&r, data + i, piece);
		i += piece;
		fed += piece;
		int rc;
		while ((rc = proto_reader_next(&r, &f)) == 1) {
			if (f.len > fed)
				abort();
			roundtrip(&f);
		}
		if (rc < 0) {
			if (rc != BLD_EPROTO)
				abort();
			break;
		}
	}
	proto_reader_release(&r);
	return 0;
}
