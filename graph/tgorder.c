/*
 * tgorder.c - the task graph's order: reverse edges, cycle detection that
 * names the whole cycle (after the path that reaches it, as Nx prints it),
 * dependency-first order, scheduling priorities, and
 * pruning (to the requested tasks for --exclude-task-dependencies; to a
 * shard for --shard).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "bld/taskgraph.h"
#include "tg_int.h"

void tg__prune_unrequested(struct task_graph *tg)
{
	bool *keep = xcalloc(tg->ntasks + 1, sizeof(*keep));
	for (size_t i = 0; i < tg->ntasks; i++)
		keep[i] = tg->tasks[i].requested;
	tg__prune(tg, keep);
	free(keep);
}

void tg__prune(struct task_graph *tg, const bool *keep)
{
	int *map = xcalloc(tg->ntasks + 1, sizeof(*map));
	size_t n = 0;
	for (size_t i = 0; i < tg->ntasks; i++)
		map[i] = keep[i] ? (int)n++ : -1;
	strmap_release(&tg->by_id);
	strmap_init(&tg->by_id);
	size_t out = 0;
	for (size_t i = 0; i < tg->ntasks; i++) {
		struct task *t = &tg->tasks[i];
		if (map[i] < 0) {
			free(t->id);
			free(t->configuration);
			cJSON_Delete(t->options);
			free(t->deps);
			free(t->rdeps);
			continue;
		}
		size_t nd = 0;
		for (size_t k = 0; k < t->ndeps; k++)
			if (map[t->deps[k]] >= 0)
				t->deps[nd++] = map[t->deps[k]];
		t->ndeps = nd;
		tg->tasks[out] = *t;
		strmap_put(&tg->by_id, t->id, (void *)(intptr_t)(out + 1));
		out++;
	}
	tg->ntasks = out;
	free(map);
}

static void rdeps_fill(struct task_graph *tg)
{
	for (size_t i = 0; i < tg->ntasks; i++)
		for (size_t k = 0; k < tg->tasks[i].ndeps; k++)
			tg->tasks[tg->tasks[i].deps[k]].nrdeps++;
	for (size_t i = 0; i < tg->ntasks; i++) {
		struct task *t = &tg->tasks[i];
		free(t->rdeps);
		t->rdeps = xcalloc(t->nrdeps + 1, sizeof(*t->rdeps));
		t->nrdeps = 0;
	}
	for (size_t i = 0; i < tg->ntasks; i++)
		for (size_t k = 0; k < tg->tasks[i].ndeps; k++) {
			struct task *d = &tg->tasks[tg->tasks[i].deps[k]];
			d->rdeps[d->nrdeps++] = (int)i;
		}
}

/* Say it as Nx 22 does: what is wrong, a blank line, then the path that
 * reaches the cycle from the task the search started at, path[0..n-1], and
 * the task that closes it, v ("x:build --> a:build --> b:build --> a:build"). */
static int cycle_err(const struct task_graph *tg, const int *path, size_t n, int v,
                     struct bld_err *err)
{
	struct sbuf sb = SBUF_INIT;
	sbuf_init(&sb);
	sbuf_adds(&sb, TG_CYCLE_MSG "\n\n");
	for (size_t i = 0; i < n; i++)
		sbuf_addf(&sb, "%s --> ", tg->tasks[path[i]].id);
	sbuf_adds(&sb, tg->tasks[v].id);
	int r = bld_err_set(err, BLD_ECYCLE, "%s", sb.buf);
	sbuf_release(&sb);
	return r;
}

/* Iterative depth-first search from every task in index order. */
static int cycles_check(const struct task_graph *tg, struct bld_err *err)
{
	size_t n = tg->ntasks;
	char *color = xcalloc(n + 1, 1); /* 0 new, 1 on the path, 2 done */
	int *path = xcalloc(n + 1, sizeof(*path));
	size_t *next = xcalloc(n + 1, sizeof(*next));
	int r = 0;
	for (size_t s = 0; s < n && r == 0; s++) {
		if (color[s])
			continue;
		size_t depth = 0;
		path[depth++] = (int)s;
		color[s] = 1;
		next[s] = 0;
		while (depth && r == 0) {
			int u = path[depth - 1];
			const struct task *t = &tg->tasks[u];
			if (next[u] == t->ndeps) {
				color[u] = 2;
				depth--;
				continue;
			}
			int v = t->deps[next[u]++];
			if (color[v] == 1) {
				r = cycle_err(tg, path, depth, v, err);
			} else if (color[v] == 0) {
				color[v] = 1;
				next[v] = 0;
				path[depth++] = v;
			}
		}
	}
	free(color);
	free(path);
	free(next);
	return r;
}

int *task_graph_topo(const struct task_graph *tg)
{
	size_t n = tg->ntasks, head = 0, tail = 0;
	int *order = xcalloc(n + 1, sizeof(*order));
	size_t *left = xcalloc(n + 1, sizeof(*left));
	for (size_t i = 0; i < n; i++) {
		left[i] = tg->tasks[i].ndeps;
		if (left[i] == 0)
			order[tail++] = (int)i;
	}
	while (head < tail) {
		const struct task *t = &tg->tasks[order[head++]];
		for (size_t k = 0; k < t->nrdeps; k++)
			if (--left[t->rdeps[k]] == 0)
				order[tail++] = t->rdeps[k];
	}
	free(left);
	return order; /* tail == n: the graph is acyclic once built */
}

static void priorities_fill(struct task_graph *tg)
{
	int *order = task_graph_topo(tg);
	for (size_t i = tg->ntasks; i-- > 0;) {
		struct task *t = &tg->tasks[order[i]];
		t->priority = 0;
		for (size_t k = 0; k < t->nrdeps; k++) {
			int p = tg->tasks[t->rdeps[k]].priority + 1;
			if (p > t->priority)
				t->priority = p;
		}
	}
	free(order);
}

void tg__order(struct task_graph *tg)
{
	for (size_t i = 0; i < tg->ntasks; i++)
		tg->tasks[i].nrdeps = 0;
	rdeps_fill(tg);
	priorities_fill(tg);
}

int tg__finish(struct task_graph *tg, struct bld_err *err)
{
	int r = cycles_check(tg, err);
	if (r < 0)
		return r;
	tg__order(tg);
	return 0;
}
