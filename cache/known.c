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
 * kept, and past KNOWN_MAX_BYTES everything known is forgotten first.  An
 * entry is kept packed in one allocation (struct known: its rows, then its
 * strings), about 300 bytes for a typical one; a struct cache_entry with its
 * dozen allocations took 1.3 KB.
 */
#include "cache_int.h"

#include <stdlib.h>
#include <string.h>
#include <time.h>

#define KNOWN_TERMINAL_MAX (64u << 10)
#define KNOWN_MAX_BYTES (32u << 20)
#define KNOWN_CHECK_NS (10 * 1000 * 1000)

/* One output row of a kept entry; path and link are offsets into its strings. */
struct known_row {
	int64_t size;
	uint32_t path, link; /* link 0: none (offset 0 is the task id, never a link) */
	uint32_t kind, mode;
	char blob[33];
};

/* A kept entry: the rows, then the strings (task id, terminal output, the
 * rows' paths and links, the declared outputs, each NUL-terminated). */
struct known {
	int64_t created;
	uint64_t duration_ms, size;
	size_t terminal_len, bytes;
	int exit_code;
	uint32_t nrows, ndeclared;
	uint32_t terminal, declared; /* offsets; the task id is at 0 */
	struct known_row rows[];
};

/* A coarse clock (a few ms; no vDSO time read): enough for KNOWN_CHECK_NS. */
static int64_t mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC_COARSE, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static char *strs(const struct known *k)
{
	return (char *)&k->rows[k->nrows];
}

/* Append len bytes and a NUL at *at of k's strings; their offset. */
static uint32_t put_str(struct known *k, size_t *at, const char *s, size_t len)
{
	uint32_t off = (uint32_t)*at;
	memcpy(strs(k) + off, s, len);
	strs(k)[off + len] = '\0';
	*at += len + 1;
	return off;
}

/* e (summary, rows, declared outputs) packed in one allocation; NULL when
 * it would take over a quarter of KNOWN_MAX_BYTES. */
static struct known *pack(const struct cache_entry *e)
{
	size_t n = strlen(e->task) + 1 + e->terminal_len + 1;
	for (size_t i = 0; i < e->nrows; i++)
		n += strlen(e->rows[i].path) + 1 + (e->rows[i].link ? strlen(e->rows[i].link) + 1 : 0);
	for (size_t i = 0; i < e->declared.n; i++)
		n += strlen(e->declared.v[i]) + 1;
	size_t bytes = sizeof(struct known) + e->nrows * sizeof(struct known_row) + n;
	if (bytes > KNOWN_MAX_BYTES / 4)
		return NULL;
	struct known *k = xmalloc(bytes);
	*k = (struct known){e->created,        e->duration_ms,      e->size,
	                    e->terminal_len,   bytes,               e->exit_code,
	                    (uint32_t)e->nrows, (uint32_t)e->declared.n, 0, 0};
	size_t at = 0;
	put_str(k, &at, e->task, strlen(e->task));
	k->terminal = put_str(k, &at, e->terminal, e->terminal_len);
	for (size_t i = 0; i < e->nrows; i++) {
		const struct cache_row *r = &e->rows[i];
		struct known_row *kr = &k->rows[i];
		*kr = (struct known_row){r->size, 0, 0, (uint32_t)r->kind, r->mode, ""};
		memcpy(kr->blob, r->blob, sizeof(kr->blob));
		kr->path = put_str(k, &at, r->path, strlen(r->path));
		if (r->link)
			kr->link = put_str(k, &at, r->link, strlen(r->link));
	}
	k->declared = (uint32_t)at;
	for (size_t i = 0; i < e->declared.n; i++)
		put_str(k, &at, e->declared.v[i], strlen(e->declared.v[i]));
	return k;
}

void cache__known_clear(struct cache *c)
{
	strmap_release_values(&c->known, free);
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

static const struct known *known_get(struct cache *c, const char *hash)
{
	return still_valid(c) ? strmap_get(&c->known, hash) : NULL;
}

bool cache__known_summary(struct cache *c, const char *hash, struct cache_entry *ret)
{
	const struct known *k = known_get(c, hash);
	if (!k)
		return false;
	memset(ret, 0, sizeof(*ret));
	memcpy(ret->hash, hash, strnlen(hash, sizeof(ret->hash) - 1));
	ret->task = xstrdup(strs(k));
	ret->exit_code = k->exit_code;
	ret->duration_ms = k->duration_ms;
	ret->size = k->size;
	ret->created = k->created;
	ret->terminal = xmalloc(k->terminal_len + 1);
	memcpy(ret->terminal, strs(k) + k->terminal, k->terminal_len + 1);
	ret->terminal_len = k->terminal_len;
	return true;
}

bool cache__known_rows(struct cache *c, const char *hash, struct cache_entry *e)
{
	const struct known *k = known_get(c, hash);
	if (!k)
		return false;
	const char *s = strs(k);
	e->rows = xrealloc(e->rows, (e->nrows + k->nrows + 1) * sizeof(*e->rows));
	for (uint32_t i = 0; i < k->nrows; i++) {
		const struct known_row *kr = &k->rows[i];
		struct cache_row *r = &e->rows[e->nrows++];
		memset(r, 0, sizeof(*r));
		r->path = xstrdup(s + kr->path);
		r->kind = (int)kr->kind;
		r->mode = kr->mode;
		r->size = kr->size;
		memcpy(r->blob, kr->blob, sizeof(r->blob));
		r->link = kr->link ? xstrdup(s + kr->link) : NULL;
	}
	for (uint32_t i = 0, at = k->declared; i < k->ndeclared; i++) {
		strvec_push(&e->declared, s + at);
		at += (uint32_t)strlen(s + at) + 1;
	}
	return true;
}

void cache__known_learn(struct cache *c, const struct cache_entry *summary)
{
	if (c->known_version < 0 || summary->terminal_len > KNOWN_TERMINAL_MAX)
		return;
	struct cache_entry whole = *summary; /* borrowed summary, own rows */
	whole.rows = NULL;
	whole.nrows = 0;
	strvec_init(&whole.declared);
	struct known *k = NULL;
	if (cache__entry_rows_read(c, summary->hash, &whole, NULL) == 1)
		k = pack(&whole);
	for (size_t i = 0; i < whole.nrows; i++) {
		free(whole.rows[i].path);
		free(whole.rows[i].link);
	}
	free(whole.rows);
	strvec_release(&whole.declared);
	if (!k)
		return;
	if (c->known_bytes + k->bytes > KNOWN_MAX_BYTES)
		cache__known_clear(c);
	struct known *old = strmap_put(&c->known, summary->hash, k);
	if (old) {
		c->known_bytes -= old->bytes;
		free(old);
	}
	c->known_bytes += k->bytes;
}

void cache__known_drop(struct cache *c, const char *hash)
{
	struct known *old = strmap_del(&c->known, hash);
	if (!old)
		return;
	c->known_bytes -= old->bytes;
	free(old);
}
