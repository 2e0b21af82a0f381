/*
 * cmds.c - the commands answered with text rather than by running tasks:
 * show projects|project|tasks, graph, list, generate, cache, reset.
 * Each returns the request's exit code (0, or 2 after an error message).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bld/affected.h"
#include "bld/cache.h"
#include "bld/remote.h"
#include "bld/gen.h"
#include "engine_int.h"
#include "host.h"
#include "exec.h"

int cmd_load_workspace(struct request *r, struct workspace **ret_ws)
{
	*ret_ws = NULL;
	if (!r->snap) { /* no host: r->cwd is in no workspace, or a caller without one */
		struct bld_err err;
		bld_err_clear(&err);
		char *root = NULL;
		if (workspace_find_root(r->cwd, &root, &err) < 0)
			return request_error(r, &err);
		r->snap = snapshot_load(root, 0);
		free(root);
	}
	if (!r->snap->ws)
		return request_error(r, &r->snap->err);
	*ret_ws = r->snap->ws;
	for (size_t i = 0; request_arg_bool(r, "verbose") && i < (*ret_ws)->notes.n; i++)
		request_message(r, "info", "%s", (*ret_ws)->notes.v[i]);
	return 0;
}

static bool wants_affected(const struct request *r)
{
	return !strcmp(r->cmd, "affected") || request_arg_bool(r, "affected");
}

/* Nx's conflicts between the ways of naming the change: --files, --uncommitted and
 * --untracked each stand alone (the environment's NX_BASE/NX_HEAD do not count). */
static int check_change_flags(struct request *r, bool files, struct bld_err *err)
{
	const char *names[] = {"files", "uncommitted", "untracked", "base", "head"};
	bool on[] = {files, request_arg_bool(r, "uncommitted"), request_arg_bool(r, "untracked"),
	             request_arg_str(r, "base") != NULL, request_arg_str(r, "head") != NULL};
	for (size_t i = 0; i < 3; i++)
		for (size_t k = i + 1; on[i] && k < ARRAY_LEN(on); k++)
			if (on[k])
				return bld_err_set(err, BLD_EUSAGE,
				                   "--%s and --%s cannot be used together (as in Nx): "
				                   "--files, --uncommitted and --untracked each name the "
				                   "whole change",
				                   names[i], names[k]);
	return 0;
}

/* Drop from names the projects that are not affected. */
static int keep_affected(struct request *r, const struct workspace *ws, struct strvec *names,
                         struct bld_err *err)
{
	struct strvec files;
	strvec_init(&files);
	request_arg_list(r, "files", &files);
	const char *base = request_arg_str(r, "base"), *head = request_arg_str(r, "head");
	if (!base)
		base = request_getenv(r, "NX_BASE");
	if (!head)
		head = request_getenv(r, "NX_HEAD");
	struct affected_opts o = {
	    .base = base && *base ? base : ws->default_base ? ws->default_base : "main",
	    .head = head && *head ? head : NULL,
	    .files = files.n ? &files : NULL,
	    .uncommitted = request_arg_bool(r, "uncommitted"),
	    .untracked = request_arg_bool(r, "untracked"),
	};
	bool *sel = xcalloc(ws->nprojects + 1, sizeof(*sel));
	int rc = check_change_flags(r, files.n > 0, err);
	if (rc >= 0 && request_arg_bool(r, "byInputs"))
		rc = cmd_by_inputs(r, (struct workspace *)ws, &o, names, sel, err);
	else if (rc >= 0)
		rc = affected_projects(ws, &o, sel, err);
	size_t out = 0;
	for (size_t i = 0; rc >= 0 && i < names->n; i++) {
		const struct ws_project *p = workspace_project(ws, names->v[i]);
		if (p && sel[p - ws->projects])
			names->v[out++] = names->v[i];
		else
			free(names->v[i]);
	}
	if (rc >= 0)
		names->n = out;
	free(sel);
	strvec_release(&files);
	return rc;
}

/* --type: keep the projects of that Nx project-graph type (app, lib, e2e). */
static int keep_type(const struct workspace *ws, const char *type, struct strvec *names,
                     struct bld_err *err)
{
	if (strcmp(type, "app") && strcmp(type, "lib") && strcmp(type, "e2e"))
		return bld_err_set(err, BLD_EUSAGE, "--type must be app, lib or e2e, not \"%s\"",
		                   type);
	size_t out = 0;
	for (size_t i = 0; i < names->n; i++) {
		const struct ws_project *p = workspace_project(ws, names->v[i]);
		if (p && !strcmp(ws_project_graph_type(ws, p), type))
			names->v[out++] = names->v[i];
		else
			free(names->v[i]);
	}
	names->n = out;
	return 0;
}

int cmd_select_projects(struct request *r, const struct workspace *ws, struct strvec *ret,
                        struct bld_err *err)
{
	struct strvec pats, excl;
	strvec_init(&pats);
	strvec_init(&excl);
	request_arg_list(r, "projects", &pats);
	request_arg_list(r, "exclude", &excl);
	const char *type = request_arg_str(r, "type");
	int rc = ws_select_projects(ws, &pats, &excl, ret, err);
	if (rc >= 0 && type)
		rc = keep_type(ws, type, ret, err);
	if (rc >= 0 && wants_affected(r))
		rc = keep_affected(r, ws, ret, err);
	strvec_release(&pats);
	strvec_release(&excl);
	return rc;
}

static void send_sbuf(struct request *r, struct sbuf *out)
{
	if (out->len)
		request_text(r, out->buf, out->len);
}

/* ---- show ---- */

/* Nx's --with-target: a project that has any of them. */
static bool has_targets(const struct ws_project *p, const struct strvec *targets)
{
	for (size_t i = 0; i < targets->n; i++)
		if (ws_project_target(p, targets->v[i]))
			return true;
	return !targets->n;
}

/* The frames answering a plain `show projects` on ws: every name, sorted (as
 * ws->projects is), a line each. */
static struct snapshot_blob *listing_new(const struct workspace *ws)
{
	struct sbuf text = SBUF_INIT, frames = SBUF_INIT;
	sbuf_init(&text);
	sbuf_init(&frames);
	for (size_t i = 0; i < ws->nprojects; i++) {
		sbuf_adds(&text, ws->projects[i].name);
		sbuf_addc(&text, '\n');
	}
	request_text_frames(&frames, text.buf, text.len);
	sbuf_release(&text);
	struct snapshot_blob *b = xmalloc(sizeof(*b) + frames.len);
	b->len = frames.len;
	memcpy(b->data, frames.buf, frames.len);
	sbuf_release(&frames);
	return b;
}

/* `show projects` with no pattern, filter or --json: the answer r's generation
 * keeps (made by the first request that asks).  False when r asks for more. */
static bool show_listing(struct request *r, const struct workspace *ws)
{
	static const char *const narrowing[] = {"projects", "exclude", "type", "withTarget"};
	for (size_t i = 0; i < ARRAY_LEN(narrowing); i++)
		if (cJSON_GetObjectItemCaseSensitive(r->args, narrowing[i]))
			return false;
	if (!r->snap || r->snap->ws != ws || request_arg_bool(r, "json") || wants_affected(r))
		return false;
	struct snapshot_blob *b = atomic_load(&r->snap->listing);
	if (!b) {
		struct snapshot_blob *mine = listing_new(ws), *none = NULL;
		b = atomic_compare_exchange_strong(&r->snap->listing, &none, mine) ? mine : none;
		if (b != mine)
			free(mine); /* another request kept its own first */
	}
	request_send_frames(r, b->data, b->len);
	return true;
}

static int show_projects(struct request *r, struct workspace *ws, struct bld_err *err)
{
	if (show_listing(r, ws))
		return 0;
	struct strvec names, with;
	strvec_init(&names);
	strvec_init(&with);
	request_arg_list(r, "withTarget", &with);
	int rc = cmd_select_projects(r, ws, &names, err);
	bool json = request_arg_bool(r, "json");
	struct sbuf out = SBUF_INIT;
	sbuf_init(&out);
	cJSON *arr = cJSON_CreateArray();
	for (size_t i = 0; rc >= 0 && i < names.n; i++) {
		const struct ws_project *p = workspace_project(ws, names.v[i]);
		if (!p || !has_targets(p, &with))
			continue;
		if (json)
			cJSON_AddItemToArray(arr, cJSON_CreateString(p->name));
		else
			sbuf_addf(&out, "%s\n", p->name);
	}
	if (rc >= 0 && json) {
		char *s = cJSON_PrintUnformatted(arr);
		sbuf_addf(&out, "%s\n", s);
		free(s);
	}
	cJSON_Delete(arr);
	if (rc >= 0)
		send_sbuf(r, &out);
	sbuf_release(&out);
	strvec_release(&names);
	strvec_release(&with);
	return rc;
}

static void target_summary(const struct ws_target *t, struct sbuf *out)
{
	const cJSON *opts = cJSON_GetObjectItemCaseSensitive(t->json, "options");
	const cJSON *cmd = cJSON_GetObjectItemCaseSensitive(opts, "command");
	sbuf_addf(out, "  %-20s %s", t->name, t->executor);
	if (cJSON_IsString(cmd))
		sbuf_addf(out, "  $ %s", cmd->valuestring);
	if (t->cache)
		sbuf_adds(out, "  [cache]");
	if (t->continuous)
		sbuf_adds(out, "  [continuous]");
	const cJSON *deps = cJSON_GetObjectItemCaseSensitive(t->json, "dependsOn");
	if (cJSON_GetArraySize(deps) > 0) {
		char *s = cJSON_PrintUnformatted(deps);
		sbuf_addf(out, "\n  %-20s dependsOn %s", "", s);
		free(s);
	}
	sbuf_addc(out, '\n');
}

static void project_text(const struct workspace *ws, const struct ws_project *p, struct sbuf *out)
{
	sbuf_addf(out, "Name:   %s\nRoot:   %s\n", p->name, p->root[0] ? p->root : ".");
	if (p->project_type)
		sbuf_addf(out, "Type:   %s\n", p->project_type);
	if (p->source_root)
		sbuf_addf(out, "Source: %s\n", p->source_root);
	if (p->tags.n) {
		sbuf_adds(out, "Tags:  ");
		for (size_t i = 0; i < p->tags.n; i++)
			sbuf_addf(out, " %s", p->tags.v[i]);
		sbuf_addc(out, '\n');
	}
	if (p->ndeps) {
		sbuf_adds(out, "Depends on:");
		for (size_t i = 0; i < p->ndeps; i++)
			sbuf_addf(out, " %s", ws->projects[p->deps[i].project].name);
		sbuf_addc(out, '\n');
	}
	sbuf_adds(out, "Targets:\n");
	for (size_t i = 0; i < p->ntargets; i++)
		target_summary(&p->targets[i], out);
}

/* "build (@nx/vite/plugin), test (@nx/jest/plugin)" for targets plugins would infer; "" if none. */
static char *plugin_targets(const struct workspace *ws, const struct ws_project *p)
{
	struct strvec targets, plugins;
	strvec_init(&targets);
	strvec_init(&plugins);
	ws_project_plugin_targets(ws, p, &targets, &plugins);
	struct sbuf sb = SBUF_INIT;
	sbuf_init(&sb);
	for (size_t i = 0; i < targets.n; i++)
		sbuf_addf(&sb, "%s%s (%s)", i ? ", " : "", targets.v[i],
		          i < plugins.n ? plugins.v[i] : "a plugin");
	strvec_release(&targets);
	strvec_release(&plugins);
	return sbuf_detach(&sb);
}

static int unknown_project(const struct workspace *ws, const char *name, struct bld_err *err)
{
	struct strvec sug;
	strvec_init(&sug);
	workspace_suggest(ws, NULL, name, 3, &sug);
	struct sbuf s = SBUF_INIT;
	sbuf_init(&s);
	for (size_t i = 0; i < sug.n; i++)
		sbuf_addf(&s, "%s%s", i ? ", " : "", sug.v[i]);
	int rc = bld_err_set(err, BLD_ENOPROJECT, "unknown project \"%s\"%s%s%s", name,
	                     sug.n ? "; did you mean " : "", s.buf, sug.n ? "?" : "");
	sbuf_release(&s);
	strvec_release(&sug);
	return rc;
}

static int show_project(struct request *r, struct workspace *ws, struct bld_err *err)
{
	const char *name = request_arg_str(r, "name");
	if (!name)
		return bld_err_set(err, BLD_EUSAGE, "show project needs a project name");
	const struct ws_project *p = workspace_project(ws, name);
	if (!p)
		return unknown_project(ws, name, err);
	struct sbuf out = SBUF_INIT;
	sbuf_init(&out);
	/* as Nx: JSON when asked, and whenever stdout is not a terminal */
	bool json = request_arg_bool(r, "json") || !r->tty;
	if (json) {
		cJSON *shown = ws_project_json_shown(p);
		char *s = cJSON_Print(shown);
		sbuf_addf(&out, "%s\n", s);
		free(s);
		cJSON_Delete(shown);
	} else {
		project_text(ws, p, &out);
	}
	char *inferred = plugin_targets(ws, p);
	if (inferred[0] && json)
		request_message(r, "warn",
		                "%s: nx.json plugins would infer targets bld does not have (bld "
		                "runs no plugins; add them to project.json): %s",
		                p->name, inferred);
	else if (inferred[0])
		sbuf_addf(&out,
		          "Targets a plugin would infer that bld does not have (bld runs no "
		          "plugins; add them to project.json to use them):\n  %s\n",
		          inferred);
	free(inferred);
	if (ws->nplugins) {
		struct sbuf pl = SBUF_INIT;
		sbuf_init(&pl);
		sbuf_adds(&pl, "Plugins in nx.json (bld does not run plugins):");
		for (size_t i = 0; i < ws->nplugins; i++)
			sbuf_addf(&pl, " %s", ws->plugins[i].name);
		if (json)
			request_message(r, "info", "%s", pl.buf);
		else
			sbuf_addf(&out, "%s\n", pl.buf);
		sbuf_release(&pl);
	}
	send_sbuf(r, &out);
	sbuf_release(&out);
	return 0;
}

/* A task graph for -t/-p (run-many's selection). */
static int select_tasks(struct request *r, struct workspace *ws, struct task_graph **ret_tg,
                        struct bld_err *err)
{
	struct tg_request tq;
	tg_request_init(&tq);
	request_arg_list(r, "targets", &tq.targets);
	tq.skip_missing = true;
	tq.configuration = request_arg_str(r, "configuration");
	int rc = 0;
	if (!tq.targets.n)
		rc = bld_err_set(err, BLD_EUSAGE, "which targets? -t <target>...");
	if (rc >= 0)
		rc = cmd_select_projects(r, ws, &tq.projects, err);
	if (rc >= 0)
		rc = cmd_task_graph(r, ws, &tq, ret_tg, err);
	tg_request_release(&tq);
	return rc;
}

int cmd_task_graph(struct request *r, struct workspace *ws, const struct tg_request *tq,
                   struct task_graph **ret_tg, struct bld_err *err)
{
	bool kept = r->snap && r->snap->ws == ws && !request_arg_str(r, "shard");
	return tg_memo_build(kept ? r->snap->graphs : NULL, ws, tq, ret_tg, err);
}

struct cache *cmd_open_cache(struct request *r, const struct workspace *ws)
{
	char *dir = cache_default_dir(ws->root, r->env, r->cwd);
	struct cache *c = NULL;
	bool lent = false;
	struct bld_err err;
	bld_err_clear(&err);
	int rc = r->host && !r->cache ? host_cache_take(r->host, dir, &c, &lent, &err)
	                              : cache_open(dir, &c, &err);
	if (rc < 0) {
		request_message(r, "warn", "cache unavailable (%s): %s; tasks run without it", dir,
		                err.msg);
		free(dir);
		return NULL;
	}
	/* the request's limit, not the engine's own environment's */
	const char *max = request_getenv(r, "BLD_CACHE_MAX_SIZE");
	cache_set_max_size(c, max && *max ? cache_parse_size(max) : 0);
	if (r->host && !r->cache) {
		r->cache = c;
		r->cache_lent = lent;
		free(r->cache_dir);
		r->cache_dir = dir;
	} else {
		free(dir);
	}
	return c;
}

void cmd_close_cache(struct request *r, struct cache *c)
{
	if (!c || c != r->cache) {
		cache_close(c);
		return;
	}
	if (r->cache_lent && !r->on_pool)
		host_cache_give_later(r->host, c, r->cache_dir); /* its writes off the loop */
	else
		host_cache_give(r->host, c, r->cache_lent, r->cache_dir);
	r->cache = NULL;
	r->cache_lent = false;
}

int cmd_new_hasher(struct request *r, struct workspace *ws, struct cache *c,
                   struct hasher **ret, struct bld_err *err)
{
	int rc = hasher_new(ws, c, r->env, ret, err);
	struct cache_memo *m = rc >= 0 && r->host ? host_memo(r->host) : NULL;
	if (m)
		/* task hashes are kept only for the snapshot's own workspace (not for
		 * another commit's, as --by-inputs loads) */
		hasher_set_memo(*ret, m, r->snap && ws == r->snap->ws ? r->snap->generation : 0);
	return rc;
}

int cmd_shard_graph(struct request *r, struct cache *c, struct task_graph *tg,
                    struct bld_err *err)
{
	const char *spec = request_arg_str(r, "shard");
	int i, n;
	if (!spec)
		return 0;
	int rc = task_graph_parse_shard(spec, &i, &n, err);
	if (rc < 0)
		return rc;
	uint64_t *ms = NULL;
	const char *by = request_getenv(r, "BLD_SHARD_BY");
	int64_t cutoff = task_graph_shard_cutoff(tg->ws);
	if (by && *by && strcmp(by, "count") && strcmp(by, "duration"))
		return bld_err_set(err, BLD_EUSAGE,
		                   "BLD_SHARD_BY=%s: expected \"duration\" (the default) or "
		                   "\"count\"",
		                   by);
	if (c && cutoff > 0 && !(by && !strcmp(by, "count"))) {
		const char **ids = xcalloc(tg->ntasks + 1, sizeof(*ids));
		for (size_t k = 0; k < tg->ntasks; k++)
			ids[k] = tg->tasks[k].id;
		ms = xcalloc(tg->ntasks + 1, sizeof(*ms));
		struct bld_err derr;
		bld_err_clear(&derr);
		if (cache_task_durations(c, ids, tg->ntasks, cutoff, ms, &derr) < 0) {
			request_message(r, "warn", "--shard: %s; balancing by task count", derr.msg);
			free(ms);
			ms = NULL;
		}
		free(ids);
	}
	int *assign = xcalloc(tg->ntasks + 1, sizeof(*assign));
	task_graph_shard_assign(tg, ms, n, assign);
	size_t before = tg->ntasks;
	task_graph_keep_shard(tg, assign, i - 1);
	if (!tg->ntasks && before)
		request_message(r, "info",
		                "shard %d/%d has no tasks: the %zu task%s went to the other shards", i,
		                n, before, before == 1 ? "" : "s");
	free(assign);
	free(ms);
	return 0;
}

struct store_backend *cmd_open_remote(struct request *r, const struct workspace *ws)
{
	struct remote_config cfg;
	struct store_backend *rem = NULL;
	struct bld_err err;
	bld_err_clear(&err);
	int rc = remote_config_read(r->env, ws->nx_json, &cfg, &err);
	if (rc > 0) /* a resident host keeps the connections for the next request */
		rc = r->host ? host_remote_open(r->host, &cfg, &rem, &err)
		             : remote_new(&cfg, &rem, &err);
	if (rc < 0)
		request_message(r, "warn", "remote cache not used: %s", err.msg);
	remote_config_release(&cfg);
	return rc < 0 ? NULL : rem;
}

void cmd_mark_remote_hits(struct request *r, const struct workspace *ws,
                          const struct task_graph *tg, const char **status)
{
	struct store_backend *rem = cmd_open_remote(r, ws);
	if (!rem)
		return;
	const char **hashes = xcalloc(tg->ntasks + 1, sizeof(*hashes));
	size_t *which = xcalloc(tg->ntasks + 1, sizeof(*which)), n = 0;
	for (size_t i = 0; i < tg->ntasks; i++) {
		if (status[i] && !strcmp(status[i], "miss") && tg->tasks[i].hash[0]) {
			which[n] = i;
			hashes[n++] = tg->tasks[i].hash;
		}
	}
	int *has = xcalloc(n + 1, sizeof(*has));
	store_has(rem, hashes, n, has);
	for (size_t k = 0; k < n; k++)
		if (has[k] == 1)
			status[which[k]] = "remote";
	struct strvec warns;
	strvec_init(&warns);
	store_take_warnings(rem, &warns);
	for (size_t k = 0; k < warns.n; k++)
		request_message(r, "warn", "%s", warns.v[k]);
	strvec_release(&warns);
	free(has);
	free(which);
	free(hashes);
	store_backend_free(rem);
}

/* Hash and look up task i: fills *ret_status ("local", "miss", or a reason). */
static const char *task_status(struct cache *c, struct hasher *h, struct task_graph *tg, int i)
{
	struct task *t = &tg->tasks[i];
	if (!h)
		return "no cache";
	struct bld_err err;
	bld_err_clear(&err);
	if (hasher_task_hash(h, tg, i, NULL, &err) < 0) {
		t->hash[0] = '\0';
		return "unknown";
	}
	if (!t->cache || t->continuous)
		return "not cacheable";
	struct cache_entry e;
	memset(&e, 0, sizeof(e));
	int rc = cache_lookup(c, t->hash, &e, &err);
	if (rc > 0)
		cache_entry_release(&e);
	return rc > 0 ? "local" : rc == 0 ? "miss" : "unknown";
}

/* What a run would do with a task of cache status st (docs/affected.md,
 * the stable "status" of --json): restore it from the local cache, from
 * the remote one (task_status answers "remote" once a remote cache is
 * consulted), or run it. */
static const char *status_of(const char *st)
{
	if (!strcmp(st, "local"))
		return "local-hit";
	if (!strcmp(st, "remote"))
		return "remote-hit";
	return "will-run";
}

static int show_tasks(struct request *r, struct workspace *ws, struct bld_err *err)
{
	struct task_graph *tg = NULL;
	int rc = select_tasks(r, ws, &tg, err);
	if (rc < 0)
		return rc;
	struct cache *c = cmd_open_cache(r, ws);
	if ((rc = cmd_shard_graph(r, c, tg, err)) < 0) {
		cmd_close_cache(r, c);
		task_graph_free(tg);
		return rc;
	}
	struct hasher *h = NULL;
	struct bld_err herr;
	bld_err_clear(&herr);
	if (c && cmd_new_hasher(r, ws, c, &h, &herr) < 0)
		h = NULL;
	bool json = request_arg_bool(r, "json");
	cJSON *arr = cJSON_CreateArray();
	struct sbuf out = SBUF_INIT;
	sbuf_init(&out);
	int *order = task_graph_topo(tg);
	const char **status = xcalloc(tg->ntasks + 1, sizeof(*status));
	for (size_t k = 0; k < tg->ntasks; k++) {
		int i = order ? order[k] : (int)k;
		status[i] = task_status(c, h, tg, i);
	}
	if (h)
		cmd_mark_remote_hits(r, ws, tg, status);
	if (!json && tg->ntasks)
		sbuf_addf(&out, "%-40s %-32s %s\n", "TASK", "HASH", "CACHE");
	for (size_t k = 0; k < tg->ntasks; k++) {
		int i = order ? order[k] : (int)k;
		const char *st = status[i];
		const struct task *t = &tg->tasks[i];
		if (json) {
			cJSON *o = cJSON_CreateObject();
			cJSON_AddStringToObject(o, "id", t->id);
			cJSON_AddStringToObject(o, "project", t->project->name);
			cJSON_AddStringToObject(o, "target", t->target->name);
			if (t->configuration)
				cJSON_AddStringToObject(o, "configuration", t->configuration);
			if (t->hash[0])
				cJSON_AddStringToObject(o, "hash", t->hash);
			else
				cJSON_AddNullToObject(o, "hash");
			cJSON_AddStringToObject(o, "cache", st);
			cJSON_AddBoolToObject(o, "requested", t->requested);
			cJSON_AddStringToObject(o, "status", status_of(st));
			cJSON *deps = cJSON_AddArrayToObject(o, "dependsOn");
			for (size_t d = 0; d < t->ndeps; d++)
				cJSON_AddItemToArray(deps,
				                     cJSON_CreateString(tg->tasks[t->deps[d]].id));
			cJSON_AddItemToArray(arr, o);
		} else {
			sbuf_addf(&out, "%-40s %-32s %s\n", t->id, t->hash[0] ? t->hash : "-",
			          !strcmp(st, "local")    ? "local hit"
			          : !strcmp(st, "remote") ? "remote hit"
			                                  : st);
		}
	}
	if (json) {
		char *s = cJSON_Print(arr);
		sbuf_addf(&out, "%s\n", s);
		free(s);
	}
	send_sbuf(r, &out);
	free(status);
	free(order);
	sbuf_release(&out);
	cJSON_Delete(arr);
	hasher_free(h);
	cmd_close_cache(r, c);
	task_graph_free(tg);
	return 0;
}

typedef int show_fn(struct request *r, struct workspace *ws, struct bld_err *err);

/* Load the workspace, run fn on it, answer its error. */
static int with_workspace(struct request *r, show_fn *fn)
{
	struct workspace *ws;
	int code = cmd_load_workspace(r, &ws);
	if (code)
		return code;
	struct bld_err err;
	bld_err_clear(&err);
	int rc = fn(r, ws, &err);
	return rc < 0 ? request_error(r, &err) : 0;
}

static int show_unknown(struct request *r, struct workspace *ws, struct bld_err *err)
{
	return bld_err_set(err, BLD_EUSAGE, "show what? projects, project <name> or tasks");
}

int cmd_show_tasks(struct request *r)
{
	return with_workspace(r, show_tasks);
}

int cmd_show(struct request *r)
{
	const char *what = request_arg_str(r, "what");
	show_fn *fn = show_unknown;
	if (what && !strcmp(what, "projects"))
		fn = show_projects;
	else if (what && !strcmp(what, "project"))
		fn = show_project;
	else if (what && !strcmp(what, "tasks"))
		fn = show_tasks;
	return with_workspace(r, fn);
}

/* ---- graph ---- */

static int graph_format_of(const char *file, enum graph_format *ret, struct bld_err *err)
{
	if (str_ends(file, ".json"))
		*ret = GRAPH_JSON;
	else if (str_ends(file, ".dot") || str_ends(file, ".gv"))
		*ret = GRAPH_DOT;
	else if (str_ends(file, ".html") || str_ends(file, ".htm"))
		*ret = GRAPH_HTML;
	else
		return bld_err_set(
		    err, BLD_EUSAGE,
		    "graph --file %s: unknown format; use a .json, .dot or .html file", file);
	return 0;
}

/* --affected and --focus of `bld graph`; *ret_aff (caller frees) backs marks->affected. */
static int graph_marks_of(struct request *r, const struct workspace *ws,
                          struct graph_marks *marks, bool **ret_aff, struct bld_err *err)
{
	const char *focus = request_arg_str(r, "focus");
	if (focus) {
		const struct ws_project *p = workspace_project(ws, focus);
		if (!p)
			return bld_err_set(err, BLD_ENOPROJECT, "graph --focus %s: no such project",
			                   focus);
		marks->focus = (int)(p - ws->projects);
	}
	if (!request_arg_bool(r, "affected"))
		return 0;
	struct strvec names;
	strvec_init(&names);
	int rc = cmd_select_projects(r, ws, &names, err);
	*ret_aff = xcalloc(ws->nprojects + 1, sizeof(bool));
	for (size_t i = 0; rc >= 0 && i < names.n; i++)
		(*ret_aff)[workspace_project(ws, names.v[i]) - ws->projects] = true;
	marks->affected = *ret_aff;
	strvec_release(&names);
	return rc;
}

int cmd_graph(struct request *r)
{
	struct bld_err err;
	bld_err_clear(&err);
	const char *file = request_arg_str(r, "file");
	if (file && !strcmp(file, "stdout"))
		file = NULL; /* Nx's --file=stdout: the JSON on stdout */
	enum graph_format fmt = GRAPH_JSON;
	if (file && graph_format_of(file, &fmt, &err) < 0)
		return request_error(r, &err);
	struct workspace *ws;
	int code = cmd_load_workspace(r, &ws);
	if (code)
		return code;
	struct task_graph *tg = NULL;
	int rc = 0;
	struct strvec targets;
	strvec_init(&targets);
	request_arg_list(r, "targets", &targets);
	if (targets.n)
		rc = select_tasks(r, ws, &tg, &err);
	strvec_release(&targets);
	struct graph_marks marks = {NULL, -1};
	bool *aff = NULL;
	if (rc >= 0)
		rc = graph_marks_of(r, ws, &marks, &aff, &err);
	struct sbuf out = SBUF_INIT;
	sbuf_init(&out);
	if (rc >= 0)
		graph_export_marked(ws, tg, &marks, fmt, &out);
	free(aff);
	if (rc >= 0 && file) {
		char *path = file[0] == '/' ? xstrdup(file) : path_join(r->cwd, file);
		char *dir = path_dirname(path);
		rc = mkdir_p(dir, 0777);
		if (rc >= 0)
			rc = file_write_atomic(path, out.buf, out.len, 0644);
		if (rc < 0)
			bld_err_set(&err, rc, "cannot write %s: %s", path, bld_strerror(rc));
		else
			request_message(r, "info", "Wrote the project graph to %s", file);
		free(dir);
		free(path);
	} else if (rc >= 0) {
		send_sbuf(r, &out);
	}
	sbuf_release(&out);
	task_graph_free(tg);
	return rc < 0 ? request_error(r, &err) : 0;
}

/* ---- list ---- */

int cmd_list(struct request *r)
{
	struct sbuf out = SBUF_INIT;
	sbuf_init(&out);
	size_t n = 0;
	const struct gen_info *g = gen_list(&n);
	sbuf_adds(&out, "Generators (bld generate <name>):\n");
	for (size_t i = 0; i < n; i++)
		sbuf_addf(&out, "  %-30s %s\n", g[i].name,
		          g[i].description ? g[i].description : "");
	if (!n)
		sbuf_adds(&out, "  (none)\n");
	sbuf_adds(&out, "\nExecutors (\"executor\" in project.json targets):\n");
	exec_describe(&out);
	send_sbuf(r, &out);
	sbuf_release(&out);
	return 0;
}

/* ---- generate ---- */

/* After a generator changed the uv workspace: `uv lock` at the root.  Commands run on
 * the thread pool, so this waits for it; uv's output is shown only when it fails. */
static int uv_lock(struct request *r, const char *root)
{
	int fds[2];
	/* close-on-exec: a task spawned meanwhile must not keep the write end (the read
	 * below would wait for that task); dup2 onto 1 and 2 clears it for uv */
	if (pipe2(fds, O_CLOEXEC) < 0) {
		request_message(r, "error", "cannot run `uv lock`: %s", strerror(errno));
		return 1;
	}
	pid_t pid = fork();
	if (pid == 0) {
		dup2(fds[1], 1);
		dup2(fds[1], 2);
		close(fds[0]);
		close(fds[1]);
		int devnull = open("/dev/null", O_RDONLY);
		if (devnull >= 0)
			dup2(devnull, 0);
		if (chdir(root) < 0)
			_exit(126);
		char *argv[] = {"/bin/sh", "-c",
		                "command -v uv >/dev/null 2>&1 || exit 127; exec uv lock", NULL};
		execve("/bin/sh", argv, r->env);
		_exit(126);
	}
	close(fds[1]);
	struct sbuf out = SBUF_INIT;
	sbuf_init(&out);
	char buf[4096];
	ssize_t n;
	while (pid > 0 && ((n = read(fds[0], buf, sizeof(buf))) > 0 || (n < 0 && errno == EINTR)))
		if (n > 0)
			sbuf_add(&out, buf, (size_t)n);
	close(fds[0]);
	int status = 0, code = 126;
	if (pid > 0) {
		while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
			;
		code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
	}
	if (code == 127) {
		request_message(r, "error",
		                "uv is not on the PATH, so uv.lock was not created (the other "
		                "files are written): " EXEC_UV_INSTALL ", then run `uv lock` at "
		                "the workspace root");
	} else if (code != 0) {
		if (out.len)
			request_text(r, out.buf, out.len);
		request_message(r, "error",
		                "`uv lock` failed (exit %d): uv.lock was not created or updated; fix "
		                "the cause above and run `uv lock` at the workspace root",
		                code);
	} else {
		request_message(r, "info", "uv lock: uv.lock is up to date");
	}
	sbuf_release(&out);
	return code == 0 ? 0 : 1;
}

int cmd_generate(struct request *r)
{
	struct bld_err err;
	bld_err_clear(&err);
	const char *name = request_arg_str(r, "generator");
	if (!name) {
		bld_err_set(&err, BLD_EUSAGE, "generate: which generator? (bld list shows them)");
		return request_error(r, &err);
	}
	char *root = NULL;
	if (workspace_find_root(r->cwd, &root, NULL) < 0)
		root = xstrdup(r->cwd);
	const cJSON *opts = cJSON_GetObjectItemCaseSensitive(r->args, "options");
	cJSON *empty = cJSON_CreateObject();
	struct sbuf out = SBUF_INIT;
	sbuf_init(&out);
	bool dry = request_arg_bool(r, "dryRun");
	bool lock = false;
	int rc = gen_run(name, root, cJSON_IsObject(opts) ? opts : empty, dry, &out, &lock, &err);
	send_sbuf(r, &out);
	if (rc >= 0 && dry)
		request_message(r, "warn", "--dry-run: no files were written");
	sbuf_release(&out);
	cJSON_Delete(empty);
	if (rc < 0) {
		free(root);
		return request_error(r, &err);
	}
	if (!lock || dry) {
		free(root);
		return 0;
	}
	rc = uv_lock(r, root);
	free(root);
	return rc;
}

/* ---- cache ---- */

static const char *arg_or(const struct request *r, const char *name, const char *dflt)
{
	const char *v = request_arg_str(r, name);
	return v ? v : dflt;
}

/* cache why <task>: hash the task (deps' outputs as they are now) and compare. */
static int cache_why(struct request *r, struct workspace *ws, struct cache *c, const char *spec,
                     struct sbuf *out, struct bld_err *err)
{
	const char *colon = spec ? strchr(spec, ':') : NULL;
	if (!colon)
		return bld_err_set(err, BLD_EUSAGE, "cache why <project>:<target>");
	struct tg_request tq;
	tg_request_init(&tq);
	strvec_push_owned(&tq.projects, xstrndup(spec, (size_t)(colon - spec)));
	char *target = xstrdup(colon + 1);
	char *cfg = strrchr(target, ':');
	const struct ws_project *p = workspace_project(ws, tq.projects.v[0]);
	if (cfg && p && !ws_project_target(p, target)) {
		*cfg = '\0';
		tq.configuration = cfg + 1;
	}
	strvec_push(&tq.targets, target);
	struct task_graph *tg = NULL;
	struct hasher *h = NULL;
	cJSON *manifest = NULL;
	int rc = task_graph_build(ws, &tq, &tg, err);
	if (rc >= 0)
		rc = cmd_new_hasher(r, ws, c, &h, err);
	int i = -1;
	for (size_t k = 0; rc >= 0 && k < tg->ntasks; k++)
		if (tg->tasks[k].requested)
			i = (int)k;
	if (rc >= 0 && i >= 0)
		rc = hasher_task_hash(h, tg, i, &manifest, err);
	if (rc >= 0 && i >= 0)
		rc = cache_cmd_why(c, tg->tasks[i].id, manifest, out, err);
	cJSON_Delete(manifest);
	hasher_free(h);
	task_graph_free(tg);
	free(target);
	tg_request_release(&tq);
	return rc;
}

static int cache_prune_cmd(struct request *r, struct cache *c, struct sbuf *out,
                           struct bld_err *err)
{
	const char *arg = arg_or(r, "maxSize", "10G");
	uint64_t max = cache_parse_size(arg);
	if (!max && strcmp(arg, "0"))
		return bld_err_set(err, BLD_EUSAGE,
		                   "--max-size %s: expected a size like 10G, 500M, 1.5k or bytes",
		                   arg);
	return cache_cmd_prune(c, max, out, err);
}

int cmd_cache(struct request *r)
{
	struct bld_err err;
	bld_err_clear(&err);
	const char *sub = request_arg_str(r, "sub");
	struct workspace *ws;
	int code = cmd_load_workspace(r, &ws);
	if (code)
		return code;
	struct cache *c = cmd_open_cache(r, ws);
	struct sbuf out = SBUF_INIT;
	sbuf_init(&out);
	bool json = request_arg_bool(r, "json");
	const char *arg = request_arg_str(r, "arg");
	int rc;
	if (!c)
		rc = bld_err_set(&err, BLD_ECACHE, "the cache cannot be opened");
	else if (!sub || !strcmp(sub, "ls"))
		rc = cache_cmd_ls(c, json, &out, &err);
	else if (!strcmp(sub, "show"))
		rc = arg ? cache_cmd_show(c, arg, json, &out, &err)
		         : bld_err_set(&err, BLD_EUSAGE, "cache show <hash>");
	else if (!strcmp(sub, "stats"))
		rc = cache_cmd_stats(c, json, &out, &err);
	else if (!strcmp(sub, "prune"))
		rc = cache_prune_cmd(r, c, &out, &err);
	else if (!strcmp(sub, "why"))
		rc = cache_why(r, ws, c, arg, &out, &err);
	else
		rc = bld_err_set(&err, BLD_EUSAGE,
		                 "unknown cache command \"%s\"; use ls, show, stats, prune or why",
		                 sub);
	send_sbuf(r, &out);
	sbuf_release(&out);
	cmd_close_cache(r, c);
	return rc < 0 ? request_error(r, &err) : 0;
}

/* ---- reset ---- */

int cmd_reset(struct request *r)
{
	struct bld_err err;
	bld_err_clear(&err);
	char *root = NULL;
	if (workspace_find_root(r->cwd, &root, &err) < 0)
		return request_error(r, &err);
	char *state = path_join(root, ".bld");
	int rc = rm_rf(state);
	char *dir = cache_default_dir(root, r->env, r->cwd);
	char *rel = path_relative(state, dir);
	if (rc >= 0 && !rel) {
		/* a BLD_CACHE_DIR outside .bld/ */
		rc = rm_rf(dir);
		if (rc >= 0)
			request_message(r, "info", "Deleted the cache %s", dir);
	}
	free(rel);
	free(dir);
	if (rc < 0)
		bld_err_set(&err, rc, "cannot delete %s: %s", state, bld_strerror(rc));
	else
		request_message(r, "info", "Deleted %s (cache and workspace state)", state);
	free(state);
	free(root);
	return rc < 0 ? request_error(r, &err) : 0;
}
