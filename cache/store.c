/*
 * store.c - the cache folder: SQLite schema, opening, entries, storing.
 *
 * Layout of a cache folder (BLD_CACHE_DIR, default <workspace>/.bld/cache):
 *
 *   cache.db            SQLite, WAL journal (cache.db-wal, cache.db-shm)
 *   blobs/<h[0..2]>/<h> output bytes named by their XXH3-128 (read-only)
 *   blobs/tmp/          blobs being written (renamed into place when whole)
 *
 * Schema (version 1, in meta.schema):
 *
 *   meta(key TEXT PRIMARY KEY, value TEXT)
 *   files(path TEXT PRIMARY KEY, size, mtime_ns, ctime_ns, ino, hash TEXT)
 *       the stat-keyed file index: absolute path -> content hash
 *   entries(hash TEXT PRIMARY KEY, task, exit_code, duration_ms, size,
 *           created, last_used, hits, bld_version, outputs TEXT (JSON array
 *           of the declared outputs), terminal BLOB, manifest TEXT (JSON))
 *   outputs(entry -> entries.hash, path, kind 0 absent|1 file|2 dir|3 symlink,
 *           mode, size, blob, link, PRIMARY KEY(entry, path))
 *   usage(hash, last_used, hits)  WITHOUT ROWID
 *       hits of an entry since it was stored (usage.c): an entry's last use is
 *       the larger of the two last_used, its hits the sum of the two hits
 *   meta.recent_runs  the last 1,000 runs, one character each (usage.c)
 *   meta.deletions    entries deleted so far (known.c)
 *   (a table runs(id, task, hash, source, ...) of older bld versions is read
 *   into meta.recent_runs once and dropped)
 *
 * Invariants: an entry is visible only once the transaction inserting it
 * and its outputs commits, and that transaction starts (BEGIN IMMEDIATE)
 * only after every blob it names has been renamed into place, and checks
 * they still exist while holding the write lock (prune deletes blobs only
 * while holding it too).  A process killed at any point therefore leaves
 * either no entry or a whole one; at worst an orphan blob or a temporary
 * file, which prune collects.  Concurrent processes wait on SQLite's busy
 * timeout (30 s).
 */
#include "cache_int.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define CACHE_SCHEMA 1

static const char schema_sql[] =
    "CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);"
    "CREATE TABLE IF NOT EXISTS files(path TEXT PRIMARY KEY, size INTEGER NOT NULL,"
    " mtime_ns INTEGER NOT NULL, ctime_ns INTEGER NOT NULL, ino INTEGER NOT NULL,"
    " hash TEXT NOT NULL);"
    "CREATE TABLE IF NOT EXISTS entries(hash TEXT PRIMARY KEY, task TEXT NOT NULL,"
    " exit_code INTEGER NOT NULL, duration_ms INTEGER NOT NULL, size INTEGER NOT NULL,"
    " created INTEGER NOT NULL, last_used INTEGER NOT NULL, hits INTEGER NOT NULL DEFAULT 0,"
    " bld_version TEXT NOT NULL, outputs TEXT NOT NULL, terminal BLOB NOT NULL,"
    " manifest TEXT NOT NULL);"
    "CREATE INDEX IF NOT EXISTS entries_task ON entries(task, created);"
    "CREATE INDEX IF NOT EXISTS entries_used ON entries(last_used);"
    "CREATE TABLE IF NOT EXISTS outputs(entry TEXT NOT NULL, path TEXT NOT NULL,"
    " kind INTEGER NOT NULL, mode INTEGER NOT NULL, size INTEGER NOT NULL, blob TEXT,"
    " link TEXT, PRIMARY KEY(entry, path));"
    "CREATE INDEX IF NOT EXISTS outputs_blob ON outputs(blob);"
    "CREATE TABLE IF NOT EXISTS usage(hash TEXT PRIMARY KEY, last_used INTEGER NOT NULL,"
    " hits INTEGER NOT NULL) WITHOUT ROWID;"
    "INSERT OR IGNORE INTO meta(key, value) VALUES('schema', '1');";

int cache__dberr(struct cache *c, struct bld_err *err, const char *what)
{
	return bld_err_set(err, BLD_ECACHE, "cache %s/cache.db: %s: %s", c->dir, what,
	                   sqlite3_errmsg(c->db));
}

sqlite3_stmt *cache__stmt(struct cache *c, enum cache_q id, const char *sql)
{
	if (!c->q[id] &&
	    sqlite3_prepare_v3(c->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &c->q[id], NULL) !=
	        SQLITE_OK) {
		sqlite3_finalize(c->q[id]);
		c->q[id] = NULL;
	}
	return c->q[id];
}

int cache__exec(struct cache *c, const char *sql, struct bld_err *err)
{
	if (sqlite3_exec(c->db, sql, NULL, NULL, NULL) != SQLITE_OK)
		return cache__dberr(c, err, sql);
	return 0;
}

int cache__begin(struct cache *c, struct bld_err *err)
{
	return cache__exec(c, "BEGIN IMMEDIATE", err);
}

int cache__commit(struct cache *c, struct bld_err *err)
{
	int r = cache__exec(c, "COMMIT", err);
	if (r < 0)
		cache__rollback(c);
	return r;
}

void cache__rollback(struct cache *c)
{
	sqlite3_exec(c->db, "ROLLBACK", NULL, NULL, NULL);
}

/* "10G", "500M", "1024" -> bytes; 0 when unparsable. */
static uint64_t parse_size(const char *s)
{
	char *end;
	double v = strtod(s, &end);
	if (end == s || !(v >= 0)) /* also NaN */
		return 0;
	switch (*end) {
	case 'k':
	case 'K':
		v *= 1024.0;
		break;
	case 'm':
	case 'M':
		v *= 1024.0 * 1024;
		break;
	case 'g':
	case 'G':
		v *= 1024.0 * 1024 * 1024;
		break;
	case 't':
	case 'T':
		v *= 1024.0 * 1024 * 1024 * 1024;
		break;
	default:
		break;
	}
	/* converting a double beyond uint64_t is undefined: clamp */
	return v >= 18446744073709551615.0 ? UINT64_MAX : (uint64_t)v;
}

uint64_t cache_parse_size(const char *s)
{
	return s ? parse_size(s) : 0;
}

char *cache_default_dir(const char *ws_root, char *const *env, const char *cwd)
{
	const char *dir = env_get(env, "BLD_CACHE_DIR");
	if (!dir || !*dir)
		return path_join(ws_root, ".bld/cache");
	char *j = path_join(cwd, dir);
	char *n = path_normalize(j);
	free(j);
	return n;
}

static int schema_version(struct cache *c)
{
	sqlite3_stmt *q;
	int v = -1;
	if (sqlite3_prepare_v2(c->db, "SELECT value FROM meta WHERE key='schema'", -1, &q, NULL) !=
	    SQLITE_OK)
		return -1;
	if (sqlite3_step(q) == SQLITE_ROW)
		v = atoi((const char *)sqlite3_column_text(q, 0));
	sqlite3_finalize(q);
	return v;
}

/* Switching a new database to WAL takes a lock that SQLite's busy handler
 * does not wait for: two engines opening one fresh cache at once saw
 * "database is locked" here and ran without the cache (and its task lock).
 * Retry for as long as the busy timeout would have waited. */
static int set_wal(struct cache *c, struct bld_err *err)
{
	for (int waited_ms = 0;; waited_ms += 10) {
		int rc = sqlite3_exec(c->db, "PRAGMA journal_mode=WAL", NULL, NULL, NULL);
		if (rc == SQLITE_OK)
			return 0;
		if ((rc & 0xff) != SQLITE_BUSY && (rc & 0xff) != SQLITE_LOCKED)
			break;
		if (waited_ms >= 30000)
			break;
		sqlite3_sleep(10);
	}
	return cache__dberr(c, err, "PRAGMA journal_mode=WAL");
}

/* The run history of bld versions before meta.recent_runs (a row per run in
 * a table runs, whose source 'local', 'remote' or '...hit...' was a hit): its
 * last CACHE_RECENT_RUNS runs become meta.recent_runs (unless that exists),
 * and the table is dropped.  Inside db_open's write transaction. */
static int migrate_runs(struct cache *c, struct bld_err *err)
{
	sqlite3_stmt *q;
	if (sqlite3_prepare_v2(c->db,
	                       "SELECT source IN ('local','remote','cache') OR source LIKE '%hit%' "
	                       "FROM runs ORDER BY id DESC LIMIT ?1",
	                       -1, &q, NULL) != SQLITE_OK)
		return 0; /* no such table: nothing to move */
	sqlite3_bind_int(q, 1, CACHE_RECENT_RUNS);
	char runs[CACHE_RECENT_RUNS + 1];
	size_t n = CACHE_RECENT_RUNS;
	runs[n] = '\0';
	while (n && sqlite3_step(q) == SQLITE_ROW) /* newest first: filled from the end */
		runs[--n] = sqlite3_column_int(q, 0) ? CACHE_RUN_HIT : CACHE_RUN_MISS;
	sqlite3_finalize(q);
	if (sqlite3_prepare_v2(c->db,
	                       "INSERT OR IGNORE INTO meta(key, value) VALUES('recent_runs', ?1)",
	                       -1, &q, NULL) != SQLITE_OK)
		return cache__dberr(c, err, "recent runs");
	sqlite3_bind_text(q, 1, runs + n, -1, SQLITE_STATIC);
	int rc = sqlite3_step(q);
	sqlite3_finalize(q);
	if (rc != SQLITE_DONE)
		return cache__dberr(c, err, "recent runs");
	return cache__exec(c, "DROP TABLE runs", err);
}

static int db_open(struct cache *c, struct bld_err *err)
{
	char *path = path_join(c->dir, CACHE_DB_FILE);
	int rc = sqlite3_open_v2(
	    path, &c->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX, NULL);
	free(path);
	if (rc != SQLITE_OK)
		return cache__dberr(c, err, "open");
	sqlite3_busy_timeout(c->db, 30000);
	int r = set_wal(c, err);
	if (r >= 0)
		r = cache__exec(c, "PRAGMA synchronous=NORMAL", err);
	if (r >= 0 && (r = cache__begin(c, err)) >= 0) {
		if ((r = cache__exec(c, schema_sql, err)) >= 0 && (r = migrate_runs(c, err)) >= 0)
			r = cache__commit(c, err);
		else
			cache__rollback(c);
	}
	if (r >= 0 && schema_version(c) != CACHE_SCHEMA)
		r = bld_err_set(err, BLD_ECACHE,
		                "cache %s was written by another bld version (schema %d, this bld "
		                "reads %d): use another BLD_CACHE_DIR or `bld reset`",
		                c->dir, schema_version(c), CACHE_SCHEMA);
	return r;
}

/* A database file SQLite cannot read is moved aside (the blobs it named
 * become orphans for prune); true when that happened. */
static bool db_set_aside(struct cache *c)
{
	int code = c->db ? sqlite3_errcode(c->db) : SQLITE_OK;
	if (code != SQLITE_NOTADB && code != SQLITE_CORRUPT) /* not: busy, read-only, full */
		return false;
	sqlite3_close(c->db);
	c->db = NULL;
	char *db = path_join(c->dir, CACHE_DB_FILE);
	char *aside = xasprintf("%s.corrupt-%lld", db, (long long)cache__now());
	char *wal = xasprintf("%s-wal", db), *shm = xasprintf("%s-shm", db);
	bool ok = rename(db, aside) == 0;
	unlink(wal);
	unlink(shm);
	free(db);
	free(aside);
	free(wal);
	free(shm);
	return ok;
}

int cache_open(const char *dir, struct cache **ret_cache, struct bld_err *err)
{
	int r = mkdir_p(dir, 0755);
	if (r < 0)
		return bld_err_set(err, BLD_ECACHE, "cannot create the cache folder %s: %s", dir,
		                   strerror(-r));
	struct cache *c = xcalloc(1, sizeof(*c));
	c->dir = xstrdup(dir);
	c->blobs = path_join(dir, "blobs");
	c->backend = cache__local_backend_new(c);
	pthread_mutex_init(&c->lock, NULL);
	strmap_init(&c->mem_index);
	strmap_init(&c->known);
	c->known_version = -1;
	sbuf_init(&c->recent);
	if ((r = mkdir_p(c->blobs, 0755)) < 0) {
		bld_err_set(err, BLD_ECACHE, "cannot create %s: %s", c->blobs, strerror(-r));
		cache_close(c);
		return BLD_ECACHE;
	}
	if ((r = db_open(c, err)) < 0 && db_set_aside(c)) {
		bld_err_clear(err);
		r = db_open(c, err);
	}
	if (r < 0) {
		cache_close(c);
		return r;
	}
	*ret_cache = c;
	return 0;
}

void cache_close(struct cache *c)
{
	if (!c)
		return;
	if (c->db) {
		cache__flush_usage(c);
		cache__fileindex_flush(c);
	}
	free(c->hits);
	sbuf_release(&c->recent);
	cache__known_clear(c);
	strmap_release(&c->known);
	if (c->backend)
		c->backend->ops->free(c->backend);
	sqlite3_finalize(c->q_index);
	for (int i = 0; i < CACHE_Q_N; i++)
		sqlite3_finalize(c->q[i]);
	sqlite3_close(c->db);
	for (size_t i = 0; i < c->npending; i++)
		free(c->pending[i].path);
	free(c->pending);
	cache__fileindex_mem_clear(c);
	strmap_release(&c->mem_index);
	pthread_mutex_destroy(&c->lock);
	free(c->dir);
	free(c->blobs);
	free(c);
}

void cache_flush(struct cache *c)
{
	if (!c || !c->db)
		return;
	cache__flush_usage(c);
	cache__fileindex_flush(c);
}

void cache_set_max_size(struct cache *c, uint64_t max_bytes)
{
	c->max_size = max_bytes;
}

void cache_entry_release(struct cache_entry *e)
{
	if (!e)
		return;
	free(e->task);
	free(e->terminal);
	for (size_t i = 0; i < e->nrows; i++) {
		free(e->rows[i].path);
		free(e->rows[i].link);
	}
	free(e->rows);
	strvec_release(&e->declared);
	free(e->manifest);
	sbuf_release(&e->fetched);
	sbuf_release(&e->staged);
	memset(e, 0, sizeof(*e));
}

/* The summary of entry hash from the database into *ret: 1, 0 none, negative. */
static int read_summary(struct cache *c, const char *hash, struct cache_entry *ret,
                        struct bld_err *err)
{
	int r = 0;
	sqlite3_stmt *q = cache__stmt(c, CACHE_Q_LOOKUP,
	                              "SELECT task, exit_code, duration_ms, size, created, "
	                              "terminal FROM entries WHERE hash=?1");
	if (!q)
		return cache__dberr(c, err, "lookup");
	sqlite3_bind_text(q, 1, hash, -1, SQLITE_STATIC);
	int rc = sqlite3_step(q);
	if (rc == SQLITE_ROW) {
		memset(ret, 0, sizeof(*ret));
		snprintf(ret->hash, sizeof(ret->hash), "%s", hash);
		ret->task = xstrdup((const char *)sqlite3_column_text(q, 0));
		ret->exit_code = sqlite3_column_int(q, 1);
		ret->duration_ms = (uint64_t)sqlite3_column_int64(q, 2);
		ret->size = (uint64_t)sqlite3_column_int64(q, 3);
		ret->created = sqlite3_column_int64(q, 4);
		int n = sqlite3_column_bytes(q, 5);
		ret->terminal = xmalloc((size_t)n + 1);
		if (n)
			memcpy(ret->terminal, sqlite3_column_blob(q, 5), (size_t)n);
		ret->terminal[n] = '\0';
		ret->terminal_len = (size_t)n;
		r = 1;
	} else if (rc != SQLITE_DONE) {
		r = cache__dberr(c, err, "lookup");
	}
	sqlite3_reset(q);
	return r;
}

int cache__lookup_locked(struct cache *c, const char *hash, struct cache_entry *ret,
                         struct bld_err *err)
{
	if (cache__known_summary(c, hash, ret))
		return 1;
	/* one read transaction for the summary and the rows kept with it */
	bool txn = sqlite3_get_autocommit(c->db) &&
	           sqlite3_exec(c->db, "BEGIN", NULL, NULL, NULL) == SQLITE_OK;
	int r = read_summary(c, hash, ret, err);
	if (r > 0)
		cache__known_learn(c, ret);
	if (txn)
		sqlite3_exec(c->db, "COMMIT", NULL, NULL, NULL);
	return r;
}

int cache_lookup(struct cache *c, const char *hash, struct cache_entry *ret, struct bld_err *err)
{
	pthread_mutex_lock(&c->lock);
	int r = cache__lookup_locked(c, hash, ret, err);
	pthread_mutex_unlock(&c->lock);
	return r;
}

int cache__resolve_hash(struct cache *c, const char *prefix, char out[33], struct bld_err *err)
{
	size_t n = strlen(prefix);
	if (!n || n > 32 || strspn(prefix, "0123456789abcdef") != n)
		return bld_err_set(err, BLD_EUSAGE, "\"%s\" is not a cache hash (hex digits)",
		                   prefix);
	char *lo = xstrdup(prefix), *hi = xasprintf("%s~", prefix);
	sqlite3_stmt *q;
	int r = 0, found = 0;
	if (sqlite3_prepare_v2(c->db,
	                       "SELECT hash FROM entries WHERE hash >= ?1 AND hash < ?2 "
	                       "LIMIT 2",
	                       -1, &q, NULL) != SQLITE_OK) {
		free(lo);
		free(hi);
		return cache__dberr(c, err, "resolve");
	}
	sqlite3_bind_text(q, 1, lo, -1, SQLITE_STATIC);
	sqlite3_bind_text(q, 2, hi, -1, SQLITE_STATIC);
	while (sqlite3_step(q) == SQLITE_ROW) {
		if (found++ == 0)
			snprintf(out, 33, "%s", (const char *)sqlite3_column_text(q, 0));
	}
	sqlite3_finalize(q);
	if (found == 0)
		r = bld_err_set(err, BLD_EUSAGE, "no cache entry with hash %s", prefix);
	else if (found > 1)
		r = bld_err_set(err, BLD_EUSAGE, "hash prefix %s is ambiguous", prefix);
	free(lo);
	free(hi);
	return r;
}

int cache_task_durations(struct cache *c, const char *const *task_ids, size_t n, int64_t before,
                         uint64_t *ret_ms, struct bld_err *err)
{
	sqlite3_stmt *q;
	pthread_mutex_lock(&c->lock);
	if (sqlite3_prepare_v2(c->db,
	                       "SELECT duration_ms FROM entries WHERE task=?1 AND created < ?2 "
	                       "ORDER BY created DESC LIMIT 1",
	                       -1, &q, NULL) != SQLITE_OK) {
		int r = cache__dberr(c, err, "durations");
		pthread_mutex_unlock(&c->lock);
		return r;
	}
	for (size_t i = 0; i < n; i++) {
		sqlite3_bind_text(q, 1, task_ids[i], -1, SQLITE_STATIC);
		sqlite3_bind_int64(q, 2, before);
		ret_ms[i] = sqlite3_step(q) == SQLITE_ROW ? (uint64_t)sqlite3_column_int64(q, 0) : 0;
		sqlite3_reset(q);
	}
	sqlite3_finalize(q);
	pthread_mutex_unlock(&c->lock);
	return 0;
}
