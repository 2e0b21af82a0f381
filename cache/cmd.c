/*
 * cmd.c - `bld cache ls | show | stats | prune | why` rendered as text (or
 * JSON) into a caller's buffer.
 */
#include "cache_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void human_size(uint64_t n, char *buf, size_t size)
{
	const char *u[] = {"B", "KiB", "MiB", "GiB", "TiB"};
	double v = (double)n;
	size_t i = 0;
	while (v >= 1024 && i + 1 < ARRAY_LEN(u)) {
		v /= 1024;
		i++;
	}
	if (i == 0)
		snprintf(buf, size, "%llu B", (unsigned long long)n);
	else
		snprintf(buf, size, "%.1f %s", v, u[i]);
}

static void human_age(int64_t secs, char *buf, size_t size)
{
	if (secs < 0)
		secs = 0;
	if (secs < 120)
		snprintf(buf, size, "%llds", (long long)secs);
	else if (secs < 7200)
		snprintf(buf, size, "%lldm", (long long)secs / 60);
	else if (secs < 172800)
		snprintf(buf, size, "%lldh", (long long)secs / 3600);
	else
		snprintf(buf, size, "%lldd", (long long)secs / 86400);
}

static void emit_json(cJSON *j, struct sbuf *out)
{
	char *s = cJSON_Print(j);
	sbuf_adds(out, s);
	sbuf_addc(out, '\n');
	free(s);
	cJSON_Delete(j);
}

int cache_cmd_ls(struct cache *c, bool json, struct sbuf *out, struct bld_err *err)
{
	cache__flush_usage(c);
	sqlite3_stmt *q;
	pthread_mutex_lock(&c->lock);
	if (sqlite3_prepare_v2(c->db,
	                       "SELECT e.task, e.hash, e.size, e.created, "
	                       "e.hits + COALESCE(u.hits, 0) FROM entries e "
	                       "LEFT JOIN usage u ON u.hash = e.hash "
	                       "ORDER BY e.created DESC, e.rowid DESC",
	                       -1, &q, NULL) != SQLITE_OK) {
		int r = cache__dberr(c, err, "ls");
		pthread_mutex_unlock(&c->lock);
		return r;
	}
	cJSON *arr = json ? cJSON_CreateArray() : NULL;
	int64_t now = cache__now();
	if (!json)
		sbuf_addf(out, "%-40s %-32s %10s %6s %5s\n", "TASK", "HASH", "SIZE", "AGE", "HITS");
	while (sqlite3_step(q) == SQLITE_ROW) {
		const char *task = (const char *)sqlite3_column_text(q, 0);
		const char *hash = (const char *)sqlite3_column_text(q, 1);
		int64_t size = sqlite3_column_int64(q, 2), created = sqlite3_column_int64(q, 3);
		int64_t hits = sqlite3_column_int64(q, 4);
		if (json) {
			cJSON *o = cJSON_CreateObject();
			cJSON_AddStringToObject(o, "task", task);
			cJSON_AddStringToObject(o, "hash", hash);
			cJSON_AddNumberToObject(o, "size", (double)size);
			cJSON_AddNumberToObject(o, "created", (double)created);
			cJSON_AddNumberToObject(o, "age", (double)(now - created));
			cJSON_AddNumberToObject(o, "hits", (double)hits);
			cJSON_AddItemToArray(arr, o);
		} else {
			char sz[32], age[32];
			human_size((uint64_t)size, sz, sizeof(sz));
			human_age(now - created, age, sizeof(age));
			sbuf_addf(out, "%-40s %-32s %10s %6s %5lld\n", task, hash, sz, age,
			          (long long)hits);
		}
	}
	sqlite3_finalize(q);
	pthread_mutex_unlock(&c->lock);
	if (json)
		emit_json(arr, out);
	return 0;
}

static const char *kind_name(int k)
{
	static const char *const n[] = {"absent", "file", "dir", "symlink"};
	return k >= 0 && k < 4 ? n[k] : "?";
}

/* Outputs of an entry as a JSON array. */
static cJSON *entry_outputs(struct cache *c, const char *hash)
{
	sqlite3_stmt *q;
	cJSON *arr = cJSON_CreateArray();
	if (sqlite3_prepare_v2(c->db,
	                       "SELECT path, kind, mode, size, blob, link FROM outputs WHERE "
	                       "entry=?1 ORDER BY path",
	                       -1, &q, NULL) != SQLITE_OK)
		return arr;
	sqlite3_bind_text(q, 1, hash, -1, SQLITE_STATIC);
	while (sqlite3_step(q) == SQLITE_ROW) {
		cJSON *o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "path", (const char *)sqlite3_column_text(q, 0));
		cJSON_AddStringToObject(o, "kind", kind_name(sqlite3_column_int(q, 1)));
		cJSON_AddNumberToObject(o, "mode", sqlite3_column_int(q, 2));
		cJSON_AddNumberToObject(o, "size", (double)sqlite3_column_int64(q, 3));
		if (sqlite3_column_text(q, 4))
			cJSON_AddStringToObject(o, "blob", (const char *)sqlite3_column_text(q, 4));
		if (sqlite3_column_text(q, 5))
			cJSON_AddStringToObject(o, "link", (const char *)sqlite3_column_text(q, 5));
		cJSON_AddItemToArray(arr, o);
	}
	sqlite3_finalize(q);
	return arr;
}

static cJSON *entry_json(struct cache *c, const char *hash, struct bld_err *err)
{
	sqlite3_stmt *q;
	if (sqlite3_prepare_v2(c->db,
	                       "SELECT e.task, e.exit_code, e.duration_ms, e.size, e.created, "
	                       "MAX(e.last_used, COALESCE(u.last_used, 0)), "
	                       "e.hits + COALESCE(u.hits, 0), e.bld_version, e.manifest "
	                       "FROM entries e LEFT JOIN usage u ON u.hash = e.hash "
	                       "WHERE e.hash=?1",
	                       -1, &q, NULL) != SQLITE_OK) {
		cache__dberr(c, err, "show");
		return NULL;
	}
	sqlite3_bind_text(q, 1, hash, -1, SQLITE_STATIC);
	cJSON *o = NULL;
	if (sqlite3_step(q) == SQLITE_ROW) {
		o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "hash", hash);
		cJSON_AddStringToObject(o, "task", (const char *)sqlite3_column_text(q, 0));
		cJSON_AddNumberToObject(o, "exit_code", sqlite3_column_int(q, 1));
		cJSON_AddNumberToObject(o, "duration_ms", (double)sqlite3_column_int64(q, 2));
		cJSON_AddNumberToObject(o, "size", (double)sqlite3_column_int64(q, 3));
		cJSON_AddNumberToObject(o, "created", (double)sqlite3_column_int64(q, 4));
		cJSON_AddNumberToObject(o, "last_used", (double)sqlite3_column_int64(q, 5));
		cJSON_AddNumberToObject(o, "hits", (double)sqlite3_column_int64(q, 6));
		cJSON_AddStringToObject(o, "bld_version", (const char *)sqlite3_column_text(q, 7));
		cJSON *m = cJSON_Parse((const char *)sqlite3_column_text(q, 8));
		cJSON_AddItemToObject(o, "manifest", m ? m : cJSON_CreateObject());
		cJSON_AddItemToObject(o, "outputs", entry_outputs(c, hash));
	}
	sqlite3_finalize(q);
	if (!o)
		bld_err_set(err, BLD_EUSAGE, "no cache entry with hash %s", hash);
	return o;
}

static void show_text(const cJSON *o, struct sbuf *out)
{
	char sz[32];
	const cJSON *m = cJSON_GetObjectItem(o, "manifest");
	human_size((uint64_t)cJSON_GetObjectItem(o, "size")->valuedouble, sz, sizeof(sz));
	sbuf_addf(out,
	          "task:      %s\nhash:      %s\nrun time:  %.0f ms\nsize:      %s\n"
	          "hits:      %.0f\nbld:       %s\n",
	          cJSON_GetObjectItem(o, "task")->valuestring,
	          cJSON_GetObjectItem(o, "hash")->valuestring,
	          cJSON_GetObjectItem(o, "duration_ms")->valuedouble, sz,
	          cJSON_GetObjectItem(o, "hits")->valuedouble,
	          cJSON_GetObjectItem(o, "bld_version")->valuestring);
	const cJSON *ex = cJSON_GetObjectItem(m, "executor"),
	            *opt = cJSON_GetObjectItem(m, "options");
	if (cJSON_IsString(ex))
		sbuf_addf(out, "executor:  %s\n", ex->valuestring);
	if (opt) {
		sbuf_adds(out, "options:   ");
		cache__json_canonical(opt, out);
		sbuf_addc(out, '\n');
	}
	sbuf_adds(out, "inputs:\n");
	const cJSON *in, *f;
	cJSON_ArrayForEach(in, cJSON_GetObjectItem(m, "inputs"))
	{
		sbuf_addf(out, "  %s  %s\n", cJSON_GetObjectItem(in, "hash")->valuestring,
		          in->string);
		const cJSON *files = cJSON_GetObjectItem(in, "files");
		for (const char *l = cJSON_IsString(files) ? files->valuestring : ""; *l;) {
			size_t n = strcspn(l, "\n");
			sbuf_addf(out, "      %.*s\n", (int)n, l);
			l += n + (l[n] == '\n');
		}
	}
	sbuf_adds(out, "outputs:\n");
	cJSON_ArrayForEach(f, cJSON_GetObjectItem(o, "outputs"))
	{
		const char *k = cJSON_GetObjectItem(f, "kind")->valuestring;
		const cJSON *l = cJSON_GetObjectItem(f, "link");
		sbuf_addf(out, "  %-7s %04o %10.0f  %s%s%s\n", k,
		          (unsigned)cJSON_GetObjectItem(f, "mode")->valueint,
		          cJSON_GetObjectItem(f, "size")->valuedouble,
		          cJSON_GetObjectItem(f, "path")->valuestring, l ? " -> " : "",
		          l ? l->valuestring : "");
	}
}

int cache_cmd_show(struct cache *c, const char *hash, bool json, struct sbuf *out,
                   struct bld_err *err)
{
	char full[33];
	cache__flush_usage(c);
	pthread_mutex_lock(&c->lock);
	int r = cache__resolve_hash(c, hash, full, err);
	cJSON *o = r >= 0 ? entry_json(c, full, err) : NULL;
	pthread_mutex_unlock(&c->lock);
	if (!o)
		return r < 0 ? r : BLD_EUSAGE;
	if (json) {
		emit_json(o, out);
	} else {
		show_text(o, out);
		cJSON_Delete(o);
	}
	return 0;
}

static int64_t scalar(struct cache *c, const char *sql)
{
	sqlite3_stmt *q;
	int64_t v = 0;
	if (sqlite3_prepare_v2(c->db, sql, -1, &q, NULL) != SQLITE_OK)
		return 0;
	if (sqlite3_step(q) == SQLITE_ROW)
		v = sqlite3_column_int64(q, 0);
	sqlite3_finalize(q);
	return v;
}

/* Runs and hits among the last CACHE_RECENT_RUNS (usage.c); caller holds c->lock. */
static void recent_runs(struct cache *c, int64_t *ret_runs, int64_t *ret_hits)
{
	sqlite3_stmt *q;
	*ret_runs = *ret_hits = 0;
	if (sqlite3_prepare_v2(c->db, "SELECT value FROM meta WHERE key='recent_runs'", -1, &q,
	                       NULL) != SQLITE_OK)
		return;
	if (sqlite3_step(q) == SQLITE_ROW) {
		const char *v = (const char *)sqlite3_column_text(q, 0);
		for (; v && *v; v++, ++*ret_runs)
			*ret_hits += *v == CACHE_RUN_HIT;
	}
	sqlite3_finalize(q);
}

/* Remote cache totals: rows "remote_<name>" of meta, one per counter. */
static const char *const remote_keys[] = {"remote_hits",    "remote_misses",
                                          "remote_refused", "remote_uploads",
                                          "remote_bytes_down", "remote_bytes_up",
                                          "remote_ms"};

static uint64_t *remote_slot(struct cache_remote_stats *s, size_t i)
{
	uint64_t *f[] = {&s->hits,       &s->misses,   &s->refused, &s->uploads,
	                 &s->bytes_down, &s->bytes_up, &s->ms};
	return f[i];
}

static uint64_t remote_field(struct cache_remote_stats *s, size_t i)
{
	return *remote_slot(s, i);
}

/* Caller holds c->lock. */
static void remote_totals(struct cache *c, struct cache_remote_stats *ret)
{
	memset(ret, 0, sizeof(*ret));
	sqlite3_stmt *q;
	if (sqlite3_prepare_v2(c->db, "SELECT value FROM meta WHERE key=?1", -1, &q, NULL) !=
	    SQLITE_OK)
		return;
	for (size_t i = 0; i < ARRAY_LEN(remote_keys); i++) {
		sqlite3_bind_text(q, 1, remote_keys[i], -1, SQLITE_STATIC);
		if (sqlite3_step(q) == SQLITE_ROW)
			*remote_slot(ret, i) = strtoull((const char *)sqlite3_column_text(q, 0), NULL, 10);
		sqlite3_reset(q);
	}
	sqlite3_finalize(q);
}

void cache_add_remote_stats(struct cache *c, const struct cache_remote_stats *s)
{
	struct cache_remote_stats add = *s;
	pthread_mutex_lock(&c->lock);
	sqlite3_stmt *q;
	if (sqlite3_exec(c->db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK) {
		pthread_mutex_unlock(&c->lock);
		return;
	}
	if (sqlite3_prepare_v2(c->db,
	                       "INSERT INTO meta(key, value) VALUES(?1, ?2) ON CONFLICT(key) DO "
	                       "UPDATE SET value = CAST(value AS INTEGER) + CAST(?2 AS INTEGER)",
	                       -1, &q, NULL) == SQLITE_OK) {
		for (size_t i = 0; i < ARRAY_LEN(remote_keys); i++) {
			sqlite3_bind_text(q, 1, remote_keys[i], -1, SQLITE_STATIC);
			sqlite3_bind_int64(q, 2, (int64_t)remote_field(&add, i));
			sqlite3_step(q);
			sqlite3_reset(q);
		}
		sqlite3_finalize(q);
	}
	if (sqlite3_exec(c->db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
		sqlite3_exec(c->db, "ROLLBACK", NULL, NULL, NULL);
	pthread_mutex_unlock(&c->lock);
}

int cache_cmd_stats(struct cache *c, bool json, struct sbuf *out, struct bld_err *err)
{
	cache__flush_usage(c);
	pthread_mutex_lock(&c->lock);
	int64_t entries = scalar(c, "SELECT COUNT(*) FROM entries");
	int64_t bytes = scalar(c, "SELECT COALESCE(SUM(size),0) FROM entries");
	int64_t blobs =
	    scalar(c, "SELECT COUNT(DISTINCT blob) FROM outputs WHERE blob IS NOT NULL");
	int64_t runs, hits;
	recent_runs(c, &runs, &hits);
	struct cache_remote_stats rs;
	remote_totals(c, &rs);
	pthread_mutex_unlock(&c->lock);
	double rate = runs ? 100.0 * (double)hits / (double)runs : 0;
	if (json) {
		cJSON *o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "dir", c->dir);
		cJSON_AddNumberToObject(o, "entries", (double)entries);
		cJSON_AddNumberToObject(o, "bytes", (double)bytes);
		cJSON_AddNumberToObject(o, "blobs", (double)blobs);
		cJSON_AddNumberToObject(o, "recent_runs", (double)runs);
		cJSON_AddNumberToObject(o, "recent_hits", (double)hits);
		cJSON_AddNumberToObject(o, "hit_rate", rate);
		cJSON_AddNumberToObject(o, "max_size", (double)c->max_size);
		cJSON *ro = cJSON_AddObjectToObject(o, "remote");
		for (size_t i = 0; i < ARRAY_LEN(remote_keys); i++)
			cJSON_AddNumberToObject(ro, remote_keys[i] + 7, (double)remote_field(&rs, i));
		emit_json(o, out);
		return 0;
	}
	char sz[32], mx[32];
	human_size((uint64_t)bytes, sz, sizeof(sz));
	human_size(c->max_size, mx, sizeof(mx));
	sbuf_addf(out,
	          "cache:     %s\nentries:   %lld\nsize:      %s (%lld blobs)\n"
	          "limit:     %s\nhit rate:  %.1f%% of the last %lld runs (%lld hits)\n",
	          c->dir, (long long)entries, sz, (long long)blobs, c->max_size ? mx : "none", rate,
	          (long long)runs, (long long)hits);
	char down[32], up[32];
	human_size(rs.bytes_down, down, sizeof(down));
	human_size(rs.bytes_up, up, sizeof(up));
	sbuf_addf(out,
	          "remote:    %llu hits, %llu misses, %llu refused, %llu uploads; %s down, %s up, "
	          "%.1f s in transfers\n",
	          (unsigned long long)rs.hits, (unsigned long long)rs.misses,
	          (unsigned long long)rs.refused, (unsigned long long)rs.uploads, down, up,
	          (double)rs.ms / 1000.0);
	(void)err;
	return 0;
}

int cache_cmd_prune(struct cache *c, uint64_t max_bytes, struct sbuf *out, struct bld_err *err)
{
	uint64_t removed = 0, freed = 0;
	int r = cache__prune(c, max_bytes, &removed, &freed, err);
	if (r < 0)
		return r;
	freed += cache__gc_orphans(c);
	char sz[32];
	human_size(freed, sz, sizeof(sz));
	sbuf_addf(out, "pruned %llu entr%s, freed %s\n", (unsigned long long)removed,
	          removed == 1 ? "y" : "ies", sz);
	return 0;
}

/* ---- why ---- */

static cJSON *newest_manifest(struct cache *c, const char *task_id, char hash[33])
{
	sqlite3_stmt *q;
	cJSON *m = NULL;
	if (sqlite3_prepare_v2(c->db,
	                       "SELECT hash, manifest FROM entries WHERE task=?1 "
	                       "ORDER BY created DESC, rowid DESC LIMIT 1",
	                       -1, &q, NULL) != SQLITE_OK)
		return NULL;
	sqlite3_bind_text(q, 1, task_id, -1, SQLITE_STATIC);
	if (sqlite3_step(q) == SQLITE_ROW) {
		snprintf(hash, 33, "%s", (const char *)sqlite3_column_text(q, 0));
		m = cJSON_Parse((const char *)sqlite3_column_text(q, 1));
	}
	sqlite3_finalize(q);
	return m;
}

static const char *str_of(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);
	return cJSON_IsString(v) ? v->valuestring : "";
}

static void diff_scalar(const cJSON *old, const cJSON *cur, const char *k, const char *label,
                        struct sbuf *out, int *n)
{
	struct sbuf a = SBUF_INIT, b = SBUF_INIT;
	sbuf_init(&a);
	sbuf_init(&b);
	cache__json_canonical(cJSON_GetObjectItemCaseSensitive(old, k), &a);
	cache__json_canonical(cJSON_GetObjectItemCaseSensitive(cur, k), &b);
	if (strcmp(a.buf, b.buf)) {
		sbuf_addf(out, "%s changed: %s -> %s\n", label, a.buf, b.buf);
		(*n)++;
	}
	sbuf_release(&a);
	sbuf_release(&b);
}

static void diff_options(const cJSON *old, const cJSON *cur, struct sbuf *out, int *n)
{
	const cJSON *o = cJSON_GetObjectItem(old, "options"),
	            *c = cJSON_GetObjectItem(cur, "options");
	const cJSON *it;
	cJSON_ArrayForEach(it, c)
	{
		char *label = xasprintf("option %s", it->string);
		if (!cJSON_GetObjectItemCaseSensitive(o, it->string)) {
			sbuf_addf(out, "option %s added\n", it->string);
			(*n)++;
		} else {
			diff_scalar(o, c, it->string, label, out, n);
		}
		free(label);
	}
	cJSON_ArrayForEach(it, o)
	{
		if (!cJSON_GetObjectItemCaseSensitive(c, it->string)) {
			sbuf_addf(out, "option %s removed\n", it->string);
			(*n)++;
		}
	}
}

/* Human words for an instruction key ("files:p:globs" ...). */
static void describe_key(const char *key, const char *project, struct sbuf *sb)
{
	if (str_starts(key, "files:")) {
		const char *p = key + 6, *e = strchr(p, ':');
		size_t n = e ? (size_t)(e - p) : strlen(p);
		if (strlen(project) == n && !strncmp(p, project, n))
			sbuf_addf(sb, "file set %s", e ? e + 1 : "");
		else
			sbuf_addf(sb, "dependency project %.*s (file set %s)", (int)n, p,
			          e ? e + 1 : "");
	} else if (str_starts(key, "workspace-files:")) {
		sbuf_addf(sb, "workspace file set %s", key + 16);
	} else if (str_starts(key, "project-config:")) {
		sbuf_addf(sb, "configuration of project %s", key + 15);
	} else if (str_starts(key, "env:")) {
		sbuf_addf(sb, "env var %s", key + 4);
	} else if (str_starts(key, "runtime:")) {
		sbuf_addf(sb, "runtime input `%s`", key + 8);
	} else if (str_starts(key, "outputs:")) {
		sbuf_addf(sb, "outputs of dependency %s", key + 8);
	} else if (str_starts(key, "externals:")) {
		sbuf_addf(sb, "external dependencies (%s)", key + 10);
	} else {
		sbuf_adds(sb, key);
	}
}

static void diff_files(const cJSON *of, const cJSON *cf, struct sbuf *out, int *n)
{
	char *ot = xstrdup(cJSON_IsString(of) ? of->valuestring : "");
	char *ct = xstrdup(cJSON_IsString(cf) ? cf->valuestring : "");
	struct strmap om, cm;
	strmap_init(&om);
	strmap_init(&cm);
	cache__files_parse(ot, &om);
	cache__files_parse(ct, &cm);
	struct strvec lines;
	strvec_init(&lines);
	size_t it = 0;
	const char *path;
	void *h;
	while (strmap_next(&cm, &it, &path, &h)) {
		const char *o = strmap_get(&om, path);
		if (!o)
			strvec_push_owned(&lines, xasprintf("  added:    %s", path));
		else if (strcmp(o, h))
			strvec_push_owned(&lines, xasprintf("  changed:  %s", path));
	}
	it = 0;
	while (strmap_next(&om, &it, &path, &h))
		if (!strmap_has(&cm, path))
			strvec_push_owned(&lines, xasprintf("  removed:  %s", path));
	strvec_sort(&lines);
	for (size_t i = 0; i < lines.n; i++)
		sbuf_addf(out, "%s\n", lines.v[i]);
	*n += (int)lines.n;
	strvec_release(&lines);
	strmap_release(&om);
	strmap_release(&cm);
	free(ot);
	free(ct);
}

static void diff_inputs(const cJSON *old, const cJSON *cur, struct sbuf *out, int *n)
{
	const cJSON *oi = cJSON_GetObjectItem(old, "inputs"),
	            *ci = cJSON_GetObjectItem(cur, "inputs");
	const char *project = str_of(cur, "project");
	const cJSON *it;
	struct sbuf d = SBUF_INIT;
	sbuf_init(&d);
	cJSON_ArrayForEach(it, ci)
	{
		const cJSON *o = cJSON_GetObjectItemCaseSensitive(oi, it->string);
		sbuf_reset(&d);
		describe_key(it->string, project, &d);
		if (!o) {
			sbuf_addf(out, "input added: %s\n", d.buf);
			(*n)++;
		} else if (strcmp(str_of(o, "hash"), str_of(it, "hash"))) {
			sbuf_addf(out, "%s changed\n", d.buf);
			(*n)++;
			diff_files(cJSON_GetObjectItem(o, "files"),
			           cJSON_GetObjectItem(it, "files"), out, n);
		}
	}
	cJSON_ArrayForEach(it, oi)
	{
		if (!cJSON_GetObjectItemCaseSensitive(ci, it->string)) {
			sbuf_reset(&d);
			describe_key(it->string, project, &d);
			sbuf_addf(out, "input removed: %s\n", d.buf);
			(*n)++;
		}
	}
	sbuf_release(&d);
}

int cache_cmd_why(struct cache *c, const char *task_id, const cJSON *manifest, struct sbuf *out,
                  struct bld_err *err)
{
	char hash[33] = "";
	const char *cur_hash = str_of(manifest, "hash");
	pthread_mutex_lock(&c->lock);
	bool hit = *cur_hash && cache__entry_exists_locked(c, cur_hash) > 0;
	cJSON *old = hit ? NULL : newest_manifest(c, task_id, hash);
	pthread_mutex_unlock(&c->lock);
	if (hit) {
		sbuf_addf(out, "%s would be a cache hit: entry %s matches its inputs\n", task_id,
		          cur_hash);
		return 0;
	}
	if (!hash[0]) {
		sbuf_addf(out,
		          "%s has no cache entry yet: it has never run successfully with caching "
		          "(or its entries were pruned)\n",
		          task_id);
		return 0;
	}
	if (!old)
		return bld_err_set(err, BLD_ECORRUPT, "cache entry %s has an unreadable manifest",
		                   hash);
	int n = 0;
	sbuf_addf(out, "%s: hash %s differs from the newest cache entry %s\n", task_id, cur_hash,
	          hash);
	diff_scalar(old, manifest, "format", "hash format version", out, &n);
	diff_scalar(old, manifest, "bld", "bld version", out, &n);
	diff_scalar(old, manifest, "configuration", "configuration", out, &n);
	diff_scalar(old, manifest, "executor", "executor", out, &n);
	diff_options(old, manifest, out, &n);
	diff_inputs(old, manifest, out, &n);
	if (!n)
		sbuf_adds(out, "no difference found in the recorded inputs\n");
	cJSON_Delete(old);
	return 0;
}
