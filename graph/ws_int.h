/*
 * ws_int.h - graph-internal interfaces shared by the workspace loader's
 * files (json.c, discover.c, project.c, pkgdeps.c, pyproject.c,
 * workspace.c).  Not part of the public API: names are ws__*.
 */
#ifndef BLD_WS_INT_H
#define BLD_WS_INT_H

#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>

#include "bld/base.h"
#include "bld/err.h"
#include "bld/pattern.h"
#include "bld/workspace.h"

/* json.c */

/* Where each value of a parsed document starts: byte offsets, for the
 * positions of schema errors. */
struct ws_json_span {
	const cJSON *value;
	size_t off;
};
struct ws_json_spans {
	struct ws_json_span *v;
	size_t n, cap;
};
void ws__json_spans_release(struct ws_json_spans *sp);
/* The offset where v starts; false when v was not parsed from the text. */
bool ws__json_span_of(const struct ws_json_spans *sp, const cJSON *v, size_t *ret_off);
/* Parse strict JSONC (json.c's header says what is accepted): 0 and *ret
 * (caller frees with cJSON_Delete), or BLD_EPARSE with file:line:col.  spans
 * (may be NULL) receives every value's offset. */
int ws__json_parse(const char *text, size_t len, const char *file, cJSON **ret,
                   struct ws_json_spans *spans, struct bld_err *err);
/* 1-based line and column of byte offset off in text. */
void ws__text_linecol(const char *text, size_t off, int *ret_line, int *ret_col);
/* Line and column of the first `"key"` in text (approximate, for schema
 * errors); 0/0 when absent. */
void ws__json_key_pos(const char *text, const char *key, int *ret_line, int *ret_col);
/* The largest configuration file (nx.json, project.json, package.json,
 * pyproject.toml, ignore files) the workspace reads. */
#define WS_MAX_FILE (64u << 20)
/* Read a (small) whole file: 0 and a NUL-terminated buffer, or -errno
 * (-EFBIG past WS_MAX_FILE).  Unlike file_read it starts with a page-sized
 * buffer. */
int ws__read_small(const char *path, char **ret_buf, size_t *ret_len);
/* The same, path relative to the open folder dirfd (or AT_FDCWD). */
int ws__read_small_at(int dirfd, const char *path, char **ret_buf, size_t *ret_len);
/* Which file a JSON document is, for its types (schema.c). */
enum ws_schema { WS_SCHEMA_NONE, WS_SCHEMA_PROJECT, WS_SCHEMA_NX, WS_SCHEMA_PACKAGE };
/* Parse and type-check text (json.c's rules, then schema.c's). */
int ws__json_parse_as(const char *text, size_t len, const char *file, enum ws_schema schema,
                      cJSON **ret, struct bld_err *err);
/* "a string", "an array", ... of a cJSON value, for messages. */
const char *ws__json_kind(const cJSON *v);

/* view.c */

/* Where a load reads the workspace's files: below the open root folder,
 * except the paths view (may be NULL) gives as at another commit. */
struct ws_src {
	int root_fd;
	const struct ws_view *view;
};
/* Read the workspace-relative file rel (ws__read_small's contract; -ENOENT
 * when the view says it does not exist). */
int ws__src_read(const struct ws_src *src, const char *rel, char **ret_buf, size_t *ret_len);
/* Read, parse and type-check the JSON(C) file rel; *ret_text (may be NULL)
 * gets the text, caller frees. */
int ws__src_json(const struct ws_src *src, const char *rel, enum ws_schema schema, cJSON **ret,
                 char **ret_text, struct bld_err *err);

/* schema.c */

/* Check root against the types Nx's schemas give the file's keys (spans and
 * text give positions): 0, or BLD_ESCHEMA naming the value's line:col, its
 * key path, the type wanted and the type found. */
int ws__schema_check(const cJSON *root, enum ws_schema which, const struct ws_json_spans *spans,
                     const char *text, const char *file, struct bld_err *err);

/* discover.c */

/* What the single walk of the workspace found. */
struct ws_walk {
	struct strvec configs;  /* workspace-relative project.json paths, sorted */
	struct strvec packages; /* workspace-relative package.json paths, sorted */
	struct strvec files;    /* every kept file, workspace-relative, sorted */
	struct strvec dirs;     /* every folder entered, workspace-relative ("" first) */
	bool git;               /* a real git repository held the rules */
	unsigned libgit2_calls; /* for --debug timing and the benchmark */
};
void ws__walk_init(struct ws_walk *w);
void ws__walk_release(struct ws_walk *w);
/* Walk root, honouring .gitignore/.nxignore via libgit2, skipping .git,
 * node_modules, .bld and dist.  With a view (may be NULL), list the files as
 * it shows them: its absent paths dropped, its others added unless a skipped
 * folder or an ignore rule (the disk's) excludes them. */
int ws__walk(const char *root, struct ws_walk *w, struct strvec *notes,
             const struct ws_view *view, struct bld_err *err);

/* project.c */

/* Parse one project.json into p, taking ownership of json: name (NULL when
 * absent: see ws__project_derive_name), root, fields (types were checked
 * when the file was read; text gives positions for messages); raw targets
 * stay in p->json until
 * ws__project_resolve. */
int ws__project_parse(struct ws_project *p, cJSON *json, const char *text, const char *config_file,
                      struct bld_err *err);
/* Nx's name for a project.json without "name" and without a package.json
 * name: its root folder's last component, lowercased; "." at the root. */
char *ws__project_derive_name(const char *root);
/* Nx's mergeTargetConfigurations over two target maps: each target of over
 * is merged onto the same-named one of base (options and configurations
 * merged when the executors are compatible, else replaced).  New object in
 * base's order, then over's new names. */
cJSON *ws__merge_target_maps(const cJSON *base, const cJSON *over);
/* Raw texts of project.json and nx.json, for error positions (may be NULL). */
struct ws_texts {
	const char *project;
	const char *nx;
};
/* Merge targetDefaults and normalise targets as Nx does; fills p->targets
 * and rebuilds p->json's "targets". */
int ws__project_resolve(struct workspace *ws, struct ws_project *p, const struct ws_texts *texts,
                        struct bld_err *err);
/* Release everything p owns (p itself is not freed). */
void ws__project_release(struct ws_project *p);
/* Nx's option token resolution ({workspaceRoot} prefix stripped,
 * {projectRoot}, {projectName}); 0 or BLD_ESCHEMA for a {workspaceRoot}
 * that is not at the start. */
int ws__resolve_option_tokens(cJSON *v, const struct ws_project *p, const char *file,
                              const char *where, struct bld_err *err);

/* pkgdeps.c */

struct ws_pkg {
	char *name;              /* package.json "name", or NULL */
	char *version;           /* "version", or NULL */
	bool is_private;         /* "private": true */
	struct strvec nx_tags;   /* "nx": {"tags": [...]} */
	struct strvec keywords;  /* "keywords" (Nx tags them "npm:<keyword>") */
	bool entry_points;       /* has "exports", "main", "module" or "bin" */
	struct strvec dep_names; /* dependencies, devDependencies, peerDependencies,
	                            optionalDependencies: names ... */
	struct strvec dep_specs; /* ... and their version specs, same order */
	cJSON *json;             /* the whole package.json (owned) */
};
void ws__pkg_release(struct ws_pkg *pkg);
/* What Nx's package.json plugin contributes to a project's targets: its
 * scripts as nx:run-script targets (nx.includedScripts, if given, chooses
 * them; scripts that project.json overrides with a command or another
 * executor are left out), "nx": {"targets"} merged over them, and
 * nx-release-publish for a public package when @nx/js is installed.
 * run is the package manager's "npm run"-style prefix.  New object. */
cJSON *ws__pkg_targets(const struct ws_pkg *pkg, const cJSON *project_targets, const char *run,
                       bool release_publish, const cJSON *target_defaults);
/* Read the package.json at rel (relative to the open workspace root
 * root_fd); 0 and filled pkg, 1 when absent, or an error.  ret_text (may
 * be NULL) gets the file's text, for positions; caller frees. */
int ws__pkg_read(const struct ws_src *src, const char *rel, struct ws_pkg *pkg, char **ret_text,
                 struct bld_err *err);
/* The "metadata" Nx's package.json plugin gives a project: targetGroups
 * ("NPM Scripts": the script targets in targets), description, js
 * (packageName, packageVersion, packageExports, packageMain,
 * isInPackageManagerWorkspaces) from its package.json document.  New
 * object (copies). */
cJSON *ws__pkg_metadata(const cJSON *pkg_json, const cJSON *targets, bool in_workspaces);
/* Does a dependency spec (as written in package.json) accept a workspace
 * package of this version (may be NULL) that lives at target_root?
 * from_dir is the depending package's folder (for file:/link: specs).
 * 1 yes, 0 no, -1 spec not understood (then no dependency). */
int ws__pkg_spec_accepts(const char *spec, const char *version, const char *from_dir,
                         const char *target_root);
/* Semver range test: 1 satisfied, 0 not, -1 not understood. */
int ws__semver_satisfies(const char *version, const char *range);

/* pmworkspace.c */

/* The package manager's workspace: which package.json files are projects. */
struct ws_pm {
	struct strvec include; /* patterns, each ending in "package.json" */
	struct strvec exclude; /* "!" patterns, without the "!" */
	bool root_project;     /* the root package.json has an "nx" key */
	struct pattern *inc, *exc; /* the same, compiled (PATTERN_NAMES) */
	size_t ninc, nexc;
	struct strvec members; /* the package.json paths that match, sorted (filled by
	                          the loader, so each path is matched once) */
};
void ws__pm_init(struct ws_pm *pm);
void ws__pm_release(struct ws_pm *pm);
/* Read the root package.json's "workspaces", pnpm-workspace.yaml and
 * lerna.json (those ws->files holds) into pm, read through src. */
int ws__pm_read(struct ws_pm *pm, const struct workspace *ws, const struct ws_src *src,
                struct bld_err *err);
/* Is the package.json at path (workspace-relative) a workspace package? */
bool ws__pm_matches(const struct ws_pm *pm, const char *path);
/* Is path one of pm->members? */
bool ws__pm_is_member(const struct ws_pm *pm, const char *path);
/* Nx's detectPackageManager: "npm", "yarn", "pnpm" or "bun" (static). */
const char *ws__pm_detect(const struct workspace *ws);

/* pyproject.c */

struct ws_pyproject {
	char *name;          /* [project] name, PEP 503-normalised, or NULL */
	struct strvec deps;  /* [project] dependencies: normalised distribution names */
	struct strvec uv_ws; /* [tool.uv.sources] entries with workspace = true */
};
void ws__pyproject_init(struct ws_pyproject *py);
void ws__pyproject_release(struct ws_pyproject *py);
/* Parse pyproject.toml text.  Never fails: what it does not understand is
 * skipped and described in notes (when notes is not NULL), prefixed by file. */
void ws__pyproject_parse(const char *text, size_t len, const char *file, struct ws_pyproject *py,
                         struct strvec *notes);
/* PEP 503 normalisation: lowercase, runs of -_. become one '-'; new string. */
char *ws__pep503(const char *name, size_t len);

/* Whether obj has key, spelled exactly: JSON keys are case-sensitive in Nx
 * (JavaScript objects), unlike cJSON_HasObjectItem. */
static inline bool ws__json_has(const cJSON *obj, const char *key)
{
	return cJSON_GetObjectItemCaseSensitive(obj, key) != NULL;
}

#endif
