/*
 * proto.h - the framed protocol between bld (client) and bldd (engine).
 *
 * A frame is a 5-byte header, then the payload:
 *
 *     u32 length (big-endian, payload bytes, at most PROTO_MAX_FRAME)
 *     u8  type   ('J' JSON message, 'O' task output)
 *
 * 'J' payload: one UTF-8 JSON object with a "t" member naming the message.
 * 'O' payload: u32 task id (big-endian), u8 stream (1 stdout, 2 stderr),
 *     then the task's bytes exactly as the process wrote them.
 *
 * Messages, versioning and the conversation are in docs/protocol.md.  This
 * codec does no I/O of its own beyond the blocking helpers for the client,
 * so it is unit-tested alone.
 */
#ifndef BLD_PROTO_H
#define BLD_PROTO_H

#include <stddef.h>
#include <stdint.h>

#include "bld/base.h"

#define PROTO_VERSION 1
#define PROTO_HEADER 5
#define PROTO_MAX_FRAME (64u << 20)

enum proto_type {
	PROTO_JSON = 'J',
	PROTO_OUTPUT = 'O',
};

/* One decoded frame; data is borrowed from the reader until its next call. */
struct proto_frame {
	int type;
	const char *data; /* JSON text (NUL-terminated copy) or output bytes */
	size_t len;
	uint32_t task;    /* PROTO_OUTPUT only */
	int stream;       /* PROTO_OUTPUT only: 1 stdout, 2 stderr */
};

/* Append a JSON message frame holding json (len bytes) to out. */
void proto_encode_json(struct sbuf *out, const char *json, size_t len);
/* Append an output frame for task/stream to out. */
void proto_encode_output(struct sbuf *out, uint32_t task, int stream, const void *data,
                         size_t len);

/* Incremental decoder: feed bytes as they arrive, take whole frames out. */
struct proto_reader {
	struct sbuf buf;
	size_t off;
	char *json; /* NUL-terminated copy of the last JSON payload */
};
void proto_reader_init(struct proto_reader *r);
void proto_reader_release(struct proto_reader *r);
/* Append received bytes. */
void proto_reader_feed(struct proto_reader *r, const void *data, size_t len);
/* 1 and fills ret_frame when a whole frame is buffered, 0 when more bytes are
 * needed, BLD_EPROTO on a bad type or a length over PROTO_MAX_FRAME. */
int proto_reader_next(struct proto_reader *r, struct proto_frame *ret_frame);

/* Blocking helpers for the client: write all of buf to fd (0 or -errno). */
int proto_write_all(int fd, const void *buf, size_t len);

#endif
