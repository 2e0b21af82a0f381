/*
 * gen_int.h - private to gen/: naming helpers, the embedded templates and
 * their rendering, the plan of files a generator writes, JSON printing.
 *
 * A generator never writes as it goes: it builds a plan (every file it means
 * to create or update, with its full new content), checks the whole plan
 * against the disk, and only then writes it.  So a failed check writes
 * nothing, and --dry-run is the plan without the writing.
 */
#ifndef BLD_GEN_INT_H
#define BLD_GEN_INT_H

#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>

#include "bld/base.h"
#include "bld/err.h"

/* Append the camelCase of s to out: words split at non-alphanumerics and at
 * lower->Upper and ACRONYMWord boundaries; "list-items" -> "listItems". */
void gen__camel_case(const char *s, struct sbuf *out);
/* New strings (caller frees): "My API v2" -> "my-api-v2" / "my_api_v2" / "MyApiV2". */
char *gen__kebab(const char *s);
char *gen__snake(const char *s);
char *gen__pascal(const char *s);
/* "../.." for "packages/x": the way up from a workspace-relative folder to the root. */
char *gen__up(const char *rel);

/* One embedded template: gen/templates/<name> (table made by gen/embed.py). */
struct gen_template {
	const char *name;
	const char *text;
	size_t len;
};
extern const struct gen_template gen__templates[];
extern const size_t gen__ntemplates;

/*
 * Render template name with vars (strmap of char * values, borrowed):
 * {{key}} is replaced by its value (a missing key is a BLD_EGENERATOR error:
 * a bug in bld, never the user's), {{#key}}...{{/key}} is kept when key is
 * set and non-empty, {{^key}}...{{/key}} when it is not.  A section tag alone
 * on its line takes its line ending with it.  Appends to out.
 */
int gen__render(const char *name, const struct strmap *vars, struct sbuf *out, struct bld_err *err);

/* Pretty-print JSON with two-space indents and a final newline (Nx's style). */
void gen__json_print(const cJSON *json, struct sbuf *out);

/* One file of a plan. */
struct gen_file {
	char *path; /* workspace-relative */
	char *data; /* full new content, owned */
	size_t len;
	bool update; /* replaces an existing file (else: must not exist) */
	unsigned mode;
};

struct gen_plan {
	const char *ws_root; /* borrowed */
	struct gen_file *files;
	size_t n, cap;
	bool uv_lock; /* after writing, run `uv lock` at the root (the uv workspace changed) */
};

void gen__plan_init(struct gen_plan *plan, const char *ws_root);
void gen__plan_release(struct gen_plan *plan);
/* Add a file, taking ownership of data (an sbuf's detached buffer). */
void gen__plan_add(struct gen_plan *plan, const char *path, char *data, bool update);
/* The planned content of path, or NULL when the plan does not touch it. */
struct gen_file *gen__plan_find(struct gen_plan *plan, const char *path);
/* Render template into a new planned file. */
int gen__plan_render(struct gen_plan *plan, const char *path, const char *tmpl,
                     const struct strmap *vars, struct bld_err *err);
/* Check every file (creates must not exist, paths stay inside), then write
 * them all unless dry_run; one "CREATE path" / "UPDATE path" line each to out. */
int gen__plan_apply(struct gen_plan *plan, bool dry_run, struct sbuf *out, struct bld_err *err);

/* Path below the workspace: new string, caller frees. */
char *gen__ws_path(const struct gen_plan *plan, const char *rel);
/* Read a workspace file: 0 and its text (caller frees), -ENOENT, or another -errno.
 * Sees planned content first, so later steps build on earlier ones. */
int gen__read(struct gen_plan *plan, const char *rel, char **ret_text, struct bld_err *err);
/* Parse a workspace JSON file (planned or on disk) into *ret (caller deletes). */
int gen__read_json(struct gen_plan *plan, const char *rel, cJSON **ret, struct bld_err *err);
/* Plan path's new JSON content (an update when the file exists or is planned). */
void gen__plan_json(struct gen_plan *plan, const char *rel, const cJSON *json);

/* Root files every generated workspace needs: nx.json, package.json,
 * tsconfig.base.json when absent; .gitignore lines added when missing. */
int gen__plan_root(struct gen_plan *plan, struct bld_err *err);

/* The generators. */
int gen__fastapi(struct gen_plan *plan, const cJSON *options, struct bld_err *err);
int gen__infra(struct gen_plan *plan, const cJSON *options, struct bld_err *err);

/* Option helpers: value of a string option (NULL when absent; BLD_EUSAGE when
 * not a string), and a choice among allowed values (error lists them). */
int gen__opt_str(const cJSON *options, const char *key, const char **ret, struct bld_err *err);
int gen__opt_choice(const cJSON *options, const char *key, const char *const *allowed,
                    const char *def, const char **ret, struct bld_err *err);
/* Options must be among known (NULL-terminated); a misspelt one gets a suggestion. */
int gen__opt_known(const char *gen, const cJSON *options, const char *const *known,
                   struct bld_err *err);

#endif
