/*
 * proto.c - frame encoder and incremental decoder.  See proto.h for the format.
 */
#include "bld/proto.h"

#include <stdlib.h>
#include <string.h>

#include "bld/err.h"

static void put_u32(unsigned char *p, uint32_t v)
{
	p[0] = (unsigned char)(v >> 24);
	p[1] = (unsigned char)(v >> 16);
	p[2] = (unsigned char)(v >> 8);
	p[3] = (unsigned char)v;
}

static uint32_t get_u32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

void proto_encode_json(struct sbuf *out, const char *json, size_t len)
{
	unsigned char h[PROTO_HEADER];
	put_u32(h, (uint32_t)len);
	h[4] = PROTO_JSON;
	sbuf_add(out, h, sizeof(h));
	sbuf_add(out, json, len);
}

void proto_encode_output(struct sbuf *out, uint32_t task, int stream, const void *data,
                         size_t len)
{
	unsigned char h[PROTO_HEADER + 5];
	put_u32(h, (uint32_t)(len + 5));
	h[4] = PROTO_OUTPUT;
	put_u32(h + 5, task);
	h[9] = (unsigned char)stream;
	sbuf_add(out, h, sizeof(h));
	sbuf_add(out, data, len);
}

void proto_reader_init(struct proto_reader *r)
{
	sbuf_init(&r->buf);
	r->off = 0;
	r->json = NULL;
}

void proto_reader_release(struct proto_reader *r)
{
	sbuf_release(&r->buf);
	free(r->json);
	r->json = NULL;
	r->off = 0;
}

void proto_reader_feed(struct proto_reader *r, const void *data, size_t len)
{
	if (r->off && r->off == r->buf.len) {
		sbuf_reset(&r->buf);
		r->off = 0;
	} else if (r->off > 65536 && r->off * 2 > r->buf.len) {
		memmove(r->buf.buf, r->buf.buf + r->off, r->buf.len - r->off);
		r->buf.len -= r->off;
		r->off = 0;
	}
	sbuf_add(&r->buf, data, len);
}

int proto_reader_next(struct proto_reader *r, struct proto_frame *ret_frame)
{
	size_t avail = r->buf.len - r->off;
	const unsigned char *p = (const unsigned char *)r->buf.buf + r->off;
	if (avail < PROTO_HEADER)
		return 0;
	uint32_t len = get_u32(p);
	int type = p[4];
	if (len > PROTO_MAX_FRAME || (type != PROTO_JSON && type != PROTO_OUTPUT))
		return BLD_EPROTO;
	if (type == PROTO_OUTPUT && len < 5)
		return BLD_EPROTO;
	if (avail < PROTO_HEADER + (size_t)len)
		return 0;
	p += PROTO_HEADER;
	memset(ret_frame, 0, sizeof(*ret_frame));
	ret_frame->type = type;
	if (type == PROTO_JSON) {
		free(r->json);
		r->json = xstrndup((const char *)p, len);
		ret_frame->data = r->json;
		ret_frame->len = len;
	} else {
		ret_frame->task = get_u32(p);
		ret_frame->stream = p[4];
		ret_frame->data = (const char *)p + 5;
		ret_frame->len = len - 5;
	}
	r->off += PROTO_HEADER + len;
	return 1;
}

int proto_write_all(int fd, const void *buf, size_t len)
{
	return fd_write_all(fd, buf, len);
}
