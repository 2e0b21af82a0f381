/*
 * byinputs.c - `--by-inputs`: the affected projects are those with a
 * requested task (-t) whose hash differs from its hash at the merge-base (or
 * that has no such task there), instead of Nx's project-level rule.
 *
 * Both hashes come from the same loader and hasher: today's from the
 * workspace as the request sees it (the disk, or head's tree through a view
 * when --head is given), the merge-base's from the workspace loaded through
 * the view of the merge-base (graph/affected.c, affected_views: the disk
 * with the paths that differ read from git's blobs; no checkout).  So
 * configuration changes (options of another target, namedInputs, the
 * root tsconfig, lock files) count exactly as far as they reach a task's
 * hash.  The environment, runtime inputs and dependency outputs are this
 * machine's on both sides.  docs/affected.md has the rule.
 */
#include <stdlib.h>
#include <string.h>

#include "bld/affected.h"
#include "bld/cache.h"
#include "engine_int.h"
#include "host.h"

/* Hash the requested tasks (targets of r on the projects named in names that
 * ws has), with memo (may be NULL) for the files neither side's view gives.
 * Without then: put task id -> hash into ret (owned strings).  With then
 * (ids -> hashes at the base): mark in keep (indices of keep_ws's projects)
 * each project with a task whose id is not in then or whose hash differs. */
static int requested_hashes(struct request *r, struct workspace *ws, const struct strvec *names,
                            struct cache_memo *memo, struct strmap *ret,
                            const struct strmap *then, const struct workspace *keep_ws,
                            bool *keep, struct bld_err *err)
{
	struct tg_request tq;
	tg_request_init(&tq);
	request_arg_list(r, "targets", &tq.targets);
	tq.skip_missing = true;
	tq.configuration = request_arg_str(r, "configuration");
	for (size_t i = 0; i < names->n; i++)
		if (workspace_project(ws, names->v[i]))
			strvec_push(&tq.projects, names->v[i]);
	struct task_graph *tg = NULL;
	struct cache *cache = NULL;
	struct hasher *h = NULL;
	int rc = tq.projects.n ? task_graph_build(ws, &tq, &tg, err) : 0;
	if (rc >= 0 && tg && !(cache = cmd_open_cache(r, ws)))
		rc = bld_err_set(err, BLD_ECACHE, "--by-inputs needs the cache to hash tasks");
	if (rc >= 0 && tg)
		rc = cmd_new_hasher(r, ws, cache, &h, err);
	if (rc >= 0 && tg && memo)
		hasher_set_memo(h, memo, 0); /* file hashes only */
	/* a hash covers the files (and outputs on disk) of dependencies, never their
	 * hashes: only the requested tasks need one */
	for (size_t i = 0; rc >= 0 && tg && i < tg->ntasks; i++) {
		const struct task *t = &tg->tasks[i];
		if (!t->requested || (rc = hasher_task_hash(h, tg, (int)i, NULL, err)) < 0)
			continue;
		if (!then) {
			strmap_put(ret, t->id, xstrdup(t->hash));
			continue;
		}
		const char *old = strmap_get(then, t->id);
		const struct ws_project *p = workspace_project(keep_ws, t->project->name);
		if ((!old || strcmp(old, t->hash)) && p)
			keep[p - keep_ws->projects] = true;
	}
	hasher_free(h);
	cmd_close_cache(r, cache);
	task_graph_free(tg);
	tg_request_release(&tq);
	return rc;
}

static void hashes_release(struct strmap *m)
{
	size_t it = 0;
	void *v;
	while (strmap_next(m, &it, NULL, &v))
		free(v);
	strmap_release(m);
}

/* Load the workspace at ws's root through view; NULL with a warning naming
 * the fault when it cannot be loaded there. */
static struct workspace *load_side(struct request *r, const struct workspace *ws,
                                   const struct ws_view *view, const char *side)
{
	struct bld_err err;
	bld_err_clear(&err);
	struct ws_load_opts o = {.view = view};
	struct workspace *at = NULL;
	if (workspace_load(ws->root, &o, &at, &err) < 0) {
		char what[1600];
		bld_err_format(&err, what, sizeof(what));
		request_message(r, "warn",
		                "--by-inputs: the workspace at %s cannot be loaded (%s): every "
		                "selected project counts as affected",
		                side, what);
	}
	return at;
}

/* The hashes at the base side, and today's compared with them into keep. */
static int compare_sides(struct request *r, struct workspace *ws, const struct affected_opts *o,
                         const struct strvec *names, bool *keep, struct bld_err *err)
{
	struct ws_view base, head;
	char base_id[41];
	ws_view_init(&base);
	ws_view_init(&head);
	int rc = affected_views(ws, o, &base, &head, base_id, err);
	struct workspace *now = NULL, *then = NULL;
	if (rc >= 0) {
		/* head's side is the request's workspace when the disk is head (a CI
		 * checkout of head: the usual case) */
		now = o->head && head.files.n ? load_side(r, ws, &head, o->head) : ws;
		then = now ? load_side(r, ws, &base, base_id) : NULL;
	}
	struct strmap hthen;
	strmap_init(&hthen);
	/* both sides read the same disk outside their views: each such file is
	 * hashed once (a daemon's hasher has the host's memo already) */
	struct cache_memo *memo = r->host && host_memo(r->host) ? NULL : cache_memo_new();
	if (then)
		rc = requested_hashes(r, then, names, memo, &hthen, NULL, NULL, NULL, err);
	if (rc >= 0 && then)
		rc = requested_hashes(r, now, names, memo, NULL, &hthen, ws, keep, err);
	else if (rc >= 0) /* a side could not be loaded: every candidate */
		for (size_t i = 0; i < names->n; i++) {
			const struct ws_project *p = workspace_project(ws, names->v[i]);
			if (p)
				keep[p - ws->projects] = true;
		}
	cache_memo_free(memo);
	if (rc >= 0 && request_arg_bool(r, "verbose"))
		request_message(r, "info",
		                "--by-inputs: task hashes compared with those at %s, computed from "
		                "git's trees",
		                base_id);
	hashes_release(&hthen);
	if (now != ws)
		workspace_free(now);
	workspace_free(then);
	ws_view_release(&base);
	ws_view_release(&head);
	return rc;
}

int cmd_by_inputs(struct request *r, struct workspace *ws, const struct affected_opts *o,
                  const struct strvec *names, bool *sel, struct bld_err *err)
{
	struct strvec targets;
	strvec_init(&targets);
	request_arg_list(r, "targets", &targets);
	int rc = targets.n ? 0 : bld_err_set(err, BLD_EUSAGE, "--by-inputs needs -t <target>...");
	if (rc >= 0 && o->files)
		rc = bld_err_set(err, BLD_EUSAGE,
		                 "--by-inputs compares task hashes with those of the base commit; "
		                 "--files names no commit (use --base/--head, --uncommitted or "
		                 "--untracked)");
	if (rc >= 0 && names->n)
		rc = compare_sides(r, ws, o, names, sel, err);
	strvec_release(&targets);
	return rc;
}
