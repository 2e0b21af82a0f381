/* test_gen.c - the generators: py#fast-api (CDK and Terraform), ts#infra, options, plans. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "bld/base.h"
#include "bld/err.h"
#include "bld/gen.h"

struct fixture {
	char dir[64];
	struct sbuf out;
	struct bld_err err;
};

static int setup(void **state)
{
	struct fixture *f = xcalloc(1, sizeof(*f));
	snprintf(f->dir, sizeof(f->dir), "/tmp/bld-test-gen-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	sbuf_init(&f->out);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	rm_rf(f->dir);
	sbuf_release(&f->out);
	free(f);
	return 0;
}

/* Run a generator with "k=v" option strings (NULL-terminated). */
static int run(struct fixture *f, const char *gen, int dry, ...)
{
	cJSON *opts = cJSON_CreateObject();
	va_list ap;
	va_start(ap, dry);
	for (const char *kv; (kv = va_arg(ap, const char *));) {
		const char *eq = strchr(kv, '=');
		char *k = xstrndup(kv, (size_t)(eq - kv));
		cJSON_AddStringToObject(opts, k, eq + 1);
		free(k);
	}
	va_end(ap);
	sbuf_reset(&f->out);
	bld_err_clear(&f->err);
	int rc = gen_run(gen, f->dir, opts, dry != 0, &f->out, NULL, &f->err);
	cJSON_Delete(opts);
	return rc;
}

static char *slurp(struct fixture *f, const char *rel)
{
	char *p = path_join(f->dir, rel), *buf = NULL;
	size_t len;
	int rc = file_read(p, &buf, &len);
	free(p);
	return rc < 0 ? NULL : buf;
}

static bool has(struct fixture *f, const char *rel)
{
	char *p = path_join(f->dir, rel);
	bool ok = file_exists(p);
	free(p);
	return ok;
}

static cJSON *json_of(struct fixture *f, const char *rel)
{
	char *text = slurp(f, rel);
	assert_non_null(text);
	cJSON *j = cJSON_Parse(text);
	free(text);
	assert_non_null(j);
	return j;
}

static void fastapi_cdk_writes_project_and_constructs(void **state)
{
	struct fixture *f = *state;
	assert_int_equal(run(f, "py#fast-api", false, "name=my-api", NULL), 0);
	static const char *const files[] = {
	    "nx.json",
	    "package.json",
	    ".gitignore",
	    "tsconfig.base.json",
	    "packages/my_api/project.json",
	    "packages/my_api/pyproject.toml",
	    "packages/my_api/README.md",
	    "packages/my_api/my_api/__init__.py",
	    "packages/my_api/my_api/init.py",
	    "packages/my_api/my_api/main.py",
	    "packages/my_api/scripts/generate_open_api.py",
	    "packages/my_api/tests/test_main.py",
	    "packages/common/constructs/project.json",
	    "packages/common/constructs/src/index.ts",
	    "packages/common/constructs/src/app/apis/my-api.ts",
	    "packages/common/constructs/src/app/apis/index.ts",
	    "packages/common/constructs/src/core/api/rest-api.ts",
	    "packages/common/constructs/src/core/api/http-api.ts",
	    "packages/common/constructs/src/core/api/utils.ts",
	};
	for (size_t i = 0; i < ARRAY_LEN(files); i++) {
		if (!has(f, files[i]))
			fail_msg("missing %s", files[i]);
		char *line = xasprintf("CREATE %s\n", files[i]);
		assert_non_null(strstr(f->out.buf, line));
		free(line);
	}
	cJSON *pj = json_of(f, "packages/my_api/project.json");
	assert_string_equal(cJSON_GetObjectItem(pj, "name")->valuestring, "my-api");
	cJSON *targets = cJSON_GetObjectItem(pj, "targets");
	assert_non_null(cJSON_GetObjectItem(targets, "bundle"));
	assert_true(
	    cJSON_IsTrue(cJSON_GetObjectItem(cJSON_GetObjectItem(targets, "serve"), "continuous")));
	cJSON_Delete(pj);
	cJSON *cj = json_of(f, "packages/common/constructs/project.json");
	cJSON *gen =
	    cJSON_GetObjectItem(cJSON_GetObjectItem(cj, "targets"), "generate:my-api-metadata");
	assert_string_equal(cJSON_GetObjectItem(gen, "executor")->valuestring,
	                    "bld:openapi-metadata");
	cJSON_Delete(cj);
	char *gi = slurp(f, ".gitignore");
	assert_non_null(strstr(gi, ".bld\n"));
	assert_non_null(strstr(gi, "dist\n"));
	assert_non_null(strstr(gi, "packages/common/constructs/src/generated\n"));
	free(gi);
}

static void second_api_leaves_the_first_alone(void **state)
{
	struct fixture *f = *state;
	assert_int_equal(run(f, "py#fast-api", false, "name=my-api", NULL), 0);
	char *first = slurp(f, "packages/common/constructs/src/app/apis/my-api.ts");
	assert_int_equal(run(f, "py#fast-api", false, "name=OtherApi",
	                     "computeType=ServerlessApiGatewayHttpApi", NULL),
	                 0);
	assert_non_null(strstr(f->out.buf, "UPDATE packages/common/constructs/project.json\n"));
	assert_null(strstr(f->out.buf, "my-api.ts"));
	char *again = slurp(f, "packages/common/constructs/src/app/apis/my-api.ts");
	assert_string_equal(first, again);
	char *idx = slurp(f, "packages/common/constructs/src/app/apis/index.ts");
	assert_non_null(strstr(idx, "export * from './my-api.js';\nexport * from './other-api.js';\n"));
	assert_true(has(f, "packages/other_api/other_api/main.py"));
	cJSON *cj = json_of(f, "packages/common/constructs/project.json");
	cJSON *deps = cJSON_GetObjectItem(
	    cJSON_GetObjectItem(cJSON_GetObjectItem(cj, "targets"), "compile"), "dependsOn");
	assert_int_equal(cJSON_GetArraySize(deps), 2);
	cJSON_Delete(cj);
	free(first);
	free(again);
	free(idx);
}

static void existing_name_is_an_error_and_writes_nothing(void **state)
{
	struct fixture *f = *state;
	assert_int_equal(run(f, "py#fast-api", false, "name=my-api", NULL), 0);
	char *before = slurp(f, "packages/common/constructs/project.json");
	char *readme = path_join(f->dir, "packages/my_api/README.md");
	unlink(readme);
	free(readme);
	assert_int_equal(run(f, "py#fast-api", false, "name=my-api", "directory=apps", NULL),
	                 BLD_EEXISTS);
	assert_non_null(strstr(f->err.msg, "'my-api' already exists"));
	assert_string_equal(f->out.buf, "");
	char *after = slurp(f, "packages/common/constructs/project.json");
	assert_string_equal(before, after);
	assert_false(has(f, "apps/my_api/project.json"));
	assert_false(has(f, "packages/my_api/README.md"));
	free(before);
	free(after);
}

static void dry_run_lists_and_writes_nothing(void **state)
{
	struct fixture *f = *state;
	assert_int_equal(run(f, "py#fast-api", true, "name=my-api", NULL), 0);
	assert_non_null(strstr(f->out.buf, "CREATE packages/my_api/my_api/init.py\n"));
	assert_false(has(f, "nx.json"));
	assert_false(has(f, "packages/my_api/project.json"));
}

static void bad_options_list_allowed_values(void **state)
{
	struct fixture *f = *state;
	assert_int_equal(run(f, "py#fast-api", false, "name=a", "auth=Magic", NULL), BLD_EUSAGE);
	assert_non_null(strstr(f->err.msg, "IAM (default), Cognito, None"));
	assert_int_equal(run(f, "py#fast-api", false, "name=a", "computeType=Lambda", NULL),
	                 BLD_EUSAGE);
	assert_non_null(strstr(
	    f->err.msg, "ServerlessApiGatewayRestApi (default), ServerlessApiGatewayHttpApi"));
	assert_int_equal(run(f, "py#fast-api", false, "name=a", "iacProvider=Pulumi", NULL),
	                 BLD_EUSAGE);
	assert_non_null(strstr(f->err.msg, "CDK (default), Terraform"));
	assert_int_equal(run(f, "py#fast-api", false, "name=a", "moduleName=9x", NULL), BLD_EUSAGE);
	assert_int_equal(run(f, "py#fast-api", false, "name=a", "directory=../out", NULL),
	                 BLD_EUSAGE);
	assert_int_equal(run(f, "py#fast-api", false, NULL), BLD_EUSAGE);
	assert_non_null(strstr(f->err.msg, "--name is required"));
	assert_int_equal(run(f, "py#fast-api", false, "name=a", "computType=x", NULL), BLD_EUSAGE);
	assert_non_null(strstr(f->err.msg, "did you mean --computeType"));
	assert_int_equal(run(f, "py#nope", false, NULL), BLD_EUSAGE);
	assert_false(has(f, "nx.json"));
}

static void terraform_writes_modules(void **state)
{
	struct fixture *f = *state;
	assert_int_equal(run(f, "py#fast-api", false, "name=shop", "iacProvider=Terraform",
	                     "auth=None", "moduleName=shop_core", "directory=apps", NULL),
	                 0);
	assert_true(has(f, "apps/shop/shop_core/main.py"));
	assert_true(has(f, "packages/common/terraform/project.json"));
	assert_true(has(f, "packages/common/terraform/src/core/api/rest-api/main.tf"));
	assert_true(has(f, "packages/common/terraform/src/core/api/http-api/main.tf"));
	char *app = slurp(f, "packages/common/terraform/src/app/apis/shop/shop.tf");
	assert_non_null(app);
	assert_non_null(strstr(app, "core/api/rest-api"));
	assert_non_null(strstr(app, "shop_core.main.handler"));
	assert_non_null(strstr(app, "= \"None\""));
	/* paths from the module's own folder, which is 7 folders below the root */
	assert_non_null(strstr(app, "\"${path.module}/../../../../../../..\""));
	assert_non_null(strstr(app, "${local.workspace_root}/dist/apps/shop/bundle"));
	free(app);
	assert_true(has(f, "packages/common/terraform/src/core/api/openapi/main.tf"));
	assert_true(has(f, "packages/tf-infra/project.json"));
	char *root = slurp(f, "packages/tf-infra/src/shop.tf");
	assert_non_null(root);
	assert_non_null(strstr(root, "source = \"../../common/terraform/src/app/apis/shop\""));
	free(root);
	assert_false(has(f, "packages/common/constructs/project.json"));
}

static void terraform_streaming_writes_the_function_url_module(void **state)
{
	struct fixture *f = *state;
	assert_int_equal(run(f, "py#fast-api", false, "name=feed", "infra=streaming-lambda",
	                     "iac=terraform", "auth=Cognito", NULL),
	                 0);
	assert_true(has(f, "packages/feed/run.sh"));
	assert_true(has(f, "packages/common/terraform/src/core/api/stream-api/main.tf"));
	char *app = slurp(f, "packages/common/terraform/src/app/apis/feed/feed.tf");
	assert_non_null(app);
	assert_non_null(strstr(app, "\"../../../core/api/stream-api\""));
	assert_null(strstr(app, "user_pool_id")); /* the Function URL takes IAM auth */
	free(app);
	char *root = slurp(f, "packages/tf-infra/src/feed.tf");
	assert_non_null(root);
	assert_null(strstr(root, "user_pool_id"));
	free(root);
}

static void infra_instantiates_existing_apis(void **state)
{
	struct fixture *f = *state;
	assert_int_equal(run(f, "py#fast-api", false, "name=my-api", NULL), 0);
	assert_int_equal(run(f, "ts#infra", false, "name=infra", NULL), 0);
	char *stack = slurp(f, "packages/infra/src/stacks/application-stack.ts");
	assert_non_null(stack);
	assert_non_null(strstr(stack, "import { MyApi } from ':common-constructs';"));
	assert_non_null(strstr(stack, "new MyApi(this, 'MyApi', {"));
	free(stack);
	cJSON *pj = json_of(f, "packages/infra/project.json");
	cJSON *synth = cJSON_GetObjectItem(cJSON_GetObjectItem(pj, "targets"), "synth");
	assert_non_null(strstr(
	    cJSON_GetObjectItem(cJSON_GetObjectItem(synth, "options"), "command")->valuestring,
	    "../../dist/packages/infra/cdk.out"));
	cJSON_Delete(pj);
	assert_int_equal(run(f, "ts#infra", false, "name=infra", NULL), BLD_EEXISTS);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(fastapi_cdk_writes_project_and_constructs, setup,
	                                    teardown),
	    cmocka_unit_test_setup_teardown(second_api_leaves_the_first_alone, setup, teardown),
	    cmocka_unit_test_setup_teardown(existing_name_is_an_error_and_writes_nothing, setup,
	                                    teardown),
	    cmocka_unit_test_setup_teardown(dry_run_lists_and_writes_nothing, setup, teardown),
	    cmocka_unit_test_setup_teardown(bad_options_list_allowed_values, setup, teardown),
	    cmocka_unit_test_setup_teardown(terraform_writes_modules, setup, teardown),
	    cmocka_unit_test_setup_teardown(terraform_streaming_writes_the_function_url_module, setup,
	                                    teardown),
	    cmocka_unit_test_setup_teardown(infra_instantiates_existing_apis, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
