/*
 * tg_int.h - internals shared by the task-graph files of graph/ (taskgraph.c,
 * tgopts.c, select.c, export.c).
 * Not a public header: nothing outside graph/ includes it.
 */
#ifndef BLD_TG_INT_H
#define BLD_TG_INT_H

#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>

#include "bld/pattern.h"
#include "bld/taskgraph.h"

/* Project by name through ws->by_name, or NULL. */
struct ws_project *tg__project(const struct workspace *ws, const char *name);
/* Target of p by name, or NULL. */
struct ws_target *tg__target(const struct ws_project *p, const char *name);

/*
 * Expand {workspaceRoot} (only at the start: dropped with a following '/'),
 * {projectRoot} and {projectName} in every string of the object or array
 * json, in place, as Nx does for options.  0, or BLD_ESCHEMA when
 * {workspaceRoot} appears elsewhere (err names the project's file and where).
 */
int tg__expand_options(cJSON *json, const struct ws_project *p, const char *where,
                       struct bld_err *err);

/* Up to max names of candidates within a small edit distance of name, best first,
 * joined as "'a', 'b'" into out; nothing when none is close. */
void tg__suggest(const char *name, const char *const *cands, size_t ncands, size_t max,
                 struct sbuf *out);

/* Shallow merge: members of src (an object) replace dst's same keys, copied;
 * "__overrides_unparsed__" is skipped. */
void tg__merge_into(cJSON *dst, const cJSON *src);
/* The target's options with configuration cfg's (may be NULL) merged over
 * them, tokens not expanded; new object, caller deletes. */
cJSON *tg__target_options(const struct ws_target *t, const char *cfg);
/* Set task->options: target options, configuration, then overrides (may be
 * NULL), tokens expanded for task->project.  0 or BLD_ESCHEMA. */
int tg__task_options(struct task *task, const cJSON *overrides, struct bld_err *err);

/* Drop every task not requested, keeping edges between requested ones. */
void tg__prune_unrequested(struct task_graph *tg);
/* Drop every task whose keep[] is false (edges to them too); then call tg__order. */
void tg__prune(struct task_graph *tg, const bool *keep);
/* (Re)compute reverse edges and priorities of an acyclic graph. */
void tg__order(struct task_graph *tg);
/* Fill rdeps and priorities; BLD_ECYCLE (whole cycle in err) on a cycle. */
int tg__finish(struct task_graph *tg, struct bld_err *err);

/* Nx's node type of p: "app", "lib" or "e2e" (export.c). */
const char *tg__project_type(const struct workspace *ws, const struct ws_project *p);

/* The HTML page of graph_export (exporthtml.c), with marks (never NULL). */
void tg__export_html(const struct workspace *ws, const struct task_graph *tg,
                     const struct graph_marks *marks, struct sbuf *out);

#endif
