/*
 * known.c - the entries a cache handle has read, kept while no other
 * connection writes the database.
 *
 * An entry never changes once stored: its hash names its inputs, and a
 * store of a hash that has an entry is a no-op.  It can only be deleted: by
 * this handle (cache__entry_delete drops it here), or by another connection
 * (another engine's prune, perhaps followed by a store of the same hash
 * with other outputs), and every deletion adds one to meta.deletions in its
 * transaction.  SQLite's data_version changes exactly when another
 * connection commits, so a handle kept across requests (the daemon's)
 * answers a hit's lookup and rows from memory, checking data_version at most
 * every KNOWN_CHECK_NS, and meta.deletions when it changed, and forgets
 * everything it knows once another connection deleted an entry.  (A bld
 * before meta.deletions deletes without counting: the worst that does is
 * below.)
 *
 * Why a kept entry may be a few milliseconds stale: a hit on an entry that
 * another engine deleted meanwhile still leaves right outputs (they matched
 * the entry's rows, or were copied from blobs checked against their names),
 * or its restore fails on a blob gone and the task runs, as when the prune
 * comes between a lookup and a restore.  One check per hit (a read
 * transaction, with its two fcntl locks) was a tenth of a cached run.
 *
 * Bounded: an entry whose terminal output is over KNOWN_TERMINAL_MAX is not
 * kept, and past KNOWN_MAX_BYTES everything known is forgotten first.
 */
#include "cache_int.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#define KNOWN_TERMINAL_MAX (64u << 10)
#define KNOWN_MAX_BYTES (32u << 20)
#define KNOWN_CHECK_NS (10 * 1000 * 1000)

static int64_t mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* What e costs in memory, roughly (allocations and their overhead). */
static size_t entry_bytes(const struct cache_entry *e)
{
	size_t n = sizeof(*e) + strlen(e->task) + e->terminal_len + 64;
	for (size_t i = 0; i < e->nrows; i++)
		n += sizeof(e->rows[i]) + strlen(e->rows[i].path) + 32 +
		     (e->rows[i].link ? strlen(e->rows[i].link) + 32 : 0);
	for (size_t i = 0; i < e->declared.n; i++)
		n += sizeof(char *) + strlen(e->declared.v[i]) + 32;
	return n;
}

static void entry_free(struct cache_entry *e)
{
	cache_entry_release(e);
	free(e);
}

void cache__known_clear(struct cache *c)
{
	size_t it = 0;
	void *v;
	while (strmap_next(&c->known, &it, NULL, &v))
		entry_free(v);
	strmap_release(&c->known);
	strmap_init(&c->known);
	c->known_bytes = 0;
}

/* meta.deletions: entries deleted so far (cache__entry_delete counts them), or -1. */
static int64_t deletions(struct cache *c)
{
	sqlite3_stmt *q = cache__stmt(c, CACHE_Q_DELETIONS,
	                              "SELECT COALESCE((SELECT CAST(value AS INTEGER) FROM meta "
	                              "WHERE key='deletions'), 0)");
	int64_t n = -1;
	if (q && sqlite3_step(q) == SQLITE_ROW)
		n = sqlite3_column_int64(q, 0);
	if (q)
		sqlite3_reset(q);
	return n;
}

/* Whether what is known may be used: forgets it all when another connection
 * deleted an entry since it was read (or a check fails). */
static bool still_valid(struct cache *c)
{
	int64_t now = mono_ns();
	if (c->known_version >= 0 && now - c->known_checked < KNOWN_CHECK_NS)
		return true;
	c->known_checked = now;
	sqlite3_stmt *q = cache__stmt(c, CACHE_Q_VERSION, "PRAGMA data_version");
	int64_t v = -1;
	if (q && sqlite3_step(q) == SQLITE_ROW)
		v = sqlite3_column_int64(q, 0);
	if (q)
		sqlite3_reset(q);
	if (v >= 0 && v == c->known_version)
		return true;
	/* another connection wrote: most writes (hits, file index rows, new
	 * entries) leave every entry as it was; only a deletion may not */
	int64_t d = v >= 0 ? deletions(c) : -1;
	if (d < 0 || d != c->known_deletions)
		cache__known_clear(c);
	c->known_version = d < 0 ? -1 : v;
	c->known_deletions = d;
	return d >= 0;
}

const struct cache_entry *cache__known_get(struct cache *c, const char *hash)
{
	if (!still_valid(c))
		return NULL;
	return strmap_get(&c->known, hash);
}

void cache__known_learn(struct cache *c, const struct cache_entry *summary)
{
	if (c->known_version < 0 || summary->terminal_len > KNOWN_TERMINAL_MAX)
		return;
	struct cache_entry *e = xcalloc(1, sizeof(*e));
	cache__entry_copy_summary(e, summary);
	size_t n;
	if (cache__entry_rows_read(c, e->hash, e, NULL) != 1 ||
	    (n = entry_bytes(e)) > KNOWN_MAX_BYTES / 4) {
		entry_free(e);
		return;
	}
	if (c->known_bytes + n > KNOWN_MAX_BYTES)
		cache__known_clear(c);
	struct cache_entry *old = strmap_put(&c->known, e->hash, e);
	if (old) {
		c->known_bytes -= entry_bytes(old);
		entry_free(old);
	}
	c->known_bytes += n;
}

void cache__known_drop(struct cache *c, const char *hash)
{
	struct cache_entry *old = strmap_del(&c->known, hash);
	if (!old)
		return;
	c->known_bytes -= entry_bytes(old);
	entry_free(old);
}
