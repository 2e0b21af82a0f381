"""Failing tasks: dependents never run, independent work goes on, exit 1; --nx-bail.

Checked against Nx 22.1.3 (nx-oracle): same tasks run and are skipped.  Nx's exit code
for `run-many` with a failed task is 130 (and 1 for `nx run`); bld exits 1 for both,
as CLI.md says.
"""

import pytest

from conftest import log


def failing_ws(make_ws):
    # lib fails; app depends on lib, top on app; other and more are independent.
    return make_ws({
        'nx.json': {'targetDefaults': {'build': {'dependsOn': ['^build']}}},
        'lib/project.json': {'name': 'lib', 'targets': {'build': {
            'command': f"{log('lib')}; echo lib-broke-marker >&2; exit 3"}}},
        'app/project.json': {'name': 'app', 'implicitDependencies': ['lib'],
                             'targets': {'build': {'command': log('app')}}},
        'top/project.json': {'name': 'top', 'implicitDependencies': ['app'],
                             'targets': {'build': {'command': log('top')}}},
        'other/project.json': {'name': 'other', 'targets': {'build': {
            'command': f"sleep 0.5; {log('other')}"}}},
        'more/project.json': {'name': 'more', 'targets': {'build': {'command': log('more')}}},
    })


@pytest.mark.parametrize('parallel', ['1', '3'])
def test_failure_stops_dependents_but_not_independent_tasks(make_ws, parallel):
    ws = failing_ws(make_ws)
    r = ws.run('run-many', '-t', 'build', '--parallel', parallel)
    assert r.code == 1, r
    assert sorted(ws.ran()) == ['lib', 'more', 'other'], r
    assert 'lib-broke-marker' in r.both, 'the failed task output is shown'


def test_failed_dependency_of_run_gives_exit_1(make_ws):
    ws = failing_ws(make_ws)
    r = ws.run('run', 'top:build')
    assert r.code == 1, r
    assert ws.ran() == ['lib']
    assert 'lib-broke-marker' in r.both


def test_failing_single_task_exit_1(make_ws):
    ws = failing_ws(make_ws)
    r = ws.run('run', 'lib:build')
    assert r.code == 1, r
    assert ws.ran() == ['lib']


def test_nx_bail_starts_nothing_after_the_first_failure(make_ws):
    ws = failing_ws(make_ws)
    r = ws.run('run-many', '-t', 'build', '--parallel', '1', '--nx-bail')
    assert r.code == 1, r
    ran = ws.ran()
    assert 'lib' in ran, r
    assert ran[-1] == 'lib', f'tasks started after the failure: {ran}'
    assert 'app' not in ran and 'top' not in ran


def test_nx_bail_equals_form(make_ws):
    ws = failing_ws(make_ws)
    r = ws.run('run-many', '-t', 'build', '--parallel=1', '--nx-bail=true')
    assert r.code == 1, r
    assert ws.ran()[-1] == 'lib', ws.ran()


def test_longest_path_first_with_one_slot(make_ws):
    # DESIGN.md: ready tasks start by the length of their longest remaining path,
    # so with one slot lib (two dependents above it) goes before other and more.
    ws = failing_ws(make_ws)
    r = ws.run('run-many', '-t', 'build', '--parallel', '1', '--nx-bail')
    assert r.code == 1, r
    assert ws.ran() == ['lib'], r


def test_a_successful_run_after_fixing_exits_0(make_ws):
    ws = failing_ws(make_ws)
    ws.write('lib/project.json', {'name': 'lib', 'targets': {'build': {'command': log('lib')}}})
    r = ws.run('run', 'top:build')
    assert r.code == 0, r
    assert ws.ran() == ['lib', 'app', 'top']
