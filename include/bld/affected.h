/*
 * affected.h - which projects a change touches (graph/affected.c), through
 * libgit2: the changed files between the merge-base of base and head and
 * head, the projects owning them or named by Nx's global-file rules, and
 * every project depending on those.  The rules are in docs/affected.md.
 */
#ifndef BLD_AFFECTED_H
#define BLD_AFFECTED_H

#include <stdbool.h>

#include "bld/base.h"
#include "bld/err.h"
#include "bld/workspace.h"

struct affected_opts {
	const char *base;           /* the base ref (the caller resolves --base, NX_BASE,
	                               nx.json defaultBase, "main") */
	const char *head;           /* the head ref; NULL: HEAD plus the staged, unstaged and
	                               untracked (not ignored) files, as Nx does */
	const struct strvec *files; /* not NULL: the changed files, as given (--files); no git */
	bool uncommitted;           /* only HEAD to the working tree with the index (staged
	                               and unstaged changes, untracked files not), as Nx's
	                               --uncommitted; base and head are not read */
	bool untracked;             /* only the untracked, not ignored files (Nx's --untracked) */
};

/* One changed file: its workspace-relative path and the contents before
 * and after (NULL: absent on that side, or not read). */
struct affected_change {
	char *path;
	char *before, *after;
	size_t before_len, after_len;
};

struct affected_changes {
	struct affected_change *v; /* sorted by path, unique */
	size_t n;
};

/*
 * The changed files of o for ws.  0, or BLD_EUSAGE with a message that says
 * what to do: not a git repository, an unknown ref, no merge-base (a shallow
 * clone: "fetch more history, or pass --files").  Release with
 * affected_changes_release.  Contents are read only for the files whose
 * rules look inside them (package.json, the root tsconfig).
 */
int affected_changed_files(const struct workspace *ws, const struct affected_opts *o,
                           struct affected_changes *ret, struct bld_err *err);
void affected_changes_release(struct affected_changes *c);

/* The projects the changes touch by themselves (owners and global files),
 * marked in sel (ws->nprojects entries, overwritten). */
void affected_touched(const struct workspace *ws, const struct affected_changes *c, bool *sel);

/* Add to sel every project that depends on a selected one, through every
 * project-graph edge (implicit, package.json/pyproject, cross-project dependsOn). */
void affected_add_dependents(const struct workspace *ws, bool *sel);

/*
 * The two sides of the change as views over the disk (include/bld/workspace.h),
 * for --by-inputs: ret_base shows the workspace at the merge-base of base and
 * head (at HEAD for --uncommitted and --untracked), built from git's trees
 * and blobs of just the paths where it differs from the disk; ret_head shows
 * it at head (empty when the working tree is the head side: no --head).
 * ret_base_id gets the base commit's id ("HEAD" for those two flags).  The
 * caller initialises both views (ws_view_init) and releases them
 * (ws_view_release) either way.  0, or BLD_EUSAGE as affected_changed_files
 * says, and for --files (no commit to compare with).
 */
int affected_views(const struct workspace *ws, const struct affected_opts *o,
                   struct ws_view *ret_base, struct ws_view *ret_head, char ret_base_id[41],
                   struct bld_err *err);

/* All of the above: 0 and sel filled, or the error of affected_changed_files. */
int affected_projects(const struct workspace *ws, const struct affected_opts *o, bool *sel,
                      struct bld_err *err);

#endif
