/* generate.c - STUB so the tree links; pipeline replaces it. */
#include <errno.h>
#include "bld/gen.h"
const struct gen_info *gen_list(size_t *ret_n) { *ret_n = 0; return NULL; }
int gen_run(const char *name, const char *ws_root, const cJSON *options, bool dry_run, struct sbuf *out, struct bld_err *err) { return bld_err_set(err, -ENOSYS, "not implemented"); }
