/*
 * gen.h - generators (`bld generate`) and native code generators that run as
 * executors (the OpenAPI metadata codegen).  They write files and know
 * nothing of the event loop or the protocol.
 */
#ifndef BLD_GEN_H
#define BLD_GEN_H

#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>

#include "bld/base.h"
#include "bld/err.h"

/* One generator bld knows, for `bld list` and `bld generate`. */
struct gen_info {
	const char *name; /* "py#fast-api", "ts#infra" */
	const char *description;
};
/* The table of generators; *ret_n gets its length. */
const struct gen_info *gen_list(size_t *ret_n);

/*
 * Run generator name ("py#fast-api", "ts#infra"; "@aws/nx-plugin:py#fast-api"
 * works too) in the workspace at ws_root (which may not yet hold
 * nx.json: generators create it) with options (object of strings, borrowed).
 * Writes nothing when dry_run.  Appends one line per file to out
 * ("CREATE path", "UPDATE path").  Never overwrites a file it did not mean
 * to update: an existing project of that name is BLD_EEXISTS and nothing is
 * written.  Option errors list the allowed values.  *ret_uv_lock (may be
 * NULL) is set when the files written changed the workspace's uv workspace:
 * the caller then runs `uv lock` at the root to create or refresh uv.lock.
 */
int gen_run(const char *name, const char *ws_root, const cJSON *options, bool dry_run,
            struct sbuf *out, bool *ret_uv_lock, struct bld_err *err);

/*
 * OpenAPI metadata codegen (the bld:openapi-metadata executor): read an
 * OpenAPI 3 document (JSON text of len bytes; spec_file, workspace-relative,
 * names it in errors and in the output's header line), append the TypeScript
 * metadata module (OPERATION_DETAILS, Operations) to out, deterministic to
 * the byte.  Rules in docs/generators.md.  Errors: BLD_EPARSE with line:col
 * for malformed JSON, BLD_ESCHEMA naming the JSON path
 * ($.paths["/x"].get.operationId) or both colliding operations.
 */
int gen_openapi_metadata(const char *spec, size_t len, const char *spec_file, struct sbuf *out,
                         struct bld_err *err);

#endif
