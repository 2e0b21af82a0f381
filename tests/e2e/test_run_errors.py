"""Requests bld cannot serve exit 2 with a clear message, and run nothing:
cycles, malformed JSON, unknown projects and targets, unsupported executors, bad usage.

Nx 22.1.3 (nx-oracle) prints the same cycle (`x:build --> a:build --> b:build --> a:build`)
and the same line:column for JSON errors, but exits 1; bld exits 2 as CLI.md says.
Nx has no "did you mean"; bld adds it.
"""

import re

import pytest

from conftest import log


def cycle_re(*tasks):
    """Regex matching the cycle tasks[0] -> ... -> tasks[0], any rotation, '->' or '-->'."""
    alts = []
    n = len(tasks)
    for i in range(n):
        rot = tasks[i:] + tasks[:i] + (tasks[i],)
        alts.append(r'\s*-{1,2}>\s*'.join(re.escape(t) for t in rot))
    return re.compile('|'.join(alts))


def cycle_ws(make_ws):
    return make_ws({
        'nx.json': {'targetDefaults': {'build': {'dependsOn': ['^build']}}},
        'x/project.json': {'name': 'x', 'implicitDependencies': ['a'],
                           'targets': {'build': {'command': log('x')}, 'test': {'command': log('x:test')}}},
        'a/project.json': {'name': 'a', 'implicitDependencies': ['b'],
                           'targets': {'build': {'command': log('a')}, 'test': {'command': log('a:test')}}},
        'b/project.json': {'name': 'b', 'implicitDependencies': ['c'],
                           'targets': {'build': {'command': log('b')}}},
        'c/project.json': {'name': 'c', 'implicitDependencies': ['a'],
                           'targets': {'build': {'command': log('c')}}},
        's/project.json': {'name': 's', 'targets': {
            'build': {'command': log('s:build'), 'dependsOn': ['test']},
            'test': {'command': log('s:test'), 'dependsOn': ['build']}}},
    })


CYCLE_MSG = 'Could not execute command because the task graph has a circular dependency'


def test_cycle_exit_2_prints_whole_cycle(make_ws):
    ws = cycle_ws(make_ws)
    r = ws.run('run', 'a:build')
    assert r.code == 2, r
    # Nx 22.1.3's words (nx-oracle), then the cycle on its own line
    assert CYCLE_MSG in r.err, r
    assert re.search(r'\n\s*a:build --> b:build --> c:build --> a:build', r.err), r
    assert cycle_re('a:build', 'b:build', 'c:build').search(r.both), r
    assert ws.ran() == []


def test_cycle_below_the_requested_task(make_ws):
    ws = cycle_ws(make_ws)
    r = ws.run('run', 'x:build')
    assert r.code == 2, r
    assert cycle_re('a:build', 'b:build', 'c:build').search(r.both), r
    assert ws.ran() == []


def test_cycle_within_one_project(make_ws):
    ws = cycle_ws(make_ws)
    r = ws.run('run', 's:build')
    assert r.code == 2, r
    assert cycle_re('s:build', 's:test').search(r.both), r
    assert ws.ran() == []


def test_cycle_in_run_many(make_ws):
    ws = cycle_ws(make_ws)
    r = ws.run('run-many', '-t', 'build')
    assert r.code == 2, r
    assert CYCLE_MSG in r.err, r
    assert 'b:build' in r.both and 'c:build' in r.both, r
    assert ws.ran() == []


def test_project_cycle_without_task_cycle_runs(make_ws):
    # As in Nx: projects may depend on each other in a circle when no task does.
    ws = cycle_ws(make_ws)
    r = ws.run('run', 'a:test')
    assert r.code == 0, r
    assert ws.ran() == ['a:test']


BAD_PROJECT = '{\n  "name": "bad"\n  "targets": {}\n}\n'   # comma expected at 3:3


def test_malformed_project_json_names_file_line_col(make_ws):
    ws = make_ws({
        'nx.json': {},
        'good/project.json': {'name': 'good', 'targets': {'build': {'command': log('good')}}},
        'libs/bad/project.json': BAD_PROJECT,
    })
    r = ws.run('run', 'good:build')
    assert r.code == 2, r
    assert re.search(r'libs/bad/project\.json:3:3\b', r.both), r
    assert ws.ran() == []


def test_malformed_nx_json_names_file_line_col(make_ws):
    ws = make_ws({
        'nx.json': '{\n  "targetDefaults": {\n    "build": { "cache": true ]\n  }\n}\n',
        'good/project.json': {'name': 'good', 'targets': {'build': {'command': log('good')}}},
    })
    r = ws.run('show', 'projects')
    assert r.code == 2, r
    assert re.search(r'nx\.json:3:30\b', r.both), r


def test_malformed_json_reported_by_show_too(make_ws):
    ws = make_ws({'nx.json': {}, 'bad/project.json': BAD_PROJECT})
    r = ws.run('show', 'projects')
    assert r.code == 2, r
    assert re.search(r'bad/project\.json:3:3\b', r.both), r


@pytest.mark.parametrize('line3, col', [
    ('  "targets": {,}', 15),
    ('  "tags": [,]', 12),
    ('  "tags": ["a",,"b"]', 16),
])
def test_a_comma_without_a_value_is_malformed_like_nx(make_ws, line3, col):
    # Trailing commas are fine (below), a comma with no value before it is not:
    # Nx 22.1.3 says "ValueExpected" at the comma's line:column.
    ws = make_ws({'nx.json': {}, 'c/project.json': '{\n  "name": "c",\n' + line3 + '\n}\n'})
    r = ws.run('show', 'projects')
    assert r.code == 2, r
    assert re.search(rf'c/project\.json:3:{col}\b', r.both), r


def test_comments_and_trailing_commas_are_accepted_like_nx(make_ws):
    # Nx reads project.json and nx.json as JSON with comments and trailing commas.
    ws = make_ws({
        'nx.json': '{\n  // defaults\n  "targetDefaults": {},\n}\n',
        'a/project.json': '{\n  /* the app */\n  "name": "a",\n  "targets": {\n'
                          '    "build": { "command": "echo a >> @LOG@", },\n  },\n}\n',
    })
    r = ws.run('run', 'a:build')
    assert r.code == 0, r
    assert ws.ran() == ['a']


def names_ws(make_ws):
    return make_ws({
        'nx.json': {},
        'app/project.json': {'name': 'app', 'targets': {'build': {'command': log('app')},
                                                        'serve': {'command': log('serve')}}},
        'lib/project.json': {'name': 'lib', 'targets': {'build': {'command': log('lib')}}},
    })


@pytest.mark.parametrize('args, wanted', [
    (['run', 'apx:build'], 'app'),
    (['run', 'app:buidl'], 'build'),
    (['buidl', 'app'], 'build'),
    (['build', 'apx'], 'app'),
])
def test_unknown_project_or_target_did_you_mean(make_ws, args, wanted):
    ws = names_ws(make_ws)
    r = ws.run(*args)
    assert r.code == 2, r
    assert re.search(r'did you mean', r.both, re.I), r
    assert re.search(rf'\b{wanted}\b', r.both.split('id you mean', 1)[-1]), r
    assert ws.ran() == []


def test_unknown_project_in_run_many_p(make_ws):
    ws = names_ws(make_ws)
    r = ws.run('run-many', '-t', 'build', '-p', 'lbi')
    # Nx 22 says "No tasks were run" and exits 0; bld names the pattern.
    assert 'lbi' in r.both, r
    assert ws.ran() == []


UNSUPPORTED = '@nx/webpack:webpack'


def exec_ws(make_ws):
    return make_ws({
        'nx.json': {'targetDefaults': {'build': {'dependsOn': ['^build']}}},
        'web/project.json': {'name': 'web', 'targets': {
            'pack': {'executor': UNSUPPORTED, 'options': {'outputPath': 'dist/web'}},
            'build': {'executor': UNSUPPORTED, 'options': {}}}},
        'app/project.json': {'name': 'app', 'implicitDependencies': ['web', 'ok'],
                             'targets': {'build': {'command': log('app')}}},
        'ok/project.json': {'name': 'ok', 'targets': {'build': {'command': log('ok')}}},
        'py/project.json': {'name': 'py', 'targets': {'build': {
            'executor': '@nxlv/python:run-commands', 'options': {'command': log('py')}}}},
    })


def test_unsupported_executor_is_named_with_supported_list(make_ws):
    ws = exec_ws(make_ws)
    r = ws.run('run', 'web:pack')
    assert r.code == 2, r
    assert UNSUPPORTED in r.both, r
    assert 'nx:run-commands' in r.both and 'nx:noop' in r.both, r
    assert ws.ran() == []


def test_unsupported_executor_in_a_dependency_runs_nothing(make_ws):
    ws = exec_ws(make_ws)
    r = ws.run('run', 'app:build')
    assert r.code == 2, r
    assert UNSUPPORTED in r.both and 'web:build' in r.both, r
    assert ws.ran() == []


def test_nxlv_python_run_commands_is_supported(make_ws):
    ws = exec_ws(make_ws)
    r = ws.run('run', 'py:build')
    assert r.code == 0, r
    assert ws.ran() == ['py']


@pytest.mark.parametrize('args', [
    ['frobnicate'],
    ['run'],
    ['run-many'],
    ['run', 'app:build', '--parallel', 'lots'],
    ['run-many', '-p', 'app'],
])
def test_usage_errors_exit_2(make_ws, args):
    ws = names_ws(make_ws)
    r = ws.run(*args)
    assert r.code == 2, r
    assert r.err.strip(), 'a usage error says something on stderr'
    assert ws.ran() == []


def test_no_workspace_exit_2(make_ws, tmp_path):
    ws = names_ws(make_ws)
    outside = tmp_path / 'nowhere'
    outside.mkdir()
    r = ws.run('run', 'app:build', cwd=outside)
    assert r.code == 2, r
    assert 'nx.json' in r.both, r
