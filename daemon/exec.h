/*
 * exec.h - executors: turning a task's executor and resolved options into
 * what to do.  Pure (no processes), so the option -> command line rules are
 * unit-tested alone.
 *
 * run-commands follows Nx 22's nx:run-commands: `command` (string or array
 * joined by spaces) or `commands` (strings or {command, forwardAllArgs});
 * `parallel` (default true for `commands`; a single `command` is parallel only
 * with readyWhen); `args` (string or array) and the forwarded arguments
 * appended to each command (unless forwardAllArgs is false), or substituted
 * into {args} / {args.name}; options run-commands does not know are appended
 * as --name=value; `cwd` relative to the workspace root; `env`; `envFile`;
 * `readyWhen` (string or array).
 */
#ifndef BLD_EXEC_H
#define BLD_EXEC_H

#include <stdbool.h>

#include <cjson/cJSON.h>

#include "bld/base.h"
#include "bld/err.h"

enum exec_kind {
	EXEC_COMMANDS, /* run shell commands (run-commands and its look-alikes) */
	EXEC_NOOP,     /* nx:noop: succeed at once */
	EXEC_OPENAPI,  /* bld:openapi-metadata: native codegen in the engine */
};

/* What a task does. */
struct exec_plan {
	enum exec_kind kind;
	struct strvec commands; /* shell command lines (EXEC_COMMANDS) */
	bool parallel;          /* run commands at once (else one after another, stop at failure) */
	char *cwd;              /* absolute working directory; NULL: the workspace root */
	struct strvec env;      /* "K=V" from the env option, applied over everything else */
	char *env_file;         /* absolute envFile path, or NULL */
	struct strvec ready_when; /* texts that must all appear in the output */
	char *spec_path;          /* EXEC_OPENAPI: absolute openApiSpecPath */
	char *output_path;        /* EXEC_OPENAPI: absolute outputPath */
	char *venv;               /* a .venv to activate when it exists (@nxlv/python), or NULL */
};

void exec_plan_init(struct exec_plan *p);
void exec_plan_release(struct exec_plan *p);

/* True when bld can run executor name. */
bool exec_supported(const char *executor);
/* The executors bld runs, comma separated, in the table's order, for error
 * messages; caller frees. */
char *exec_supported_list(void);
/* Append one line per supported executor with a description to out. */
void exec_describe(struct sbuf *out);

/*
 * Build the plan of a task: executor name, its resolved options (borrowed),
 * the forwarded arguments (`--` and unknown command-line options, borrowed,
 * may be NULL), the workspace root and the project's folder (absolute), and the
 * package manager that runs nx:run-script ("npm", "yarn", "pnpm", "bun"; NULL
 * is npm).  0 or negative (err): an
 * unsupported executor is BLD_EEXECUTOR naming it and listing what bld runs;
 * bad options are BLD_ESCHEMA naming the option.
 */
int exec_plan_build(const char *executor, const cJSON *options, const struct strvec *fwd,
                    const char *ws_root, const char *project_dir, const char *pkg_manager,
                    struct exec_plan *ret, struct bld_err *err);

/* How to get uv, for every message of a task or a generator that needs it and cannot
 * find it. */
#define EXEC_UV_INSTALL                                                                    \
	"install uv (https://docs.astral.sh/uv/getting-started/installation/, or `pipx "     \
	"install uv`)"

/*
 * The program of command that bld knows how to get ("uv", also for uvx) when command
 * runs it (as the first word of one of its commands) and path (a PATH value; NULL is
 * the shell's default) does not hold it, else NULL.  A command that exited 127 ("not found") and needs uv then gets
 * EXEC_UV_INSTALL in the task's output.
 */
const char *exec_missing_tool(const char *command, const char *path);

/* Quote s for a POSIX shell when it needs it ('a b', --k='a b'; Nx uses double quotes,
 * bld single quotes so $ and " survive too); appended to out. */
void exec_quote_arg(struct sbuf *out, const char *s);

#endif
