/*
 * workspace.h - the Nx-format workspace: nx.json and every project.json,
 * with targetDefaults merged and the project graph's edges.
 *
 * A workspace is built once per request (later: kept warm by the daemon) and
 * is immutable afterwards; everything in it is owned by it and freed by
 * workspace_free().  JSON values are cJSON trees owned by the workspace.
 */
#ifndef BLD_WORKSPACE_H
#define BLD_WORKSPACE_H

#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>

#include "bld/base.h"
#include "bld/err.h"

/* A target after targetDefaults are merged.  As Nx does at load time,
 * options and configurations already have {projectRoot}, {projectName} and
 * a leading {workspaceRoot}/ resolved ("." is the root project's root
 * there); inputs, outputs and {options.x} stay as written until the task
 * graph / cache expand them (workspace_expand_tokens). */
struct ws_target {
	char *name;
	char *executor;      /* "nx:run-commands" for the command shorthand; never NULL */
	cJSON *json;         /* the merged target object: executor, options, configurations,
	                        dependsOn, inputs, outputs, cache, ... (as Nx shows it) */
	bool cache;          /* from the target or targetDefaults; default false */
	bool continuous;
	bool has_inputs;     /* "inputs" was given (target or targetDefaults) */
	char *inferred_by;   /* always NULL: every target comes from project.json (bld
	                        runs no plugins); ws_project_plugin_targets() lists the
	                        targets a plugin would have inferred */
};

/* How a project-graph edge arose; shown by `bld graph` and `--verbose`. */
enum ws_dep_kind {
	WS_DEP_IMPLICIT,   /* implicitDependencies */
	WS_DEP_STATIC,     /* package.json or pyproject.toml dependency on a workspace project */
	WS_DEP_DEPENDSON,  /* a cross-project dependsOn ("proj:target" or projects: [...]);
	                      Nx keeps these out of its project graph, bld records them */
};

struct ws_dep {
	int project;           /* index into workspace.projects */
	enum ws_dep_kind kind;
	char *source;          /* file that declared it (workspace-relative), may be NULL */
};

struct ws_project {
	char *name;
	char *root;            /* workspace-relative, "" for the root project, no trailing '/' */
	char *source_root;     /* may be NULL */
	char *project_type;    /* "application", "library" or NULL */
	bool pkg_entry_points; /* its package.json has exports, main, module or bin */
	bool has_package_json; /* a package.json was read for it */
	char *config_file;     /* workspace-relative path of its project.json, or of its
	                          package.json when that alone defines it */
	struct strvec tags;
	struct strvec implicit_deps; /* as written, including "!x" exclusions */
	cJSON *json;           /* the resolved project object ("root" is "." for the root
	                          project; targets merged; implicitDependencies expanded);
	                          for a project with a package.json, "metadata" holds only
	                          project.json's own (or null) until ws_project_json_shown
	                          adds the package.json plugin's */
	cJSON *named_inputs;   /* project-level namedInputs, or NULL (borrowed from json) */
	struct ws_target *targets;
	size_t ntargets;
	struct ws_dep *deps;   /* project-graph edges, deduplicated, sorted by project index */
	size_t ndeps;
	char *package_name;    /* "name" of its package.json, or NULL */
	cJSON *package_json;   /* its package.json document (owned), or NULL: the source of
	                          the metadata ws_project_json_shown builds */
	bool in_pm_workspaces; /* its package.json is a package manager's workspace member */
};

struct ws_plugin {
	char *name;            /* "plugin" string of nx.json's plugins entry */
	cJSON *options;        /* borrowed from nx_json; may be NULL */
};

struct workspace {
	char *root;            /* absolute path of the folder holding nx.json */
	cJSON *nx_json;        /* owned */
	cJSON *named_inputs;   /* nx.json namedInputs (borrowed), may be NULL */
	cJSON *target_defaults;/* nx.json targetDefaults (borrowed), may be NULL */
	char *default_base;    /* nx.json defaultBase, default "main" */
	struct ws_plugin *plugins;
	size_t nplugins;
	struct ws_project *projects; /* sorted by name */
	size_t nprojects;
	struct strmap by_name; /* name -> struct ws_project * (borrowed) */
	struct strvec files;   /* every file of the workspace that ignore rules keep, as
	                          workspace-relative paths, sorted bytewise; gathered by the
	                          same walk that finds project.json files (inputs match
	                          against it, so the tree is walked once per load) */
	struct strvec dirs;    /* every folder that walk entered (not skipped, not
	                          ignored), workspace-relative, "" (the root) first:
	                          what a resident engine's watcher watches */
	struct strvec notes;   /* --verbose notes (e.g. pyproject lines not understood) */
	/* The owner map (owners.c), built by workspace_load after the walk: */
	struct strmap by_root; /* project root ("" for the root project) -> index + 1 */
	int *file_owner;       /* per files entry: the owning project's index, or -1 */
	int **project_files;   /* per project: indices into files of the files it owns */
	size_t *nproject_files;
	const char *package_manager; /* "npm", "yarn", "pnpm" or "bun" (static string): how
	                                nx:run-script runs a script */
	const struct ws_view *view;  /* the view it was loaded through (borrowed), or NULL:
	                                the disk; the hasher reads files through it too */
};

/*
 * A view of the workspace as at another commit (for --by-inputs): the disk,
 * except the paths given here, which hold other contents there or do not
 * exist there.  Built by affected_views from git's trees; graph/view.c.
 */
struct ws_view_file {
	char *data;   /* the contents there (NUL-terminated), or NULL: absent there */
	size_t len;
	bool link;    /* a symbolic link; data is its target */
};
struct ws_view {
	struct strmap files; /* workspace-relative path -> struct ws_view_file * (owned) */
};
void ws_view_init(struct ws_view *v);
void ws_view_release(struct ws_view *v);
/* Set rel's contents in the view, taking ownership of data (NULL: absent there). */
void ws_view_put(struct ws_view *v, const char *rel, char *data, size_t len, bool link);
/* rel's entry in the view, or NULL when the disk's file stands (v may be NULL). */
const struct ws_view_file *ws_view_get(const struct ws_view *v, const char *rel);

/* Options of workspace_load. */
struct ws_load_opts {
	bool verbose;          /* collect notes into ws->notes */
	const struct ws_view *view; /* not NULL: load the workspace as this view shows it
	                               (borrowed; it must outlive the workspace) */
};

/*
 * Find the workspace root: the nearest folder upwards from start that holds
 * nx.json.  0 and a new absolute path in *ret_root (caller frees), or
 * BLD_ENOWORKSPACE.
 */
int workspace_find_root(const char *start, char **ret_root, struct bld_err *err);

/*
 * Load the workspace at root: nx.json, every project.json below it (skipping
 * .git, node_modules, .bld, dist and whatever .gitignore / .nxignore exclude),
 * targetDefaults merged, project-graph edges computed.  0 and a new workspace
 * in *ret_ws (free with workspace_free), or negative with err filled: a
 * malformed file names file:line:col.
 */
int workspace_load(const char *root, const struct ws_load_opts *opts, struct workspace **ret_ws,
                   struct bld_err *err);
/* Free ws and everything it owns; NULL is fine. */
void workspace_free(struct workspace *ws);
/* Keep libgit2 initialised from now until workspace_libgit2_release (a
 * resident engine holds it for its life: each load's own init then costs
 * nothing, where a first init reads the system's certificate bundle). */
void workspace_libgit2_hold(void);
/* True for the folder names every walk skips whatever the ignore files say
 * (.git, node_modules, .bld, dist). */
bool workspace_folder_skipped(const char *name);
void workspace_libgit2_release(void);

/* Project by name, or NULL. */
struct ws_project *workspace_project(const struct workspace *ws, const char *name);
/*
 * The project owning a workspace-relative path (a file or a folder, existing
 * or not): the one with the deepest root holding it, the root project ("")
 * holding everything no other project does, as Nx's findProjectForPath.
 * Its index, or -1.  For files of ws->files, ws->file_owner has the answer.
 */
int workspace_owner(const struct workspace *ws, const char *path);
/* (Re)build the owner map from ws->projects and ws->files (workspace_load does;
 * a hand-built workspace calls it after setting both); release it (zeroed is fine). */
void workspace_owners_build(struct workspace *ws);
void workspace_owners_release(struct workspace *ws);

/* The project object as `nx show project --json` shows it: p->json with the
 * package.json plugin's metadata (targetGroups, description, js) under
 * project.json's own.  Built on demand, as only show project and graph show
 * it.  New object, caller frees with cJSON_Delete. */
cJSON *ws_project_json_shown(const struct ws_project *p);

/* Index of project p in ws->projects. */
int workspace_project_index(const struct workspace *ws, const struct ws_project *p);
/* Target by name, or NULL. */
struct ws_target *ws_project_target(const struct ws_project *p, const char *name);

/*
 * Nx's findMatchingProjects, the one reading of project patterns (-p,
 * --exclude, implicitDependencies, dependsOn "projects"; docs/patterns.md):
 * patterns in order, each adding or (with a leading '!') removing projects;
 * a first exclusion starts from every project; empty and "nx-cloud:"
 * patterns are skipped.  sel (ws->nprojects entries) is overwritten with the
 * selection.  When ret_order is not NULL (room for ws->nprojects), it gets
 * the selected indices in Nx's order (the order its Set of names was filled).
 * Returns the number selected.
 */
size_t workspace_match_projects(const struct workspace *ws, const char *const *patterns, size_t n,
                                bool *sel, int *ret_order);

/*
 * The one token expander (docs/patterns.md).  Both modes drop a leading
 * "{workspaceRoot}" with its '/' (paths stay workspace-relative) and replace
 * {projectName} and {projectRoot} anywhere; the root project's root is ".".
 *   WS_TOKENS_OPTION  target options and configurations, as Nx resolves them:
 *                     "{projectRoot}/x" is "./x" for the root project;
 *                     {workspaceRoot} anywhere but the start -> NULL.
 *   WS_TOKENS_PATH    inputs and outputs, after an optional '!': for the root
 *                     project "{projectRoot}/" at a segment start and a final
 *                     "/{projectRoot}" vanish ("{projectRoot}/dist" is "dist",
 *                     a bare "{projectRoot}" is "."); a {workspaceRoot} not at
 *                     the start is left as written for the caller to reject.
 * Other tokens ({options.x}, {args.x}) are left as written.  New string,
 * caller frees; NULL only as said for WS_TOKENS_OPTION.
 */
enum ws_tokens { WS_TOKENS_OPTION, WS_TOKENS_PATH };
char *workspace_expand_tokens(const struct ws_project *p, const char *s, enum ws_tokens mode);

/* Names within edit distance of a misspelt project (or target of p when p is
 * not NULL), best first, at most max; pushed to ret. */
void workspace_suggest(const struct workspace *ws, const struct ws_project *p, const char *name,
                       size_t max, struct strvec *ret);

/*
 * Targets that a plugin listed in nx.json's "plugins" would have inferred for
 * p (its config file, e.g. vite.config.ts or jest.config.ts, is in p's root)
 * but that p does not have: bld runs no JavaScript plugins.  Pushes each
 * target name to ret_targets and, in the same order, the plugin's name to
 * ret_plugins (may be NULL).  Knows the common @nx plugins' default target
 * names and their *TargetName options.
 */
void ws_project_plugin_targets(const struct workspace *ws, const struct ws_project *p,
                               struct strvec *ret_targets, struct strvec *ret_plugins);

/* Nx's project-graph node type of p, as `show projects --type` filters:
 * "app", "lib" or "e2e" (static string). */
const char *ws_project_graph_type(const struct workspace *ws, const struct ws_project *p);

/* True when path (workspace-relative) is in ws->files. */
bool workspace_has_file(const struct workspace *ws, const char *path);

/* Parse JSON text; on error fill err with file:line:col of the fault. */
int json_parse_file_text(const char *text, size_t len, const char *file, cJSON **ret,
                         struct bld_err *err);

#endif
