/*
 * hash.c - the task hash: evaluating a task's instructions (inputs.c) and
 * combining them, plus canonical JSON.  The format is specified in
 * docs/cache.md; in short:
 *
 *   hash = XXH3-128( for each line, sorted bytewise by key:
 *                      key "\0" value "\n" )
 *
 * with the lines "@format" = CACHE_HASH_FORMAT, "@task" = project "\0"
 * target "\0" configuration, "@executor", "@options" = canonical JSON of the
 * resolved options, and one line per instruction whose value is the
 * instruction's own XXH3-128 (file sets: over path "\0" content-hash "\n"
 * of each matched file in path order).  Everything is workspace-relative;
 * nothing depends on the machine, the clone's folder, mtimes or the host.
 *
 * Each file is hashed at most once per request (hasher->fhash, backed by the
 * stat-keyed index), and each distinct instruction (a project's file set, a
 * workspace glob set, an env var, a runtime command) is evaluated once per
 * request, so globs are matched once per request, not once per task.
 */
#include "hasher_int.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bld/taskgraph.h"

/* ---- canonical JSON ---- */

static int key_cmp(const void *a, const void *b)
{
	const cJSON *x = *(const cJSON *const *)a, *y = *(const cJSON *const *)b;
	return strcmp(x->string, y->string);
}

void cache__json_canonical(const cJSON *j, struct sbuf *out)
{
	if (!j || cJSON_IsNull(j)) {
		sbuf_adds(out, "null");
	} else if (cJSON_IsTrue(j)) {
		sbuf_adds(out, "true");
	} else if (cJSON_IsFalse(j)) {
		sbuf_adds(out, "false");
	} else if (cJSON_IsNumber(j)) {
		double d = j->valuedouble;
		if (d == floor(d) && fabs(d) < 9007199254740992.0)
			sbuf_addf(out, "%lld", (long long)d);
		else
			sbuf_addf(out, "%.17g", d);
	} else if (cJSON_IsString(j)) {
		sbuf_add_json_str(out, j->valuestring);
	} else if (cJSON_IsArray(j)) {
		sbuf_addc(out, '[');
		const cJSON *it;
		bool first = true;
		cJSON_ArrayForEach(it, j)
		{
			if (!first)
				sbuf_addc(out, ',');
			first = false;
			cache__json_canonical(it, out);
		}
		sbuf_addc(out, ']');
	} else if (cJSON_IsObject(j)) {
		size_t n = (size_t)cJSON_GetArraySize(j), k = 0;
		const cJSON **kids = xcalloc(n + 1, sizeof(*kids));
		const cJSON *it;
		cJSON_ArrayForEach(it, j) kids[k++] = it;
		qsort(kids, k, sizeof(*kids), key_cmp);
		sbuf_addc(out, '{');
		for (size_t i = 0; i < k; i++) {
			if (i)
				sbuf_addc(out, ',');
			sbuf_add_json_str(out, kids[i]->string);
			sbuf_addc(out, ':');
			cache__json_canonical(kids[i], out);
		}
		sbuf_addc(out, '}');
		free(kids);
	} else {
		sbuf_adds(out, "null");
	}
}

/* ---- hasher lifecycle ---- */

/* Through the workspace's own name index: a map of the hasher's own cost every
 * request O(projects) to build and free (at 10,000 projects a third of a warm
 * daemon's CPU for a cached single task). */
int cache__project_index(const struct hasher *h, const char *name)
{
	const struct ws_project *p = strmap_get(&h->ws->by_name, name);
	return p ? (int)(p - h->ws->projects) : -1;
}

int hasher_new(struct workspace *ws, struct cache *c, char *const *env, struct hasher **ret,
               struct bld_err *err)
{
	struct hasher *h = xcalloc(1, sizeof(*h));
	h->ws = ws;
	h->c = c;
	h->env = env;
	pthread_mutex_init(&h->lock, NULL);
	strmap_init(&h->evals);
	h->fhash = xcalloc(ws->files.n + 1, sizeof(*h->fhash));
	*ret = h;
	return 0;
}

void hasher_free(struct hasher *h)
{
	if (!h)
		return;
	cache__fileindex_flush(h->c);
	size_t it = 0;
	void *v;
	while (strmap_next(&h->evals, &it, NULL, &v)) {
		struct cache_eval *e = v;
		sbuf_release(&e->files);
		free(e);
	}
	strmap_release(&h->evals);
	free(h->fhash);
	pthread_mutex_destroy(&h->lock);
	free(h);
}

/* ---- evaluating instructions ---- */

static const char *absent_hash(char out[33])
{
	cache__hash_bytes("\0absent", 7, out);
	return out;
}

/* Content hash of a file as the workspace's view holds it. */
static void view_hash(const struct ws_view_file *f, char out[33])
{
	if (!f->data) {
		absent_hash(out);
	} else if (f->link) {
		char *s = xasprintf("symlink:%.*s", (int)f->len, f->data);
		cache__hash_bytes(s, strlen(s), out);
		free(s);
	} else {
		cache__hash_bytes(f->data, f->len, out);
	}
}

/* Content hash of the file at workspace-relative rel (symlinks: of the link
 * text), through the workspace's view when it names rel. */
static void path_hash(struct hasher *h, const char *rel, char out[33])
{
	const struct ws_view_file *vf = ws_view_get(h->ws->view, rel);
	if (vf) {
		view_hash(vf, out);
		return;
	}
	char *abs = path_join(h->ws->root, rel);
	struct stat st;
	if (lstat(abs, &st) < 0) {
		absent_hash(out);
	} else if (S_ISLNK(st.st_mode)) {
		char target[4096];
		ssize_t n = readlink(abs, target, sizeof(target) - 1);
		target[n < 0 ? 0 : n] = '\0';
		char *s = xasprintf("symlink:%s", target);
		cache__hash_bytes(s, strlen(s), out);
		free(s);
	} else if (!S_ISREG(st.st_mode) || cache__file_hash(h->c, abs, &st, out) < 0) {
		absent_hash(out);
	}
	free(abs);
}

static const char *file_hash(struct hasher *h, int f)
{
	const char *rel = h->ws->files.v[f];
	/* the memo holds the disk's hashes: not for a path the workspace's view gives */
	struct cache_memo *memo = ws_view_get(h->ws->view, rel) ? NULL : h->memo;
	if (h->fhash[f][0] || (memo && cache__memo_get(memo, rel, h->fhash[f])))
		return h->fhash[f];
	uint64_t epoch = memo ? cache__memo_epoch(memo) : 0;
	path_hash(h, rel, h->fhash[f]);
	if (memo)
		cache__memo_put(memo, rel, h->fhash[f], epoch);
	return h->fhash[f];
}

/* ---- the memo ---- */

struct cache_memo *cache_memo_new(void)
{
	struct cache_memo *m = xcalloc(1, sizeof(*m));
	pthread_mutex_init(&m->lock, NULL);
	strmap_init(&m->hashes);
	strmap_init(&m->tasks);
	strmap_init(&m->owned);
	return m;
}

static void memo_task_free(struct memo_task *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->nprojects; i++)
		free(t->projects[i].project);
	free(t->projects);
	free(t);
}

static void memo_free_values(struct cache_memo *m)
{
	size_t it = 0;
	void *v;
	while (strmap_next(&m->hashes, &it, NULL, &v))
		free(v);
	it = 0;
	while (strmap_next(&m->tasks, &it, NULL, &v))
		memo_task_free(v);
}

void cache_memo_free(struct cache_memo *m)
{
	if (!m)
		return;
	memo_free_values(m);
	strmap_release(&m->hashes);
	strmap_release(&m->tasks);
	strmap_release(&m->owned);
	pthread_mutex_destroy(&m->lock);
	free(m);
}

void cache_memo_clear(struct cache_memo *m)
{
	pthread_mutex_lock(&m->lock);
	memo_free_values(m);
	strmap_release(&m->hashes);
	strmap_init(&m->hashes);
	strmap_release(&m->tasks);
	strmap_init(&m->tasks);
	m->epoch++;
	m->wide++;
	pthread_mutex_unlock(&m->lock);
}

void cache_memo_forget(struct cache_memo *m, const char *rel_path)
{
	cache_memo_forget_owned(m, rel_path, NULL);
}

void cache_memo_forget_owned(struct cache_memo *m, const char *rel_path, const char *project)
{
	size_t n = strlen(rel_path), it = 0;
	const char *k;
	void *v;
	pthread_mutex_lock(&m->lock);
	struct strvec gone;
	strvec_init(&gone);
	while (strmap_next(&m->hashes, &it, &k, &v))
		if (v && (!n || (!strncmp(k, rel_path, n) && (k[n] == '\0' || k[n] == '/'))))
			strvec_push(&gone, k);
	for (size_t i = 0; i < gone.n; i++)
		free(strmap_put(&m->hashes, gone.v[i], NULL));
	strvec_release(&gone);
	m->epoch++;
	if (!project || !strchr(rel_path, '/'))
		m->wide++;
	if (project)
		strmap_put(&m->owned, project,
		           (void *)((uintptr_t)strmap_get(&m->owned, project) + 1));
	pthread_mutex_unlock(&m->lock);
}

bool cache__memo_get(struct cache_memo *m, const char *rel, char out[33])
{
	pthread_mutex_lock(&m->lock);
	const char *v = strmap_get(&m->hashes, rel);
	if (v)
		memcpy(out, v, 33);
	pthread_mutex_unlock(&m->lock);
	return v != NULL;
}

uint64_t cache__memo_epoch(struct cache_memo *m)
{
	pthread_mutex_lock(&m->lock);
	uint64_t e = m->epoch;
	pthread_mutex_unlock(&m->lock);
	return e;
}

void cache__memo_put(struct cache_memo *m, const char *rel, const char *hash, uint64_t epoch)
{
	pthread_mutex_lock(&m->lock);
	if (m->epoch == epoch)
		free(strmap_put(&m->hashes, rel, xstrdup(hash)));
	pthread_mutex_unlock(&m->lock);
}

void hasher_set_memo(struct hasher *h, struct cache_memo *m, uint64_t generation)
{
	h->memo = m;
	h->memo_epoch = m ? cache__memo_epoch(m) : 0;
	h->generation = generation;
}

/* The memo's hash of the task with key, when it is of this generation and
 * nothing it read was forgotten since (caller holds m->lock). */
static bool memo_task_valid(const struct cache_memo *m, const struct memo_task *v,
                            uint64_t generation)
{
	if (!v || v->generation != generation || v->wide != m->wide ||
	    (v->epoch && v->epoch != m->epoch))
		return false;
	for (size_t i = 0; i < v->nprojects; i++)
		if ((uintptr_t)strmap_get(&m->owned, v->projects[i].project) != v->projects[i].forgets)
			return false;
	return true;
}

static bool memo_task_get(struct hasher *h, const char *key, char out[33])
{
	struct cache_memo *m = h->memo;
	pthread_mutex_lock(&m->lock);
	const struct memo_task *v = strmap_get(&m->tasks, key);
	bool ok = memo_task_valid(m, v, h->generation);
	if (ok)
		memcpy(out, v->hash, 33);
	pthread_mutex_unlock(&m->lock);
	return ok;
}

static bool root_names_only(const struct strvec *globs);

/* What a task's hash depends on, taken before its files are read (t->hash
 * is filled in later, by memo_task_put). */
static struct memo_task *memo_task_deps(struct hasher *h, const struct cache_plan *p,
                                        uint64_t wide, uint64_t epoch)
{
	struct cache_memo *m = h->memo;
	pthread_mutex_lock(&m->lock);
	if (m->epoch != h->memo_epoch) {
		/* forgotten since h began: files and inputs h read before it would
		 * be kept under the counts that came after (not kept) */
		pthread_mutex_unlock(&m->lock);
		return NULL;
	}
	struct memo_task *v = xcalloc(1, sizeof(*v));
	v->generation = h->generation;
	v->wide = wide;
	for (size_t k = 0; k < p->n; k++) {
		const struct cache_instr *ins = &p->v[k];
		if (ins->kind == INS_WFILES && !root_names_only(&ins->globs))
			v->epoch = epoch; /* globs over the whole workspace: any forget counts */
		if (ins->kind != INS_PFILES || ins->project < 0)
			continue;
		const char *name = h->ws->projects[ins->project].name;
		xgrow(&v->projects, &v->capprojects, v->nprojects + 1, sizeof(*v->projects));
		v->projects[v->nprojects++] =
		    (struct memo_owned){xstrdup(name), (uintptr_t)strmap_get(&m->owned, name)};
	}
	pthread_mutex_unlock(&m->lock);
	return v;
}

static void memo_task_put(struct hasher *h, const char *key, struct memo_task *v,
                          const char *hash)
{
	struct cache_memo *m = h->memo;
	memcpy(v->hash, hash, 33);
	pthread_mutex_lock(&m->lock);
	memo_task_free(strmap_put(&m->tasks, key, v));
	pthread_mutex_unlock(&m->lock);
}

/* Globs that can only name files at the workspace root ("nx.json", ".gitignore"):
 * their forgets count as wide. */
static bool root_names_only(const struct strvec *globs)
{
	for (size_t i = 0; i < globs->n; i++)
		if (strpbrk(globs->v[i], "/*?[{!"))
			return false;
	return true;
}

/* A task whose every input is a file the watcher sees (no environment
 * variable, command output or dependency output) can keep its hash. */
static bool plan_memoizable(const struct cache_plan *p)
{
	for (size_t k = 0; k < p->n; k++)
		if (p->v[k].kind == INS_ENV || p->v[k].kind == INS_RUNTIME ||
		    p->v[k].kind == INS_DEPOUT)
			return false;
	return true;
}

/* What identifies a task's hash besides its inputs' contents. */
static char *task_key(const struct task *t)
{
	struct sbuf sb = SBUF_INIT;
	sbuf_init(&sb);
	sbuf_addf(&sb, "%s\n%s\n%s\n", t->id, t->configuration ? t->configuration : "",
	          t->target->executor);
	cache__json_canonical(t->options, &sb);
	return sbuf_detach(&sb);
}

static int eval_files(struct hasher *h, const struct cache_instr *ins, struct cache_eval *e,
                      struct bld_err *err)
{
	struct pattern_set gs;
	int r = pattern_set_init(&gs, &ins->globs, err);
	if (r < 0)
		return r;
	struct sbuf acc = SBUF_INIT;
	sbuf_init(&acc);
	bool proj = ins->kind == INS_PFILES;
	size_t n = proj ? h->ws->nproject_files[ins->project] : h->ws->files.n;
	for (size_t k = 0; k < n; k++) {
		int f = proj ? h->ws->project_files[ins->project][k] : (int)k;
		const char *path = h->ws->files.v[f];
		if (!pattern_set_match(&gs, path))
			continue;
		const char *fh = file_hash(h, f);
		sbuf_addf(&acc, "%s%c%s\n", path, 0, fh);
		sbuf_addf(&e->files, "%s %s\n", fh, path);
	}
	cache__hash_bytes(acc.buf, acc.len, e->hash);
	sbuf_release(&acc);
	pattern_set_release(&gs);
	return 0;
}

static void eval_json(const cJSON *j, char out[33])
{
	struct sbuf sb = SBUF_INIT;
	sbuf_init(&sb);
	cache__json_canonical(j, &sb);
	cache__hash_bytes(sb.buf, sb.len, out);
	sbuf_release(&sb);
}

/* As Nx's hash_project_config: root, tags, each target's executor, outputs,
 * options, configurations, parallelism (and command), the namedInputs. */
static void eval_config(struct hasher *h, int pi, struct cache_eval *e)
{
	const struct ws_project *p = &h->ws->projects[pi];
	static const char *const keep[] = {"executor", "command",        "outputs",
	                                   "options",  "configurations", "parallelism"};
	cJSON *o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "root", p->root);
	cJSON *tags = cJSON_AddArrayToObject(o, "tags");
	for (size_t i = 0; i < p->tags.n; i++)
		cJSON_AddItemToArray(tags, cJSON_CreateString(p->tags.v[i]));
	cJSON *targets = cJSON_AddObjectToObject(o, "targets");
	for (size_t t = 0; t < p->ntargets; t++) {
		cJSON *tj = cJSON_AddObjectToObject(targets, p->targets[t].name);
		for (size_t k = 0; k < ARRAY_LEN(keep); k++) {
			const cJSON *v =
			    cJSON_GetObjectItemCaseSensitive(p->targets[t].json, keep[k]);
			if (v)
				cJSON_AddItemToObject(tj, keep[k], cJSON_Duplicate(v, true));
		}
		if (!cJSON_GetObjectItemCaseSensitive(tj, "executor"))
			cJSON_AddStringToObject(tj, "executor", p->targets[t].executor);
	}
	if (p->named_inputs)
		cJSON_AddItemToObject(o, "namedInputs", cJSON_Duplicate(p->named_inputs, true));
	eval_json(o, e->hash);
	cJSON_Delete(o);
}

/* Nx hashes the root tsconfig (tsconfig.base.json, else tsconfig.json) without
 * compilerOptions.paths; "{}" when there is none. */
static void eval_tsconfig(struct hasher *h, struct cache_eval *e)
{
	static const char *const names[] = {"tsconfig.base.json", "tsconfig.json"};
	cJSON *j = NULL;
	for (size_t i = 0; !j && i < ARRAY_LEN(names); i++) {
		const struct ws_view_file *vf = ws_view_get(h->ws->view, names[i]);
		char *abs = path_join(h->ws->root, names[i]), *buf = NULL;
		size_t len;
		if (vf && vf->data)
			buf = xstrndup(vf->data, vf->len);
		if (vf ? buf != NULL : file_read(abs, &buf, &len) == 0) {
			cJSON_Minify(buf);
			j = cJSON_Parse(buf);
			if (!j)
				j = cJSON_CreateString(buf); /* unparsable: its bytes count */
			free(buf);
		}
		free(abs);
	}
	if (!j)
		j = cJSON_CreateObject();
	cJSON *co = cJSON_GetObjectItemCaseSensitive(j, "compilerOptions");
	if (cJSON_IsObject(co))
		cJSON_DeleteItemFromObjectCaseSensitive(co, "paths");
	eval_json(j, e->hash);
	cJSON_Delete(j);
}

static void eval_env(struct hasher *h, const struct cache_instr *ins, struct cache_eval *e)
{
	const char *v = env_get(h->env, ins->arg);
	cache__hash_bytes(v ? v : "", v ? strlen(v) : 0, e->hash);
}

static void trim(struct sbuf *sb)
{
	if (!sb->len)
		return; /* buf may be the shared empty string: never write it */
	size_t s = 0;
	while (s < sb->len && strchr(" \t\r\n", sb->buf[s]))
		s++;
	memmove(sb->buf, sb->buf + s, sb->len - s + 1);
	sb->len -= s;
	sbuf_rtrim(sb);
}

/* The most a runtime input's command may print (stdout and stderr together). */
#define RUNTIME_MAX_OUTPUT (16u << 20)

/* Read both pipes to their end, into out and errout; closes them.  -EFBIG
 * (pipes closed early: the writer gets SIGPIPE) past RUNTIME_MAX_OUTPUT. */
static int drain_pipes(int fo, int fe, struct sbuf *out, struct sbuf *errout)
{
	struct pollfd fds[2] = {{fo, POLLIN, 0}, {fe, POLLIN, 0}};
	struct sbuf *bufs[2] = {out, errout};
	int open_fds = 2, r = 0;
	while (open_fds && r == 0) {
		if (poll(fds, 2, -1) < 0) {
			if (errno == EINTR)
				continue; /* revents are not set */
			r = -errno;
			break;
		}
		for (int k = 0; k < 2; k++) {
			if (fds[k].fd < 0 || !fds[k].revents)
				continue;
			sbuf_grow(bufs[k], 4096);
			ssize_t n = read(fds[k].fd, bufs[k]->buf + bufs[k]->len, 4096);
			if (n > 0) {
				bufs[k]->len += (size_t)n;
				bufs[k]->buf[bufs[k]->len] = '\0';
				if (out->len + errout->len > RUNTIME_MAX_OUTPUT)
					r = -EFBIG;
			} else if (n == 0 || errno != EINTR) {
				close(fds[k].fd);
				fds[k].fd = -1;
				open_fds--;
			}
		}
	}
	for (int k = 0; k < 2; k++)
		if (fds[k].fd >= 0)
			close(fds[k].fd);
	return r;
}

/* Run cmd with /bin/sh in the workspace root, with the client's environment. */
static int run_capture(struct hasher *h, const char *cmd, struct sbuf *out, struct sbuf *errout,
                       struct bld_err *err)
{
	int po[2], pe[2];
	if (pipe2(po, O_CLOEXEC) < 0)
		return bld_err_set(err, -errno, "runtime input: pipe: %s", strerror(errno));
	if (pipe2(pe, O_CLOEXEC) < 0) {
		close(po[0]);
		close(po[1]);
		return bld_err_set(err, -errno, "runtime input: pipe: %s", strerror(errno));
	}
	static char *const empty_env[] = {NULL};
	char *const *env = h->env ? h->env : empty_env;
	pid_t pid = fork();
	if (pid == 0) {
		int devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
		if (chdir(h->ws->root) < 0 || devnull < 0)
			_exit(127);
		dup2(devnull, 0);
		dup2(po[1], 1);
		dup2(pe[1], 2);
		execle("/bin/sh", "sh", "-c", cmd, (char *)NULL, env);
		_exit(127);
	}
	int fork_errno = errno;
	close(po[1]);
	close(pe[1]);
	if (pid < 0) {
		close(po[0]);
		close(pe[0]);
		return bld_err_set(err, -fork_errno, "runtime input \"%s\": cannot fork: %s", cmd,
		                   strerror(fork_errno));
	}
	int r = drain_pipes(po[0], pe[0], out, errout);
	if (r < 0)
		kill(pid, SIGKILL); /* in case it ignores SIGPIPE */
	int status;
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	if (r == -EFBIG)
		return bld_err_set(err, BLD_ETOOBIG,
		                   "runtime input \"%s\" printed more than %u MiB", cmd,
		                   RUNTIME_MAX_OUTPUT >> 20);
	if (r < 0)
		return bld_err_set(err, r, "runtime input \"%s\": %s", cmd, strerror(-r));
	return 0;
}

static int eval_runtime(struct hasher *h, const struct cache_instr *ins, struct cache_eval *e,
                        struct bld_err *err)
{
	struct sbuf out = SBUF_INIT, eo = SBUF_INIT;
	sbuf_init(&out);
	sbuf_init(&eo);
	int r = run_capture(h, ins->arg, &out, &eo, err);
	if (r >= 0) {
		trim(&out);
		trim(&eo);
		sbuf_add(&out, eo.buf, eo.len);
		cache__hash_bytes(out.buf, out.len, e->hash);
	}
	sbuf_release(&out);
	sbuf_release(&eo);
	return r;
}

/* The lock files that stand for external dependencies (see docs/cache.md). */
static const char *const lock_files[] = {"package-lock.json", "yarn.lock", "pnpm-lock.yaml",
                                         "bun.lock",          "bun.lockb", "uv.lock",
                                         "poetry.lock"};

static void eval_externals(struct hasher *h, const struct cache_instr *ins, struct cache_eval *e)
{
	struct sbuf acc = SBUF_INIT;
	sbuf_init(&acc);
	for (size_t i = 0; i < ins->globs.n; i++)
		sbuf_addf(&acc, "%s\n", ins->globs.v[i]);
	for (size_t i = 0; i < ARRAY_LEN(lock_files); i++) {
		const struct ws_view_file *vf = ws_view_get(h->ws->view, lock_files[i]);
		char fh[33], *abs = path_join(h->ws->root, lock_files[i]);
		bool there = vf ? vf->data != NULL : file_exists(abs);
		free(abs);
		if (!there)
			continue;
		path_hash(h, lock_files[i], fh);
		sbuf_addf(&acc, "%s%c%s\n", lock_files[i], 0, fh);
		sbuf_addf(&e->files, "%s %s\n", fh, lock_files[i]);
	}
	cache__hash_bytes(acc.buf, acc.len, e->hash);
	sbuf_release(&acc);
}

/* Files below path (workspace-relative), not following symlinks, into files. */
static void walk_outputs(const char *root, const char *rel, struct strvec *files, int depth)
{
	char *abs = path_join(root, rel);
	struct stat st;
	if (depth > 64 || lstat(abs, &st) < 0) {
		free(abs);
		return;
	}
	if (!S_ISDIR(st.st_mode)) {
		strvec_push(files, rel);
		free(abs);
		return;
	}
	DIR *d = opendir(abs);
	free(abs);
	if (!d)
		return;
	struct dirent *de;
	while ((de = readdir(d))) {
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, ".."))
			continue;
		char *sub = path_join(rel, de->d_name);
		walk_outputs(root, sub, files, depth + 1);
		free(sub);
	}
	closedir(d);
}

static int eval_depout(struct hasher *h, const struct task_graph *tg, const struct cache_instr *ins,
                       struct cache_eval *e, struct bld_err *err)
{
	struct strvec outs, files, pat;
	strvec_init(&outs);
	strvec_init(&files);
	strvec_init(&pat);
	task_outputs(h->ws, &tg->tasks[ins->dep_task], &outs);
	for (size_t i = 0; i < outs.n; i++)
		if (outs.v[i][0] != '!' && !pattern_is_glob(outs.v[i], PATTERN_FILES))
			walk_outputs(h->ws->root, outs.v[i], &files, 0);
	strvec_sort(&files);
	strvec_push(&pat, ins->arg);
	struct pattern_set gs;
	int r = pattern_set_init(&gs, &pat, err);
	if (r >= 0) {
		struct sbuf acc = SBUF_INIT;
		sbuf_init(&acc);
		for (size_t i = 0; i < files.n; i++) {
			if ((i && !strcmp(files.v[i], files.v[i - 1])) ||
			    !pattern_set_match(&gs, files.v[i]))
				continue;
			char fh[33];
			path_hash(h, files.v[i], fh);
			sbuf_addf(&acc, "%s%c%s\n", files.v[i], 0, fh);
			sbuf_addf(&e->files, "%s %s\n", fh, files.v[i]);
		}
		cache__hash_bytes(acc.buf, acc.len, e->hash);
		sbuf_release(&acc);
		pattern_set_release(&gs);
	}
	strvec_release(&outs);
	strvec_release(&files);
	strvec_release(&pat);
	return r;
}

static int eval_instr(struct hasher *h, const struct task_graph *tg, const struct cache_instr *ins,
                      const struct cache_eval **ret, struct cache_eval *tmp, struct bld_err *err)
{
	bool cacheable = ins->kind != INS_DEPOUT;
	if (cacheable && (*ret = strmap_get(&h->evals, ins->key)))
		return 0;
	struct cache_eval *e = cacheable ? xcalloc(1, sizeof(*e)) : tmp;
	sbuf_init(&e->files);
	int r = 0;
	switch (ins->kind) {
	case INS_PFILES:
	case INS_WFILES:
		r = eval_files(h, ins, e, err);
		break;
	case INS_CONFIG:
		eval_config(h, ins->project, e);
		break;
	case INS_TSCONFIG:
		eval_tsconfig(h, e);
		break;
	case INS_ENV:
		eval_env(h, ins, e);
		break;
	case INS_RUNTIME:
		r = eval_runtime(h, ins, e, err);
		break;
	case INS_EXTERNALS:
		eval_externals(h, ins, e);
		break;
	case INS_DEPOUT:
		r = eval_depout(h, tg, ins, e, err);
		break;
	}
	if (r < 0) {
		sbuf_release(&e->files);
		if (cacheable)
			free(e);
		return r;
	}
	if (cacheable)
		strmap_put(&h->evals, ins->key, e);
	*ret = e;
	return 0;
}

/* ---- the task hash ---- */

struct hline {
	char *key;
	char *value;
	bool borrowed; /* key and value belong to the plan and the hasher's evals */
};

static int hline_cmp(const void *a, const void *b)
{
	return strcmp(((const struct hline *)a)->key, ((const struct hline *)b)->key);
}

static void task_lines(const struct task *t, struct hline *l, cJSON *m)
{
	struct sbuf sb = SBUF_INIT;
	sbuf_init(&sb);
	l[0] = (struct hline){xstrdup("@format"), xasprintf("%d", CACHE_HASH_FORMAT), false};
	sbuf_adds(&sb, t->project->name);
	sbuf_addc(&sb, '\0');
	sbuf_adds(&sb, t->target->name);
	sbuf_addc(&sb, '\0');
	sbuf_adds(&sb, t->configuration ? t->configuration : "");
	l[1] = (struct hline){xstrdup("@task"), xmalloc(sb.len + 1), false};
	memcpy(l[1].value, sb.buf, sb.len + 1);
	l[1].value[sb.len] = '\0';
	sbuf_reset(&sb);
	cache__json_canonical(t->options, &sb);
	l[2] = (struct hline){xstrdup("@executor"), xstrdup(t->target->executor), false};
	l[3] = (struct hline){xstrdup("@options"), sbuf_detach(&sb), false};
	sbuf_release(&sb);
	if (!m)
		return; /* no manifest wanted */
	cJSON_AddNumberToObject(m, "format", CACHE_HASH_FORMAT);
	cJSON_AddStringToObject(m, "bld", BLD_VERSION);
	cJSON_AddStringToObject(m, "task", t->id);
	cJSON_AddStringToObject(m, "project", t->project->name);
	cJSON_AddStringToObject(m, "target", t->target->name);
	if (t->configuration)
		cJSON_AddStringToObject(m, "configuration", t->configuration);
	else
		cJSON_AddNullToObject(m, "configuration");
	cJSON_AddStringToObject(m, "executor", t->target->executor);
	cJSON_AddItemToObject(
	    m, "options", t->options ? cJSON_Duplicate(t->options, true) : cJSON_CreateObject());
}

/* The digest of sorted lines; "@task" holds NULs, so lengths are tracked. */
static void lines_digest(struct hline *l, size_t n, const char *project, const char *target,
                         const char *configuration, char out[33])
{
	qsort(l, n, sizeof(*l), hline_cmp);
	struct sbuf sb = SBUF_INIT;
	sbuf_init(&sb);
	for (size_t i = 0; i < n; i++) {
		sbuf_adds(&sb, l[i].key);
		sbuf_addc(&sb, '\0');
		if (!strcmp(l[i].key, "@task")) {
			sbuf_adds(&sb, project);
			sbuf_addc(&sb, '\0');
			sbuf_adds(&sb, target);
			sbuf_addc(&sb, '\0');
			sbuf_adds(&sb, configuration ? configuration : "");
		} else {
			sbuf_adds(&sb, l[i].value);
		}
		sbuf_addc(&sb, '\n');
	}
	cache__hash_bytes(sb.buf, sb.len, out);
	sbuf_release(&sb);
}

static int hash_locked(struct hasher *h, struct task_graph *tg, int i, cJSON **ret_manifest,
                       struct bld_err *err)
{
	struct task *t = &tg->tasks[i];
	/* a resident engine's memo answers an unchanged task without its plan */
	char *key = h->memo && h->generation && !h->ws->view && !ret_manifest ? task_key(t) : NULL;
	if (key && memo_task_get(h, key, t->hash)) {
		free(key);
		return 0;
	}
	uint64_t epoch = 0, wide = 0;
	if (key) {
		pthread_mutex_lock(&h->memo->lock);
		epoch = h->memo->epoch;
		wide = h->memo->wide;
		pthread_mutex_unlock(&h->memo->lock);
	}
	struct cache_plan plan;
	cache__plan_init(&plan);
	int r = cache__plan_task(h, tg, i, &plan, err);
	if (r < 0) {
		cache__plan_release(&plan);
		free(key);
		return r;
	}
	struct memo_task *deps =
	    key && plan_memoizable(&plan) ? memo_task_deps(h, &plan, wide, epoch) : NULL;
	struct hline *lines = xcalloc(plan.n + 4, sizeof(*lines));
	/* the manifest (what `cache why` compares) only when the caller keeps it */
	cJSON *m = ret_manifest ? cJSON_CreateObject() : NULL;
	task_lines(t, lines, m);
	cJSON *inputs = m ? cJSON_AddObjectToObject(m, "inputs") : NULL;
	size_t n = 4;
	for (size_t k = 0; r >= 0 && k < plan.n; k++) {
		const struct cache_eval *e;
		struct cache_eval tmp = {{0}, SBUF_INIT};
		r = eval_instr(h, tg, &plan.v[k], &e, &tmp, err);
		if (r < 0)
			break;
		/* the plan's key and a cached eval's hash outlive the lines: borrowed
		 * (the manifest copies: it may outlive the hasher) */
		if (e != &tmp)
			lines[n++] = (struct hline){plan.v[k].key, (char *)e->hash, true};
		else
			lines[n++] = (struct hline){xstrdup(plan.v[k].key), xstrdup(e->hash), false};
		if (m) {
			cJSON *ij = cJSON_AddObjectToObject(inputs, plan.v[k].key);
			cJSON_AddStringToObject(ij, "hash", e->hash);
			if (e->files.len)
				cJSON_AddStringToObject(ij, "files", e->files.buf);
		}
		sbuf_release(&tmp.files);
	}
	if (r >= 0) {
		lines_digest(lines, n, t->project->name, t->target->name, t->configuration, t->hash);
		if (m)
			cJSON_AddStringToObject(m, "hash", t->hash);
		if (deps)
			memo_task_put(h, key, deps, t->hash);
		deps = NULL;
	}
	memo_task_free(deps);
	free(key);
	for (size_t k = 0; k < n; k++) {
		if (lines[k].borrowed)
			continue;
		free(lines[k].key);
		free(lines[k].value);
	}
	free(lines);
	cache__plan_release(&plan);
	if (r >= 0 && ret_manifest)
		*ret_manifest = m;
	else
		cJSON_Delete(m);
	return r;
}

int hasher_task_hash(struct hasher *h, struct task_graph *tg, int i, cJSON **ret_manifest,
                     struct bld_err *err)
{
	if (i < 0 || (size_t)i >= tg->ntasks)
		return bld_err_set(err, -EINVAL, "no task %d", i);
	pthread_mutex_lock(&h->lock);
	int r = hash_locked(h, tg, i, ret_manifest, err);
	pthread_mutex_unlock(&h->lock);
	return r;
}

static const char *jstr(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
	return cJSON_IsString(v) ? v->valuestring : NULL;
}

int cache__manifest_hash(const cJSON *m, char out[33])
{
	const cJSON *fmt = cJSON_GetObjectItemCaseSensitive(m, "format");
	const cJSON *conf = cJSON_GetObjectItemCaseSensitive(m, "configuration");
	const cJSON *opts = cJSON_GetObjectItemCaseSensitive(m, "options");
	const cJSON *inputs = cJSON_GetObjectItemCaseSensitive(m, "inputs");
	const char *project = jstr(m, "project"), *target = jstr(m, "target");
	const char *executor = jstr(m, "executor");
	if (!cJSON_IsNumber(fmt) || fmt->valueint != CACHE_HASH_FORMAT || !project || !target ||
	    !executor || !cJSON_IsObject(opts) || !cJSON_IsObject(inputs) ||
	    !(cJSON_IsNull(conf) || cJSON_IsString(conf)))
		return -1;
	size_t n = 4, cap = (size_t)cJSON_GetArraySize(inputs) + 4;
	struct hline *l = xcalloc(cap, sizeof(*l));
	struct sbuf sb = SBUF_INIT;
	sbuf_init(&sb);
	cache__json_canonical(opts, &sb);
	/* "@task" is written by lines_digest from the strings; its value is unused */
	l[0] = (struct hline){"@format", xasprintf("%d", CACHE_HASH_FORMAT), false};
	l[1] = (struct hline){"@task", NULL, false};
	l[2] = (struct hline){"@executor", (char *)executor, true};
	l[3] = (struct hline){"@options", sbuf_detach(&sb), false};
	const cJSON *in;
	int r = 0;
	cJSON_ArrayForEach(in, inputs)
	{
		const char *h = jstr(in, "hash");
		if (!h || strlen(h) != 32 || *in->string == '@') {
			r = -1;
			break;
		}
		l[n++] = (struct hline){in->string, (char *)h, true};
	}
	if (r == 0)
		lines_digest(l, n, project, target, cJSON_IsString(conf) ? conf->valuestring : NULL,
		             out);
	for (size_t i = 0; i < n; i++)
		if (!l[i].borrowed)
			free(l[i].value);
	free(l);
	sbuf_release(&sb);
	return r;
}

void cache__files_parse(char *text, struct strmap *ret)
{
	for (char *line = text; line && *line;) {
		char *nl = strchr(line, '\n');
		if (nl)
			*nl = '\0';
		if (strlen(line) > 33 && line[32] == ' ') {
			line[32] = '\0';
			strmap_put(ret, line + 33, line);
		}
		line = nl ? nl + 1 : NULL;
	}
}
