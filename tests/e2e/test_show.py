"""bld show projects|project|tasks, bld graph --file, bld list, --version, help.

Shapes follow Nx 22.1.3 (nx-oracle): `show projects --json` is an array of names,
`show project --json` the resolved project with targetDefaults merged (an executor-keyed
default wins over a name-keyed one), `graph --file x.json` is {"graph": {"nodes", "dependencies"}}.
"""

import json
import os
import re

import pytest

from conftest import log


def show_ws(make_ws):
    return make_ws({
        'nx.json': {'targetDefaults': {
            'build': {'dependsOn': ['^build'], 'cache': True, 'inputs': ['default', '^default'],
                      'options': {'a': 1, 'b': 2}},
            'lint': {'cache': True},
            '@nxlv/python:run-commands': {'options': {'cwd': '{projectRoot}'}},
        }},
        'apps/web/project.json': {'name': 'app-web', 'tags': ['scope:web'],
                                  'implicitDependencies': ['x'],
                                  'targets': {'build': {'command': log('web')},
                                              'serve': {'command': 'true'}}},
        'libs/x/project.json': {'name': 'x', 'tags': ['t1'], 'targets': {
            'build': {'executor': 'nx:run-commands', 'options': {'command': 'echo x', 'b': 3}},
            'lint': {'command': 'echo lint', 'cache': False}}},
        'libs/py/project.json': {'name': 'py', 'targets': {'build': {
            'executor': '@nxlv/python:run-commands', 'options': {'command': 'echo py'}}}},
        'libs/noname/project.json': {'targets': {'test': {'executor': 'nx:noop'}}},
        'node_modules/dep/project.json': {'name': 'not-a-project'},
        'dist/out/project.json': {'name': 'not-a-project-either'},
        'ignored/project.json': {'name': 'gitignored'},
        'nxignored/project.json': {'name': 'nxignored'},
        '.gitignore': 'ignored/\n',
        '.nxignore': 'nxignored\n',
    })


ALL = ['app-web', 'noname', 'py', 'x']


def test_show_projects_plain(make_ws):
    ws = show_ws(make_ws)
    r = ws.run('show', 'projects')
    assert r.code == 0, r
    assert sorted(r.out.split()) == ALL, r
    assert ws.ran() == []


def test_show_projects_json(make_ws):
    ws = show_ws(make_ws)
    r = ws.run('show', 'projects', '--json')
    assert r.code == 0, r
    assert sorted(json.loads(r.out)) == ALL


@pytest.mark.parametrize('args, expect', [
    (['-p', 'app-*'], ['app-web']),
    (['-p', 'tag:t1'], ['x']),
    (['-p', 'libs/*'], ['noname', 'py', 'x']),
    (['--with-target', 'build'], ['app-web', 'py', 'x']),
    (['--with-target=lint'], ['x']),
    (['--with-target', 'build', '-p', 'libs/*'], ['py', 'x']),
    # --exclude takes the same patterns as -p, as in Nx 22.1.3 (nx-oracle)
    (['--exclude', 'x'], ['app-web', 'noname', 'py']),
    (['--exclude', 'tag:t1,py'], ['app-web', 'noname']),
    (['--exclude=app-*'], ['noname', 'py', 'x']),
    (['-p', 'libs/*', '--exclude', 'x'], ['noname', 'py']),
    (['--exclude', '*'], []),
    (['--exclude', 'nosuch'], ALL),
])
def test_show_projects_filters(make_ws, args, expect):
    ws = show_ws(make_ws)
    r = ws.run('show', 'projects', *args)
    assert r.code == 0, r
    assert sorted(r.out.split()) == expect, r
    r = ws.run('show', 'projects', *args, '--json')
    assert r.code == 0, r
    assert sorted(json.loads(r.out)) == expect, r


def test_show_project_json_merges_target_defaults(make_ws):
    ws = show_ws(make_ws)
    r = ws.run('show', 'project', 'x', '--json')
    assert r.code == 0, r
    p = json.loads(r.out)
    assert p['name'] == 'x' and p['root'] == 'libs/x' and p['tags'] == ['t1']
    b = p['targets']['build']
    assert b['executor'] == 'nx:run-commands'
    assert b['options']['command'] == 'echo x'
    assert b['options']['b'] == 3 and b['options']['a'] == 1, 'project options win per key'
    assert b['dependsOn'] == ['^build']
    assert b['cache'] is True
    assert b['inputs'] == ['default', '^default']
    lint = p['targets']['lint']
    assert lint['executor'] == 'nx:run-commands', 'the command shorthand'
    assert lint['options']['command'] == 'echo lint'
    assert lint['cache'] is False, 'the project overrides targetDefaults'


def test_show_project_executor_keyed_default_wins(make_ws):
    ws = show_ws(make_ws)
    r = ws.run('show', 'project', 'py', '--json')
    assert r.code == 0, r
    b = json.loads(r.out)['targets']['build']
    assert b['executor'] == '@nxlv/python:run-commands'
    assert b['options']['command'] == 'echo py'
    assert b['options']['cwd'] == 'libs/py', 'executor-keyed default, {projectRoot} expanded'
    assert 'dependsOn' not in b or b['dependsOn'] == [], 'Nx applies one default: the executor-keyed'


def test_show_project_name_from_path(make_ws):
    ws = show_ws(make_ws)
    r = ws.run('show', 'project', 'noname', '--json')
    assert r.code == 0, r
    p = json.loads(r.out)
    assert p['name'] == 'noname' and p['root'] == 'libs/noname'
    assert p['targets']['test']['executor'] == 'nx:noop'


def test_show_project_plain_and_unknown(make_ws):
    ws = show_ws(make_ws)
    r = ws.run('show', 'project', 'x')
    assert r.code == 0, r
    assert 'build' in r.out and 'lint' in r.out
    r = ws.run('show', 'project', 'xx')
    assert r.code == 2, r
    assert re.search(r'did you mean', r.both, re.I), r


def test_show_tasks_lists_the_graph(make_ws):
    ws = show_ws(make_ws)
    r = ws.run('show', 'tasks', '-t', 'build', '-p', 'app-web')
    assert r.code == 0, r
    assert 'app-web:build' in r.out and 'x:build' in r.out, r
    assert 'py:build' not in r.out
    assert ws.ran() == [], 'show runs nothing'
    r = ws.run('show', 'tasks', '-t', 'build', '-p', 'app-web', '--json')
    assert r.code == 0, r
    text = json.dumps(json.loads(r.out))
    assert 'app-web:build' in text and 'x:build' in text


def graph_json(ws, path):
    r = ws.run('graph', '--file', path)
    assert r.code == 0, r
    return json.loads(path.read_text())


def test_graph_file_json(make_ws):
    ws = show_ws(make_ws)
    g = graph_json(ws, ws.side / 'g.json')['graph']
    assert sorted(g['nodes']) == ALL
    assert g['nodes']['x']['data']['root'] == 'libs/x'
    deps = g['dependencies']
    assert [d['target'] for d in deps['app-web']] == ['x']
    assert deps['app-web'][0]['source'] == 'app-web'
    assert deps['x'] == []


def test_graph_file_json_relative_path_and_equals(make_ws):
    ws = show_ws(make_ws)
    r = ws.run('graph', '--file=out/graph.json', cwd=ws.root / 'libs')
    assert r.code == 0, r
    assert (ws.root / 'libs' / 'out' / 'graph.json').exists(), 'relative to the working directory'


def test_graph_file_dot(make_ws):
    ws = show_ws(make_ws)
    out = ws.side / 'g.dot'
    r = ws.run('graph', '--file', out)
    assert r.code == 0, r
    dot = out.read_text()
    assert re.match(r'\s*(strict\s+)?digraph\b', dot), dot[:200]
    assert re.search(r'"?app-web"?\s*->\s*"?x"?', dot), dot
    for name in ALL:
        assert name in dot


def test_graph_file_html_self_contained(make_ws):
    ws = show_ws(make_ws)
    out = ws.side / 'g.html'
    r = ws.run('graph', '--file', out)
    assert r.code == 0, r
    html = out.read_text()
    assert re.search(r'<html', html, re.I)
    for name in ALL:
        assert name in html
    assert not re.search(r'(src|href)\s*=\s*["\']?\s*(https?:)?//', html, re.I), 'no network'
    assert not re.search(r'url\(\s*["\']?\s*(https?:)?//', html, re.I), 'no network'
    assert not re.search(r'@import|fetch\(|XMLHttpRequest|import\s*\(', html), 'no network'
    assert not re.search(r'<(script|link|img)[^>]*\s(src|href)\s*=\s*["\']?(?!data:|#)', html, re.I), \
        'no separate files either'
    assert sorted(os.listdir(ws.side)) == sorted(['g.html', 'ran.log']), 'nothing beside it'


def test_graph_file_unknown_extension_exit_2(make_ws):
    ws = show_ws(make_ws)
    r = ws.run('graph', '--file', ws.side / 'g.png')
    assert r.code == 2, r


def test_list_names_executors(make_ws):
    ws = show_ws(make_ws)
    r = ws.run('list')
    assert r.code == 0, r
    for ex in ('nx:run-commands', 'nx:noop', '@nxlv/python:run-commands'):
        assert ex in r.out, r


def test_version(make_ws):
    ws = show_ws(make_ws)
    r = ws.run('--version')
    assert r.code == 0, r
    meson = open(os.path.join(os.environ.get('BLD_SOURCE_ROOT', '.'), 'meson.build')).read()
    version = re.search(r"version\s*:\s*'([^']+)'", meson).group(1)
    assert version in r.out, r


def test_version_works_outside_a_workspace(make_ws, tmp_path):
    ws = show_ws(make_ws)
    r = ws.run('--version', cwd=tmp_path)
    assert r.code == 0, r


@pytest.mark.parametrize('args', [['help'], ['--help'], ['-h']])
def test_help_lists_commands(make_ws, tmp_path, args):
    ws = show_ws(make_ws)
    r = ws.run(*args, cwd=tmp_path)
    assert r.code == 0, r
    for cmd in ('run', 'run-many', 'show', 'graph', 'list'):
        assert re.search(rf'\b{cmd}\b', r.out), (cmd, r)


@pytest.mark.parametrize('args', [['help', 'run'], ['run', '--help'], ['help', 'run-many'],
                                  ['run-many', '--help']])
def test_help_for_a_command(make_ws, args):
    ws = show_ws(make_ws)
    r = ws.run(*args)
    assert r.code == 0, r
    assert '--parallel' in r.out, r
    assert ws.ran() == []


@pytest.mark.parametrize('git', [True, False])
def test_ignore_rules_nested_gitignore_and_nxignore(make_ws, git):
    # Nx 22.1.3, with or without a git repository: nested .gitignore files apply, a
    # negation cannot re-include below an excluded folder (git's rule), .nxignore globs.
    def proj(name):
        return {'name': name, 'targets': {'build': {'command': 'true'}}}
    ws = make_ws({
        'nx.json': {},
        'libs/keep/project.json': proj('libs-keep'),
        'libs/generated/x/project.json': proj('libs-generated-x'),
        'libs/generated/y/project.json': proj('libs-generated-y'),
        'libs/.gitignore': 'generated/\n!generated/y\n',
        'ign/project.json': proj('ign'),
        '.gitignore': 'ign\n',
        'top/nested/deep/project.json': proj('top-nested-deep'),
        'top/other/project.json': proj('top-other'),
        '.nxignore': 'top/**/deep\n',
    }, git=git)
    r = ws.run('show', 'projects')
    assert r.code == 0, r
    assert sorted(r.out.split()) == ['libs-keep', 'top-other'], r
