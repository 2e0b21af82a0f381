"""bld generate py#fast-api / ts#infra: trees, project.json files, options, errors (issue 6).

The generators run through the real bld binary on temporary git workspaces; the
resulting workspaces are also checked against real Nx (shared/tools/nx-oracle) when
that tool is present.
"""
import hashlib
import json
import os
import pathlib
import re
import subprocess

import pytest

ORACLE = pathlib.Path(os.environ.get('NX_ORACLE', '/nonexistent/nx-oracle'))

PY_FILES = ['project.json', 'pyproject.toml', 'README.md', 'scripts/generate_open_api.py',
            'tests/__init__.py', 'tests/test_main.py']
UV_TARGETS = {'openapi', 'bundle', 'compile', 'serve', 'test', 'lint', 'format', 'build',
              'install', 'lock', 'sync', 'add', 'update', 'remove'}
MODULE_FILES = ['__init__.py', 'init.py', 'main.py']


def tree(root):
    """{relative path: sha256} of every file outside .git and .bld (bld's own state:
    the daemon's socket, lock, pid file and log)."""
    out = {}
    for p in sorted(pathlib.Path(root).rglob('*')):
        parts = p.relative_to(root).parts
        if p.is_file() and '.git' not in parts and parts[:1] != ('.bld',):
            out[str(p.relative_to(root))] = hashlib.sha256(p.read_bytes()).hexdigest()
    return out


def jload(ws, rel):
    return json.loads(ws.read(rel))


def generate(ws, *args):
    r = ws.run('generate', *args)
    assert r.code == 0, r
    return r


def test_fastapi_cdk_non_default_options(make_ws):
    ws = make_ws({})
    r = generate(ws, 'py#fast-api', '--name', 'shop-api', '--computeType',
                 'ServerlessApiGatewayHttpApi', '--auth', 'Cognito', '--directory', 'apps',
                 '--moduleName', 'shop_core')
    root = 'apps/shop_api'
    for f in PY_FILES:
        assert (ws.root / root / f).is_file(), f
        assert f'CREATE {root}/{f}' in r.out
    for f in MODULE_FILES:
        assert (ws.root / root / 'shop_core' / f).is_file(), f
    for f in ['nx.json', 'package.json', '.gitignore', 'tsconfig.base.json', 'pyproject.toml',
              'uv.lock']:
        assert (ws.root / f).is_file(), f
    assert 'uv lock' in r.both

    pj = jload(ws, f'{root}/project.json')
    assert pj['name'] == 'shop-api'
    assert pj['$schema'] == '../../node_modules/nx/schemas/project-schema.json'
    assert pj['sourceRoot'] == 'apps/shop_api/shop_core'
    t = pj['targets']
    assert set(t) == UV_TARGETS
    for name, target in t.items():
        if name != 'build':
            assert target['executor'] == 'nx:run-commands', name
        if target.get('cache'):
            assert '{workspaceRoot}/uv.lock' in target['inputs'], name
    assert {n for n, x in t.items() if x.get('cache')} == {'openapi', 'bundle', 'compile',
                                                            'test', 'lint', 'format'}
    assert t['openapi']['outputs'] == ['{workspaceRoot}/dist/apps/shop_api/openapi']
    assert t['openapi']['options']['command'].startswith('uv run --package shop-api python ')
    assert 'dist/apps/shop_api/openapi/openapi.json' in t['openapi']['options']['command']
    assert t['bundle']['outputs'] == ['{workspaceRoot}/dist/apps/shop_api/bundle']
    cmds = [c['command'] if isinstance(c, dict) else c for c in t['bundle']['options']['commands']]
    assert cmds[1].startswith('uv export --frozen --no-dev --no-editable --package shop-api')
    assert cmds[2].startswith('uv pip install --link-mode=copy --no-deps --no-installer-metadata '
                              '--no-compile-bytecode --python-platform {args.pythonPlatform} '
                              '--python-version {args.pythonVersion} '
                              '--target dist/apps/shop_api/bundle')
    assert t['bundle']['options']['args'] == ('--pythonPlatform=x86_64-manylinux2014 '
                                              '--pythonVersion=3.12')
    assert t['compile']['options']['command'] == ('uv build --package shop-api --out-dir '
                                                  'dist/apps/shop_api/build')
    assert t['serve']['continuous'] is True
    assert 'shop_core.main:app' in t['serve']['options']['command']
    assert '--port 8000' in t['serve']['options']['command']
    assert '--reload' in t['serve']['options']['command']
    assert 'uv run --package shop-api pytest' in t['test']['options']['command']
    assert '--junitxml=reports/apps/shop_api/unittests/junit.xml' in t['test']['options']['command']
    assert t['test']['outputs'] == ['{workspaceRoot}/reports/apps/shop_api']
    assert t['lint']['options']['command'] == 'uv run --package shop-api ruff check apps/shop_api'
    assert t['lint']['dependsOn'] == ['format']
    assert 'ruff format --check' in t['format']['options']['command']
    assert t['add']['options']['command'] == 'uv add --package shop-api'
    assert t['lock']['options']['command'] == 'uv lock'
    root_toml = ws.read('pyproject.toml')
    assert '[tool.uv.workspace]' in root_toml and '"apps/shop_api",' in root_toml
    assert 'name = "shop-api"' in ws.read('uv.lock')
    toml = ws.read(f'{root}/pyproject.toml')
    for dep in ('fastapi', 'pydantic>=2', 'aws-lambda-powertools[tracer]', 'mangum',
                'uvicorn'):
        assert dep in toml, dep

    c = 'packages/common/constructs'
    for f in ['project.json', 'tsconfig.json', 'src/index.ts', 'src/app/apis/shop-api.ts',
              'src/app/apis/index.ts', 'src/core/api/rest-api.ts', 'src/core/api/http-api.ts',
              'src/core/api/utils.ts', 'src/core/runtime-config.ts']:
        assert (ws.root / c / f).is_file(), f
    cj = jload(ws, f'{c}/project.json')
    assert cj['name'] == 'common-constructs'
    gen = cj['targets']['generate:shop-api-metadata']
    assert gen['executor'] == 'bld:openapi-metadata'
    assert gen['dependsOn'] == [{'projects': ['shop-api'], 'target': 'openapi'}]
    assert gen['options'] == {
        'openApiSpecPath': 'dist/apps/shop_api/openapi/openapi.json',
        'outputPath': 'packages/common/constructs/src/generated/shop-api/metadata.gen.ts'}
    assert cj['targets']['compile']['dependsOn'] == ['generate:shop-api-metadata']
    assert {'projects': ['shop-api'], 'target': 'bundle'} in cj['targets']['build']['dependsOn']

    api = ws.read(f'{c}/src/app/apis/shop-api.ts')
    assert 'extends HttpApi<Operations, TIntegrations>' in api
    assert 'HttpUserPoolAuthorizer' in api
    assert "handler: 'shop_core.main.handler'" in api
    assert "'dist/apps/shop_api/bundle'" in api
    assert "from '../../generated/shop-api/metadata.gen.js'" in api
    assert 'grantInvokeAccess' in ws.read(f'{c}/src/core/api/http-api.ts')
    gi = ws.read('.gitignore').splitlines()
    for line in ['.bld', 'dist', 'packages/common/constructs/src/generated']:
        assert line in gi
    # The generated folder stays out of git.
    ws.commit('generated')
    (ws.root / c / 'src/generated/shop-api').mkdir(parents=True)
    (ws.root / c / 'src/generated/shop-api/metadata.gen.ts').write_text('x\n')
    assert ws.git('status', '--porcelain') == ''


def test_fastapi_terraform_non_default_options(make_ws):
    ws = make_ws({})
    generate(ws, 'py#fast-api', '--name', 'orders', '--iacProvider', 'Terraform', '--auth',
             'None', '--computeType', 'ServerlessApiGatewayHttpApi')
    for f in PY_FILES:
        assert (ws.root / 'packages/orders' / f).is_file(), f
    for f in MODULE_FILES:
        assert (ws.root / 'packages/orders/orders' / f).is_file(), f
    pj = jload(ws, 'packages/orders/project.json')
    assert pj['name'] == 'orders'
    assert set(pj['targets']) >= {'openapi', 'bundle', 'serve', 'test', 'lint', 'build'}
    assert pj['targets']['bundle']['outputs'] == ['{workspaceRoot}/dist/packages/orders/bundle']
    tf = 'packages/common/terraform'
    for kind in ('rest-api', 'http-api'):
        for f in ('main.tf', 'variables.tf', 'lambdas.tf', 'auth.tf', 'outputs.tf', 'versions.tf'):
            assert (ws.root / tf / 'src/core/api' / kind / f).is_file(), (kind, f)
    app = ws.read(f'{tf}/src/app/apis/orders/orders.tf')
    assert '"../../../core/api/http-api"' in app
    assert re.search(r'auth +=', app) and '"None"' in app
    assert 'orders.main.handler' in app
    assert '${local.workspace_root}/dist/packages/orders/bundle' in app
    assert 'variable "user_pool_id"' not in app   # only for --auth Cognito
    tj = jload(ws, f'{tf}/project.json')
    assert tj['name'] == 'common-terraform'
    assert tj['implicitDependencies'] == ['orders']
    assert {'projects': ['orders'], 'target': 'bundle'} in tj['targets']['build']['dependsOn']
    # The root module the workspace deploys from, with the API's own file.
    root = jload(ws, 'packages/tf-infra/project.json')
    assert root['name'] == 'tf-infra'
    assert 'module "orders"' in ws.read('packages/tf-infra/src/orders.tf')
    assert not (ws.root / 'packages/common/constructs').exists()
    assert not (ws.root / 'tsconfig.base.json').exists()
    ws.commit('generated')
    # (tests/e2e/test_terraform.py runs fmt, checkov and the module checks)
    r = ws.run('show', 'projects')
    assert sorted(r.out.split()) == ['common-terraform', 'orders', 'tf-infra'], r


def test_second_api_adds_without_touching_the_first(make_ws):
    ws = make_ws({})
    generate(ws, 'py#fast-api', '--name', 'my-api')
    c = 'packages/common/constructs'
    before = tree(ws.root)
    r = generate(ws, 'py#fast-api', '--name', 'other-api')
    after = tree(ws.root)
    changed = {p for p in before if before[p] != after.get(p)}
    assert changed == {f'{c}/project.json', f'{c}/src/app/apis/index.ts', 'pyproject.toml',
                       'uv.lock'}, r
    # One uv workspace, one lock; the second API serves on the next port.
    assert '"packages/my_api",\n    "packages/other_api",\n]' in ws.read('pyproject.toml')
    lock = ws.read('uv.lock')
    assert 'name = "my-api"' in lock and 'name = "other-api"' in lock
    serve = jload(ws, 'packages/other_api/project.json')['targets']['serve']
    assert '--port 8001 ' in serve['options']['command']
    assert f'UPDATE {c}/project.json' in r.out
    assert f'CREATE {c}/src/app/apis/other-api.ts' in r.out
    assert ws.read(f'{c}/src/app/apis/index.ts').endswith(
        "export * from './my-api.js';\nexport * from './other-api.js';\n")
    cj = jload(ws, f'{c}/project.json')
    assert cj['targets']['compile']['dependsOn'] == ['generate:my-api-metadata',
                                                      'generate:other-api-metadata']
    # The first API's target is unchanged.
    first = json.loads(json.dumps(cj['targets']['generate:my-api-metadata']))
    assert first['options']['openApiSpecPath'] == 'dist/packages/my_api/openapi/openapi.json'


def test_existing_name_is_an_error_and_nothing_is_written(make_ws):
    ws = make_ws({})
    generate(ws, 'py#fast-api', '--name', 'my-api')
    before = tree(ws.root)
    r = ws.run('generate', 'py#fast-api', '--name', 'my-api', '--directory', 'apps')
    assert r.code == 2, r
    assert "'my-api' already exists" in r.err
    assert tree(ws.root) == before
    r = ws.run('g', 'py#fast-api', '--name', 'my-api')
    assert r.code == 2, r
    assert tree(ws.root) == before


def test_dry_run_lists_files_and_writes_nothing(make_ws):
    ws = make_ws({})
    before = tree(ws.root)
    r = ws.run('g', 'py#fast-api', '--name', 'my-api', '--dry-run')
    assert r.code == 0, r
    assert 'CREATE packages/my_api/my_api/init.py' in r.out
    assert 'CREATE packages/common/constructs/src/app/apis/my-api.ts' in r.out
    assert tree(ws.root) == before


@pytest.mark.parametrize('opt,value,allowed', [
    ('--computeType', 'Fargate', 'ServerlessApiGatewayRestApi (default), ServerlessApiGatewayHttpApi'),
    ('--auth', 'Magic', 'IAM (default), Cognito, None'),
    ('--iacProvider', 'Pulumi', 'CDK (default), Terraform'),
    ('--infra', 'ecs', 'rest-lambda (default), http-lambda, streaming-lambda'),
    ('--iac', 'pulumi', 'cdk, terraform, inherit (default)'),
    ('--integrationPattern', 'pooled', 'isolated (default), shared'),
])
def test_bad_option_values_list_the_allowed_ones(make_ws, opt, value, allowed):
    ws = make_ws({})
    r = ws.run('g', 'py#fast-api', '--name', 'x', opt, value)
    assert r.code == 2, r
    assert value in r.err and allowed in r.err, r
    assert tree(ws.root) == {}


@pytest.mark.parametrize('args,says', [
    (['--infra', 'http-lambda', '--computeType', 'ServerlessApiGatewayRestApi'],
     '--infra http-lambda and --computeType ServerlessApiGatewayRestApi disagree'),
    (['--infra', 'streaming-lambda', '--computeType', 'ServerlessApiGatewayRestApi'],
     '--infra streaming-lambda and --computeType ServerlessApiGatewayRestApi disagree'),
    (['--iac', 'terraform', '--iacProvider', 'CDK'], '--iac terraform and --iacProvider CDK disagree'),
])
def test_option_names_of_both_plugin_generations_must_agree(make_ws, args, says):
    ws = make_ws({})
    r = ws.run('g', 'py#fast-api', '--name', 'x', *args)
    assert r.code == 2 and says in r.err, r
    assert tree(ws.root) == {}


def test_current_option_names_choose_like_the_earlier_ones(make_ws):
    ws = make_ws({})
    generate(ws, 'py#fast-api', '--name', 'shop', '--infra', 'http-lambda', '--iac', 'cdk',
             '--auth', 'cognito', '--computeType', 'ServerlessApiGatewayHttpApi')
    api = ws.read('packages/common/constructs/src/app/apis/shop.ts')
    assert 'extends HttpApi<Operations, TIntegrations>' in api and 'HttpUserPoolAuthorizer' in api
    generate(ws, 'py#fast-api', '--name', 'tf-shop', '--iac', 'terraform')
    assert (ws.root / 'packages/common/terraform/src/app/apis/tf-shop/tf-shop.tf').is_file()


def test_streaming_api_has_run_sh_uvicorn_and_a_function_url(make_ws):
    ws = make_ws({})
    r = generate(ws, 'py#fast-api', '--name', 'feed', '--infra', 'streaming-lambda')
    assert 'CREATE packages/feed/run.sh' in r.out
    run_sh = ws.root / 'packages/feed/run.sh'
    assert os.access(run_sh, os.X_OK)
    assert 'uvicorn feed.main:app' in run_sh.read_text()
    deps, dev = ws.read('packages/feed/pyproject.toml').split('[dependency-groups]')
    assert '"uvicorn>=0.30"' in deps and 'uvicorn' not in dev
    cmds = jload(ws, 'packages/feed/project.json')['targets']['bundle']['options']['commands']
    assert cmds[-1] == {'command': 'cp packages/feed/run.sh dist/packages/feed/bundle/run.sh',
                        'forwardAllArgs': False}
    assert 'openapi_extra={"x-streaming": True}' in ws.read('packages/feed/feed/main.py')
    api = ws.read('packages/common/constructs/src/app/apis/feed.ts')
    assert 'InvokeMode.RESPONSE_STREAM' in api and "handler: 'run.sh'" in api
    assert 'LambdaAdapterLayerX86' in api and 'grantInvokeUrl' in api
    generate(ws, 'ts#infra')
    stack = ws.read('packages/infra/src/stacks/application-stack.ts')
    assert "    new Feed(this, 'Feed');\n" in stack
    # Without --infra streaming-lambda: no run.sh, uvicorn only for development.
    generate(ws, 'py#fast-api', '--name', 'plain')
    assert not (ws.root / 'packages/plain/run.sh').exists()
    deps, dev = ws.read('packages/plain/pyproject.toml').split('[dependency-groups]')
    assert 'uvicorn' not in deps and '"uvicorn>=0.30"' in dev


def test_missing_name_and_bad_module_are_clear_errors(make_ws):
    ws = make_ws({})
    r = ws.run('g', 'py#fast-api')
    assert r.code == 2 and '--name is required' in r.err, r
    r = ws.run('g', 'py#fast-api', '--name', 'x', '--moduleName', 'Bad-Name')
    assert r.code == 2 and "--moduleName 'Bad-Name'" in r.err and 'Python module name' in r.err, r
    assert tree(ws.root) == {}


@pytest.mark.parametrize('name,says', [
    ('import', "--name 'import': its module name 'import'"),
    ('rest-api', "--name 'rest-api': its construct class 'RestApi' would clash"),
    ('http-api', "--name 'http-api': its construct class 'HttpApi' would clash"),
    ('construct', "--name 'construct': its construct class 'Construct' would clash"),
    ('user-pool', "--name 'user-pool': its construct class 'UserPool' would clash"),
    ('apps/shop', "--name 'apps/shop': expected a name without '/'"),
    ('__', "--name '__': expected a name starting with a letter"),
    ('caf\u00e9', "would become 'caf'"),
    ('9lives', "--name '9lives': expected a name starting with a letter"),
])
def test_bad_names_name_the_option_passed(make_ws, name, says):
    ws = make_ws({})
    r = ws.run('g', 'py#fast-api', '--name', name)
    assert r.code == 2, r
    assert says in r.err, r
    assert tree(ws.root) == {}


def test_schema_paths_follow_the_directory_depth(make_ws):
    ws = make_ws({})
    generate(ws, 'py#fast-api', '--name', 'deep-api', '--directory', 'apps/team/services')
    pj = jload(ws, 'apps/team/services/deep_api/project.json')
    assert pj['$schema'] == '../../../../node_modules/nx/schemas/project-schema.json'
    assert (ws.root / 'apps/team/services/deep_api' / pj['$schema'].replace(
        '/node_modules/nx/schemas/project-schema.json', '') / 'nx.json').resolve() == \
        (ws.root / 'nx.json').resolve()
    generate(ws, 'ts#infra', '--name', 'infra', '--directory', 'apps/x')
    assert jload(ws, 'apps/x/infra/project.json')['$schema'] == \
        '../../../node_modules/nx/schemas/project-schema.json'


def test_infra_app_instantiates_the_apis(make_ws):
    ws = make_ws({})
    generate(ws, 'py#fast-api', '--name', 'my-api')
    generate(ws, 'py#fast-api', '--name', 'other-api', '--computeType',
             'ServerlessApiGatewayHttpApi')
    generate(ws, 'ts#infra', '--name', 'infra')
    stack = ws.read('packages/infra/src/stacks/application-stack.ts')
    assert "import { MyApi, OtherApi } from ':common-constructs';" in stack
    assert "new MyApi(this, 'MyApi'" in stack and "new OtherApi(this, 'OtherApi'" in stack
    pj = jload(ws, 'packages/infra/project.json')
    assert pj['implicitDependencies'] == ['common-constructs']
    synth = pj['targets']['synth']
    assert synth['dependsOn'] == ['^build']
    assert synth['outputs'] == ['{workspaceRoot}/dist/packages/infra/cdk.out']
    assert 'cdk synth' in synth['options']['command']
    r = ws.run('g', 'ts#infra', '--name', 'infra')
    assert r.code == 2 and 'already exists' in r.err, r


def test_generated_workspace_is_a_valid_workspace(make_ws):
    ws = make_ws({})
    generate(ws, 'py#fast-api', '--name', 'my-api')
    generate(ws, 'ts#infra', '--name', 'infra')
    ws.commit('generated')
    r = ws.run('show', 'projects')
    assert r.code == 0, r
    assert sorted(r.out.split()) == ['common-constructs', 'infra', 'my-api']
    r = ws.run('show', 'project', 'my-api', '--json')
    assert r.code == 0, r
    assert set(json.loads(r.out)['targets']) >= {'openapi', 'bundle', 'serve', 'test', 'lint'}
    r = ws.run('list')
    assert 'py#fast-api' in r.out and 'ts#infra' in r.out


@pytest.mark.skipif(not ORACLE.exists(), reason='nx-oracle (real Nx 22.1.3) not available here')
def test_real_nx_accepts_the_generated_workspace(make_ws, tmp_path):
    ws = make_ws({})
    generate(ws, 'py#fast-api', '--name', 'my-api')
    generate(ws, 'py#fast-api', '--name', 'tf-api', '--iacProvider', 'Terraform')
    generate(ws, 'ts#infra', '--name', 'infra')
    env = dict(os.environ, NX_DAEMON='false')
    out = subprocess.run([str(ORACLE), str(ws.root), 'show', 'projects'], env=env,
                         capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    assert sorted(out.stdout.split()) == ['common-constructs', 'common-terraform', 'infra',
                                          'my-api', 'tf-api', 'tf-infra']
    out = subprocess.run([str(ORACLE), str(ws.root), 'show', 'project', 'my-api', '--json'],
                         env=env, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)['targets']['serve']['continuous'] is True
