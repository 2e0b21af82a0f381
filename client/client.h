/*
 * client.h - bld, the thin client: argv -> request, the conversation with
 * the engine, rendering events, the exit code.  Links only common/ (and
 * cJSON): no graph, cache or executor code.
 */
#ifndef BLD_CLIENT_H
#define BLD_CLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "bld/base.h"
#include "bld/err.h"

enum cli_action {
	CLI_ENGINE,  /* send a request to the engine */
	CLI_HELP,    /* print help (topic may be NULL) */
	CLI_VERSION, /* print the version */
};

/* A parsed command line. */
struct cli {
	enum cli_action action;
	char *cmd;   /* request command ("run", "run-many", "show", ...) or NULL */
	char *topic; /* CLI_HELP: the command asked about, or NULL */
	cJSON *args; /* owned: the request's "args" object */
};

/*
 * Parse argv (argv[0] is the program).  0 and *ret filled (release with
 * cli_release), or BLD_EUSAGE with err saying what is wrong.
 */
int cli_parse(int argc, char **argv, struct cli *ret, struct bld_err *err);
void cli_release(struct cli *c);

/* help.c: the help text of cmd (NULL: the overview) appended to out; false if unknown. */
bool help_text(const char *cmd, struct sbuf *out);

/* render.c: turning events into terminal output. */
struct render_task {
	char *id;
	struct sbuf part[3]; /* per stream (1, 2): a partial line held back */
	bool running;
	bool overlapped; /* ran at the same time as another task: prefix its lines */
	bool quiet;      /* output not shown (a dependency's replayed cache hit) */
	char *status;    /* from task-end */
	char *cache;
};

struct render {
	int out_fd, err_fd; /* where to write (1 and 2; tests use pipes) */
	bool color;
	bool verbose; /* also echo each task's command lines */
	struct render_task *tasks;
	size_t ntasks, cap;
	int running;    /* tasks started and not ended */
	bool at_bol[3]; /* last byte written to fd 1 / 2 ended a line */
	/* run summary */
	bool is_run;
	char *cmd; /* "run" or "run-many" */
	struct strvec targets, projects;
	int total, requested;
	int ok, failed, skipped, hits, canceled;
	struct strvec failed_ids;
};

void render_init(struct render *r, int out_fd, int err_fd, bool color);
void render_release(struct render *r);
/* Handle one JSON event (borrowed). */
void render_event(struct render *r, const cJSON *ev);
/* Handle task output bytes. */
void render_output(struct render *r, uint32_t task, int stream, const char *data, size_t len);
/* The run is over: flush partial lines and print the summary for exit_code. */
void render_done(struct render *r, int exit_code);

#endif
