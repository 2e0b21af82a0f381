/*
 * entry.c - the store's entry operations, in terms of a task hash, a task id
 * and manifests only (no graph types): is an entry there, put an entry.
 * Both the local run (outputs.c, after collecting a task's outputs into
 * blobs) and a remote hit (artifact.c, after verifying a download) put
 * entries through cache__entry_put.
 *
 * Invariant: the transaction that makes an entry visible starts only after
 * every blob it names is in place, and checks under the write lock that they
 * still are (prune deletes blobs only while holding it).
 */
#include "cache_int.h"

#include <stdlib.h>
#include <string.h>

/* Caller holds c->lock. */
static int exists_locked(struct cache *c, const char *hash)
{
	sqlite3_stmt *q;
	if (sqlite3_prepare_v2(c->db, "SELECT 1 FROM entries WHERE hash=?1", -1, &q, NULL) !=
	    SQLITE_OK)
		return -1;
	sqlite3_bind_text(q, 1, hash, -1, SQLITE_STATIC);
	int r = sqlite3_step(q) == SQLITE_ROW;
	sqlite3_finalize(q);
	return r;
}

int cache__entry_exists(struct cache *c, const char *hash)
{
	pthread_mutex_lock(&c->lock);
	int r = exists_locked(c, hash);
	pthread_mutex_unlock(&c->lock);
	return r;
}

static int insert_entry(struct cache *c, const struct cache_entry_put *e, struct bld_err *err)
{
	cJSON *decl = cJSON_CreateArray();
	for (size_t i = 0; e->declared && i < e->declared->n; i++)
		cJSON_AddItemToArray(decl, cJSON_CreateString(e->declared->v[i]));
	char *decl_s = cJSON_PrintUnformatted(decl);
	cJSON_Delete(decl);
	sqlite3_stmt *q;
	int r = 0;
	if (sqlite3_prepare_v2(
	        c->db,
	        "INSERT INTO entries(hash, task, exit_code, duration_ms, size, "
	        "created, last_used, hits, bld_version, outputs, terminal, manifest) "
	        "VALUES(?1, ?2, 0, ?3, ?4, ?5, ?5, 0, ?6, ?7, ?8, ?9)",
	        -1, &q, NULL) != SQLITE_OK) {
		r = cache__dberr(c, err, "store");
	} else {
		sqlite3_bind_text(q, 1, e->hash, -1, SQLITE_STATIC);
		sqlite3_bind_text(q, 2, e->task_id, -1, SQLITE_STATIC);
		sqlite3_bind_int64(q, 3, (int64_t)e->duration_ms);
		sqlite3_bind_int64(q, 4, e->size);
		sqlite3_bind_int64(q, 5, cache__now());
		sqlite3_bind_text(q, 6, BLD_VERSION, -1, SQLITE_STATIC);
		sqlite3_bind_text(q, 7, decl_s, -1, SQLITE_STATIC);
		sqlite3_bind_blob64(q, 8, e->terminal ? e->terminal : "", e->terminal_len,
		                    SQLITE_STATIC);
		sqlite3_bind_text(q, 9, e->manifest ? e->manifest : "{}", -1, SQLITE_STATIC);
		if (sqlite3_step(q) != SQLITE_DONE)
			r = cache__dberr(c, err, "store");
		sqlite3_finalize(q);
	}
	free(decl_s);
	return r;
}

static int insert_outputs(struct cache *c, const struct cache_entry_put *e, struct bld_err *err)
{
	sqlite3_stmt *q;
	if (sqlite3_prepare_v2(c->db,
	                       "INSERT INTO outputs(entry, path, kind, mode, size, blob, link) "
	                       "VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7)",
	                       -1, &q, NULL) != SQLITE_OK)
		return cache__dberr(c, err, "store outputs");
	int r = 0;
	for (size_t i = 0; r >= 0 && i < e->nrows; i++) {
		const struct cache_row *rec = &e->rows[i];
		sqlite3_bind_text(q, 1, e->hash, -1, SQLITE_STATIC);
		sqlite3_bind_text(q, 2, rec->path, -1, SQLITE_STATIC);
		sqlite3_bind_int(q, 3, rec->kind);
		sqlite3_bind_int(q, 4, (int)rec->mode);
		sqlite3_bind_int64(q, 5, rec->size);
		if (rec->kind == OUT_FILE)
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
	sqlite3_finalize(q);
	return r;
}

/* Every blob still in place (a concurrent prune may not delete them while we hold the lock). */
static int blobs_present(struct cache *c, const struct cache_entry_put *e, struct bld_err *err)
{
	for (size_t i = 0; i < e->nrows; i++) {
		if (e->rows[i].kind != OUT_FILE)
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

int cache__entry_put(struct cache *c, const struct cache_entry_put *e, struct bld_err *err)
{
	pthread_mutex_lock(&c->lock);
	int r = cache__begin(c, err);
	if (r < 0) {
		pthread_mutex_unlock(&c->lock);
		return r;
	}
	int ex = exists_locked(c, e->hash);
	if (ex != 0) {
		cache__rollback(c);
		pthread_mutex_unlock(&c->lock);
		return ex < 0 ? cache__dberr(c, err, "store") : 0;
	}
	r = blobs_present(c, e, err);
	if (r >= 0)
		r = insert_entry(c, e, err);
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

int cache_has(struct cache *c, const char *hash)
{
	return cache__entry_exists(c, hash);
}
