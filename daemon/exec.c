/*
 * exec.c - the executor table and the nx:run-commands option rules.
 * See exec.h; the Nx behaviour each rule mirrors is named where it is not obvious.
 */
#include "exec.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum exec_family { FAM_RUN_COMMANDS, FAM_RUN_SCRIPT, FAM_NOOP, FAM_OPENAPI, FAM_UV };

struct exec_info {
	const char *name;
	enum exec_family fam;
	bool venv; /* activate <root>/.venv like @nxlv/python does */
	const char *description;
};

static const struct exec_info executors[] = {
    {"nx:run-commands", FAM_RUN_COMMANDS, false, "run shell commands"},
    {"nx:noop", FAM_NOOP, false, "do nothing (a target that only groups dependencies)"},
    {"nx:run-script", FAM_RUN_SCRIPT, false, "run a package.json script (npm run <script>)"},
    {"@nx/workspace:run-commands", FAM_RUN_COMMANDS, false, "old name of nx:run-commands"},
    {"@nrwl/workspace:run-commands", FAM_RUN_COMMANDS, false, "old name of nx:run-commands"},
    {"@nxlv/python:run-commands", FAM_RUN_COMMANDS, true,
     "nx:run-commands in the workspace's .venv"},
    {"@nxlv/python:build", FAM_UV, true, "native: uv build of the project into outputPath"},
    {"@nxlv/python:ruff-check", FAM_UV, true, "native: uv run ruff check lintFilePatterns"},
    {"@nxlv/python:ruff-format", FAM_UV, true, "native: uv run ruff format filePatterns"},
    {"@nxlv/python:install", FAM_UV, true, "native: uv sync"},
    {"@nxlv/python:sync", FAM_UV, true, "native: uv sync"},
    {"@nxlv/python:lock", FAM_UV, true, "native: uv lock (update: --upgrade)"},
    {"@nxlv/python:add", FAM_UV, true, "native: uv add name to the project"},
    {"@nxlv/python:update", FAM_UV, true, "native: uv lock --upgrade-package name, uv sync"},
    {"@nxlv/python:remove", FAM_UV, true, "native: uv remove name from the project"},
    {"bld:openapi-metadata", FAM_OPENAPI, false,
     "native: OpenAPI spec (openApiSpecPath) -> TypeScript metadata (outputPath)"},
};

/* Option names nx:run-commands itself consumes; others are forwarded as --name=value. */
static const char *const prop_keys[] = {
    "command",   "commands",     "color",   "no-color",       "parallel",     "no-parallel",
    "readyWhen", "cwd",          "args",    "envFile",        "__unparsed__", "env",
    "usePty",    "streamOutput", "verbose", "forwardAllArgs", "tty",
};

static const struct exec_info *exec_find(const char *name)
{
	for (size_t i = 0; i < ARRAY_LEN(executors); i++)
		if (!strcmp(executors[i].name, name))
			return &executors[i];
	return NULL;
}

bool exec_supported(const char *executor)
{
	return executor && exec_find(executor) != NULL;
}

char *exec_supported_list(void)
{
	struct sbuf b = SBUF_INIT;
	for (size_t i = 0; i < ARRAY_LEN(executors); i++)
		sbuf_addf(&b, "%s%s", i ? ", " : "", executors[i].name);
	return sbuf_detach(&b);
}

void exec_describe(struct sbuf *out)
{
	for (size_t i = 0; i < ARRAY_LEN(executors); i++)
		sbuf_addf(out, "  %-30s %s\n", executors[i].name, executors[i].description);
}

void exec_plan_init(struct exec_plan *p)
{
	memset(p, 0, sizeof(*p));
	strvec_init(&p->commands);
	strvec_init(&p->env);
	strvec_init(&p->ready_when);
}

void exec_plan_release(struct exec_plan *p)
{
	strvec_release(&p->commands);
	strvec_release(&p->env);
	strvec_release(&p->ready_when);
	free(p->cwd);
	free(p->env_file);
	free(p->spec_path);
	free(p->output_path);
	free(p->venv);
	memset(p, 0, sizeof(*p));
}

/* Characters a shell word may hold without quotes. */
static bool shell_safe(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
		            "@%+=:,./-_",
		            *s))
			return false;
	return true;
}

static void single_quote(struct sbuf *out, const char *s)
{
	sbuf_addc(out, '\'');
	for (; *s; s++) {
		if (*s == '\'')
			sbuf_adds(out, "'\\''");
		else
			sbuf_addc(out, *s);
	}
	sbuf_addc(out, '\'');
}

void exec_quote_arg(struct sbuf *out, const char *s)
{
	if (shell_safe(s)) {
		sbuf_adds(out, s);
		return;
	}
	const char *eq = strchr(s, '=');
	if (str_starts(s, "--") && eq) {
		/* --key=value: quote the value only, as Nx does */
		char *key = xstrndup(s, (size_t)(eq + 1 - s));
		if (shell_safe(key)) {
			sbuf_adds(out, key);
			free(key);
			single_quote(out, eq + 1);
			return;
		}
		free(key);
	}
	single_quote(out, s);
}

static bool is_prop_key(const char *k)
{
	for (size_t i = 0; i < ARRAY_LEN(prop_keys); i++)
		if (!strcmp(prop_keys[i], k))
			return true;
	return false;
}

/* Key of a forwarded "--key" or "--key=v" argument (new string), or NULL. */
static char *fwd_key(const char *a)
{
	if (!str_starts(a, "--") || !a[2])
		return NULL;
	const char *eq = strchr(a, '=');
	return eq ? xstrndup(a + 2, (size_t)(eq - a - 2)) : xstrdup(a + 2);
}

/* Value of forwarded --name (or NULL); *ret_i gets the index. */
static const char *fwd_value(const struct strvec *fwd, const char *name)
{
	for (size_t i = 0; fwd && i < fwd->n; i++) {
		char *k = fwd_key(fwd->v[i]);
		bool hit = k && !strcmp(k, name);
		free(k);
		if (!hit)
			continue;
		const char *eq = strchr(fwd->v[i], '=');
		if (eq)
			return eq + 1;
		if (i + 1 < fwd->n && !str_starts(fwd->v[i + 1], "--"))
			return fwd->v[i + 1];
		return "true";
	}
	return NULL;
}

static void value_to_text(const cJSON *v, struct sbuf *out)
{
	if (cJSON_IsString(v))
		sbuf_adds(out, v->valuestring);
	else if (cJSON_IsBool(v))
		sbuf_adds(out, cJSON_IsTrue(v) ? "true" : "false");
	else if (cJSON_IsNumber(v)) {
		char *s = cJSON_PrintUnformatted(v);
		sbuf_adds(out, s);
		free(s);
	}
}

/* Options the executor does not know, as " --k=v" (Nx's unknownOptions). */
static void unknown_options(const cJSON *options, const struct strvec *fwd, struct sbuf *out)
{
	const cJSON *o;
	cJSON_ArrayForEach(o, options)
	{
		if (is_prop_key(o->string) || cJSON_IsObject(o) || cJSON_IsArray(o) ||
		    cJSON_IsNull(o) || fwd_value(fwd, o->string))
			continue;
		struct sbuf a = SBUF_INIT;
		sbuf_init(&a);
		sbuf_addf(&a, "--%s=", o->string);
		value_to_text(o, &a);
		sbuf_addc(out, ' ');
		exec_quote_arg(out, a.buf);
		sbuf_release(&a);
	}
}

/* Forwarded arguments minus run-commands' own options (Nx's unparsed filtering). */
static void forwarded_args(const struct strvec *fwd, struct sbuf *out)
{
	for (size_t i = 0; fwd && i < fwd->n; i++) {
		const char *a = fwd->v[i];
		char *k = fwd_key(a);
		bool own = false;
		if (k) {
			char *dot = strchr(k, '.');
			if (dot)
				*dot = '\0';
			own = is_prop_key(k);
		}
		free(k);
		if (own) {
			if (!strchr(a, '=') && i + 1 < fwd->n && !str_starts(fwd->v[i + 1], "--"))
				i++;
			continue;
		}
		sbuf_addc(out, ' ');
		exec_quote_arg(out, a);
	}
}

/* The args option as one string (array joined by spaces), or NULL. */
static char *args_option(const cJSON *options)
{
	const cJSON *a = cJSON_GetObjectItemCaseSensitive(options, "args");
	if (cJSON_IsString(a))
		return xstrdup(a->valuestring);
	if (!cJSON_IsArray(a))
		return NULL;
	struct sbuf sb = SBUF_INIT;
	sbuf_init(&sb);
	const cJSON *x;
	cJSON_ArrayForEach(x, a)
	{
		if (sb.len)
			sbuf_addc(&sb, ' ');
		value_to_text(x, &sb);
	}
	return sbuf_detach(&sb);
}

/* Value of {args.name}: forwarded --name, else --name in the args option, else "". */
static void args_lookup(const char *name, const struct strvec *fwd, const char *args,
                        const cJSON *options, struct sbuf *out)
{
	const char *v = fwd_value(fwd, name);
	if (v) {
		sbuf_adds(out, v);
		return;
	}
	if (args) {
		struct strvec words;
		strvec_init(&words);
		strvec_split(&words, args, " ");
		v = fwd_value(&words, name);
		if (v)
			sbuf_adds(out, v);
		strvec_release(&words);
		if (v)
			return;
	}
	const cJSON *o = cJSON_GetObjectItemCaseSensitive(options, name);
	if (o && !is_prop_key(name))
		value_to_text(o, out);
}

/* Nx's interpolateArgsIntoCommand. */
/* {args.name} -> the value of --name (forwarded, the args option, or an option). */
static void interpolate_named(const char *command, const cJSON *options, const struct strvec *fwd,
                              const char *args, struct sbuf *out)
{
	for (const char *p = command; *p;) {
		const char *s = strstr(p, "{args.");
		const char *e = s ? strchr(s, '}') : NULL;
		if (!e) {
			sbuf_adds(out, p);
			return;
		}
		sbuf_add(out, p, (size_t)(s - p));
		char *name = xstrndup(s + 6, (size_t)(e - s - 6));
		args_lookup(name, fwd, args, options, out);
		free(name);
		p = e + 1;
	}
}

/* {args} -> the unknown options, the forwarded arguments, then the args option. */
static void interpolate_all(const char *command, const cJSON *options, const struct strvec *fwd,
                            const char *args, struct sbuf *out)
{
	struct sbuf a = SBUF_INIT;
	sbuf_init(&a);
	unknown_options(options, fwd, &a);
	forwarded_args(fwd, &a);
	const char *astr = a.len ? a.buf + 1 : "";
	for (const char *p = command; *p;) {
		const char *s = strstr(p, "{args}");
		if (!s) {
			sbuf_adds(out, p);
			break;
		}
		sbuf_add(out, p, (size_t)(s - p));
		sbuf_addf(out, "%s %s", astr, args ? args : "");
		p = s + 6;
	}
	sbuf_release(&a);
}

/* Nx's interpolateArgsIntoCommand: placeholders, else everything appended. */
static int interpolate(const char *command, const cJSON *options, const struct strvec *fwd,
                       bool forward_all, struct sbuf *out, struct bld_err *err)
{
	bool named = strstr(command, "{args.") != NULL;
	bool all = strstr(command, "{args}") != NULL;
	if (named && all)
		return bld_err_set(err, BLD_ESCHEMA,
		                   "command \"%s\" uses both {args} and {args.*}; choose one",
		                   command);
	char *args = args_option(options);
	if (named) {
		interpolate_named(command, options, fwd, args, out);
	} else if (all) {
		interpolate_all(command, options, fwd, args, out);
	} else {
		sbuf_adds(out, command);
		if (forward_all) {
			unknown_options(options, fwd, out);
			if (args && *args)
				sbuf_addf(out, " %s", args);
			forwarded_args(fwd, out);
		}
	}
	free(args);
	return 0;
}

static bool opt_bool(const cJSON *options, const char *name, bool dflt)
{
	const cJSON *o = cJSON_GetObjectItemCaseSensitive(options, name);
	if (cJSON_IsBool(o))
		return cJSON_IsTrue(o);
	if (cJSON_IsString(o))
		return !strcmp(o->valuestring, "true");
	return dflt;
}

/* An absolute path: p itself, or p under root (Nx: cwd relative to the workspace root). */
static char *abs_path(const char *root, const char *p)
{
	char *j = p[0] == '/' ? xstrdup(p) : path_join(root, p);
	char *n = path_normalize(j);
	free(j);
	return n;
}

static int add_commands(const cJSON *options, const struct strvec *fwd, struct exec_plan *p,
                        struct bld_err *err)
{
	const cJSON *cmd = cJSON_GetObjectItemCaseSensitive(options, "command");
	const cJSON *cmds = cJSON_GetObjectItemCaseSensitive(options, "commands");
	bool fwd_all = opt_bool(options, "forwardAllArgs", true);
	struct sbuf line = SBUF_INIT;
	sbuf_init(&line);
	int rc = 0;
	if (cJSON_IsString(cmd) || cJSON_IsArray(cmd)) {
		struct sbuf c = SBUF_INIT;
		sbuf_init(&c);
		if (cJSON_IsString(cmd))
			sbuf_adds(&c, cmd->valuestring);
		else {
			const cJSON *x;
			cJSON_ArrayForEach(x, cmd)
			{
				if (c.len)
					sbuf_addc(&c, ' ');
				value_to_text(x, &c);
			}
		}
		rc = interpolate(c.buf, options, fwd, fwd_all, &line, err);
		strvec_push(&p->commands, line.buf);
		sbuf_release(&c);
		p->parallel = p->ready_when.n > 0;
	} else if (cJSON_IsArray(cmds)) {
		const cJSON *x;
		cJSON_ArrayForEach(x, cmds)
		{
			const cJSON *c =
			    cJSON_IsObject(x) ? cJSON_GetObjectItemCaseSensitive(x, "command") : x;
			if (!cJSON_IsString(c)) {
				rc = bld_err_set(
				    err, BLD_ESCHEMA,
				    "option \"commands\": each entry must be a string or "
				    "an object with a \"command\" string");
				break;
			}
			bool fa =
			    cJSON_IsObject(x) ? opt_bool(x, "forwardAllArgs", fwd_all) : fwd_all;
			sbuf_reset(&line);
			rc = interpolate(c->valuestring, options, fwd, fa, &line, err);
			if (rc < 0)
				break;
			strvec_push(&p->commands, line.buf);
		}
		p->parallel = opt_bool(options, "parallel", true);
	} else {
		rc = bld_err_set(err, BLD_ESCHEMA,
		                 "nx:run-commands needs option \"command\" (a string) or "
		                 "\"commands\" (an array)");
	}
	sbuf_release(&line);
	return rc;
}

static int plan_run_commands(const cJSON *options, const struct strvec *fwd, const char *root,
                             struct exec_plan *p, struct bld_err *err)
{
	const cJSON *rw = cJSON_GetObjectItemCaseSensitive(options, "readyWhen");
	if (cJSON_IsString(rw))
		strvec_push(&p->ready_when, rw->valuestring);
	else if (cJSON_IsArray(rw)) {
		const cJSON *x;
		cJSON_ArrayForEach(x, rw) if (cJSON_IsString(x))
		    strvec_push(&p->ready_when, x->valuestring);
	}
	int rc = add_commands(options, fwd, p, err);
	if (rc < 0)
		return rc;
	if (p->ready_when.n && !p->parallel)
		return bld_err_set(
		    err, BLD_ESCHEMA,
		    "option \"readyWhen\" can only be used when \"parallel\" is true");
	const cJSON *cwd = cJSON_GetObjectItemCaseSensitive(options, "cwd");
	if (cJSON_IsString(cwd) && cwd->valuestring[0])
		p->cwd = abs_path(root, cwd->valuestring);
	const cJSON *ef = cJSON_GetObjectItemCaseSensitive(options, "envFile");
	if (cJSON_IsString(ef) && ef->valuestring[0])
		p->env_file = abs_path(root, ef->valuestring);
	const cJSON *env = cJSON_GetObjectItemCaseSensitive(options, "env");
	const cJSON *e;
	cJSON_ArrayForEach(e, env)
	{
		struct sbuf kv = SBUF_INIT;
		sbuf_init(&kv);
		sbuf_addf(&kv, "%s=", e->string);
		value_to_text(e, &kv);
		strvec_push_owned(&p->env, sbuf_detach(&kv));
	}
	return 0;
}

/* Nx's getPackageManagerCommand().run(script, args): npm and bun put "--"
 * before the arguments, yarn and pnpm (7 and later) pass them on as they are. */
static int plan_run_script(const cJSON *options, const struct strvec *fwd, const char *pm,
                           struct exec_plan *p, struct bld_err *err)
{
	const cJSON *s = cJSON_GetObjectItemCaseSensitive(options, "script");
	if (!cJSON_IsString(s))
		return bld_err_set(err, BLD_ESCHEMA, "nx:run-script needs option \"script\"");
	pm = pm ? pm : "npm";
	bool yarn = !strcmp(pm, "yarn"), pnpm = !strcmp(pm, "pnpm"), bun = !strcmp(pm, "bun");
	struct sbuf c = SBUF_INIT;
	sbuf_init(&c);
	sbuf_addf(&c, "%s %s", yarn ? "yarn" : pnpm ? "pnpm run" : bun ? "bun run" : "npm run",
	          s->valuestring);
	if (fwd && fwd->n) {
		if (!yarn && !pnpm)
			sbuf_adds(&c, " --");
		for (size_t i = 0; i < fwd->n; i++) {
			sbuf_addc(&c, ' ');
			exec_quote_arg(&c, fwd->v[i]);
		}
	}
	strvec_push_owned(&p->commands, sbuf_detach(&c));
	return 0;
}

static int plan_openapi(const cJSON *options, const char *root, struct exec_plan *p,
                        struct bld_err *err)
{
	const cJSON *spec = cJSON_GetObjectItemCaseSensitive(options, "openApiSpecPath");
	const cJSON *out = cJSON_GetObjectItemCaseSensitive(options, "outputPath");
	if (!cJSON_IsString(spec) || !cJSON_IsString(out))
		return bld_err_set(err, BLD_ESCHEMA,
		                   "bld:openapi-metadata needs options \"openApiSpecPath\" and "
		                   "\"outputPath\" (strings)");
	p->spec_path = abs_path(root, spec->valuestring);
	p->output_path = abs_path(root, out->valuestring);
	/* bld itself writes this file: it must land inside the workspace. */
	char *rel = path_relative(root, p->output_path);
	bool inside = rel && *rel;
	free(rel);
	if (!inside)
		return bld_err_set(err, BLD_EUNSAFE,
		                   "bld:openapi-metadata option \"outputPath\" (%s) must name a file "
		                   "inside the workspace",
		                   out->valuestring);
	return 0;
}

/* ---- @nxlv/python executors, run natively through uv ----
 *
 * As @nxlv/python does with its uv provider: a workspace whose root holds
 * pyproject.toml is a uv workspace, where the package-manager commands run at the
 * root with --project <project root>; ruff runs in the project's folder. */

static void add_word(struct sbuf *c, const char *w)
{
	sbuf_addc(c, ' ');
	exec_quote_arg(c, w);
}

/* Options' string-array key (or a single string) as words. */
static void add_words(struct sbuf *c, const cJSON *options, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(options, key);
	if (cJSON_IsString(v)) {
		add_word(c, v->valuestring);
		return;
	}
	const cJSON *x;
	cJSON_ArrayForEach(x, v) if (cJSON_IsString(x)) add_word(c, x->valuestring);
}

/* The "args" option, split at spaces as @nxlv/python does. */
static void add_args_option(struct sbuf *c, const cJSON *options)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(options, "args");
	if (!cJSON_IsString(v))
		return;
	struct strvec w;
	strvec_init(&w);
	strvec_split(&w, v->valuestring, " ");
	for (size_t i = 0; i < w.n; i++)
		if (*w.v[i])
			add_word(c, w.v[i]);
	strvec_release(&w);
}

/* A boolean option, also given as a forwarded --name. */
static bool uv_flag(const cJSON *options, const struct strvec *fwd, const char *name)
{
	const char *f = fwd_value(fwd, name);
	if (f)
		return strcmp(f, "false") != 0;
	return opt_bool(options, name, false);
}

/* Forwarded words, minus the --options this executor consumed (names, NULL-ended). */
static void add_fwd(struct sbuf *c, const struct strvec *fwd, const char *const *consumed)
{
	for (size_t i = 0; fwd && i < fwd->n; i++) {
		char *k = fwd_key(fwd->v[i]);
		bool skip = false;
		for (size_t j = 0; k && consumed[j] && !skip; j++)
			skip = !strcmp(k, consumed[j]);
		if (skip && !strchr(fwd->v[i], '=') && i + 1 < fwd->n &&
		    !str_starts(fwd->v[i + 1], "--"))
			i++; /* its value */
		free(k);
		if (!skip)
			add_word(c, fwd->v[i]);
	}
}

static void add_verbosity(struct sbuf *c, const cJSON *options)
{
	if (opt_bool(options, "verbose", false))
		sbuf_adds(c, " -v");
	else if (opt_bool(options, "debug", false))
		sbuf_adds(c, " -vvv");
	const cJSON *cd = cJSON_GetObjectItemCaseSensitive(options, "cacheDir");
	if (cJSON_IsString(cd) && cd->valuestring[0]) {
		sbuf_adds(c, " --cache-dir");
		add_word(c, cd->valuestring);
	}
}

/* The package name of add/update/remove: option "name", --name, or the first word. */
static const char *uv_package_name(const cJSON *options, const struct strvec *fwd,
                                   bool *ret_positional)
{
	*ret_positional = false;
	const char *n = fwd_value(fwd, "name");
	if (n)
		return n;
	const cJSON *o = cJSON_GetObjectItemCaseSensitive(options, "name");
	if (cJSON_IsString(o) && o->valuestring[0])
		return o->valuestring;
	if (fwd && fwd->n && !str_starts(fwd->v[0], "--")) {
		*ret_positional = true;
		return fwd->v[0];
	}
	return NULL;
}

static int plan_uv(const char *executor, const cJSON *options, const struct strvec *fwd,
                   const char *ws_root, const char *project_dir, struct exec_plan *p,
                   struct bld_err *err)
{
	static const char *const none[] = {NULL};
	const char *what = strchr(executor, ':') + 1;
	char *root_toml = path_join(ws_root, "pyproject.toml");
	bool workspace = file_exists(root_toml);
	free(root_toml);
	char *rel = path_relative(ws_root, project_dir);
	const char *project = rel && *rel ? rel : ".";
	struct sbuf c = SBUF_INIT;
	sbuf_init(&c);
	int rc = 0;
	p->kind = EXEC_COMMANDS;
	p->cwd = xstrdup(workspace ? ws_root : project_dir);
	/* Where uv is missing the shell says "uv: not found" and the engine says how
	 * to get it (exec_missing_tool), as for every task that runs uv. */
	if (!strcmp(what, "ruff-check") || !strcmp(what, "ruff-format")) {
		bool check = !strcmp(what, "ruff-check");
		static const char *const check_consumed[] = {"fix", "exit-zero", "exitZero", NULL};
		static const char *const format_consumed[] = {"check", NULL};
		free(p->cwd);
		p->cwd = xstrdup(project_dir);
		sbuf_adds(&c, check ? "uv run ruff check" : "uv run ruff format");
		add_words(&c, options, check ? "lintFilePatterns" : "filePatterns");
		add_fwd(&c, fwd, check ? check_consumed : format_consumed);
		if (check && (uv_flag(options, fwd, "fix")))
			sbuf_adds(&c, " --fix");
		if (check && (uv_flag(options, fwd, "exitZero") || uv_flag(options, fwd, "exit-zero")))
			sbuf_adds(&c, " --exit-zero");
		if (!check && uv_flag(options, fwd, "check"))
			sbuf_adds(&c, " --check");
	} else if (!strcmp(what, "build")) {
		const cJSON *out = cJSON_GetObjectItemCaseSensitive(options, "outputPath");
		if (!cJSON_IsString(out) || !out->valuestring[0]) {
			rc = bld_err_set(err, BLD_ESCHEMA,
			                 "%s needs option \"outputPath\" (a folder)", executor);
		} else {
			char *abs_out = abs_path(ws_root, out->valuestring);
			sbuf_adds(&c, "rm -rf");
			add_word(&c, abs_out);
			sbuf_adds(&c, " && uv build");
			add_word(&c, project_dir);
			const cJSON *fmt = cJSON_GetObjectItemCaseSensitive(options, "format");
			if (cJSON_IsString(fmt) &&
			    (!strcmp(fmt->valuestring, "wheel") || !strcmp(fmt->valuestring, "sdist")))
				sbuf_addf(&c, " --%s", fmt->valuestring);
			sbuf_adds(&c, " --out-dir");
			add_word(&c, abs_out);
			add_fwd(&c, fwd, none);
			free(abs_out);
		}
	} else if (!strcmp(what, "install") || !strcmp(what, "sync")) {
		sbuf_adds(&c, "uv sync");
		add_verbosity(&c, options);
		add_args_option(&c, options);
		add_fwd(&c, fwd, none);
	} else if (!strcmp(what, "lock")) {
		sbuf_adds(&c, "uv lock");
		if (uv_flag(options, fwd, "update"))
			sbuf_adds(&c, " --upgrade");
		add_args_option(&c, options);
		add_verbosity(&c, options);
		static const char *const lock_consumed[] = {"update", NULL};
		add_fwd(&c, fwd, lock_consumed);
	} else { /* add, update, remove */
		bool positional = false;
		const char *name = uv_package_name(options, fwd, &positional);
		static const char *const consumed[] = {"name", "group", "extras", "local", NULL};
		struct strvec rest;
		strvec_init(&rest);
		for (size_t i = positional ? 1 : 0; fwd && i < fwd->n; i++)
			strvec_push(&rest, fwd->v[i]);
		if (!name) {
			rc = bld_err_set(err, BLD_ESCHEMA,
			                 "%s needs the package: option \"name\", --name or a word after "
			                 "--",
			                 executor);
		} else if (!strcmp(what, "update")) {
			sbuf_adds(&c, "uv lock --upgrade-package");
			add_word(&c, name);
			if (workspace) {
				sbuf_adds(&c, " --project");
				add_word(&c, project);
			}
			add_fwd(&c, &rest, consumed);
			sbuf_adds(&c, " && uv sync");
		} else {
			sbuf_adds(&c, !strcmp(what, "add") ? "uv add" : "uv remove");
			add_word(&c, name);
			const cJSON *g = cJSON_GetObjectItemCaseSensitive(options, "group");
			const char *fg = fwd_value(&rest, "group");
			if (!strcmp(what, "add") && (fg || cJSON_IsString(g))) {
				sbuf_adds(&c, " --group");
				add_word(&c, fg ? fg : g->valuestring);
			}
			const cJSON *ex = cJSON_GetObjectItemCaseSensitive(options, "extras");
			const cJSON *x;
			if (!strcmp(what, "add"))
				cJSON_ArrayForEach(x, ex) if (cJSON_IsString(x))
				{
					sbuf_adds(&c, " --extra");
					add_word(&c, x->valuestring);
				}
			add_args_option(&c, options);
			add_fwd(&c, &rest, consumed);
			if (workspace) {
				sbuf_adds(&c, " --project");
				add_word(&c, project);
			}
		}
		strvec_release(&rest);
	}
	if (rc >= 0)
		strvec_push(&p->commands, c.buf);
	sbuf_release(&c);
	free(rel);
	return rc;
}

int exec_plan_build(const char *executor, const cJSON *options, const struct strvec *fwd,
                    const char *ws_root, const char *project_dir, const char *pkg_manager,
                    struct exec_plan *p, struct bld_err *err)
{
	const struct exec_info *x = executor ? exec_find(executor) : NULL;
	if (!x) {
		char *all = exec_supported_list();
		int rc = bld_err_set(err, BLD_EEXECUTOR,
		                     "executor \"%s\" is not supported by bld; bld runs: %s",
		                     executor ? executor : "(none)", all);
		free(all);
		return rc;
	}
	switch (x->fam) {
	case FAM_NOOP:
		p->kind = EXEC_NOOP;
		return 0;
	case FAM_OPENAPI:
		p->kind = EXEC_OPENAPI;
		return plan_openapi(options, ws_root, p, err);
	case FAM_RUN_SCRIPT:
		p->kind = EXEC_COMMANDS;
		p->cwd = xstrdup(project_dir);
		return plan_run_script(options, fwd, pkg_manager, p, err);
	case FAM_UV:
		p->venv = path_join(ws_root, ".venv");
		return plan_uv(x->name, options, fwd, ws_root, project_dir, p, err);
	case FAM_RUN_COMMANDS:
		p->kind = EXEC_COMMANDS;
		if (x->venv)
			p->venv = path_join(ws_root, ".venv");
		return plan_run_commands(options, fwd, ws_root, p, err);
	}
	return 0;
}

/* Whether an executable file named name is in one of path's folders. */
static bool on_path(const char *name, const char *path)
{
	struct strvec dirs;
	strvec_init(&dirs);
	strvec_split(&dirs, path, ":");
	bool found = false;
	for (size_t i = 0; i < dirs.n && !found; i++) {
		char *f = path_join(dirs.v[i], name);
		found = access(f, X_OK) == 0 && !dir_exists(f);
		free(f);
	}
	strvec_release(&dirs);
	return found;
}

/* Whether word leaves the next word in command position: an assignment (X=1), a
 * reserved word or a wrapper that runs the rest (env, exec, time, ...). */
static bool keeps_command_position(const char *word, size_t n)
{
	static const char *const prefixes[] = {"if", "then", "else", "elif", "do", "while",
	                                       "until", "!", "{", "env", "exec", "time",
	                                       "nohup", "command"};
	const char *eq = memchr(word, '=', n);
	if (eq && eq > word && word[0] != '-')
		return true;
	for (size_t i = 0; i < ARRAY_LEN(prefixes); i++)
		if (strlen(prefixes[i]) == n && !memcmp(word, prefixes[i], n))
			return true;
	return false;
}

/* Whether command runs one of the words (a simple scan of shell syntax: the first
 * word of each command after ; & | ( $( ` and newlines, past assignments and
 * wrappers; quoted words do not count). */
static bool runs_word(const char *command, const char *const *names, size_t nnames)
{
	bool at_cmd = true, redirect = false;
	for (const char *p = command; *p;) {
		if (*p == '\n' || strchr(";&|(`", *p)) {
			at_cmd = true, p++;
		} else if (*p == ' ' || *p == '\t' || *p == ')') {
			p++;
		} else if (*p == '<' || *p == '>') {
			redirect = true, p++;
		} else if (p[0] == '$' && p[1] == '(') {
			at_cmd = true, p += 2;
		} else {
			size_t n = strcspn(p, " \t\n;&|()`<>");
			if (at_cmd && !redirect) {
				for (size_t i = 0; i < nnames; i++)
					if (strlen(names[i]) == n && !memcmp(p, names[i], n))
						return true;
				at_cmd = keeps_command_position(p, n);
			}
			redirect = false;
			p += n;
		}
	}
	return false;
}

const char *exec_missing_tool(const char *command, const char *path)
{
	static const char *const uv_words[] = {"uv", "uvx"};
	/* dash's PATH when the environment has none */
	path = path ? path : "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
	if (!runs_word(command, uv_words, ARRAY_LEN(uv_words)))
		return NULL;
	return on_path("uv", path) && on_path("uvx", path) ? NULL : "uv";
}
