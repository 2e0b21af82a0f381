/*
 * usage.c - the bookkeeping of hits and runs: what `bld cache ls | show`
 * (hits, last use), LRU prune (last use) and `bld cache stats` (the hit rate
 * of the last CACHE_RECENT_RUNS runs) read.
 *
 * Both are queued in memory and written in one transaction when the handle
 * is flushed (an engine's run ends) or closed, or when many are waiting.
 * An entry's hits go to the small table usage(hash, last_used, hits), not to
 * its entries row: that row holds the input manifest, typically a page of
 * its own, and rewriting a page per hit made a fully cached run write
 * megabytes of WAL.  Readers add usage to the entries row's own last_used
 * and hits (set at store time, and by bld versions before usage existed).
 * The runs are one character each in meta.recent_runs, the newest
 * CACHE_RECENT_RUNS kept: one row written per flush, however many runs.
 * A killed process loses only what was queued.
 */
#include "cache_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Past this many queued hits or runs a flush is due (bounds the memory of a
 * long-lived handle that is never flushed). */
#define PENDING_MAX 16384

static bool pending_full(const struct cache *c)
{
	return c->nhits >= PENDING_MAX || c->recent.len >= PENDING_MAX;
}

void cache_record_run(struct cache *c, bool hit)
{
	pthread_mutex_lock(&c->lock);
	sbuf_addc(&c->recent, hit ? CACHE_RUN_HIT : CACHE_RUN_MISS);
	bool flush = pending_full(c);
	pthread_mutex_unlock(&c->lock);
	if (flush)
		cache__flush_usage(c);
}

void cache__touch(struct cache *c, const char *hash)
{
	pthread_mutex_lock(&c->lock);
	xgrow(&c->hits, &c->caphits, c->nhits + 1, sizeof(*c->hits));
	struct cache_pending_hit *h = &c->hits[c->nhits++];
	snprintf(h->hash, sizeof(h->hash), "%s", hash);
	h->at = cache__now();
	bool flush = pending_full(c);
	pthread_mutex_unlock(&c->lock);
	if (flush)
		cache__flush_usage(c);
}

static int hit_cmp(const void *a, const void *b)
{
	return strcmp(((const struct cache_pending_hit *)a)->hash,
	              ((const struct cache_pending_hit *)b)->hash);
}

/* Bind hash, last use and hits to q, step it; the rows it changed. */
static int step_hit(struct cache *c, sqlite3_stmt *q, const char *hash, int64_t at, size_t hits)
{
	sqlite3_bind_text(q, 1, hash, -1, SQLITE_STATIC);
	sqlite3_bind_int64(q, 2, at);
	sqlite3_bind_int64(q, 3, (int64_t)hits);
	int n = sqlite3_step(q) == SQLITE_DONE ? sqlite3_changes(c->db) : 0;
	sqlite3_reset(q);
	return n;
}

/* One row per entry hit (in hash order: neighbouring pages): an UPDATE of
 * its usage row, and, the first time, an INSERT while the entry exists (one
 * pruned since its hit gets no row).  An upsert per hit cost a third more. */
static void write_hits(struct cache *c)
{
	sqlite3_stmt *upd = cache__stmt(c, CACHE_Q_HIT,
	                                "UPDATE usage SET last_used=MAX(last_used, ?2), "
	                                "hits=hits+?3 WHERE hash=?1");
	sqlite3_stmt *ins = cache__stmt(c, CACHE_Q_HIT_NEW,
	                                "INSERT OR IGNORE INTO usage(hash, last_used, hits) "
	                                "SELECT ?1, ?2, ?3 "
	                                "WHERE EXISTS(SELECT 1 FROM entries WHERE hash=?1)");
	if (!upd || !ins)
		return;
	qsort(c->hits, c->nhits, sizeof(*c->hits), hit_cmp);
	for (size_t i = 0, j; i < c->nhits; i = j) {
		int64_t at = c->hits[i].at;
		for (j = i + 1; j < c->nhits && !strcmp(c->hits[j].hash, c->hits[i].hash); j++)
			at = c->hits[j].at > at ? c->hits[j].at : at;
		if (!step_hit(c, upd, c->hits[i].hash, at, j - i))
			step_hit(c, ins, c->hits[i].hash, at, j - i);
	}
}

static void write_recent(struct cache *c)
{
	sqlite3_stmt *q = cache__stmt(c, CACHE_Q_RECENT,
	                              "INSERT INTO meta(key, value) VALUES('recent_runs', "
	                              "substr(?1, -?2)) ON CONFLICT(key) DO UPDATE SET "
	                              "value=substr(value || excluded.value, -?2)");
	if (!q)
		return;
	sqlite3_bind_text(q, 1, c->recent.buf, (int)c->recent.len, SQLITE_STATIC);
	sqlite3_bind_int(q, 2, CACHE_RECENT_RUNS);
	sqlite3_step(q);
	sqlite3_reset(q);
}

void cache__flush_usage(struct cache *c)
{
	pthread_mutex_lock(&c->lock);
	if ((c->nhits || c->recent.len) &&
	    sqlite3_exec(c->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) == SQLITE_OK) {
		if (c->nhits)
			write_hits(c);
		if (c->recent.len)
			write_recent(c);
		if (sqlite3_exec(c->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
			sqlite3_exec(c->db, "ROLLBACK", NULL, NULL, NULL);
	}
	c->nhits = 0;
	sbuf_reset(&c->recent);
	pthread_mutex_unlock(&c->lock);
}

int cache__usage_delete(struct cache *c, const char *hash)
{
	sqlite3_stmt *q = cache__stmt(c, CACHE_Q_USAGE_DEL, "DELETE FROM usage WHERE hash=?1");
	if (!q)
		return BLD_ECACHE;
	sqlite3_bind_text(q, 1, hash, -1, SQLITE_STATIC);
	int rc = sqlite3_step(q);
	sqlite3_reset(q);
	return rc == SQLITE_DONE ? 0 : BLD_ECACHE;
}
