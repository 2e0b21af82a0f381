/*
 * scheduler.c - the scheduler's state machine and priority heaps.  See scheduler.h.
 */
#include "scheduler.h"

#include <stdlib.h>

static bool heap_less(const struct sched *s, int a, int b)
{
	if (s->t[a].priority != s->t[b].priority)
		return s->t[a].priority < s->t[b].priority;
	return a > b;
}

static void heap_push(const struct sched *s, struct sched_heap *h, int i)
{
	xgrow(&h->v, &h->cap, h->n + 1, sizeof(*h->v));
	size_t k = h->n++;
	h->v[k] = i;
	while (k > 0) {
		size_t parent = (k - 1) / 2;
		if (!heap_less(s, h->v[parent], h->v[k]))
			break;
		int tmp = h->v[parent];
		h->v[parent] = h->v[k];
		h->v[k] = tmp;
		k = parent;
	}
}

static int heap_pop(const struct sched *s, struct sched_heap *h)
{
	if (!h->n)
		return -1;
	int top = h->v[0];
	h->v[0] = h->v[--h->n];
	size_t k = 0;
	for (;;) {
		size_t l = 2 * k + 1, r = l + 1, best = k;
		if (l < h->n && heap_less(s, h->v[best], h->v[l]))
			best = l;
		if (r < h->n && heap_less(s, h->v[best], h->v[r]))
			best = r;
		if (best == k)
			break;
		int tmp = h->v[best];
		h->v[best] = h->v[k];
		h->v[k] = tmp;
		k = best;
	}
	return top;
}

/* Longest path from i to a sink (counting i), memoised in t[].priority (0 = unknown). */
static int priority_of(struct sched *s, int i)
{
	if (s->t[i].priority)
		return s->t[i].priority;
	const struct task *t = &s->tg->tasks[i];
	int best = 0;
	for (size_t k = 0; k < t->nrdeps; k++) {
		int p = priority_of(s, t->rdeps[k]);
		if (p > best)
			best = p;
	}
	s->t[i].priority = best + 1;
	return best + 1;
}

/* Every state change goes through here: it keeps the count of PREPARING tasks
 * (sched_pop_ready's look-ahead) and of QUEUED ones. */
static void set_state(struct sched *s, int i, enum sched_state st)
{
	enum sched_state was = s->t[i].state;
	s->ahead_now += (st == SCHED_PREPARING || st == SCHED_QUEUED) -
	                (was == SCHED_PREPARING || was == SCHED_QUEUED);
	s->t[i].state = st;
}

void sched_init(struct sched *s, const struct task_graph *tg, int parallel, bool bail)
{
	*s = (struct sched){0};
	s->tg = tg;
	s->n = tg->ntasks;
	s->t = xcalloc(s->n ? s->n : 1, sizeof(*s->t));
	s->parallel = parallel < 1 ? 1 : parallel;
	s->ahead = SCHED_AHEAD_PER_SLOT * s->parallel + SCHED_AHEAD_MIN;
	s->bail = bail;
	for (size_t i = 0; i < s->n; i++) {
		const struct task *t = &tg->tasks[i];
		s->t[i].pending = (int)t->ndeps;
		s->t[i].must_finish = !t->continuous || t->requested;
		if (s->t[i].must_finish)
			s->open++;
	}
	for (size_t i = 0; i < s->n; i++)
		priority_of(s, (int)i);
	for (size_t i = 0; i < s->n; i++)
		if (!s->t[i].pending) {
			set_state(s, (int)i, SCHED_READY);
			heap_push(s, &s->ready, (int)i);
		}
}

void sched_release(struct sched *s)
{
	free(s->t);
	free(s->ready.v);
	free(s->queued.v);
	free(s->skipped);
	*s = (struct sched){0};
}

int sched_pop_ready(struct sched *s)
{
	if (s->stopped || s->ahead_now >= s->ahead)
		return -1;
	return heap_pop(s, &s->ready);
}

static void mark_skipped(struct sched *s, int i);

void sched_prepare(struct sched *s, int i)
{
	set_state(s, i, SCHED_PREPARING);
	s->active++;
}

void sched_abandon(struct sched *s, int i)
{
	if (s->t[i].state == SCHED_PREPARING)
		s->active--;
	mark_skipped(s, i);
}

void sched_enqueue(struct sched *s, int i)
{
	if (s->t[i].state == SCHED_PREPARING)
		s->active--;
	set_state(s, i, SCHED_QUEUED);
	heap_push(s, &s->queued, i);
}

int sched_pop_runnable(struct sched *s)
{
	if (s->stopped || s->running >= s->parallel)
		return -1;
	int i = heap_pop(s, &s->queued);
	if (i < 0)
		return -1;
	set_state(s, i, SCHED_RUNNING);
	s->t[i].slot = true;
	s->running++;
	s->active++;
	return i;
}

void sched_start_noslot(struct sched *s, int i)
{
	if (s->t[i].state != SCHED_PREPARING)
		s->active++;
	set_state(s, i, SCHED_RUNNING);
}

/* Tell i's dependents that i is done (or up). */
static void release(struct sched *s, int i)
{
	if (s->t[i].released)
		return;
	s->t[i].released = true;
	const struct task *t = &s->tg->tasks[i];
	for (size_t k = 0; k < t->nrdeps; k++) {
		int d = t->rdeps[k];
		if (--s->t[d].pending == 0 && s->t[d].state == SCHED_WAITING) {
			set_state(s, d, SCHED_READY);
			heap_push(s, &s->ready, d);
		}
	}
}

void sched_task_up(struct sched *s, int i)
{
	release(s, i);
}

static void mark_skipped(struct sched *s, int i)
{
	set_state(s, i, SCHED_SKIPPED);
	if (s->t[i].must_finish)
		s->open--;
	xgrow(&s->skipped, &s->capskipped, s->nskipped + 1, sizeof(*s->skipped));
	s->skipped[s->nskipped++] = i;
}

/* Skip every task that (transitively) waits for i. */
static void skip_dependents(struct sched *s, int i)
{
	const struct task *t = &s->tg->tasks[i];
	for (size_t k = 0; k < t->nrdeps; k++) {
		int d = t->rdeps[k];
		if (s->t[d].state != SCHED_WAITING)
			continue;
		mark_skipped(s, d);
		skip_dependents(s, d);
	}
}

void sched_finish(struct sched *s, int i, bool ok)
{
	struct sched_task *st = &s->t[i];
	if (st->state == SCHED_RUNNING || st->state == SCHED_PREPARING) {
		s->active--;
		if (st->slot)
			s->running--;
	}
	st->slot = false;
	set_state(s, i, ok ? SCHED_OK : SCHED_FAILED);
	if (st->must_finish)
		s->open--;
	if (ok) {
		release(s, i);
		return;
	}
	s->failed++;
	if (s->bail)
		s->stopped = true;
	if (!st->released)
		skip_dependents(s, i);
}

void sched_stop(struct sched *s)
{
	s->stopped = true;
}

int sched_pop_skipped(struct sched *s)
{
	if (!s->nskipped)
		return -1;
	int i = s->skipped[0];
	for (size_t k = 1; k < s->nskipped; k++)
		s->skipped[k - 1] = s->skipped[k];
	s->nskipped--;
	return i;
}

bool sched_done(struct sched *s)
{
	if (!s->stopped)
		return s->open == 0;
	for (size_t i = 0; i < s->n; i++)
		if ((s->t[i].state == SCHED_RUNNING || s->t[i].state == SCHED_PREPARING) &&
		    s->t[i].must_finish)
			return false;
	for (size_t i = 0; i < s->n; i++) {
		enum sched_state st = s->t[i].state;
		if (st == SCHED_WAITING || st == SCHED_READY || st == SCHED_QUEUED)
			mark_skipped(s, (int)i);
	}
	return true;
}
