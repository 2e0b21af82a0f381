"""Python projects: a workspace project named in another's pyproject.toml dependencies
(or in [tool.uv.sources] with workspace = true) is a dependency, so ^build orders them.

Nx core infers no dependency from pyproject.toml (the @nxlv/python plugin does); bld reads
the few keys it needs itself (issue 2).  What it does not understand yields no edge.
"""

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
