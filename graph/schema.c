/*
 * schema.c - the types of nx.json, project.json and package.json, checked
 * as soon as a file is parsed.
 *
 * The tables below are the types of Nx 22.1.3's published schemas
 * (node_modules/nx/schemas/project-schema.json and nx-schema.json, and for
 * target options the executors' schema.json: nx:run-commands, nx:run-script;
 * bld:openapi-metadata is bld's own).  Only types are checked: an unknown key
 * stays allowed, as in Nx, and enums and required keys are left to the code
 * that reads them.  A "oneOf" of Nx's schema is a set of JSON types here, as
 * every oneOf in those schemas is told apart by type (a string or an array of
 * strings; a string or an object).
 *
 * A target's options are typed by its executor: the one it names, else
 * nx:run-commands for the `command` shorthand, else (the executor comes from
 * targetDefaults or package.json) the union of the options bld reads; an
 * executor bld does not know leaves them unchecked.  A targetDefaults entry
 * keyed by an executor (a key with a ':') takes that executor.
 *
 * A wrong type is BLD_ESCHEMA at the value's line:col, naming its key path
 * (targets.build.inputs[0]), what the schema wants and what was found.
 */
#include "ws_int.h"

#include <stdio.h>
#include <string.h>

enum {
	T_STRING = 1,
	T_NUMBER = 2,
	T_BOOL = 4,
	T_NULL = 8,
	T_OBJECT = 16,
	T_ARRAY = 32,
};

/* How an object's keys are typed beyond its own table. */
enum special {
	SP_NONE,
	SP_TARGETS,         /* every value is a target, typed by its executor */
	SP_TARGET_DEFAULTS, /* the same; a key naming an executor is one */
};

struct schema_key;

struct schema {
	unsigned types;                /* T_* allowed */
	const struct schema *items;    /* elements of an array; NULL: not checked */
	const struct schema_key *keys; /* known keys of an object, {NULL}-ended */
	const struct schema *values;   /* every other key's value; NULL: not checked */
	enum special special;
};

struct schema_key {
	const char *key;
	const struct schema *s;
};

/* ---- the tables ---- */

static const struct schema s_str = {.types = T_STRING}, s_num = {.types = T_NUMBER},
                           s_bool = {.types = T_BOOL}, s_obj = {.types = T_OBJECT},
                           s_bool_num = {.types = T_BOOL | T_NUMBER};
static const struct schema s_strs = {.types = T_ARRAY, &s_str};
static const struct schema s_str_or_strs = {.types = T_STRING | T_ARRAY, &s_str};
static const struct schema s_obj_of_strs = {.types = T_OBJECT, .values = &s_str};
static const struct schema s_obj_of_objs = {.types = T_OBJECT, .values = &s_obj};

/* definitions/inputs: strings, or objects of one of six shapes (merged:
 * their keys never clash). */
static const struct schema_key input_keys[] = {
    {"fileset", &s_str},
    {"input", &s_str},
    {"projects", &s_str_or_strs},
    {"dependencies", &s_bool},
    {"runtime", &s_str},
    {"env", &s_str},
    {"externalDependencies", &s_strs},
    {"dependentTasksOutputFiles", &s_str},
    {"transitive", &s_bool},
    {NULL, NULL},
};
static const struct schema s_input = {.types = T_STRING | T_OBJECT, .keys = input_keys};
static const struct schema s_inputs = {.types = T_ARRAY, &s_input};
static const struct schema s_named_inputs = {.types = T_OBJECT, .values = &s_inputs};

static const struct schema_key depends_on_keys[] = {
    {"target", &s_str},
    {"projects", &s_str_or_strs},
    {"dependencies", &s_bool},
    {"params", &s_str},
    {NULL, NULL},
};
static const struct schema s_depends_on_item = {.types = T_STRING | T_OBJECT,
                                                .keys = depends_on_keys};
static const struct schema s_depends_on = {.types = T_ARRAY, &s_depends_on_item};

static const struct schema_key description_keys[] = {{"description", &s_str}, {NULL, NULL}};
static const struct schema s_metadata = {.types = T_OBJECT, .keys = description_keys};

/* nx:run-commands (src/executors/run-commands/schema.json) */
static const struct schema_key command_keys[] = {
    {"command", &s_str},     {"forwardAllArgs", &s_bool}, {"description", &s_str},
    {"prefix", &s_str},      {"prefixColor", &s_str},     {"color", &s_str},
    {"bgColor", &s_str},     {NULL, NULL},
};
static const struct schema s_command_item = {.types = T_STRING | T_OBJECT, .keys = command_keys};
static const struct schema s_commands = {.types = T_ARRAY, &s_command_item};

#define RUN_COMMANDS_OPTIONS                                                                       \
	{"command", &s_str_or_strs}, {"commands", &s_commands}, {"parallel", &s_bool},             \
	    {"readyWhen", &s_str_or_strs}, {"args", &s_str_or_strs}, {"envFile", &s_str},      \
	    {"color", &s_bool}, {"cwd", &s_str}, {"env", &s_obj_of_strs},                      \
	    {"forwardAllArgs", &s_bool}, {"tty", &s_bool}
#define RUN_SCRIPT_OPTIONS {"script", &s_str}
#define OPENAPI_OPTIONS {"openApiSpecPath", &s_str}, {"outputPath", &s_str}
#define UNPARSED {"__unparsed__", &s_strs}

static const struct schema_key run_commands_opts[] = {RUN_COMMANDS_OPTIONS, UNPARSED, {0}};
static const struct schema_key run_script_opts[] = {RUN_SCRIPT_OPTIONS, UNPARSED, {0}};
static const struct schema_key openapi_opts[] = {OPENAPI_OPTIONS, {0}};
static const struct schema_key any_opts[] = {RUN_COMMANDS_OPTIONS, RUN_SCRIPT_OPTIONS,
                                             OPENAPI_OPTIONS, UNPARSED, {0}};
static const struct schema_key no_opts[] = {{0}};

/* A target (project-schema.json targets.additionalProperties, nx-schema.json
 * targetDefaultsConfig) whose options are typed by opts. */
#define TARGET_SCHEMA(name, opts)                                                                  \
	static const struct schema name##_options = {.types = T_OBJECT, .keys = opts};             \
	static const struct schema name##_configurations = {.types = T_OBJECT,                     \
	                                                    .values = &name##_options};            \
	static const struct schema_key name##_keys[] = {                                           \
	    {"executor", &s_str},                                                                  \
	    {"command", &s_str},                                                                   \
	    {"options", &name##_options},                                                          \
	    {"configurations", &name##_configurations},                                            \
	    {"defaultConfiguration", &s_str},                                                      \
	    {"dependsOn", &s_depends_on},                                                          \
	    {"inputs", &s_inputs},                                                                 \
	    {"outputs", &s_strs},                                                                  \
	    {"cache", &s_bool},                                                                    \
	    {"continuous", &s_bool},                                                               \
	    {"parallelism", &s_bool},                                                              \
	    {"metadata", &s_metadata},                                                             \
	    {"syncGenerators", &s_strs},                                                           \
	    {NULL, NULL},                                                                          \
	};                                                                                         \
	static const struct schema name = {.types = T_OBJECT, .keys = name##_keys}

TARGET_SCHEMA(t_run_commands, run_commands_opts);
TARGET_SCHEMA(t_run_script, run_script_opts);
TARGET_SCHEMA(t_openapi, openapi_opts);
TARGET_SCHEMA(t_noop, no_opts);
TARGET_SCHEMA(t_unwritten, any_opts);
TARGET_SCHEMA(t_foreign, no_opts);

/* The executors bld runs and their options (keep in step with daemon/exec.c's table;
 * graph/ cannot link the engine). */
static const struct {
	const char *name;
	const struct schema *target;
} executors[] = {
    {"nx:run-commands", &t_run_commands},
    {"@nx/workspace:run-commands", &t_run_commands},
    {"@nrwl/workspace:run-commands", &t_run_commands},
    {"@nxlv/python:run-commands", &t_run_commands},
    {"nx:run-script", &t_run_script},
    {"nx:noop", &t_noop},
    {"bld:openapi-metadata", &t_openapi},
};

static const struct schema s_targets = {.types = T_OBJECT, .special = SP_TARGETS};
static const struct schema s_target_defaults = {.types = T_OBJECT, .special = SP_TARGET_DEFAULTS};

/* project-schema.json */
static const struct schema_key project_keys[] = {
    {"name", &s_str},
    {"root", &s_str},
    {"sourceRoot", &s_str},
    {"projectType", &s_str},
    {"generators", &s_obj},
    {"namedInputs", &s_named_inputs},
    {"targets", &s_targets},
    {"tags", &s_strs},
    {"implicitDependencies", &s_strs},
    {"metadata", &s_metadata},
    {"release", &s_obj},
    {NULL, NULL},
};
static const struct schema s_project = {.types = T_OBJECT, .keys = project_keys};

/* nx-schema.json */
static const struct schema_key affected_keys[] = {{"defaultBase", &s_str}, {0}};
static const struct schema_key layout_keys[] = {{"libsDir", &s_str}, {"appsDir", &s_str}, {0}};
static const struct schema_key plugin_keys[] = {
    {"plugin", &s_str}, {"options", &s_obj}, {"include", &s_strs}, {"exclude", &s_strs}, {0}};
static const struct schema s_plugin = {.types = T_STRING | T_OBJECT, .keys = plugin_keys};
static const struct schema_key tui_keys[] = {{"enabled", &s_bool}, {"autoExit", &s_bool_num}, {0}};
static const struct schema_key sync_keys[] = {
    {"globalGenerators", &s_strs},
    {"generatorOptions", &s_obj_of_objs},
    {"applyChanges", &s_bool},
    {"disabledTaskSyncGenerators", &s_strs},
    {0},
};
static const struct schema s_affected = {.types = T_OBJECT, .keys = affected_keys},
                           s_layout = {.types = T_OBJECT, .keys = layout_keys},
                           s_plugins = {.types = T_ARRAY, &s_plugin},
                           s_tui = {.types = T_OBJECT, .keys = tui_keys},
                           s_sync = {.types = T_OBJECT, .keys = sync_keys};
static const struct schema_key nx_keys[] = {
    {"implicitDependencies", &s_obj},
    {"affected", &s_affected},
    {"extends", &s_str},
    {"defaultBase", &s_str},
    {"tasksRunnerOptions", &s_obj_of_objs},
    {"namedInputs", &s_named_inputs},
    {"targetDefaults", &s_target_defaults},
    {"workspaceLayout", &s_layout},
    {"cli", &s_obj},
    {"generators", &s_obj},
    {"plugins", &s_plugins},
    {"tui", &s_tui},
    {"defaultProject", &s_str},
    {"nxCloudAccessToken", &s_str},
    {"nxCloudUrl", &s_str},
    {"nxCloudEncryptionKey", &s_str},
    {"neverConnectToCloud", &s_bool},
    {"parallel", &s_num},
    {"cacheDirectory", &s_str},
    {"useDaemonProcess", &s_bool},
    {"useInferencePlugins", &s_bool},
    {"release", &s_obj},
    {"sync", &s_sync},
    {"conformance", &s_obj},
    {NULL, NULL},
};
static const struct schema s_nx = {.types = T_OBJECT, .keys = nx_keys};

/* package.json: the keys bld reads (npm's types), "nx" as a project. */
static const struct schema_key pkg_nx_keys[] = {
    {"name", &s_str},
    {"root", &s_str},
    {"namedInputs", &s_named_inputs},
    {"targets", &s_targets},
    {"tags", &s_strs},
    {"implicitDependencies", &s_strs},
    {"includedScripts", &s_strs},
    {"metadata", &s_metadata},
    {NULL, NULL},
};
static const struct schema_key pkg_workspaces_keys[] = {{"packages", &s_strs}, {0}};
static const struct schema s_pkg_nx = {.types = T_OBJECT, .keys = pkg_nx_keys};
static const struct schema s_pkg_workspaces = {.types = T_ARRAY | T_OBJECT, &s_str,
                                               pkg_workspaces_keys};
static const struct schema_key pkg_keys[] = {
    {"name", &s_str},
    {"version", &s_str},
    {"private", &s_bool},
    {"scripts", &s_obj_of_strs},
    {"dependencies", &s_obj_of_strs},
    {"devDependencies", &s_obj_of_strs},
    {"peerDependencies", &s_obj_of_strs},
    {"optionalDependencies", &s_obj_of_strs},
    {"workspaces", &s_pkg_workspaces},
    {"nx", &s_pkg_nx},
    {NULL, NULL},
};
static const struct schema s_package = {.types = T_OBJECT, .keys = pkg_keys};

/* ---- the check ---- */

/* One step of the key path to the value being checked: a key, or an index
 * when key is NULL.  The steps live on check_child's stack; the path is only
 * written out for an error message. */
struct step {
	const char *key;
	int index;
	const struct step *up;
};

struct check {
	const struct ws_json_spans *spans;
	const char *text;
	const char *file;
	struct bld_err *err;
	const struct step *top; /* NULL at the document's root */
};

/* "targets.build.options.command", "tags[2]" */
static void path_write(const struct step *s, struct sbuf *out)
{
	if (!s)
		return;
	path_write(s->up, out);
	if (s->key)
		sbuf_addf(out, "%s%s", s->up ? "." : "", s->key);
	else
		sbuf_addf(out, "[%d]", s->index);
}

static unsigned type_of(const cJSON *v)
{
	if (cJSON_IsString(v))
		return T_STRING;
	if (cJSON_IsNumber(v))
		return T_NUMBER;
	if (cJSON_IsBool(v))
		return T_BOOL;
	if (cJSON_IsObject(v))
		return T_OBJECT;
	if (cJSON_IsArray(v))
		return T_ARRAY;
	return T_NULL;
}

/* "strings", "strings or objects": the plural of an element's types. */
static void describe_plural(const struct schema *s, struct sbuf *out)
{
	static const char *const plural[] = {"strings", "numbers", "booleans", "nulls", "objects",
	                                     "arrays"};
	int n = 0;
	for (int b = 0; b < 6; b++) {
		if (!(s->types & 1u << b))
			continue;
		sbuf_adds(out, n++ ? " or " : "");
		sbuf_adds(out, plural[b]);
	}
}

/* "a string or an array of strings", "a number, true or false", ... */
static void describe(const struct schema *s, struct sbuf *out)
{
	static const char *const one[] = {"a string", "a number", "true", "null", "an object",
	                                  "an array"};
	const char *items[7];
	int n = 0;
	for (int b = 0; b < 6; b++) {
		if (s->types & 1u << b)
			items[n++] = one[b];
		if ((1u << b) == T_BOOL && (s->types & T_BOOL))
			items[n++] = "false";
	}
	for (int i = 0; i < n; i++) {
		sbuf_adds(out, i == 0 ? "" : i == n - 1 ? " or " : ", ");
		sbuf_adds(out, items[i]);
		if (!strcmp(items[i], "an array") && s->items) {
			sbuf_adds(out, " of ");
			describe_plural(s->items, out);
		}
	}
}

static int wrong_type(struct check *c, const cJSON *v, const struct schema *s)
{
	size_t off = 0;
	int line = 0, col = 0;
	if (ws__json_span_of(c->spans, v, &off))
		ws__text_linecol(c->text, off, &line, &col);
	struct sbuf want = SBUF_INIT;
	sbuf_init(&want);
	describe(s, &want);
	struct sbuf path = SBUF_INIT;
	sbuf_init(&path);
	path_write(c->top, &path);
	int rc;
	if (!path.len)
		rc = bld_err_at(c->err, BLD_ESCHEMA, c->file, line, col,
		                "the file must hold %s, not %s", want.buf, ws__json_kind(v));
	else
		rc = bld_err_at(c->err, BLD_ESCHEMA, c->file, line, col, "%s must be %s, not %s",
		                path.buf, want.buf, ws__json_kind(v));
	sbuf_release(&path);
	sbuf_release(&want);
	return rc;
}

static int check_value(struct check *c, const cJSON *v, const struct schema *s);

/* The schema of a target: by the executor it names, its command shorthand,
 * or (for targetDefaults) the executor its key names: a key with a ':' that
 * bld does not run is another executor's entry, left unchecked. */
static const struct schema *target_schema(const cJSON *t, const char *key)
{
	const cJSON *x = cJSON_GetObjectItemCaseSensitive(t, "executor");
	const char *name = NULL;
	if (x)
		name = cJSON_IsString(x) ? x->valuestring : NULL;
	else if (ws__json_has(t, "command"))
		name = "nx:run-commands";
	else if (key && strchr(key, ':'))
		name = key;
	if (!name)
		return x ? &t_foreign : &t_unwritten;
	for (size_t i = 0; i < ARRAY_LEN(executors); i++)
		if (!strcmp(executors[i].name, name))
			return executors[i].target;
	return &t_foreign;
}

/* Check child v, its path extended by ".key" or "[i]". */
static int check_child(struct check *c, const cJSON *v, const char *key, int index,
                       const struct schema *s)
{
	struct step step = {key, index, c->top};
	c->top = &step;
	int rc = check_value(c, v, s);
	c->top = step.up;
	return rc;
}

static const struct schema *key_schema(const struct schema *s, const cJSON *e)
{
	if (s->special == SP_TARGETS)
		return target_schema(e, NULL);
	if (s->special == SP_TARGET_DEFAULTS)
		return target_schema(e, e->string);
	for (const struct schema_key *k = s->keys; k && k->key; k++)
		if (!strcmp(k->key, e->string))
			return k->s;
	return s->values;
}

static int check_value(struct check *c, const cJSON *v, const struct schema *s)
{
	unsigned t = type_of(v);
	if (!(s->types & t))
		return wrong_type(c, v, s);
	const cJSON *e;
	int i = 0, rc = 0;
	if (t == T_ARRAY && s->items) {
		cJSON_ArrayForEach(e, v)
		{
			if ((rc = check_child(c, e, NULL, i++, s->items)) < 0)
				return rc;
		}
	}
	if (t == T_OBJECT) {
		cJSON_ArrayForEach(e, v)
		{
			const struct schema *ks = key_schema(s, e);
			if (ks && (rc = check_child(c, e, e->string, 0, ks)) < 0)
				return rc;
		}
	}
	return 0;
}

static const struct schema *schema_of(enum ws_schema which)
{
	switch (which) {
	case WS_SCHEMA_PROJECT:
		return &s_project;
	case WS_SCHEMA_NX:
		return &s_nx;
	case WS_SCHEMA_PACKAGE:
		return &s_package;
	case WS_SCHEMA_NONE:
		break;
	}
	return NULL;
}

int ws__schema_check(const cJSON *root, enum ws_schema which, const struct ws_json_spans *spans,
                     const char *text, const char *file, struct bld_err *err)
{
	const struct schema *s = schema_of(which);
	if (!s)
		return 0;
	struct check c = {spans, text, file, err, NULL};
	return check_value(&c, root, s);
}
