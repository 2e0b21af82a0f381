/*
 * discover.c - the one walk of a workspace: every project.json, every
 * package.json and every file that the ignore rules keep.
 *
 * Rules: .git, node_modules, .bld and dist folders are never entered; the
 * rest is decided by libgit2's ignore engine (git_ignore_path_is_ignored),
 * which reads every .gitignore (nested ones too), .git/info/exclude and
 * core.excludesfile.  .nxignore files (the root one and nested ones, as Nx
 * 17+ reads them) are handed to libgit2 as extra rules with
 * git_ignore_add_rule, their anchored patterns prefixed with their folder.
 * An ignored folder is never entered.
 *
 * Workspaces that are not in a git repository (or whose root is itself
 * git-ignored by an enclosing repository) get an in-memory repository whose
 * work tree is the workspace root: .gitignore and .nxignore still apply,
 * info/exclude does not (there is none).
 *
 * Speed: each libgit2 query stats the .gitignore files up the path (~10 us),
 * so we ask as little as possible.  A folder's entries are classified with
 * d_type (no stat).  Every ignore file in effect is summarised (struct
 * rulefile): a pattern without an inner '/' matches by name at any depth; a
 * pattern with one ("/out-tsc", ".nx/cache", "src/x.c") can only match entries
 * exactly as many levels below its file as it has components ("**" can match
 * at any depth).  In a folder where no such anchored pattern can apply, an
 * entry's fate depends on its name alone, so the answer is cached per
 * "ignore stack" (the nearest folder holding a .gitignore/.nxignore) and
 * reused by every such folder below it.  Elsewhere libgit2 is asked per
 * entry: always correct, sometimes slower.
 */
#include "ws_int.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <git2.h>
#include <git2/sys/repository.h>

/* Folders never entered, whatever the ignore files say. */
static const char *const always_skipped[] = {".git", "node_modules", ".bld", "dist"};

struct walker {
	git_repository *repo;
	char *prefix;        /* workspace root relative to the work tree: "" or "a/b/" */
	struct strmap cache; /* "stack\1name[/]" -> (void *)1 kept, (void *)2 ignored */
	struct ws_walk *out;
	struct sbuf rel;   /* workspace-relative folder being walked: "" or "a/b/" */
	struct sbuf query; /* scratch: the path asked of libgit2 */
	struct sbuf key;   /* scratch: cache key */
	int error;         /* first libgit2 failure */
	_Alignas(struct dirent64) char dents[32768]; /* getdents64 buffer (entries are copied out
	                                                before recursing) */
};

struct entry {
	char *name;
	bool dir;
};

void ws__walk_init(struct ws_walk *w)
{
	strvec_init(&w->configs);
	strvec_init(&w->packages);
	strvec_init(&w->files);
	strvec_init(&w->dirs);
	w->git = false;
	w->libgit2_calls = 0;
}

void ws__walk_release(struct ws_walk *w)
{
	strvec_release(&w->configs);
	strvec_release(&w->packages);
	strvec_release(&w->files);
	strvec_release(&w->dirs);
}

static bool is_always_skipped(const char *name)
{
	for (size_t i = 0; i < ARRAY_LEN(always_skipped); i++)
		if (!strcmp(name, always_skipped[i]))
			return true;
	return false;
}

/* Where an ignore file's anchored patterns can match: entries of folders at
 * depth base + k for each bit k of depths (depth = components below the work
 * tree), or anywhere below base when any is set.  A chain up to the root. */
struct rulefile {
	int base;
	uint64_t depths;
	bool any;
	const struct rulefile *up;
};

/* Add the anchored patterns of an ignore file's text to f. */
static void classify(struct rulefile *f, const char *text)
{
	while (text && *text) {
		size_t n = strcspn(text, "\n");
		const char *pat = text;
		while (n && strchr(" \r\t", pat[n - 1]))
			n--;
		if (n && pat[0] == '!') {
			pat++;
			n--;
		}
		if (n && pat[0] != '#') {
			if (pat[n - 1] == '/')
				n--; /* "dir/" only says "folders only" */
			bool lead = n && pat[0] == '/';
			size_t slashes = 0;
			bool stars = false;
			for (size_t i = lead; i < n; i++) {
				slashes += pat[i] == '/';
				stars = stars || (pat[i] == '*' && i + 1 < n && pat[i + 1] == '*');
			}
			if ((lead || slashes) && (stars || slashes >= 64))
				f->any = true;
			else if (lead || slashes)
				f->depths |= (uint64_t)1 << slashes;
		}
		text += strcspn(text, "\n");
		if (*text)
			text++;
	}
}

static void classify_file(struct rulefile *f, const char *path)
{
	char *text;
	if (ws__read_small(path, &text, NULL) < 0)
		return; /* absent: no rules */
	classify(f, text);
	free(text);
}

/* Does an entry's name alone decide, in a folder at this depth? */
static bool names_only(const struct rulefile *f, int depth)
{
	for (; f; f = f->up) {
		int rel = depth - f->base;
		if (f->any || (rel >= 0 && rel < 64 && ((f->depths >> rel) & 1)))
			return false;
	}
	return true;
}

/* Rewrite an .nxignore at folder dir (work-tree-relative, "" or "a/b/")
 * into rules relative to the work tree, and add them. */
static int add_nxignore(struct walker *w, const char *text, const char *dir)
{
	struct sbuf rules = SBUF_INIT;
	while (*text) {
		size_t n = strcspn(text, "\n");
		while (n && strchr(" \r\t", text[n - 1]))
			n--;
		const char *pat = text;
		if (n && pat[0] != '#') {
			bool neg = pat[0] == '!';
			if (neg) {
				pat++;
				n--;
			}
			size_t core = n && pat[n - 1] == '/' ? n - 1 : n;
			bool anchored = memchr(pat, '/', core) != NULL;
			if (anchored && pat[0] == '/') {
				pat++;
				n--;
			}
			sbuf_addf(&rules, "%s%s%s%.*s\n", neg ? "!" : "", dir,
			          !anchored && *dir ? "**/" : "", (int)n, pat);
		}
		text += strcspn(text, "\n");
		if (*text)
			text++;
	}
	int rc = rules.len ? git_ignore_add_rule(w->repo, rules.buf) : 0;
	sbuf_release(&rules);
	return rc;
}

/* 1 ignored, 0 kept, negative on a libgit2 failure.  by_name: only the
 * name decides here (names_only), so the answer is cached per stack. */
static int ask_ignored(struct walker *w, const char *stack, bool by_name, const char *name,
                       bool dir)
{
	if (by_name) {
		sbuf_reset(&w->key);
		sbuf_adds(&w->key, stack);
		sbuf_addc(&w->key, '\1');
		sbuf_adds(&w->key, name);
		if (dir)
			sbuf_addc(&w->key, '/');
		void *v = strmap_get(&w->cache, w->key.buf);
		if (v)
			return v == (void *)2;
	}
	sbuf_reset(&w->query);
	sbuf_adds(&w->query, w->prefix);
	sbuf_add(&w->query, w->rel.buf, w->rel.len);
	sbuf_adds(&w->query, name);
	if (dir)
		sbuf_addc(&w->query, '/');
	int ignored = 0;
	w->out->libgit2_calls++;
	if (git_ignore_path_is_ignored(&ignored, w->repo, w->query.buf) < 0)
		return -1;
	if (by_name)
		strmap_put(&w->cache, w->key.buf, ignored ? (void *)2 : (void *)1);
	return ignored != 0;
}

/* Order of entries such that a depth-first walk lists paths sorted
 * bytewise: a folder sorts as its name followed by '/'. */
static int cmp_entry(const void *a, const void *b)
{
	const struct entry *x = a, *y = b;
	const unsigned char *p = (const unsigned char *)x->name,
	                    *q = (const unsigned char *)y->name;
	while (*p && *p == *q) {
		p++;
		q++;
	}
	/* names hold no '/', so a folder's virtual '/' never ties with a character */
	int c = *p ? *p : x->dir ? '/' : 0, d = *q ? *q : y->dir ? '/' : 0;
	return c - d;
}

/* Read a folder's entries with getdents64 into the walker's buffer (d_type;
 * lstat only when the file system does not say), sorted by cmp_entry.
 * Caller frees each name and the array. */
static int read_entries(struct walker *w, int fd, struct entry **ret, size_t *ret_n)
{
	struct entry *v = NULL;
	size_t n = 0, cap = 0;
	for (;;) {
		ssize_t got = getdents64(fd, w->dents, sizeof(w->dents));
		if (got < 0 && errno == EINTR)
			continue;
		if (got <= 0)
			break;
		for (ssize_t off = 0; off < got;) {
			struct dirent64 *e = (struct dirent64 *)(void *)(w->dents + off);
			off += e->d_reclen;
			const char *nm = e->d_name;
			if (nm[0] == '.' && (!nm[1] || (nm[1] == '.' && !nm[2])))
				continue;
			bool dir = e->d_type == DT_DIR;
			unsigned char type = e->d_type;
			struct stat st;
			if (type == DT_UNKNOWN) {
				type = fstatat(fd, nm, &st, AT_SYMLINK_NOFOLLOW) ? DT_UNKNOWN
				       : S_ISDIR(st.st_mode)                     ? DT_DIR
				       : S_ISLNK(st.st_mode)                     ? DT_LNK
				       : S_ISREG(st.st_mode)                     ? DT_REG
				                                                 : DT_UNKNOWN;
				dir = type == DT_DIR;
			}
			/* symbolic links are not followed: one to a regular file counts as
			 * a file, one to a folder (or nowhere) is left out */
			if (type == DT_LNK && (fstatat(fd, nm, &st, 0) || !S_ISREG(st.st_mode)))
				continue;
			if (type != DT_DIR && type != DT_REG && type != DT_LNK)
				continue; /* sockets, fifos, devices */
			xgrow(&v, &cap, n + 1, sizeof(*v));
			v[n].name = xstrdup(nm);
			v[n++].dir = dir;
		}
	}
	if (n > 1)
		qsort(v, n, sizeof(*v), cmp_entry);
	*ret = v;
	*ret_n = n;
	return 0;
}

static bool has_entry(const struct entry *v, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (!v[i].dir && !strcmp(v[i].name, name))
			return true;
	return false;
}

/* Load this folder's .nxignore (if any), summarise its ignore files into
 * own (chained to *chain) and make this folder the stack.  True when the
 * folder has ignore files. */
static bool enter_rules(struct walker *w, const struct entry *v, size_t n, int depth,
                        struct rulefile *own, const struct rulefile **chain)
{
	bool gi = has_entry(v, n, ".gitignore"), nx = has_entry(v, n, ".nxignore");
	if (!gi && !nx)
		return false;
	*own = (struct rulefile){.base = depth, .up = *chain};
	const char *wd = git_repository_workdir(w->repo);
	if (nx) {
		char *abs = xasprintf("%s%s%s.nxignore", wd, w->prefix, w->rel.buf), *text;
		if (ws__read_small(abs, &text, NULL) == 0) {
			char *dir = xasprintf("%s%s", w->prefix, w->rel.buf);
			if (add_nxignore(w, text, dir) < 0 && !w->error)
				w->error = -1;
			classify(own, text); /* as written: relative to its folder */
			free(dir);
			free(text);
		}
		free(abs);
	}
	if (gi) {
		char *abs = xasprintf("%s%s%s.gitignore", wd, w->prefix, w->rel.buf);
		classify_file(own, abs);
		free(abs);
	}
	*chain = own;
	return true;
}

static void walk_dir(struct walker *w, int fd, const char *stack, const struct rulefile *chain,
                     int depth);
/* walk_dir takes ownership of fd. */

static void walk_entry(struct walker *w, int fd, const struct entry *e, const char *stack,
                       const struct rulefile *chain, int depth, bool by_name)
{
	if (e->dir && is_always_skipped(e->name))
		return;
	if (!strcmp(e->name, ".git"))
		return;
	int ign = ask_ignored(w, stack, by_name, e->name, e->dir);
	if (ign < 0 && !w->error)
		w->error = -1;
	if (ign != 0)
		return;
	size_t mark = w->rel.len;
	sbuf_adds(&w->rel, e->name);
	if (!e->dir) {
		strvec_push(&w->out->files, w->rel.buf);
		if (!strcmp(e->name, "project.json"))
			strvec_push(&w->out->configs, w->rel.buf);
		else if (!strcmp(e->name, "package.json"))
			strvec_push(&w->out->packages, w->rel.buf);
	} else {
		int sub = openat(fd, e->name, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
		if (sub >= 0) {
			strvec_push(&w->out->dirs, w->rel.buf);
			sbuf_addc(&w->rel, '/');
			walk_dir(w, sub, stack, chain, depth + 1);
		}
	}
	w->rel.len = mark;
	w->rel.buf[mark] = '\0';
}

/* depth: components of the folder's path below the work tree. */
static void walk_dir(struct walker *w, int fd, const char *stack, const struct rulefile *chain,
                     int depth)
{
	struct entry *v = NULL;
	size_t n = 0;
	struct rulefile own;
	char *own_stack = NULL;
	read_entries(w, fd, &v, &n);
	if (enter_rules(w, v, n, depth, &own, &chain))
		stack = own_stack = xstrdup(w->rel.buf);
	bool by_name = names_only(chain, depth);
	for (size_t i = 0; i < n; i++)
		walk_entry(w, fd, &v[i], stack, chain, depth, by_name);
	for (size_t i = 0; i < n; i++)
		free(v[i].name);
	free(v);
	free(own_stack);
	close(fd);
}

/* Rules outside the walk: info/exclude and core.excludesfile (base 0),
 * then each .gitignore of the folders above the workspace root.  Fills
 * nodes[] (at least 1 + components of prefix) and returns the chain. */
static const struct rulefile *outer_rules(struct walker *w, struct rulefile *nodes)
{
	struct rulefile *f = &nodes[0];
	*f = (struct rulefile){0};
	if (git_repository_path(w->repo)) {
		char *p = path_join(git_repository_path(w->repo), "info/exclude");
		classify_file(f, p);
		free(p);
	}
	git_config *cfg = NULL;
	git_buf buf = {0};
	if (git_repository_config_snapshot(&cfg, w->repo) == 0) {
		if (git_config_get_path(&buf, cfg, "core.excludesfile") == 0) {
			classify_file(f, buf.ptr);
			git_buf_dispose(&buf);
		} else {
			/* the engine's own environment on purpose: libgit2, which answers
			 * the ignore queries, finds this file through it too (its search
			 * paths are process-wide), and this only has to agree with it */
			const char *xdg = getenv("XDG_CONFIG_HOME"), *home = getenv("HOME");
			char *p = xdg && *xdg ? xasprintf("%s/git/ignore", xdg)
			          : home      ? xasprintf("%s/.config/git/ignore", home)
			                      : NULL;
			if (p)
				classify_file(f, p);
			free(p);
		}
		git_config_free(cfg);
	}
	/* .gitignore files of the folders above the workspace root ("a/b/": "", "a") */
	const char *wd = git_repository_workdir(w->repo);
	size_t plen = strlen(w->prefix);
	int depth = 0;
	for (size_t i = 0; plen && i < plen - 1; i++) {
		if (i && w->prefix[i] != '/')
			continue;
		depth += i > 0;
		struct rulefile *g = &nodes[depth + 1];
		*g = (struct rulefile){.base = depth, .up = f};
		char *p = xasprintf("%s%.*s%s.gitignore", wd, (int)i, w->prefix, i ? "/" : "");
		classify_file(g, p);
		free(p);
		f = g;
	}
	return f;
}

/* The real enclosing repository, or an in-memory one rooted at root. */
static int open_repo(struct walker *w, const char *root, struct strvec *notes)
{
	git_repository *repo = NULL;
	if (git_repository_open_ext(&repo, root, 0, NULL) == 0 && !git_repository_is_bare(repo)) {
		char *rel = path_relative(git_repository_workdir(repo), root);
		if (rel) {
			w->prefix = *rel ? xasprintf("%s/", rel) : xstrdup("");
			free(rel);
			int ign = 0;
			if (!*w->prefix ||
			    (git_ignore_path_is_ignored(&ign, repo, w->prefix) == 0 && !ign)) {
				w->repo = repo;
				w->out->git = true;
				return 0;
			}
			free(w->prefix);
			w->prefix = NULL;
		}
	}
	git_repository_free(repo);
	if (notes)
		strvec_push(notes, "not in a git repository (or git-ignored): .gitignore and "
		                   ".nxignore applied through an in-memory repository");
	if (git_repository_new(&w->repo) < 0 || git_repository_set_workdir(w->repo, root, 0) < 0)
		return -1;
	w->prefix = xstrdup("");
	return 0;
}

bool workspace_folder_skipped(const char *name)
{
	return is_always_skipped(name) || !strcmp(name, ".git");
}

void workspace_libgit2_hold(void)
{
	git_libgit2_init();
}

void workspace_libgit2_release(void)
{
	git_libgit2_shutdown();
}

/* Whether a path the view adds would be walked: no skipped folder on its
 * way, no ignore rule on it or its folders. */
static bool view_path_kept(struct walker *w, const char *rel)
{
	struct sbuf q = SBUF_INIT;
	sbuf_init(&q);
	bool kept = true;
	for (const char *s = rel; kept && *s;) {
		size_t n = strcspn(s, "/");
		bool dir = s[n] == '/';
		char *name = xstrndup(s, n);
		kept = !(dir && is_always_skipped(name)) && strcmp(name, ".git");
		free(name);
		sbuf_reset(&q);
		sbuf_adds(&q, w->prefix);
		sbuf_add(&q, rel, (size_t)(s - rel) + n + dir);
		int ign = 0;
		if (kept && git_ignore_path_is_ignored(&ign, w->repo, q.buf) == 0 && ign)
			kept = false;
		s += n + dir;
	}
	sbuf_release(&q);
	return kept;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The lists as the view shows them (see ws__walk).  The walk's lists are
 * sorted (cmp_entry); they are sorted again after. */
static void apply_view(struct walker *w, const struct ws_view *view)
{
	size_t walked = w->out->files.n;
	struct strvec *lists[] = {&w->out->files, &w->out->configs, &w->out->packages};
	size_t it = 0;
	const char *rel;
	void *val;
	struct strmap drop;
	strmap_init(&drop);
	while (strmap_next(&view->files, &it, &rel, &val)) {
		const struct ws_view_file *f = val;
		if (!f->data) {
			strmap_put(&drop, rel, (void *)1);
			continue;
		}
		if ((walked && bsearch(&rel, w->out->files.v, walked, sizeof(char *), cmp_str)) ||
		    !view_path_kept(w, rel))
			continue;
		const char *base = strrchr(rel, '/');
		base = base ? base + 1 : rel;
		strvec_push(&w->out->files, rel);
		if (!strcmp(base, "project.json"))
			strvec_push(&w->out->configs, rel);
		else if (!strcmp(base, "package.json"))
			strvec_push(&w->out->packages, rel);
	}
	for (size_t l = 0; l < ARRAY_LEN(lists); l++) {
		size_t out = 0;
		for (size_t i = 0; i < lists[l]->n; i++) {
			if (strmap_get(&drop, lists[l]->v[i]))
				free(lists[l]->v[i]);
			else
				lists[l]->v[out++] = lists[l]->v[i];
		}
		lists[l]->n = out;
		strvec_sort(lists[l]);
	}
	strmap_release(&drop);
}

int ws__walk(const char *root, struct ws_walk *out, struct strvec *notes,
             const struct ws_view *view, struct bld_err *err)
{
	struct walker w = {.out = out};
	strmap_init(&w.cache);
	sbuf_init(&w.rel);
	sbuf_init(&w.query);
	sbuf_init(&w.key);
	git_libgit2_init();
	int rc = 0;
	int fd = open(root, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd < 0) {
		rc = bld_err_set(err, -errno, "cannot open workspace root %s: %s", root,
		                 strerror(errno));
		goto out;
	}
	if (open_repo(&w, root, notes) < 0) {
		const git_error *ge = git_error_last();
		rc = bld_err_set(err, BLD_EPARSE, "libgit2: %s", ge ? ge->message : "cannot open");
		goto out;
	}
	int depth = 0;
	for (const char *c = w.prefix; *c; c++)
		depth += *c == '/';
	struct rulefile *nodes = xcalloc((size_t)depth + 2, sizeof(*nodes));
	strvec_push(&out->dirs, "");
	walk_dir(&w, fd, "", outer_rules(&w, nodes), depth);
	free(nodes);
	fd = -1; /* walk_dir closed it */
	if (w.error) {
		const git_error *ge = git_error_last();
		rc = bld_err_set(err, BLD_EPARSE, "ignore rules: %s",
		                 ge ? ge->message : "libgit2 failed");
		goto out;
	}
	if (view)
		apply_view(&w, view); /* sorts */
	/* the walk lists in bytewise order already (cmp_entry); make sure */
	for (size_t i = 1; i < out->files.n; i++) {
		if (strcmp(out->files.v[i - 1], out->files.v[i]) > 0) {
			strvec_sort(&out->files);
			strvec_sort(&out->configs);
			strvec_sort(&out->packages);
			break;
		}
	}
out:
	if (fd >= 0)
		close(fd);
	git_repository_free(w.repo);
	git_libgit2_shutdown();
	free(w.prefix);
	strmap_release(&w.cache);
	sbuf_release(&w.rel);
	sbuf_release(&w.query);
	sbuf_release(&w.key);
	return rc;
}
