/*
 * affected.c - the projects a change touches, through libgit2 (never the git
 * command line).  docs/affected.md has the rules and what Nx 22.1.3 did.
 *
 * Changed files: the diff from the merge-base of base and head to head;
 * without a head, HEAD's tree to the working tree with the index, untracked
 * files included (ignored ones are not), is added, as Nx adds `git diff HEAD`
 * and `git ls-files --others --exclude-standard`.  --uncommitted takes only
 * the first of those two, --untracked only the second.  Every delta counts with
 * both its old and its new path (a rename touches both projects, a deletion
 * its old path).  Paths are made workspace-relative; files outside the
 * workspace folder are dropped.
 *
 * Touched projects: the owner (longest root) of each file, and Nx's global
 * files: nx.json and lock files touch every project; the root package.json
 * touches the projects that depend on a dependency it changed (a removed one,
 * or an unreadable side, touches every project); the root tsconfig touches
 * every project unless only compilerOptions.paths changed, then the projects
 * whose roots the changed mappings point into; a file matched by a
 * {workspaceRoot}/ fileset of a target's inputs (through named inputs, so
 * sharedGlobals too) touches the projects with that target; a deleted
 * project.json or package.json touches every project.  Then every dependent,
 * through the whole project graph.
 */
#include <git2.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bld/affected.h"
#include "bld/pattern.h"
#include "ws_int.h"

static const char *const lock_files[] = {"package-lock.json", "yarn.lock", "pnpm-lock.yaml",
                                         "pnpm-lock.yml", "bun.lockb", "bun.lock"};
static const char *const dep_fields[] = {"dependencies", "devDependencies", "peerDependencies",
                                         "optionalDependencies"};

/* ---- changed files through libgit2 ---- */

struct gitctx {
	git_repository *repo;
	char *prefix;     /* the workspace folder relative to the work tree ("" at its top) */
	git_tree *before; /* the merge-base's tree */
	git_tree *after;  /* head's tree; NULL when the working tree is the after side */
	git_oid base_id;  /* the merge-base commit */
	struct strmap seen;
};

static int git_fail(struct bld_err *err, const char *what)
{
	const git_error *e = git_error_last();
	return bld_err_set(err, BLD_EUSAGE, "%s%s%s", what, e && e->message ? ": " : "",
	                   e && e->message ? e->message : "");
}

static int open_repo(const struct workspace *ws, struct gitctx *g, struct bld_err *err)
{
	git_libgit2_init();
	if (git_repository_open_ext(&g->repo, ws->root, 0, NULL) < 0 ||
	    git_repository_is_bare(g->repo))
		return bld_err_set(err, BLD_EUSAGE,
		                   "%s is not in a git repository: affected compares git commits "
		                   "(run it in a clone, or name the changed files with --files)",
		                   ws->root);
	char *wd = realpath(git_repository_workdir(g->repo), NULL);
	g->prefix = wd ? path_relative(wd, ws->root) : NULL;
	free(wd);
	if (!g->prefix)
		return bld_err_set(err, BLD_EUSAGE, "%s is outside its git work tree", ws->root);
	return 0;
}

static int resolve(struct gitctx *g, const char *ref, const char *which, git_commit **ret,
                   struct bld_err *err)
{
	git_object *obj = NULL;
	if (git_revparse_single(&obj, g->repo, ref) < 0)
		return bld_err_set(err, BLD_EUSAGE,
		                   "unknown git ref \"%s\" (the %s): check --%s, NX_%s%s, or fetch "
		                   "it (in CI: git fetch origin %s)",
		                   ref, which, which, !strcmp(which, "base") ? "BASE" : "HEAD",
		                   !strcmp(which, "base") ? " and nx.json defaultBase" : "", ref);
	int rc = git_object_peel((git_object **)ret, obj, GIT_OBJECT_COMMIT);
	git_object_free(obj);
	if (rc < 0)
		return bld_err_set(err, BLD_EUSAGE, "git ref \"%s\" (the %s) is not a commit", ref,
		                   which);
	return 0;
}

static int merge_base_tree(struct gitctx *g, const char *base, git_commit *head,
                           struct bld_err *err)
{
	git_commit *b = NULL, *mb = NULL;
	git_oid oid;
	int rc = resolve(g, base, "base", &b, err);
	if (rc < 0)
		return rc;
	if (git_merge_base(&oid, g->repo, git_commit_id(b), git_commit_id(head)) < 0) {
		bool shallow = git_repository_is_shallow(g->repo) == 1;
		rc = bld_err_set(err, BLD_EUSAGE,
		                 shallow ? "no merge-base of \"%s\" and head in this shallow clone: "
		                           "fetch more history (git fetch --unshallow, or "
		                           "fetch-depth: 0), or pass --files"
		                         : "\"%s\" and head share no history (no merge-base): "
		                           "pass another --base, or --files",
		                 base);
	} else if (git_oid_cpy(&g->base_id, &oid) < 0 ||
	           git_commit_lookup(&mb, g->repo, &oid) < 0 ||
	           git_commit_tree(&g->before, mb) < 0) {
		rc = git_fail(err, "reading the merge-base commit");
	}
	git_commit_free(mb);
	git_commit_free(b);
	return rc;
}

/* Workspace-relative form of a repository path, or NULL when outside. */
static const char *ws_path(const struct gitctx *g, const char *p)
{
	size_t n = strlen(g->prefix);
	if (!n)
		return p;
	return !strncmp(p, g->prefix, n) && p[n] == '/' ? p + n + 1 : NULL;
}

static void add_path(struct gitctx *g, const char *repo_path)
{
	const char *p = repo_path ? ws_path(g, repo_path) : NULL;
	if (p && *p && !strmap_get(&g->seen, p))
		strmap_put(&g->seen, p, (void *)1);
}

/* Add the paths of d's deltas (only the untracked ones when untracked_only), free d. */
static int collect_some(struct gitctx *g, git_diff *d, bool untracked_only)
{
	size_t n = git_diff_num_deltas(d);
	for (size_t i = 0; i < n; i++) {
		const git_diff_delta *dl = git_diff_get_delta(d, i);
		if (untracked_only && dl->status != GIT_DELTA_UNTRACKED)
			continue;
		add_path(g, dl->old_file.path);
		add_path(g, dl->new_file.path);
	}
	git_diff_free(d);
	return 0;
}

static int collect(struct gitctx *g, git_diff *d)
{
	return collect_some(g, d, false);
}

static int diff_files(struct gitctx *g, git_tree *head_tree, bool worktree, struct bld_err *err)
{
	git_diff_options o;
	git_diff *d = NULL;
	git_diff_options_init(&o, GIT_DIFF_OPTIONS_VERSION);
	if (git_diff_tree_to_tree(&d, g->repo, g->before, head_tree, &o) < 0)
		return git_fail(err, "diffing the merge-base and head");
	collect(g, d);
	if (!worktree)
		return 0;
	o.flags |= GIT_DIFF_INCLUDE_UNTRACKED | GIT_DIFF_RECURSE_UNTRACKED_DIRS;
	if (git_diff_tree_to_workdir_with_index(&d, g->repo, head_tree, &o) < 0)
		return git_fail(err, "diffing head and the working tree");
	return collect(g, d);
}

/* Bytes of path (workspace-relative) in tree, or NULL. */
static char *tree_blob(const struct gitctx *g, git_tree *tree, const char *path, size_t *ret_len)
{
	char *full = *g->prefix ? xasprintf("%s/%s", g->prefix, path) : xstrdup(path);
	git_tree_entry *e = NULL;
	git_blob *blob = NULL;
	char *out = NULL;
	if (tree && git_tree_entry_bypath(&e, tree, full) == 0 &&
	    git_blob_lookup(&blob, g->repo, git_tree_entry_id(e)) == 0) {
		*ret_len = (size_t)git_blob_rawsize(blob);
		out = xmalloc(*ret_len + 1);
		memcpy(out, git_blob_rawcontent(blob), *ret_len);
		out[*ret_len] = '\0';
	}
	git_blob_free(blob);
	git_tree_entry_free(e);
	free(full);
	return out;
}

static bool looks_inside(const char *path)
{
	return !strcmp(path, "package.json") || !strcmp(path, "tsconfig.base.json") ||
	       !strcmp(path, "tsconfig.json");
}

static void fill_changes(const struct workspace *ws, struct gitctx *g, struct affected_changes *c)
{
	struct strvec paths;
	strvec_init(&paths);
	size_t it = 0;
	const char *k;
	while (strmap_next(&g->seen, &it, &k, NULL))
		strvec_push(&paths, k);
	strvec_sort(&paths);
	c->v = xcalloc(paths.n + 1, sizeof(*c->v));
	for (size_t i = 0; i < paths.n; i++) {
		struct affected_change *x = &c->v[c->n++];
		x->path = paths.v[i];
		if (!looks_inside(x->path) || !g->repo)
			continue;
		x->before = tree_blob(g, g->before, x->path, &x->before_len);
		if (g->after) {
			x->after = tree_blob(g, g->after, x->path, &x->after_len);
		} else {
			char *abs = path_join(ws->root, x->path);
			if (file_read_max(abs, WS_MAX_FILE, &x->after, &x->after_len) < 0)
				x->after = NULL;
			free(abs);
		}
	}
	free(paths.v);
}

/* --uncommitted: HEAD to the working tree with the index (HEAD's tree becomes
 * the before side, g->before); --untracked: every untracked file (HEAD may be
 * unborn; only the deltas of status GIT_DELTA_UNTRACKED count).  0 and
 * *ret_diff, or an error. */
static int local_diff(struct gitctx *g, bool untracked, git_diff **ret_diff, struct bld_err *err)
{
	git_commit *head = NULL;
	git_tree *ht = NULL;
	git_diff *d = NULL;
	git_diff_options o;
	git_diff_options_init(&o, GIT_DIFF_OPTIONS_VERSION);
	int rc = 0;
	if (!untracked && (rc = resolve(g, "HEAD", "head", &head, err)) >= 0 &&
	    git_commit_tree(&ht, head) < 0)
		rc = git_fail(err, "reading HEAD's tree");
	if (untracked)
		o.flags |= GIT_DIFF_INCLUDE_UNTRACKED | GIT_DIFF_RECURSE_UNTRACKED_DIRS;
	if (rc >= 0 && untracked && git_diff_index_to_workdir(&d, g->repo, NULL, &o) < 0)
		rc = git_fail(err, "listing the untracked files");
	else if (rc >= 0 && !untracked &&
	         git_diff_tree_to_workdir_with_index(&d, g->repo, ht, &o) < 0)
		rc = git_fail(err, "diffing HEAD and the working tree");
	g->before = ht; /* the before side of package.json and tsconfig: HEAD's */
	git_commit_free(head);
	*ret_diff = d;
	return rc;
}

static int local_changes(struct gitctx *g, bool untracked, struct bld_err *err)
{
	git_diff *d = NULL;
	int rc = local_diff(g, untracked, &d, err);
	if (rc >= 0)
		collect_some(g, d, untracked);
	return rc;
}

static int git_changes(const struct workspace *ws, const struct affected_opts *o,
                       struct gitctx *g, struct bld_err *err)
{
	if (o->uncommitted || o->untracked) {
		int rc = open_repo(ws, g, err);
		return rc < 0 ? rc : local_changes(g, o->untracked, err);
	}
	git_commit *head = NULL;
	int rc = open_repo(ws, g, err);
	if (rc >= 0)
		rc = resolve(g, o->head ? o->head : "HEAD", "head", &head, err);
	if (rc >= 0)
		rc = merge_base_tree(g, o->base, head, err);
	git_tree *ht = NULL;
	if (rc >= 0 && git_commit_tree(&ht, head) < 0)
		rc = git_fail(err, "reading head's tree");
	if (rc >= 0)
		rc = diff_files(g, ht, !o->head, err);
	if (rc >= 0 && o->head)
		g->after = ht;
	else
		git_tree_free(ht);
	git_commit_free(head);
	return rc;
}

int affected_changed_files(const struct workspace *ws, const struct affected_opts *o,
                           struct affected_changes *ret, struct bld_err *err)
{
	struct gitctx g = {0};
	strmap_init(&g.seen);
	memset(ret, 0, sizeof(*ret));
	int rc = 0;
	if (o->files) {
		for (size_t i = 0; i < o->files->n; i++) {
			char *p = path_normalize(o->files->v[i]);
			if (*p && !strmap_get(&g.seen, p))
				strmap_put(&g.seen, p, (void *)1);
			free(p);
		}
	} else {
		rc = git_changes(ws, o, &g, err);
	}
	if (rc >= 0)
		fill_changes(ws, &g, ret);
	git_tree_free(g.before);
	git_tree_free(g.after);
	git_repository_free(g.repo);
	free(g.prefix);
	strmap_release(&g.seen);
	return rc;
}

/* ---- the two sides as views over the disk (--by-inputs) ---- */

/* Put path as one side of a delta holds it into v: the blob's bytes (a link's
 * target for a symbolic link), or absent.  A submodule is left to the disk. */
static void view_from_side(const struct gitctx *g, const git_diff_file *f, const char *path,
                           struct ws_view *v)
{
	git_blob *blob = NULL;
	if (f->mode == GIT_FILEMODE_COMMIT)
		return;
	bool file = f->mode == GIT_FILEMODE_BLOB || f->mode == GIT_FILEMODE_BLOB_EXECUTABLE ||
	            f->mode == GIT_FILEMODE_LINK;
	if ((f->flags & GIT_DIFF_FLAG_EXISTS) && file &&
	    git_blob_lookup(&blob, g->repo, &f->id) == 0) {
		size_t len = (size_t)git_blob_rawsize(blob);
		char *data = xmalloc(len + 1);
		memcpy(data, git_blob_rawcontent(blob), len);
		data[len] = '\0';
		ws_view_put(v, path, data, len, f->mode == GIT_FILEMODE_LINK);
	} else {
		ws_view_put(v, path, NULL, 0, false); /* absent there (or a folder) */
	}
	git_blob_free(blob);
}

/* For each path d touches (renames are not detected: one path a delta), its
 * old side (d's first tree) into base unless base has the path already, and
 * into head (may be NULL).  Only untracked deltas when untracked_only, whose
 * old side is absence.  Frees d. */
static void view_deltas(const struct gitctx *g, git_diff *d, bool untracked_only,
                        struct ws_view *base, struct ws_view *head)
{
	size_t n = git_diff_num_deltas(d);
	for (size_t i = 0; i < n; i++) {
		const git_diff_delta *dl = git_diff_get_delta(d, i);
		if (untracked_only && dl->status != GIT_DELTA_UNTRACKED)
			continue;
		const char *path = ws_path(g, dl->new_file.path ? dl->new_file.path : dl->old_file.path);
		if (!path || !*path)
			continue;
		if (!ws_view_get(base, path))
			view_from_side(g, &dl->old_file, path, base);
		if (head)
			view_from_side(g, &dl->old_file, path, head);
	}
	git_diff_free(d);
}

static int views_local(struct gitctx *g, bool untracked, struct ws_view *base,
                       struct bld_err *err)
{
	git_diff *d = NULL;
	int rc = local_diff(g, untracked, &d, err);
	if (rc >= 0)
		view_deltas(g, d, untracked, base, NULL);
	return rc;
}

static int views_git(struct gitctx *g, const struct affected_opts *o, struct ws_view *base,
                     struct ws_view *head, char ret_base[41], struct bld_err *err)
{
	git_commit *hc = NULL;
	git_tree *ht = NULL;
	git_diff *d = NULL;
	git_diff_options opts;
	git_diff_options_init(&opts, GIT_DIFF_OPTIONS_VERSION);
	int rc = resolve(g, o->head ? o->head : "HEAD", "head", &hc, err);
	if (rc >= 0)
		rc = merge_base_tree(g, o->base, hc, err);
	if (rc >= 0 && git_commit_tree(&ht, hc) < 0)
		rc = git_fail(err, "reading head's tree");
	if (rc >= 0)
		git_oid_tostr(ret_base, 41, &g->base_id);
	if (rc >= 0 && git_diff_tree_to_tree(&d, g->repo, g->before, ht, &opts) < 0)
		rc = git_fail(err, "diffing the merge-base and head");
	if (rc >= 0)
		view_deltas(g, d, false, base, NULL);
	/* where the working tree differs from head: head's file on the head side
	 * (when head is not the working tree), and on the base side where the
	 * merge-base and head agree (the paths base does not hold yet) */
	opts.flags |= GIT_DIFF_INCLUDE_UNTRACKED | GIT_DIFF_RECURSE_UNTRACKED_DIRS;
	if (rc >= 0 && git_diff_tree_to_workdir_with_index(&d, g->repo, ht, &opts) < 0)
		rc = git_fail(err, "diffing head and the working tree");
	if (rc >= 0)
		view_deltas(g, d, false, base, o->head ? head : NULL);
	git_tree_free(ht);
	git_commit_free(hc);
	return rc;
}

int affected_views(const struct workspace *ws, const struct affected_opts *o,
                   struct ws_view *ret_base, struct ws_view *ret_head, char ret_base_id[41],
                   struct bld_err *err)
{
	struct gitctx g = {0};
	strmap_init(&g.seen);
	ret_base_id[0] = '\0';
	int rc = 0;
	if (o->files)
		rc = bld_err_set(err, BLD_EUSAGE, "--files names no commit to compare with");
	if (rc >= 0)
		rc = open_repo(ws, &g, err);
	if (rc >= 0 && (o->uncommitted || o->untracked)) {
		rc = views_local(&g, o->untracked, ret_base, err);
		if (rc >= 0)
			memcpy(ret_base_id, "HEAD", 5);
	} else if (rc >= 0) {
		rc = views_git(&g, o, ret_base, ret_head, ret_base_id, err);
	}
	git_tree_free(g.before);
	git_repository_free(g.repo);
	free(g.prefix);
	strmap_release(&g.seen);
	return rc;
}

void affected_changes_release(struct affected_changes *c)
{
	for (size_t i = 0; c && i < c->n; i++) {
		free(c->v[i].path);
		free(c->v[i].before);
		free(c->v[i].after);
	}
	if (c) {
		free(c->v);
		memset(c, 0, sizeof(*c));
	}
}

/* ---- global files ---- */

static void mark_all(const struct workspace *ws, bool *sel)
{
	for (size_t i = 0; i < ws->nprojects; i++)
		sel[i] = true;
}

static cJSON *parse_side(const char *text, size_t len)
{
	cJSON *j = NULL;
	if (text && json_parse_file_text(text, len, "", &j, NULL) < 0)
		j = NULL;
	return j;
}

/* Whether the project's package.json names dependency dep. */
static bool project_uses(const struct workspace *ws, const struct ws_project *p, const char *dep)
{
	if (p->package_name && !strcmp(p->package_name, dep))
		return true;
	char *abs = path_join(ws->root, *p->root ? p->root : ".");
	char *file = path_join(abs, "package.json");
	char *text = NULL;
	size_t len = 0;
	bool hit = false;
	if (*p->root && file_read_max(file, WS_MAX_FILE, &text, &len) >= 0) {
		cJSON *j = parse_side(text, len);
		for (size_t f = 0; j && !hit && f < ARRAY_LEN(dep_fields); f++)
			hit = ws__json_has(cJSON_GetObjectItemCaseSensitive(j, dep_fields[f]),
			                          dep);
		cJSON_Delete(j);
	}
	free(text);
	free(file);
	free(abs);
	return hit;
}

static void mark_users(const struct workspace *ws, const char *dep, bool *sel)
{
	for (size_t i = 0; i < ws->nprojects; i++)
		if (!strcmp(ws->projects[i].name, dep) || project_uses(ws, &ws->projects[i], dep))
			sel[i] = true;
}

/* Nx's npm-packages locator over dependencies and devDependencies. */
static void root_package_json(const struct workspace *ws, const struct affected_change *c,
                              bool *sel)
{
	cJSON *a = parse_side(c->before, c->before_len), *b = parse_side(c->after, c->after_len);
	if (!a || !b) { /* a whole-file change: every package is touched */
		mark_all(ws, sel);
		goto out;
	}
	for (size_t f = 0; f < 2; f++) {
		const cJSON *da = cJSON_GetObjectItemCaseSensitive(a, dep_fields[f]);
		const cJSON *db = cJSON_GetObjectItemCaseSensitive(b, dep_fields[f]), *e;
		cJSON_ArrayForEach(e, da)
		{
			if (!ws__json_has(db, e->string)) { /* removed: everything */
				mark_all(ws, sel);
				goto out;
			}
		}
		cJSON_ArrayForEach(e, db)
		{
			const cJSON *old = cJSON_GetObjectItemCaseSensitive(da, e->string);
			if (!old || !cJSON_Compare(old, e, true))
				mark_users(ws, e->string, sel);
		}
	}
out:
	cJSON_Delete(a);
	cJSON_Delete(b);
}

/* The values of compilerOptions.paths[key] (an array of strings). */
static void mark_mapped(const struct workspace *ws, const cJSON *vals, bool *sel)
{
	const cJSON *v;
	cJSON_ArrayForEach(v, vals)
	{
		if (!cJSON_IsString(v))
			continue;
		const char *path = v->valuestring + (str_starts(v->valuestring, "./") ? 2 : 0);
		for (size_t i = 0; i < ws->nprojects; i++) {
			const char *r = ws->projects[i].root;
			if (*r && (str_starts(path, r) || !strcmp(path, r)))
				sel[i] = true;
		}
	}
}

/* Nx's tsconfig locator: only compilerOptions.paths changes are looked into. */
static void root_tsconfig(const struct workspace *ws, const struct affected_change *c, bool *sel)
{
	cJSON *a = parse_side(c->before, c->before_len), *b = parse_side(c->after, c->after_len);
	cJSON *pa = NULL, *pb = NULL;
	if (a && b) {
		pa = cJSON_DetachItemFromObjectCaseSensitive(
		    cJSON_GetObjectItemCaseSensitive(a, "compilerOptions"), "paths");
		pb = cJSON_DetachItemFromObjectCaseSensitive(
		    cJSON_GetObjectItemCaseSensitive(b, "compilerOptions"), "paths");
	}
	if (!a || !b || !cJSON_Compare(a, b, true)) {
		mark_all(ws, sel);
		goto out;
	}
	const cJSON *e;
	cJSON_ArrayForEach(e, pa)
	{
		const cJSON *now = cJSON_GetObjectItemCaseSensitive(pb, e->string);
		if (!now) { /* a mapping deleted: everything */
			mark_all(ws, sel);
			goto out;
		}
		if (!cJSON_Compare(e, now, true)) {
			mark_mapped(ws, e, sel);
			mark_mapped(ws, now, sel);
		}
	}
	cJSON_ArrayForEach(e, pb)
	{
		if (!ws__json_has(pa, e->string))
			mark_mapped(ws, e, sel);
	}
out:
	cJSON_Delete(pa);
	cJSON_Delete(pb);
	cJSON_Delete(a);
	cJSON_Delete(b);
}

/* ---- {workspaceRoot}/ filesets of target inputs ---- */

struct wsglob {
	struct pattern pat;
	int project;
};

struct wsglobs {
	struct wsglob *v;
	size_t n, cap;
};

static void inputs_globs(const cJSON *inputs, const cJSON *named, const cJSON *pnamed, int depth,
                         int project, struct wsglobs *out)
{
	const cJSON *in;
	cJSON_ArrayForEach(in, inputs)
	{
		const char *s = cJSON_IsString(in) ? in->valuestring : NULL;
		const cJSON *fs = cJSON_GetObjectItemCaseSensitive(in, "fileset");
		if (!s && cJSON_IsString(fs))
			s = fs->valuestring;
		if (!s || depth > 16)
			continue;
		const cJSON *ni = cJSON_GetObjectItemCaseSensitive(pnamed, s);
		if (!ni)
			ni = cJSON_GetObjectItemCaseSensitive(named, s);
		if (cJSON_IsString(in) && cJSON_IsArray(ni)) {
			inputs_globs(ni, named, pnamed, depth + 1, project, out);
		} else if (str_starts(s, "{workspaceRoot}/")) {
			xgrow(&out->v, &out->cap, out->n + 1, sizeof(*out->v));
			struct wsglob *g = &out->v[out->n];
			if (pattern_init(&g->pat, s + strlen("{workspaceRoot}/"), PATTERN_NAMES,
			                 NULL) == 0) {
				g->project = project;
				out->n++;
			}
		}
	}
}

static void collect_wsglobs(const struct workspace *ws, struct wsglobs *out)
{
	for (size_t i = 0; i < ws->nprojects; i++) {
		const struct ws_project *p = &ws->projects[i];
		for (size_t t = 0; t < p->ntargets; t++)
			inputs_globs(cJSON_GetObjectItemCaseSensitive(p->targets[t].json, "inputs"),
			             ws->named_inputs, p->named_inputs, 0, (int)i, out);
	}
}

static bool is_lock_file(const char *path)
{
	for (size_t i = 0; i < ARRAY_LEN(lock_files); i++)
		if (!strcmp(path, lock_files[i]))
			return true;
	return false;
}

static bool deleted_project_file(const struct workspace *ws, const char *path)
{
	const char *base = strrchr(path, '/');
	base = base ? base + 1 : path;
	if (strcmp(base, "project.json") && strcmp(base, "package.json"))
		return false;
	char *abs = path_join(ws->root, path);
	bool gone = access(abs, F_OK) != 0;
	free(abs);
	return gone;
}

void affected_touched(const struct workspace *ws, const struct affected_changes *c, bool *sel)
{
	memset(sel, 0, ws->nprojects * sizeof(*sel));
	struct wsglobs globs = {0};
	collect_wsglobs(ws, &globs);
	for (size_t i = 0; i < c->n; i++) {
		const struct affected_change *x = &c->v[i];
		int owner = workspace_owner(ws, x->path);
		if (owner >= 0)
			sel[owner] = true;
		if (!strcmp(x->path, "nx.json") || is_lock_file(x->path) ||
		    deleted_project_file(ws, x->path))
			mark_all(ws, sel);
		else if (!strcmp(x->path, "package.json"))
			root_package_json(ws, x, sel);
		else if (!strcmp(x->path, "tsconfig.base.json") ||
		         (!strcmp(x->path, "tsconfig.json") && !workspace_has_file(ws, "tsconfig.base.json")))
			root_tsconfig(ws, x, sel);
		for (size_t k = 0; k < globs.n; k++)
			if (!sel[globs.v[k].project] && pattern_match(&globs.v[k].pat, x->path))
				sel[globs.v[k].project] = true;
	}
	for (size_t k = 0; k < globs.n; k++)
		pattern_release(&globs.v[k].pat);
	free(globs.v);
}

/* ---- the reverse closure ---- */

void affected_add_dependents(const struct workspace *ws, bool *sel)
{
	size_t n = ws->nprojects, nedges = 0;
	size_t *start = xcalloc(n + 1, sizeof(*start));
	for (size_t i = 0; i < n; i++)
		for (size_t k = 0; k < ws->projects[i].ndeps; k++)
			start[ws->projects[i].deps[k].project + 1]++, nedges++;
	for (size_t i = 0; i < n; i++)
		start[i + 1] += start[i];
	int *dependents = xcalloc(nedges + 1, sizeof(*dependents));
	size_t *fill = xcalloc(n + 1, sizeof(*fill));
	for (size_t i = 0; i < n; i++)
		for (size_t k = 0; k < ws->projects[i].ndeps; k++) {
			int d = ws->projects[i].deps[k].project;
			dependents[start[d] + fill[d]++] = (int)i;
		}
	int *queue = xcalloc(n + 1, sizeof(*queue));
	size_t qh = 0, qt = 0;
	for (size_t i = 0; i < n; i++)
		if (sel[i])
			queue[qt++] = (int)i;
	while (qh < qt) {
		int p = queue[qh++];
		for (size_t e = start[p]; e < start[p + 1]; e++) {
			int q = dependents[e];
			if (!sel[q]) {
				sel[q] = true;
				queue[qt++] = q;
			}
		}
	}
	free(queue);
	free(fill);
	free(dependents);
	free(start);
}

int affected_projects(const struct workspace *ws, const struct affected_opts *o, bool *sel,
                      struct bld_err *err)
{
	struct affected_changes c;
	int rc = affected_changed_files(ws, o, &c, err);
	if (rc < 0)
		return rc;
	affected_touched(ws, &c, sel);
	affected_add_dependents(ws, sel);
	affected_changes_release(&c);
	return 0;
}
