/*
 * transport.c - HTTP transfers for the remote cache, through libcurl, on a
 * thread of their own.
 *
 * One multi handle runs every transfer of a remote cache connection: its
 * connection pool reuses connections across requests, it multiplexes over
 * HTTP/2 where the server offers it (ALPN over TLS), and transfers run in
 * parallel without ever touching the engine's loop thread.  Callers submit a
 * struct xfer_req and either wait for it (xfer_wait) or get a callback on
 * the transport thread (done_cb).
 *
 * Timeouts: connecting gives up after 2 s; a transfer that moves no byte for
 * stall_s seconds fails.  Nothing here logs; errors are in the request.
 */
#include "cache_int.h"

#include <curl/curl.h>
#include <stdlib.h>
#include <string.h>

#define XFER_CONNECT_TIMEOUT_MS 2000
#define XFER_MAX_PER_HOST 16

struct xfer {
	CURLM *multi;
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t cond; /* a request completed */
	struct xfer_req *queue, *queue_tail; /* submitted, not yet added to multi */
	struct xfer_run *running;            /* in the multi handle (transport thread only) */
	long stall_s;
	bool stop;
};

/* libcurl's own state (one per request while it runs). */
struct xfer_run {
	struct xfer_req *req;
	CURL *easy;
	struct curl_slist *headers;
	char errbuf[CURL_ERROR_SIZE];
	uint64_t t0;
	struct xfer_run *prev, *next; /* xfer.running */
};

static size_t write_cb(char *p, size_t size, size_t n, void *arg)
{
	struct xfer_req *r = arg;
	size_t len = size * n;
	if (r->resp.len + len > r->max_resp) {
		r->truncated = true;
		return 0; /* stops the transfer: more than the caller wants */
	}
	sbuf_add(&r->resp, p, len);
	return len;
}

static size_t header_cb(char *p, size_t size, size_t n, void *arg)
{
	struct xfer_req *r = arg;
	size_t len = size * n;
	static const char name[] = "x-artifact-tag:";
	if (len > sizeof(name) - 1 && !strncasecmp(p, name, sizeof(name) - 1)) {
		const char *v = p + sizeof(name) - 1, *e = p + len;
		while (v < e && (*v == ' ' || *v == '\t'))
			v++;
		while (e > v && (e[-1] == '\r' || e[-1] == '\n' || e[-1] == ' '))
			e--;
		free(r->tag);
		r->tag = xstrndup(v, (size_t)(e - v));
	}
	return len;
}

static struct xfer_run *run_new(struct xfer *x, struct xfer_req *r)
{
	struct xfer_run *xr = xcalloc(1, sizeof(*xr));
	xr->req = r;
	xr->t0 = now_ms();
	CURL *e = xr->easy = curl_easy_init();
	curl_easy_setopt(e, CURLOPT_URL, r->url);
	curl_easy_setopt(e, CURLOPT_PRIVATE, xr);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_ERRORBUFFER, xr->errbuf);
	curl_easy_setopt(e, CURLOPT_CONNECTTIMEOUT_MS, (long)XFER_CONNECT_TIMEOUT_MS);
	curl_easy_setopt(e, CURLOPT_LOW_SPEED_LIMIT, 1L);
	curl_easy_setopt(e, CURLOPT_LOW_SPEED_TIME, x->stall_s);
	curl_easy_setopt(e, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_2TLS);
	curl_easy_setopt(e, CURLOPT_PIPEWAIT, 1L);
	curl_easy_setopt(e, CURLOPT_FOLLOWLOCATION, 1L);
	curl_easy_setopt(e, CURLOPT_MAXREDIRS, 3L);
	curl_easy_setopt(e, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(e, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, write_cb);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, r);
	curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, header_cb);
	curl_easy_setopt(e, CURLOPT_HEADERDATA, r);
	for (size_t i = 0; i < r->headers.n; i++)
		xr->headers = curl_slist_append(xr->headers, r->headers.v[i]);
	if (r->method == XFER_PUT) {
		/* a body of known length: Content-Length, never chunked; no 100-continue wait */
		xr->headers = curl_slist_append(xr->headers, "Expect:");
		curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, "PUT");
		curl_easy_setopt(e, CURLOPT_POSTFIELDS, r->body);
		curl_easy_setopt(e, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)r->body_len);
	} else if (r->method == XFER_HEAD) {
		curl_easy_setopt(e, CURLOPT_NOBODY, 1L);
	} else {
		curl_easy_setopt(e, CURLOPT_HTTPGET, 1L);
	}
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, xr->headers);
	xr->next = x->running;
	if (x->running)
		x->running->prev = xr;
	x->running = xr;
	return xr;
}

static void run_done(struct xfer *x, struct xfer_run *xr, CURLcode rc)
{
	struct xfer_req *r = xr->req;
	long status = 0;
	curl_easy_getinfo(xr->easy, CURLINFO_RESPONSE_CODE, &status);
	r->status = status;
	r->ms = now_ms() - xr->t0;
	if (rc != CURLE_OK && !(rc == CURLE_WRITE_ERROR && r->truncated)) {
		r->failed = true;
		snprintf(r->error, sizeof(r->error), "%s",
		         xr->errbuf[0] ? xr->errbuf : curl_easy_strerror(rc));
	}
	if (xr->prev)
		xr->prev->next = xr->next;
	else
		x->running = xr->next;
	if (xr->next)
		xr->next->prev = xr->prev;
	curl_multi_remove_handle(x->multi, xr->easy);
	curl_easy_cleanup(xr->easy);
	curl_slist_free_all(xr->headers);
	free(xr);
	void (*cb)(struct xfer_req *) = r->done_cb;
	if (cb)
		cb(r); /* may free r */
	pthread_mutex_lock(&x->lock);
	if (!cb)
		r->done = true;
	pthread_cond_broadcast(&x->cond);
	pthread_mutex_unlock(&x->lock);
}

/* Move what was submitted into the multi handle. */
static bool take_queue(struct xfer *x)
{
	pthread_mutex_lock(&x->lock);
	struct xfer_req *q = x->queue;
	x->queue = x->queue_tail = NULL;
	bool stop = x->stop;
	pthread_mutex_unlock(&x->lock);
	while (q) {
		struct xfer_req *next = q->next;
		q->next = NULL;
		curl_multi_add_handle(x->multi, run_new(x, q)->easy);
		q = next;
	}
	return stop;
}

static void *thread_main(void *arg)
{
	struct xfer *x = arg;
	for (;;) {
		bool stop = take_queue(x);
		int running = 0;
		curl_multi_perform(x->multi, &running);
		CURLMsg *m;
		int left;
		while ((m = curl_multi_info_read(x->multi, &left))) {
			if (m->msg != CURLMSG_DONE)
				continue;
			struct xfer_run *xr;
			curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&xr);
			run_done(x, xr, m->data.result);
		}
		if (stop)
			break;
		curl_multi_poll(x->multi, NULL, 0, 1000, NULL);
	}
	return NULL;
}

static void global_init(void)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
}

int xfer_new(long stall_s, struct xfer **ret, struct bld_err *err)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;
	pthread_once(&once, global_init);
	struct xfer *x = xcalloc(1, sizeof(*x));
	x->stall_s = stall_s > 0 ? stall_s : 30;
	x->multi = curl_multi_init();
	if (!x->multi) {
		free(x);
		return bld_err_set(err, BLD_EREMOTE, "remote cache: libcurl did not start");
	}
	curl_multi_setopt(x->multi, CURLMOPT_PIPELINING, (long)CURLPIPE_MULTIPLEX);
	curl_multi_setopt(x->multi, CURLMOPT_MAX_HOST_CONNECTIONS, (long)XFER_MAX_PER_HOST);
	pthread_mutex_init(&x->lock, NULL);
	pthread_cond_init(&x->cond, NULL);
	if (pthread_create(&x->thread, NULL, thread_main, x) != 0) {
		curl_multi_cleanup(x->multi);
		free(x);
		return bld_err_set(err, BLD_EREMOTE, "remote cache: cannot start its thread");
	}
	*ret = x;
	return 0;
}

void xfer_submit(struct xfer *x, struct xfer_req *r)
{
	r->next = NULL;
	r->done = false;
	if (!r->max_resp)
		r->max_resp = SIZE_MAX;
	pthread_mutex_lock(&x->lock);
	if (x->queue_tail)
		x->queue_tail->next = r;
	else
		x->queue = r;
	x->queue_tail = r;
	pthread_mutex_unlock(&x->lock);
	curl_multi_wakeup(x->multi);
}

void xfer_wait(struct xfer *x, struct xfer_req *r)
{
	pthread_mutex_lock(&x->lock);
	while (!r->done)
		pthread_cond_wait(&x->cond, &x->lock);
	pthread_mutex_unlock(&x->lock);
}

void xfer_free(struct xfer *x)
{
	if (!x)
		return;
	pthread_mutex_lock(&x->lock);
	x->stop = true;
	pthread_mutex_unlock(&x->lock);
	curl_multi_wakeup(x->multi);
	pthread_join(x->thread, NULL);
	/* transfers still running are abandoned: their requests complete as failed */
	while (x->running)
		run_done(x, x->running, CURLE_ABORTED_BY_CALLBACK);
	for (struct xfer_req *q = x->queue, *next; q; q = next) {
		next = q->next;
		q->failed = true;
		snprintf(q->error, sizeof(q->error), "canceled");
		q->done = true;
		if (q->done_cb)
			q->done_cb(q);
	}
	curl_multi_cleanup(x->multi);
	pthread_mutex_destroy(&x->lock);
	pthread_cond_destroy(&x->cond);
	free(x);
}

void xfer_req_release(struct xfer_req *r)
{
	free(r->url);
	strvec_release(&r->headers);
	sbuf_release(&r->resp);
	free(r->tag);
}
