/*
 * render.c - events -> terminal output.
 *
 * Plain lines, whatever the terminal.  A task running alone streams its
 * bytes straight through, untouched (progress bars and partial lines
 * included).  Once two tasks run at the same time, each of them is
 * "overlapped" for the rest of its life: its output is cut into whole lines,
 * each prefixed with the task id, and a partial line is held back until it
 * is completed (or the task ends), so lines never interleave mid-line.
 * Task output goes to stdout or stderr as the task wrote it; bld's own
 * messages go to stderr; printed text (show, graph, ...) to stdout.
 */
#include <stdlib.h>
#include <string.h>

#include "bld/proto.h"
#include "client.h"

#define C_RESET "\033[0m"
#define C_BOLD "\033[1m"
#define C_DIM "\033[2m"
#define C_OK "\033[0;102;30m"
#define C_ERR "\033[0;101;30m"
#define C_RED "\033[31m"
#define C_YELLOW "\033[33m"

static void out(struct render *r, int fd_index, const char *s, size_t len)
{
	if (!len)
		return;
	proto_write_all(fd_index == 2 ? r->err_fd : r->out_fd, s, len);
	r->at_bol[fd_index] = s[len - 1] == '\n';
}

static void outs(struct render *r, int fd_index, const char *s)
{
	out(r, fd_index, s, strlen(s));
}

/* Start a fresh line on fd_index if something left it mid-line. */
static void newline_if_needed(struct render *r, int fd_index)
{
	if (!r->at_bol[fd_index])
		out(r, fd_index, "\n", 1);
}

void render_init(struct render *r, int out_fd, int err_fd, bool color)
{
	memset(r, 0, sizeof(*r));
	r->out_fd = out_fd;
	r->err_fd = err_fd;
	r->color = color;
	r->at_bol[1] = r->at_bol[2] = true;
	strvec_init(&r->targets);
	strvec_init(&r->projects);
	strvec_init(&r->failed_ids);
}

void render_release(struct render *r)
{
	for (size_t i = 0; i < r->ntasks; i++) {
		struct render_task *t = &r->tasks[i];
		free(t->id);
		free(t->status);
		free(t->cache);
		sbuf_release(&t->part[1]);
		sbuf_release(&t->part[2]);
	}
	free(r->tasks);
	free(r->cmd);
	strvec_release(&r->targets);
	strvec_release(&r->projects);
	strvec_release(&r->failed_ids);
}

static struct render_task *task_at(struct render *r, size_t i)
{
	if (i >= 1u << 24)
		return NULL;
	if (i >= r->ntasks) {
		xgrow(&r->tasks, &r->cap, i + 1, sizeof(*r->tasks));
		memset(r->tasks + r->ntasks, 0, (i + 1 - r->ntasks) * sizeof(*r->tasks));
		r->ntasks = i + 1;
	}
	return &r->tasks[i];
}

static const char *jstr(const cJSON *ev, const char *name)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(ev, name);
	return cJSON_IsString(v) ? v->valuestring : NULL;
}

static int jint(const cJSON *ev, const char *name)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(ev, name);
	return cJSON_IsNumber(v) ? v->valueint : -1;
}

static void jlist(const cJSON *ev, const char *name, struct strvec *ret)
{
	const cJSON *e;
	cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(ev, name))
	{
		if (cJSON_IsString(e))
			strvec_push(ret, e->valuestring);
	}
}

/* "target build for project a and 2 tasks it depends on" */
static void describe_run(struct render *r, struct sbuf *sb)
{
	sbuf_addf(sb, "target%s ", r->targets.n > 1 ? "s" : "");
	for (size_t i = 0; i < r->targets.n; i++)
		sbuf_addf(sb, "%s%s", i ? ", " : "", r->targets.v[i]);
	if (r->projects.n == 1)
		sbuf_addf(sb, " for project %s", r->projects.v[0]);
	else
		sbuf_addf(sb, " for %zu projects", r->projects.n);
	int deps = r->total - r->requested;
	if (deps > 0)
		sbuf_addf(sb, " and %d task%s it depends on", deps, deps == 1 ? "" : "s");
}

static void badge(struct render *r, struct sbuf *sb, bool ok)
{
	if (r->color)
		sbuf_addf(sb, "%s BLD %s  ", ok ? C_OK : C_ERR, C_RESET);
	else
		sbuf_adds(sb, " BLD   ");
}

static void on_run_start(struct render *r, const cJSON *ev)
{
	r->is_run = true;
	free(r->cmd);
	r->cmd = xstrdup(jstr(ev, "cmd") ? jstr(ev, "cmd") : "run");
	jlist(ev, "targets", &r->targets);
	jlist(ev, "projects", &r->projects);
	r->total = jint(ev, "tasks");
	r->requested = jint(ev, "requested");
	bool many = strcmp(r->cmd, "run");
	/* as Nx: a lone task gets no header; run-many lists its projects */
	if (r->total <= 0 || (!many && r->total <= r->requested))
		return;
	struct sbuf sb = SBUF_INIT;
	sbuf_init(&sb);
	sbuf_addc(&sb, '\n');
	badge(r, &sb, true);
	sbuf_adds(&sb, "Running ");
	describe_run(r, &sb);
	sbuf_adds(&sb, ":\n\n");
	for (size_t i = 0; many && i < r->projects.n; i++)
		sbuf_addf(&sb, "- %s\n", r->projects.v[i]);
	if (many)
		sbuf_addc(&sb, '\n');
	outs(r, 1, sb.buf);
	sbuf_release(&sb);
}

static void mark_overlap(struct render *r)
{
	for (size_t i = 0; i < r->ntasks; i++) {
		struct render_task *t = &r->tasks[i];
		if (t->running && !t->overlapped) {
			t->overlapped = true;
			newline_if_needed(r, 1);
			newline_if_needed(r, 2);
		}
	}
}

static void on_task_start(struct render *r, const cJSON *ev)
{
	struct render_task *t = task_at(r, (size_t)jint(ev, "task"));
	if (!t)
		return;
	free(t->id);
	t->id = xstrdup(jstr(ev, "id") ? jstr(ev, "id") : "?");
	sbuf_init(&t->part[1]);
	sbuf_init(&t->part[2]);
	t->running = true;
	r->running++;
	if (r->running > 1)
		mark_overlap(r);
	const char *cache = jstr(ev, "cache");
	const char *project = jstr(ev, "project");
	/* as Nx's `run`: a cached task of another project shows its header, not its output */
	t->quiet = !r->verbose && r->cmd && !strcmp(r->cmd, "run") && cache &&
	           (!strcmp(cache, "local") || !strcmp(cache, "remote")) && project &&
	           r->projects.n == 1 &&
	           strcmp(project, r->projects.v[0]);
	struct sbuf sb = SBUF_INIT;
	sbuf_init(&sb);
	newline_if_needed(r, 1);
	sbuf_addf(&sb, "%s> bld run %s%s", r->color ? C_BOLD : "", t->id, r->color ? C_RESET : "");
	if (cache && (!strcmp(cache, "local") || !strcmp(cache, "remote")))
		sbuf_addf(&sb, "  %s[%s cache]%s", r->color ? C_DIM : "", cache,
		          r->color ? C_RESET : "");
	sbuf_adds(&sb, "\n\n");
	const cJSON *c;
	cJSON_ArrayForEach(c, cJSON_GetObjectItemCaseSensitive(ev, "commands"))
	{
		if (r->verbose && cJSON_IsString(c))
			sbuf_addf(&sb, "> %s\n\n", c->valuestring);
	}
	outs(r, 1, sb.buf);
	sbuf_release(&sb);
}

/* Write the whole lines of t's held output on stream s (and the rest when flush). */
static void emit_lines(struct render *r, struct render_task *t, int s, bool flush)
{
	struct sbuf *p = &t->part[s];
	size_t start = 0;
	struct sbuf line = SBUF_INIT;
	sbuf_init(&line);
	for (;;) {
		char *nl = memchr(p->buf + start, '\n', p->len - start);
		size_t end = nl ? (size_t)(nl - p->buf) + 1 : p->len;
		if (!nl && (!flush || end == start))
			break;
		sbuf_reset(&line);
		if (r->color)
			sbuf_addf(&line, "%s%s:%s ", C_DIM, t->id, C_RESET);
		else
			sbuf_addf(&line, "%s: ", t->id);
		sbuf_add(&line, p->buf + start, end - start);
		if (!nl)
			sbuf_addc(&line, '\n');
		out(r, s, line.buf, line.len);
		start = end;
		if (!nl)
			break;
	}
	if (start) {
		memmove(p->buf, p->buf + start, p->len - start);
		p->len -= start;
		p->buf[p->len] = '\0';
	}
	sbuf_release(&line);
}

void render_output(struct render *r, uint32_t task, int stream, const char *data, size_t len)
{
	struct render_task *t = task_at(r, task);
	int s = stream == 2 ? 2 : 1;
	if (t && t->quiet)
		return;
	if (!t || !t->id || !t->overlapped) {
		out(r, s, data, len);
		return;
	}
	sbuf_add(&t->part[s], data, len);
	emit_lines(r, t, s, false);
}

static void on_task_end(struct render *r, const cJSON *ev)
{
	struct render_task *t = task_at(r, (size_t)jint(ev, "task"));
	if (!t)
		return;
	if (!t->id)
		t->id = xstrdup(jstr(ev, "id") ? jstr(ev, "id") : "?");
	const char *status = jstr(ev, "status") ? jstr(ev, "status") : "failure";
	const char *cache = jstr(ev, "cache") ? jstr(ev, "cache") : "off";
	free(t->status);
	free(t->cache);
	t->status = xstrdup(status);
	t->cache = xstrdup(cache);
	if (t->running) {
		emit_lines(r, t, 1, true);
		emit_lines(r, t, 2, true);
		t->running = false;
		r->running--;
	}
	if (!strcmp(status, "success")) {
		r->ok++;
		if (!strcmp(cache, "local") || !strcmp(cache, "remote"))
			r->hits++;
	} else if (!strcmp(status, "skipped")) {
		r->skipped++;
	} else if (!strcmp(status, "canceled")) {
		r->canceled++;
	} else {
		r->failed++;
		strvec_push(&r->failed_ids, t->id);
	}
}

static void on_message(struct render *r, const cJSON *ev)
{
	const char *level = jstr(ev, "level") ? jstr(ev, "level") : "info";
	const char *text = jstr(ev, "text") ? jstr(ev, "text") : "";
	struct sbuf sb = SBUF_INIT;
	sbuf_init(&sb);
	newline_if_needed(r, 2);
	if (!strcmp(level, "error"))
		sbuf_addf(&sb, "%sbld: error:%s %s\n", r->color ? C_RED : "",
		          r->color ? C_RESET : "", text);
	else if (!strcmp(level, "warn"))
		sbuf_addf(&sb, "%sbld: warning:%s %s\n", r->color ? C_YELLOW : "",
		          r->color ? C_RESET : "", text);
	else
		sbuf_addf(&sb, "%s\n", text);
	outs(r, 2, sb.buf);
	sbuf_release(&sb);
}

void render_event(struct render *r, const cJSON *ev)
{
	const char *t = jstr(ev, "t");
	if (!t)
		return;
	if (!strcmp(t, "run-start"))
		on_run_start(r, ev);
	else if (!strcmp(t, "task-start"))
		on_task_start(r, ev);
	else if (!strcmp(t, "task-end"))
		on_task_end(r, ev);
	else if (!strcmp(t, "message"))
		on_message(r, ev);
	else if (!strcmp(t, "text") && jstr(ev, "text"))
		outs(r, 1, jstr(ev, "text"));
}

static void summary_failed(struct render *r, struct sbuf *sb)
{
	badge(r, sb, false);
	sbuf_adds(sb, "Running ");
	describe_run(r, sb);
	sbuf_adds(sb, " failed\n\n");
	sbuf_adds(sb, "   Failed tasks:\n\n");
	for (size_t i = 0; i < r->failed_ids.n; i++)
		sbuf_addf(sb, "   - %s\n", r->failed_ids.v[i]);
	if (r->skipped)
		sbuf_addf(sb, "\n   %d task%s did not run because a dependency failed%s.\n",
		          r->skipped, r->skipped == 1 ? "" : "s",
		          r->failed_ids.n ? "" : " or the run stopped");
}

void render_done(struct render *r, int exit_code)
{
	for (size_t i = 0; i < r->ntasks; i++)
		if (r->tasks[i].running && r->tasks[i].id) {
			emit_lines(r, &r->tasks[i], 1, true);
			emit_lines(r, &r->tasks[i], 2, true);
		}
	if (!r->is_run || exit_code == 2 || r->total <= 0)
		return;
	struct sbuf sb = SBUF_INIT;
	sbuf_init(&sb);
	newline_if_needed(r, 1);
	sbuf_addc(&sb, '\n');
	if (exit_code == 130) {
		badge(r, &sb, false);
		sbuf_adds(&sb, "Interrupted: running tasks were stopped.\n");
	} else if (r->failed || r->skipped || exit_code) {
		summary_failed(r, &sb);
	} else {
		badge(r, &sb, true);
		sbuf_adds(&sb, "Successfully ran ");
		describe_run(r, &sb);
		sbuf_addc(&sb, '\n');
	}
	if (r->hits && exit_code != 130)
		sbuf_addf(&sb,
		          "\nbld read the output from the cache instead of running the command "
		          "for %d out of %d tasks.\n",
		          r->hits, r->ok + r->failed + r->skipped);
	outs(r, 1, sb.buf);
	sbuf_release(&sb);
}
