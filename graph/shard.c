/*
 * shard.c - `--shard i/n`: a deterministic split of a task graph across n
 * machines (docs/ci.md).
 *
 * What is split are the requested tasks (those the unsharded run names; the
 * dependencies they pull in belong to no shard).  The unit is a project: all
 * the requested tasks of one project go to one shard, so a project's own
 * chain (test after build) stays on one machine.
 * A project's weight is the sum of its tasks' weights: their recorded
 * durations where the caller has them (rounded up to a power of two, so
 * that timing noise does not move work), the median of the known ones for
 * the others, 1 each when none is known (balance by task count).
 *
 * Assignment is rendezvous hashing with bounded loads: every project ranks
 * the n shards by XXH3-64 of "<project>\n<shard>"; projects are placed
 * heaviest first (ties by name), each on the first shard of its ranking that
 * stays within a capacity of 1.1 x (total / n), else on the least loaded.
 * The same graph and weights give the same split on every machine; adding
 * or removing a project moves only a few others (their rankings do not
 * change, only the loads they meet).
 *
 * Every shard must see the same durations, or two machines would split the
 * graph differently (a task in no shard, or in two).  So only what was
 * recorded before HEAD's commit time counts (task_graph_shard_cutoff):
 * entries the shards of this very commit store while they run are ignored.
 *
 * Keeping a shard: its tasks stay requested, their dependencies stay as
 * dependencies (restored from the shared cache, or built when missing), and
 * everything else is dropped.
 */
#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <git2.h>
#include <xxhash.h>

#include "bld/taskgraph.h"
#include "tg_int.h"

#define SHARD_SLACK 1.1

struct unit {
	const char *name; /* the project's name */
	uint64_t weight;
	int shard;
};

static uint64_t round_up_pow2(uint64_t v)
{
	uint64_t p = 1;
	while (p < v && p < (UINT64_C(1) << 62))
		p <<= 1;
	return p;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

/* Each task's weight: its quantised duration, the median of the known ones, or 1. */
static uint64_t *task_weights(const struct task_graph *tg, const uint64_t *ms)
{
	size_t n = tg->ntasks, known = 0;
	uint64_t *w = xcalloc(n + 1, sizeof(*w)), *sorted = xcalloc(n + 1, sizeof(*sorted));
	for (size_t i = 0; ms && i < n; i++)
		if (ms[i])
			sorted[known++] = round_up_pow2(ms[i]);
	qsort(sorted, known, sizeof(*sorted), cmp_u64);
	uint64_t fill = known ? sorted[known / 2] : 1;
	for (size_t i = 0; i < n; i++)
		w[i] = ms && ms[i] ? round_up_pow2(ms[i]) : fill;
	free(sorted);
	return w;
}

static int by_weight_then_name(const void *a, const void *b)
{
	const struct unit *x = a, *y = b;
	if (x->weight != y->weight)
		return x->weight > y->weight ? -1 : 1;
	return strcmp(x->name, y->name);
}

static uint64_t score(const char *name, int shard)
{
	struct sbuf sb = SBUF_INIT;
	sbuf_init(&sb);
	sbuf_addf(&sb, "%s\n%d", name, shard);
	uint64_t h = XXH3_64bits(sb.buf, sb.len);
	sbuf_release(&sb);
	return h;
}

/* The shard for u: the best-ranked one within cap, else the least loaded. */
static int place(const struct unit *u, const uint64_t *load, int n, uint64_t cap)
{
	int best = -1, least = 0;
	uint64_t best_score = 0;
	for (int s = 0; s < n; s++) {
		uint64_t sc = score(u->name, s);
		if (load[s] + u->weight <= cap && (best < 0 || sc > best_score)) {
			best = s;
			best_score = sc;
		}
		if (load[s] < load[least])
			least = s;
	}
	return best >= 0 ? best : least;
}

void task_graph_shard_assign(const struct task_graph *tg, const uint64_t *duration_ms, int n,
                             int *ret_shard)
{
	uint64_t *w = task_weights(tg, duration_ms);
	struct strmap idx; /* project name -> unit index + 1 */
	strmap_init(&idx);
	struct unit *units = xcalloc(tg->ntasks + 1, sizeof(*units));
	size_t nunits = 0;
	uint64_t total = 0;
	for (size_t i = 0; i < tg->ntasks; i++) {
		if (!tg->tasks[i].requested)
			continue; /* a dependency: no shard's own, kept where needed */
		const char *p = tg->tasks[i].project->name;
		intptr_t k = (intptr_t)strmap_get(&idx, p);
		if (!k) {
			units[nunits].name = p;
			k = (intptr_t)++nunits;
			strmap_put(&idx, p, (void *)k);
		}
		units[k - 1].weight += w[i];
		total += w[i];
	}
	qsort(units, nunits, sizeof(*units), by_weight_then_name);
	uint64_t *load = xcalloc((size_t)n, sizeof(*load));
	uint64_t cap = (uint64_t)(SHARD_SLACK * (double)total / n) + 1;
	for (size_t u = 0; u < nunits; u++) {
		units[u].shard = place(&units[u], load, n, cap);
		load[units[u].shard] += units[u].weight;
	}
	strmap_release(&idx); /* indices changed with the sort: look names up again */
	strmap_init(&idx);
	for (size_t u = 0; u < nunits; u++)
		strmap_put(&idx, units[u].name, (void *)(intptr_t)(units[u].shard + 1));
	for (size_t i = 0; i < tg->ntasks; i++)
		ret_shard[i] = tg->tasks[i].requested
		                   ? (int)(intptr_t)strmap_get(&idx, tg->tasks[i].project->name) - 1
		                   : -1;
	strmap_release(&idx);
	free(load);
	free(units);
	free(w);
}

void task_graph_keep_shard(struct task_graph *tg, const int *assign, int shard)
{
	assert(!tg->base && !atomic_load(&tg->attached)); /* it prunes what they index */
	bool *keep = xcalloc(tg->ntasks + 1, sizeof(*keep));
	int *stack = xcalloc(tg->ntasks + 1, sizeof(*stack));
	size_t top = 0;
	for (size_t i = 0; i < tg->ntasks; i++) {
		tg->tasks[i].requested = assign[i] == shard;
		if (tg->tasks[i].requested) {
			keep[i] = true;
			stack[top++] = (int)i;
		}
	}
	while (top) { /* everything the shard's tasks depend on, transitively */
		const struct task *t = &tg->tasks[stack[--top]];
		for (size_t k = 0; k < t->ndeps; k++)
			if (!keep[t->deps[k]]) {
				keep[t->deps[k]] = true;
				stack[top++] = t->deps[k];
			}
	}
	tg__prune(tg, keep);
	tg__order(tg);
	free(stack);
	free(keep);
}

int task_graph_parse_shard(const char *s, int *ret_index, int *ret_count, struct bld_err *err)
{
	char *end;
	long i = strtol(s, &end, 10), n = 0;
	bool ok = end != s && *end == '/';
	if (ok) {
		const char *ns = end + 1;
		n = strtol(ns, &end, 10);
		ok = end != ns && !*end && n >= 1 && n <= 1000 && i >= 1 && i <= n;
	}
	if (!ok)
		return bld_err_set(err, BLD_EUSAGE,
		                   "--shard \"%s\": expected <i>/<n> with 1 <= i <= n <= 1000 "
		                   "(e.g. --shard 2/4)",
		                   s);
	*ret_index = (int)i;
	*ret_count = (int)n;
	return 0;
}

int64_t task_graph_shard_cutoff(const struct workspace *ws)
{
	git_repository *repo = NULL;
	git_object *head = NULL;
	int64_t t = 0;
	git_libgit2_init();
	if (git_repository_open_ext(&repo, ws->root, 0, NULL) == 0 &&
	    git_revparse_single(&head, repo, "HEAD^{commit}") == 0)
		t = (int64_t)git_commit_time((const git_commit *)head);
	git_object_free(head);
	git_repository_free(repo);
	git_libgit2_shutdown();
	return t;
}
