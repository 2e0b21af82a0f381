/*
 * outputs.c - storing a task's outputs (resolved paths, taskoutputs.c) as a
 * cache entry of the local store.
 *
 * Storing walks each output without following symlinks: folders (recorded,
 * with their modes, so empty ones come back), regular files (as blobs),
 * symlinks (as symlinks), absent paths (recorded as absent).  Globs select
 * files; '!' outputs remove files from the entry.  A file whose size, mtime,
 * ctime or inode differ after its copy into the blob store from before it
 * changed while stored: the whole entry is refused (BLD_ECACHE).
 */
#include "cache_int.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>


/* ---- collecting outputs ---- */

struct ocoll {
	struct cache *c;
	const char *root;
	struct cache_row *v;
	size_t n, cap;
	struct strmap seen;
	struct bld_err *err;
};

static struct cache_row *orec_add(struct ocoll *o, const char *path, int kind)
{
	if (strmap_has(&o->seen, path))
		return NULL;
	strmap_put(&o->seen, path, NULL);
	xgrow(&o->v, &o->cap, o->n + 1, sizeof(*o->v));
	struct cache_row *r = &o->v[o->n++];
	memset(r, 0, sizeof(*r));
	r->path = xstrdup(path);
	r->kind = kind;
	return r;
}

/* The file at abs is still the one stat'ed as before (size, mtime, ctime,
 * inode): else it changed while its bytes were copied, and the blob may hold
 * a mix of old and new bytes.  BLD_ECACHE then: the entry is not stored. */
static int same_file_after(const char *rel, const char *abs, const struct stat *before,
                           struct bld_err *err)
{
	struct stat now;
	if (lstat(abs, &now) == 0 && now.st_size == before->st_size &&
	    now.st_ino == before->st_ino && now.st_dev == before->st_dev &&
	    now.st_mtim.tv_sec == before->st_mtim.tv_sec &&
	    now.st_mtim.tv_nsec == before->st_mtim.tv_nsec &&
	    now.st_ctim.tv_sec == before->st_ctim.tv_sec &&
	    now.st_ctim.tv_nsec == before->st_ctim.tv_nsec)
		return 0;
	return bld_err_set(err, BLD_ECACHE,
	                   "output %s changed while it was being stored (is something still "
	                   "writing it?); no cache entry was made",
	                   rel);
}

static int collect_file(struct ocoll *o, const char *rel, const char *abs, const struct stat *st)
{
	struct cache_row *r = orec_add(o, rel, CACHE_ROW_FILE);
	if (!r)
		return 0;
	r->mode = st->st_mode & 07777;
	r->size = (int64_t)st->st_size;
	char known[33];
	pthread_mutex_lock(&o->c->lock);
	bool have = cache__fileindex_get(o->c, abs, st, known);
	pthread_mutex_unlock(&o->c->lock);
	int rc = cache__blob_put(o->c, AT_FDCWD, abs, have ? known : NULL, r->blob, o->err);
	if (rc < 0)
		return rc;
	if (o->c->stored_hook)
		o->c->stored_hook(abs, o->c->stored_hook_arg);
	return same_file_after(rel, abs, st, o->err);
}

static int collect(struct ocoll *o, const char *rel, int depth)
{
	char *abs = path_join(o->root, rel);
	struct stat st;
	int r = 0;
	if (lstat(abs, &st) < 0) {
		if (errno == ENOENT || errno == ENOTDIR)
			orec_add(o, rel, CACHE_ROW_ABSENT);
		else
			r = bld_err_set(o->err, -errno, "cache: output %s: %s", rel,
			                strerror(errno));
	} else if (S_ISLNK(st.st_mode)) {
		char target[4096];
		ssize_t n = readlink(abs, target, sizeof(target) - 1);
		struct cache_row *rec = n >= 0 ? orec_add(o, rel, CACHE_ROW_SYMLINK) : NULL;
		if (rec) {
			target[n] = '\0';
			rec->link = xstrdup(target);
			rec->mode = 0777;
		}
	} else if (S_ISREG(st.st_mode)) {
		r = collect_file(o, rel, abs, &st);
	} else if (S_ISDIR(st.st_mode) && depth < 256) {
		struct cache_row *rec = orec_add(o, rel, CACHE_ROW_DIR);
		if (rec)
			rec->mode = st.st_mode & 07777;
		struct strvec kids;
		strvec_init(&kids);
		DIR *d = opendir(abs);
		struct dirent *de;
		while (d && (de = readdir(d)))
			if (strcmp(de->d_name, ".") && strcmp(de->d_name, ".."))
				strvec_push(&kids, de->d_name);
		if (d)
			closedir(d);
		strvec_sort(&kids);
		for (size_t i = 0; r >= 0 && i < kids.n; i++) {
			char *sub = path_join(rel, kids.v[i]);
			r = collect(o, sub, depth + 1);
			free(sub);
		}
		strvec_release(&kids);
	}
	free(abs);
	return r;
}

/* Refuse outputs whose parents are symlinks: they could lead out of the workspace. */
static int check_parents(const char *root, const char *rel, struct bld_err *err)
{
	char *p = xstrdup(rel);
	int r = 0;
	for (char *s = strchr(p, '/'); s && !r; s = strchr(s + 1, '/')) {
		*s = '\0';
		char *abs = path_join(root, p);
		struct stat st;
		if (lstat(abs, &st) == 0 && S_ISLNK(st.st_mode))
			r = bld_err_set(err, BLD_EUNSAFE, "output %s goes through the symlink %s",
			                rel, p);
		free(abs);
		*s = '/';
	}
	free(p);
	return r;
}

/* Files below the literal folder of a glob output that match it. */
static int collect_glob(struct ocoll *o, const char *pattern)
{
	struct strvec pat, files;
	strvec_init(&pat);
	strvec_init(&files);
	strvec_push(&pat, pattern);
	struct pattern_set gs;
	int r = pattern_set_init(&gs, &pat, o->err);
	if (r < 0) {
		strvec_release(&pat);
		return r;
	}
	const char *base = gs.pos[0].prefix;
	char *dir =
	    *base ? xstrndup(base, strlen(base) - (str_ends(base, "/") ? 1 : 0)) : xstrdup("");
	struct strvec stack;
	strvec_init(&stack);
	strvec_push(&stack, dir);
	while (stack.n && r >= 0) {
		char *rel = stack.v[--stack.n];
		char *abs = *rel ? path_join(o->root, rel) : xstrdup(o->root);
		struct stat st;
		if (lstat(abs, &st) == 0 && S_ISDIR(st.st_mode)) {
			DIR *d = opendir(abs);
			struct dirent *de;
			while (d && (de = readdir(d))) {
				if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
					continue;
				strvec_push_owned(&stack, path_join(rel, de->d_name));
			}
			if (d)
				closedir(d);
		} else if (*rel && pattern_set_match(&gs, rel)) {
			strvec_push(&files, rel);
		}
		free(abs);
		free(rel);
	}
	strvec_sort(&files);
	for (size_t i = 0; r >= 0 && i < files.n; i++)
		r = collect(o, files.v[i], 0);
	strvec_release(&stack);
	pattern_set_release(&gs);
	strvec_release(&pat);
	strvec_release(&files);
	free(dir);
	return r;
}

static int collect_outputs(struct ocoll *o, const struct strvec *outputs)
{
	int r = 0;
	for (size_t i = 0; r >= 0 && i < outputs->n; i++) {
		const char *out = outputs->v[i];
		if (*out == '!')
			continue;
		if (!path_is_safe_relative(out))
			return bld_err_set(o->err, BLD_EUNSAFE,
			                   "output \"%s\" is outside the workspace", out);
		if ((r = check_parents(o->root, out, o->err)) < 0)
			return r;
		r = pattern_is_glob(out, PATTERN_FILES) ? collect_glob(o, out) : collect(o, out, 0);
	}
	return r;
}

/* Drop records matching a '!' output (folders stay). */
static void apply_negations(struct ocoll *o, const struct strvec *outputs, struct bld_err *err)
{
	struct strvec neg;
	strvec_init(&neg);
	for (size_t i = 0; i < outputs->n; i++)
		if (*outputs->v[i] == '!')
			strvec_push(&neg, outputs->v[i] + 1);
	struct pattern_set gs;
	if (!neg.n || pattern_set_init(&gs, &neg, err) < 0) {
		strvec_release(&neg);
		return;
	}
	size_t k = 0;
	for (size_t i = 0; i < o->n; i++) {
		if (o->v[i].kind != CACHE_ROW_DIR && pattern_set_match(&gs, o->v[i].path)) {
			free(o->v[i].path);
			free(o->v[i].link);
			continue;
		}
		o->v[k++] = o->v[i];
	}
	o->n = k;
	pattern_set_release(&gs);
	strvec_release(&neg);
}

static void ocoll_release(struct ocoll *o)
{
	for (size_t i = 0; i < o->n; i++) {
		free(o->v[i].path);
		free(o->v[i].link);
	}
	free(o->v);
	strmap_release(&o->seen);
}

int cache_store(struct cache *c, const char *hash, const char *task_id, const char *ws_root,
                const struct strvec *outputs, const char *terminal, size_t terminal_len,
                uint64_t duration_ms, const char *manifest, struct bld_err *err)
{
	if (strlen(hash) != 32)
		return bld_err_set(err, BLD_ECACHE, "cache: task %s has no hash", task_id);
	if (terminal_len > CACHE_MAX_TERMINAL)
		return bld_err_set(err, BLD_ETOOBIG,
		                   "cache: task %s printed %zu bytes, more than the %u MiB a "
		                   "cache entry keeps; not cached",
		                   task_id, terminal_len, CACHE_MAX_TERMINAL >> 20);
	if (cache_has(c, hash) > 0)
		return 0;
	struct ocoll o = {c, ws_root, NULL, 0, 0, {0}, err};
	strmap_init(&o.seen);
	int r = collect_outputs(&o, outputs);
	if (r >= 0) {
		apply_negations(&o, outputs, err);
		int64_t size = 0;
		for (size_t i = 0; i < o.n; i++)
			size += o.v[i].kind == CACHE_ROW_FILE ? o.v[i].size : 0;
		struct cache_entry e;
		memset(&e, 0, sizeof(e));
		snprintf(e.hash, sizeof(e.hash), "%s", hash);
		e.task = xstrdup(task_id);
		e.duration_ms = duration_ms;
		e.size = (uint64_t)size;
		e.terminal = (char *)terminal; /* borrowed: given back before the release */
		e.terminal_len = terminal_len;
		for (size_t i = 0; i < outputs->n; i++)
			strvec_push(&e.declared, outputs->v[i]);
		e.rows = o.v; /* moved: the entry frees them */
		e.nrows = o.n;
		o.v = NULL;
		o.n = 0;
		e.manifest = xstrdup(manifest ? manifest : "{}");
		r = cache__entry_put(c, &e, err);
		e.terminal = NULL;
		cache_entry_release(&e);
	}
	ocoll_release(&o);
	return r;
}
