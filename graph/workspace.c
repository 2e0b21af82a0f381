/* workspace.c - STUB so the tree links; graph-workspace replaces it. */
#include <errno.h>
#include "bld/workspace.h"
int workspace_find_root(const char *start, char **ret_root, struct bld_err *err) { return bld_err_set(err, -ENOSYS, "not implemented"); }
int workspace_load(const char *root, const struct ws_load_opts *opts, struct workspace **ret_ws, struct bld_err *err) { return bld_err_set(err, -ENOSYS, "not implemented"); }
void workspace_free(struct workspace *ws) { (void)ws; }
struct ws_project *workspace_project(const struct workspace *ws, const char *name) { return NULL; }
int workspace_project_index(const struct workspace *ws, const struct ws_project *p) { return (int)(p - ws->projects); }
struct ws_target *ws_project_target(const struct ws_project *p, const char *name) { return NULL; }
char *workspace_expand_tokens(const struct workspace *ws, const struct ws_project *p, const char *s, bool absolute) { return xstrdup(s); }
void workspace_suggest(const struct workspace *ws, const struct ws_project *p, const char *name, size_t max, struct strvec *ret) { }
