/* select.c - STUB so the tree links; graph-taskgraph replaces it. */
#include <errno.h>
#include "bld/taskgraph.h"
int ws_select_projects(const struct workspace *ws, const struct strvec *patterns, const struct strvec *excludes, struct strvec *ret, struct bld_err *err) { return bld_err_set(err, -ENOSYS, "not implemented"); }
