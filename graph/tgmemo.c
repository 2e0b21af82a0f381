/*
 * tgmemo.c - task graphs kept for one workspace, by the request's shape.
 *
 * A daemon answers the same few requests over and over (`run-many -t build`,
 * `run app:build`) against a workspace that does not change between two
 * generations.  Building the graph expands every task's dependsOn and its
 * options (a JSON merge and token expansion per task), which at 10,000
 * tasks is most of the loop thread's work for a cached run.  The memo keeps
 * the graphs it built and hands out shares (task_graph_share): one copy of
 * the task array, the rest borrowed.
 *
 * The key is the whole tg_request written out: projects, targets,
 * configuration, flags, and the overrides as JSON text.  Entries are few (a
 * daemon sees a handful of request shapes), so they are a short array in
 * most-recently-used order, compared by length, hash and bytes.
 */
#include <assert.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "bld/taskgraph.h"

struct tg_kept {
	char *key;                /* owned */
	size_t len;
	uint64_t hash;
	struct task_graph *graph; /* a reference */
};

struct tg_memo {
	struct workspace *ws;     /* borrowed */
	pthread_mutex_t lock;
	struct tg_kept *v;        /* most recently used first */
	size_t n, max;
	size_t tasks, max_tasks;  /* tasks in the kept graphs, and how many may be */
	uint64_t hits;
};

struct tg_memo *tg_memo_new(struct workspace *ws, size_t max)
{
	struct tg_memo *m = xcalloc(1, sizeof(*m));
	m->ws = ws;
	m->max = max ? max : 1;
	/* a kept graph of 10,000 tasks, with its plans, is about 15 MB: keep the
	 * equivalent of two run-many graphs of every project at most */
	m->max_tasks = 2 * ws->nprojects + 256;
	m->v = xcalloc(m->max + 1, sizeof(*m->v));
	pthread_mutex_init(&m->lock, NULL);
	return m;
}

static void kept_release(struct tg_kept *k)
{
	free(k->key);
	task_graph_free(k->graph);
}

void tg_memo_free(struct tg_memo *m)
{
	if (!m)
		return;
	for (size_t i = 0; i < m->n; i++)
		kept_release(&m->v[i]);
	free(m->v);
	pthread_mutex_destroy(&m->lock);
	free(m);
}

/* Every field of rq that the graph depends on, unambiguously: lists are
 * counted, strings end with a NUL. */
static void request_key(const struct tg_request *rq, struct sbuf *out)
{
	sbuf_addf(out, "%d%d%d", rq->exclude_task_deps, rq->skip_missing, !!rq->configuration);
	if (rq->configuration)
		sbuf_add(out, rq->configuration, strlen(rq->configuration) + 1);
	const struct strvec *lists[] = {&rq->targets, &rq->projects};
	for (size_t l = 0; l < ARRAY_LEN(lists); l++) {
		sbuf_addf(out, "%zu:", lists[l]->n);
		for (size_t i = 0; i < lists[l]->n; i++)
			sbuf_add(out, lists[l]->v[i], strlen(lists[l]->v[i]) + 1);
	}
	if (rq->overrides) {
		char *ov = cJSON_PrintUnformatted(rq->overrides);
		sbuf_adds(out, ov ? ov : "?");
		free(ov);
	}
}

static uint64_t key_hash(const char *s, size_t len)
{
	uint64_t h = 1469598103934665603ULL;
	for (size_t i = 0; i < len; i++)
		h = (h ^ (unsigned char)s[i]) * 1099511628211ULL;
	return h;
}

/* Index of the entry for key, or -1; caller holds the lock. */
static int find(const struct tg_memo *m, const char *key, size_t len, uint64_t hash)
{
	for (size_t i = 0; i < m->n; i++)
		if (m->v[i].hash == hash && m->v[i].len == len && !memcmp(m->v[i].key, key, len))
			return (int)i;
	return -1;
}

/* Move entry i to the front; caller holds the lock. */
static void touch(struct tg_memo *m, size_t i)
{
	struct tg_kept k = m->v[i];
	memmove(m->v + 1, m->v, i * sizeof(*m->v));
	m->v[0] = k;
}

/* A share of the kept graph for key, or NULL. */
static struct task_graph *lookup(struct tg_memo *m, const struct sbuf *key, uint64_t hash)
{
	struct task_graph *tg = NULL;
	pthread_mutex_lock(&m->lock);
	int i = find(m, key->buf, key->len, hash);
	if (i >= 0) {
		touch(m, (size_t)i);
		tg = task_graph_share(m->v[0].graph);
		m->hits++;
	}
	pthread_mutex_unlock(&m->lock);
	return tg;
}

/* Keep graph (taking the caller's reference) under key; the least recently
 * used entries go while m holds more than max graphs or max_tasks tasks (the
 * new one stays).  Another thread may have kept the same key meanwhile: then
 * graph is dropped. */
static void keep(struct tg_memo *m, struct sbuf *key, uint64_t hash, struct task_graph *graph)
{
	struct tg_kept *drop = xcalloc(m->max + 1, sizeof(*drop));
	size_t ndrop = 0;
	pthread_mutex_lock(&m->lock);
	if (find(m, key->buf, key->len, hash) >= 0) {
		drop[ndrop++].graph = graph;
	} else {
		m->v[m->n] = (struct tg_kept){NULL, key->len, hash, graph};
		m->v[m->n].key = sbuf_detach(key);
		m->tasks += graph->ntasks;
		touch(m, m->n++);
		while (m->n > 1 && (m->n > m->max || m->tasks > m->max_tasks)) {
			drop[ndrop] = m->v[--m->n];
			m->tasks -= drop[ndrop++].graph->ntasks;
		}
	}
	pthread_mutex_unlock(&m->lock);
	for (size_t i = 0; i < ndrop; i++) /* outside the lock: a large graph takes a while */
		kept_release(&drop[i]);
	free(drop);
}

int tg_memo_build(struct tg_memo *m, struct workspace *ws, const struct tg_request *rq,
                  struct task_graph **ret_tg, struct bld_err *err)
{
	if (!m)
		return task_graph_build(ws, rq, ret_tg, err);
	assert(ws == m->ws);
	struct sbuf key = SBUF_INIT;
	sbuf_init(&key);
	request_key(rq, &key);
	uint64_t hash = key_hash(key.buf, key.len);
	struct task_graph *tg = lookup(m, &key, hash);
	int rc = 0;
	if (!tg) {
		struct task_graph *built;
		rc = task_graph_build(ws, rq, &built, err);
		if (rc >= 0) {
			tg = task_graph_share(built);
			keep(m, &key, hash, built);
		}
	}
	sbuf_release(&key);
	if (rc >= 0)
		*ret_tg = tg;
	return rc;
}

size_t tg_memo_count(const struct tg_memo *m)
{
	pthread_mutex_lock((pthread_mutex_t *)&m->lock);
	size_t n = m->n;
	pthread_mutex_unlock((pthread_mutex_t *)&m->lock);
	return n;
}

uint64_t tg_memo_hits(const struct tg_memo *m)
{
	pthread_mutex_lock((pthread_mutex_t *)&m->lock);
	uint64_t n = m->hits;
	pthread_mutex_unlock((pthread_mutex_t *)&m->lock);
	return n;
}
