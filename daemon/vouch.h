/*
 * vouch.h - the cache entries whose outputs a resident host vouches for:
 * as far as its watcher can tell, every output is exactly as the entry says,
 * so a hit of one skips restore's checks (docs/architecture.md, "Outputs
 * vouched for").
 *
 * A vouch names an entry (struct vouch_id: its task hash and what tells a
 * stored entry from a later one of the same hash) and the entry's output
 * roots.  It starts pending (vouches_begin, before the host watches the
 * outputs' folders and restore checks them), holds once the check found
 * everything in place (vouches_grant), and is dropped by any change at, below
 * or above one of its roots (vouches_touch), by a newer vouch over one of its
 * roots or of its hash, or by vouches_clear.  A grant whose pending vouch was
 * dropped meanwhile does nothing: a change racing with the check always wins.
 *
 * The table knows nothing of watchers, threads or libuv; the host serialises
 * every call (its vouch lock).
 */
#ifndef BLD_VOUCH_H
#define BLD_VOUCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bld/base.h"

/* Which stored entry: a hash pruned and stored again (by this engine or
 * another) is another entry. */
struct vouch_id {
	char hash[33];
	int64_t created;
	uint64_t size, duration_ms, terminal_len;
};

struct vouches;

struct vouches *vouches_new(void);
/* NULL is fine. */
void vouches_free(struct vouches *v);
/* Is the entry id vouched for (granted, not dropped since)? */
bool vouches_holds(const struct vouches *v, const struct vouch_id *id);
/* A pending vouch of id over roots (workspace-relative; copied), replacing
 * any vouch of the same hash or over one of those roots.  Returns its token
 * (never 0), for vouches_grant / vouches_cancel. */
uint64_t vouches_begin(struct vouches *v, const struct vouch_id *id, const struct strvec *roots);
/* The check found the outputs in place: the pending vouch of token holds.
 * False when it was dropped since (nothing then). */
bool vouches_grant(struct vouches *v, const char *hash, uint64_t token);
/* The check failed or wrote: drop the pending vouch of token (if still there). */
void vouches_cancel(struct vouches *v, const char *hash, uint64_t token);
/* rel (workspace-relative, "" the root) changed: drop every vouch with a root
 * at, above or below it.  Returns how many were dropped. */
size_t vouches_touch(struct vouches *v, const char *rel);
/* Drop every vouch. */
void vouches_clear(struct vouches *v);
/* Vouches held (granted). */
size_t vouches_count(const struct vouches *v);

#endif
