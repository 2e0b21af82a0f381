"""Python projects: a workspace project named in another's pyproject.toml dependencies
(or in [tool.uv.sources] with workspace = true) is a dependency, so ^build orders them.

Nx core infers no dependency from pyproject.toml (the @nxlv/python plugin does); bld reads
the few keys it needs itself (issue 2).  What it does not understand yields no edge.
"""

import os
import shutil

import pytest

from conftest import log


def py_project(name, root, pyproject):
    return {
        f'{root}/project.json': {'name': name, 'targets': {'build': {'command': log(name)}}},
        f'{root}/pyproject.toml': pyproject,
    }


SHARED = '''[project]
name = "my-shared"
version = "0.1.0"
description = "shared code"
dependencies = []
'''

MODELS = '''[project]
name = "my-models"
version = "0.1.0"
requires-python = ">=3.11"
dependencies = ["pydantic>=1.10"]

[build-system]
requires = ["hatchling"]
build-backend = "hatchling.build"
'''


def ws_with(make_ws, api_pyproject):
    files = {'nx.json': {'targetDefaults': {'build': {'dependsOn': ['^build']}}}}
    files.update(py_project('shared', 'packages/shared', SHARED))
    files.update(py_project('models', 'packages/models', MODELS))
    files.update(py_project('api', 'packages/api', api_pyproject))
    return make_ws(files)


def test_pyproject_dependencies_order_builds(make_ws):
    ws = ws_with(make_ws, '''[project]
name = "my-api"
version = "0.1.0"
dependencies = [
    "fastapi>=0.92",
    "my-shared==0.1.0",  # the workspace library
]
''')
    r = ws.run('run', 'api:build')
    assert r.code == 0, r
    assert ws.ran() == ['shared', 'api']


def test_uv_workspace_sources_order_builds(make_ws):
    ws = ws_with(make_ws, '''[project]
name = "my-api"
version = "0.1.0"
dependencies = ["fastapi", "my-models"]

[tool.uv.sources]
my-models = { workspace = true }
''')
    r = ws.run('run', 'api:build')
    assert r.code == 0, r
    assert ws.ran() == ['models', 'api']


def test_pyproject_names_are_normalized(make_ws):
    # PEP 503: My_Shared, my.shared and my-shared are one name.
    ws = ws_with(make_ws, '''[project]
name = "my-api"
version = "0.1.0"
dependencies = ["My_Shared>=0.1", "my.models[extra] ; python_version >= '3.11'"]
''')
    r = ws.run('run', 'api:build')
    assert r.code == 0, r
    ran = ws.ran()
    assert ran[-1] == 'api' and sorted(ran[:-1]) == ['models', 'shared'], ran


def test_external_dependencies_and_odd_toml_give_no_edge_and_no_error(make_ws):
    ws = ws_with(make_ws, '''[project]
name = "my-api"
version = "0.1.0"
dependencies = ["fastapi", "uvicorn[standard]>=0.17"]
optional-dependencies.dev = ["pytest"]

[tool.something]
inline = { a = [1, 2, { b = "c" }] }
multi = """
my-shared
"""
''')
    r = ws.run('run', 'api:build')
    assert r.code == 0, r
    assert ws.ran() == ['api']
    r = ws.run('show', 'projects')
    assert r.code == 0, r
    assert sorted(r.out.split()) == ['api', 'models', 'shared']


# ---- a task needing uv where uv is missing (issue 14) ---------------------------------

UV_HINT = 'install uv (https://docs.astral.sh/uv/getting-started/installation/, or `pipx install uv`)'
NO_UV = {'PATH': '/nonexistent:/bin'}   # sh, but no uv (uv is in /usr/local/bin here and in CI)


def uv_ws(make_ws):
    return make_ws({
        'nx.json': {},
        'pyproject.toml': '[tool.uv.workspace]\nmembers = ["packages/api"]\n',
        'packages/api/pyproject.toml': '[project]\nname = "api"\nversion = "0.1.0"\n',
        'packages/api/project.json': {'name': 'api', 'targets': {
            'lock': {'executor': 'nx:run-commands', 'options': {'command': 'uv lock'}},
            'check': {'executor': 'nx:run-commands', 'options': {
                'commands': [log('check:1'), 'X=1 uvx ruff check .', log('check:3')],
                'parallel': False}},
            'nxlv-lock': {'executor': '@nxlv/python:lock', 'options': {}},
            'other': {'executor': 'nx:run-commands',
                      'options': {'command': 'echo uv; no-such-tool-here'}},
        }},
    })


@pytest.mark.parametrize('target', ['lock', 'check', 'nxlv-lock'])
def test_task_needing_uv_without_uv_says_how_to_install_it(make_ws, target):
    ws = uv_ws(make_ws)
    r = ws.run('run', f'api:{target}', env=NO_UV)
    assert r.code == 1, r
    assert f'bld: api:{target} needs uv, which is not on its PATH: {UV_HINT}' in r.both, r
    assert 'not found' in r.both, r   # the shell's own line stays
    if target == 'check':             # serial commands: the first ran, the third did not
        assert ws.ran() == ['check:1'], r


def test_not_found_without_uv_in_the_command_gets_no_uv_hint(make_ws):
    ws = uv_ws(make_ws)
    r = ws.run('run', 'api:other', env=NO_UV)
    assert r.code == 1 and 'no-such-tool-here' in r.both, r
    assert 'install uv' not in r.both, r


def test_uv_present_gets_no_hint(make_ws):
    ws = uv_ws(make_ws)
    uv = shutil.which('uv')
    assert uv, 'uv is needed (scripts/install-deps.sh installs it)'
    r = ws.run('run', 'api:check', env={'PATH': f'{os.path.dirname(uv)}:/bin'})
    assert 'install uv' not in r.both, r
