/* metadata.c - STUB so the tree links; pipeline replaces it. */
#include <errno.h>
#include "bld/gen.h"
int gen_openapi_metadata(const char *spec, size_t len, const char *spec_file, struct sbuf *out, struct bld_err *err) { return bld_err_set(err, -ENOSYS, "not implemented"); }
