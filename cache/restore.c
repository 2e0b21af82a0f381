/*
 * restore.c - putting a cache entry's outputs back into the workspace.
 *
 * 1. Every path of the entry must be workspace-relative without "..".
 *    Files that already match (size, mode and content hash through the
 *    file index) are left alone; every blob that is about to be copied is
 *    verified against its hash before anything is written (a mismatch is
 *    BLD_ECORRUPT, and the entry is dropped).
 * 2. For each declared output: paths the entry does not have are removed
 *    from below it; files, symlinks and folders that already match (size,
 *    mode and content hash through the file index; link text) are left
 *    alone; the rest is replaced (reflink, else copy_file_range) through a
 *    temporary name and rename.  An output recorded as absent is removed.
 * 3. Nothing else is touched.  Parent folders are opened one component at a
 *    time with O_NOFOLLOW; a symlinked parent is followed only when it
 *    resolves inside the workspace, so no entry can write outside it.
 *
 * The common case of a warm engine -- every output already as recorded --
 * is checked first by lstat alone (matches()); only when something differs,
 * or a parent folder is a symlink, does step 2 open anything.
 *
 * A resident engine can skip even that (docs/architecture.md, "Outputs
 * vouched for"): cache_restore hands its caller the folders a change in which
 * could make the outputs differ, before it looks at any of them, and says
 * whether everything was already in place; a caller that watched those
 * folders since, and saw nothing change, records a later hit with
 * cache_restore_kept and reads nothing.
 */
#include "cache_int.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

struct rctx {
	struct cache *c;
	const char *root;
	char *real_root;
	struct cache_entry whole; /* the entry's rows and declared outputs */
	const struct cache_row *rows; /* whole.rows */
	size_t n;
	bool *write; /* per row: a file whose workspace copy differs: restore it */
	struct strmap by_path; /* path -> row + 1 */
	size_t restored;
	struct bld_err *err;
};

/* The entry's rows (path order) and declared outputs, indexed by path. */
static int load_rows(struct rctx *x, const char *hash)
{
	int r = cache__entry_rows(x->c, hash, &x->whole, x->err);
	x->rows = x->whole.rows;
	x->n = x->whole.nrows;
	x->write = xcalloc(x->n ? x->n : 1, sizeof(*x->write));
	for (size_t i = 0; i < x->n; i++)
		strmap_put(&x->by_path, x->rows[i].path, (void *)(intptr_t)(i + 1));
	return r;
}

static void rows_release(struct rctx *x)
{
	cache_entry_release(&x->whole);
	free(x->write);
	strmap_release(&x->by_path);
	free(x->real_root);
}

static int check_rows(struct rctx *x)
{
	for (size_t i = 0; i < x->n; i++) {
		const struct cache_row *r = &x->rows[i];
		if (!path_is_safe_relative(r->path))
			return bld_err_set(x->err, BLD_EUNSAFE,
			                   "cache entry path \"%s\" is outside the "
			                   "workspace",
			                   r->path);
		if (r->kind == CACHE_ROW_FILE && strlen(r->blob) != 32)
			return bld_err_set(x->err, BLD_ECORRUPT, "cache entry file %s has no blob",
			                   r->path);
	}
	return 0;
}

/* Which files need writing; then every blob about to be used is verified, before
 * anything is touched. */
static int plan_rows(struct rctx *x)
{
	for (size_t i = 0; i < x->n; i++) {
		const struct cache_row *row = &x->rows[i];
		if (row->kind != CACHE_ROW_FILE)
			continue;
		char *abs = path_join(x->root, row->path), h[33];
		struct stat st;
		x->write[i] =
		    !(lstat(abs, &st) == 0 && S_ISREG(st.st_mode) &&
		      (int64_t)st.st_size == row->size && (st.st_mode & 07777) == row->mode &&
		      cache__file_hash(x->c, abs, &st, h) == 0 && !strcmp(h, row->blob));
		free(abs);
		if (x->write[i]) {
			int r = cache__blob_verify(x->c, row->blob, x->err);
			if (r < 0)
				return r;
		}
	}
	return 0;
}

/* Is the symlink at dirfd/name resolving inside the workspace? */
static bool link_inside(struct rctx *x, int dirfd, const char *name)
{
	char proc[64], dir[PATH_MAX], *real;
	snprintf(proc, sizeof(proc), "/proc/self/fd/%d", dirfd);
	ssize_t n = readlink(proc, dir, sizeof(dir) - 1);
	if (n < 0)
		return false;
	dir[n] = '\0';
	char *abs = path_join(dir, name);
	real = realpath(abs, NULL);
	free(abs);
	if (!x->real_root) /* asked only here: most restores never meet a symlink */
		x->real_root = realpath(x->root, NULL);
	char *rel = real && x->real_root ? path_relative(x->real_root, real) : NULL;
	bool ok = rel != NULL;
	free(rel);
	free(real);
	return ok;
}

/* Open the folder holding rel (creating missing folders), never leaving the
 * workspace; *ret_base points into rel. */
static int open_parent(struct rctx *x, const char *rel, int *ret_fd, const char **ret_base)
{
	int fd = open(x->root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0)
		return bld_err_set(x->err, -errno, "cannot open the workspace %s", x->root);
	char *p = xstrdup(rel);
	char *comp = p, *slash;
	int r = 0;
	while (r == 0 && (slash = strchr(comp, '/'))) {
		*slash = '\0';
		int next = openat(fd, comp, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (next < 0 && errno == ENOENT) {
			if (mkdirat(fd, comp, 0755) < 0 && errno != EEXIST)
				r = bld_err_set(x->err, -errno, "cannot create folder %s", comp);
			else
				next = openat(fd, comp,
				              O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		}
		if (r == 0 && next < 0 && (errno == ELOOP || errno == ENOTDIR)) {
			struct stat st;
			if (fstatat(fd, comp, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
			    S_ISLNK(st.st_mode) && link_inside(x, fd, comp))
				next = openat(fd, comp, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
			else
				r = bld_err_set(x->err, BLD_EUNSAFE,
				                "cannot restore %s: %s is not a folder "
				                "inside the workspace",
				                rel, p);
		}
		if (r == 0 && next < 0)
			r = bld_err_set(x->err, -errno, "cannot restore %s: %s", rel,
			                strerror(errno));
		close(fd);
		fd = next;
		*slash = '/';
		comp = slash + 1;
	}
	free(p);
	if (r < 0) {
		if (fd >= 0)
			close(fd);
		return r;
	}
	*ret_fd = fd;
	*ret_base = rel + (comp - p);
	return 0;
}

static int rm_entry(int at, const char *name)
{
	struct stat st;
	if (fstatat(at, name, &st, AT_SYMLINK_NOFOLLOW) < 0)
		return errno == ENOENT ? 0 : -errno;
	if (!S_ISDIR(st.st_mode))
		return unlinkat(at, name, 0) < 0 ? -errno : 0;
	int sub = openat(at, name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (sub < 0)
		return -errno;
	DIR *d = fdopendir(sub);
	struct dirent *de;
	int r = 0;
	while (r == 0 && d && (de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			r = rm_entry(dirfd(d), de->d_name);
	if (d)
		closedir(d);
	if (r == 0 && unlinkat(at, name, AT_REMOVEDIR) < 0 && errno != ENOENT)
		r = -errno;
	return r;
}

/* Folder row i was made anew: every file below it is written (its blob
 * verified first), whatever plan_rows found at that path before. */
static int write_below(struct rctx *x, size_t i)
{
	size_t n = strlen(x->rows[i].path);
	for (size_t j = 0; j < x->n; j++) { /* "a/b-c" sorts between "a/b" and "a/b/c" */
		const struct cache_row *row = &x->rows[j];
		if (row->kind != CACHE_ROW_FILE || x->write[j] ||
		    strncmp(row->path, x->rows[i].path, n) || row->path[n] != '/')
			continue;
		int r = cache__blob_verify(x->c, row->blob, x->err);
		if (r < 0)
			return r;
		x->write[j] = true;
	}
	return 0;
}

static int restore_row(struct rctx *x, size_t i)
{
	const struct cache_row *row = &x->rows[i];
	int fd, r;
	const char *base;
	if ((r = open_parent(x, row->path, &fd, &base)) < 0)
		return r;
	struct stat st;
	bool exists = fstatat(fd, base, &st, AT_SYMLINK_NOFOLLOW) == 0;
	switch (row->kind) {
	case CACHE_ROW_ABSENT:
		if (exists && (r = rm_entry(fd, base)) < 0)
			bld_err_set(x->err, r, "cannot remove %s: %s", row->path, strerror(-r));
		break;
	case CACHE_ROW_DIR:
		if (exists && S_ISDIR(st.st_mode))
			break; /* modes: dir_modes(), once the folder's contents are written */
		if (exists && (r = rm_entry(fd, base)) < 0)
			break;
		if (mkdirat(fd, base, 0755) < 0)
			r = bld_err_set(x->err, -errno, "cannot create %s: %s", row->path,
			                strerror(errno));
		else
			r = write_below(x, i); /* plan_rows may have looked through a symlink */
		break;
	case CACHE_ROW_SYMLINK: {
		char cur[4096];
		ssize_t n =
		    exists && S_ISLNK(st.st_mode) ? readlinkat(fd, base, cur, sizeof(cur) - 1) : -1;
		if (n >= 0 && (cur[n] = '\0', !strcmp(cur, row->link)))
			break;
		if (exists && (r = rm_entry(fd, base)) < 0)
			break;
		if (symlinkat(row->link, fd, base) < 0)
			r = bld_err_set(x->err, -errno, "cannot create symlink %s", row->path);
		else
			x->restored++;
		break;
	}
	default:
		if (!x->write[i])
			break;
		if (exists && S_ISDIR(st.st_mode) && (r = rm_entry(fd, base)) < 0)
			break;
		r = cache__blob_copy_out(x->c, row->blob, fd, base, row->mode, x->err);
		if (r == 0)
			x->restored++;
	}
	close(fd);
	return r;
}

/* Remove what the workspace has below declared output out but the entry lacks. */
static int remove_extras(struct rctx *x, const char *rel, int depth)
{
	char *abs = path_join(x->root, rel);
	struct stat st;
	int r = 0;
	if (depth > 256 || lstat(abs, &st) < 0 || !S_ISDIR(st.st_mode)) {
		free(abs);
		return 0;
	}
	DIR *d = opendir(abs);
	free(abs);
	struct dirent *de;
	struct strvec kids;
	strvec_init(&kids);
	while (d && (de = readdir(d)))
		if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
			strvec_push(&kids, de->d_name);
	if (d)
		closedir(d);
	for (size_t i = 0; r >= 0 && i < kids.n; i++) {
		char *sub = path_join(rel, kids.v[i]);
		void *v = strmap_get(&x->by_path, sub);
		if (!v || x->rows[(intptr_t)v - 1].kind == CACHE_ROW_ABSENT) {
			int fd;
			const char *base;
			if ((r = open_parent(x, sub, &fd, &base)) == 0) {
				r = rm_entry(fd, base);
				close(fd);
			}
		} else if (x->rows[(intptr_t)v - 1].kind == CACHE_ROW_DIR) {
			r = remove_extras(x, sub, depth + 1);
		}
		free(sub);
	}
	strvec_release(&kids);
	return r;
}

/* Forget an entry whose blobs are damaged (best effort: a failure leaves it
 * to fail verification again next time). */
static void entry_drop(struct cache *c, const char *hash)
{
	if (sqlite3_exec(c->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
		return;
	if (cache__entry_delete(c, hash) < 0 ||
	    sqlite3_exec(c->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
		cache__rollback(c);
}

/* Folder modes, deepest first, after their contents (a read-only folder is
 * restored read-only without blocking what goes into it). */
static void dir_modes(struct rctx *x)
{
	for (size_t i = x->n; i-- > 0;) {
		const struct cache_row *row = &x->rows[i];
		int fd;
		const char *base;
		struct stat st;
		if (row->kind != CACHE_ROW_DIR || open_parent(x, row->path, &fd, &base) < 0)
			continue;
		if (fstatat(fd, base, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISDIR(st.st_mode) &&
		    (st.st_mode & 07777) != row->mode)
			fchmodat(fd, base, row->mode, 0);
		close(fd);
	}
}

/* Is every folder above rel a real folder (not a symlink)?  Each folder is
 * asked once per restore (plain holds the answers). */
static bool parents_plain(struct rctx *x, struct strmap *plain, const char *rel)
{
	char *p = xstrdup(rel);
	bool ok = true;
	for (char *slash = strchr(p, '/'); ok && slash; slash = strchr(slash + 1, '/')) {
		*slash = '\0';
		if (!strmap_get(plain, p)) {
			char *abs = path_join(x->root, p);
			struct stat st;
			ok = lstat(abs, &st) == 0 && S_ISDIR(st.st_mode);
			free(abs);
			if (ok)
				strmap_put(plain, p, (void *)1);
		}
		*slash = '/';
	}
	free(p);
	return ok;
}

/* Is row i in the workspace as recorded (files: plan_rows decided)? */
static bool row_matches(struct rctx *x, size_t i)
{
	const struct cache_row *row = &x->rows[i];
	if (row->kind == CACHE_ROW_FILE)
		return !x->write[i];
	char *abs = path_join(x->root, row->path), cur[4096];
	struct stat st;
	bool there = lstat(abs, &st) == 0, ok = false;
	if (row->kind == CACHE_ROW_ABSENT) {
		ok = !there && errno == ENOENT;
	} else if (row->kind == CACHE_ROW_DIR) {
		ok = there && S_ISDIR(st.st_mode) && (st.st_mode & 07777) == row->mode;
	} else if (there && S_ISLNK(st.st_mode)) {
		ssize_t n = readlink(abs, cur, sizeof(cur) - 1);
		ok = n >= 0 && (cur[n] = '\0', !strcmp(cur, row->link));
	}
	free(abs);
	return ok;
}

/* Does folder rel (a DIR row) hold only what the entry has? */
static bool no_extras(struct rctx *x, const char *rel, int depth)
{
	char *abs = path_join(x->root, rel);
	DIR *d = depth > 256 ? NULL : opendir(abs);
	free(abs);
	if (!d)
		return false;
	bool ok = true;
	struct strvec dirs;
	strvec_init(&dirs);
	struct dirent *de;
	while (ok && (de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		char *sub = path_join(rel, de->d_name);
		void *v = strmap_get(&x->by_path, sub);
		ok = v && x->rows[(intptr_t)v - 1].kind != CACHE_ROW_ABSENT;
		if (ok && x->rows[(intptr_t)v - 1].kind == CACHE_ROW_DIR)
			strvec_push(&dirs, sub);
		free(sub);
	}
	closedir(d);
	for (size_t i = 0; ok && i < dirs.n; i++)
		ok = no_extras(x, dirs.v[i], depth + 1);
	strvec_release(&dirs);
	return ok;
}

/* Is declared output d one restore looks below (a plain path, not a glob)? */
static bool declared_plain(const char *d)
{
	return *d != '!' && !pattern_is_glob(d, PATTERN_FILES) && path_is_safe_relative(d);
}

/* Push each folder above rel (and rel itself when self), shallow first,
 * the workspace root as "", each once (seen). */
static void push_folders(struct strvec *dirs, struct strmap *seen, const char *rel, bool self)
{
	char *p = xstrdup(rel);
	size_t n = strlen(p);
	for (size_t i = 0; i <= n; i++) {
		bool end = i == 0 || p[i] == '/' || (i == n && self);
		if (!end)
			continue;
		char c = p[i];
		p[i] = '\0';
		if (!strmap_has(seen, p)) {
			strmap_put(seen, p, (void *)1);
			strvec_push(dirs, p);
		}
		p[i] = c;
	}
	free(p);
}

/* Is rel below one of the paths in roots? */
static bool below_any(const struct strmap *roots, const char *rel)
{
	char *p = xstrdup(rel);
	bool below = false;
	for (char *s = strchr(p, '/'); !below && s; s = strchr(s + 1, '/')) {
		*s = '\0';
		below = strmap_has(roots, p);
		*s = '/';
	}
	free(p);
	return below;
}

/* What w->watch is told: every folder above a row or a declared output, and
 * every folder row; the roots: declared outputs and rows below none of them. */
static void tell_watch(struct rctx *x, struct cache_restore_watch *w)
{
	struct strvec dirs, roots;
	struct strmap seen, is_root;
	strvec_init(&dirs);
	strvec_init(&roots);
	strmap_init(&seen);
	strmap_init(&is_root);
	for (size_t i = 0; i < x->whole.declared.n; i++) {
		const char *d = x->whole.declared.v[i];
		if (declared_plain(d) && !strmap_has(&is_root, d)) {
			strmap_put(&is_root, d, (void *)1);
			strvec_push(&roots, d);
		}
	}
	for (size_t i = 0; i < x->n; i++) {
		const struct cache_row *row = &x->rows[i];
		push_folders(&dirs, &seen, row->path, row->kind == CACHE_ROW_DIR);
		if (!strmap_has(&is_root, row->path) && !below_any(&is_root, row->path)) {
			strmap_put(&is_root, row->path, (void *)1);
			strvec_push(&roots, row->path);
		}
	}
	for (size_t i = 0; i < roots.n; i++)
		push_folders(&dirs, &seen, roots.v[i], false);
	w->watch(w->arg, &dirs, &roots);
	strmap_release(&is_root);
	strmap_release(&seen);
	strvec_release(&roots);
	strvec_release(&dirs);
}

/* Is everything of the entry already in place, as restore_all would leave it? */
static bool matches(struct rctx *x, const struct strvec *declared)
{
	struct strmap plain;
	strmap_init(&plain);
	bool ok = true;
	for (size_t i = 0; ok && i < x->n; i++)
		ok = parents_plain(x, &plain, x->rows[i].path) && row_matches(x, i);
	for (size_t i = 0; ok && i < declared->n; i++) {
		const char *d = declared->v[i];
		if (!declared_plain(d))
			continue;
		void *v = strmap_get(&x->by_path, d);
		if (v && x->rows[(intptr_t)v - 1].kind == CACHE_ROW_DIR)
			ok = no_extras(x, d, 0);
	}
	strmap_release(&plain);
	return ok;
}

static int restore_all(struct rctx *x, const struct strvec *declared)
{
	int r = 0;
	for (size_t i = 0; r >= 0 && i < declared->n; i++) {
		const char *d = declared->v[i];
		if (!declared_plain(d))
			continue;
		void *v = strmap_get(&x->by_path, d);
		if (v && x->rows[(intptr_t)v - 1].kind == CACHE_ROW_DIR)
			r = remove_extras(x, d, 0);
	}
	for (size_t i = 0; r >= 0 && i < x->n; i++)
		r = restore_row(x, i);
	if (r >= 0)
		dir_modes(x);
	return r;
}

int cache_restore(struct cache *c, const struct cache_entry *e, const char *ws_root,
                  struct cache_restore_watch *w, size_t *ret_restored, struct bld_err *err)
{
	struct rctx x = {.c = c, .root = ws_root, .err = err};
	strmap_init(&x.by_path);
	if (w)
		w->clean = false;
	pthread_mutex_lock(&c->lock);
	int r = load_rows(&x, e->hash);
	pthread_mutex_unlock(&c->lock);
	if (r == 0) /* pruned since the lookup (by another engine, or an automatic prune) */
		r = bld_err_set(err, BLD_ECACHE, "its cache entry was removed since it was looked up");
	else if (r > 0)
		r = 0;
	if (r >= 0)
		r = check_rows(&x);
	if (r >= 0 && w && w->watch)
		tell_watch(&x, w); /* before anything is looked at: no change slips between */
	if (r >= 0)
		r = plan_rows(&x);
	if (r == BLD_ECORRUPT) {
		pthread_mutex_lock(&c->lock);
		entry_drop(c, e->hash);
		pthread_mutex_unlock(&c->lock);
	}
	bool clean = r >= 0 && matches(&x, &x.whole.declared);
	if (r >= 0 && !clean)
		r = restore_all(&x, &x.whole.declared);
	if (r >= 0) {
		cache__touch(c, e->hash);
		if (ret_restored)
			*ret_restored = x.restored;
		if (w)
			w->clean = clean;
	}
	rows_release(&x);
	return r;
}

void cache_restore_kept(struct cache *c, const struct cache_entry *e)
{
	cache__touch(c, e->hash);
}
