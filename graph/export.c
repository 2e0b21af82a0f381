/* export.c - STUB so the tree links; graph-taskgraph replaces it. */
#include "bld/taskgraph.h"
void graph_export(const struct workspace *ws, const struct task_graph *tg, enum graph_format fmt, struct sbuf *out) { }
