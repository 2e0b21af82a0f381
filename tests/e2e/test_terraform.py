"""The Terraform that `bld generate py#fast-api --iacProvider Terraform` writes (issue 15):
the modules of packages/common/terraform and the root module packages/tf-infra.

These machines cannot download providers from the Terraform registry, so `terraform init`,
`validate` and `plan` of the modules cannot run here.  What runs, with real tools:

- `terraform fmt -check -recursive` on every generated module, and `bld run <project>:fmt`;
- checkov from PyPI (through uvx, as the generated `test` targets run it) on both projects,
  through `bld run`: no failed check, and exactly the skips the templates give reasons for;
- a parse of every module (terraform-config-inspect, built with `go install` from its Go
  module into $BLD_E2E_GO_DIR) checked against what the generator promises: variables,
  outputs, resources, module calls, and paths anchored at path.module;
- the provider-free module core/api/openapi (operations, function names, the REST body with
  its OPTIONS methods, gateway responses and resource policy) evaluated by real terraform
  offline, with the real OpenAPI document of the generated FastAPI;
- the task graph: validate after init, plan after validate and build.

Terraform is the machine's `terraform` (or `tofu`); where neither is installed, OpenTofu is
built from its Go module into $BLD_E2E_GO_DIR (its go.mod has a replace directive, so `go
install module@version` refuses it: the module is downloaded and built as the main module;
about 10 minutes on two cores, once per $BLD_E2E_GO_DIR).  BLD_E2E_TF_FROM_SOURCE=1 takes
that path even where terraform is installed.
"""
import fcntl
import json
import os
import pathlib
import re
import shutil
import subprocess

import pytest

from conftest import UV_CACHE_DIR

GO_DIR = pathlib.Path(os.environ.get('BLD_E2E_GO_DIR', '/tmp/bld-e2e-go'))
INSPECT_MODULE = 'github.com/hashicorp/terraform-config-inspect'
INSPECT_VERSION = 'v0.0.0-20260904064934-75d64de68c31'   # the module has no release tags
TOFU_MODULE = 'github.com/opentofu/opentofu'
TOFU_VERSION = 'v1.10.6'
TF = 'packages/common/terraform'
CORE = f'{TF}/src/core/api'
ROOT = 'packages/tf-infra'

# The checks the generated code skips, each with its reason in the template; any other
# failing check fails the test (and the generated `test` target).
SKIPPED = {'CKV_AWS_116', 'CKV_AWS_115', 'CKV_AWS_272', 'CKV_AWS_173',   # Lambda
           'CKV_AWS_120', 'CKV_AWS_225', 'CKV2_AWS_51', 'CKV2_AWS_4',    # REST stage
           'CKV2_AWS_77'}
# Checks the generated code must pass (tracing, log retention, access logs, ...).
MUST_PASS = {'CKV_AWS_50',    # Lambda X-Ray tracing
             'CKV_AWS_66',    # log groups have a retention
             'CKV_AWS_338',   # ... of at least a year
             'CKV_AWS_73',    # REST stage X-Ray tracing
             'CKV_AWS_76',    # stage access logging (HTTP always; REST with access_logs)
             'CKV_AWS_237',   # REST API create_before_destroy
             'CKV_AWS_217',   # REST deployment create_before_destroy
             'CKV_AWS_363',   # a supported Lambda runtime
             'CKV_AWS_45',    # no secrets in the functions' environment
             'CKV_AWS_60', 'CKV_AWS_61', 'CKV_AWS_62', 'CKV_AWS_63'}   # IAM least privilege


def go_env():
    return dict(os.environ, GOMODCACHE=str(GO_DIR / 'mod'), GOCACHE=str(GO_DIR / 'cache'),
                GOBIN=str(GO_DIR / 'bin'), GOFLAGS='-modcacherw', GOTOOLCHAIN='auto')


def go_binary():
    go = shutil.which('go') or ('/usr/local/go/bin/go' if os.path.exists('/usr/local/go/bin/go')
                                else None)
    assert go, 'Go is needed to build terraform-config-inspect (scripts/install-deps.sh)'
    return go


def built(name, version, build):
    """GO_DIR/bin/<name>, built by build() unless its version stamp says it is there."""
    GO_DIR.mkdir(parents=True, exist_ok=True)
    binary = GO_DIR / 'bin' / name
    with open(GO_DIR / '.lock', 'w') as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        stamp = GO_DIR / 'bin' / f'.{name}.version'
        if not binary.exists() or not stamp.exists() or stamp.read_text() != version:
            build(binary)
            stamp.write_text(version)
    return binary


@pytest.fixture(scope='session')
def inspect():
    def build(binary):
        r = subprocess.run([go_binary(), 'install', f'{INSPECT_MODULE}@{INSPECT_VERSION}'],
                           env=go_env(), capture_output=True, text=True, timeout=1200)
        assert r.returncode == 0, r.stderr[-3000:]
    return built('terraform-config-inspect', INSPECT_VERSION, build)


def build_tofu(binary):
    go, env = go_binary(), go_env()
    r = subprocess.run([go, 'mod', 'download', '-json', f'{TOFU_MODULE}@{TOFU_VERSION}'],
                       env=env, capture_output=True, text=True, timeout=1200)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    src = json.loads(r.stdout)['Dir']
    binary.parent.mkdir(parents=True, exist_ok=True)
    r = subprocess.run([go, 'build', '-o', str(binary), './cmd/tofu'], cwd=src, env=env,
                       capture_output=True, text=True, timeout=3600)
    assert r.returncode == 0, r.stderr[-3000:]


@pytest.fixture(scope='session')
def terraform(tmp_path_factory):
    """(binary, PATH for bld runs): the machine's terraform or tofu, else OpenTofu built
    from its Go module; a `terraform` name for it leads PATH (the targets run terraform)."""
    found = shutil.which('terraform') or shutil.which('tofu')
    if os.environ.get('BLD_E2E_TF_FROM_SOURCE') == '1':   # the path of a machine without one
        found = None
    binary = pathlib.Path(found) if found else built('tofu', TOFU_VERSION, build_tofu)
    bindir = tmp_path_factory.mktemp('tfbin')
    (bindir / 'terraform').symlink_to(binary)
    cli = bindir / 'terraformrc'
    # Providers only from an empty folder: init fails at once, the same way on every
    # machine, and nothing tries the registry.
    (bindir / 'mirror').mkdir()
    cli.write_text('provider_installation {\n  filesystem_mirror {\n'
                   f'    path = "{bindir / "mirror"}"\n  }}\n}}\n')
    env = {'PATH': f'{bindir}:{os.environ.get("PATH", "/usr/local/bin:/usr/bin:/bin")}',
           'TF_CLI_CONFIG_FILE': str(cli), 'TF_IN_AUTOMATION': '1',
           'CHECKPOINT_DISABLE': '1'}
    return str(bindir / 'terraform'), env


def tf(terraform, *args, cwd, timeout=300):
    binary, env = terraform
    return subprocess.run([binary, *args], cwd=str(cwd), env=dict(os.environ, **env),
                          capture_output=True, text=True, timeout=timeout)


def generate(ws, *args):
    r = ws.run('generate', 'py#fast-api', *args, '--iacProvider', 'Terraform', timeout=300)
    assert r.code == 0, r
    return r


@pytest.fixture(scope='module')
def tf_ws(tmp_path_factory):
    """One workspace with five Terraform APIs: REST+IAM, HTTP+Cognito, REST+Cognito,
    HTTP+None, REST with the shared pattern (a module-scoped workspace: generating is the
    slow part)."""
    from conftest import Workspace
    base = tmp_path_factory.mktemp('tfws')
    ws = Workspace(base, {})
    generate(ws, '--name', 'my-api')
    generate(ws, '--name', 'shop', '--computeType', 'ServerlessApiGatewayHttpApi', '--auth',
             'Cognito')
    generate(ws, '--name', 'orders', '--auth', 'Cognito')
    generate(ws, '--name', 'open', '--computeType', 'ServerlessApiGatewayHttpApi', '--auth',
             'None')
    generate(ws, '--name', 'router', '--integrationPattern', 'shared')
    ws.commit('generated')
    yield ws
    ws.cleanup()


def tf_files(root):
    return sorted(p for d in (TF, ROOT) for p in (root / d).rglob('*.tf'))


# ---- what is written ----------------------------------------------------------------

def test_the_files_of_both_projects(tf_ws):
    ws = tf_ws
    for kind in ('rest-api', 'http-api'):
        for f in ('versions.tf', 'variables.tf', 'lambdas.tf', 'auth.tf', 'main.tf',
                  'outputs.tf'):
            assert (ws.root / CORE / kind / f).is_file(), (kind, f)
    for f in ('versions.tf', 'variables.tf', 'main.tf', 'outputs.tf'):
        assert (ws.root / CORE / 'openapi' / f).is_file(), f
    for api in ('my-api', 'shop', 'orders', 'open', 'router'):
        assert (ws.root / TF / 'src/app/apis' / api / f'{api}.tf').is_file(), api
        assert (ws.root / ROOT / 'src' / f'{api}.tf').is_file(), api
    for f in ('project.json', 'src/providers.tf', 'src/variables.tf', 'src/main.tf',
              'src/outputs.tf', 'src/env/dev.tfvars'):
        assert (ws.root / ROOT / f).is_file(), f
    gi = ws.read('.gitignore').splitlines()
    assert {'.terraform', '*.tfstate', '*.tfstate.backup', 'dist'} <= set(gi)
    # The old root-less layout is gone: no workspace_root variable counting folders up
    # from wherever terraform runs.
    for p in tf_files(ws.root):
        assert 'variable "workspace_root"' not in p.read_text(), p


def test_targets_of_the_root_module(tf_ws):
    ws = tf_ws
    r = ws.run('show', 'project', 'tf-infra', '--json')
    assert r.code == 0, r
    t = json.loads(r.out)['targets']
    assert {'fmt', 'init', 'validate', 'plan', 'apply', 'destroy', 'test', 'output', 'build',
            'deploy'} <= set(t)
    assert t['validate']['dependsOn'] == ['init']
    assert t['plan']['dependsOn'] == ['init', 'validate', 'build']
    assert t['apply']['dependsOn'] == ['plan']
    assert t['destroy']['dependsOn'] == ['init']
    for name in ('fmt', 'init', 'validate', 'plan', 'apply', 'destroy', 'test', 'output'):
        assert t[name]['options']['cwd'] == 'packages/tf-infra/src', name
    assert 'checkov' in ' '.join(t['test']['options']['commands'])
    plan = ' '.join(t['plan']['configurations']['dev']['commands'])
    assert '-var-file=env/dev.tfvars' in plan and 'dist/packages/tf-infra/terraform/dev.tfplan' in plan
    assert 'dev.tfplan' in t['apply']['configurations']['dev']['command']
    # The library builds after every API's OpenAPI document and bundle, which plan reads.
    r = ws.run('show', 'project', 'common-terraform', '--json')
    lib = json.loads(r.out)['targets']
    assert {'fmt', 'test', 'build'} <= set(lib)
    for api in ('my-api', 'shop', 'orders', 'open', 'router'):
        for target in ('openapi', 'bundle'):
            assert {'projects': [api], 'target': target} in lib['build']['dependsOn']


def test_validate_follows_init_and_plan_follows_build(tf_ws, terraform):
    ws = tf_ws
    r = ws.run('show', 'tasks', '-t', 'plan', '-p', 'tf-infra', '--json')
    assert r.code == 0, r
    deps = {t['id']: t['dependsOn'] for t in json.loads(r.out)}
    assert deps['tf-infra:validate'] == ['tf-infra:init']
    assert set(deps['tf-infra:plan:dev']) == {'tf-infra:init', 'tf-infra:validate',
                                          'tf-infra:build'}
    assert {'tf-infra:fmt', 'tf-infra:test', 'common-terraform:build'} <= set(
        deps['tf-infra:build'])
    assert {'my-api:bundle', 'shop:openapi'} <= set(deps['common-terraform:build'])
    # Run for real: init runs first, in packages/tf-infra/src, and fails for want of
    # providers (none can be downloaded here); validate then does not run.
    r = ws.run('run', 'tf-infra:validate', env=terraform[1], timeout=300)
    assert r.code == 1, r
    assert 'hashicorp/aws' in r.both and 'tf-infra:init' in r.both, r
    assert re.search(r'1 task did not run because a dependency failed', r.both), r
    assert not (ws.root / ROOT / 'src/.terraform/providers').exists()


# ---- fmt, checkov ---------------------------------------------------------------------

def test_fmt_check_passes_on_every_module_and_through_bld(tf_ws, terraform):
    ws = tf_ws
    for d in (f'{TF}/src', f'{ROOT}/src'):
        r = tf(terraform, 'fmt', '-check', '-recursive', '-diff', cwd=ws.root / d)
        assert r.returncode == 0, r.stdout + r.stderr
    r = ws.run('run-many', '-t', 'fmt', '-p', 'common-terraform', 'tf-infra', env=terraform[1],
               timeout=300)
    assert r.code == 0, r
    r = ws.run('run', 'tf-infra:fmt', env=terraform[1], timeout=300)
    assert r.code == 0 and 'cache' in r.out, r
    # A badly formatted file fails the target; -c fix formats it.
    (ws.root / ROOT / 'src/extra.tf').write_text('locals {\n  a = 1\n     bb = 2\n}\n')
    try:
        r = ws.run('run', 'tf-infra:fmt', env=terraform[1], timeout=300)
        assert r.code == 1 and 'extra.tf' in r.both, r
        r = ws.run('run', 'tf-infra:fmt', '-c', 'fix', env=terraform[1], timeout=300)
        assert r.code == 0, r
        assert ws.read(f'{ROOT}/src/extra.tf') == 'locals {\n  a  = 1\n  bb = 2\n}\n'
    finally:
        (ws.root / ROOT / 'src/extra.tf').unlink()


def checkov_report(ws, project_dir):
    path = ws.root / 'dist' / project_dir / 'checkov/checkov_report.json'
    data = json.loads(path.read_text())
    reports = data if isinstance(data, list) else [data]
    results = {'passed': [], 'failed': [], 'skipped': []}
    for rep in reports:
        for k in results:
            results[k] += rep['results'].get(f'{k}_checks', [])
    return results


def test_checkov_passes_on_both_projects_through_bld(tf_ws, terraform):
    ws = tf_ws
    r = ws.run('run-many', '-t', 'test', '-p', 'common-terraform', 'tf-infra', env=terraform[1],
               timeout=900)
    assert r.code == 0, r
    for project_dir in (TF, ROOT):
        res = checkov_report(ws, project_dir)
        assert res['failed'] == [], [(c['check_id'], c['resource']) for c in res['failed']]
        skipped = {c['check_id'] for c in res['skipped']}
        assert skipped == SKIPPED, skipped ^ SKIPPED
        for c in res['skipped']:   # every skip carries its reason
            assert len(c['check_result'].get('suppress_comment', '')) > 20, c
        passed = {c['check_id'] for c in res['passed']}
        assert MUST_PASS <= passed, MUST_PASS - passed
        # every API's resources were checked (through the root's module calls)
        if project_dir == ROOT:
            resources = {c['resource'] for c in res['passed']}
            for api in ('my_api', 'shop', 'orders', 'open', 'router'):
                assert any(x.startswith(f'module.{api}.') for x in resources), api
    r = ws.run('run', 'tf-infra:test', env=terraform[1], timeout=900)
    assert r.code == 0 and 'cache' in r.out, r


def test_checkov_fails_the_test_target_on_a_failing_check(tf_ws, terraform):
    ws = tf_ws
    bad = ws.root / ROOT / 'src/bucket.tf'
    bad.write_text('resource "aws_cloudwatch_log_group" "short" {\n'
                   '  name              = "short"\n  retention_in_days = 1\n}\n')
    try:
        r = ws.run('run', 'tf-infra:test', env=terraform[1], timeout=900)
        assert r.code == 1, r
        assert 'CKV_AWS_338' in r.both and 'aws_cloudwatch_log_group.short' in r.both, r
    finally:
        bad.unlink()


# ---- the modules, parsed ---------------------------------------------------------------

def parse(inspect, path):
    r = subprocess.run([str(inspect), '--json', str(path)], capture_output=True, text=True,
                       timeout=120)
    assert r.returncode == 0, r.stderr
    mod = json.loads(r.stdout)
    assert not mod.get('diagnostics'), mod['diagnostics']
    return mod


CORE_VARIABLES = {'api_name', 'openapi_spec_path', 'bundle_path', 'bundle_zip_path', 'handler',
                  'auth', 'user_pool_id', 'user_pool_client_ids', 'env', 'memory_size',
                  'timeout', 'log_retention_days', 'log_kms_key_arn', 'additional_policy_arns',
                  'additional_iam_policy_statements', 'subnet_ids', 'security_group_ids',
                  'cors_allow_origins', 'cors_allow_methods', 'cors_allow_headers', 'tags',
                  'user_pool_deletion_protection'}
CORE_OUTPUTS = {'api_url', 'api_id', 'api_execution_arn', 'execute_api_arn', 'stage_arn',
                'operations', 'function_names', 'function_arns', 'log_group_names',
                'role_name', 'role_arn', 'user_pool_id', 'user_pool_arn', 'user_pool_client_ids'}
CORE_RESOURCES = {'aws_lambda_function.operation', 'aws_cloudwatch_log_group.operation',
                  'aws_iam_role.handler', 'aws_iam_role_policy_attachment.logs',
                  'aws_iam_role_policy_attachment.xray', 'aws_iam_role_policy_attachment.vpc',
                  'aws_iam_role_policy_attachment.additional', 'aws_iam_role_policy.additional',
                  'aws_cognito_user_pool.users', 'aws_cognito_user_pool_client.client',
                  'aws_lambda_permission.invoke'}


def test_core_modules_promise_variables_outputs_and_resources(tf_ws, inspect):
    ws = tf_ws
    for kind in ('rest-api', 'http-api'):
        mod = parse(inspect, ws.root / CORE / kind)
        v = mod['variables']
        assert CORE_VARIABLES <= set(v), CORE_VARIABLES - set(v)
        assert v['user_pool_id']['default'] is None
        assert v['user_pool_client_ids']['default'] is None
        assert v['user_pool_client_ids']['type'] == 'list(string)'
        assert v['log_retention_days']['default'] == 365
        assert v['additional_policy_arns']['default'] == []
        assert v['tags']['type'] == 'map(string)'
        assert v['cors_allow_origins']['default'] == ['*']   # the plugin's default
        assert CORE_OUTPUTS <= set(mod['outputs']), CORE_OUTPUTS - set(mod['outputs'])
        res = set(mod['managed_resources'])
        assert CORE_RESOURCES <= res, CORE_RESOURCES - res
        assert mod['module_calls']['spec']['source'] == '../openapi'
        assert set(mod['required_providers']) == {'aws', 'archive'}
        if kind == 'rest-api':
            assert {'aws_api_gateway_rest_api.api', 'aws_api_gateway_deployment.api',
                    'aws_api_gateway_stage.prod', 'aws_api_gateway_method_settings.all',
                    'aws_cloudwatch_log_group.access',
                    'aws_wafv2_web_acl_association.api'} <= res
            assert {'access_logs', 'waf_web_acl_arn'} <= set(v)
        else:
            assert {'aws_apigatewayv2_api.api', 'aws_apigatewayv2_route.operation',
                    'aws_apigatewayv2_integration.operation', 'aws_apigatewayv2_stage.default',
                    'aws_apigatewayv2_authorizer.cognito',
                    'aws_cloudwatch_log_group.access'} <= res
    spec = parse(inspect, ws.root / CORE / 'openapi')
    assert spec['required_providers'] == {} and spec['managed_resources'] == {}
    assert spec['data_resources'] == {}
    assert {'openapi_spec_path', 'api_name', 'auth', 'invoke_arns', 'user_pool_arns',
            'account_id', 'cors_allow_origins'} <= set(spec['variables'])
    assert set(spec['outputs']) == {'operations', 'functions', 'rest_body'}


def test_app_and_root_modules_promise_their_interface(tf_ws, inspect):
    ws = tf_ws
    for api, kind, cognito in (('my-api', 'rest-api', False), ('shop', 'http-api', True),
                               ('orders', 'rest-api', True), ('open', 'http-api', False),
                               ('router', 'rest-api', False)):
        mod = parse(inspect, ws.root / TF / 'src/app/apis' / api)
        assert mod['module_calls']['api']['source'] == f'../../../core/api/{kind}'
        v, o = set(mod['variables']), set(mod['outputs'])
        assert {'env', 'tags', 'log_retention_days', 'additional_policy_arns',
                'additional_iam_policy_statements', 'cors_allow_origins'} <= v, api
        assert {'api_url', 'api_execution_arn', 'function_names', 'role_name'} <= o, api
        assert ({'user_pool_id', 'user_pool_client_ids', 'user_pool_deletion_protection'} <= v) \
            == cognito, api
        assert ({'user_pool_id', 'user_pool_client_ids'} <= o) == cognito, api
    assert re.search(r'integration_pattern += "shared"',
                     ws.read(f'{TF}/src/app/apis/router/router.tf'))
    assert re.search(r'integration_pattern += "isolated"',
                     ws.read(f'{TF}/src/app/apis/my-api/my-api.tf'))
    root = parse(inspect, ws.root / ROOT / 'src')
    calls = root['module_calls']
    assert set(calls) == {'my_api', 'shop', 'orders', 'open', 'router'}
    for name, call in calls.items():
        target = (ws.root / ROOT / 'src' / call['source']).resolve()
        assert target == (ws.root / TF / 'src/app/apis' / name.replace('_', '-')).resolve()
    assert set(root['required_providers']) == {'aws', 'archive'}
    assert {'environment', 'aws_region', 'tags'} <= set(root['variables'])
    assert {'my_api_url', 'shop_url', 'shop_user_pool_id', 'shop_user_pool_client_ids',
            'orders_user_pool_id', 'environment'} <= set(root['outputs'])


PATH_WORDS = re.compile(r'"(\.\.?/[^"]*)"')


def test_paths_are_anchored_at_the_module_folder(tf_ws, inspect):
    """Module sources are relative to their file's folder (Terraform's rule); every other
    path is built on path.module and, resolved, stays inside the workspace."""
    ws = tf_ws
    for p in tf_files(ws.root):
        text = p.read_text()
        assert 'path.cwd' not in text and 'path.root' not in text, p
        for m in PATH_WORDS.finditer(text):
            line = text[:m.start()].rsplit('\n', 1)[-1]
            assert re.match(r'\s*source\s*=', line), (p, line + m.group(0))
            assert (p.parent / m.group(1)).resolve().is_dir(), (p, m.group(1))
    for api in ('my-api', 'shop', 'orders', 'open', 'router'):
        folder = ws.root / TF / 'src/app/apis' / api
        text = (folder / f'{api}.tf').read_text()
        up = re.search(r'workspace_root = "\$\{path\.module\}/([./]+)"', text).group(1)
        assert (folder / up).resolve() == ws.root.resolve(), up
        for var in ('openapi_spec_path', 'bundle_path', 'bundle_zip_path'):
            value = re.search(var + r'\s*= "([^"]*)"', text).group(1)
            assert value.startswith('${local.workspace_root}/'), (api, var, value)
            rel = value[len('${local.workspace_root}/'):]
            assert rel.startswith('dist/') and '..' not in rel, (api, var, value)
    # The core modules take every path as a variable.
    for kind in ('rest-api', 'http-api', 'openapi'):
        for p in (ws.root / CORE / kind).glob('*.tf'):
            assert not re.search(r'"(\.\./)+(dist|packages)', p.read_text()), p


# ---- the provider-free module, evaluated by terraform -----------------------------------

SPEC = {
    'openapi': '3.1.0', 'info': {'title': 'x', 'version': '0.1.0'},
    'paths': {
        '/alpha/items': {'get': {'operationId': 'list_items', 'tags': ['alpha']},
                         'parameters': []},
        '/beta/items': {'get': {'operationId': 'list_items', 'tags': ['beta']},
                        'post': {'operationId': 'create_item', 'tags': ['beta']}},
        '/items/{item_id}': {'get': {'operationId': 'get_item', 'parameters': [
            {'name': 'item_id', 'in': 'path', 'required': True, 'schema': {'type': 'integer'}},
            {'name': 'q', 'in': 'query', 'schema': {'type': 'string'}}]}},
        '/long': {'get': {'operationId': 'x' * 80}},
    },
}

HARNESS = '''
module "spec" {
  source             = "%(module)s"
  openapi_spec_path  = var.spec
  api_name           = "my-api"
  integration_pattern = var.pattern
  auth               = var.auth
  account_id         = "123456789012"
  user_pool_arns     = ["arn:aws:cognito-idp:eu-west-1:123456789012:userpool/eu-west-1_abc"]
  cors_allow_origins = var.origins
  invoke_arns        = { for k, f in terraform_data.fn : k => f.output }
}

# Stands for the Lambda functions: named from the module's output, their ARNs fed back in
# (the shape of the REST module, so a dependency cycle would show here).
resource "terraform_data" "fn" {
  for_each = module.spec.functions
  input    = "arn:fn:${each.value}"
}

variable "spec" { type = string }
variable "auth" { type = string }
variable "origins" { type = list(string) }
variable "pattern" { type = string }
output "operations" { value = module.spec.operations }
output "functions" { value = module.spec.functions }
output "body" { value = jsondecode(module.spec.rest_body) }
'''


def evaluate(terraform, tmp_path, ws, spec, auth='IAM', origins=('*',), pattern='isolated'):
    d = tmp_path / 'harness'
    d.mkdir(exist_ok=True)
    module = (ws.root / CORE / 'openapi').resolve()
    (d / 'main.tf').write_text(HARNESS % {'module': module})
    spec_file = d / 'spec.json'
    spec_file.write_text(json.dumps(spec) if isinstance(spec, dict) else spec)
    (d / 'terraform.tfvars.json').write_text(json.dumps(
        {'spec': str(spec_file), 'auth': auth, 'origins': list(origins), 'pattern': pattern}))
    r = tf(terraform, 'init', '-input=false', cwd=d)
    assert r.returncode == 0, r.stdout + r.stderr
    r = tf(terraform, 'apply', '-auto-approve', '-input=false', '-no-color', cwd=d)
    if r.returncode != 0:
        return None, r.stdout + r.stderr
    r = tf(terraform, 'output', '-json', cwd=d)
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    evaluate.functions = out['functions']['value']
    return (out['operations']['value'], out['body']['value']), ''


def test_one_operation_id_under_two_tags_gets_two_function_names(tf_ws, terraform, tmp_path):
    (ops, body), _ = evaluate(terraform, tmp_path, tf_ws, SPEC)
    names = {k: v['function_name'] for k, v in ops.items()}
    assert names['GET /alpha/items'] == 'my-api-alpha-list-items'
    assert names['GET /beta/items'] == 'my-api-beta-list-items'
    assert names['POST /beta/items'] == 'my-api-create-item'
    assert names['GET /items/{item_id}'] == 'my-api-get-item'
    long = names['GET /long']
    assert len(long) == 64 and long.startswith('my-api-xxx'), long
    assert len(set(names.values())) == len(names)
    assert all(re.fullmatch(r'[A-Za-z0-9_-]{1,64}', n) for n in names.values())
    # Path parameters are declared (query ones are the app's business).
    assert body['paths']['/items/{item_id}']['get']['parameters'] == [
        {'name': 'item_id', 'in': 'path', 'required': True, 'schema': {'type': 'string'}}]
    assert body['paths']['/alpha/items']['get']['parameters'] == []
    # Each operation is integrated with its own function.
    for key, op in ops.items():
        integ = body['paths'][op['path']][op['method'].lower()]['x-amazon-apigateway-integration']
        assert integ == {'type': 'aws_proxy', 'httpMethod': 'POST',
                         'uri': f'arn:fn:{op["function_name"]}'}


def test_a_clash_left_is_an_error_naming_both_operations(tf_ws, terraform, tmp_path):
    spec = {'openapi': '3.1.0', 'info': {'title': 'x', 'version': '1'},
            'paths': {'/a': {'get': {'operationId': 'dup'}},
                      '/b': {'get': {'operationId': 'dup'}}}}
    res, err = evaluate(terraform, tmp_path, tf_ws, spec)
    assert res is None
    flat = ' '.join(err.split())
    assert 'my-api-dup (GET /a, GET /b)' in flat, err
    assert 'distinct operationIds' in flat, err


def test_rest_body_has_preflight_gateway_responses_and_policy(tf_ws, terraform, tmp_path):
    (ops, body), _ = evaluate(terraform, tmp_path, tf_ws, SPEC)
    for path in SPEC['paths']:
        pre = body['paths'][path]['options']
        assert pre['security'] == []   # preflight carries no credentials
        integ = pre['x-amazon-apigateway-integration']
        assert integ['type'] == 'mock'
        params = integ['responses']['default']['responseParameters']
        assert params['method.response.header.Access-Control-Allow-Origin'] == "'*'"
        assert params['method.response.header.Access-Control-Allow-Methods'] == "'*'"
        assert 'authorization' in params['method.response.header.Access-Control-Allow-Headers']
        assert integ['responses']['default']['statusCode'] == '204'
        assert set(pre['responses']['204']['headers']) >= {
            'Access-Control-Allow-Origin', 'Access-Control-Allow-Methods',
            'Access-Control-Allow-Headers'}
        for method, op in body['paths'][path].items():
            if method != 'options':
                assert op['security'] == [{'sigv4': []}], (path, method)
    gw = body['x-amazon-apigateway-gateway-responses']
    assert set(gw) == {'DEFAULT_4XX', 'DEFAULT_5XX'}
    for resp in gw.values():
        rp = resp['responseParameters']
        assert rp['gatewayresponse.header.Access-Control-Allow-Origin'] == "'*'"
        assert {'gatewayresponse.header.Access-Control-Allow-Methods',
                'gatewayresponse.header.Access-Control-Allow-Headers'} <= set(rp)
    assert body['components']['securitySchemes']['sigv4']['x-amazon-apigateway-authtype'] == \
        'awsSigv4'
    st = body['x-amazon-apigateway-policy']['Statement']
    assert {'Effect': 'Allow', 'Principal': {'AWS': 'arn:aws:iam::123456789012:root'},
            'Action': 'execute-api:Invoke', 'Resource': 'execute-api:/*'} in st
    assert {'Effect': 'Allow', 'Principal': '*', 'Action': 'execute-api:Invoke',
            'Resource': 'execute-api:/*/OPTIONS/*'} in st
    assert len(st) == 2


def test_rest_body_for_cognito_and_a_list_of_origins(tf_ws, terraform, tmp_path):
    origins = ('https://app.example.com', 'http://localhost:4200')
    (ops, body), _ = evaluate(terraform, tmp_path, tf_ws, SPEC, auth='Cognito', origins=origins)
    scheme = body['components']['securitySchemes']['cognito']
    assert scheme['x-amazon-apigateway-authorizer']['providerARNs'] == [
        'arn:aws:cognito-idp:eu-west-1:123456789012:userpool/eu-west-1_abc']
    assert body['paths']['/beta/items']['post']['security'] == [{'cognito': []}]
    pre = body['paths']['/beta/items']['options']['x-amazon-apigateway-integration']
    default = pre['responses']['default']
    # No fixed origin header: the request's Origin is answered when it is in the list.
    assert 'method.response.header.Access-Control-Allow-Origin' not in default['responseParameters']
    template = default['responseTemplates']['application/json']
    assert "'https://app.example.com', 'http://localhost:4200'" in template
    assert 'responseOverride.header.Access-Control-Allow-Origin' in template
    gw = body['x-amazon-apigateway-gateway-responses']['DEFAULT_4XX']['responseParameters']
    assert gw['gatewayresponse.header.Access-Control-Allow-Origin'] == \
        'method.request.header.origin'
    st = body['x-amazon-apigateway-policy']['Statement']
    assert st == [{'Effect': 'Allow', 'Principal': '*', 'Action': 'execute-api:Invoke',
                   'Resource': 'execute-api:/*'}]


def test_the_real_openapi_document_of_the_generated_api(tf_ws, terraform, tmp_path):
    """The OpenAPI document the API project writes (its openapi target, through bld)."""
    ws = tf_ws
    r = ws.run('run', 'my-api:openapi', timeout=900)
    assert r.code == 0, r
    doc = (ws.root / 'dist/packages/my_api/openapi/openapi.json').read_text()
    (ops, body), _ = evaluate(terraform, tmp_path, ws, doc)
    assert {k: v['function_name'] for k, v in ops.items()} == {
        'GET /': 'my-api-read-root', 'GET /items': 'my-api-list-items',
        'POST /items': 'my-api-create-item', 'GET /items/{item_id}': 'my-api-get-item'}
    assert set(body['paths']) == {'/', '/items', '/items/{item_id}'}
    assert all('options' in item for item in body['paths'].values())


def test_rest_body_without_auth(tf_ws, terraform, tmp_path):
    (ops, body), _ = evaluate(terraform, tmp_path, tf_ws, SPEC, auth='None',
                              origins=('https://app.example.com',))
    assert body['components']['securitySchemes'] == {}
    assert all(op['security'] == [] for item in body['paths'].values() for op in item.values())
    pre = body['paths']['/long']['options']['x-amazon-apigateway-integration']
    assert pre['responses']['default']['responseParameters'][
        'method.response.header.Access-Control-Allow-Origin'] == "'https://app.example.com'"
    assert body['x-amazon-apigateway-policy']['Statement'][0]['Principal'] == '*'


# ---- --infra streaming-lambda -------------------------------------------------------------

@pytest.fixture(scope='module')
def stream_ws(tmp_path_factory):
    """A workspace with one streaming API (the Function URL variant) beside a REST one."""
    from conftest import Workspace
    ws = Workspace(tmp_path_factory.mktemp('tfstream'), {})
    generate(ws, '--name', 'live', '--infra', 'streaming-lambda')
    generate(ws, '--name', 'my-api')
    ws.commit('generated')
    yield ws
    ws.cleanup()


def test_streaming_api_module(stream_ws, inspect, terraform):
    ws = stream_ws
    mod = parse(inspect, ws.root / CORE / 'stream-api')
    res = set(mod['managed_resources'])
    assert {'aws_lambda_function.handler', 'aws_lambda_function_url.handler',
            'aws_cloudwatch_log_group.handler', 'aws_iam_role.handler',
            'aws_iam_role_policy.invoke', 'aws_iam_role_policy_attachment.additional'} <= res
    assert {'env', 'tags', 'log_retention_days', 'additional_policy_arns', 'invoker_role_names',
            'web_adapter_layer_arn', 'cors_allow_origins'} <= set(mod['variables'])
    assert {'api_url', 'invoke_policy_json', 'function_name', 'role_name'} <= set(mod['outputs'])
    text = (ws.root / CORE / 'stream-api/main.tf').read_text()
    assert 'invoke_mode        = "RESPONSE_STREAM"' in text
    assert 'authorization_type = "AWS_IAM"' in text
    assert 'handler          = "run.sh"' in text
    assert 'AWS_LAMBDA_EXEC_WRAPPER      = "/opt/bootstrap"' in text
    assert 'AWS_LWA_INVOKE_MODE          = "response_stream"' in text
    assert 'lambda:InvokeFunctionUrl' in text
    app = parse(inspect, ws.root / TF / 'src/app/apis/live')
    assert app['module_calls']['api']['source'] == '../../../core/api/stream-api'
    app_text = (ws.root / TF / 'src/app/apis/live/live.tf').read_text()
    assert '${local.workspace_root}/dist/packages/live/bundle' in app_text
    root = parse(inspect, ws.root / ROOT / 'src')
    assert set(root['module_calls']) == {'live', 'my_api'}
    for d in (f'{TF}/src', f'{ROOT}/src'):
        r = tf(terraform, 'fmt', '-check', '-recursive', '-diff', cwd=ws.root / d)
        assert r.returncode == 0, r.stdout + r.stderr
    r = ws.run('run', 'tf-infra:test', env=terraform[1], timeout=900)
    assert r.code == 0, r
    res = checkov_report(ws, ROOT)
    assert res['failed'] == [], [(c['check_id'], c['resource']) for c in res['failed']]
    live = [c for c in res['passed'] + res['skipped'] if c['resource'].startswith('module.live.')]
    assert {c['check_id'] for c in live if c['resource'].endswith('aws_lambda_function.handler')
            and c in res['skipped']} == {'CKV_AWS_116', 'CKV_AWS_115', 'CKV_AWS_272',
                                         'CKV_AWS_173', 'CKV2_AWS_75'}
    assert any(c['check_id'] == 'CKV_AWS_258' for c in res['passed']
               if c['resource'].startswith('module.live.')), 'Function URL auth check'


def test_shared_pattern_routes_every_operation_to_one_function(tf_ws, terraform, tmp_path):
    (ops, body), _ = evaluate(terraform, tmp_path, tf_ws, SPEC, pattern='shared')
    assert evaluate.functions == {'$router': 'my-api-router'}
    assert {op['function'] for op in ops.values()} == {'$router'}
    for op in ops.values():
        integ = body['paths'][op['path']][op['method'].lower()]['x-amazon-apigateway-integration']
        assert integ['uri'] == 'arn:fn:my-api-router'
    # one operationId twice is no clash when one function serves both
    spec = {'openapi': '3.1.0', 'info': {'title': 'x', 'version': '1'},
            'paths': {'/a': {'get': {'operationId': 'dup'}}, '/b': {'get': {'operationId': 'dup'}}}}
    res, err = evaluate(terraform, tmp_path, tf_ws, spec, pattern='shared')
    assert res is not None, err
