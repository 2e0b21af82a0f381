/*
 * backend.c - moving entries between store backends through their ops
 * (store.h, struct store_backend_ops; docs/cache.md, "Store backends").
 *
 * store_copy is the one way an entry goes from one backend to another: a
 * remote hit into the local store (the remote's lookup has verified the
 * whole artifact before anything is put), a new local entry out to the
 * remote (the local get_blob re-reads and checks every blob, so a damaged
 * local blob is never sent).  The entry being copied is the transaction the
 * destination stages its blobs in.
 */
#include "cache_int.h"

#include <string.h>

/* Put every file of e (fetched from `from`) into `to`, then the entry. */
static int copy_into(struct store_backend *from, struct store_backend *to,
                     struct cache_entry *e, struct bld_err *err)
{
	struct sbuf blob = SBUF_INIT;
	sbuf_init(&blob);
	int r = 0;
	for (size_t i = 0; r >= 0 && i < e->nrows; i++) {
		if (e->rows[i].kind != CACHE_ROW_FILE)
			continue;
		sbuf_reset(&blob);
		r = from->ops->get_blob(from, e, i, &blob, err);
		if (r >= 0)
			r = to->ops->put_blob(to, e, i, blob.buf, blob.len, err);
	}
	sbuf_release(&blob);
	return r < 0 ? r : to->ops->put_entry(to, e, err);
}

int store_copy(struct store_backend *from, struct store_backend *to, const char *hash,
               const char *task_id, struct bld_err *err)
{
	if (to->ops->writable && !to->ops->writable(to))
		return 0;
	struct cache_entry e;
	memset(&e, 0, sizeof(e));
	int r = from->ops->lookup(from, hash, task_id, &e, err);
	if (r > 0 && (r = copy_into(from, to, &e, err)) >= 0)
		r = 1;
	cache_entry_release(&e);
	return r;
}

void store_has(struct store_backend *b, const char *const *hashes, size_t n, int *ret)
{
	b->ops->has(b, hashes, n, ret);
}

void store_prefetch(struct store_backend *b, const char *const *hashes, size_t n)
{
	if (b && b->ops->prefetch)
		b->ops->prefetch(b, hashes, n);
}

void store_flush(struct store_backend *b)
{
	if (b && b->ops->flush)
		b->ops->flush(b);
}

void store_take_warnings(struct store_backend *b, struct strvec *sv)
{
	if (b && b->ops->take_warnings)
		b->ops->take_warnings(b, sv);
}

void store_take_stats(struct store_backend *b, struct cache_remote_stats *ret)
{
	if (b && b->ops->take_stats)
		b->ops->take_stats(b, ret);
}

void store_backend_free(struct store_backend *b)
{
	if (b)
		b->ops->free(b);
}
