/* test_cache.c - store, lookup, restore (byte-exact, modes, symlinks), safety, prune, commands. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <sqlite3.h>

#include "test_cache_fixture.h"
#include "../../cache/cache_int.h"

struct env {
	struct fx f;
	struct cache *c;
	char *cache_dir;
	int t;
};

static void env_init(struct env *e, const char *outputs_json)
{
	fx_init(&e->f);
	char *pj = xasprintf("{\"targets\": {\"build\": {\"command\": \"true\", \"cache\": true, "
	                     "\"outputs\": %s, \"options\": {\"outputPath\": \"dist/opt\"}}}}",
	                     outputs_json);
	int p = fx_project(&e->f, "app", "apps/app", pj);
	free(pj);
	fx_write(&e->f, "apps/app/src/main.txt", "main");
	e->t = fx_task(&e->f, p, "build");
	e->cache_dir = path_join(e->f.root, ".bld/cache");
	struct bld_err err = {0};
	assert_int_equal(cache_open(e->cache_dir, &e->c, &err), 0);
	snprintf(e->f.tg.tasks[e->t].hash, 33, "%032d", 1);
}

static void env_free(struct env *e)
{
	cache_close(e->c);
	free(e->cache_dir);
	fx_free(&e->f);
}

static char *slurp(struct env *e, const char *rel, size_t *len)
{
	char *abs = path_join(e->f.root, rel), *buf = NULL;
	if (file_read(abs, &buf, len) < 0)
		buf = NULL;
	free(abs);
	return buf;
}

static int store(struct env *e, const char *term)
{
	struct strvec outs;
	strvec_init(&outs);
	task_outputs(&e->f.ws, &e->f.tg.tasks[e->t], &outs);
	struct bld_err err = {0};
	cJSON *m = NULL;
	char h[33];
	fx_hash_env(&e->f, e->c, e->t, NULL, h, &m, &err);
	snprintf(e->f.tg.tasks[e->t].hash, 33, "%s", h);
	const struct task *t = &e->f.tg.tasks[e->t];
	char *text = m ? cJSON_PrintUnformatted(m) : NULL;
	int r = cache_store(e->c, t->hash, t->id, e->f.root, &outs, term, strlen(term), 42, text, &err);
	free(text);
	cJSON_Delete(m);
	strvec_release(&outs);
	return r;
}

static int restore(struct env *e, size_t *n, struct bld_err *err)
{
	struct cache_entry ce;
	int r = cache_lookup(e->c, e->f.tg.tasks[e->t].hash, &ce, err);
	if (r != 1)
		return r == 0 ? -1000 : r;
	r = cache_restore(e->c, &ce, e->f.root, NULL, n, err);
	cache_entry_release(&ce);
	return r;
}

static void make_outputs(struct env *e)
{
	char bin[256];
	for (int i = 0; i < 256; i++)
		bin[i] = (char)(255 - i);
	char *abs = path_join(e->f.root, "dist/app/bin.dat");
	fx_write(&e->f, "dist/app/x.txt", "");
	file_write_atomic(abs, bin, sizeof(bin), 0644);
	free(abs);
	fx_write(&e->f, "dist/app/run.sh", "#!/bin/sh\necho hi\n");
	abs = path_join(e->f.root, "dist/app/run.sh");
	chmod(abs, 0751);
	free(abs);
	fx_write(&e->f, "dist/app/sub/deep/y.txt", "deep");
	abs = path_join(e->f.root, "dist/app/empty");
	mkdir_p(abs, 0700);
	free(abs);
	abs = path_join(e->f.root, "dist/app/link");
	if (symlink("sub/deep/y.txt", abs)) {
	}
	free(abs);
	abs = path_join(e->f.root, "dist/app/x.txt");
	file_write_atomic(abs, "x", 1, 0600);
	free(abs);
}

static void check_outputs(struct env *e)
{
	size_t n;
	char *b = slurp(e, "dist/app/bin.dat", &n);
	assert_non_null(b);
	assert_int_equal(n, 256);
	for (int i = 0; i < 256; i++)
		assert_int_equal((unsigned char)b[i], 255 - i);
	free(b);
	b = slurp(e, "dist/app/sub/deep/y.txt", &n);
	assert_string_equal(b, "deep");
	free(b);
	struct stat st;
	char *abs = path_join(e->f.root, "dist/app/run.sh");
	assert_int_equal(stat(abs, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0751);
	free(abs);
	abs = path_join(e->f.root, "dist/app/x.txt");
	assert_int_equal(stat(abs, &st), 0);
	assert_int_equal(st.st_mode & 07777, 0600);
	free(abs);
	abs = path_join(e->f.root, "dist/app/empty");
	assert_int_equal(stat(abs, &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	assert_int_equal(st.st_mode & 07777, 0700);
	free(abs);
	abs = path_join(e->f.root, "dist/app/link");
	char target[256];
	ssize_t k = readlink(abs, target, sizeof(target) - 1);
	assert_true(k > 0);
	target[k] = '\0';
	assert_string_equal(target, "sub/deep/y.txt");
	free(abs);
}

/* An entry pruned between its lookup and its restore (another engine's prune, or
 * an automatic one after a parallel store) is an error the engine turns into a
 * miss: never a "hit" that restored nothing. */
static void entry_pruned_after_lookup_is_not_restored(void **state)
{
	(void)state;
	struct env e;
	env_init(&e, "[\"{workspaceRoot}/dist/{projectName}\"]");
	make_outputs(&e);
	assert_int_equal(store(&e, "built\n"), 0);
	struct cache_entry ce;
	struct bld_err err = {0};
	assert_int_equal(cache_lookup(e.c, e.f.tg.tasks[e.t].hash, &ce, &err), 1);
	struct sbuf out = SBUF_INIT;
	sbuf_init(&out);
	assert_int_equal(cache_cmd_prune(e.c, 1, &out, &err), 0);
	sbuf_release(&out);
	char *dist = path_join(e.f.root, "dist");
	rm_rf(dist);
	size_t n = 0;
	assert_true(cache_restore(e.c, &ce, e.f.root, NULL, &n, &err) < 0);
	assert_non_null(strstr(err.msg, "removed"));
	assert_int_equal(n, 0);
	cache_entry_release(&ce);
	free(dist);
	env_free(&e);
}

static void round_trip_is_byte_exact(void **state)
{
	struct env e;
	env_init(&e, "[\"{workspaceRoot}/dist/{projectName}\"]");
	make_outputs(&e);
	assert_int_equal(store(&e, "built\n\x1b[32mok\x1b[0m\n"), 0);
	struct cache_entry ce;
	struct bld_err err = {0};
	assert_int_equal(cache_lookup(e.c, e.f.tg.tasks[e.t].hash, &ce, &err), 1);
	assert_string_equal(ce.terminal, "built\n\x1b[32mok\x1b[0m\n");
	assert_string_equal(ce.task, "app:build");
	assert_int_equal(ce.duration_ms, 42);
	assert_int_equal(ce.size, 256 + 1 + 18 + 4);
	cache_entry_release(&ce);
	char *dist = path_join(e.f.root, "dist");
	rm_rf(dist);
	size_t n = 0;
	assert_int_equal(restore(&e, &n, &err), 0);
	assert_int_equal(n, 5);
	check_outputs(&e);
	/* everything matches now: nothing is written */
	assert_int_equal(restore(&e, &n, &err), 0);
	assert_int_equal(n, 0);
	free(dist);
	env_free(&e);
}

/* What a watching caller of cache_restore was told, and a change it makes at
 * once (as another process could, right after the watches are added). */
struct told {
	struct strvec dirs, roots;
	const char *root; /* the workspace */
	bool change;
	int calls;
};

static void told_cb(void *arg, const struct strvec *dirs, const struct strvec *roots)
{
	struct told *t = arg;
	t->calls++;
	strvec_release(&t->dirs);
	strvec_release(&t->roots);
	strvec_init(&t->dirs);
	strvec_init(&t->roots);
	for (size_t i = 0; i < dirs->n; i++)
		strvec_push(&t->dirs, dirs->v[i]);
	for (size_t i = 0; i < roots->n; i++)
		strvec_push(&t->roots, roots->v[i]);
	if (t->change) {
		char *abs = path_join(t->root, "dist/app/x.txt");
		file_write_atomic(abs, "y", 1, 0600);
		free(abs);
	}
}

/* A watching caller is told every folder of the outputs before anything is
 * checked, so a change made right after it starts watching is found by the
 * check (not clean: restored), and a restore that found all in place says so. */
static void a_watching_caller_is_told_the_folders_before_the_check(void **state)
{
	(void)state;
	struct env e;
	env_init(&e, "[\"{workspaceRoot}/dist/{projectName}\"]");
	make_outputs(&e);
	assert_int_equal(store(&e, "built\n"), 0);
	struct cache_entry ce;
	struct bld_err err = {0};
	assert_int_equal(cache_lookup(e.c, e.f.tg.tasks[e.t].hash, &ce, &err), 1);
	struct told t = {.root = e.f.root};
	strvec_init(&t.dirs);
	strvec_init(&t.roots);
	struct cache_restore_watch w = {.watch = told_cb, .arg = &t};
	size_t n = 0;
	assert_int_equal(cache_restore(e.c, &ce, e.f.root, &w, &n, &err), 0);
	assert_true(w.clean);
	assert_int_equal(n, 0);
	const char *dirs[] = {"", "dist", "dist/app", "dist/app/empty", "dist/app/sub",
	                      "dist/app/sub/deep"};
	assert_int_equal(t.dirs.n, ARRAY_LEN(dirs));
	for (size_t i = 0; i < ARRAY_LEN(dirs); i++)
		assert_true(strvec_find(&t.dirs, dirs[i]) >= 0);
	assert_int_equal(t.roots.n, 1);
	assert_string_equal(t.roots.v[0], "dist/app");
	t.change = true;
	assert_int_equal(cache_restore(e.c, &ce, e.f.root, &w, &n, &err), 0);
	assert_false(w.clean);
	assert_int_equal(n, 1);
	assert_int_equal(t.calls, 2);
	check_outputs(&e);
	strvec_release(&t.dirs);
	strvec_release(&t.roots);
	cache_entry_release(&ce);
	env_free(&e);
}

/* An output folder replaced by a symlink to a copy of it: the folder is made
 * again and every file below it written, though each looked in place through
 * the link. */
static void an_output_folder_became_a_symlink_is_restored_whole(void **state)
{
	(void)state;
	struct env e;
	env_init(&e, "[\"{workspaceRoot}/dist/{projectName}\"]");
	make_outputs(&e);
	assert_int_equal(store(&e, "built\n"), 0);
	char *app = path_join(e.f.root, "dist/app"), *real = path_join(e.f.root, "dist/app-real");
	assert_int_equal(rename(app, real), 0);
	assert_int_equal(symlink("app-real", app), 0);
	size_t n = 0;
	struct bld_err err = {0};
	assert_int_equal(restore(&e, &n, &err), 0);
	struct stat st;
	assert_int_equal(lstat(app, &st), 0);
	assert_true(S_ISDIR(st.st_mode));
	check_outputs(&e);
	assert_int_equal(n, 5);
	free(app);
	free(real);
	env_free(&e);
}

static void long_file_names_are_restored(void **state)
{
	struct env e;
	env_init(&e, "[\"{workspaceRoot}/dist/{projectName}\"]");
	char name[251], *rel;
	memset(name, 'n', 250);
	name[250] = '\0';
	rel = xasprintf("dist/app/%s", name);
	fx_write(&e.f, rel, "long");
	assert_int_equal(store(&e, ""), 0);
	char *dist = path_join(e.f.root, "dist");
	rm_rf(dist);
	size_t n = 0, len = 0;
	struct bld_err err = {0};
	assert_int_equal(restore(&e, &n, &err), 0);
	assert_int_equal(n, 1);
	char *b = slurp(&e, rel, &len);
	assert_string_equal(b, "long");
	free(b);
	free(dist);
	free(rel);
	env_free(&e);
}

struct outs_thread {
	struct env *e;
	int wrong;
};

static void *expand_outputs_often(void *arg)
{
	struct outs_thread *t = arg;
	for (int i = 0; i < 20000; i++) {
		struct strvec outs;
		strvec_init(&outs);
		task_outputs(&t->e->f.ws, &t->e->f.tg.tasks[t->e->t], &outs);
		if (outs.n != 1 || strcmp(outs.v[0], "deep/er/x"))
			t->wrong++;
		strvec_release(&outs);
	}
	return NULL;
}

static void outputs_expand_on_several_threads(void **state)
{
	struct env e;
	env_init(&e, "[\"{options.a.b.c}/x\"]");
	cJSON *opts = e.f.tg.tasks[e.t].options;
	cJSON *a = cJSON_AddObjectToObject(opts, "a"), *b = cJSON_AddObjectToObject(a, "b");
	cJSON_AddStringToObject(b, "c", "deep/er");
	struct outs_thread t[2] = {{&e, 0}, {&e, 0}};
	pthread_t th[2];
	for (int i = 0; i < 2; i++)
		assert_int_equal(pthread_create(&th[i], NULL, expand_outputs_often, &t[i]), 0);
	for (int i = 0; i < 2; i++)
		pthread_join(th[i], NULL);
	assert_int_equal(t[0].wrong + t[1].wrong, 0);
	env_free(&e);
}

static void restore_replaces_only_declared_outputs(void **state)
{
	struct env e;
	env_init(&e, "[\"dist/app\"]");
	make_outputs(&e);
	assert_int_equal(store(&e, ""), 0);
	fx_write(&e.f, "dist/app/sub/deep/y.txt", "edited");
	fx_write(&e.f, "dist/app/extra.txt", "extra");
	fx_write(&e.f, "dist/other/keep.txt", "keep");
	char *abs = path_join(e.f.root, "dist/app/link");
	unlink(abs);
	free(abs);
	size_t n = 0;
	struct bld_err err = {0};
	assert_int_equal(restore(&e, &n, &err), 0);
	assert_int_equal(n, 2);
	check_outputs(&e);
	size_t len;
	assert_null(slurp(&e, "dist/app/extra.txt", &len));
	char *k = slurp(&e, "dist/other/keep.txt", &len);
	assert_string_equal(k, "keep");
	free(k);
	k = slurp(&e, "apps/app/src/main.txt", &len);
	assert_string_equal(k, "main");
	free(k);
	env_free(&e);
}

static void absent_outputs_are_recorded(void **state)
{
	struct env e;
	env_init(&e, "[\"dist/missing\", \"dist/app\"]");
	make_outputs(&e);
	assert_int_equal(store(&e, ""), 0);
	fx_write(&e.f, "dist/missing/stale.txt", "stale");
	size_t n, len;
	struct bld_err err = {0};
	assert_int_equal(restore(&e, &n, &err), 0);
	assert_null(slurp(&e, "dist/missing/stale.txt", &len));
	env_free(&e);
}

static void corrupted_blob_is_detected(void **state)
{
	struct env e;
	env_init(&e, "[\"dist/app\"]");
	make_outputs(&e);
	assert_int_equal(store(&e, ""), 0);
	/* flip the bytes of the blob of y.txt */
	char h[33];
	cache__hash_bytes("deep", 4, h);
	char *blob = xasprintf("%s/blobs/%.2s/%s", e.cache_dir, h, h);
	chmod(blob, 0644);
	file_write_atomic(blob, "DEEP", 4, 0444);
	free(blob);
	fx_write(&e.f, "dist/app/sub/deep/y.txt", "mine");
	size_t n = 0, len;
	struct bld_err err = {0};
	assert_int_equal(restore(&e, &n, &err), BLD_ECORRUPT);
	char *k = slurp(&e, "dist/app/sub/deep/y.txt", &len);
	assert_string_equal(k, "mine"); /* nothing restored */
	free(k);
	struct cache_entry ce;
	assert_int_equal(cache_lookup(e.c, e.f.tg.tasks[e.t].hash, &ce, &err), 0); /* dropped */
	/* the next store of the same bytes heals the blob */
	fx_write(&e.f, "dist/app/sub/deep/y.txt", "deep");
	assert_int_equal(store(&e, ""), 0);
	fx_write(&e.f, "dist/app/sub/deep/y.txt", "mine");
	assert_int_equal(restore(&e, &n, &err), 0);
	k = slurp(&e, "dist/app/sub/deep/y.txt", &len);
	assert_string_equal(k, "deep");
	free(k);
	env_free(&e);
}

static void unsafe_outputs_are_rejected(void **state)
{
	struct env e;
	env_init(&e, "[\"../outside\"]");
	assert_int_equal(store(&e, ""), BLD_EUNSAFE);
	env_free(&e);
	env_init(&e, "[\"dist/app\"]");
	make_outputs(&e);
	assert_int_equal(store(&e, ""), 0);
	/* a crafted entry path escaping the workspace */
	sqlite3 *db;
	char *dbp = path_join(e.cache_dir, "cache.db");
	assert_int_equal(sqlite3_open(dbp, &db), SQLITE_OK);
	char *sql = xasprintf("INSERT INTO outputs VALUES('%s', '../evil', 3, 511, 0, NULL, 'x')",
	                      e.f.tg.tasks[e.t].hash);
	assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	free(sql);
	free(dbp);
	size_t n;
	struct bld_err err = {0};
	assert_int_equal(restore(&e, &n, &err), BLD_EUNSAFE);
	env_free(&e);
}

static void symlinked_parent_out_of_workspace_is_refused(void **state)
{
	struct env e;
	env_init(&e, "[\"dist/app\"]");
	make_outputs(&e);
	assert_int_equal(store(&e, ""), 0);
	char outside[] = "/tmp/bld-cache-outside-XXXXXX";
	assert_non_null(mkdtemp(outside));
	char *dist = path_join(e.f.root, "dist");
	rm_rf(dist);
	assert_int_equal(symlink(outside, dist), 0);
	size_t n;
	struct bld_err err = {0};
	assert_int_equal(restore(&e, &n, &err), BLD_EUNSAFE);
	DIR *d = opendir(outside);
	int count = 0;
	struct dirent *de;
	while ((de = readdir(d)))
		count++;
	closedir(d);
	assert_int_equal(count, 2); /* . and .. only */
	rmdir(outside);
	free(dist);
	env_free(&e);
}

static void glob_and_negated_outputs(void **state)
{
	struct env e;
	env_init(&e, "[\"dist/g/**/*.js\", \"!dist/g/skip.js\"]");
	fx_write(&e.f, "dist/g/a.js", "a");
	fx_write(&e.f, "dist/g/b/c.js", "c");
	fx_write(&e.f, "dist/g/skip.js", "s");
	fx_write(&e.f, "dist/g/note.txt", "n");
	assert_int_equal(store(&e, ""), 0);
	char *d = path_join(e.f.root, "dist");
	rm_rf(d);
	free(d);
	size_t n, len;
	struct bld_err err = {0};
	assert_int_equal(restore(&e, &n, &err), 0);
	assert_int_equal(n, 2);
	char *k = slurp(&e, "dist/g/b/c.js", &len);
	assert_string_equal(k, "c");
	free(k);
	assert_null(slurp(&e, "dist/g/skip.js", &len));
	assert_null(slurp(&e, "dist/g/note.txt", &len));
	env_free(&e);
}

static void outputs_expand_tokens_and_defaults(void **state)
{
	struct env e;
	env_init(&e, "[\"{workspaceRoot}/dist/{projectRoot}\", \"{options.outputPath}/x\", "
	             "\"{projectRoot}/{options.missing}\", \"./coverage/{projectName}\"]");
	struct strvec o;
	strvec_init(&o);
	task_outputs(&e.f.ws, &e.f.tg.tasks[e.t], &o);
	assert_int_equal(o.n, 3);
	assert_string_equal(o.v[0], "dist/apps/app");
	assert_string_equal(o.v[1], "dist/opt/x");
	assert_string_equal(o.v[2], "coverage/app");
	strvec_release(&o);
	/* no outputs: options.outputPath, else for build the Nx defaults */
	cJSON_DeleteItemFromObject(e.f.tg.tasks[e.t].target->json, "outputs");
	strvec_init(&o);
	task_outputs(&e.f.ws, &e.f.tg.tasks[e.t], &o);
	assert_int_equal(o.n, 1);
	assert_string_equal(o.v[0], "dist/opt");
	strvec_release(&o);
	/* an option holding an absolute path into the workspace */
	char *abs = path_join(e.f.root, "out/abs");
	cJSON_ReplaceItemInObject(e.f.tg.tasks[e.t].options, "outputPath", cJSON_CreateString(abs));
	free(abs);
	strvec_init(&o);
	task_outputs(&e.f.ws, &e.f.tg.tasks[e.t], &o);
	assert_int_equal(o.n, 1);
	assert_string_equal(o.v[0], "out/abs");
	strvec_release(&o);
	cJSON_DeleteItemFromObject(e.f.tg.tasks[e.t].options, "outputPath");
	strvec_init(&o);
	task_outputs(&e.f.ws, &e.f.tg.tasks[e.t], &o);
	assert_int_equal(o.n, 4);
	assert_string_equal(o.v[0], "dist/apps/app");
	assert_string_equal(o.v[1], "apps/app/dist");
	assert_string_equal(o.v[2], "apps/app/build");
	assert_string_equal(o.v[3], "apps/app/public");
	strvec_release(&o);
	env_free(&e);
}

static void prune_drops_least_recently_used(void **state)
{
	struct env e;
	env_init(&e, "[\"dist/app\"]");
	char hashes[3][33];
	char big[1000];
	memset(big, 'a', sizeof(big));
	for (int i = 0; i < 3; i++) {
		big[0] = (char)('0' + i);
		char *abs = path_join(e.f.root, "dist/app/f.bin");
		char *dir = path_dirname(abs);
		mkdir_p(dir, 0755);
		file_write_atomic(abs, big, sizeof(big), 0644);
		free(dir);
		free(abs);
		fx_write(&e.f, "apps/app/src/main.txt", i == 0 ? "0" : i == 1 ? "1" : "2");
		assert_int_equal(store(&e, ""), 0);
		memcpy(hashes[i], e.f.tg.tasks[e.t].hash, 33);
	}
	sqlite3 *db;
	char *dbp = path_join(e.cache_dir, "cache.db");
	sqlite3_open(dbp, &db);
	for (int i = 0; i < 3; i++) {
		char *sql = xasprintf("UPDATE entries SET last_used=%d WHERE hash='%s'",
		                      i == 1 ? 100 : 200 + i, hashes[i]);
		sqlite3_exec(db, sql, NULL, NULL, NULL);
		free(sql);
	}
	sqlite3_close(db);
	free(dbp);
	struct sbuf out = SBUF_INIT;
	sbuf_init(&out);
	struct bld_err err = {0};
	assert_int_equal(cache_cmd_prune(e.c, 2000, &out, &err), 0);
	assert_non_null(strstr(out.buf, "pruned 1 entry"));
	struct cache_entry ce;
	assert_int_equal(cache_lookup(e.c, hashes[1], &ce, &err), 0);
	assert_int_equal(cache_lookup(e.c, hashes[0], &ce, &err), 1);
	cache_entry_release(&ce);
	big[0] = '1';
	char h[33];
	cache__hash_bytes(big, sizeof(big), h);
	char *blob = xasprintf("%s/blobs/%.2s/%s", e.cache_dir, h, h);
	assert_false(file_exists(blob));
	free(blob);
	sbuf_release(&out);
	env_free(&e);
}

static char *old_file(struct env *e, const char *rel)
{
	char *abs = path_join(e->cache_dir, rel), *dir = path_dirname(abs);
	mkdir_p(dir, 0755);
	file_write_atomic(abs, "orphan", 6, 0444);
	struct timespec ts[2] = {{1000, 0}, {1000, 0}};
	utimensat(AT_FDCWD, abs, ts, 0);
	free(dir);
	return abs;
}

static void prune_collects_orphans(void **state)
{
	struct env e;
	env_init(&e, "[\"dist/app\"]");
	make_outputs(&e);
	assert_int_equal(store(&e, ""), 0);
	char *orphan = old_file(&e, "blobs/ab/abababababababababababababababab");
	char *tmp = old_file(&e, "blobs/tmp/put-XXXXXX");
	char *fresh = path_join(e.cache_dir, "blobs/cd/cdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcd");
	char *dir = path_dirname(fresh);
	mkdir_p(dir, 0755);
	file_write_atomic(fresh, "maybe a store in progress", 25, 0444);
	struct sbuf out = SBUF_INIT;
	sbuf_init(&out);
	struct bld_err err = {0};
	assert_int_equal(cache_cmd_prune(e.c, 1ULL << 40, &out, &err), 0);
	assert_false(file_exists(orphan));
	assert_false(file_exists(tmp));
	assert_true(file_exists(fresh)); /* younger than an hour: left alone */
	char *d = path_join(e.f.root, "dist");
	rm_rf(d);
	size_t n;
	assert_int_equal(restore(&e, &n, &err), 0); /* referenced blobs survived */
	check_outputs(&e);
	free(d);
	free(dir);
	free(orphan);
	free(tmp);
	free(fresh);
	sbuf_release(&out);
	env_free(&e);
}

static void commands_describe_entries(void **state)
{
	struct env e;
	env_init(&e, "[\"dist/app\"]");
	make_outputs(&e);
	assert_int_equal(store(&e, "log"), 0);
	struct sbuf out = SBUF_INIT;
	sbuf_init(&out);
	struct bld_err err = {0};
	assert_int_equal(cache_cmd_ls(e.c, false, &out, &err), 0);
	assert_non_null(strstr(out.buf, "app:build"));
	assert_non_null(strstr(out.buf, e.f.tg.tasks[e.t].hash));
	sbuf_reset(&out);
	char prefix[9];
	memcpy(prefix, e.f.tg.tasks[e.t].hash, 8);
	prefix[8] = '\0';
	assert_int_equal(cache_cmd_show(e.c, prefix, false, &out, &err), 0);
	assert_non_null(strstr(out.buf, "apps/app/src/main.txt"));
	assert_non_null(strstr(out.buf, "dist/app/run.sh"));
	assert_non_null(strstr(out.buf, "run time:  42 ms"));
	sbuf_reset(&out);
	assert_int_equal(cache_cmd_show(e.c, "ffffffffffff", false, &out, &err), BLD_EUSAGE);
	cache_record_run(e.c, false);
	cache_record_run(e.c, true);
	sbuf_reset(&out);
	assert_int_equal(cache_cmd_stats(e.c, false, &out, &err), 0);
	assert_non_null(strstr(out.buf, "entries:   1"));
	assert_non_null(strstr(out.buf, "50.0%"));
	/* why: an input file changed */
	fx_write(&e.f, "apps/app/src/main.txt", "edited");
	cJSON *m = NULL;
	char h[33];
	assert_int_equal(fx_hash_env(&e.f, e.c, e.t, NULL, h, &m, &err), 0);
	sbuf_reset(&out);
	assert_int_equal(cache_cmd_why(e.c, "app:build", m, &out, &err), 0);
	assert_non_null(strstr(out.buf, "changed:  apps/app/src/main.txt"));
	cJSON_Delete(m);
	sbuf_release(&out);
	env_free(&e);
}

static void second_store_of_same_hash_is_a_no_op(void **state)
{
	struct env e;
	env_init(&e, "[\"dist/app\"]");
	make_outputs(&e);
	assert_int_equal(store(&e, "one"), 0);
	assert_int_equal(store(&e, "two"), 0);
	struct cache_entry ce;
	struct bld_err err = {0};
	assert_int_equal(cache_lookup(e.c, e.f.tg.tasks[e.t].hash, &ce, &err), 1);
	assert_string_equal(ce.terminal, "one");
	cache_entry_release(&ce);
	env_free(&e);
}

static void unreadable_database_is_set_aside(void **state)
{
	struct env e;
	env_init(&e, "[\"dist/app\"]");
	make_outputs(&e);
	assert_int_equal(store(&e, ""), 0);
	cache_close(e.c);
	char *db = path_join(e.cache_dir, "cache.db");
	char junk[4096];
	memset(junk, 'j', sizeof(junk));
	file_write_atomic(db, junk, sizeof(junk), 0644);
	struct bld_err err = {0};
	assert_int_equal(cache_open(e.cache_dir, &e.c, &err), 0);
	struct cache_entry ce;
	assert_int_equal(cache_lookup(e.c, e.f.tg.tasks[e.t].hash, &ce, &err), 0);
	assert_int_equal(store(&e, ""), 0); /* usable again */
	assert_int_equal(cache_lookup(e.c, e.f.tg.tasks[e.t].hash, &ce, &err), 1);
	cache_entry_release(&ce);
	free(db);
	env_free(&e);
}

static void newer_schema_is_refused(void **state)
{
	struct env e;
	env_init(&e, "[\"dist/app\"]");
	cache_close(e.c);
	sqlite3 *db;
	char *dbp = path_join(e.cache_dir, "cache.db");
	sqlite3_open(dbp, &db);
	sqlite3_exec(db, "UPDATE meta SET value='99' WHERE key='schema'", NULL, NULL, NULL);
	sqlite3_close(db);
	free(dbp);
	struct bld_err err = {0};
	e.c = NULL;
	assert_int_equal(cache_open(e.cache_dir, &e.c, &err), BLD_ECACHE);
	assert_non_null(strstr(err.msg, "schema 99"));
	env_free(&e);
}

static void sizes_parse(void **state)
{
	assert_int_equal(cache_parse_size("10G"), 10ULL << 30);
	assert_int_equal(cache_parse_size("512m"), 512ULL << 20);
	assert_int_equal(cache_parse_size("1000"), 1000);
	assert_int_equal(cache_parse_size("x"), 0);
	assert_int_equal(cache_parse_size("nan"), 0);
	assert_true(cache_parse_size("1e30G") == UINT64_MAX);
}

static void cache_open_reads_no_environment(void **state)
{
	struct env e;
	setenv("BLD_CACHE_MAX_SIZE", "1", 1); /* the engine's own: not the request's */
	env_init(&e, "[]");
	assert_int_equal(e.c->max_size, 0);
	unsetenv("BLD_CACHE_MAX_SIZE");
	env_free(&e);
}

static void cache_dir_comes_from_the_request_env(void **state)
{
	char *const none[] = {"HOME=/h", NULL};
	char *const rel[] = {"BLD_CACHE_DIR=../shared/c", NULL};
	char *const abs[] = {"BLD_CACHE_DIR=/var/c", NULL};
	char *d = cache_default_dir("/w", none, "/w/sub");
	assert_string_equal(d, "/w/.bld/cache");
	free(d);
	d = cache_default_dir("/w", rel, "/w/sub");
	assert_string_equal(d, "/w/shared/c");
	free(d);
	d = cache_default_dir("/w", abs, "/w/sub");
	assert_string_equal(d, "/var/c");
	free(d);
}

static void oversized_terminal_output_is_not_cached(void **state)
{
	struct env e;
	env_init(&e, "[\"{workspaceRoot}/dist/{projectName}\"]");
	make_outputs(&e);
	struct strvec outs;
	strvec_init(&outs);
	task_outputs(&e.f.ws, &e.f.tg.tasks[e.t], &outs);
	struct bld_err err = {0};
	/* refused before the terminal bytes are read */
	const struct task *t = &e.f.tg.tasks[e.t];
	assert_int_equal(cache_store(e.c, t->hash, t->id, e.f.root, &outs, "x",
	                             (size_t)CACHE_MAX_TERMINAL + 1, 1, NULL, &err),
	                 BLD_ETOOBIG);
	assert_non_null(strstr(err.msg, "not cached"));
	struct cache_entry ce;
	assert_int_equal(cache_lookup(e.c, e.f.tg.tasks[e.t].hash, &ce, &err), 0);
	strvec_release(&outs);
	env_free(&e);
}

/* The stored hook: something appends to the output while bld copies it. */
static void append_while_stored(const char *abs, void *arg)
{
	int *calls = arg;
	if ((*calls)++ == 0) {
		FILE *fp = fopen(abs, "a");
		fputs("more", fp);
		fclose(fp);
	}
}

static void output_changed_while_stored_makes_no_entry(void **state)
{
	struct env e;
	env_init(&e, "[\"{workspaceRoot}/dist/{projectName}\"]");
	make_outputs(&e);
	int calls = 0;
	e.c->stored_hook = append_while_stored;
	e.c->stored_hook_arg = &calls;
	assert_int_equal(store(&e, "term"), BLD_ECACHE);
	assert_int_equal(calls, 1);
	struct bld_err err = {0};
	struct cache_entry ce;
	assert_int_equal(cache_lookup(e.c, e.f.tg.tasks[e.t].hash, &ce, &err), 0);
	e.c->stored_hook = NULL; /* unchanged outputs: stored */
	assert_int_equal(store(&e, "term"), 0);
	assert_int_equal(cache_lookup(e.c, e.f.tg.tasks[e.t].hash, &ce, &err), 1);
	cache_entry_release(&ce);
	env_free(&e);
}

static void task_lock_excludes_a_second_taker_until_released(void **state)
{
	struct env e;
	env_init(&e, "[]");
	const char *h = "0123456789abcdef0123456789abcdef";
	struct bld_err err = {0};
	struct cache_task_lock *a = NULL, *b = NULL;
	assert_int_equal(cache_task_lock_try(e.c, h, &a, &err), 1);
	assert_int_equal(cache_task_lock_try(e.c, h, &b, &err), 0); /* even in one process */
	assert_null(b);
	assert_int_equal(cache_task_lock_try(e.c, "fedcba9876543210fedcba9876543210", &b, &err), 1);
	cache_task_lock_release(b);
	cache_task_lock_release(a);
	assert_int_equal(cache_task_lock_try(e.c, h, &a, &err), 1);
	cache_task_lock_release(a);
	cache_task_lock_release(NULL);
	assert_true(cache_task_lock_try(e.c, "../x", &a, &err) < 0);
	env_free(&e);
}

/* Names in dir, but . and .. */
static size_t count_entries(const char *dir)
{
	DIR *d = opendir(dir);
	size_t n = 0;
	struct dirent *de;
	while (d && (de = readdir(d)))
		n += strcmp(de->d_name, ".") && strcmp(de->d_name, "..");
	if (d)
		closedir(d);
	return n;
}

/* This process's open fds on files under dir. */
static size_t fds_under(const char *dir)
{
	DIR *d = opendir("/proc/self/fd");
	size_t n = 0;
	struct dirent *de;
	char link[4096];
	while (d && (de = readdir(d))) {
		char *p = xasprintf("/proc/self/fd/%s", de->d_name);
		ssize_t len = readlink(p, link, sizeof(link) - 1);
		free(p);
		if (len > 0) {
			link[len] = '\0';
			n += str_starts(link, dir);
		}
	}
	if (d)
		closedir(d);
	return n;
}

/* A lock makes no file of its own: one file holds every task's lock (making and
 * removing a file per task was most of a daemon's CPU in a cold build), and the
 * process opens it once, not once per lock (every spawned child copies the fd
 * table and closes each copy at exec). */
static void task_locks_share_one_file(void **state)
{
	struct env e;
	env_init(&e, "[]");
	struct bld_err err = {0};
	struct cache_task_lock *l[3] = {NULL};
	const char *h[3] = {"00000000000000000000000000000001", "10000000000000000000000000000000",
	                    "fffffffffffffff0ffffffffffffffff"};
	for (int i = 0; i < 3; i++)
		assert_int_equal(cache_task_lock_try(e.c, h[i], &l[i], &err), 1);
	char *dir = xasprintf("%s/locks", e.cache_dir);
	assert_int_equal(count_entries(dir), 1);
	assert_int_equal(fds_under(dir), 1);
	for (int i = 0; i < 3; i++)
		cache_task_lock_release(l[i]);
	assert_int_equal(count_entries(dir), 1);
	assert_int_equal(fds_under(dir), 0);
	free(dir);
	env_free(&e);
}

static void task_lock_is_released_when_its_holder_dies(void **state)
{
	struct env e;
	env_init(&e, "[]");
	const char *h = "00000000000000000000000000000042";
	struct bld_err err = {0};
	int go[2], ready[2];
	assert_int_equal(pipe(go), 0);
	assert_int_equal(pipe(ready), 0);
	pid_t pid = fork();
	if (pid == 0) {
		close(go[1]);
		struct cache_task_lock *l = NULL;
		char c = cache_task_lock_try(e.c, h, &l, &err) == 1 ? 'y' : 'n';
		if (write(ready[1], &c, 1) != 1 || read(go[0], &c, 1) < 0)
			_exit(1);
		_exit(0); /* dies holding it */
	}
	char c = 0;
	assert_int_equal(read(ready[0], &c, 1), 1);
	assert_int_equal(c, 'y');
	struct cache_task_lock *l = NULL;
	assert_int_equal(cache_task_lock_try(e.c, h, &l, &err), 0);
	close(go[1]);
	int st;
	waitpid(pid, &st, 0);
	assert_int_equal(cache_task_lock_try(e.c, h, &l, &err), 1);
	cache_task_lock_release(l);
	close(go[0]);
	close(ready[0]);
	close(ready[1]);
	env_free(&e);
}

/* Prune removes the per-task lock files of older engines that died holding them,
 * keeps one still held, and keeps the shared lock file. */
static void prune_removes_stale_lock_files_of_older_engines(void **state)
{
	struct env e;
	env_init(&e, "[]");
	struct bld_err err = {0};
	struct cache_task_lock *l = NULL;
	assert_int_equal(cache_task_lock_try(e.c, "00000000000000000000000000000042", &l, &err), 1);
	char *stale = xasprintf("%s/locks/00000000000000000000000000000043.lock", e.cache_dir);
	char *held = xasprintf("%s/locks/00000000000000000000000000000044.lock", e.cache_dir);
	char *shared = xasprintf("%s/locks/tasks", e.cache_dir);
	assert_int_equal(file_write_atomic(stale, "", 0, 0644), 0);
	assert_int_equal(file_write_atomic(held, "", 0, 0644), 0);
	int fd = open(held, O_RDWR);
	assert_true(fd >= 0);
	assert_int_equal(flock(fd, LOCK_EX), 0);
	cache_task_lock_release(l); /* the shared file stays even when nobody holds a byte */
	cache__gc_locks(e.c);
	assert_false(file_exists(stale));
	assert_true(file_exists(held));
	assert_true(file_exists(shared));
	close(fd);
	free(stale);
	free(held);
	free(shared);
	env_free(&e);
}

/* ---- artifacts (the remote cache's body) ---- */

static struct cache *second_cache(struct env *e, const char *name)
{
	char *dir = path_join(e->f.root, name);
	struct cache *c = NULL;
	struct bld_err err = {0};
	assert_int_equal(cache_open(dir, &c, &err), 0);
	free(dir);
	return c;
}

/* dist/ removed, then restored from e->c alone: byte-exact, with the entry's
 * terminal output and duration. */
static void restored_from_the_copy(struct env *e, const char *hash)
{
	struct bld_err err = {0};
	char *dist = path_join(e->f.root, "dist");
	rm_rf(dist);
	size_t n = 0;
	assert_int_equal(restore(e, &n, &err), 0);
	assert_int_equal(n, 5);
	check_outputs(e);
	struct cache_entry ce;
	assert_int_equal(cache_lookup(e->c, hash, &ce, &err), 1);
	assert_string_equal(ce.terminal, "built\n");
	assert_int_equal(ce.duration_ms, 42);
	cache_entry_release(&ce);
	free(dist);
}

static void artifact_round_trip_restores_byte_exact(void **state)
{
	struct env e;
	env_init(&e, "[\"{workspaceRoot}/dist/{projectName}\"]");
	make_outputs(&e);
	assert_int_equal(store(&e, "built\n"), 0);
	const char *hash = e.f.tg.tasks[e.t].hash;
	struct sbuf art = SBUF_INIT;
	sbuf_init(&art);
	struct bld_err err = {0};
	assert_int_equal(cache_artifact_export(e.c, hash, &art, &err), 0);
	assert_memory_equal(art.buf, "BLDA\1\0\0\0", 8);
	/* another machine's empty cache imports it, then restores from it */
	cache_close(e.c);
	e.c = second_cache(&e, "other-cache");
	assert_int_equal(cache_has(e.c, hash), 0);
	assert_int_equal(cache_artifact_import(e.c, hash, "app:build", art.buf, art.len, &err), 0);
	assert_int_equal(cache_has(e.c, hash), 1);
	restored_from_the_copy(&e, hash);
	sbuf_release(&art);
	env_free(&e);
}

/* Import art (possibly changed) into a fresh cache: the code, and no entry on refusal. */
static int import_fresh(struct env *e, const char *name, const char *hash, const char *task,
                        const char *data, size_t len)
{
	struct cache *c = second_cache(e, name);
	struct bld_err err = {0};
	int r = cache_artifact_import(c, hash, task, data, len, &err);
	if (r < 0)
		assert_int_equal(cache_has(c, hash), 0);
	cache_close(c);
	return r;
}

static void artifact_damage_is_refused(void **state)
{
	struct env e;
	env_init(&e, "[\"{workspaceRoot}/dist/{projectName}\"]");
	make_outputs(&e);
	assert_int_equal(store(&e, "built\n"), 0);
	char hash[33];
	snprintf(hash, sizeof(hash), "%s", e.f.tg.tasks[e.t].hash);
	struct sbuf art = SBUF_INIT;
	sbuf_init(&art);
	struct bld_err err = {0};
	assert_int_equal(cache_artifact_export(e.c, hash, &art, &err), 0);
	assert_int_equal(import_fresh(&e, "c0", hash, "app:build", art.buf, art.len), 0);
	/* truncated, padded, a flipped byte, another task, another hash, not an artifact */
	assert_int_equal(import_fresh(&e, "c1", hash, "app:build", art.buf, art.len / 2),
	                 BLD_ECORRUPT);
	sbuf_addc(&art, 'x');
	assert_int_equal(import_fresh(&e, "c2", hash, "app:build", art.buf, art.len),
	                 BLD_ECORRUPT);
	art.len--;
	art.buf[art.len / 2] ^= 0x40;
	assert_int_equal(import_fresh(&e, "c3", hash, "app:build", art.buf, art.len),
	                 BLD_ECORRUPT);
	art.buf[art.len / 2] ^= 0x40;
	assert_int_equal(import_fresh(&e, "c4", hash, "other:build", art.buf, art.len),
	                 BLD_ECORRUPT);
	char other[33];
	memcpy(other, hash, 33);
	other[0] = other[0] == 'a' ? 'b' : 'a';
	assert_int_equal(import_fresh(&e, "c5", other, "app:build", art.buf, art.len),
	                 BLD_ECORRUPT);
	assert_int_equal(import_fresh(&e, "c6", hash, "app:build", "hello", 5), BLD_ECORRUPT);
	sbuf_release(&art);
	env_free(&e);
}

/* ---- backends: store_copy through the ops ---- */

static void store_copy_between_local_backends_restores_byte_exact(void **state)
{
	struct env e;
	env_init(&e, "[\"{workspaceRoot}/dist/{projectName}\"]");
	make_outputs(&e);
	assert_int_equal(store(&e, "built\n"), 0);
	char hash[33];
	snprintf(hash, sizeof(hash), "%s", e.f.tg.tasks[e.t].hash);
	struct cache *other = second_cache(&e, "other-cache");
	struct store_backend *from = cache_backend(e.c), *to = cache_backend(other);
	assert_string_equal(from->ops->name, "local");
	struct bld_err err = {0};
	assert_int_equal(store_copy(from, to, hash, "app:build", &err), 1);
	assert_int_equal(store_copy(from, to, hash, "app:build", &err), 1); /* there already */
	char missing[33];
	memcpy(missing, hash, 33);
	missing[0] = missing[0] == 'a' ? 'b' : 'a';
	assert_int_equal(store_copy(from, to, missing, "app:build", &err), 0);
	/* the entry belongs to app:build; asked for as another task it is refused */
	assert_int_equal(store_copy(to, from, hash, "other:build", &err), BLD_ECORRUPT);
	/* restored from the copy alone */
	cache_close(e.c);
	e.c = other;
	restored_from_the_copy(&e, hash);
	env_free(&e);
}

static void store_copy_never_copies_a_damaged_blob(void **state)
{
	struct env e;
	env_init(&e, "[\"dist/app\"]");
	make_outputs(&e);
	assert_int_equal(store(&e, ""), 0);
	char h[33];
	cache__hash_bytes("deep", 4, h);
	char *blob = xasprintf("%s/blobs/%.2s/%s", e.cache_dir, h, h);
	chmod(blob, 0644);
	file_write_atomic(blob, "DEEP", 4, 0444);
	free(blob);
	struct cache *other = second_cache(&e, "other-cache");
	struct bld_err err = {0};
	const char *hash = e.f.tg.tasks[e.t].hash;
	assert_int_equal(store_copy(cache_backend(e.c), cache_backend(other), hash, "app:build",
	                            &err),
	                 BLD_ECORRUPT);
	assert_int_equal(cache_has(other, hash), 0);
	cache_close(other);
	env_free(&e);
}

static void manifest_rehashes_to_the_task_hash(void **state)
{
	struct env e;
	env_init(&e, "[\"{workspaceRoot}/dist/{projectName}\"]");
	struct bld_err err = {0};
	cJSON *m = NULL;
	char h[33], again[33];
	fx_hash_env(&e.f, e.c, e.t, NULL, h, &m, &err);
	assert_int_equal(cache__manifest_hash(m, again), 0);
	assert_string_equal(again, h);
	/* any change of what went in gives another hash */
	cJSON *in = cJSON_GetObjectItem(m, "inputs")->child;
	cJSON_ReplaceItemInObject(in, "hash", cJSON_CreateString("0123456789abcdef0123456789abcdef"));
	assert_int_equal(cache__manifest_hash(m, again), 0);
	assert_string_not_equal(again, h);
	cJSON_DeleteItemFromObject(m, "executor");
	assert_int_equal(cache__manifest_hash(m, again), -1);
	cJSON_Delete(m);
	env_free(&e);
}

/* n entries of app:build (inputs "0".."n-1"), each with a terminal output
 * of term_len bytes; their hashes into hashes[i]. */
static void store_n(struct env *e, int n, size_t term_len, char (*hashes)[33])
{
	char *term = xmalloc(term_len + 1);
	memset(term, 't', term_len);
	term[term_len] = '\0';
	make_outputs(e);
	for (int i = 0; i < n; i++) {
		char in[16];
		snprintf(in, sizeof(in), "%d", i);
		fx_write(&e->f, "apps/app/src/main.txt", in);
		assert_int_equal(store(e, term), 0);
		memcpy(hashes[i], e->f.tg.tasks[e->t].hash, 33);
	}
	free(term);
}

static int count_frames(void *arg, sqlite3 *db, const char *name, int frames)
{
	(void)db;
	(void)name;
	*(int *)arg = frames;
	return SQLITE_OK;
}

/* A hit is bookkeeping (hits, last use, the hit rate): writing the hits of a
 * run must not rewrite each entry's own page (its terminal output and
 * manifest), which made a fully cached run write megabytes of WAL. */
static void hits_are_written_without_rewriting_entries(void **state)
{
	(void)state;
	struct env e;
	env_init(&e, "[\"dist/app\"]");
	enum { N = 16 };
	char hashes[N][33];
	store_n(&e, N, 3000, hashes);
	struct bld_err err = {0};
	for (int i = 0; i < N; i++) {
		struct cache_entry ce;
		assert_int_equal(cache_lookup(e.c, hashes[i], &ce, &err), 1);
		size_t n;
		assert_int_equal(cache_restore(e.c, &ce, e.f.root, NULL, &n, &err), 0);
		cache_entry_release(&ce);
	}
	assert_int_equal(sqlite3_wal_checkpoint_v2(e.c->db, NULL, SQLITE_CHECKPOINT_TRUNCATE, NULL,
	                                           NULL),
	                 SQLITE_OK);
	int frames = -1;
	sqlite3_wal_hook(e.c->db, count_frames, &frames);
	cache_flush(e.c);
	sqlite3_wal_autocheckpoint(e.c->db, 1000);
	assert_true(frames > 0);
	assert_true(frames <= 4); /* before: one page per entry hit, and more */
	/* and they count */
	struct sbuf out = SBUF_INIT;
	sbuf_init(&out);
	assert_int_equal(cache_cmd_show(e.c, hashes[3], true, &out, &err), 0);
	cJSON *o = cJSON_Parse(out.buf);
	assert_int_equal(cJSON_GetObjectItem(o, "hits")->valueint, 1);
	assert_true(cJSON_GetObjectItem(o, "last_used")->valuedouble >=
	            cJSON_GetObjectItem(o, "created")->valuedouble);
	cJSON_Delete(o);
	sbuf_reset(&out);
	assert_int_equal(cache_cmd_ls(e.c, false, &out, &err), 0);
	assert_non_null(strstr(out.buf, "    1\n"));
	sbuf_release(&out);
	env_free(&e);
}

static int64_t usage_rows(struct cache *c)
{
	sqlite3_stmt *q;
	assert_int_equal(sqlite3_prepare_v2(c->db, "SELECT COUNT(*) FROM usage", -1, &q, NULL),
	                 SQLITE_OK);
	assert_int_equal(sqlite3_step(q), SQLITE_ROW);
	int64_t n = sqlite3_column_int64(q, 0);
	sqlite3_finalize(q);
	return n;
}

/* A hit of an entry another engine prunes before the hit is written leaves
 * no usage row behind; hits of one entry in one flush add up. */
static void hits_of_a_pruned_entry_are_dropped(void **state)
{
	(void)state;
	struct env e;
	env_init(&e, "[\"dist/app\"]");
	char hashes[2][33];
	store_n(&e, 2, 0, hashes);
	cache__touch(e.c, hashes[0]);
	cache__touch(e.c, hashes[0]);
	cache__touch(e.c, hashes[1]);
	struct cache *other;
	struct bld_err err = {0};
	assert_int_equal(cache_open(e.cache_dir, &other, &err), 0);
	pthread_mutex_lock(&other->lock);
	assert_int_equal(cache__begin(other, &err), 0);
	assert_int_equal(cache__entry_delete(other, hashes[1]), 0);
	assert_int_equal(cache__commit(other, &err), 0);
	pthread_mutex_unlock(&other->lock);
	cache_close(other);
	cache_flush(e.c);
	assert_int_equal(usage_rows(e.c), 1);
	struct sbuf out = SBUF_INIT;
	sbuf_init(&out);
	assert_int_equal(cache_cmd_show(e.c, hashes[0], true, &out, &err), 0);
	cJSON *o = cJSON_Parse(out.buf);
	assert_int_equal(cJSON_GetObjectItem(o, "hits")->valueint, 2);
	cJSON_Delete(o);
	sbuf_release(&out);
	cache__touch(e.c, hashes[0]); /* an UPDATE of the row now */
	cache_flush(e.c);
	sbuf_init(&out);
	assert_int_equal(cache_cmd_show(e.c, hashes[0], true, &out, &err), 0);
	o = cJSON_Parse(out.buf);
	assert_int_equal(cJSON_GetObjectItem(o, "hits")->valueint, 3);
	cJSON_Delete(o);
	sbuf_release(&out);
	env_free(&e);
}

/* The hits of an entry decide what prune keeps: least recently used goes
 * first, whether its last use is in usage or in the entries row. */
static void prune_keeps_the_entry_hit_last(void **state)
{
	(void)state;
	struct env e;
	env_init(&e, "[\"dist/app\"]");
	char hashes[3][33];
	store_n(&e, 3, 0, hashes);
	char *sql = xasprintf("UPDATE entries SET last_used=100, created=100; "
	                      "UPDATE entries SET last_used=300 WHERE hash='%s'",
	                      hashes[2]);
	assert_int_equal(sqlite3_exec(e.c->db, sql, NULL, NULL, NULL), SQLITE_OK);
	free(sql);
	cache__touch(e.c, hashes[0]); /* now: the newest use */
	struct sbuf out = SBUF_INIT;
	sbuf_init(&out);
	struct bld_err err = {0};
	assert_int_equal(cache_cmd_prune(e.c, 300, &out, &err), 0); /* room for one */
	assert_non_null(strstr(out.buf, "pruned 2 entries"));
	assert_int_equal(cache_has(e.c, hashes[0]), 1);
	assert_int_equal(cache_has(e.c, hashes[1]), 0);
	assert_int_equal(cache_has(e.c, hashes[2]), 0);
	sbuf_release(&out);
	env_free(&e);
}

static void stats_contains(struct env *e, const char *want)
{
	struct sbuf out = SBUF_INIT;
	sbuf_init(&out);
	struct bld_err err = {0};
	assert_int_equal(cache_cmd_stats(e->c, false, &out, &err), 0);
	if (!strstr(out.buf, want))
		fail_msg("stats lack \"%s\":\n%s", want, out.buf);
	sbuf_release(&out);
}

/* `cache stats` gives the hit rate of the last 1,000 runs. */
static void hit_rate_is_of_the_last_thousand_runs(void **state)
{
	(void)state;
	struct env e;
	env_init(&e, "[\"dist/app\"]");
	stats_contains(&e, "hit rate:  0.0% of the last 0 runs (0 hits)");
	for (int i = 0; i < 500; i++)
		cache_record_run(e.c, false);
	cache_flush(e.c);
	for (int i = 0; i < 1000; i++)
		cache_record_run(e.c, true);
	stats_contains(&e, "hit rate:  100.0% of the last 1000 runs (1000 hits)");
	cache_record_run(e.c, false);
	cache_close(e.c);
	struct bld_err err = {0};
	assert_int_equal(cache_open(e.cache_dir, &e.c, &err), 0);
	stats_contains(&e, "hit rate:  99.9% of the last 1000 runs (999 hits)");
	env_free(&e);
}

/* A cache written by a bld that kept a row per run in a table runs: its
 * newest runs carry over into the hit rate, and the table goes. */
static void run_history_of_an_older_bld_carries_over(void **state)
{
	(void)state;
	struct env e;
	env_init(&e, "[\"dist/app\"]");
	assert_int_equal(
	    sqlite3_exec(e.c->db,
	                 "DELETE FROM meta WHERE key='recent_runs';"
	                 "CREATE TABLE runs(id INTEGER PRIMARY KEY, task TEXT NOT NULL, hash TEXT "
	                 "NOT NULL, source TEXT NOT NULL, exit_code INTEGER NOT NULL, duration_ms "
	                 "INTEGER NOT NULL, at INTEGER NOT NULL);"
	                 "INSERT INTO runs(task, hash, source, exit_code, duration_ms, at) VALUES"
	                 "('a:b', 'h', 'miss', 0, 1, 1), ('a:b', 'h', 'local', 0, 1, 2),"
	                 "('a:b', 'h', 'remote', 0, 1, 3)",
	                 NULL, NULL, NULL),
	    SQLITE_OK);
	cache_close(e.c);
	struct bld_err err = {0};
	assert_int_equal(cache_open(e.cache_dir, &e.c, &err), 0);
	stats_contains(&e, "hit rate:  66.7% of the last 3 runs (2 hits)");
	cache_record_run(e.c, false);
	stats_contains(&e, "hit rate:  50.0% of the last 4 runs (2 hits)");
	sqlite3_stmt *q;
	assert_int_equal(sqlite3_prepare_v2(e.c->db, "SELECT 1 FROM runs", -1, &q, NULL),
	                 SQLITE_ERROR);
	env_free(&e);
}

/* Counts the statements that read entries or their rows. */
static int count_entry_reads(unsigned type, void *arg, void *stmt, void *sql)
{
	(void)type;
	(void)sql;
	const char *q = sqlite3_sql(stmt);
	if (strstr(q, "FROM entries") || strstr(q, "FROM outputs"))
		++*(int *)arg;
	return 0;
}

/* A handle kept open (the daemon's) answers the lookup and the rows of an
 * entry it read before from memory: a cached run asks SQLite nothing per hit
 * for them, also after another engine wrote what leaves entries as they were
 * (its hits, a new entry). */
static void kept_handle_reads_a_known_entry_once(void **state)
{
	(void)state;
	struct env e;
	env_init(&e, "[\"dist/app\"]");
	make_outputs(&e);
	assert_int_equal(store(&e, "built\n"), 0);
	struct bld_err err = {0};
	struct cache_entry ce;
	char hash[33];
	memcpy(hash, e.f.tg.tasks[e.t].hash, sizeof(hash));
	assert_int_equal(cache_lookup(e.c, hash, &ce, &err), 1);
	cache_entry_release(&ce);
	struct cache *kept = e.c;
	assert_int_equal(cache_open(e.cache_dir, &e.c, &err), 0);
	cache__touch(e.c, hash);
	fx_write(&e.f, "apps/app/src/main.txt", "another input");
	assert_int_equal(store(&e, "another\n"), 0);
	cache_close(e.c);
	e.c = kept;
	usleep(20 * 1000); /* past the kept handle's check interval */
	struct cache_entry db = {0}; /* the rows as the database has them */
	pthread_mutex_lock(&e.c->lock);
	assert_int_equal(cache__entry_rows_read(e.c, hash, &db, &err), 1);
	pthread_mutex_unlock(&e.c->lock);
	int selects = 0;
	sqlite3_trace_v2(e.c->db, SQLITE_TRACE_STMT, count_entry_reads, &selects);
	for (int i = 0; i < 2; i++) {
		assert_int_equal(cache_lookup(e.c, hash, &ce, &err), 1);
		assert_string_equal(ce.terminal, "built\n");
		assert_string_equal(ce.task, "app:build");
		assert_int_equal(ce.duration_ms, 42);
		pthread_mutex_lock(&e.c->lock);
		assert_int_equal(cache__entry_rows(e.c, hash, &ce, &err), 1);
		pthread_mutex_unlock(&e.c->lock);
		assert_int_equal(ce.nrows, 9); /* dist/app and the 8 paths below it */
		assert_int_equal(ce.nrows, db.nrows);
		for (size_t r = 0; r < ce.nrows; r++) {
			assert_string_equal(ce.rows[r].path, db.rows[r].path);
			assert_int_equal(ce.rows[r].kind, db.rows[r].kind);
			assert_int_equal(ce.rows[r].mode, db.rows[r].mode);
			assert_int_equal(ce.rows[r].size, db.rows[r].size);
			assert_string_equal(ce.rows[r].blob, db.rows[r].blob);
			assert_true(!ce.rows[r].link == !db.rows[r].link);
			if (ce.rows[r].link)
				assert_string_equal(ce.rows[r].link, db.rows[r].link);
		}
		assert_int_equal(ce.declared.n, 1);
		assert_string_equal(ce.declared.v[0], "dist/app");
		cache_entry_release(&ce);
	}
	sqlite3_trace_v2(e.c->db, 0, NULL, NULL);
	assert_int_equal(selects, 0);
	cache_entry_release(&db);
	env_free(&e);
}

/* What a handle keeps is forgotten once another connection deletes an
 * entry: an entry pruned by another engine is a miss, and the same hash stored again by it
 * (another run of the task) is read afresh. */
static void kept_entry_is_forgotten_when_another_engine_deletes(void **state)
{
	(void)state;
	struct env e;
	env_init(&e, "[\"dist/app\"]");
	make_outputs(&e);
	assert_int_equal(store(&e, "one\n"), 0);
	struct bld_err err = {0};
	struct cache_entry ce;
	const char *hash = e.f.tg.tasks[e.t].hash;
	assert_int_equal(cache_lookup(e.c, hash, &ce, &err), 1);
	cache_entry_release(&ce);
	struct cache *kept = e.c, *other;
	assert_int_equal(cache_open(e.cache_dir, &other, &err), 0);
	struct sbuf out = SBUF_INIT;
	sbuf_init(&out);
	assert_int_equal(cache_cmd_prune(other, 0, &out, &err), 0);
	sbuf_release(&out);
	usleep(20 * 1000); /* past the kept handle's check interval */
	assert_int_equal(cache_lookup(kept, hash, &ce, &err), 0);
	e.c = other;
	assert_int_equal(store(&e, "two\n"), 0);
	e.c = kept;
	usleep(20 * 1000);
	assert_int_equal(cache_lookup(kept, hash, &ce, &err), 1);
	assert_string_equal(ce.terminal, "two\n");
	cache_entry_release(&ce);
	cache_close(other);
	env_free(&e);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(round_trip_is_byte_exact),
	    cmocka_unit_test(hits_are_written_without_rewriting_entries),
	    cmocka_unit_test(prune_keeps_the_entry_hit_last),
	    cmocka_unit_test(hits_of_a_pruned_entry_are_dropped),
	    cmocka_unit_test(hit_rate_is_of_the_last_thousand_runs),
	    cmocka_unit_test(run_history_of_an_older_bld_carries_over),
	    cmocka_unit_test(kept_handle_reads_a_known_entry_once),
	    cmocka_unit_test(kept_entry_is_forgotten_when_another_engine_deletes),
	    cmocka_unit_test(entry_pruned_after_lookup_is_not_restored),
	    cmocka_unit_test(a_watching_caller_is_told_the_folders_before_the_check),
	    cmocka_unit_test(an_output_folder_became_a_symlink_is_restored_whole),
	    cmocka_unit_test(artifact_round_trip_restores_byte_exact),
	    cmocka_unit_test(artifact_damage_is_refused),
	    cmocka_unit_test(store_copy_between_local_backends_restores_byte_exact),
	    cmocka_unit_test(store_copy_never_copies_a_damaged_blob),
	    cmocka_unit_test(manifest_rehashes_to_the_task_hash),
	    cmocka_unit_test(long_file_names_are_restored),
	    cmocka_unit_test(outputs_expand_on_several_threads),
	    cmocka_unit_test(restore_replaces_only_declared_outputs),
	    cmocka_unit_test(absent_outputs_are_recorded),
	    cmocka_unit_test(corrupted_blob_is_detected),
	    cmocka_unit_test(unsafe_outputs_are_rejected),
	    cmocka_unit_test(symlinked_parent_out_of_workspace_is_refused),
	    cmocka_unit_test(glob_and_negated_outputs),
	    cmocka_unit_test(outputs_expand_tokens_and_defaults),
	    cmocka_unit_test(prune_drops_least_recently_used),
	    cmocka_unit_test(prune_collects_orphans),
	    cmocka_unit_test(commands_describe_entries),
	    cmocka_unit_test(second_store_of_same_hash_is_a_no_op),
	    cmocka_unit_test(unreadable_database_is_set_aside),
	    cmocka_unit_test(newer_schema_is_refused),
	    cmocka_unit_test(sizes_parse),
	    cmocka_unit_test(cache_open_reads_no_environment),
	    cmocka_unit_test(cache_dir_comes_from_the_request_env),
	    cmocka_unit_test(oversized_terminal_output_is_not_cached),
	    cmocka_unit_test(output_changed_while_stored_makes_no_entry),
	    cmocka_unit_test(task_lock_excludes_a_second_taker_until_released),
	    cmocka_unit_test(task_locks_share_one_file),
	    cmocka_unit_test(task_lock_is_released_when_its_holder_dies),
	    cmocka_unit_test(prune_removes_stale_lock_files_of_older_engines),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
