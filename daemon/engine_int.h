/*
 * engine_int.h - bldd's private structures, shared by the files of daemon/.
 *
 * Ownership in one picture:
 *
 *     struct daemon          owns the libuv loop, its signal handles, the connections
 *       struct conn          one client; embeds its uv_pipe_t, freed in its close callback
 *         struct request     one request of that client (cmd, args, cwd, env)
 *           struct run       the state of a `run` / `run-many`: workspace, task graph,
 *                            cache, scheduler, one struct job per task, the queue of
 *                            cache operations (cachework.c, run on the thread pool)
 *             struct job     one task being executed: its processes, its recorded output
 *               struct proc  one child process; embeds uv_process_t, two uv_pipe_t and a
 *                            timer, freed when the last of its handles is closed
 *
 * Files: daemon.c (loop, connections, framing), request.c (dispatch, events),
 * run.c (run / run-many), cachework.c (hash, lookup, restore, store off the
 * loop), inflight.c (the in-flight table; pure), share.c (a run's side of
 * it: claim, follow, hand over, leave), scheduler.c (which task next; pure),
 * job.c (a task's environment and processes), proc.c (one child process),
 * exec.c (executors; pure), env.c (environments, .env files; pure), cmds.c
 * (show, graph, list, generate, cache, reset).
 *
 * Nothing here is process-global: a resident daemon holds many connections,
 * each with its own request.  A request outlives its connection when the
 * client goes away mid-run (its children must still be stopped); then
 * req->conn is NULL and events are dropped.  Only the thread pool runs
 * outside the loop thread, and only cachework.c sends work there.
 */
#ifndef BLD_ENGINE_INT_H
#define BLD_ENGINE_INT_H

#include <stdbool.h>
#include <stdint.h>

#include <cjson/cJSON.h>
#include <uv.h>

#include "bld/base.h"
#include "bld/err.h"
#include "bld/proto.h"
#include "bld/cache.h"
#include "bld/taskgraph.h"

struct request;
struct run;
struct host;
struct snapshot;

/* Output backpressure: tasks' pipes are not read while more than CONN_QUEUE_HIGH bytes
 * wait to be written to the client; reading starts again below CONN_QUEUE_LOW. */
#define CONN_QUEUE_HIGH (8u << 20)
#define CONN_QUEUE_LOW (1u << 20)
/* Frames of one connection are gathered and written in one go up to this size. */
#define CONN_WRITE_CHUNK (256u << 10)

/* The engine: one per process.  Owns the loop; nothing else is global. */
struct daemon {
	uv_loop_t loop;
	uv_signal_t signals[3]; /* SIGINT, SIGTERM, SIGHUP: cancel everything (unref'd) */
	struct conn *conns;     /* open connections (singly linked) */
	struct host *hosts;     /* owned: one workspace host per root served (host.h) */
	uv_prepare_t flush;     /* before the loop waits: hand every conn's out to libuv */
	struct conn *dirty;     /* connections whose out holds bytes */
	bool oneshot;           /* serve one request, then exit */
	int last_exit;          /* exit code of the last finished request */
	/* resident mode (server.c); unused one-shot */
	bool resident;
	char *root;          /* owned: the workspace root served */
	char *sock;          /* owned: socket path */
	char *pid_path;      /* owned: <root>/.bld/bldd.pid */
	int lock_fd;         /* flock'd <root>/.bld/bldd.lock; -1 once released */
	int listen_fd;       /* the listening socket, or -1 */
	uv_poll_t listener;  /* readable listen_fd: connections to accept */
	bool listening;      /* listener is open */
	uv_timer_t idle;     /* idle shutdown */
	uv_timer_t trim;     /* no client for a moment: malloc's free pages back (server.c) */
	bool idle_open;      /* idle and trim timers are open */
	uint64_t idle_ms;    /* BLD_DAEMON_IDLE (s) * 1000 */
	const char *version; /* BLD_VERSION, or BLD_FAKE_VERSION (test hook) */
	uint64_t started_ms;
	uint64_t served;     /* requests served */
	int nconns;          /* connections open */
	bool stopping;       /* shutting down: no new connection, requests canceled */
	bool retiring;       /* another version asked: finish running work, then exit */
	bool stop_after;     /* `bld daemon stop`: shut down once its request is done */
};

/* One client connection. */
struct conn {
	uv_pipe_t pipe;         /* first: the handle's address is the conn's */
	uv_shutdown_t shutdown; /* ending after the last write (one-shot) */
	struct daemon *d;
	struct conn *next;
	struct proto_reader rd;
	bool hello; /* the client's hello was accepted */
	bool closing;
	struct sbuf out; /* frames not handed to libuv yet: written together before the
	                    loop next waits (daemon.c, flush_cb), or at CONN_WRITE_CHUNK */
	struct conn *next_dirty; /* on d->dirty while out holds bytes */
	bool dirty;
	struct request *req; /* the active request or NULL; the request holds a back pointer */
};

/* One request (JSON message "request"). */
struct request {
	struct daemon *d;
	struct conn *conn; /* NULL once the client is gone */
	cJSON *msg;        /* owned: the whole message */
	const char *cmd;   /* borrowed from msg */
	cJSON *args;       /* borrowed from msg; an object, never NULL */
	char *cwd;         /* owned, absolute */
	char **env;        /* owned, NULL-terminated "K=V" array (the client's environment) */
	bool tty, color;
	int columns;
	bool canceled;
	bool finished;   /* done was sent */
	struct run *run; /* owned, while a run is in progress */
	/* a text command runs on the thread pool: its events are kept here (encoded
	 * frames, in order) and sent by the loop thread when it is done */
	uv_work_t work;
	bool on_pool;
	struct sbuf held;
	int work_exit;
	/* the workspace host (host.h) */
	struct host *host;          /* borrowed; NULL when cwd is in no workspace */
	struct snapshot *snap;      /* a reference to the generation it runs on, or NULL */
	struct request *host_next;  /* the host's queue of requests waiting for a snapshot */
	bool host_waiting;
	struct cache *cache;        /* the cache handle cmd_open_cache gave, or NULL */
	bool cache_lent;            /* it is the host's (give it back) */
	char *cache_dir;            /* owned: its folder */
	uint64_t t_start_ns;        /* when the request arrived */
	uint64_t t_host_ns;         /* ns spent waiting for the host (sync, load) */
	uint64_t t_dispatch_ns;     /* when its command started */
};

/* daemon.c */
int daemon_new(bool oneshot, struct daemon **ret);
/* Serve a connection on an already connected fd (one-shot mode: the client's socketpair). */
int daemon_serve_fd(struct daemon *d, int fd);
/* Run the loop until every handle is closed; then close the loop (must return 0). */
int daemon_run(struct daemon *d);
void daemon_free(struct daemon *d);
/* Send a JSON message (cJSON object, borrowed) to the request's client, if still there
 * (c not NULL, not closing). */
void conn_send_json(struct conn *c, const cJSON *msg);
/* The same for a message already written as JSON text (len bytes, borrowed). */
void conn_send_json_text(struct conn *c, const char *json, size_t len);
/* Send whole frames (proto.h), taking ownership of the malloc'd bytes. */
void conn_send_frames(struct conn *c, char *frames, size_t len);
/* Bytes queued for the client, not yet written. */
size_t conn_write_queue_size(const struct conn *c);
/* The request on c (may be NULL) finished: one-shot connections end. */
void daemon__request_done(struct daemon *d, struct conn *c, int exit_code);
/* Send a task output frame. */
void conn_send_output(struct conn *c, uint32_t task, int stream, const void *data, size_t len);

/* server.c: resident mode */
/* Take the root's lock, listen on its socket, write the pid file.  0; 1 when another
 * daemon holds the lock (nothing to do); negative errno after a message on stderr. */
int server_start(struct daemon *d, const char *root);
/* Stop listening, cancel every request, let the loop end. */
void server_shutdown(struct daemon *d, const char *why);
/* Another version's client: stop listening and release the lock; running work goes on. */
void server_retire(struct daemon *d);
/* After the loop closed: remove the socket and pid file (if still ours), free. */
void server_release(struct daemon *d);
/* The connection count changed: arm or disarm the idle timer, end a retired daemon. */
void server_conns_changed(struct daemon *d);
/* Append a line to the log (stderr, which is .bld/daemon.log), with a timestamp. */
void server_log(struct daemon *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* daemon.c: cancel every request and close idle connections (signals, shutdown). */
void daemon__cancel_all(struct daemon *d);
/* daemon.c: close the workspace hosts' handles (the loop may end). */
void daemon__close_hosts(struct daemon *d);
/* `daemon` requests: status, stop. */
int cmd_daemon(struct request *r);

/* request.c */
/* Parse a "request" message (takes ownership of msg).  0 or negative (err). */
int request_new(struct daemon *d, struct conn *c, cJSON *msg, struct request **ret,
                struct bld_err *err);
void request_free(struct request *r);
/* Start serving r: wait for its workspace host's snapshot when the command
 * reads the workspace, then request_dispatch.  Always ends in
 * request_finish, now or later. */
void request_start(struct request *r);
/* Run r's command (its snapshot, if any, is in r->snap). */
void request_dispatch(struct request *r);
/* Send done with exit_code, detach from the connection, free r. */
void request_finish(struct request *r, int exit_code);
/* The client went away or asked to cancel: stop what runs, then finish with 130. */
void request_cancel(struct request *r);
/* Event helpers; all are no-ops once the client is gone. */
void request_send(struct request *r, cJSON *msg); /* takes ownership of msg */
/* Send one message already written as JSON text (borrowed). */
void request_send_json_text(struct request *r, const char *json, size_t len);
/* Send whole frames (proto.h; borrowed), as made by request_text_frames. */
void request_send_frames(struct request *r, const char *frames, size_t len);
/* Append to out the frames of "text" messages carrying len bytes of text (in
 * pieces that stay far below PROTO_MAX_FRAME). */
void request_text_frames(struct sbuf *out, const char *text, size_t len);
void request_message(struct request *r, const char *level, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void request_text(struct request *r, const char *text, size_t len);
/* Send err as an error message; return the exit code for it (2). */
int request_error(struct request *r, const struct bld_err *err);
/* Value of name in the client's environment, or NULL. */
const char *request_getenv(const struct request *r, const char *name);
/* Argument accessors (absent: the default). */
const char *request_arg_str(const struct request *r, const char *name);
bool request_arg_bool(const struct request *r, const char *name);
int request_arg_int(const struct request *r, const char *name, int dflt);
/* Push every string of the list argument name (array or string) to ret. */
void request_arg_list(const struct request *r, const char *name, struct strvec *ret);

/* Push every string of the array argument name to ret, unsplit. */
void request_arg_list_raw(const struct request *r, const char *name, struct strvec *ret);

/* run.c: `run` and `run-many`. */
void run_start(struct request *r);
void run_cancel(struct run *run);
void run_free(struct run *run);
/* The client caught up with the output: read the tasks' pipes again. */
void run_output_drained(struct run *run);

/* cmds.c: commands answered with text: show, graph, list, generate, cache, reset. */
int cmd_show(struct request *r);
int cmd_graph(struct request *r);
int cmd_list(struct request *r);
/* `show tasks` (also `affected --dry-run`): each task, its hash and cache status. */
int cmd_show_tasks(struct request *r);
int cmd_generate(struct request *r);
int cmd_cache(struct request *r);
int cmd_reset(struct request *r);
/* Open the cache of r (BLD_CACHE_DIR of the request, else <root>/.bld/cache; the
 * request's BLD_CACHE_MAX_SIZE), or NULL after a warning: the host's handle
 * when it is free.  One at a time per request; give it back with cmd_close_cache. */
struct cache *cmd_open_cache(struct request *r, const struct workspace *ws);
void cmd_close_cache(struct request *r, struct cache *c);
/* A hasher for r over ws with cache c (may be NULL), using the host's memo
 * when the host has a working watcher.  0 or negative (err). */
int cmd_new_hasher(struct request *r, struct workspace *ws, struct cache *c,
                   struct hasher **ret, struct bld_err *err);
/* --by-inputs (byinputs.c): mark in sel (ws->nprojects entries, all false) the
 * projects among names with a requested task (-t) whose hash differs from its
 * hash at the base of the change o names, or that has none there.  0, or
 * BLD_EUSAGE (no -t, --files, a git error). */
struct affected_opts;
int cmd_by_inputs(struct request *r, struct workspace *ws, const struct affected_opts *o,
                  const struct strvec *names, bool *sel, struct bld_err *err);
/* --shard i/n of r (absent: nothing to do): keep shard i of tg, balanced by the
 * durations c (may be NULL) recorded.  0, or BLD_EUSAGE for a malformed value. */
int cmd_shard_graph(struct request *r, struct cache *c, struct task_graph *tg,
                    struct bld_err *err);
/* The task graph of tq over ws (r's snapshot's workspace): a share of the one
 * r's generation keeps for the same request (built and kept when new), or,
 * when r shards (cmd_shard_graph prunes it), one of its own.  As
 * task_graph_build. */
int cmd_task_graph(struct request *r, struct workspace *ws, const struct tg_request *tq,
                   struct task_graph **ret_tg, struct bld_err *err);
/* The remote cache the request's environment (or nx.json's "bld" section)
 * configures, or NULL (none, or a bad setting: warned). */
struct store_backend *cmd_open_remote(struct request *r, const struct workspace *ws);
/* For `show tasks` and `affected --dry-run`: every task of tg whose status[i]
 * is "miss" (hashed, not in the local cache) becomes "remote" when the remote
 * cache r configures has its artifact (asked in parallel: HEAD, or a one-byte
 * GET for Nx's API).  Without a remote cache nothing changes; a failing server
 * is one warning. */
void cmd_mark_remote_hits(struct request *r, const struct workspace *ws,
                          const struct task_graph *tg, const char **status);
/* The workspace of r: its snapshot's (loaded now when r has none), borrowed
 * until r is freed.  0, or exit code 2 after reporting (file:line:col). */
int cmd_load_workspace(struct request *r, struct workspace **ret_ws);
/* The projects of r, sorted: -p / --exclude (every project without -p),
 * --type (Nx's node type: app, lib, e2e; anything else is BLD_EUSAGE), and
 * when r is `affected` or has --affected, only the affected ones (--base,
 * --head, --files; NX_BASE / NX_HEAD of the request; nx.json defaultBase).
 * 0, or negative with err filled (git errors say what to do). */
int cmd_select_projects(struct request *r, const struct workspace *ws, struct strvec *ret,
                        struct bld_err *err);

#endif
