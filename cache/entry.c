/*
 * entry.c - the store's entry operations, in terms of a task hash, a task id
 * and manifests only (no graph types): is an entry there, read one whole,
 * put one; and the local store as a backend (struct store_backend_ops).
 * Both the local run (outputs.c, after collecting a task's outputs into
 * blobs) and a remote hit (store_copy, after the remote verified it) put
 * entries through cache__entry_put.
 *
 * Invariant: the transaction that makes an entry visible starts only after
 * every blob it names is in place, and checks under the write lock that they
 * still are (prune deletes blobs only while holding it).
 */
#include "cache_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int cache__entry_exists_locked(struct cache *c, const char *hash)
{
	sqlite3_stmt *q = cache__stmt(c, CACHE_Q_EXISTS, "SELECT 1 FROM entries WHERE hash=?1");
	if (!q)
		return -1;
	sqlite3_bind_text(q, 1, hash, -1, SQLITE_STATIC);
	int r = sqlite3_step(q) == SQLITE_ROW;
	sqlite3_reset(q);
	return r;
}

int cache_has(struct cache *c, const char *hash)
{
	pthread_mutex_lock(&c->lock);
	int r = cache__entry_exists_locked(c, hash);
	pthread_mutex_unlock(&c->lock);
	return r;
}

static int insert_entry(struct cache *c, const struct cache_entry *e, struct bld_err *err)
{
	cJSON *decl = cJSON_CreateArray();
	for (size_t i = 0; i < e->declared.n; i++)
		cJSON_AddItemToArray(decl, cJSON_CreateString(e->declared.v[i]));
	char *decl_s = cJSON_PrintUnformatted(decl);
	cJSON_Delete(decl);
	int r = 0;
	sqlite3_stmt *q = cache__stmt(c, CACHE_Q_ENTRY_INS,
	                              "INSERT INTO entries(hash, task, exit_code, duration_ms, "
	                              "size, created, last_used, hits, bld_version, outputs, "
	                              "terminal, manifest) "
	                              "VALUES(?1, ?2, 0, ?3, ?4, ?5, ?5, 0, ?6, ?7, ?8, ?9)");
	if (!q) {
		r = cache__dberr(c, err, "store");
	} else {
		sqlite3_bind_text(q, 1, e->hash, -1, SQLITE_STATIC);
		sqlite3_bind_text(q, 2, e->task, -1, SQLITE_STATIC);
		sqlite3_bind_int64(q, 3, (int64_t)e->duration_ms);
		sqlite3_bind_int64(q, 4, (int64_t)e->size);
		sqlite3_bind_int64(q, 5, cache__now());
		sqlite3_bind_text(q, 6, BLD_VERSION, -1, SQLITE_STATIC);
		sqlite3_bind_text(q, 7, decl_s, -1, SQLITE_STATIC);
		sqlite3_bind_blob64(q, 8, e->terminal ? e->terminal : "", e->terminal_len,
		                    SQLITE_STATIC);
		sqlite3_bind_text(q, 9, e->manifest ? e->manifest : "{}", -1, SQLITE_STATIC);
		if (sqlite3_step(q) != SQLITE_DONE)
			r = cache__dberr(c, err, "store");
		sqlite3_reset(q);
		sqlite3_clear_bindings(q); /* the bound text is freed below */
	}
	free(decl_s);
	return r;
}

static int insert_outputs(struct cache *c, const struct cache_entry *e, struct bld_err *err)
{
	sqlite3_stmt *q = cache__stmt(c, CACHE_Q_OUTPUT_INS,
	                              "INSERT INTO outputs(entry, path, kind, mode, size, blob, "
	                              "link) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7)");
	if (!q)
		return cache__dberr(c, err, "store outputs");
	int r = 0;
	for (size_t i = 0; r >= 0 && i < e->nrows; i++) {
		const struct cache_row *rec = &e->rows[i];
		sqlite3_bind_text(q, 1, e->hash, -1, SQLITE_STATIC);
		sqlite3_bind_text(q, 2, rec->path, -1, SQLITE_STATIC);
		sqlite3_bind_int(q, 3, rec->kind);
		sqlite3_bind_int(q, 4, (int)rec->mode);
		sqlite3_bind_int64(q, 5, rec->size);
		if (rec->kind == CACHE_ROW_FILE)
			sqlite3_bind_text(q, 6, rec->blob, -1, SQLITE_STATIC);
		else
			sqlite3_bind_null(q, 6);
		if (rec->link)
			sqlite3_bind_text(q, 7, rec->link, -1, SQLITE_STATIC);
		else
			sqlite3_bind_null(q, 7);
		if (sqlite3_step(q) != SQLITE_DONE)
			r = cache__dberr(c, err, "store outputs");
		sqlite3_reset(q);
	}
	sqlite3_clear_bindings(q); /* the bound rows belong to the caller */
	return r;
}

/* Every blob still in place (a concurrent prune may not delete them while we hold the lock). */
static int blobs_present(struct cache *c, const struct cache_entry *e, struct bld_err *err)
{
	for (size_t i = 0; i < e->nrows; i++) {
		if (e->rows[i].kind != CACHE_ROW_FILE)
			continue;
		char *p = cache__blob_path(c, e->rows[i].blob);
		bool ok = file_exists(p);
		free(p);
		if (!ok)
			return bld_err_set(err, BLD_ECACHE,
			                   "cache: blob of %s vanished while storing",
			                   e->rows[i].path);
	}
	return 0;
}

static void auto_prune(struct cache *c)
{
	if (!c->max_size)
		return;
	sqlite3_stmt *q;
	int64_t total = 0;
	pthread_mutex_lock(&c->lock);
	if (sqlite3_prepare_v2(c->db, "SELECT COALESCE(SUM(size), 0) FROM entries", -1, &q, NULL) ==
	    SQLITE_OK) {
		if (sqlite3_step(q) == SQLITE_ROW)
			total = sqlite3_column_int64(q, 0);
		sqlite3_finalize(q);
	}
	pthread_mutex_unlock(&c->lock);
	if ((uint64_t)total > c->max_size)
		cache__prune(c, c->max_size, NULL, NULL, NULL);
}

int cache__entry_put(struct cache *c, const struct cache_entry *e, struct bld_err *err)
{
	pthread_mutex_lock(&c->lock);
	int r = cache__begin(c, err);
	if (r < 0) {
		pthread_mutex_unlock(&c->lock);
		return r;
	}
	int ex = cache__entry_exists_locked(c, e->hash);
	if (ex != 0) {
		cache__rollback(c);
		pthread_mutex_unlock(&c->lock);
		return ex < 0 ? cache__dberr(c, err, "store") : 0;
	}
	r = blobs_present(c, e, err);
	if (r >= 0)
		r = insert_entry(c, e, err);
	if (r >= 0 && cache__usage_delete(c, e->hash) < 0) /* left by an older bld's delete */
		r = cache__dberr(c, err, "store");
	if (r >= 0)
		r = insert_outputs(c, e, err);
	if (r >= 0)
		r = cache__commit(c, err);
	else
		cache__rollback(c);
	pthread_mutex_unlock(&c->lock);
	if (r >= 0)
		auto_prune(c);
	return r;
}

/* ---- reading an entry whole ---- */

int cache__entry_rows(struct cache *c, const char *hash, struct cache_entry *e,
                      struct bld_err *err)
{
	if (cache__known_rows(c, hash, e))
		return 1;
	return cache__entry_rows_read(c, hash, e, err);
}

int cache__entry_rows_read(struct cache *c, const char *hash, struct cache_entry *e,
                           struct bld_err *err)
{
	size_t cap = e->nrows;
	sqlite3_stmt *q = cache__stmt(c, CACHE_Q_ROWS,
	                              "SELECT path, kind, mode, size, blob, link FROM outputs "
	                              "WHERE entry=?1 ORDER BY path");
	if (!q)
		return cache__dberr(c, err, "read entry");
	sqlite3_bind_text(q, 1, hash, -1, SQLITE_STATIC);
	int rc;
	while ((rc = sqlite3_step(q)) == SQLITE_ROW) {
		xgrow(&e->rows, &cap, e->nrows + 1, sizeof(*e->rows));
		struct cache_row *r = &e->rows[e->nrows++];
		memset(r, 0, sizeof(*r));
		const unsigned char *path = sqlite3_column_text(q, 0);
		r->path = xstrdup(path ? (const char *)path : "");
		r->kind = sqlite3_column_int(q, 1);
		r->mode = (unsigned)sqlite3_column_int(q, 2);
		r->size = sqlite3_column_int64(q, 3);
		const unsigned char *b = sqlite3_column_text(q, 4), *l = sqlite3_column_text(q, 5);
		snprintf(r->blob, sizeof(r->blob), "%s", b ? (const char *)b : "");
		r->link = l ? xstrdup((const char *)l) : NULL;
	}
	sqlite3_reset(q);
	/* a read cut short (busy, I/O error) must not pass for the whole entry:
	 * a restore would remove the extras of its folders as not belonging to it */
	if (rc != SQLITE_DONE)
		return cache__dberr(c, err, "read entry");
	q = cache__stmt(c, CACHE_Q_DECLARED, "SELECT outputs FROM entries WHERE hash=?1");
	if (!q)
		return cache__dberr(c, err, "read entry");
	sqlite3_bind_text(q, 1, hash, -1, SQLITE_STATIC);
	rc = sqlite3_step(q);
	if (rc == SQLITE_ROW) {
		cJSON *j = cJSON_Parse((const char *)sqlite3_column_text(q, 0));
		const cJSON *it;
		cJSON_ArrayForEach(it, j)
		{
			if (cJSON_IsString(it))
				strvec_push(&e->declared, it->valuestring);
		}
		cJSON_Delete(j);
	}
	sqlite3_reset(q);
	if (rc != SQLITE_ROW && rc != SQLITE_DONE)
		return cache__dberr(c, err, "read entry");
	/* read after the rows: an entry deleted in between (one transaction with its
	 * rows) is absent here, so rows read before are never taken for a whole entry */
	return rc == SQLITE_ROW;
}

/* ---- the local store as a backend ---- */

struct local_backend {
	struct store_backend base;
	struct cache *c;
};

static struct cache *local_cache(struct store_backend *b)
{
	return ((struct local_backend *)b)->c;
}

/* e's input manifest; caller holds c->lock. */
static int read_manifest(struct cache *c, struct cache_entry *e, struct bld_err *err)
{
	sqlite3_stmt *q =
	    cache__stmt(c, CACHE_Q_MANIFEST, "SELECT manifest FROM entries WHERE hash=?1");
	if (!q)
		return cache__dberr(c, err, "read entry");
	sqlite3_bind_text(q, 1, e->hash, -1, SQLITE_STATIC);
	int rc = sqlite3_step(q);
	if (rc == SQLITE_ROW) {
		const unsigned char *m = sqlite3_column_text(q, 0);
		e->manifest = xstrdup(m ? (const char *)m : "{}");
	}
	sqlite3_reset(q);
	return rc == SQLITE_ROW ? 0 : cache__dberr(c, err, "read entry");
}

int cache__entry_whole(struct cache *c, const char *hash, struct cache_entry *ret,
                       struct bld_err *err)
{
	pthread_mutex_lock(&c->lock);
	/* one read transaction: a prune in another process between the reads
	 * cannot leave a summary without its rows */
	int r = cache__exec(c, "BEGIN", err);
	if (r >= 0)
		r = cache__lookup_locked(c, hash, ret, err);
	if (r > 0 && (cache__entry_rows(c, hash, ret, err) < 0 || read_manifest(c, ret, err) < 0))
		r = BLD_ECACHE;
	cache__exec(c, "COMMIT", NULL);
	pthread_mutex_unlock(&c->lock);
	if (r <= 0)
		cache_entry_release(ret);
	return r;
}

static int local_lookup(struct store_backend *b, const char *hash, const char *task_id,
                        struct cache_entry *ret, struct bld_err *err)
{
	int r = cache__entry_whole(local_cache(b), hash, ret, err);
	if (r > 0 && strcmp(ret->task, task_id)) {
		r = bld_err_set(err, BLD_ECORRUPT, "cache entry %s belongs to %s, not %s", hash,
		                ret->task, task_id);
		cache_entry_release(ret);
	}
	return r;
}

/* Re-read and checked: a damaged local blob is never copied elsewhere. */
static int local_get_blob(struct store_backend *b, const struct cache_entry *e, size_t i,
                          struct sbuf *ret, struct bld_err *err)
{
	return cache__blob_read(local_cache(b), e->rows[i].blob, ret, err);
}

static int local_put_blob(struct store_backend *b, struct cache_entry *e, size_t i,
                          const void *data, size_t len, struct bld_err *err)
{
	return cache__blob_put_bytes(local_cache(b), data, len, e->rows[i].blob, err);
}

static int local_put_entry(struct store_backend *b, struct cache_entry *e, struct bld_err *err)
{
	return cache__entry_put(local_cache(b), e, err);
}

static void local_has(struct store_backend *b, const char *const *hashes, size_t n, int *ret)
{
	for (size_t i = 0; i < n; i++)
		ret[i] = cache_has(local_cache(b), hashes[i]);
}

static void local_free(struct store_backend *b)
{
	free(b);
}

static const struct store_backend_ops local_ops = {
    .name = "local",
    .lookup = local_lookup,
    .get_blob = local_get_blob,
    .put_blob = local_put_blob,
    .put_entry = local_put_entry,
    .has = local_has,
    .free = local_free,
};

struct store_backend *cache__local_backend_new(struct cache *c)
{
	struct local_backend *lb = xcalloc(1, sizeof(*lb));
	lb->base.ops = &local_ops;
	lb->c = c;
	return &lb->base;
}

struct store_backend *cache_backend(struct cache *c)
{
	return c->backend;
}
