/* test_schema.c - the types of nx.json, project.json and package.json
 * (graph/schema.c, from Nx's published schemas): each rule, with the line:col
 * of the value, its key path, what was wanted and what was found. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "bld/base.h"
#include "../../graph/ws_int.h"

static void ok(enum ws_schema which, const char *text)
{
	cJSON *j = NULL;
	struct bld_err err = {0};
	if (ws__json_parse_as(text, strlen(text), "f.json", which, &j, &err) != 0)
		fail_msg("rejected %s: %d:%d: %s", text, err.line, err.col, err.msg);
	cJSON_Delete(j);
}

/* Rejected at 1:col with exactly msg. */
static void bad(enum ws_schema which, const char *text, int col, const char *msg)
{
	cJSON *j = NULL;
	struct bld_err err = {0};
	int rc = ws__json_parse_as(text, strlen(text), "f.json", which, &j, &err);
	if (rc != BLD_ESCHEMA)
		fail_msg("%s: got %d (%s), wanted a schema error", text, rc, err.msg);
	assert_null(j);
	assert_string_equal(err.file, "f.json");
	if (err.line != 1 || err.col != col || strcmp(err.msg, msg))
		fail_msg("%s:\n  got    %d:%d: %s\n  wanted 1:%d: %s", text, err.line, err.col,
		         err.msg, col, msg);
}

#define P WS_SCHEMA_PROJECT
#define NX WS_SCHEMA_NX
#define PKG WS_SCHEMA_PACKAGE

static void project_top_level_keys(void **state)
{
	ok(P, "{\"name\": \"p\", \"root\": \"p\", \"sourceRoot\": \"p/src\", \"projectType\": "
	      "\"library\", \"tags\": [\"a\"], \"implicitDependencies\": [\"!b\"], \"generators\": {},"
	      " \"metadata\": {\"description\": \"d\", \"x\": 1}, \"release\": {}, \"unknown\": 1}");
	bad(P, "[]", 1, "the file must hold an object, not an array");
	bad(P, "{\"name\": 7}", 10, "name must be a string, not a number");
	bad(P, "{\"root\": null}", 10, "root must be a string, not null");
	bad(P, "{\"sourceRoot\": true}", 16, "sourceRoot must be a string, not a boolean");
	bad(P, "{\"projectType\": {}}", 17, "projectType must be a string, not an object");
	bad(P, "{\"tags\": \"x\"}", 10, "tags must be an array of strings, not a string");
	bad(P, "{\"tags\": [\"a\", 1]}", 16, "tags[1] must be a string, not a number");
	bad(P, "{\"implicitDependencies\": [[]]}", 27,
	    "implicitDependencies[0] must be a string, not an array");
	bad(P, "{\"generators\": []}", 16, "generators must be an object, not an array");
	bad(P, "{\"metadata\": {\"description\": 1}}", 30,
	    "metadata.description must be a string, not a number");
	bad(P, "{\"release\": 1}", 13, "release must be an object, not a number");
}

static void named_inputs_and_inputs(void **state)
{
	ok(P, "{\"namedInputs\": {\"src\": [\"{projectRoot}/**\", {\"fileset\": \"x\"}, {\"input\": "
	      "\"a\", \"projects\": \"b\"}, {\"input\": \"a\", \"projects\": [\"b\"]}, {\"input\": \"a\", "
	      "\"dependencies\": true}, {\"runtime\": \"r\"}, {\"env\": \"E\"}, "
	      "{\"externalDependencies\": [\"x\"]}, {\"dependentTasksOutputFiles\": \"**\", "
	      "\"transitive\": false}]}}");
	bad(P, "{\"namedInputs\": \"x\"}", 17, "namedInputs must be an object, not a string");
	bad(P, "{\"namedInputs\": {\"src\": \"x\"}}", 25,
	    "namedInputs.src must be an array of strings or objects, not a string");
	bad(P, "{\"namedInputs\": {\"src\": [7]}}", 26,
	    "namedInputs.src[0] must be a string or an object, not a number");
	bad(P, "{\"targets\": {\"b\": {\"inputs\": [7]}}}", 31,
	    "targets.b.inputs[0] must be a string or an object, not a number");
	bad(P, "{\"targets\": {\"b\": {\"inputs\": [{\"fileset\": 1}]}}}", 43,
	    "targets.b.inputs[0].fileset must be a string, not a number");
	bad(P, "{\"targets\": {\"b\": {\"inputs\": [{\"input\": \"i\", \"projects\": 1}]}}}", 58,
	    "targets.b.inputs[0].projects must be a string or an array of strings, not a number");
	bad(P, "{\"targets\": {\"b\": {\"inputs\": [{\"input\": \"i\", \"dependencies\": \"y\"}]}}}",
	    62, "targets.b.inputs[0].dependencies must be true or false, not a string");
	bad(P, "{\"targets\": {\"b\": {\"inputs\": [{\"externalDependencies\": \"x\"}]}}}", 56,
	    "targets.b.inputs[0].externalDependencies must be an array of strings, not a string");
	bad(P, "{\"targets\": {\"b\": {\"inputs\": [{\"env\": 1}]}}}", 39,
	    "targets.b.inputs[0].env must be a string, not a number");
	bad(P, "{\"targets\": {\"b\": {\"inputs\": [{\"runtime\": []}]}}}", 43,
	    "targets.b.inputs[0].runtime must be a string, not an array");
	bad(P, "{\"targets\": {\"b\": {\"inputs\": [{\"dependentTasksOutputFiles\": \"x\", "
	       "\"transitive\": 1}]}}}",
	    80, "targets.b.inputs[0].transitive must be true or false, not a number");
}

static void target_keys(void **state)
{
	ok(P, "{\"targets\": {\"b\": {\"executor\": \"nx:noop\", \"options\": {}, \"configurations\": "
	      "{\"c\": {}}, \"defaultConfiguration\": \"c\", \"dependsOn\": [\"^b\", {\"target\": \"t\", "
	      "\"projects\": [\"x\"], \"params\": \"forward\"}, {\"target\": \"t\", \"dependencies\": "
	      "true}], \"outputs\": [\"o\"], \"cache\": true, \"continuous\": false, \"parallelism\": "
	      "true, \"metadata\": {}, \"syncGenerators\": [\"g\"], \"other\": 1}}}");
	bad(P, "{\"targets\": 3}", 13, "targets must be an object, not a number");
	bad(P, "{\"targets\": {\"b\": []}}", 19, "targets.b must be an object, not an array");
	bad(P, "{\"targets\": {\"b\": {\"executor\": 1}}}", 32,
	    "targets.b.executor must be a string, not a number");
	bad(P, "{\"targets\": {\"b\": {\"command\": [\"x\"]}}}", 31,
	    "targets.b.command must be a string, not an array");
	bad(P, "{\"targets\": {\"b\": {\"options\": []}}}", 31,
	    "targets.b.options must be an object, not an array");
	bad(P, "{\"targets\": {\"b\": {\"configurations\": {\"c\": 1}}}}", 44,
	    "targets.b.configurations.c must be an object, not a number");
	bad(P, "{\"targets\": {\"b\": {\"defaultConfiguration\": 1}}}", 44,
	    "targets.b.defaultConfiguration must be a string, not a number");
	bad(P, "{\"targets\": {\"b\": {\"dependsOn\": \"^b\"}}}", 33,
	    "targets.b.dependsOn must be an array of strings or objects, not a string");
	bad(P, "{\"targets\": {\"b\": {\"dependsOn\": [1]}}}", 34,
	    "targets.b.dependsOn[0] must be a string or an object, not a number");
	bad(P, "{\"targets\": {\"b\": {\"dependsOn\": [{\"target\": 1}]}}}", 45,
	    "targets.b.dependsOn[0].target must be a string, not a number");
	bad(P, "{\"targets\": {\"b\": {\"dependsOn\": [{\"target\": \"t\", \"projects\": {}}]}}}", 62,
	    "targets.b.dependsOn[0].projects must be a string or an array of strings, not an "
	    "object");
	bad(P, "{\"targets\": {\"b\": {\"dependsOn\": [{\"target\": \"t\", \"dependencies\": 1}]}}}",
	    66, "targets.b.dependsOn[0].dependencies must be true or false, not a number");
	bad(P, "{\"targets\": {\"b\": {\"dependsOn\": [{\"target\": \"t\", \"params\": true}]}}}", 60,
	    "targets.b.dependsOn[0].params must be a string, not a boolean");
	bad(P, "{\"targets\": {\"b\": {\"outputs\": [1]}}}", 32,
	    "targets.b.outputs[0] must be a string, not a number");
	bad(P, "{\"targets\": {\"b\": {\"cache\": \"yes\"}}}", 29,
	    "targets.b.cache must be true or false, not a string");
	bad(P, "{\"targets\": {\"b\": {\"continuous\": 1}}}", 34,
	    "targets.b.continuous must be true or false, not a number");
	bad(P, "{\"targets\": {\"b\": {\"parallelism\": null}}}", 35,
	    "targets.b.parallelism must be true or false, not null");
	bad(P, "{\"targets\": {\"b\": {\"metadata\": {\"description\": []}}}}", 48,
	    "targets.b.metadata.description must be a string, not an array");
	bad(P, "{\"targets\": {\"b\": {\"syncGenerators\": \"g\"}}}", 38,
	    "targets.b.syncGenerators must be an array of strings, not a string");
}

static void run_commands_options(void **state)
{
	ok(P, "{\"targets\": {\"b\": {\"executor\": \"nx:run-commands\", \"options\": {\"command\": "
	      "[\"a\", \"b\"], \"commands\": [\"x\", {\"command\": \"y\", \"forwardAllArgs\": false, "
	      "\"prefix\": \"p\"}], \"parallel\": false, \"readyWhen\": [\"r\"], \"args\": \"--a\", "
	      "\"envFile\": \".env\", \"color\": true, \"cwd\": \"x\", \"env\": {\"A\": \"1\"}, "
	      "\"forwardAllArgs\": true, \"tty\": false, \"__unparsed__\": [], \"other\": 1}}}}");
	bad(P, "{\"targets\": {\"build\": {\"executor\": \"nx:run-commands\", \"options\": "
	       "{\"command\": 7}}}}",
	    78, "targets.build.options.command must be a string or an array of strings, not a number");
	/* the command shorthand means nx:run-commands */
	bad(P, "{\"targets\": {\"b\": {\"command\": \"x\", \"options\": {\"cwd\": 1}}}}", 55,
	    "targets.b.options.cwd must be a string, not a number");
	/* no executor written (it may come from targetDefaults): what bld reads is typed */
	bad(P, "{\"targets\": {\"b\": {\"options\": {\"commands\": \"x\"}}}}", 44,
	    "targets.b.options.commands must be an array of strings or objects, not a string");
	bad(P, "{\"targets\": {\"b\": {\"options\": {\"commands\": [{\"command\": 1}]}}}}", 57,
	    "targets.b.options.commands[0].command must be a string, not a number");
	bad(P, "{\"targets\": {\"b\": {\"options\": {\"parallel\": \"yes\"}}}}", 44,
	    "targets.b.options.parallel must be true or false, not a string");
	bad(P, "{\"targets\": {\"b\": {\"options\": {\"readyWhen\": 1}}}}", 45,
	    "targets.b.options.readyWhen must be a string or an array of strings, not a number");
	bad(P, "{\"targets\": {\"b\": {\"options\": {\"args\": [1]}}}}", 41,
	    "targets.b.options.args[0] must be a string, not a number");
	bad(P, "{\"targets\": {\"b\": {\"options\": {\"envFile\": {}}}}}", 43,
	    "targets.b.options.envFile must be a string, not an object");
	bad(P, "{\"targets\": {\"b\": {\"options\": {\"color\": \"always\"}}}}", 41,
	    "targets.b.options.color must be true or false, not a string");
	bad(P, "{\"targets\": {\"b\": {\"options\": {\"env\": {\"A\": 1}}}}}", 45,
	    "targets.b.options.env.A must be a string, not a number");
	bad(P, "{\"targets\": {\"b\": {\"options\": {\"forwardAllArgs\": 0}}}}", 50,
	    "targets.b.options.forwardAllArgs must be true or false, not a number");
	bad(P, "{\"targets\": {\"b\": {\"options\": {\"tty\": 1}}}}", 39,
	    "targets.b.options.tty must be true or false, not a number");
	bad(P, "{\"targets\": {\"b\": {\"options\": {\"__unparsed__\": \"x\"}}}}", 48,
	    "targets.b.options.__unparsed__ must be an array of strings, not a string");
	/* configurations are options too */
	bad(P, "{\"targets\": {\"b\": {\"command\": \"x\", \"configurations\": {\"c\": {\"cwd\": 1}}}}}",
	    68, "targets.b.configurations.c.cwd must be a string, not a number");
}

static void options_by_executor(void **state)
{
	bad(P, "{\"targets\": {\"b\": {\"executor\": \"nx:run-script\", \"options\": {\"script\": 1}}}}",
	    71, "targets.b.options.script must be a string, not a number");
	/* nx:run-script has no "cwd": unknown keys stay allowed */
	ok(P, "{\"targets\": {\"b\": {\"executor\": \"nx:run-script\", \"options\": {\"script\": \"s\", "
	      "\"cwd\": 1}}}}");
	bad(P, "{\"targets\": {\"b\": {\"executor\": \"bld:openapi-metadata\", \"options\": "
	       "{\"openApiSpecPath\": 1}}}}",
	    87, "targets.b.options.openApiSpecPath must be a string, not a number");
	bad(P, "{\"targets\": {\"b\": {\"executor\": \"bld:openapi-metadata\", \"options\": "
	       "{\"outputPath\": []}}}}",
	    82, "targets.b.options.outputPath must be a string, not an array");
	ok(P, "{\"targets\": {\"b\": {\"executor\": \"@nxlv/python:run-commands\", \"options\": "
	      "{\"command\": \"x\"}}}}");
	/* an executor bld does not know: its options are its own */
	ok(P, "{\"targets\": {\"b\": {\"executor\": \"@nx/js:tsc\", \"options\": {\"command\": 1, "
	      "\"parallel\": \"x\"}}}}");
	ok(P, "{\"targets\": {\"b\": {\"executor\": \"nx:noop\", \"options\": {\"command\": 1}}}}");
}

static void nx_json_keys(void **state)
{
	ok(NX, "{\"implicitDependencies\": {}, \"affected\": {\"defaultBase\": \"m\"}, \"extends\": "
	       "\"x\", \"defaultBase\": \"main\", \"tasksRunnerOptions\": {\"default\": {}}, "
	       "\"workspaceLayout\": {\"appsDir\": \"a\", \"libsDir\": \"l\"}, \"cli\": {}, "
	       "\"generators\": {}, \"plugins\": [\"p\", {\"plugin\": \"q\", \"options\": {}, "
	       "\"include\": [\"i\"], \"exclude\": []}], \"tui\": {\"enabled\": true, \"autoExit\": 3},"
	       " \"defaultProject\": \"d\", \"nxCloudAccessToken\": \"t\", \"nxCloudUrl\": \"u\", "
	       "\"nxCloudEncryptionKey\": \"k\", \"neverConnectToCloud\": true, \"parallel\": 3, "
	       "\"cacheDirectory\": \"c\", \"useDaemonProcess\": false, \"useInferencePlugins\": "
	       "true, \"release\": {}, \"sync\": {\"globalGenerators\": [], \"generatorOptions\": "
	       "{\"g\": {}}, \"applyChanges\": true, \"disabledTaskSyncGenerators\": []}, "
	       "\"conformance\": {}, \"other\": 1}");
	bad(NX, "1", 1, "the file must hold an object, not a number");
	bad(NX, "{\"namedInputs\": {\"default\": \"x\"}}", 29,
	    "namedInputs.default must be an array of strings or objects, not a string");
	bad(NX, "{\"namedInputs\": {\"default\": [1]}}", 30,
	    "namedInputs.default[0] must be a string or an object, not a number");
	bad(NX, "{\"parallel\": \"many\"}", 14, "parallel must be a number, not a string");
	bad(NX, "{\"workspaceLayout\": \"libs\"}", 21,
	    "workspaceLayout must be an object, not a string");
	bad(NX, "{\"workspaceLayout\": {\"libsDir\": 1}}", 33,
	    "workspaceLayout.libsDir must be a string, not a number");
	bad(NX, "{\"defaultBase\": 1}", 17, "defaultBase must be a string, not a number");
	bad(NX, "{\"affected\": {\"defaultBase\": 1}}", 30,
	    "affected.defaultBase must be a string, not a number");
	bad(NX, "{\"implicitDependencies\": []}", 26,
	    "implicitDependencies must be an object, not an array");
	bad(NX, "{\"extends\": {}}", 13, "extends must be a string, not an object");
	bad(NX, "{\"tasksRunnerOptions\": {\"default\": 1}}", 36,
	    "tasksRunnerOptions.default must be an object, not a number");
	bad(NX, "{\"plugins\": {}}", 13,
	    "plugins must be an array of strings or objects, not an object");
	bad(NX, "{\"plugins\": [3]}", 14, "plugins[0] must be a string or an object, not a number");
	bad(NX, "{\"plugins\": [{\"plugin\": 1}]}", 25, "plugins[0].plugin must be a string, not a number");
	bad(NX, "{\"plugins\": [{\"plugin\": \"p\", \"options\": []}]}", 41,
	    "plugins[0].options must be an object, not an array");
	bad(NX, "{\"plugins\": [{\"plugin\": \"p\", \"include\": \"x\"}]}", 41,
	    "plugins[0].include must be an array of strings, not a string");
	bad(NX, "{\"tui\": {\"autoExit\": \"x\"}}", 22,
	    "tui.autoExit must be a number, true or false, not a string");
	bad(NX, "{\"tui\": {\"enabled\": 1}}", 21, "tui.enabled must be true or false, not a number");
	bad(NX, "{\"useDaemonProcess\": \"no\"}", 22,
	    "useDaemonProcess must be true or false, not a string");
	bad(NX, "{\"cacheDirectory\": 1}", 20, "cacheDirectory must be a string, not a number");
	bad(NX, "{\"sync\": {\"generatorOptions\": {\"g\": 1}}}", 37,
	    "sync.generatorOptions.g must be an object, not a number");
	bad(NX, "{\"cli\": 1}", 9, "cli must be an object, not a number");
}

static void target_defaults_are_targets(void **state)
{
	bad(NX, "{\"targetDefaults\": []}", 20, "targetDefaults must be an object, not an array");
	bad(NX, "{\"targetDefaults\": {\"build\": {\"cache\": \"yes\"}}}", 40,
	    "targetDefaults.build.cache must be true or false, not a string");
	bad(NX, "{\"targetDefaults\": {\"build\": {\"inputs\": [true]}}}", 42,
	    "targetDefaults.build.inputs[0] must be a string or an object, not a boolean");
	/* a key naming an executor is that executor */
	bad(NX, "{\"targetDefaults\": {\"nx:run-script\": {\"options\": {\"script\": 1}}}}", 61,
	    "targetDefaults.nx:run-script.options.script must be a string, not a number");
	/* a key naming another executor (it has a ':'): its options are its own */
	ok(NX, "{\"targetDefaults\": {\"@nx/js:tsc\": {\"options\": {\"command\": 1}}}}");
	bad(NX, "{\"targetDefaults\": {\"build\": {\"options\": {\"command\": 1}}}}", 54,
	    "targetDefaults.build.options.command must be a string or an array of strings, not a "
	    "number");
}

static void package_json_keys(void **state)
{
	ok(PKG, "{\"name\": \"a\", \"version\": \"1.0.0\", \"private\": true, \"scripts\": {\"b\": "
	        "\"x\"}, \"dependencies\": {\"d\": \"^1\"}, \"devDependencies\": {}, "
	        "\"peerDependencies\": {}, \"optionalDependencies\": {}, \"workspaces\": [\"libs/*\"], "
	        "\"nx\": {\"name\": \"n\", \"tags\": [\"t\"], \"implicitDependencies\": [], "
	        "\"includedScripts\": [\"b\"], \"namedInputs\": {}, \"targets\": {\"b\": {}}}, "
	        "\"engines\": {\"node\": 1}}");
	ok(PKG, "{\"workspaces\": {\"packages\": [\"libs/*\"], \"nohoist\": []}}");
	bad(PKG, "{\"name\": 1}", 10, "name must be a string, not a number");
	bad(PKG, "{\"version\": 1}", 13, "version must be a string, not a number");
	bad(PKG, "{\"private\": \"true\"}", 13, "private must be true or false, not a string");
	bad(PKG, "{\"scripts\": {\"b\": 1}}", 19, "scripts.b must be a string, not a number");
	bad(PKG, "{\"dependencies\": [\"a\"]}", 18, "dependencies must be an object, not an array");
	bad(PKG, "{\"devDependencies\": {\"a\": 1}}", 27,
	    "devDependencies.a must be a string, not a number");
	bad(PKG, "{\"workspaces\": \"libs/*\"}", 16,
	    "workspaces must be an object or an array of strings, not a string");
	bad(PKG, "{\"workspaces\": {\"packages\": \"x\"}}", 29,
	    "workspaces.packages must be an array of strings, not a string");
	bad(PKG, "{\"nx\": []}", 8, "nx must be an object, not an array");
	bad(PKG, "{\"nx\": {\"tags\": \"t\"}}", 17, "nx.tags must be an array of strings, not a string");
	bad(PKG, "{\"nx\": {\"implicitDependencies\": [1]}}", 34,
	    "nx.implicitDependencies[0] must be a string, not a number");
	bad(PKG, "{\"nx\": {\"includedScripts\": \"b\"}}", 28,
	    "nx.includedScripts must be an array of strings, not a string");
	bad(PKG, "{\"nx\": {\"targets\": {\"b\": {\"command\": 1}}}}", 38,
	    "nx.targets.b.command must be a string, not a number");
}

static void positions_count_lines_and_characters(void **state)
{
	const char *text = "{\n  // \xc3\xa9\n  \"tags\": [\"\xc3\xa9\", 7]\n}";
	cJSON *j = NULL;
	struct bld_err err = {0};
	assert_int_equal(ws__json_parse_as(text, strlen(text), "p.json", P, &j, &err),
	                 BLD_ESCHEMA);
	assert_int_equal(err.line, 3);
	assert_int_equal(err.col, 17); /* é is one character */
	assert_string_equal(err.msg, "tags[1] must be a string, not a number");
	/* the value kept of a duplicate key is the one checked, at its place */
	text = "{\"name\": 1, \"name\": \"ok\"}";
	assert_int_equal(ws__json_parse_as(text, strlen(text), "p.json", P, &j, &err), 0);
	cJSON_Delete(j);
	text = "{\"name\": \"ok\", \"name\": 2}";
	assert_int_equal(ws__json_parse_as(text, strlen(text), "p.json", P, &j, &err),
	                 BLD_ESCHEMA);
	assert_int_equal(err.col, 24);
	/* no schema: anything */
	ok(WS_SCHEMA_NONE, "[1]");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(project_top_level_keys),
	    cmocka_unit_test(named_inputs_and_inputs),
	    cmocka_unit_test(target_keys),
	    cmocka_unit_test(run_commands_options),
	    cmocka_unit_test(options_by_executor),
	    cmocka_unit_test(nx_json_keys),
	    cmocka_unit_test(target_defaults_are_targets),
	    cmocka_unit_test(package_json_keys),
	    cmocka_unit_test(positions_count_lines_and_characters),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
