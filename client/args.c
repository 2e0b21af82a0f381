/*
 * args.c - the command line: argv -> the request's command and arguments.
 *
 * Options take "--name value" and "--name=value"; names match ignoring case
 * and dashes, so --exclude-task-dependencies and --excludeTaskDependencies
 * are one option.  List options take repeated values, spaces or commas
 * (-t build test, -t build,test).  Flags take --x, --x=true|false, --no-x.
 * For run and run-many, options bld does not know are passed to the tasks as
 * Nx does (as option overrides and forwarded arguments); elsewhere they are
 * usage errors.  Everything after "--" is forwarded to the requested tasks.
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client.h"

enum opt_kind { OPT_FLAG, OPT_VALUE, OPT_LIST, OPT_INT };

struct opt {
	const char *names; /* normalised spellings, '|' separated ("targets|target|t") */
	const char *key;   /* JSON key in args */
	enum opt_kind kind;
};

#define RUN_COMMON                                                                                 \
	{"configuration|c", "configuration", OPT_VALUE}, {"parallel", "parallel", OPT_INT},        \
	    {"skipcache|skipnxcache", "skipCache", OPT_FLAG},                                      \
	    {"nodaemon", "noDaemon", OPT_FLAG}, {"daemon", "daemon", OPT_FLAG},                    \
	    {"verbose", "verbose", OPT_FLAG},                                                      \
	    {"excludetaskdependencies", "excludeTaskDependencies", OPT_FLAG},                      \
	    {"nxbail|bail", "bail", OPT_FLAG},                                                     \
	{                                                                                          \
		"outputstyle", "outputStyle", OPT_VALUE                                            \
	}

static const struct opt run_opts[] = {RUN_COMMON, {NULL, NULL, 0}};
static const struct opt run_many_opts[] = {
    RUN_COMMON,
    {"targets|target|t", "targets", OPT_LIST},
    {"projects|project|p", "projects", OPT_LIST},
    {"exclude", "exclude", OPT_LIST},
    {"all", "all", OPT_FLAG},
    {"shard", "shard", OPT_VALUE},
    {NULL, NULL, 0},
};
/* What selects affected projects (docs/affected.md). */
#define AFFECTED_OPTS                                                                              \
	{"base", "base", OPT_VALUE}, {"head", "head", OPT_VALUE}, {"files", "files", OPT_LIST},    \
	{"uncommitted", "uncommitted", OPT_FLAG},                                                  \
	{                                                                                          \
		"untracked", "untracked", OPT_FLAG                                                 \
	}
static const struct opt affected_opts[] = {
    RUN_COMMON,
    AFFECTED_OPTS,
    {"targets|target|t", "targets", OPT_LIST},
    {"projects|project|p", "projects", OPT_LIST},
    {"exclude", "exclude", OPT_LIST},
    {"dryrun", "dryRun", OPT_FLAG},
    {"json", "json", OPT_FLAG},
    {"byinputs", "byInputs", OPT_FLAG},
    {"shard", "shard", OPT_VALUE},
    {NULL, NULL, 0},
};

static const struct opt show_opts[] = {
    AFFECTED_OPTS,
    {"affected", "affected", OPT_FLAG},
    {"byinputs", "byInputs", OPT_FLAG},
    {"projects|p", "projects", OPT_LIST},
    {"withtarget", "withTarget", OPT_LIST},
    {"targets|target|t", "targets", OPT_LIST},
    {"exclude", "exclude", OPT_LIST},
    {"shard", "shard", OPT_VALUE},
    {"type", "type", OPT_VALUE},
    {"configuration|c", "configuration", OPT_VALUE},
    {"json", "json", OPT_FLAG},
    {"verbose", "verbose", OPT_FLAG},
    {"nodaemon", "noDaemon", OPT_FLAG},
    {NULL, NULL, 0},
};
static const struct opt graph_opts[] = {
    AFFECTED_OPTS,
    {"affected", "affected", OPT_FLAG},
    {"file", "file", OPT_VALUE},
    {"focus", "focus", OPT_VALUE},
    {"targets|target|t", "targets", OPT_LIST},
    {"projects|p", "projects", OPT_LIST},
    {"verbose", "verbose", OPT_FLAG},
    {"nodaemon", "noDaemon", OPT_FLAG},
    {NULL, NULL, 0},
};
static const struct opt cache_opts[] = {
    {"maxsize", "maxSize", OPT_VALUE},
    {"json", "json", OPT_FLAG},
    {"verbose", "verbose", OPT_FLAG},
    {"nodaemon", "noDaemon", OPT_FLAG},
    {NULL, NULL, 0},
};
static const struct opt generate_opts[] = {
    {"dryrun|d", "dryRun", OPT_FLAG},
    {"verbose", "verbose", OPT_FLAG},
    {"nodaemon", "noDaemon", OPT_FLAG},
    {NULL, NULL, 0},
};
static const struct opt daemon_opts[] = {
    {"json", "json", OPT_FLAG},
    {"verbose", "verbose", OPT_FLAG},
    {NULL, NULL, 0},
};
static const struct opt plain_opts[] = {
    {"verbose", "verbose", OPT_FLAG},
    {"nodaemon", "noDaemon", OPT_FLAG},
    {NULL, NULL, 0},
};

/* How a command treats what it does not know. */
enum unknown_mode { UNKNOWN_ERROR, UNKNOWN_FORWARD, UNKNOWN_GENERATOR };

struct cmd_spec {
	const char *name;
	const char *request; /* request command */
	const struct opt *opts;
	enum unknown_mode unknown;
	int max_positional;
};

static const struct cmd_spec cmds[] = {
    {"run", "run", run_opts, UNKNOWN_FORWARD, 1},
    {"run-many", "run-many", run_many_opts, UNKNOWN_FORWARD, 0},
    {"affected", "affected", affected_opts, UNKNOWN_FORWARD, 0},
    {"show", "show", show_opts, UNKNOWN_ERROR, 2},
    {"graph", "graph", graph_opts, UNKNOWN_ERROR, 0},
    {"list", "list", plain_opts, UNKNOWN_ERROR, 1},
    {"generate", "generate", generate_opts, UNKNOWN_GENERATOR, 2},
    {"g", "generate", generate_opts, UNKNOWN_GENERATOR, 2},
    {"cache", "cache", cache_opts, UNKNOWN_ERROR, 2},
    {"reset", "reset", plain_opts, UNKNOWN_ERROR, 0},
    {"daemon", "daemon", daemon_opts, UNKNOWN_ERROR, 1},
};

/* State of one parse. */
struct parser {
	const struct cmd_spec *spec;
	cJSON *args;
	cJSON *overrides;   /* run/run-many: unknown options as values */
	cJSON *forward;     /* run/run-many: raw forwarded arguments */
	cJSON *gen_options; /* generate: its options */
	struct strvec positional;
	bool help;
	struct bld_err *err;
};

/* "--Exclude-Task_deps" -> "excludetaskdeps" (caller frees). */
static char *normalise(const char *name, size_t len)
{
	char *s = xmalloc(len + 1);
	size_t k = 0;
	for (size_t i = 0; i < len; i++)
		if (name[i] != '-' && name[i] != '_')
			s[k++] = (char)tolower((unsigned char)name[i]);
	s[k] = '\0';
	return s;
}

static bool names_match(const char *names, const char *norm)
{
	size_t n = strlen(norm);
	for (const char *p = names; *p;) {
		const char *bar = strchr(p, '|');
		size_t len = bar ? (size_t)(bar - p) : strlen(p);
		if (len == n && !strncmp(p, norm, n))
			return true;
		if (!bar)
			break;
		p = bar + 1;
	}
	return false;
}

static const struct opt *find_opt(const struct opt *opts, const char *norm)
{
	for (; opts->names; opts++)
		if (names_match(opts->names, norm))
			return opts;
	return NULL;
}

static bool parse_bool(const char *v, bool *ret)
{
	if (!strcmp(v, "true") || !strcmp(v, "1") || !strcmp(v, "yes")) {
		*ret = true;
		return true;
	}
	if (!strcmp(v, "false") || !strcmp(v, "0") || !strcmp(v, "no")) {
		*ret = false;
		return true;
	}
	return false;
}

static bool is_option(const char *a)
{
	return a[0] == '-' && a[1] && strcmp(a, "--");
}

/* a can be an option's value: neither an option nor the "--" separator. */
static bool is_value(const char *a)
{
	return !is_option(a) && strcmp(a, "--");
}

static void list_add(cJSON *args, const char *key, const char *value)
{
	cJSON *arr = cJSON_GetObjectItemCaseSensitive(args, key);
	if (!arr)
		arr = cJSON_AddArrayToObject(args, key);
	struct strvec parts;
	strvec_init(&parts);
	strvec_split(&parts, value, ",");
	for (size_t i = 0; i < parts.n; i++) {
		char *v = parts.v[i];
		while (*v == ' ')
			v++;
		if (*v)
			cJSON_AddItemToArray(arr, cJSON_CreateString(v));
	}
	strvec_release(&parts);
}

static void set_item(cJSON *obj, const char *key, cJSON *v)
{
	cJSON_DeleteItemFromObjectCaseSensitive(obj, key);
	cJSON_AddItemToObject(obj, key, v);
}

/* Apply a known option; *i points at its token; returns 0 or BLD_EUSAGE. */
static int apply_opt(struct parser *p, const struct opt *o, const char *display, const char *value,
                     bool negated, int argc, char **argv, int *i)
{
	switch (o->kind) {
	case OPT_FLAG: {
		bool b = !negated;
		if (value && !parse_bool(value, &b))
			return bld_err_set(p->err, BLD_EUSAGE, "%s takes true or false, not \"%s\"",
			                   display, value);
		set_item(p->args, o->key, cJSON_CreateBool(b));
		return 0;
	}
	case OPT_INT: {
		if (!value && *i + 1 < argc && is_value(argv[*i + 1]))
			value = argv[++*i];
		if (!value || !strcmp(value, "true"))
			return 0; /* --parallel alone: the default */
		if (!strcmp(value, "false")) {
			set_item(p->args, o->key, cJSON_CreateNumber(1));
			return 0;
		}
		char *end;
		long n = strtol(value, &end, 10);
		if (*end || n < 1 || n > 100000)
			return bld_err_set(p->err, BLD_EUSAGE,
			                   "%s takes a positive number, not \"%s\"", display,
			                   value);
		set_item(p->args, o->key, cJSON_CreateNumber((double)n));
		return 0;
	}
	case OPT_VALUE:
		if (!value) {
			if (*i + 1 >= argc || !is_value(argv[*i + 1]))
				return bld_err_set(p->err, BLD_EUSAGE, "%s needs a value", display);
			value = argv[++*i];
		}
		set_item(p->args, o->key, cJSON_CreateString(value));
		return 0;
	case OPT_LIST: {
		bool any = false;
		if (value) {
			list_add(p->args, o->key, value);
			return 0;
		}
		while (*i + 1 < argc && is_value(argv[*i + 1])) {
			list_add(p->args, o->key, argv[++*i]);
			any = true;
		}
		if (!any)
			return bld_err_set(p->err, BLD_EUSAGE, "%s needs at least one value",
			                   display);
		return 0;
	}
	}
	return 0;
}

/* A JSON value for an unknown option's text: numbers and booleans as Nx parses them. */
static cJSON *guess_value(const char *v)
{
	bool b;
	if (parse_bool(v, &b) && (!strcmp(v, "true") || !strcmp(v, "false")))
		return cJSON_CreateBool(b);
	return cJSON_CreateString(v);
}

static int unknown_opt(struct parser *p, const char *arg, const char *name, size_t nlen,
                       const char *value, int argc, char **argv, int *i)
{
	if (p->spec->unknown == UNKNOWN_ERROR)
		return bld_err_set(p->err, BLD_EUSAGE,
		                   "unknown option %s for bld %s (see bld %s --help)", arg,
		                   p->spec->name, p->spec->name);
	char *key = xstrndup(name, nlen);
	bool has_next = *i + 1 < argc && is_value(argv[*i + 1]);
	if (p->spec->unknown == UNKNOWN_GENERATOR) {
		if (!value && has_next)
			value = argv[++*i];
		set_item(p->gen_options, key, cJSON_CreateString(value ? value : "true"));
		free(key);
		return 0;
	}
	cJSON_AddItemToArray(p->forward, cJSON_CreateString(arg));
	if (!value && has_next && p->positional.n > 0) {
		value = argv[++*i];
		cJSON_AddItemToArray(p->forward, cJSON_CreateString(value));
	}
	set_item(p->overrides, key, value ? guess_value(value) : cJSON_CreateBool(true));
	free(key);
	return 0;
}

static int parse_option(struct parser *p, int argc, char **argv, int *i)
{
	const char *arg = argv[*i];
	const char *name = arg + (arg[1] == '-' ? 2 : 1);
	const char *eq = strchr(name, '=');
	size_t nlen = eq ? (size_t)(eq - name) : strlen(name);
	const char *value = eq ? eq + 1 : NULL;
	char *norm = normalise(name, nlen);
	if (!strcmp(norm, "help") || !strcmp(norm, "h")) {
		p->help = true;
		free(norm);
		return 0;
	}
	const struct opt *o = find_opt(p->spec->opts, norm);
	bool negated = false;
	if (!o && str_starts(norm, "no")) {
		o = find_opt(p->spec->opts, norm + 2);
		negated = o && o->kind == OPT_FLAG;
		if (!negated)
			o = NULL;
	}
	free(norm);
	char display[128];
	snprintf(display, sizeof(display), "%.*s", (int)(name - arg + nlen), arg);
	if (o)
		return apply_opt(p, o, display, value, negated, argc, argv, i);
	return unknown_opt(p, arg, name, nlen, value, argc, argv, i);
}

static int parse_tokens(struct parser *p, int argc, char **argv, int start)
{
	for (int i = start; i < argc; i++) {
		const char *a = argv[i];
		if (!strcmp(a, "--")) {
			for (i++; i < argc; i++)
				cJSON_AddItemToArray(p->forward, cJSON_CreateString(argv[i]));
			break;
		}
		int rc = is_option(a) ? parse_option(p, argc, argv, &i) : 0;
		if (rc < 0)
			return rc;
		if (!is_option(a))
			strvec_push(&p->positional, a);
	}
	return 0;
}

static const struct cmd_spec *find_cmd(const char *name)
{
	for (size_t i = 0; i < ARRAY_LEN(cmds); i++)
		if (!strcmp(cmds[i].name, name))
			return &cmds[i];
	return NULL;
}

/* Positional arguments of each command; all return 0 or BLD_EUSAGE. */

static void forward_rest(struct parser *p, size_t from)
{
	for (size_t i = from; i < p->positional.n; i++)
		cJSON_AddItemToArray(p->forward, cJSON_CreateString(p->positional.v[i]));
}

/* bld <target> [<project>] [args...] */
static int pos_shorthand(struct parser *p, const char *target)
{
	cJSON_AddStringToObject(p->args, "target", target);
	if (p->positional.n)
		cJSON_AddStringToObject(p->args, "project", p->positional.v[0]);
	forward_rest(p, 1);
	return 0;
}

static int pos_run(struct parser *p)
{
	if (!p->positional.n)
		return bld_err_set(p->err, BLD_EUSAGE,
		                   "bld run needs a task: bld run <project>:<target>[:<config>]");
	cJSON_AddStringToObject(p->args, "task", p->positional.v[0]);
	forward_rest(p, 1);
	return 0;
}

static int pos_run_many(struct parser *p)
{
	if (p->positional.n)
		return bld_err_set(p->err, BLD_EUSAGE, "bld run-many takes no argument \"%s\"",
		                   p->positional.v[0]);
	if (!cJSON_GetObjectItemCaseSensitive(p->args, "targets"))
		return bld_err_set(p->err, BLD_EUSAGE,
		                   "bld run-many needs -t <target>... (the targets to run)");
	return 0;
}

static int pos_show(struct parser *p)
{
	const struct strvec *pos = &p->positional;
	const char *what = pos->n ? pos->v[0] : "";
	if (strcmp(what, "projects") && strcmp(what, "project") && strcmp(what, "tasks"))
		return bld_err_set(p->err, BLD_EUSAGE,
		                   "bld show projects | project <name> | tasks -t <target>");
	cJSON_AddStringToObject(p->args, "what", what);
	if (!strcmp(what, "project")) {
		if (pos->n < 2)
			return bld_err_set(p->err, BLD_EUSAGE, "bld show project <name>");
		cJSON_AddStringToObject(p->args, "name", pos->v[1]);
	}
	if (!strcmp(what, "tasks") && !cJSON_GetObjectItemCaseSensitive(p->args, "targets"))
		return bld_err_set(p->err, BLD_EUSAGE, "bld show tasks needs -t <target>...");
	return 0;
}

static int pos_generate(struct parser *p)
{
	const struct strvec *pos = &p->positional;
	if (!pos->n)
		return bld_err_set(p->err, BLD_EUSAGE,
		                   "bld generate <generator> [--option value]... (bld list "
		                   "shows the generators)");
	cJSON_AddStringToObject(p->args, "generator", pos->v[0]);
	if (pos->n > 1 && !cJSON_GetObjectItemCaseSensitive(p->gen_options, "name"))
		cJSON_AddStringToObject(p->gen_options, "name", pos->v[1]);
	return 0;
}

static int pos_cache(struct parser *p)
{
	const struct strvec *pos = &p->positional;
	const char *sub = pos->n ? pos->v[0] : "ls";
	static const char *const subs[] = {"ls", "show", "stats", "prune", "why"};
	bool ok = false;
	for (size_t i = 0; i < ARRAY_LEN(subs); i++)
		ok = ok || !strcmp(subs[i], sub);
	if (!ok)
		return bld_err_set(p->err, BLD_EUSAGE,
		                   "bld cache ls | show <hash> | stats | prune [--max-size 10G] | "
		                   "why <project>:<target>");
	if ((!strcmp(sub, "show") || !strcmp(sub, "why")) && pos->n < 2)
		return bld_err_set(p->err, BLD_EUSAGE, "bld cache %s needs %s", sub,
		                   !strcmp(sub, "show") ? "a hash" : "<project>:<target>");
	cJSON_AddStringToObject(p->args, "sub", sub);
	if (pos->n > 1)
		cJSON_AddStringToObject(p->args, "arg", pos->v[1]);
	return 0;
}

static int pos_daemon(struct parser *p)
{
	const struct strvec *pos = &p->positional;
	const char *sub = pos->n ? pos->v[0] : "status";
	static const char *const subs[] = {"start", "stop", "status", "logs"};
	bool ok = false;
	for (size_t i = 0; i < ARRAY_LEN(subs); i++)
		ok = ok || !strcmp(subs[i], sub);
	if (!ok)
		return bld_err_set(p->err, BLD_EUSAGE, "bld daemon start | stop | status | logs");
	cJSON_AddStringToObject(p->args, "sub", sub);
	return 0;
}

/* Put positional arguments where the command wants them. */
static int place_positional(struct parser *p, const char *shorthand_target)
{
	static const struct {
		const char *cmd;
		int (*fn)(struct parser *p);
		bool counted; /* check max_positional first */
	} handlers[] = {
	    {"run", pos_run, false},    {"run-many", pos_run_many, false},
	    {"show", pos_show, true},   {"generate", pos_generate, true},
	    {"cache", pos_cache, true}, {"daemon", pos_daemon, true},
	};
	if (shorthand_target)
		return pos_shorthand(p, shorthand_target);
	const char *cmd = p->spec->request;
	for (size_t i = 0; i < ARRAY_LEN(handlers); i++) {
		if (strcmp(handlers[i].cmd, cmd))
			continue;
		if (handlers[i].counted && (int)p->positional.n > p->spec->max_positional)
			break;
		return handlers[i].fn(p);
	}
	if ((int)p->positional.n > p->spec->max_positional)
		return bld_err_set(p->err, BLD_EUSAGE, "bld %s: unexpected argument \"%s\"",
		                   p->spec->name, p->positional.v[p->spec->max_positional]);
	return 0;
}

static void parser_finish(struct parser *p)
{
	if (cJSON_GetArraySize(p->forward))
		cJSON_AddItemToObject(p->args, "forward", p->forward);
	else
		cJSON_Delete(p->forward);
	if (cJSON_GetArraySize(p->overrides))
		cJSON_AddItemToObject(p->args, "overrides", p->overrides);
	else
		cJSON_Delete(p->overrides);
	if (!strcmp(p->spec->request, "generate"))
		cJSON_AddItemToObject(p->args, "options", p->gen_options);
	else
		cJSON_Delete(p->gen_options);
	p->forward = p->overrides = p->gen_options = NULL;
}

static int parse_command(const struct cmd_spec *spec, const char *shorthand, int argc, char **argv,
                         int start, struct cli *ret, struct bld_err *err)
{
	struct parser p = {.spec = spec, .err = err};
	p.args = cJSON_CreateObject();
	p.overrides = cJSON_CreateObject();
	p.forward = cJSON_CreateArray();
	p.gen_options = cJSON_CreateObject();
	strvec_init(&p.positional);
	int rc = parse_tokens(&p, argc, argv, start);
	if (rc >= 0 && p.help) {
		ret->action = CLI_HELP;
		ret->topic = xstrdup(shorthand ? "run" : spec->name);
	} else if (rc >= 0) {
		rc = place_positional(&p, shorthand);
	}
	parser_finish(&p);
	strvec_release(&p.positional);
	if (rc < 0 || ret->action == CLI_HELP) {
		cJSON_Delete(p.args);
		return rc;
	}
	ret->action = CLI_ENGINE;
	ret->cmd = xstrdup(spec->request);
	ret->args = p.args;
	return 0;
}

int cli_parse(int argc, char **argv, struct cli *ret, struct bld_err *err)
{
	memset(ret, 0, sizeof(*ret));
	if (argc < 2) {
		ret->action = CLI_HELP;
		return 0;
	}
	const char *first = argv[1];
	if (!strcmp(first, "--version") || !strcmp(first, "-v") || !strcmp(first, "version")) {
		ret->action = CLI_VERSION;
		return 0;
	}
	if (!strcmp(first, "help") || !strcmp(first, "--help") || !strcmp(first, "-h")) {
		ret->action = CLI_HELP;
		if (argc > 2 && first[0] != '-')
			ret->topic = xstrdup(argv[2]);
		return 0;
	}
	if (first[0] == '-')
		return bld_err_set(err, BLD_EUSAGE, "unknown option %s (see bld help)", first);
	const struct cmd_spec *spec = find_cmd(first);
	if (spec)
		return parse_command(spec, NULL, argc, argv, 2, ret, err);
	/* bld <target> [<project>]: shorthand of bld run <project>:<target> */
	return parse_command(find_cmd("run"), first, argc, argv, 2, ret, err);
}

void cli_release(struct cli *c)
{
	free(c->cmd);
	free(c->topic);
	cJSON_Delete(c->args);
	memset(c, 0, sizeof(*c));
}
