/*
 * request.c - one client request: parsing the request message, dispatching
 * on its command, the event helpers, finishing and cancelling.
 */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "engine_int.h"
#include "host.h"

static char **env_from_json(const cJSON *env)
{
	size_t n = (size_t)cJSON_GetArraySize(env);
	char **v = xcalloc(n + 1, sizeof(*v));
	size_t k = 0;
	const cJSON *e;
	cJSON_ArrayForEach(e, env)
	{
		if (cJSON_IsString(e) && strchr(e->valuestring, '='))
			v[k++] = xstrdup(e->valuestring);
	}
	return v;
}

int request_new(struct daemon *d, struct conn *c, cJSON *msg, struct request **ret,
                struct bld_err *err)
{
	const cJSON *cmd = cJSON_GetObjectItemCaseSensitive(msg, "cmd");
	const cJSON *cwd = cJSON_GetObjectItemCaseSensitive(msg, "cwd");
	cJSON *args = cJSON_GetObjectItemCaseSensitive(msg, "args");
	if (!cJSON_IsString(cmd) || !cJSON_IsString(cwd) || cwd->valuestring[0] != '/') {
		cJSON_Delete(msg);
		return bld_err_set(
		    err, BLD_EPROTO,
		    "protocol error: a request needs \"cmd\" and an absolute \"cwd\"");
	}
	if (!cJSON_IsObject(args)) {
		cJSON_DeleteItemFromObjectCaseSensitive(msg, "args");
		args = cJSON_AddObjectToObject(msg, "args");
	}
	struct request *r = xcalloc(1, sizeof(*r));
	r->d = d;
	r->conn = c;
	r->msg = msg;
	r->cmd = cmd->valuestring;
	r->args = args;
	r->cwd = xstrdup(cwd->valuestring);
	r->env = env_from_json(cJSON_GetObjectItemCaseSensitive(msg, "env"));
	r->tty = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(msg, "tty"));
	r->color = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(msg, "color"));
	const cJSON *cols = cJSON_GetObjectItemCaseSensitive(msg, "columns");
	r->columns = cJSON_IsNumber(cols) ? cols->valueint : 80;
	*ret = r;
	return 0;
}

void request_free(struct request *r)
{
	if (!r)
		return;
	run_free(r->run);
	snapshot_unref(r->snap);
	free(r->cache_dir);
	for (size_t i = 0; r->env && r->env[i]; i++)
		free(r->env[i]);
	free(r->env);
	free(r->cwd);
	cJSON_Delete(r->msg);
	sbuf_release(&r->held);
	free(r);
}

void request_send_json_text(struct request *r, const char *json, size_t len)
{
	if (r->on_pool) /* a worker thread: the loop sends it later */
		proto_encode_json(&r->held, json, len);
	else
		conn_send_json_text(r->conn, json, len);
}

void request_send(struct request *r, cJSON *msg)
{
	if (r->on_pool || r->conn) {
		char *text = cJSON_PrintUnformatted(msg);
		request_send_json_text(r, text, strlen(text));
		free(text);
	}
	cJSON_Delete(msg);
}

void request_send_frames(struct request *r, const char *frames, size_t len)
{
	if (r->on_pool)
		sbuf_add(&r->held, frames, len);
	else if (r->conn && len)
		conn_send_frames(r->conn, memcpy(xmalloc(len), frames, len), len);
}

void request_message(struct request *r, const char *level, const char *fmt, ...)
{
	char text[4096];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	cJSON *m = cJSON_CreateObject();
	cJSON_AddStringToObject(m, "t", "message");
	cJSON_AddStringToObject(m, "level", level);
	cJSON_AddStringToObject(m, "text", text);
	request_send(r, m);
}

void request_text_frames(struct sbuf *out, const char *text, size_t len)
{
	/* pieces of at most 4 MiB (cut at a line end when there is one), so that even
	 * escaped JSON stays below PROTO_MAX_FRAME */
	const size_t max = 4u << 20;
	struct sbuf m = SBUF_INIT;
	sbuf_init(&m);
	while (len) {
		size_t n = len;
		if (n > max) {
			n = max;
			const char *nl = memrchr(text, '\n', n);
			if (nl)
				n = (size_t)(nl - text) + 1;
		}
		sbuf_reset(&m);
		sbuf_adds(&m, "{\"t\":\"text\",\"text\":");
		sbuf_add_json_mem(&m, text, n);
		sbuf_addc(&m, '}');
		proto_encode_json(out, m.buf, m.len);
		text += n;
		len -= n;
	}
	sbuf_release(&m);
}

void request_text(struct request *r, const char *text, size_t len)
{
	struct sbuf frames = SBUF_INIT;
	sbuf_init(&frames);
	request_text_frames(&frames, text, len);
	if (r->on_pool) {
		sbuf_add(&r->held, frames.buf, frames.len);
	} else {
		size_t n = frames.len;
		conn_send_frames(r->conn, sbuf_detach(&frames), n);
	}
	sbuf_release(&frames);
}

int request_error(struct request *r, const struct bld_err *err)
{
	char buf[2048];
	bld_err_format(err, buf, sizeof(buf));
	request_message(r, "error", "%s", buf);
	return 2;
}

const char *request_getenv(const struct request *r, const char *name)
{
	size_t n = strlen(name);
	for (size_t i = 0; r->env[i]; i++)
		if (!strncmp(r->env[i], name, n) && r->env[i][n] == '=')
			return r->env[i] + n + 1;
	return NULL;
}

const char *request_arg_str(const struct request *r, const char *name)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(r->args, name);
	return cJSON_IsString(v) ? v->valuestring : NULL;
}

bool request_arg_bool(const struct request *r, const char *name)
{
	return cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(r->args, name));
}

int request_arg_int(const struct request *r, const char *name, int dflt)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(r->args, name);
	return cJSON_IsNumber(v) ? v->valueint : dflt;
}

void request_arg_list(const struct request *r, const char *name, struct strvec *ret)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(r->args, name);
	if (cJSON_IsString(v)) {
		strvec_split(ret, v->valuestring, ", ");
		return;
	}
	const cJSON *e;
	cJSON_ArrayForEach(e, v) if (cJSON_IsString(e)) strvec_split(ret, e->valuestring, ", ");
}

void request_arg_list_raw(const struct request *r, const char *name, struct strvec *ret)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(r->args, name);
	const cJSON *e;
	cJSON_ArrayForEach(e, v) if (cJSON_IsString(e)) strvec_push(ret, e->valuestring);
}

void request_finish(struct request *r, int exit_code)
{
	if (r->finished)
		return;
	r->finished = true;
	cJSON *m = cJSON_CreateObject();
	cJSON_AddStringToObject(m, "t", "done");
	cJSON_AddNumberToObject(m, "exit", exit_code);
	request_send(r, m);
	struct conn *c = r->conn;
	if (c)
		c->req = NULL;
	daemon__request_done(r->d, c, exit_code);
	request_free(r);
}

void request_cancel(struct request *r)
{
	if (r->canceled)
		return;
	r->canceled = true;
	if (r->host && host_cancel(r->host, r)) {
		request_finish(r, 130); /* it was waiting for its snapshot */
		return;
	}
	if (r->run)
		run_cancel(r->run); /* finishes the request once its processes are gone */
}

struct command {
	const char *name;
	int (*fn)(struct request *r);
	bool on_loop; /* touches the daemon's state: runs on the loop thread */
};

static const struct command commands[] = {
    {"show", cmd_show, false},         {"graph", cmd_graph, false},
    {"list", cmd_list, false},         {"generate", cmd_generate, false},
    {"cache", cmd_cache, false},       {"reset", cmd_reset, false},
    {"daemon", cmd_daemon, true},
};

/* The text commands block (workspace load, SQLite, generators writing files): they run
 * on the thread pool, so the loop keeps serving other clients meanwhile.  Nothing they
 * touch is shared: the request is theirs until after_command_cb. */
static void command_cb(uv_work_t *w)
{
	struct request *r = w->data;
	for (size_t i = 0; i < ARRAY_LEN(commands); i++)
		if (!strcmp(commands[i].name, r->cmd)) {
			r->work_exit = commands[i].fn(r);
			return;
		}
}

/* --verbose or BLD_DEBUG: where a text command's time went (runs say more: run.c). */
static void command_stats(struct request *r)
{
	const char *dbg = request_getenv(r, "BLD_DEBUG");
	if (!request_arg_bool(r, "verbose") && !(dbg && *dbg && strcmp(dbg, "0")))
		return;
	request_message(r, "info", "bld: daemon: %.2f ms: host %.2f ms (generation %llu), %s %.2f ms",
	                (double)(now_ns() - r->t_start_ns) / 1e6, (double)r->t_host_ns / 1e6,
	                r->snap ? (unsigned long long)r->snap->generation : 0ULL, r->cmd,
	                (double)(now_ns() - r->t_dispatch_ns) / 1e6);
}

static void after_command_cb(uv_work_t *w, int status)
{
	struct request *r = w->data;
	r->on_pool = false;
	size_t n = r->held.len;
	conn_send_frames(r->conn, sbuf_detach(&r->held), n);
	sbuf_release(&r->held);
	command_stats(r);
	request_finish(r, status < 0 ? 2 : r->work_exit);
}

/* Commands that read the workspace wait for the host's snapshot. */
static bool reads_workspace(const char *cmd)
{
	static const char *const names[] = {"run", "run-many", "affected", "show", "graph",
	                                    "cache"};
	for (size_t i = 0; i < ARRAY_LEN(names); i++)
		if (!strcmp(cmd, names[i]))
			return true;
	return false;
}

void request_start(struct request *r)
{
	r->t_start_ns = now_ns();
	struct host *h = reads_workspace(r->cmd) ? host_for_request(r->d, r) : NULL;
	if (h)
		host_acquire(h, r); /* request_dispatch follows */
	else
		request_dispatch(r);
}

void request_dispatch(struct request *r)
{
	if (r->host)
		host_cache_settle(r->host); /* the last request's history is written */
	r->t_dispatch_ns = now_ns();
	if (!strcmp(r->cmd, "affected") && request_arg_bool(r, "dryRun")) {
		request_finish(r, cmd_show_tasks(r)); /* nothing runs: the tasks and their status */
		return;
	}
	if (!strcmp(r->cmd, "run") || !strcmp(r->cmd, "run-many") || !strcmp(r->cmd, "affected")) {
		run_start(r);
		return;
	}
	for (size_t i = 0; i < ARRAY_LEN(commands); i++) {
		if (strcmp(commands[i].name, r->cmd))
			continue;
		if (commands[i].on_loop) {
			request_finish(r, commands[i].fn(r));
			return;
		}
		sbuf_init(&r->held);
		r->on_pool = true;
		r->work.data = r;
		if (uv_queue_work(&r->d->loop, &r->work, command_cb, after_command_cb) < 0) {
			r->on_pool = false;
			sbuf_release(&r->held);
			request_finish(r, commands[i].fn(r));
		}
		return;
	}
	request_message(r, "error", "unknown command \"%s\"", r->cmd);
	request_finish(r, 2);
}
