/* json.c - STUB so the tree links; graph-workspace replaces it. */
#include <errno.h>
#include "bld/workspace.h"
int json_parse_file_text(const char *text, size_t len, const char *file, cJSON **ret, struct bld_err *err) { return bld_err_set(err, -ENOSYS, "not implemented"); }
