/*
 * help.c - bld's help texts: the overview and one page per command.
 */
#include <string.h>

#include "client.h"

struct help_page {
	const char *cmd;
	const char *text;
};

static const char overview[] =
    "bld - a build orchestrator for Nx-format monorepos\n"
    "\n"
    "Usage: bld <command> [options]\n"
    "\n"
    "Commands:\n"
    "  run <project>:<target>[:<config>]   run a task and the tasks it depends on\n"
    "  <target> [<project>]                 shorthand of bld run <project>:<target>\n"
    "  run-many -t <target>... [-p ...]     run targets of many projects\n"
    "  affected -t <target>... [--base ...] run targets of the projects a change touches\n"
    "  show projects|project <name>|tasks   show the workspace, a project, or a task graph\n"
    "  graph [--file out.html|json|dot]     export the project graph\n"
    "  generate <generator> [--opt v]       create projects and files (alias: g)\n"
    "  list                                 generators and executors bld knows\n"
    "  cache ls|show|stats|prune|why        inspect and manage the local cache\n"
    "  reset                                stop the daemon, delete the cache and state\n"
    "  daemon start|stop|status|logs        the workspace's resident daemon\n"
    "  help [<command>]                     this text, or a command's options\n"
    "  --version                            print the version\n"
    "\n"
    "Run `bld help <command>` or `bld <command> --help` for a command's options.\n"
    "Exit codes: 0 ok, 1 a task failed, 2 usage or workspace error, 130 interrupted.\n";

static const char run_common[] =
    "  -c, --configuration <name>        the configuration to use\n"
    "  --parallel <N>                    at most N processes at once (default: BLD_PARALLEL\n"
    "                                    or the number of cores)\n"
    "  --skip-cache                      run everything, read nothing from the cache\n"
    "                                    (also BLD_SKIP_CACHE=1)\n"
    "  --exclude-task-dependencies       run only the named tasks, not their dependencies\n"
    "  --nx-bail                         start nothing more after the first failure\n"
    "  --verbose                         more detail\n"
    "  --no-daemon                       run the engine one-shot, without the daemon\n"
    "                                    (also BLD_DAEMON=0, and CI=true)\n"
    "  -- <args>                         forwarded to the requested tasks' commands\n"
    "Other --options are passed to the requested tasks as Nx does.\n";

static const struct help_page pages[] = {
    {"run", "Usage: bld run <project>:<target>[:<configuration>] [options] [-- <args>]\n"
            "       bld <target> [<project>] [options] [-- <args>]\n"
            "\n"
            "Runs the task and, first, every task it depends on (dependsOn).\n"
            "Without a project, the project holding the current folder.\n"
            "\n"
            "Options:\n"},
    {"run-many", "Usage: bld run-many -t <target>... [-p <project|glob|tag:x>...] "
                 "[--exclude <p>...] [options]\n"
                 "\n"
                 "Runs the targets of every selected project (all projects by default;\n"
                 "projects lacking a target are skipped) and what they depend on.\n"
                 "\n"
                 "Options:\n"
                 "  -t, --targets <t>...              targets to run (repeat, or commas)\n"
                 "  -p, --projects <p>...             projects: names, globs, tag:x, !exclusions\n"
                 "  --exclude <p>...                  projects to leave out\n"
                 "  --shard <i>/<n>                   run shard i of n: CI machines split the\n"
                 "                                    tasks between them (docs/ci.md)\n"},
    {"affected", "Usage: bld affected -t <target>... [--base <ref>] [--head <ref>] "
                 "[--files <f1,f2>]\n"
                 "                    [-p <p>...] [--exclude <p>...] [--dry-run] [--json] "
                 "[options]\n"
                 "\n"
                 "Runs the targets of the projects the change touches and of every project\n"
                 "depending on them (docs/affected.md).  The change: the merge-base of base\n"
                 "and head to head; without --head also staged, unstaged and untracked files.\n"
                 "\n"
                 "Options:\n"
                 "  -t, --targets <t>...              targets to run (repeat, or commas)\n"
                 "  --base <ref>                      default NX_BASE, nx.json defaultBase, main\n"
                 "  --head <ref>                      default NX_HEAD, else HEAD and the work tree\n"
                 "  --files <f>...                    the changed files, without git\n"
                 "  --uncommitted                     the staged and unstaged changes only\n"
                 "  --untracked                       the untracked (not ignored) files only\n"
                 "  -p, --projects <p>..., --exclude <p>...   narrow the selection\n"
                 "  --shard <i>/<n>                   run shard i of n (docs/ci.md)\n"
                 "  --dry-run                         list each task, its hash and whether it\n"
                 "                                    is a local hit or will run; run nothing\n"
                 "  --by-inputs                       only projects with a task whose hash differs\n"
                 "                                    from its hash at the merge-base\n"
                 "  --json                            with --dry-run: JSON (docs/affected.md)\n"},
    {"show", "Usage: bld show projects [-p <pattern>...] [--exclude <pattern>...]\n"
             "                         [--with-target <t>...] [--type app|lib|e2e] [--json]\n"
             "       bld show project <name> [--json]\n"
             "       bld show tasks -t <target>... [-p <pattern>...] [--shard <i>/<n>] [--json]\n"
             "       (projects and tasks also take --affected [--base] [--head] [--files]\n"
             "        [--uncommitted] [--untracked] [--by-inputs -t <target>])\n"
             "\n"
             "projects: the project names.  project: the resolved configuration\n"
             "(targetDefaults merged, tokens expanded), and the targets a plugin would\n"
             "infer that bld lacks.  tasks: each task of the graph with its hash and\n"
             "cache status (local hit or miss).  --type keeps the projects of Nx's\n"
             "project-graph type: projectType \"library\" is lib, any other projectType\n"
             "app (e2e when the name is e2e or ends in -e2e); without one,\n"
             "tsconfig.lib.json, tsconfig.app.json, then package.json entry points decide.\n"},
    {"graph", "Usage: bld graph [--file <out.html|out.json|out.dot>] [-t <target>...]\n"
              "                 [--affected [--base <ref>] [--head <ref>]] [--focus <project>]\n"
              "\n"
              "Writes the project graph (and the task graph of -t) to the file, by its\n"
              "extension; the HTML is self-contained.  Without --file, prints JSON.\n"},
    {"generate", "Usage: bld generate <generator> [--<option> <value>...] [--dry-run]\n"
                 "       bld g <generator> ...\n"
                 "\n"
                 "Runs a generator (bld list shows them).  --dry-run writes nothing.\n"},
    {"list", "Usage: bld list\n\nThe generators and executors bld knows.\n"},
    {"cache", "Usage: bld cache ls [--json]              entries, newest first\n"
              "       bld cache show <hash> [--json]     one entry: inputs, outputs, run time\n"
              "       bld cache stats [--json]           entries, bytes, hit rate\n"
              "       bld cache prune [--max-size 10G]   drop least recently used entries\n"
              "       bld cache why <project>:<target>   why the task misses the cache\n"},
    {"reset", "Usage: bld reset\n\nStops the workspace's daemon, then deletes the cache and bld's\n"
              "workspace state (.bld/).\n"},
    {"daemon", "Usage: bld daemon start     start the workspace's daemon (if none runs)\n"
               "       bld daemon stop      stop it (its running tasks are stopped)\n"
               "       bld daemon status [--json]  pid, uptime, memory, requests served\n"
               "       bld daemon logs      print .bld/daemon.log\n"
               "\n"
               "bld starts the daemon by itself when a command needs it.  BLD_DAEMON=0,\n"
               "--no-daemon or CI=true run the engine one-shot instead; BLD_DAEMON=1 uses\n"
               "the daemon even with CI=true.  BLD_DAEMON_IDLE: seconds without a client\n"
               "before it exits (default 10800).\n"},
    {"help", "Usage: bld help [<command>]\n"},
};

bool help_text(const char *cmd, struct sbuf *out)
{
	if (!cmd) {
		sbuf_adds(out, overview);
		return true;
	}
	if (!strcmp(cmd, "g"))
		cmd = "generate";
	for (size_t i = 0; i < ARRAY_LEN(pages); i++) {
		if (strcmp(pages[i].cmd, cmd))
			continue;
		sbuf_adds(out, pages[i].text);
		if (!strcmp(cmd, "run") || !strcmp(cmd, "run-many") || !strcmp(cmd, "affected"))
			sbuf_adds(out, run_common);
		return true;
	}
	return false;
}
