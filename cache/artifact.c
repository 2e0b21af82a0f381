/*
 * artifact.c - a cache entry as one self-contained, verifiable byte string,
 * the body a remote cache server stores (opaque to every server).
 *
 * Format 1 (docs/cache.md, "The artifact format"):
 *
 *   "BLDA" 0x01 0x00 0x00 0x00     magic, format version, three zero bytes
 *   one zstd frame (content size recorded) whose content is:
 *     u64 little-endian n, then n bytes of header JSON:
 *       {"format":1, "hash":"<task hash>", "task":"<task id>",
 *        "duration_ms":N, "outputs":[declared outputs],
 *        "terminal":{"size":N, "hash":"<xxh3-128>"},
 *        "files":[{"path","kind":"file|dir|symlink|absent","mode","size",
 *                  "hash" (file), "link" (symlink)}...],
 *        "manifest":{the input manifest}}
 *     the terminal output (terminal.size bytes)
 *     the bytes of each "file" entry, in the order of "files", nothing else
 *
 * Unpacking (a remote backend's lookup) verifies everything before anything
 * can reach the local cache:
 * the magic and version, the frame (a truncated or padded body fails), the
 * header's hash and task against what was asked for, the input manifest
 * against the task hash (recomputed from its fields), the terminal output
 * and each file against their XXH3-128, every path workspace-relative, and
 * the byte count exact.  Only then does store_copy put the blobs and the
 * entry into the local store (or cache_artifact_import, for one body).
 */
#include "cache_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zstd.h>

#define ARTIFACT_FORMAT 1
#define ARTIFACT_MAGIC "BLDA\1\0\0\0"
#define ARTIFACT_MAGIC_LEN 8
/* The most an artifact may expand to: a bound against a hostile body. */
#define ARTIFACT_MAX_CONTENT (4ull << 30)
#define ARTIFACT_ZSTD_LEVEL 3

static const char *const kind_names[] = {"absent", "file", "dir", "symlink"};

static int kind_of(const char *s)
{
	for (int k = 0; s && k < (int)ARRAY_LEN(kind_names); k++)
		if (!strcmp(s, kind_names[k]))
			return k;
	return -1;
}

/* ---- pack ---- */

static void put_u64(struct sbuf *sb, uint64_t v)
{
	unsigned char b[8];
	for (int i = 0; i < 8; i++)
		b[i] = (unsigned char)(v >> (8 * i));
	sbuf_add(sb, b, 8);
}

static int compress_into(const struct sbuf *plain, struct sbuf *ret, struct bld_err *err)
{
	size_t bound = ZSTD_compressBound(plain->len);
	sbuf_add(ret, ARTIFACT_MAGIC, ARTIFACT_MAGIC_LEN);
	sbuf_grow(ret, bound);
	size_t n = ZSTD_compress(ret->buf + ret->len, bound, plain->buf, plain->len,
	                         ARTIFACT_ZSTD_LEVEL);
	if (ZSTD_isError(n))
		return bld_err_set(err, BLD_ECACHE, "cache: compressing the artifact: %s",
		                   ZSTD_getErrorName(n));
	ret->len += n;
	ret->buf[ret->len] = '\0';
	return 0;
}

/* The header of e: everything but the bytes. */
static cJSON *header_of(const struct cache_entry *e)
{
	cJSON *hdr = cJSON_CreateObject();
	cJSON_AddNumberToObject(hdr, "format", ARTIFACT_FORMAT);
	cJSON_AddStringToObject(hdr, "hash", e->hash);
	cJSON_AddStringToObject(hdr, "task", e->task ? e->task : "");
	cJSON_AddNumberToObject(hdr, "duration_ms", (double)e->duration_ms);
	cJSON *decl = cJSON_AddArrayToObject(hdr, "outputs");
	for (size_t i = 0; i < e->declared.n; i++)
		cJSON_AddItemToArray(decl, cJSON_CreateString(e->declared.v[i]));
	cJSON *man = cJSON_Parse(e->manifest ? e->manifest : "{}");
	cJSON_AddItemToObject(hdr, "manifest", man ? man : cJSON_CreateObject());
	cJSON *files = cJSON_AddArrayToObject(hdr, "files");
	for (size_t i = 0; i < e->nrows; i++) {
		const struct cache_row *row = &e->rows[i];
		int kind = row->kind;
		cJSON *f = cJSON_CreateObject();
		cJSON_AddStringToObject(f, "path", row->path);
		cJSON_AddStringToObject(f, "kind", kind >= 0 && kind <= 3 ? kind_names[kind] : "?");
		cJSON_AddNumberToObject(f, "mode", row->mode);
		cJSON_AddNumberToObject(f, "size", (double)row->size);
		if (kind == CACHE_ROW_FILE)
			cJSON_AddStringToObject(f, "hash", row->blob);
		if (row->link)
			cJSON_AddStringToObject(f, "link", row->link);
		cJSON_AddItemToArray(files, f);
	}
	char th[33];
	cache__hash_bytes(e->terminal ? e->terminal : "", e->terminal_len, th);
	cJSON *tj = cJSON_AddObjectToObject(hdr, "terminal");
	cJSON_AddNumberToObject(tj, "size", (double)e->terminal_len);
	cJSON_AddStringToObject(tj, "hash", th);
	return hdr;
}

int cache__artifact_pack(const struct cache_entry *e, const void *files, size_t files_len,
                         struct sbuf *ret, struct bld_err *err)
{
	cJSON *hdr = header_of(e);
	char *hs = cJSON_PrintUnformatted(hdr);
	cJSON_Delete(hdr);
	struct sbuf plain = SBUF_INIT;
	sbuf_init(&plain);
	put_u64(&plain, strlen(hs));
	sbuf_adds(&plain, hs);
	free(hs);
	sbuf_add(&plain, e->terminal ? e->terminal : "", e->terminal_len);
	sbuf_add(&plain, files, files_len);
	int r = compress_into(&plain, ret, err);
	sbuf_release(&plain);
	return r;
}

int cache_artifact_export(struct cache *c, const char *hash, struct sbuf *ret,
                          struct bld_err *err)
{
	struct cache_entry e;
	memset(&e, 0, sizeof(e));
	int r = cache__entry_whole(c, hash, &e, err);
	if (r == 0)
		r = bld_err_set(err, BLD_ECACHE, "cache: no entry %s to export", hash);
	struct sbuf files = SBUF_INIT;
	sbuf_init(&files);
	/* every blob re-read and checked: a damaged local blob is never exported */
	for (size_t i = 0; r > 0 && i < e.nrows; i++)
		if (e.rows[i].kind == CACHE_ROW_FILE && (r = cache__blob_read(c, e.rows[i].blob,
		                                                              &files, err)) == 0)
			r = 1;
	if (r > 0)
		r = cache__artifact_pack(&e, files.buf, files.len, ret, err);
	sbuf_release(&files);
	cache_entry_release(&e);
	return r;
}

/* ---- import ---- */

struct unpacked {
	char *plain;
	size_t len;
	cJSON *hdr;
	const char *term; /* into plain */
	size_t term_len;
	const char *data; /* the file bytes, into plain */
	size_t data_len;
};

static int refuse(struct bld_err *err, const char *why)
{
	return bld_err_set(err, BLD_ECORRUPT, "%s", why);
}

static int decompress(const void *body, size_t len, struct unpacked *u, struct bld_err *err)
{
	if (len < ARTIFACT_MAGIC_LEN || memcmp(body, ARTIFACT_MAGIC, 4))
		return refuse(err, "not a bld artifact");
	if (memcmp(body, ARTIFACT_MAGIC, ARTIFACT_MAGIC_LEN))
		return refuse(err, "an artifact of another format version");
	const char *z = (const char *)body + ARTIFACT_MAGIC_LEN;
	size_t zlen = len - ARTIFACT_MAGIC_LEN;
	unsigned long long n = ZSTD_getFrameContentSize(z, zlen);
	if (n == ZSTD_CONTENTSIZE_ERROR || n == ZSTD_CONTENTSIZE_UNKNOWN ||
	    ZSTD_isError(ZSTD_findFrameCompressedSize(z, zlen)) ||
	    ZSTD_findFrameCompressedSize(z, zlen) != zlen)
		return refuse(err, "truncated or damaged artifact");
	if (n > ARTIFACT_MAX_CONTENT)
		return refuse(err, "artifact larger than 4 GiB");
	u->plain = xmalloc((size_t)n + 1);
	size_t got = ZSTD_decompress(u->plain, (size_t)n, z, zlen);
	if (ZSTD_isError(got) || got != n)
		return refuse(err, "truncated or damaged artifact");
	u->len = (size_t)n;
	return 0;
}

static int parse_header(struct unpacked *u, struct bld_err *err)
{
	if (u->len < 8)
		return refuse(err, "truncated artifact");
	uint64_t n = 0;
	for (int i = 7; i >= 0; i--)
		n = n << 8 | (unsigned char)u->plain[i];
	if (n > u->len - 8)
		return refuse(err, "truncated artifact header");
	u->hdr = cJSON_ParseWithLength(u->plain + 8, (size_t)n);
	if (!cJSON_IsObject(u->hdr))
		return refuse(err, "artifact header is not JSON");
	const cJSON *t = cJSON_GetObjectItemCaseSensitive(u->hdr, "terminal");
	const cJSON *ts = cJSON_GetObjectItemCaseSensitive(t, "size");
	size_t rest = u->len - 8 - (size_t)n;
	if (!cJSON_IsNumber(ts) || ts->valuedouble < 0 || ts->valuedouble > CACHE_MAX_TERMINAL ||
	    (size_t)ts->valuedouble > rest)
		return refuse(err, "artifact terminal output is malformed");
	u->term = u->plain + 8 + n;
	u->term_len = (size_t)ts->valuedouble;
	u->data = u->term + u->term_len;
	u->data_len = rest - u->term_len;
	return 0;
}

static const char *hstr(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
	return cJSON_IsString(v) ? v->valuestring : NULL;
}

/* The header names this task and hash, and its manifest hashes to it. */
static int check_identity(const struct unpacked *u, const char *hash, const char *task_id,
                          struct bld_err *err)
{
	const cJSON *fmt = cJSON_GetObjectItemCaseSensitive(u->hdr, "format");
	if (!cJSON_IsNumber(fmt) || fmt->valueint != ARTIFACT_FORMAT)
		return refuse(err, "an artifact of another format version");
	const char *h = hstr(u->hdr, "hash"), *t = hstr(u->hdr, "task");
	if (!h || strcmp(h, hash))
		return refuse(err, "the artifact is stored for another task hash");
	if (!t || strcmp(t, task_id))
		return bld_err_set(err, BLD_ECORRUPT, "the artifact belongs to another task (%.200s)",
		                   t ? t : "none");
	const cJSON *m = cJSON_GetObjectItemCaseSensitive(u->hdr, "manifest");
	char mh[33];
	if (cache__manifest_hash(m, mh) < 0 || strcmp(mh, hash) ||
	    !hstr(m, "task") || strcmp(hstr(m, "task"), task_id))
		return refuse(err, "the artifact's input manifest does not hash to its task hash");
	char th[33];
	cache__hash_bytes(u->term, u->term_len, th);
	const char *want = hstr(cJSON_GetObjectItemCaseSensitive(u->hdr, "terminal"), "hash");
	if (!want || strcmp(want, th))
		return refuse(err, "the artifact's terminal output does not match its hash");
	return 0;
}

static bool is_hash(const char *s)
{
	return s && strlen(s) == 32 && strspn(s, "0123456789abcdef") == 32;
}

static void rows_free(struct cache_row *rows, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(rows[i].path);
		free(rows[i].link);
	}
	free(rows);
}

/* One "files" item into row; file bytes at *off (advanced) checked. */
static int parse_row(const struct unpacked *u, const cJSON *f, struct cache_row *row,
                     size_t *off, struct bld_err *err)
{
	const char *path = hstr(f, "path"), *h = hstr(f, "hash");
	int kind = kind_of(hstr(f, "kind"));
	const cJSON *mode = cJSON_GetObjectItemCaseSensitive(f, "mode");
	const cJSON *size = cJSON_GetObjectItemCaseSensitive(f, "size");
	if (!path || !path_is_safe_relative(path) || kind < 0 || !cJSON_IsNumber(mode) ||
	    !cJSON_IsNumber(size) || size->valuedouble < 0 || mode->valuedouble < 0 ||
	    mode->valuedouble > 07777)
		return refuse(err, "artifact file list is malformed or leaves the workspace");
	row->path = xstrdup(path);
	row->kind = kind;
	row->mode = (unsigned)mode->valuedouble;
	row->size = (int64_t)size->valuedouble;
	const char *link = hstr(f, "link");
	row->link = link ? xstrdup(link) : NULL;
	if (kind == CACHE_ROW_SYMLINK && !row->link)
		return refuse(err, "artifact symlink without a target");
	if (kind != CACHE_ROW_FILE)
		return 0;
	if (!is_hash(h) || (uint64_t)row->size > u->data_len - *off)
		return refuse(err, "truncated artifact (file bytes missing)");
	char got[33];
	cache__hash_bytes(u->data + *off, (size_t)row->size, got);
	if (strcmp(got, h))
		return bld_err_set(err, BLD_ECORRUPT, "artifact file %.200s does not match its hash",
		                   path);
	memcpy(row->blob, h, 33);
	row->off = (uint64_t)(u->data - u->plain) + *off;
	*off += (size_t)row->size;
	return 0;
}

static int parse_rows(const struct unpacked *u, struct cache_row **ret, size_t *ret_n,
                      int64_t *ret_size, struct bld_err *err)
{
	const cJSON *files = cJSON_GetObjectItemCaseSensitive(u->hdr, "files");
	if (!cJSON_IsArray(files))
		return refuse(err, "artifact has no file list");
	size_t n = (size_t)cJSON_GetArraySize(files), i = 0, off = 0;
	struct cache_row *rows = xcalloc(n ? n : 1, sizeof(*rows));
	int r = 0;
	int64_t size = 0;
	const cJSON *f;
	cJSON_ArrayForEach(f, files)
	{
		if ((r = parse_row(u, f, &rows[i++], &off, err)) < 0)
			break;
		size += rows[i - 1].kind == CACHE_ROW_FILE ? rows[i - 1].size : 0;
	}
	if (r == 0 && off != u->data_len)
		r = refuse(err, "artifact has bytes no file accounts for");
	if (r < 0) {
		rows_free(rows, i);
		return r;
	}
	*ret = rows;
	*ret_n = n;
	*ret_size = size;
	return 0;
}

/* The verified artifact u as an entry (whole; takes u's bytes). */
static void to_entry(struct unpacked *u, const char *hash, const char *task_id,
                     struct cache_row *rows, size_t n, int64_t size, struct cache_entry *e)
{
	snprintf(e->hash, sizeof(e->hash), "%s", hash);
	e->task = xstrdup(task_id);
	const cJSON *d = cJSON_GetObjectItemCaseSensitive(u->hdr, "duration_ms");
	e->duration_ms = cJSON_IsNumber(d) && d->valuedouble > 0 ? (uint64_t)d->valuedouble : 0;
	e->size = (uint64_t)size;
	e->created = cache__now();
	e->terminal = xmalloc(u->term_len + 1);
	memcpy(e->terminal, u->term, u->term_len);
	e->terminal[u->term_len] = '\0';
	e->terminal_len = u->term_len;
	const cJSON *o;
	cJSON_ArrayForEach(o, cJSON_GetObjectItemCaseSensitive(u->hdr, "outputs"))
	{
		if (cJSON_IsString(o))
			strvec_push(&e->declared, o->valuestring);
	}
	e->rows = rows;
	e->nrows = n;
	e->manifest = cJSON_PrintUnformatted(cJSON_GetObjectItemCaseSensitive(u->hdr, "manifest"));
	u->plain[u->len] = '\0';
	e->fetched.buf = u->plain; /* the rows' off point into it */
	e->fetched.len = u->len;
	e->fetched.cap = u->len + 1;
	u->plain = NULL;
}

int cache__artifact_unpack(const char *hash, const char *task_id, const void *body, size_t len,
                           struct cache_entry *ret, struct bld_err *err)
{
	struct unpacked u = {0};
	struct cache_row *rows = NULL;
	size_t n = 0;
	int64_t size = 0;
	int r = decompress(body, len, &u, err);
	if (r >= 0)
		r = parse_header(&u, err);
	if (r >= 0)
		r = check_identity(&u, hash, task_id, err);
	if (r >= 0)
		r = parse_rows(&u, &rows, &n, &size, err);
	if (r >= 0)
		to_entry(&u, hash, task_id, rows, n, size, ret);
	cJSON_Delete(u.hdr);
	free(u.plain);
	return r;
}

int cache_artifact_import(struct cache *c, const char *hash, const char *task_id,
                          const void *body, size_t len, struct bld_err *err)
{
	struct cache_entry e;
	memset(&e, 0, sizeof(e));
	int r = cache__artifact_unpack(hash, task_id, body, len, &e, err);
	for (size_t i = 0; r >= 0 && i < e.nrows; i++)
		if (e.rows[i].kind == CACHE_ROW_FILE)
			r = cache__blob_put_bytes(c, e.fetched.buf + e.rows[i].off,
			                          (size_t)e.rows[i].size, e.rows[i].blob, err);
	if (r >= 0)
		r = cache__entry_put(c, &e, err);
	cache_entry_release(&e);
	return r;
}
