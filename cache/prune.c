/*
 * prune.c - garbage collection: least-recently-used entries beyond a size
 * limit, then the blobs no remaining entry names.
 *
 * Deleting entries and unlinking their blobs happens inside one write
 * transaction (BEGIN IMMEDIATE), the same lock cache_store holds while it
 * checks its blobs exist, so a store never commits an entry whose blob a
 * concurrent prune removed.  Orphans (blobs of stores killed before their
 * commit, temporary files) older than an hour, file index rows of files
 * that no longer exist, and usage rows of entries that no longer exist, are
 * collected by an explicit `bld cache prune`.
 */
#include "cache_int.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define ORPHAN_AGE 3600

static bool blob_referenced(struct cache *c, const char *blob)
{
	sqlite3_stmt *q;
	if (sqlite3_prepare_v2(c->db, "SELECT 1 FROM outputs WHERE blob=?1 LIMIT 1", -1, &q,
	                       NULL) != SQLITE_OK)
		return true;
	sqlite3_bind_text(q, 1, blob, -1, SQLITE_STATIC);
	bool r = sqlite3_step(q) == SQLITE_ROW;
	sqlite3_finalize(q);
	return r;
}

static uint64_t unlink_blob(struct cache *c, const char *blob)
{
	char *p = cache__blob_path(c, blob);
	struct stat st;
	uint64_t n = 0;
	if (lstat(p, &st) == 0 && unlink(p) == 0)
		n = (uint64_t)st.st_size;
	free(p);
	return n;
}

/* Entries to drop: beyond max_bytes, most recently used kept first. */
static void pick_victims(struct cache *c, uint64_t max_bytes, struct strvec *victims)
{
	sqlite3_stmt *q;
	if (sqlite3_prepare_v2(
	        c->db,
	        "SELECT e.hash, e.size FROM entries e LEFT JOIN usage u ON u.hash = e.hash "
	        "ORDER BY MAX(e.last_used, COALESCE(u.last_used, 0)) DESC, e.created DESC, "
	        "e.rowid DESC",
	        -1, &q, NULL) != SQLITE_OK)
		return;
	uint64_t total = 0;
	while (sqlite3_step(q) == SQLITE_ROW) {
		total += (uint64_t)sqlite3_column_int64(q, 1);
		if (total > max_bytes)
			strvec_push(victims, (const char *)sqlite3_column_text(q, 0));
	}
	sqlite3_finalize(q);
}

static void drop_entry(struct cache *c, const char *hash, struct strvec *blobs)
{
	sqlite3_stmt *q;
	if (sqlite3_prepare_v2(c->db,
	                       "SELECT blob FROM outputs WHERE entry=?1 AND blob IS NOT NULL", -1,
	                       &q, NULL) == SQLITE_OK) {
		sqlite3_bind_text(q, 1, hash, -1, SQLITE_STATIC);
		while (sqlite3_step(q) == SQLITE_ROW)
			strvec_push(blobs, (const char *)sqlite3_column_text(q, 0));
		sqlite3_finalize(q);
	}
	cache__entry_delete(c, hash); /* failing, blob_referenced() keeps its blobs */
}

int cache__entry_delete(struct cache *c, const char *hash)
{
	const char *sql[] = {"DELETE FROM outputs WHERE entry=?1",
	                     "DELETE FROM entries WHERE hash=?1"};
	cache__known_drop(c, hash);
	int r = cache__usage_delete(c, hash);
	for (size_t i = 0; r == 0 && i < 2; i++) {
		sqlite3_stmt *q;
		if (sqlite3_prepare_v2(c->db, sql[i], -1, &q, NULL) != SQLITE_OK)
			return BLD_ECACHE;
		sqlite3_bind_text(q, 1, hash, -1, SQLITE_STATIC);
		if (sqlite3_step(q) != SQLITE_DONE)
			r = BLD_ECACHE;
		sqlite3_finalize(q);
	}
	sqlite3_stmt *q = cache__stmt(c, CACHE_Q_DELETED,
	                              "INSERT INTO meta(key, value) VALUES('deletions', 1) "
	                              "ON CONFLICT(key) DO UPDATE SET "
	                              "value=CAST(value AS INTEGER) + 1");
	if (r == 0 && (!q || sqlite3_step(q) != SQLITE_DONE))
		r = BLD_ECACHE;
	if (q)
		sqlite3_reset(q);
	return r;
}

int cache__prune(struct cache *c, uint64_t max_bytes, uint64_t *ret_removed, uint64_t *ret_freed,
                 struct bld_err *err)
{
	struct strvec victims, blobs;
	cache__flush_usage(c); /* hits decide what is least recently used */
	strvec_init(&victims);
	strvec_init(&blobs);
	pthread_mutex_lock(&c->lock);
	int r = cache__begin(c, err);
	uint64_t freed = 0;
	if (r >= 0) {
		pick_victims(c, max_bytes, &victims);
		for (size_t i = 0; i < victims.n; i++)
			drop_entry(c, victims.v[i], &blobs);
		strvec_sort(&blobs);
		for (size_t i = 0; i < blobs.n; i++) {
			if (i && !strcmp(blobs.v[i], blobs.v[i - 1]))
				continue;
			if (!blob_referenced(c, blobs.v[i]))
				freed += unlink_blob(c, blobs.v[i]);
		}
		r = cache__commit(c, err);
	}
	pthread_mutex_unlock(&c->lock);
	if (ret_removed)
		*ret_removed = victims.n;
	if (ret_freed)
		*ret_freed = freed;
	strvec_release(&victims);
	strvec_release(&blobs);
	return r;
}

static bool old_enough(const char *path, int64_t now)
{
	struct stat st;
	return lstat(path, &st) == 0 && st.st_mtime < now - ORPHAN_AGE;
}

/* File index rows of files that no longer exist (under the write lock). */
static void gc_index(struct cache *c)
{
	sqlite3_stmt *q, *del;
	if (sqlite3_prepare_v2(c->db, "SELECT path FROM files", -1, &q, NULL) != SQLITE_OK)
		return;
	if (sqlite3_prepare_v2(c->db, "DELETE FROM files WHERE path=?1", -1, &del, NULL) !=
	    SQLITE_OK) {
		sqlite3_finalize(q);
		return;
	}
	struct strvec gone;
	strvec_init(&gone);
	while (sqlite3_step(q) == SQLITE_ROW) {
		const char *p = (const char *)sqlite3_column_text(q, 0);
		struct stat st;
		if (lstat(p, &st) < 0 && errno == ENOENT)
			strvec_push(&gone, p);
	}
	sqlite3_finalize(q);
	for (size_t i = 0; i < gone.n; i++) {
		sqlite3_bind_text(del, 1, gone.v[i], -1, SQLITE_STATIC);
		sqlite3_step(del);
		sqlite3_reset(del);
	}
	sqlite3_finalize(del);
	strvec_release(&gone);
}

/* Orphan blobs, stale temporary files, index rows of vanished files, lock files
 * nobody holds; returns bytes freed. */
uint64_t cache__gc_orphans(struct cache *c)
{
	uint64_t freed = 0;
	int64_t now = cache__now();
	DIR *top = opendir(c->blobs);
	struct dirent *de;
	pthread_mutex_lock(&c->lock);
	if (!top || sqlite3_exec(c->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK) {
		pthread_mutex_unlock(&c->lock);
		if (top)
			closedir(top);
		return 0;
	}
	while ((de = readdir(top))) {
		if (de->d_name[0] == '.')
			continue;
		char *sub = path_join(c->blobs, de->d_name);
		DIR *d = opendir(sub);
		struct dirent *f;
		bool tmp = !strcmp(de->d_name, "tmp");
		while (d && (f = readdir(d))) {
			if (f->d_name[0] == '.')
				continue;
			char *p = path_join(sub, f->d_name);
			struct stat st;
			if (old_enough(p, now) && (tmp || !blob_referenced(c, f->d_name)) &&
			    lstat(p, &st) == 0 && unlink(p) == 0)
				freed += (uint64_t)st.st_size;
			free(p);
		}
		if (d)
			closedir(d);
		free(sub);
	}
	closedir(top);
	gc_index(c);
	/* hits of entries deleted by bld versions that kept none in usage */
	sqlite3_exec(c->db, "DELETE FROM usage WHERE hash NOT IN (SELECT hash FROM entries)", NULL,
	             NULL, NULL);
	if (sqlite3_exec(c->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
		sqlite3_exec(c->db, "ROLLBACK", NULL, NULL, NULL);
	pthread_mutex_unlock(&c->lock);
	cache__gc_locks(c);
	return freed;
}
