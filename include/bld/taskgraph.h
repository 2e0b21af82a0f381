/*
 * taskgraph.h - tasks (project, target, configuration) and their edges,
 * from dependsOn in all its forms; project selection for run-many.
 *
 * A task graph borrows its workspace (which must outlive it) and owns the
 * rest; free it with task_graph_free().
 */
#ifndef BLD_TASKGRAPH_H
#define BLD_TASKGRAPH_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "bld/base.h"
#include "bld/err.h"
#include "bld/workspace.h"

struct task {
	char *id;                    /* "proj:target" or "proj:target:config" */
	struct ws_project *project;  /* borrowed */
	struct ws_target *target;    /* borrowed */
	char *configuration;         /* NULL for none */
	cJSON *options;              /* owned: options, configuration's options merged over them,
	                                then the request's overrides; tokens expanded */
	int *deps;                   /* indices of tasks this one waits for; a dep that is
	                                continuous is only started, never awaited (Nx's
	                                continuousDependencies) */
	size_t ndeps;
	int *rdeps;                  /* indices of tasks that wait for this one */
	size_t nrdeps;
	bool requested;              /* named by the request (vs pulled in by dependsOn) */
	bool cache;                  /* target.cache */
	bool continuous;
	char hash[33];               /* hex XXH3-128, filled by the engine; "" until then */
	int priority;                /* longest chain of dependents waiting on this task (0
	                                for a task nothing waits for): start higher first */
};

struct task_graph {
	struct workspace *ws;        /* borrowed */
	struct task *tasks;
	size_t ntasks;
	struct strmap by_id;         /* id -> task index + 1 (stored as (void *)(intptr_t)) */
	struct strvec notes;         /* warnings Nx would print (e.g. dependsOn project
	                                patterns matching nothing, projects skipped for lacking
	                                every requested target); for --verbose */
	/* NULL for a graph of its own; else the graph this one was shared from
	 * (task_graph_share): tasks is this graph's own array, but what its
	 * entries point to (ids, options, edges) and by_id and notes are base's,
	 * read only.  base holds a reference for this graph. */
	struct task_graph *base;
	atomic_int refs;             /* a graph of its own: its holders (1 when built) */
	_Atomic(struct tg_attached *) attached; /* task_graph_attach; a graph of its own only */
};

/* What a user derived from a graph's tasks and keeps with it (task_graph_attach). */
struct tg_attached {
	void *data;
	void (*free_fn)(void *data);
};

/* What to build: targets of projects, as `run`, `run-many` or `affected` ask. */
struct tg_request {
	struct strvec projects;      /* project names (already selected) */
	struct strvec targets;       /* target names */
	const char *configuration;   /* -c, or NULL.  Every task (dependencies too) takes it
	                                when its target has that configuration, else the
	                                target's defaultConfiguration (as Nx 22 does) */
	cJSON *overrides;            /* borrowed: extra options (forwarded args etc.), may be
	                                NULL; merged into the requested tasks' options and into
	                                those of dependencies reached with params: "forward" */
	bool exclude_task_deps;      /* --exclude-task-dependencies */
	bool skip_missing;           /* run-many: projects lacking the target are skipped,
	                                not an error */
};

/* Empty request / free what rq owns (projects, targets; not overrides). */
void tg_request_init(struct tg_request *rq);
void tg_request_release(struct tg_request *rq);

/* What a dependency cycle is called, in Nx 22's words. */
#define TG_CYCLE_MSG "Could not execute command because the task graph has a circular dependency"

/*
 * Build the task graph of rq over ws: the requested tasks and, unless
 * excluded, everything their dependsOn pulls in.  0 and a new graph in
 * *ret_tg, or negative with err filled: BLD_ENOPROJECT / BLD_ENOTARGET with
 * "did you mean" names (a requested project or target; a dependsOn naming a
 * missing target or project is skipped as in Nx), BLD_ECYCLE with Nx's
 * words (TG_CYCLE_MSG), a blank line, and the whole cycle after the path
 * that reaches it from a requested task, as Nx prints it ("x:build -->
 * a:build --> b:build --> a:build"), BLD_ESCHEMA for a malformed
 * dependsOn entry or a misplaced {workspaceRoot} token.  *ret_tg untouched
 * on failure.
 */
int task_graph_build(struct workspace *ws, const struct tg_request *rq,
                     struct task_graph **ret_tg, struct bld_err *err);
/* Free tg (not its workspace), or drop a reference to a shared one; NULL is fine. */
void task_graph_free(struct task_graph *tg);
/*
 * A graph equal to tg that a request may change where requests differ --
 * each task's hash, the scheduler's view -- while everything else (ids,
 * options, edges, by_id, notes) stays tg's, shared and read only: one copy
 * of the task array, nothing else.  tg is kept alive until the new graph is
 * freed (task_graph_free); it must not change meanwhile.  Any thread.  Not
 * for task_graph_keep_shard (which prunes: build a graph of its own).
 */
struct task_graph *task_graph_share(struct task_graph *tg);
/* Keep data (derived from tg's tasks alone, in their order; read only from
 * now on) with tg, or with the graph tg was shared from, so that every share
 * finds it; free_fn(data) runs when that graph is freed.  Returns what is
 * kept: data, or what another caller attached first (then data is freed at
 * once).  Any thread. */
void *task_graph_attach(struct task_graph *tg, void *data, void (*free_fn)(void *data));
/* What task_graph_attach kept with tg (or its base), or NULL. */
void *task_graph_attached(const struct task_graph *tg);

/*
 * Task graphs kept for one workspace (a daemon keeps one set per snapshot
 * generation: its workspace never changes), by the request's shape: the
 * projects, targets, configuration, overrides and flags of a tg_request.  A
 * repeated request gets a share of the kept graph instead of expanding
 * every task's dependsOn and options again.  At most max graphs, holding at
 * most twice as many tasks as the workspace has projects (plus 256), the
 * least recently used dropped first.  Thread-safe.
 */
struct tg_memo;
/* A memo for ws (borrowed: it must outlive the memo). */
struct tg_memo *tg_memo_new(struct workspace *ws, size_t max);
/* Free m and its references to the kept graphs (shares handed out live on);
 * NULL is fine. */
void tg_memo_free(struct tg_memo *m);
/* task_graph_build through m: a kept graph for the same request shape is
 * shared (task_graph_share), else one is built and kept.  ws must be m's
 * workspace; m may be NULL (then it only builds).  Failures are not kept. */
int tg_memo_build(struct tg_memo *m, struct workspace *ws, const struct tg_request *rq,
                  struct task_graph **ret_tg, struct bld_err *err);
/* Graphs kept now and requests answered from them (for status and tests). */
size_t tg_memo_count(const struct tg_memo *m);
uint64_t tg_memo_hits(const struct tg_memo *m);

/* Index of the task with this id, or -1. */
int task_graph_find(const struct task_graph *tg, const char *id);
/* Indices of all ntasks tasks in a dependency-respecting order (deps first, ties
 * in index order); new array, caller frees. */
int *task_graph_topo(const struct task_graph *tg);

/*
 * Sharding (--shard i/n, docs/ci.md): a deterministic split of tg's tasks
 * across n machines, whole projects at a time, by rendezvous hashing with
 * bounded loads.  Only the requested tasks are split: ret_shard[i]
 * (tg->ntasks entries) is in [0, n) for them, -1 for the dependencies they
 * pull in.  duration_ms (may be NULL; 0 for unknown) gives each task's
 * recorded duration, for balance; without any, shards get about equal task
 * counts.
 */
void task_graph_shard_assign(const struct task_graph *tg, const uint64_t *duration_ms, int n,
                             int *ret_shard);
/* Keep the tasks assigned to shard (0-based) as the requested ones, plus what
 * they depend on (as dependencies); drop the rest.  assign as filled above. */
void task_graph_keep_shard(struct task_graph *tg, const int *assign, int shard);
/* The moment before which recorded durations may balance shards: HEAD's
 * commit time (unix seconds), the same on every machine; 0 without a commit
 * (then shards balance by task count). */
int64_t task_graph_shard_cutoff(const struct workspace *ws);
/* "2/4" -> 2 and 4 (1 <= i <= n <= 1000); else BLD_EUSAGE. */
int task_graph_parse_shard(const char *s, int *ret_index, int *ret_count, struct bld_err *err);

/*
 * Select projects by the patterns of -p / --projects as Nx's
 * findMatchingProjects reads them: names, globs ("app-*", and "packages/..."
 * globs over roots too), "tag:x", and "!pattern" exclusions; then drop those
 * matching any exclude pattern.  Empty patterns mean every project.  Names
 * are pushed sorted to ret.  A pattern matching nothing is not an error (Nx
 * runs no task for it); returns 0.
 */
int ws_select_projects(const struct workspace *ws, const struct strvec *patterns,
                       const struct strvec *excludes, struct strvec *ret, struct bld_err *err);

/* Graph export formats for `bld graph --file`. */
enum graph_format { GRAPH_JSON, GRAPH_DOT, GRAPH_HTML };
/* Render the project graph (and the task graph when tg is not NULL) into out. */
void graph_export(const struct workspace *ws, const struct task_graph *tg,
                  enum graph_format fmt, struct sbuf *out);

/* What `bld graph --affected` and `--focus <p>` mark (borrowed for the call). */
struct graph_marks {
	const bool *affected; /* ws->nprojects entries, or NULL (no --affected) */
	int focus;            /* the focused project's index, or -1 */
};
/* graph_export with marks: JSON gets "affectedProjects" and "focus" {project, projects};
 * DOT fills affected nodes and greys what is outside the focus; HTML marks
 * affected nodes and opens focused (a click on a project focuses it there). */
void graph_export_marked(const struct workspace *ws, const struct task_graph *tg,
                         const struct graph_marks *marks, enum graph_format fmt,
                         struct sbuf *out);
/* The focus of project f: f, what it depends on and what depends on it,
 * transitively, marked in ret (ws->nprojects entries, overwritten). */
void graph_focus_set(const struct workspace *ws, int f, bool *ret);

#endif
