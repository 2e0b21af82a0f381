/*
 * inflight.h - the in-flight table: the cacheable tasks this engine is
 * preparing or running right now, keyed by task hash, and which jobs of other
 * requests wait for each of them.
 *
 * The first request whose task misses the cache claims the key: its job is
 * the owner, which alone takes the cross-process task lock and runs the task.
 * A later request needing the same key subscribes its own job instead; the
 * engine (share.c) sends the owner's events to every subscriber.  The table
 * knows nothing of runs, processes or libuv: it keeps who wants what, and
 * the caller acts on its answers.
 *
 * Threads: a task's hash is known on the thread pool, and a miss claims its
 * key there at once (no extra trip to the loop), so inflight_claim,
 * inflight_find, inflight_close and inflight_count take the table's mutex
 * (uncontended: no system call).  Everything else, and every change to a
 * job once it is in the table, is the loop thread's; a worker only inserts.
 *
 * A shared job moves CLAIMED (the owner looks the hash up again and takes the
 * lock) -> RUNNING (a miss: queued or started) -> ENDED (the task is over,
 * its entry being stored), and leaves the table when it is closed.
 */
#ifndef BLD_INFLIGHT_H
#define BLD_INFLIGHT_H

#include <stdbool.h>
#include <stddef.h>

struct job;
struct inflight;     /* the table */
struct inflight_job; /* one shared job: its key, owner, subscribers */

enum inflight_phase {
	INFLIGHT_CLAIMED,
	INFLIGHT_RUNNING,
	INFLIGHT_ENDED,
};

struct inflight *inflight_new(void);
/* Frees the table and every job still in it (NULL is fine). */
void inflight_free(struct inflight *t);
/* Shared jobs in the table. */
size_t inflight_count(struct inflight *t);
/* Followers of all of them. */
size_t inflight_followers(const struct inflight *t);

/* The shared job of key, or NULL. */
struct inflight_job *inflight_find(struct inflight *t, const char *key);
/* The shared job of key: a new one owned by owner (borrowed; phase CLAIMED;
 * *ret_claimed true), or the one somebody claimed before (false).  Any thread. */
struct inflight_job *inflight_claim(struct inflight *t, const char *key, struct job *owner,
                                    bool *ret_claimed);
/* Remove the shared job from t and free it.  Its remaining subscribers are
 * moved to *ret_subs (caller frees the array; NULL when none) and *ret_n. */
void inflight_close(struct inflight *t, struct inflight_job *sj, struct job ***ret_subs,
                    size_t *ret_n);

/* Add sub (borrowed until unsubscribed or handed the job) to the subscribers, last. */
void inflight_subscribe(struct inflight_job *sj, struct job *sub);
/* Remove sub; false when it was not subscribed. */
bool inflight_unsubscribe(struct inflight_job *sj, struct job *sub);
/* Take every subscriber out (the job ended for them) into *ret_subs / *ret_n, as above. */
void inflight_take_subs(struct inflight_job *sj, struct job ***ret_subs, size_t *ret_n);
/* The owner leaves: the earliest subscriber becomes the owner and is returned,
 * or NULL when nobody else wants the job (the job is unchanged then). */
struct job *inflight_hand_over(struct inflight_job *sj);

struct job *inflight_owner(const struct inflight_job *sj);
/* Requests that want the job: its owner and its subscribers. */
size_t inflight_interest(const struct inflight_job *sj);
size_t inflight_nsubs(const struct inflight_job *sj);
/* Subscriber i (0 <= i < inflight_nsubs), in the order they came. */
struct job *inflight_sub(const struct inflight_job *sj, size_t i);
const char *inflight_key(const struct inflight_job *sj);

enum inflight_phase inflight_phase(const struct inflight_job *sj);
void inflight_set_phase(struct inflight_job *sj, enum inflight_phase phase);
/* The owner's task-start was sent (RUNNING only): subscribers start at once. */
bool inflight_started(const struct inflight_job *sj);
void inflight_set_started(struct inflight_job *sj);

#endif
