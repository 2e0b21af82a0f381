/* taskgraph.c - STUB so the tree links; graph-taskgraph replaces it. */
#include <errno.h>
#include "bld/taskgraph.h"
void tg_request_init(struct tg_request *rq) { }
void tg_request_release(struct tg_request *rq) { }
int task_graph_build(struct workspace *ws, const struct tg_request *rq, struct task_graph **ret_tg, struct bld_err *err) { return bld_err_set(err, -ENOSYS, "not implemented"); }
void task_graph_free(struct task_graph *tg) { }
int task_graph_find(const struct task_graph *tg, const char *id) { return -1; }
int *task_graph_topo(const struct task_graph *tg) { return NULL; }
