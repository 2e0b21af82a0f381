/*
 * remote.c - the remote cache backends: configuration, the three protocols,
 * artifact signing, and what a failing server does to a run.
 *
 * As store backends (store.h): lookup downloads an entry's artifact and
 * verifies all of it (artifact.c) before returning it; get_blob is a slice
 * of that artifact; put_blob stages bytes in the entry being put, and
 * put_entry packs them as one artifact and uploads it in the background.
 * The servers store whole artifacts only (docs/cache.md, "Store backends").
 *
 * Keys (the path below the base URL):
 *   http       /ac/<SHA-256 hex of "bld-artifact:" task hash>  (64 hex digits, which
 *              bazel-remote's /ac/ accepts; it must run with
 *              --disable_http_ac_validation, as bld's body is not an ActionResult)
 *   nx         /v1/cache/<task hash>
 *   turborepo  /v8/artifacts/<task hash>?teamId=<team> (or ?slug= for a team that
 *              does not start with "team_", as Turborepo does)
 *
 * Signing (BLD_REMOTE_CACHE_SIGNING_KEY): tag = HMAC-SHA256(key, task hash ||
 * team || artifact), Turborepo's x-artifact-tag construction.  turborepo sends
 * it base64 in x-artifact-tag; http and nx append it to the body as a
 * 40-byte trailer "BLDSIG01" + the 32 tag bytes.  With a key set, a body
 * without a valid tag is refused.
 *
 * Status handling: GET 200 hit, 404 miss; PUT 2xx stored, 409 already there,
 * 403 read-only token (uploads stop, reads go on); 401 anywhere: the token is
 * refused; any other status, a timeout or a connection failure: the remote is
 * down for the rest of its life (local only).  Each of these says one warning.
 */
#include "cache_int.h"

#include "bld/remote.h"

#include <openssl/evp.h>
#include <openssl/crypto.h>
#include <openssl/params.h>
#include <openssl/sha.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SIG_MAGIC "BLDSIG01"
#define SIG_LEN 40
/* The largest artifact a download keeps. */
#define REMOTE_MAX_DOWNLOAD (4ull << 30)

/* What a resident daemon keeps across requests (remote.h): a configuration
 * and its transport (libcurl's connections, its thread).  Immutable once
 * made; thread-safe. */
struct remote_link {
	struct remote_config cfg;
	char *display; /* URL without credentials */
	struct xfer *x;
};

/* One run's use of a link: the backend.  What degrades (down, no_upload),
 * the warnings and the counters are a run's own, so a server that failed
 * one run is tried again by the next.  Reference counted: the owner holds
 * one, every request in flight with a done callback (prefetches, uploads)
 * another, so a run that ends before its last upload frees nothing that
 * upload's callback touches. */
struct remote {
	struct store_backend base; /* first: the backend's ops (remote_ops) */
	struct remote_link *link;  /* borrowed, or owned when own_link */
	bool own_link;
	pthread_mutex_t lock;
	pthread_cond_t cond; /* a prefetch or an upload completed */
	int refs;
	size_t uploads;  /* uploads in flight */
	bool down;       /* local only from now on */
	bool no_upload;  /* the token is read-only */
	struct strvec warnings;
	struct cache_remote_stats stats;
	struct prefetch *prefetched; /* downloads started ahead of remote_lookup */
};

/* A download started by remote_prefetch, waiting for its remote_lookup. */
struct prefetch {
	char hash[33];
	struct xfer_req *q;
	struct remote *r;
	bool done;   /* q completed (under r->lock) */
	bool orphan; /* the run ended first: the callback frees it */
	struct prefetch *next;
};

static void req_free(struct xfer_req *q);
static const struct store_backend_ops remote_ops[REMOTE_TURBOREPO + 1];
static void remote_free(struct store_backend *b);
static void session_free(struct remote *r);

static struct remote *of(struct store_backend *b)
{
	return (struct remote *)b;
}

/* ---- configuration ---- */

static const char *setting(char *const *env, const cJSON *bld, const char *name,
                           const char *alias)
{
	const char *v = env_get(env, name);
	if (!(v && *v) && alias)
		v = env_get(env, alias);
	if (v && *v)
		return v;
	const cJSON *j = cJSON_GetObjectItemCaseSensitive(bld, name);
	if (cJSON_IsString(j) && *j->valuestring)
		return j->valuestring;
	if (cJSON_IsBool(j))
		return cJSON_IsTrue(j) ? "true" : "false";
	if (cJSON_IsNumber(j)) {
		static _Thread_local char num[32];
		snprintf(num, sizeof(num), "%g", j->valuedouble);
		return num;
	}
	return NULL;
}

static bool truthy(const char *v)
{
	return v && *v && strcmp(v, "0") && strcasecmp(v, "false") && strcasecmp(v, "no");
}

static char *dup_or_null(const char *s)
{
	return s ? xstrdup(s) : NULL;
}

static int seconds(const char *v, const char *name, long dflt, long *ret, struct bld_err *err)
{
	if (!v) {
		*ret = dflt;
		return 0;
	}
	char *end;
	long n = strtol(v, &end, 10);
	if (*end || n <= 0 || n > 86400)
		return bld_err_set(err, BLD_EUSAGE, "%s: \"%.40s\" is not a number of seconds", name,
		                   v);
	*ret = n;
	return 0;
}

int remote_config_read(char *const *env, const cJSON *nx_json, struct remote_config *ret,
                       struct bld_err *err)
{
	memset(ret, 0, sizeof(*ret));
	const cJSON *bld = cJSON_GetObjectItemCaseSensitive(nx_json, "bld");
	const char *url = setting(env, bld, "BLD_REMOTE_CACHE_URL", NULL);
	if (!url)
		return 0;
	if (strncmp(url, "http://", 7) && strncmp(url, "https://", 8))
		return bld_err_set(err, BLD_EUSAGE,
		                   "BLD_REMOTE_CACHE_URL: expected an http:// or https:// URL");
	const char *proto = setting(env, bld, "BLD_REMOTE_CACHE_PROTOCOL", NULL);
	if (!proto || !strcmp(proto, "http"))
		ret->protocol = REMOTE_HTTP;
	else if (!strcmp(proto, "nx"))
		ret->protocol = REMOTE_NX;
	else if (!strcmp(proto, "turborepo"))
		ret->protocol = REMOTE_TURBOREPO;
	else
		return bld_err_set(err, BLD_EUSAGE,
		                   "BLD_REMOTE_CACHE_PROTOCOL: \"%.40s\" is not one of http, nx, "
		                   "turborepo",
		                   proto);
	long stall = 0, wait = 0;
	int r = seconds(setting(env, bld, "BLD_REMOTE_CACHE_TIMEOUT", NULL),
	                "BLD_REMOTE_CACHE_TIMEOUT", 30, &stall, err);
	if (r == 0)
		r = seconds(setting(env, bld, "BLD_REMOTE_CACHE_UPLOAD_WAIT", NULL),
		            "BLD_REMOTE_CACHE_UPLOAD_WAIT", 60, &wait, err);
	if (r < 0)
		return r;
	const char *team = setting(env, bld, "BLD_REMOTE_CACHE_TEAM", "TURBO_TEAMID");
	if (ret->protocol == REMOTE_TURBOREPO && !team)
		return bld_err_set(err, BLD_EUSAGE,
		                   "the turborepo protocol needs a team: set BLD_REMOTE_CACHE_TEAM "
		                   "(or TURBO_TEAMID)");
	ret->url = xstrdup(url);
	size_t n = strlen(ret->url);
	while (n > 8 && ret->url[n - 1] == '/')
		ret->url[--n] = '\0';
	ret->token = dup_or_null(setting(env, bld, "BLD_REMOTE_CACHE_TOKEN", "TURBO_TOKEN"));
	ret->team = dup_or_null(team);
	ret->signing_key = dup_or_null(setting(env, bld, "BLD_REMOTE_CACHE_SIGNING_KEY", NULL));
	ret->read_only = truthy(setting(env, bld, "BLD_REMOTE_CACHE_READ_ONLY", NULL));
	ret->stall_s = stall;
	ret->upload_wait_ms = (uint64_t)wait * 1000;
	return 1;
}

void remote_config_release(struct remote_config *cfg)
{
	if (!cfg)
		return;
	free(cfg->url);
	free(cfg->token);
	free(cfg->team);
	free(cfg->signing_key);
	memset(cfg, 0, sizeof(*cfg));
}

/* scheme://host/path of url without any user:password@ part. */
static char *display_url(const char *url)
{
	const char *host = strstr(url, "://");
	host = host ? host + 3 : url;
	const char *slash = strchr(host, '/'), *at = strchr(host, '@');
	if (at && (!slash || at < slash))
		return xasprintf("%.*s%s", (int)(host - url), url, at + 1);
	return xstrdup(url);
}

static void config_copy(struct remote_config *dst, const struct remote_config *src)
{
	*dst = *src;
	dst->url = xstrdup(src->url);
	dst->token = dup_or_null(src->token);
	dst->team = dup_or_null(src->team);
	dst->signing_key = dup_or_null(src->signing_key);
}

int remote_link_new(const struct remote_config *cfg, struct remote_link **ret,
                    struct bld_err *err)
{
	struct remote_link *l = xcalloc(1, sizeof(*l));
	config_copy(&l->cfg, cfg);
	l->display = display_url(cfg->url);
	int rc = xfer_new(cfg->stall_s, &l->x, err);
	if (rc < 0) {
		remote_link_free(l);
		return rc;
	}
	*ret = l;
	return 0;
}

static bool same_str(const char *a, const char *b)
{
	return a == b || (a && b && !strcmp(a, b));
}

bool remote_link_is(const struct remote_link *l, const struct remote_config *cfg)
{
	const struct remote_config *c = &l->cfg;
	return same_str(c->url, cfg->url) && c->protocol == cfg->protocol &&
	       same_str(c->token, cfg->token) && same_str(c->team, cfg->team) &&
	       same_str(c->signing_key, cfg->signing_key) && c->read_only == cfg->read_only &&
	       c->stall_s == cfg->stall_s && c->upload_wait_ms == cfg->upload_wait_ms;
}

void remote_link_free(struct remote_link *l)
{
	if (!l)
		return;
	xfer_free(l->x); /* what still runs completes as failed: its callbacks run now */
	remote_config_release(&l->cfg);
	free(l->display);
	free(l);
}

int remote_open(struct remote_link *l, struct store_backend **ret, struct bld_err *err)
{
	struct remote *r = xcalloc(1, sizeof(*r));
	r->base.ops = &remote_ops[l->cfg.protocol];
	r->link = l;
	r->refs = 1;
	pthread_mutex_init(&r->lock, NULL);
	pthread_cond_init(&r->cond, NULL);
	strvec_init(&r->warnings);
	*ret = &r->base;
	return 0;
}

int remote_new(const struct remote_config *cfg, struct store_backend **ret, struct bld_err *err)
{
	struct remote_link *l;
	int rc = remote_link_new(cfg, &l, err);
	if (rc < 0)
		return rc;
	rc = remote_open(l, ret, err);
	if (rc < 0) {
		remote_link_free(l);
		return rc;
	}
	((struct remote *)*ret)->own_link = true;
	return 0;
}

/* Wait under r->lock until *pred is false or the deadline (ms) passes. */
static void wait_until(struct remote *r, const size_t *pred, uint64_t deadline)
{
	while (*pred && now_ms() < deadline) {
		struct timespec ts;
		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_nsec += 50 * 1000000L;
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		pthread_cond_timedwait(&r->cond, &r->lock, &ts);
	}
}

/* Wait up to upload_wait_ms for this run's uploads (others' on a shared
 * link are theirs to wait for). */
static void remote_flush(struct store_backend *b)
{
	struct remote *r = of(b);
	pthread_mutex_lock(&r->lock);
	wait_until(r, &r->uploads, now_ms() + r->link->cfg.upload_wait_ms);
	pthread_mutex_unlock(&r->lock);
}

/* Drop a reference, under r->lock; true when it was the last (then the
 * caller frees r after unlocking). */
static bool unref_locked(struct remote *r)
{
	return --r->refs == 0;
}

/* Free a session nobody references; its link is not touched (it may be
 * the transport thread's own callback that gets here). */
static void session_free(struct remote *r)
{
	for (struct prefetch *p = r->prefetched, *next; p; p = next) {
		next = p->next;
		req_free(p->q);
		free(p);
	}
	strvec_release(&r->warnings);
	pthread_mutex_destroy(&r->lock);
	pthread_cond_destroy(&r->cond);
	free(r);
}

/* Wait (bounded) for the uploads; downloads nobody took are left to their
 * callbacks; with its own link, the transport stops first (what still runs
 * fails, and its callback runs now). */
static void remote_free(struct store_backend *b)
{
	struct remote *r = of(b);
	if (!r)
		return;
	remote_flush(b);
	if (r->own_link)
		remote_link_free(r->link);
	pthread_mutex_lock(&r->lock);
	for (struct prefetch **pp = &r->prefetched; *pp;) {
		struct prefetch *p = *pp;
		*pp = p->next;
		if (p->done) {
			req_free(p->q);
			free(p);
		} else {
			p->orphan = true; /* its callback frees it */
		}
	}
	bool last = unref_locked(r);
	pthread_mutex_unlock(&r->lock);
	if (last)
		session_free(r);
}

static void remote_take_warnings(struct store_backend *b, struct strvec *sv)
{
	struct remote *r = of(b);
	pthread_mutex_lock(&r->lock);
	for (size_t i = 0; i < r->warnings.n; i++)
		strvec_push(sv, r->warnings.v[i]);
	strvec_release(&r->warnings);
	strvec_init(&r->warnings);
	pthread_mutex_unlock(&r->lock);
}

/* ---- requests ---- */

static void hex(const unsigned char *b, size_t n, char *out)
{
	for (size_t i = 0; i < n; i++)
		snprintf(out + 2 * i, 3, "%02x", b[i]);
}

char *remote_key_path(enum remote_protocol p, const char *hash, const char *team)
{
	if (p == REMOTE_NX)
		return xasprintf("/v1/cache/%s", hash);
	if (p == REMOTE_TURBOREPO) {
		bool id = team && !strncmp(team, "team_", 5);
		char *esc = xstrdup(team ? team : "");
		for (char *s = esc; *s; s++) /* a query value: keep it to URL-safe bytes */
			if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_.~",
			            *s))
				*s = '_';
		char *k = xasprintf("/v8/artifacts/%s?%s=%s", hash, id ? "teamId" : "slug", esc);
		free(esc);
		return k;
	}
	char *msg = xasprintf("bld-artifact:%s", hash), h[65];
	unsigned char d[SHA256_DIGEST_LENGTH];
	SHA256((const unsigned char *)msg, strlen(msg), d);
	hex(d, sizeof(d), h);
	free(msg);
	return xasprintf("/ac/%s", h);
}

static struct xfer_req *req_new(struct remote *r, int method, const char *hash)
{
	struct xfer_req *q = xcalloc(1, sizeof(*q));
	q->method = method;
	char *path = remote_key_path(r->link->cfg.protocol, hash, r->link->cfg.team);
	q->url = xasprintf("%s%s", r->link->cfg.url, path);
	free(path);
	strvec_init(&q->headers);
	sbuf_init(&q->resp);
	if (r->link->cfg.token)
		strvec_push_owned(&q->headers, xasprintf("Authorization: Bearer %s", r->link->cfg.token));
	return q;
}

static void req_free(struct xfer_req *q)
{
	xfer_req_release(q);
	free(q);
}

/* Say why the remote stops (once), under r->lock. */
static void go_down(struct remote *r, const char *why)
{
	if (r->down)
		return;
	r->down = true;
	strvec_push_owned(&r->warnings,
	                  xasprintf("remote cache %s: %s; continuing with the local cache only",
	                            r->link->display, why));
}

/* What a failed or unexpected answer does; under r->lock.  A 401 names the
 * server and the setting, never the token. */
static void answer_failed(struct remote *r, const struct xfer_req *q, const char *what)
{
	char why[400];
	if (q->failed)
		snprintf(why, sizeof(why), "%s failed: %s", what, q->error);
	else if (q->status == 401)
		snprintf(why, sizeof(why),
		         "%s was refused (401 Unauthorized): the token (BLD_REMOTE_CACHE_TOKEN) is "
		         "missing or wrong",
		         what);
	else
		snprintf(why, sizeof(why), "%s answered HTTP %ld", what, q->status);
	go_down(r, why);
}

/* ---- signing ---- */

static void sign(const struct remote *r, const char *hash, const void *body, size_t len,
                 unsigned char tag[32])
{
	const char *team = r->link->cfg.team ? r->link->cfg.team : "";
	EVP_MAC *mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
	EVP_MAC_CTX *ctx = EVP_MAC_CTX_new(mac);
	OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string("digest", (char *)"SHA256", 0),
	                       OSSL_PARAM_construct_end()};
	size_t out = 0;
	EVP_MAC_init(ctx, (const unsigned char *)r->link->cfg.signing_key, strlen(r->link->cfg.signing_key),
	             params);
	EVP_MAC_update(ctx, (const unsigned char *)hash, strlen(hash));
	EVP_MAC_update(ctx, (const unsigned char *)team, strlen(team));
	EVP_MAC_update(ctx, body, len);
	EVP_MAC_final(ctx, tag, &out, 32);
	EVP_MAC_CTX_free(ctx);
	EVP_MAC_free(mac);
}

static char *tag_b64(const unsigned char tag[32])
{
	unsigned char out[64];
	EVP_EncodeBlock(out, tag, 32);
	return xstrdup((const char *)out);
}

/* The artifact inside a downloaded body, its signature checked: 0, or
 * BLD_ECORRUPT.  *len shrinks by a trailer. */
static int check_signature(const struct remote *r, const char *hash, const struct xfer_req *q,
                           size_t *len, struct bld_err *err)
{
	const char *b = q->resp.buf;
	bool trailer = r->link->cfg.protocol != REMOTE_TURBOREPO && *len >= SIG_LEN &&
	               !memcmp(b + *len - SIG_LEN, SIG_MAGIC, 8);
	if (trailer)
		*len -= SIG_LEN;
	if (!r->link->cfg.signing_key)
		return 0;
	unsigned char want[32];
	sign(r, hash, b, *len, want);
	bool ok;
	if (r->link->cfg.protocol == REMOTE_TURBOREPO) {
		char *w = tag_b64(want);
		ok = q->tag && !strcmp(q->tag, w);
		free(w);
	} else {
		ok = trailer && CRYPTO_memcmp(b + *len + 8, want, 32) == 0;
	}
	if (!ok)
		return bld_err_set(err, BLD_ECORRUPT,
		                   "its signature is missing or wrong (BLD_REMOTE_CACHE_SIGNING_KEY)");
	return 0;
}

/* ---- the backend ops: lookup, get blob, put blob, put entry, has ---- */

static bool usable(struct remote *r)
{
	pthread_mutex_lock(&r->lock);
	bool ok = !r->down;
	pthread_mutex_unlock(&r->lock);
	return ok;
}

static struct xfer_req *get_new(struct remote *r, const char *hash)
{
	struct xfer_req *q = req_new(r, XFER_GET, hash);
	q->max_resp = REMOTE_MAX_DOWNLOAD;
	xfer_submit(r->link->x, q);
	return q;
}

/* A prefetch completed (transport thread): its lookup may take it now; one
 * whose run ended first is freed here. */
static void prefetch_done(struct xfer_req *q)
{
	struct prefetch *p = q->arg;
	struct remote *r = p->r;
	pthread_mutex_lock(&r->lock);
	p->done = true;
	bool orphan = p->orphan;
	pthread_cond_broadcast(&r->cond);
	bool last = unref_locked(r);
	pthread_mutex_unlock(&r->lock);
	if (orphan) {
		req_free(q);
		free(p);
	}
	if (last)
		session_free(r);
}

static void remote_prefetch(struct store_backend *b, const char *const *hashes, size_t n)
{
	struct remote *r = of(b);
	for (size_t i = 0; i < n && usable(r); i++) {
		struct prefetch *p = xcalloc(1, sizeof(*p));
		snprintf(p->hash, sizeof(p->hash), "%s", hashes[i]);
		p->r = r;
		p->q = req_new(r, XFER_GET, hashes[i]);
		p->q->max_resp = REMOTE_MAX_DOWNLOAD;
		p->q->done_cb = prefetch_done;
		p->q->arg = p;
		pthread_mutex_lock(&r->lock);
		r->refs++; /* the callback's */
		p->next = r->prefetched;
		r->prefetched = p;
		pthread_mutex_unlock(&r->lock);
		xfer_submit(r->link->x, p->q);
	}
}

/* The prefetched download of hash (taken out of the list), waited for; or NULL. */
static struct xfer_req *take_prefetched(struct remote *r, const char *hash)
{
	struct xfer_req *q = NULL;
	pthread_mutex_lock(&r->lock);
	for (struct prefetch **pp = &r->prefetched; *pp; pp = &(*pp)->next) {
		if (!strcmp((*pp)->hash, hash)) {
			struct prefetch *p = *pp;
			*pp = p->next;
			while (!p->done)
				pthread_cond_wait(&r->cond, &r->lock);
			q = p->q;
			free(p);
			break;
		}
	}
	pthread_mutex_unlock(&r->lock);
	return q;
}

/* The download of hash, waited for: the request (a 200), or NULL on a miss
 * or while the remote is down (said once). */
static struct xfer_req *download(struct remote *r, const char *hash)
{
	struct xfer_req *q = take_prefetched(r, hash);
	if (!q && !usable(r))
		return NULL;
	if (!q) {
		q = get_new(r, hash);
		xfer_wait(r->link->x, q);
	}
	bool ok = false;
	pthread_mutex_lock(&r->lock);
	if (!r->down) { /* else another transfer failed meanwhile: said once already */
		r->stats.ms += q->ms;
		r->stats.bytes_down += q->resp.len;
		if (q->failed || q->truncated || (q->status != 200 && q->status != 404))
			answer_failed(r, q, "a download");
		else if (q->status == 404)
			r->stats.misses++;
		else
			ok = true;
	}
	pthread_mutex_unlock(&r->lock);
	if (!ok) {
		req_free(q);
		return NULL;
	}
	return q;
}

/* The artifact of hash, its signature checked and all of it verified
 * (artifact.c) before the entry is returned: nothing of a refused one is
 * ever put anywhere. */
static int remote_lookup(struct store_backend *b, const char *hash, const char *task_id,
                         struct cache_entry *ret, struct bld_err *err)
{
	struct remote *r = of(b);
	struct xfer_req *q = download(r, hash);
	if (!q)
		return 0;
	size_t len = q->resp.len;
	int rc = check_signature(r, hash, q, &len, err);
	if (rc == 0)
		rc = cache__artifact_unpack(hash, task_id, q->resp.buf, len, ret, err);
	req_free(q);
	pthread_mutex_lock(&r->lock);
	if (rc == 0)
		r->stats.hits++;
	else if (rc == BLD_ECORRUPT)
		r->stats.refused++;
	pthread_mutex_unlock(&r->lock);
	return rc == 0 ? 1 : rc;
}

/* Served from the artifact lookup fetched (verified there). */
static int remote_get_blob(struct store_backend *b, const struct cache_entry *e, size_t i,
                           struct sbuf *ret, struct bld_err *err)
{
	const struct cache_row *row = &e->rows[i];
	if (row->off > e->fetched.len || (uint64_t)row->size > e->fetched.len - row->off)
		return bld_err_set(err, BLD_ECACHE, "remote cache: %s is not in the fetched artifact",
		                   row->path);
	sbuf_add(ret, e->fetched.buf + row->off, (size_t)row->size);
	return 0;
}

/* The protocols store whole artifacts: a blob is staged in the entry, which
 * put_entry sends as one. */
static int remote_put_blob(struct store_backend *b, struct cache_entry *e, size_t i,
                           const void *data, size_t len, struct bld_err *err)
{
	sbuf_add(&e->staged, data, len);
	return 0;
}

static bool remote_writable(struct store_backend *b)
{
	struct remote *r = of(b);
	pthread_mutex_lock(&r->lock);
	bool ok = !r->link->cfg.read_only && !r->down && !r->no_upload;
	pthread_mutex_unlock(&r->lock);
	return ok;
}

static void upload_done(struct xfer_req *q)
{
	struct remote *r = q->arg;
	pthread_mutex_lock(&r->lock);
	r->stats.ms += q->ms;
	if (!q->failed && ((q->status >= 200 && q->status < 300) || q->status == 409)) {
		r->stats.uploads++;
		r->stats.bytes_up += q->body_len;
	} else if (!q->failed && q->status == 403) {
		if (!r->no_upload && !r->down)
			strvec_push_owned(
			    &r->warnings,
			    xasprintf("remote cache %s: uploads are forbidden (403) for this token: "
			              "reading only from now on",
			              r->link->display));
		r->no_upload = true;
	} else {
		answer_failed(r, q, "an upload");
	}
	r->uploads--;
	pthread_cond_broadcast(&r->cond);
	bool last = unref_locked(r);
	pthread_mutex_unlock(&r->lock);
	free((char *)q->body);
	req_free(q);
	if (last)
		session_free(r);
}

/* Pack e and its staged file bytes as an artifact, sign it, and queue its
 * upload (sent in the background; flush waits). */
static int remote_put_entry(struct store_backend *b, struct cache_entry *e, struct bld_err *err)
{
	struct remote *r = of(b);
	if (!remote_writable(b))
		return 0;
	uint64_t want = 0;
	for (size_t i = 0; i < e->nrows; i++)
		want += e->rows[i].kind == CACHE_ROW_FILE ? (uint64_t)e->rows[i].size : 0;
	if (e->staged.len != want)
		return bld_err_set(err, BLD_ECACHE, "remote cache: %s: not every file was put",
		                   e->hash);
	struct sbuf body = SBUF_INIT;
	sbuf_init(&body);
	int rc = cache__artifact_pack(e, e->staged.buf, e->staged.len, &body, err);
	if (rc < 0) {
		sbuf_release(&body);
		return rc;
	}
	struct xfer_req *q = req_new(r, XFER_PUT, e->hash);
	strvec_push(&q->headers, "Content-Type: application/octet-stream");
	if (r->link->cfg.signing_key) {
		unsigned char tag[32];
		sign(r, e->hash, body.buf, body.len, tag);
		if (r->link->cfg.protocol == REMOTE_TURBOREPO) {
			char *t = tag_b64(tag);
			strvec_push_owned(&q->headers, xasprintf("x-artifact-tag: %s", t));
			free(t);
		} else {
			sbuf_add(&body, SIG_MAGIC, 8);
			sbuf_add(&body, tag, 32);
		}
	}
	if (r->link->cfg.protocol == REMOTE_TURBOREPO)
		strvec_push_owned(&q->headers, xasprintf("x-artifact-duration: %llu",
		                                         (unsigned long long)e->duration_ms));
	q->body_len = body.len;
	q->body = sbuf_detach(&body);
	q->max_resp = 1 << 16;
	q->done_cb = upload_done;
	q->arg = r;
	pthread_mutex_lock(&r->lock);
	r->uploads++;
	r->refs++; /* the callback's */
	pthread_mutex_unlock(&r->lock);
	xfer_submit(r->link->x, q);
	return 0;
}

/* HEAD in parallel, or a one-byte ranged GET where the protocol has no HEAD. */
static void remote_has(struct store_backend *b, const char *const *hashes, size_t n, int *ret)
{
	struct remote *r = of(b);
	struct xfer_req **qs = xcalloc(n ? n : 1, sizeof(*qs));
	bool ok = usable(r);
	for (size_t i = 0; ok && i < n; i++) {
		/* Nx's API has no HEAD: a GET of its first byte */
		qs[i] = req_new(r, r->link->cfg.protocol == REMOTE_NX ? XFER_GET : XFER_HEAD, hashes[i]);
		if (r->link->cfg.protocol == REMOTE_NX)
			strvec_push(&qs[i]->headers, "Range: bytes=0-0");
		qs[i]->max_resp = 1;
		xfer_submit(r->link->x, qs[i]);
	}
	for (size_t i = 0; i < n; i++) {
		ret[i] = -1;
		if (!qs[i])
			continue;
		xfer_wait(r->link->x, qs[i]);
		struct xfer_req *q = qs[i];
		pthread_mutex_lock(&r->lock);
		if (!q->failed && (q->status == 200 || q->status == 206))
			ret[i] = 1;
		else if (!q->failed && q->status == 404)
			ret[i] = 0;
		else
			answer_failed(r, q, "a lookup");
		pthread_mutex_unlock(&r->lock);
		req_free(q);
	}
	free(qs);
}

static void remote_take_stats(struct store_backend *b, struct cache_remote_stats *ret)
{
	struct remote *r = of(b);
	pthread_mutex_lock(&r->lock);
	ret->hits += r->stats.hits;
	ret->misses += r->stats.misses;
	ret->refused += r->stats.refused;
	ret->uploads += r->stats.uploads;
	ret->bytes_down += r->stats.bytes_down;
	ret->bytes_up += r->stats.bytes_up;
	ret->ms += r->stats.ms;
	memset(&r->stats, 0, sizeof(r->stats));
	pthread_mutex_unlock(&r->lock);
}

/* One table per protocol: the engine sees each as a backend of its own; what
 * differs between them (keys, HEAD, where the signature goes) is decided by
 * cfg.protocol inside the shared functions. */
#define REMOTE_OPS(proto_name)                                                                  \
	{                                                                                       \
		.name = proto_name, .lookup = remote_lookup, .get_blob = remote_get_blob,        \
		.put_blob = remote_put_blob, .put_entry = remote_put_entry, .has = remote_has,  \
		.writable = remote_writable, .prefetch = remote_prefetch,                       \
		.flush = remote_flush, .take_warnings = remote_take_warnings,                   \
		.take_stats = remote_take_stats, .free = remote_free,                           \
	}

static const struct store_backend_ops remote_ops[REMOTE_TURBOREPO + 1] = {
    [REMOTE_HTTP] = REMOTE_OPS("http"),
    [REMOTE_NX] = REMOTE_OPS("nx"),
    [REMOTE_TURBOREPO] = REMOTE_OPS("turborepo"),
};
