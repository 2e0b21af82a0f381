/*
 * inflight.c - the in-flight table.  See inflight.h.
 *
 * The jobs sit in a strmap (key -> job; strmap_del takes a job out as often
 * as one enters).  Only tasks running right now are in it, so it stays small;
 * a lookup is one hash and a short probe, no system call.
 */
#include "inflight.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "bld/base.h"

struct inflight_job {
	struct inflight *table;
	char *key; /* owned */
	struct job *owner;
	struct job **subs; /* in the order they subscribed */
	size_t nsubs, capsubs;
	enum inflight_phase phase;
	bool started;
};

struct inflight {
	pthread_mutex_t lock; /* jobs (see inflight.h, "Threads") */
	struct strmap jobs;   /* key -> struct inflight_job (owned) */
	size_t nsubs; /* followers of all its jobs */
};

struct inflight *inflight_new(void)
{
	struct inflight *t = xcalloc(1, sizeof(*t));
	pthread_mutex_init(&t->lock, NULL);
	strmap_init(&t->jobs);
	return t;
}

static void job_free(void *p)
{
	struct inflight_job *sj = p;
	free(sj->key);
	free(sj->subs);
	free(sj);
}

void inflight_free(struct inflight *t)
{
	if (!t)
		return;
	strmap_release_values(&t->jobs, job_free);
	pthread_mutex_destroy(&t->lock);
	free(t);
}

size_t inflight_count(struct inflight *t)
{
	pthread_mutex_lock(&t->lock);
	size_t n = t->jobs.n;
	pthread_mutex_unlock(&t->lock);
	return n;
}

size_t inflight_followers(const struct inflight *t)
{
	return t->nsubs;
}

struct inflight_job *inflight_find(struct inflight *t, const char *key)
{
	pthread_mutex_lock(&t->lock);
	struct inflight_job *sj = strmap_get(&t->jobs, key);
	pthread_mutex_unlock(&t->lock);
	return sj;
}

struct inflight_job *inflight_claim(struct inflight *t, const char *key, struct job *owner,
                                    bool *ret_claimed)
{
	pthread_mutex_lock(&t->lock);
	struct inflight_job *sj = strmap_get(&t->jobs, key);
	*ret_claimed = !sj;
	if (!sj) {
		sj = xcalloc(1, sizeof(*sj));
		sj->table = t;
		sj->key = xstrdup(key);
		sj->owner = owner;
		sj->phase = INFLIGHT_CLAIMED;
		strmap_put(&t->jobs, key, sj);
	}
	pthread_mutex_unlock(&t->lock);
	return sj;
}

void inflight_take_subs(struct inflight_job *sj, struct job ***ret_subs, size_t *ret_n)
{
	*ret_subs = sj->subs;
	*ret_n = sj->nsubs;
	sj->table->nsubs -= sj->nsubs;
	sj->subs = NULL;
	sj->nsubs = sj->capsubs = 0;
}

void inflight_close(struct inflight *t, struct inflight_job *sj, struct job ***ret_subs,
                    size_t *ret_n)
{
	pthread_mutex_lock(&t->lock);
	if (strmap_get(&t->jobs, sj->key) == sj)
		strmap_del(&t->jobs, sj->key);
	pthread_mutex_unlock(&t->lock);
	inflight_take_subs(sj, ret_subs, ret_n);
	job_free(sj);
}

void inflight_subscribe(struct inflight_job *sj, struct job *sub)
{
	xgrow(&sj->subs, &sj->capsubs, sj->nsubs + 1, sizeof(*sj->subs));
	sj->subs[sj->nsubs++] = sub;
	sj->table->nsubs++;
}

bool inflight_unsubscribe(struct inflight_job *sj, struct job *sub)
{
	for (size_t i = 0; i < sj->nsubs; i++) {
		if (sj->subs[i] != sub)
			continue;
		memmove(&sj->subs[i], &sj->subs[i + 1], (sj->nsubs - i - 1) * sizeof(*sj->subs));
		sj->nsubs--;
		sj->table->nsubs--;
		return true;
	}
	return false;
}

struct job *inflight_hand_over(struct inflight_job *sj)
{
	if (!sj->nsubs)
		return NULL;
	struct job *heir = sj->subs[0];
	inflight_unsubscribe(sj, heir);
	sj->owner = heir;
	return heir;
}

struct job *inflight_owner(const struct inflight_job *sj)
{
	return sj->owner;
}

size_t inflight_interest(const struct inflight_job *sj)
{
	return 1 + sj->nsubs;
}

size_t inflight_nsubs(const struct inflight_job *sj)
{
	return sj->nsubs;
}

struct job *inflight_sub(const struct inflight_job *sj, size_t i)
{
	return i < sj->nsubs ? sj->subs[i] : NULL;
}

const char *inflight_key(const struct inflight_job *sj)
{
	return sj->key;
}

enum inflight_phase inflight_phase(const struct inflight_job *sj)
{
	return sj->phase;
}

void inflight_set_phase(struct inflight_job *sj, enum inflight_phase phase)
{
	sj->phase = phase;
}

bool inflight_started(const struct inflight_job *sj)
{
	return sj->started;
}

void inflight_set_started(struct inflight_job *sj)
{
	sj->started = true;
}
