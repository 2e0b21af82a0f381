/*
 * fileindex.c - content hashes of files, and the stat-keyed file index.
 *
 * The index (SQLite table `files`, see store.c) maps an absolute path and
 * its stat (size, mtime_ns, ctime_ns, inode) to the XXH3-128 of its bytes,
 * so a file whose stat is unchanged is never read again.  Racy entries are
 * avoided as git does: a file modified within the last two seconds is
 * hashed but not indexed (its mtime could still change within one tick).
 * New rows are buffered and written in one transaction by
 * cache__fileindex_flush().
 */
#include "cache_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <xxhash.h>

static void hex128(XXH128_hash_t h, char out[33])
{
	snprintf(out, 33, "%016llx%016llx", (unsigned long long)h.high64,
	         (unsigned long long)h.low64);
}

void cache__hash_bytes(const void *data, size_t len, char out[33])
{
	hex128(XXH3_128bits(data, len), out);
}

int cache__hash_copy(int src, int dst, char out[33])
{
	XXH3_state_t *st = XXH3_createState();
	if (!st)
		abort();
	XXH3_128bits_reset(st);
	char *buf = xmalloc(1 << 17);
	int r = 0;
	for (;;) {
		ssize_t n = read(src, buf, 1 << 17);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			r = -errno;
			break;
		}
		if (n == 0)
			break;
		XXH3_128bits_update(st, buf, (size_t)n);
		if (dst >= 0 && (r = fd_write_all(dst, buf, (size_t)n)) < 0)
			break;
	}
	if (!r)
		hex128(XXH3_128bits_digest(st), out);
	free(buf);
	XXH3_freeState(st);
	return r;
}

int cache__hash_fd(int fd, char out[33])
{
	return cache__hash_copy(fd, -1, out);
}

static int64_t ts_ns(const struct timespec *ts)
{
	return (int64_t)ts->tv_sec * 1000000000LL + ts->tv_nsec;
}

int64_t cache__now(void)
{
	return (int64_t)time(NULL);
}

/* Rows kept in memory at most (then they start again from none). */
#define MEM_INDEX_MAX 200000

void cache__fileindex_mem_clear(struct cache *c)
{
	strmap_release_values(&c->mem_index, free);
}

static bool same_stat(const struct cache_pending_file *f, const struct stat *st)
{
	return f->size == (int64_t)st->st_size && f->mtime_ns == ts_ns(&st->st_mtim) &&
	       f->ctime_ns == ts_ns(&st->st_ctim) && f->ino == (int64_t)st->st_ino;
}

static void mem_put(struct cache *c, const char *abs, const struct stat *st, const char *hash)
{
	if (c->mem_index.n >= MEM_INDEX_MAX)
		cache__fileindex_mem_clear(c);
	struct cache_pending_file *f = xcalloc(1, sizeof(*f));
	*f = (struct cache_pending_file){NULL, (int64_t)st->st_size, ts_ns(&st->st_mtim),
	                                 ts_ns(&st->st_ctim), (int64_t)st->st_ino, {0}};
	memcpy(f->hash, hash, 33);
	free(strmap_put(&c->mem_index, abs, f));
}

bool cache__fileindex_get(struct cache *c, const char *abs, const struct stat *st, char out[33])
{
	bool hit = false;
	const struct cache_pending_file *m = strmap_get(&c->mem_index, abs);
	if (m && same_stat(m, st)) {
		memcpy(out, m->hash, 33);
		return true;
	}
	if (!c->q_index &&
	    sqlite3_prepare_v2(c->db,
	                       "SELECT hash FROM files WHERE path=?1 AND size=?2 AND mtime_ns=?3 "
	                       "AND ctime_ns=?4 AND ino=?5",
	                       -1, &c->q_index, NULL) != SQLITE_OK)
		return false;
	sqlite3_stmt *q = c->q_index;
	sqlite3_bind_text(q, 1, abs, -1, SQLITE_STATIC);
	sqlite3_bind_int64(q, 2, (int64_t)st->st_size);
	sqlite3_bind_int64(q, 3, ts_ns(&st->st_mtim));
	sqlite3_bind_int64(q, 4, ts_ns(&st->st_ctim));
	sqlite3_bind_int64(q, 5, (int64_t)st->st_ino);
	if (sqlite3_step(q) == SQLITE_ROW) {
		const unsigned char *h = sqlite3_column_text(q, 0);
		if (h && strlen((const char *)h) == 32) {
			memcpy(out, h, 33);
			hit = true;
			mem_put(c, abs, st, out);
		}
	}
	sqlite3_reset(q);
	sqlite3_clear_bindings(q);
	return hit;
}

static void index_add(struct cache *c, const char *abs, const struct stat *st, const char *hash)
{
	int64_t now = (int64_t)time(NULL);
	if (st->st_mtim.tv_sec >= now - 2 || st->st_ctim.tv_sec >= now - 2)
		return; /* racy: could change again within the same timestamp tick */
	xgrow(&c->pending, &c->cappending, c->npending + 1, sizeof(*c->pending));
	struct cache_pending_file *f = &c->pending[c->npending++];
	f->path = xstrdup(abs);
	f->size = (int64_t)st->st_size;
	f->mtime_ns = ts_ns(&st->st_mtim);
	f->ctime_ns = ts_ns(&st->st_ctim);
	f->ino = (int64_t)st->st_ino;
	memcpy(f->hash, hash, 33);
	mem_put(c, abs, st, hash);
}

int cache__file_hash(struct cache *c, const char *abs, const struct stat *st, char out[33])
{
	if (c) {
		pthread_mutex_lock(&c->lock);
		bool hit = cache__fileindex_get(c, abs, st, out);
		pthread_mutex_unlock(&c->lock);
		if (hit)
			return 0;
	}
	int fd = open(abs, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0)
		return -errno;
	int r = cache__hash_fd(fd, out);
	close(fd);
	if (r == 0 && c) {
		pthread_mutex_lock(&c->lock);
		index_add(c, abs, st, out);
		bool flush = c->npending >= 4096;
		pthread_mutex_unlock(&c->lock);
		if (flush)
			cache__fileindex_flush(c);
	}
	return r;
}

void cache__fileindex_flush(struct cache *c)
{
	if (!c)
		return;
	pthread_mutex_lock(&c->lock);
	if (!c->npending) {
		pthread_mutex_unlock(&c->lock);
		return;
	}
	sqlite3_stmt *q = NULL;
	/* best effort: the index is an optimisation, a busy or full disk loses rows */
	if (sqlite3_exec(c->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) == SQLITE_OK &&
	    sqlite3_prepare_v2(c->db,
	                       "INSERT OR REPLACE INTO files(path,size,mtime_ns,ctime_ns,ino,hash) "
	                       "VALUES(?1,?2,?3,?4,?5,?6)",
	                       -1, &q, NULL) == SQLITE_OK) {
		for (size_t i = 0; i < c->npending; i++) {
			struct cache_pending_file *f = &c->pending[i];
			sqlite3_bind_text(q, 1, f->path, -1, SQLITE_STATIC);
			sqlite3_bind_int64(q, 2, f->size);
			sqlite3_bind_int64(q, 3, f->mtime_ns);
			sqlite3_bind_int64(q, 4, f->ctime_ns);
			sqlite3_bind_int64(q, 5, f->ino);
			sqlite3_bind_text(q, 6, f->hash, -1, SQLITE_STATIC);
			sqlite3_step(q);
			sqlite3_reset(q);
		}
		sqlite3_finalize(q);
		if (sqlite3_exec(c->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
			sqlite3_exec(c->db, "ROLLBACK", NULL, NULL, NULL);
	} else {
		sqlite3_exec(c->db, "ROLLBACK", NULL, NULL, NULL);
	}
	for (size_t i = 0; i < c->npending; i++)
		free(c->pending[i].path);
	c->npending = 0;
	pthread_mutex_unlock(&c->lock);
}
