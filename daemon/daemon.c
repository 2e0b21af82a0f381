/*
 * daemon.c - the engine object: the libuv loop, connections, framing.
 *
 * A connection reads frames with the codec of proto.h (which does no I/O),
 * checks the hello, turns the request message into a struct request and
 * hands cancel messages to it.  Writes are queued with uv_write; each write
 * owns its bytes.  A connection is freed in its pipe's close callback.
 * In one-shot mode the engine closes the connection once its request is
 * finished, and the loop ends when the last handle is closed.
 */
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "engine_int.h"
#include "host.h"

struct write_req {
	uv_write_t w;
	char *data; /* owned */
};

static void conn_close(struct conn *c);
static void flush_cb(uv_prepare_t *p);

/* The engine itself got a signal: cancel every request (their tasks are stopped), and
 * the connections end as the requests finish. */
void daemon__cancel_all(struct daemon *d)
{
	for (struct conn *c = d->conns, *next; c; c = next) {
		next = c->next;
		if (c->req)
			request_cancel(c->req);
		else
			conn_close(c);
	}
}

static void signal_cb(uv_signal_t *h, int signum)
{
	struct daemon *d = h->data;
	if (d->resident) {
		if (signum != SIGHUP)
			server_shutdown(d, signum == SIGINT ? "SIGINT" : "SIGTERM");
		return;
	}
	daemon__cancel_all(d);
}

int daemon_new(bool oneshot, struct daemon **ret)
{
	struct daemon *d = xcalloc(1, sizeof(*d));
	int rc = uv_loop_init(&d->loop);
	if (rc < 0) {
		free(d);
		return rc;
	}
	d->loop.data = d;
	d->oneshot = oneshot;
	workspace_libgit2_hold(); /* once for the engine's life: a first init is costly */
	d->lock_fd = -1;
	d->listen_fd = -1;
	d->version = BLD_VERSION;
	uv_prepare_init(&d->loop, &d->flush);
	d->flush.data = d;
	uv_prepare_start(&d->flush, flush_cb);
	uv_unref((uv_handle_t *)&d->flush); /* it never keeps the engine alive */
	const int signums[] = {SIGINT, SIGTERM, SIGHUP};
	for (size_t i = 0; i < ARRAY_LEN(signums); i++) {
		uv_signal_init(&d->loop, &d->signals[i]);
		d->signals[i].data = d;
		uv_signal_start(&d->signals[i], signal_cb, signums[i]);
		uv_unref((uv_handle_t *)&d->signals[i]); /* they never keep the engine alive */
	}
	*ret = d;
	return 0;
}

static void undirty(struct conn *c)
{
	if (!c->dirty)
		return;
	for (struct conn **pp = &c->d->dirty; *pp; pp = &(*pp)->next_dirty)
		if (*pp == c) {
			*pp = c->next_dirty;
			break;
		}
	c->dirty = false;
	c->next_dirty = NULL;
}

static void conn_closed_cb(uv_handle_t *h)
{
	struct conn *c = (struct conn *)h;
	struct daemon *d = c->d;
	undirty(c);
	sbuf_release(&c->out);
	for (struct conn **pp = &d->conns; *pp; pp = &(*pp)->next)
		if (*pp == c) {
			*pp = c->next;
			break;
		}
	proto_reader_release(&c->rd);
	free(c);
	d->nconns--;
	server_conns_changed(d);
}

static void conn_close(struct conn *c)
{
	if (c->closing)
		return;
	c->closing = true;
	if (c->req) {
		/* the client left mid-request: stop its work; the request lives on until done */
		struct request *r = c->req;
		c->req = NULL;
		r->conn = NULL;
		request_cancel(r);
	}
	uv_close((uv_handle_t *)&c->pipe, conn_closed_cb);
}

static void conn_end(struct conn *c);

size_t conn_write_queue_size(const struct conn *c)
{
	return uv_stream_get_write_queue_size((const uv_stream_t *)&c->pipe) + c->out.len;
}

static void write_cb(uv_write_t *w, int status)
{
	struct write_req *wr = (struct write_req *)w;
	struct conn *c = (struct conn *)w->handle;
	free(wr->data);
	free(wr);
	if (status == 0 && !c->closing && c->req && c->req->run &&
	    conn_write_queue_size(c) < CONN_QUEUE_LOW)
		run_output_drained(c->req->run);
}

/* Hand len bytes to libuv (taking ownership of data). */
static void conn_write_now(struct conn *c, char *data, size_t len)
{
	if (c->closing || !len) {
		free(data);
		return;
	}
	struct write_req *wr = xmalloc(sizeof(*wr));
	wr->data = data;
	uv_buf_t b = uv_buf_init(data, (unsigned)len);
	if (uv_write(&wr->w, (uv_stream_t *)&c->pipe, &b, 1, write_cb) < 0) {
		free(data);
		free(wr);
	}
}

/* Write what c gathered. */
static void conn_flush(struct conn *c)
{
	undirty(c);
	size_t len = c->out.len;
	if (len)
		conn_write_now(c, sbuf_detach(&c->out), len);
}

/* The loop is about to wait: every connection's gathered frames go out. */
static void flush_cb(uv_prepare_t *p)
{
	struct daemon *d = p->data;
	while (d->dirty)
		conn_flush(d->dirty);
}

/* Bytes were added to c->out: write them now when they fill a chunk, else
 * before the loop next waits (flush_cb). */
static void conn_queued(struct conn *c)
{
	if (c->out.len >= CONN_WRITE_CHUNK) {
		conn_flush(c);
	} else if (!c->dirty) {
		c->dirty = true;
		c->next_dirty = c->d->dirty;
		c->d->dirty = c;
	}
}

/* Queue len bytes (taking ownership of data): gathered with the frames that
 * follow in this loop iteration, so a run's thousands of events take a few
 * writes rather than one system call each. */
static void conn_write(struct conn *c, char *data, size_t len)
{
	if (c->closing || !len) {
		free(data);
		return;
	}
	if (!c->out.len && len >= CONN_WRITE_CHUNK) {
		conn_write_now(c, data, len);
		return;
	}
	sbuf_add(&c->out, data, len);
	free(data);
	conn_queued(c);
}

void conn_send_frames(struct conn *c, char *frames, size_t len)
{
	if (c)
		conn_write(c, frames, len);
	else
		free(frames);
}

void conn_send_json_text(struct conn *c, const char *json, size_t len)
{
	if (!c || c->closing)
		return;
	if (!c->out.cap) /* a chunk's room at once: not a realloc chain per chunk of events */
		sbuf_grow(&c->out, CONN_WRITE_CHUNK + 4096);
	proto_encode_json(&c->out, json, len);
	conn_queued(c);
}

void conn_send_json(struct conn *c, const cJSON *msg)
{
	if (!c || c->closing)
		return;
	char *text = cJSON_PrintUnformatted(msg);
	conn_send_json_text(c, text, strlen(text));
	free(text);
}

void conn_send_output(struct conn *c, uint32_t task, int stream, const void *data, size_t len)
{
	if (!c)
		return;
	struct sbuf sb = SBUF_INIT;
	sbuf_init(&sb);
	proto_encode_output(&sb, task, stream, data, len);
	size_t n = sb.len;
	conn_write(c, sbuf_detach(&sb), n);
}

static void send_simple(struct conn *c, const char *t, const char *msg, int exit_code)
{
	cJSON *m = cJSON_CreateObject();
	cJSON_AddStringToObject(m, "t", t);
	if (msg) {
		cJSON_AddStringToObject(m, "level", "error");
		cJSON_AddStringToObject(m, "text", msg);
	}
	if (exit_code >= 0)
		cJSON_AddNumberToObject(m, "exit", exit_code);
	conn_send_json(c, m);
	cJSON_Delete(m);
}

/* A protocol violation: tell the client, end the conversation. */
static void conn_fail(struct conn *c, const char *why)
{
	send_simple(c, "message", why, -1);
	send_simple(c, "done", NULL, 2);
	conn_end(c);
}

static void on_hello(struct conn *c, cJSON *msg)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(msg, "proto");
	const cJSON *cv = cJSON_GetObjectItemCaseSensitive(msg, "client");
	struct daemon *d = c->d;
	if (d->resident && (!cJSON_IsNumber(v) || v->valueint != PROTO_VERSION ||
	                    !cJSON_IsString(cv) || strcmp(cv->valuestring, d->version))) {
		/* the client starts a daemon of its own version once this one lets go */
		server_retire(d);
		cJSON *m = cJSON_CreateObject();
		cJSON_AddStringToObject(m, "t", "hello");
		cJSON_AddNumberToObject(m, "proto", PROTO_VERSION);
		cJSON_AddStringToObject(m, "version", d->version);
		cJSON_AddNumberToObject(m, "pid", (double)getpid());
		cJSON_AddBoolToObject(m, "retire", true);
		conn_send_json(c, m);
		cJSON_Delete(m);
		conn_end(c);
		return;
	}
	if (!cJSON_IsNumber(v) || v->valueint != PROTO_VERSION) {
		char why[160];
		snprintf(why, sizeof(why),
		         "protocol version mismatch: client speaks %d, engine bldd %s speaks %d",
		         cJSON_IsNumber(v) ? v->valueint : -1, BLD_VERSION, PROTO_VERSION);
		conn_fail(c, why);
		return;
	}
	c->hello = true;
	cJSON *m = cJSON_CreateObject();
	cJSON_AddStringToObject(m, "t", "hello");
	cJSON_AddNumberToObject(m, "proto", PROTO_VERSION);
	cJSON_AddStringToObject(m, "version", d->version);
	cJSON_AddNumberToObject(m, "pid", (double)getpid());
	conn_send_json(c, m);
	cJSON_Delete(m);
}

static void on_request(struct conn *c, cJSON *msg)
{
	if (c->req) {
		cJSON_Delete(msg);
		conn_fail(c, "a request is already running on this connection");
		return;
	}
	struct bld_err err;
	bld_err_clear(&err);
	struct request *r;
	if (request_new(c->d, c, msg, &r, &err) < 0) {
		conn_fail(c, err.msg);
		return;
	}
	c->req = r;
	request_start(r);
}

/* Handle one JSON message; takes ownership of msg. */
static void on_message(struct conn *c, cJSON *msg)
{
	const cJSON *t = cJSON_GetObjectItemCaseSensitive(msg, "t");
	const char *type = cJSON_IsString(t) ? t->valuestring : "";
	if (!c->hello && strcmp(type, "hello")) {
		cJSON_Delete(msg);
		conn_fail(c, "protocol error: the first message must be hello");
		return;
	}
	if (!strcmp(type, "hello")) {
		on_hello(c, msg);
		cJSON_Delete(msg);
	} else if (!strcmp(type, "request")) {
		on_request(c, msg);
	} else if (!strcmp(type, "cancel")) {
		cJSON_Delete(msg);
		if (c->req)
			request_cancel(c->req);
	} else {
		cJSON_Delete(msg);
		/* unknown messages are ignored: newer clients may send hints */
	}
}

static void conn_alloc_cb(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
	buf->base = xmalloc(65536);
	buf->len = 65536;
}

static void conn_read_cb(uv_stream_t *s, ssize_t n, const uv_buf_t *buf)
{
	struct conn *c = (struct conn *)s;
	if (n < 0) {
		free(buf->base);
		conn_close(c);
		return;
	}
	proto_reader_feed(&c->rd, buf->base, (size_t)n);
	free(buf->base);
	struct proto_frame f;
	int rc;
	while (!c->closing && (rc = proto_reader_next(&c->rd, &f)) == 1) {
		if (f.type != PROTO_JSON)
			continue; /* clients send no output frames */
		cJSON *msg = cJSON_ParseWithLength(f.data, f.len);
		if (!msg) {
			conn_fail(c, "protocol error: a message is not valid JSON");
			return;
		}
		on_message(c, msg);
	}
	if (!c->closing && rc < 0)
		conn_fail(c, "protocol error: bad frame");
}

int daemon_serve_fd(struct daemon *d, int fd)
{
	struct conn *c = xcalloc(1, sizeof(*c));
	c->d = d;
	sbuf_init(&c->out);
	proto_reader_init(&c->rd);
	uv_pipe_init(&d->loop, &c->pipe, 0);
	int rc = uv_pipe_open(&c->pipe, fd);
	if (rc < 0) {
		c->closing = true;
		uv_close((uv_handle_t *)&c->pipe, conn_closed_cb);
		c->next = d->conns;
		d->conns = c;
		d->nconns++;
		return rc;
	}
	c->next = d->conns;
	d->conns = c;
	d->nconns++;
	server_conns_changed(d);
	return uv_read_start((uv_stream_t *)&c->pipe, conn_alloc_cb, conn_read_cb);
}

static void shutdown_cb(uv_shutdown_t *sr, int status)
{
	struct conn *c = sr->data;
	uv_close((uv_handle_t *)&c->pipe, conn_closed_cb);
}

/* End the conversation after the queued writes went out. */
static void conn_end(struct conn *c)
{
	if (c->closing)
		return;
	conn_flush(c);
	c->closing = true;
	uv_read_stop((uv_stream_t *)&c->pipe);
	c->shutdown.data = c;
	if (uv_shutdown(&c->shutdown, (uv_stream_t *)&c->pipe, shutdown_cb) < 0)
		uv_close((uv_handle_t *)&c->pipe, conn_closed_cb);
}

void daemon__request_done(struct daemon *d, struct conn *c, int exit_code)
{
	d->last_exit = exit_code;
	d->served++;
	if (c) {
		c->req = NULL;
		conn_end(c); /* one request per connection */
	}
	if (d->stop_after)
		server_shutdown(d, "bld daemon stop");
}

int daemon_run(struct daemon *d)
{
	uv_run(&d->loop, UV_RUN_DEFAULT);
	/* only the unref'd signal handles are left: close them, let their callbacks run */
	for (size_t i = 0; i < ARRAY_LEN(d->signals); i++)
		uv_close((uv_handle_t *)&d->signals[i], NULL);
	uv_close((uv_handle_t *)&d->flush, NULL);
	uv_run(&d->loop, UV_RUN_DEFAULT);
	return uv_loop_close(&d->loop);
}

void daemon__close_hosts(struct daemon *d)
{
	for (struct host *h = d->hosts; h; h = h->next)
		host_close(h);
}

void daemon_free(struct daemon *d)
{
	while (d->hosts) {
		struct host *h = d->hosts;
		d->hosts = h->next;
		host_free(h);
	}
	workspace_libgit2_release();
	free(d);
}
