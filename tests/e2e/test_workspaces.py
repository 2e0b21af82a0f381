"""Projects defined by package.json alone, as Nx 22.1.3 discovers them, and
`bld show projects --type`.

Every expected answer below was first watched in real Nx (nx-oracle) on the same files:
`nx show projects --json`, `nx show project <p> --json`, `nx run ...`.  Nx lists projects in
its own order; bld sorts them by name, so lists are compared sorted.
"""

import json

import pytest

from conftest import log


def pkg(name, scripts=None, **more):
    d = {'name': name} if name else {}
    if scripts:
        d['scripts'] = scripts
    d.update(more)
    return d


# npm: "workspaces" as an array, a nested ** glob, a "!" exclusion; ignore files apply; "*"
# and "**" do not match folders whose names start with '.' (minimatch without dot: true).
NPM = {
    'nx.json': {},
    'package.json': {'name': 'root', 'private': True,
                     'workspaces': ['packages/*', 'apps/**', '!packages/skip']},
    'packages/a/package.json': pkg('@s/a', {'build': 'echo A'}, version='1.0.0'),
    'packages/b/package.json': pkg('b', {'build': 'echo B'}),
    'packages/skip/package.json': pkg('skip', {'build': 'echo S'}),
    'packages/deeper/x/package.json': pkg('too-deep', {'build': 'echo D'}),
    'packages/.cache/package.json': pkg('dot-folder', {'build': 'echo H'}),
    'apps/.tmp/x/package.json': pkg('dot-folder-deep', {'build': 'echo H'}),
    'apps/web/package.json': pkg('web', {'build': 'echo W'}),
    'apps/web/nested/package.json': pkg('nested', {'build': 'echo N'}),
    'apps/ign/package.json': pkg('gitignored', {'build': 'echo I'}),
    'apps/nxig/package.json': pkg('nxignored', {'build': 'echo X'}),
    'libs/c/package.json': pkg('not-in-workspaces', {'build': 'echo C'}),
    '.gitignore': 'apps/ign\n',
    '.nxignore': 'apps/nxig\n',
}
NPM_PROJECTS = ['@s/a', 'b', 'nested', 'web']

# yarn: {"packages": [...]} (with yarn's "nohoist"), a two-level glob; yarn.lock makes yarn
# the package manager; a package without "name" is named after its folder.
YARN = {
    'nx.json': {},
    'package.json': {'name': 'root', 'private': True,
                     'workspaces': {'packages': ['packages/*/*', './tools/*'],
                                    'nohoist': ['**/x']}},
    'yarn.lock': '',
    'packages/group/one/package.json': pkg('one', {'build': 'echo 1'}),
    'packages/group/Two/package.json': pkg(None, {'build': 'echo 2'}),
    'packages/flat/package.json': pkg('flat', {'build': 'echo F'}),
    'tools/gen/package.json': pkg('gen', {'build': 'echo G'}),
}
YARN_PROJECTS = ['gen', 'one', 'two']

# pnpm: pnpm-workspace.yaml with ** and exclusions; the root package.json is a project
# because it has an "nx" key.
PNPM = {
    'nx.json': {},
    'package.json': {'name': 'root', 'private': True, 'nx': {'tags': ['r']},
                     'scripts': {'hello': 'echo hi'}},
    'pnpm-workspace.yaml': ('# the packages\npackages:\n  - "packages/**"\n  - apps/*\n'
                            "  - '!packages/legacy/**'\n  - '!**/fixtures/**'\n"),
    'packages/a/package.json': pkg('a', {'build': 'echo a'}),
    'packages/a/fixtures/f/package.json': pkg('fixture', {'build': 'echo f'}),
    'packages/legacy/old/package.json': pkg('old', {'build': 'echo o'}),
    'packages/deep/x/y/package.json': pkg('y', {'build': 'echo y'}),
    'apps/web/package.json': pkg('web', {'build': 'echo w'}),
}
PNPM_PROJECTS = ['a', 'root', 'web', 'y']


# lerna.json: its "packages", or packages/* when it has none (Nx reads it too).
LERNA = {
    'nx.json': {},
    'package.json': {'name': 'root'},
    'lerna.json': {'packages': ['libs/*']},
    'libs/a/package.json': pkg('a'),
    'packages/b/package.json': pkg('b'),
}


@pytest.mark.parametrize('files,want', [
    (NPM, NPM_PROJECTS), (YARN, YARN_PROJECTS), (PNPM, PNPM_PROJECTS), (LERNA, ['a']),
    (dict(LERNA, **{'lerna.json': {}}), ['b']),
], ids=['npm', 'yarn', 'pnpm', 'lerna', 'lerna-default'])
def test_package_manager_workspaces_are_discovered(make_ws, files, want):
    ws = make_ws(files)
    r = ws.run('show', 'projects', '--json')
    assert r.code == 0, r
    assert sorted(json.loads(r.out)) == want


def test_package_only_project_as_nx_shows_it(make_ws):
    ws = make_ws(NPM)
    r = ws.run('show', 'project', '@s/a', '--json')
    assert r.code == 0, r
    p = json.loads(r.out)
    assert p['root'] == 'packages/a'
    assert p['tags'] == ['npm:public']
    assert p['metadata'] == {'targetGroups': {'NPM Scripts': ['build']},
                             'js': {'packageName': '@s/a', 'packageVersion': '1.0.0',
                                    'isInPackageManagerWorkspaces': True}}
    assert p['targets'] == {'build': {
        'executor': 'nx:run-script', 'options': {'script': 'build'},
        'metadata': {'scriptContent': 'echo A', 'runCommand': 'npm run build'},
        'configurations': {}, 'parallelism': True}}


def test_yarn_and_pnpm_run_commands(make_ws):
    ws = make_ws(YARN)
    r = ws.run('show', 'project', 'two', '--json')
    assert r.code == 0, r
    p = json.loads(r.out)
    assert p['root'] == 'packages/group/Two'
    assert p['targets']['build']['metadata']['runCommand'] == 'yarn build'
    # Nx reads a pnpm-lock.yaml's packages, so nx.json names the package manager here
    ws = make_ws(dict(PNPM, **{'nx.json': {'cli': {'packageManager': 'pnpm'}}}), folder='pm')
    r = ws.run('show', 'project', 'root', '--json')
    assert r.code == 0, r
    p = json.loads(r.out)
    assert p['tags'] == ['npm:private', 'r']
    assert p['targets']['hello']['metadata']['runCommand'] == 'pnpm run hello'


# A package.json-only project run by name; -- arguments reach its script.
RUN = {
    'nx.json': {},
    'package.json': {'name': 'root', 'private': True, 'workspaces': ['packages/*']},
    'packages/pkgonly/package.json': pkg('pkgonly', {'build': 'sh ./build.sh'}),
    'packages/pkgonly/build.sh': 'echo "pkgonly:build $* in ${PWD##*/}" >> @LOG@\n',
}


def test_package_only_project_runs_by_name_with_forwarded_args(make_ws):
    ws = make_ws(RUN)
    r = ws.run('run', 'pkgonly:build', '--', '--flag', 'two words')
    assert r.code == 0, r
    assert ws.ran() == ['pkgonly:build --flag two words in pkgonly']
    ws.clear_log()
    r = ws.run('run', 'pkgonly:build')
    assert r.code == 0, r
    assert ws.ran() == ['pkgonly:build  in pkgonly']


# A package with both files: project.json targets win, scripts add targets; the nx key.
BOTH = {
    'nx.json': {},
    'package.json': {'name': 'root', 'private': True, 'workspaces': ['packages/*']},
    'packages/a/project.json': {'name': 'a', 'targets': {
        'build': {'command': log('a:build:project.json')},
        'lint': {'command': log('a:lint')}}},
    'packages/a/package.json': pkg('@s/a', {'build': 'echo never', 'test': log('a:test')},
                                   version='1.0.0', keywords=['k1'], description='d',
                                   main='index.js',
                                   nx={'tags': ['t1'], 'projectType': 'library'}),
}


def test_package_with_project_json_too(make_ws):
    ws = make_ws(BOTH)
    r = ws.run('show', 'project', 'a', '--json')
    assert r.code == 0, r
    p = json.loads(r.out)
    assert p['projectType'] == 'library'
    assert p['tags'] == ['npm:public', 'npm:k1', 't1']
    assert p['metadata'] == {'targetGroups': {'NPM Scripts': ['test']}, 'description': 'd',
                             'js': {'packageName': '@s/a', 'packageVersion': '1.0.0',
                                    'packageMain': 'index.js',
                                    'isInPackageManagerWorkspaces': True}}
    assert sorted(p['targets']) == ['build', 'lint', 'test']
    assert p['targets']['build']['executor'] == 'nx:run-commands'
    assert p['targets']['test']['executor'] == 'nx:run-script'
    assert ws.run('run', 'a:build').code == 0
    assert ws.run('run', 'a:test').code == 0
    assert ws.ran() == ['a:build:project.json', 'a:test']


NXKEY = {
    'nx.json': {'targetDefaults': {'build': {'dependsOn': ['^build']}}},
    'package.json': {'name': 'root', 'private': True, 'workspaces': ['libs/*', 'apps/*']},
    'libs/base/package.json': pkg('base', {'build': log('base:build')}, version='1.0.0'),
    'libs/util/package.json': pkg('util', {'build': log('util:build')}),
    'apps/app/package.json': pkg('app', {'build': log('app:build'), 'check': 'echo check'},
                                 dependencies={'base': 'workspace:*'},
                                 nx={'name': 'the-app', 'tags': ['scope:app'],
                                     'implicitDependencies': ['util'],
                                     'projectType': 'application',
                                     'includedScripts': ['build'],
                                     'targets': {'build': {'outputs': ['{projectRoot}/out']},
                                                 'extra': {'command': log('app:extra')}}}),
}


def test_nx_key_is_project_configuration(make_ws):
    ws = make_ws(NXKEY)
    r = ws.run('show', 'projects', '--json')
    assert r.code == 0, r
    assert sorted(json.loads(r.out)) == ['base', 'the-app', 'util']
    r = ws.run('show', 'project', 'the-app', '--json')
    assert r.code == 0, r
    p = json.loads(r.out)
    assert p['projectType'] == 'application'
    assert p['tags'] == ['npm:public', 'scope:app']
    assert p['implicitDependencies'] == ['util']
    assert p['includedScripts'] == ['build']
    assert sorted(p['targets']) == ['build', 'extra']
    assert p['targets']['build']['executor'] == 'nx:run-script'
    assert p['targets']['build']['outputs'] == ['{projectRoot}/out']
    assert p['targets']['build']['dependsOn'] == ['^build']


def test_workspace_package_dependencies_order_caret_build(make_ws):
    ws = make_ws(NXKEY)
    r = ws.run('run', 'the-app:build')
    assert r.code == 0, r
    ran = ws.ran()
    assert sorted(ran) == ['app:build', 'base:build', 'util:build']
    assert ran[-1] == 'app:build'


CACHE = {
    'nx.json': {'targetDefaults': {'build': {'cache': True}}},
    'package.json': {'name': 'root', 'private': True, 'workspaces': ['packages/*']},
    'packages/p/package.json': pkg('p', {'build': log('p:build'), 'test': log('p:test')}),
}


def test_script_target_is_cached_only_when_target_defaults_say_so(make_ws):
    ws = make_ws(CACHE)
    for _ in range(2):
        assert ws.run('run', 'p:build').code == 0
        assert ws.run('run', 'p:test').code == 0
    assert ws.ran() == ['p:build', 'p:test', 'p:test']
    ws.write('packages/p/src.txt', 'changed')
    assert ws.run('run', 'p:build').code == 0
    assert ws.ran()[-1] == 'p:build'


@pytest.mark.parametrize('files,where', [
    ({'pnpm-workspace.yaml': 'packages:\n  - "a/*"\n   - b\n'}, 'pnpm-workspace.yaml:3:'),
    ({'pnpm-workspace.yaml': 'packages: [a\n'}, 'pnpm-workspace.yaml:2:'),
    ({'pnpm-workspace.yaml': 'packages:\n  x: 1\n'}, 'pnpm-workspace.yaml:2:3'),
    ({'package.json': '{"name": "root",\n "workspaces": ["p/*",]]\n}'}, 'package.json:2:'),
    ({'package.json': '{"name": "root",\n "workspaces": 3\n}'}, 'package.json:2:16'),
    ({'packages/a/package.json': '{"name": "a",\n  "scripts": {"build": }\n}'},
     'packages/a/package.json:2:'),
    ({'packages/a/package.json': '{"name": "a",\n  "nx": {"tags": "x"}\n}'},
     'packages/a/package.json:2:'),
], ids=['yaml-indent', 'yaml-flow', 'yaml-shape', 'root-json', 'root-shape', 'member-json',
        'member-nx-key'])
def test_malformed_files_name_file_line_col(make_ws, files, where):
    base = {'nx.json': {}, 'package.json': {'name': 'root', 'workspaces': ['packages/*']},
            'packages/a/package.json': pkg('a', {'build': 'echo a'})}
    base.update(files)
    ws = make_ws(base)
    r = ws.run('show', 'projects')
    assert r.code == 2, r
    assert where in r.err, r


# --type: Nx's node type.  projectType "library" -> lib, another -> app (e2e for names e2e
# and *-e2e); none: tsconfig.lib.json -> lib, tsconfig.app.json -> app, a package.json
# without exports/main/module/bin -> app, anything else (no package.json) -> lib.
TYPES = {
    'nx.json': {},
    'package.json': {'name': 'root', 'private': True, 'workspaces': ['pkgs/*']},
    'libs/tl/project.json': {'name': 'tl', 'targets': {'build': {'command': 'true'}}},
    'libs/tl/tsconfig.lib.json': {},
    'apps/ta/project.json': {'name': 'ta', 'targets': {'lint': {'command': 'true'}}},
    'apps/ta/tsconfig.app.json': {},
    'apps/web-e2e/project.json': {'name': 'web-e2e', 'projectType': 'application',
                                  'targets': {'e2e': {'command': 'true'}}},
    'apps/e2e/project.json': {'name': 'e2e', 'projectType': 'application'},
    'libs/lib-e2e/project.json': {'name': 'lib-e2e', 'projectType': 'library',
                                  'targets': {'build': {'command': 'true'}}},
    'libs/bare/project.json': {'name': 'bare'},
    'pkgs/pm/package.json': pkg('pm', {'build': 'true'}, main='index.js'),
    'pkgs/pa/package.json': pkg('pa', {'build': 'true'}),
    'pkgs/pb/package.json': pkg('pb', {'lint': 'true'}, bin={'pb': 'x.js'}),
}


@pytest.mark.parametrize('args,want', [
    (['--type', 'lib'], ['bare', 'lib-e2e', 'pb', 'pm', 'tl']),
    (['--type=app'], ['pa', 'ta']),
    (['--type', 'e2e'], ['e2e', 'web-e2e']),
    (['--type', 'lib', '-p', 'p*'], ['pb', 'pm']),
    (['--type', 'lib', '--exclude', 'tl,bare'], ['lib-e2e', 'pb', 'pm']),
    (['--type', 'lib', '--with-target', 'build'], ['lib-e2e', 'pm', 'tl']),
    (['--type', 'app', '--with-target', 'build', '--with-target', 'lint'], ['pa', 'ta']),
    (['--type', 'e2e', '-p', 'tag:none'], []),
    (['--type', 'lib', '--affected', '--files', 'pkgs/pm/index.js,apps/ta/main.ts'], ['pm']),
    (['--type', 'app', '--affected', '--files', 'pkgs/pm/index.js,apps/ta/main.ts'], ['ta']),
], ids=['lib', 'app', 'e2e', 'with-p', 'with-exclude', 'with-target', 'with-targets',
        'nothing', 'affected-lib', 'affected-app'])
def test_show_projects_type(make_ws, args, want):
    ws = make_ws(TYPES)
    r = ws.run('show', 'projects', '--json', *args)
    assert r.code == 0, r
    assert sorted(json.loads(r.out)) == want
    r = ws.run('show', 'projects', *args)
    assert r.code == 0, r
    assert sorted(r.out.split()) == want


def test_show_projects_type_must_be_known(make_ws):
    ws = make_ws(TYPES)
    r = ws.run('show', 'projects', '--type', 'application')
    assert r.code == 2, r
    assert 'app, lib or e2e' in r.err
