"""bld run-many: project patterns, --exclude, target lists, option spellings, --parallel.

Selections below are what Nx 22.1.3 selects on the same workspace (nx-oracle), except
that bld's exit code for failed tasks is 1 (Nx's run-many says 130).
"""

import pytest

from conftest import log


def projects_ws(make_ws):
    def proj(name, tags, targets=('build', 'test')):
        return {'name': name, 'tags': tags,
                'targets': {t: {'command': log(f'{name}:{t}')} for t in targets}}
    return make_ws({
        'nx.json': {},
        'apps/web/project.json': proj('app-web', ['scope:web', 'type:app']),
        'apps/api/project.json': proj('app-api', ['scope:api', 'type:app']),
        'libs/util/project.json': proj('lib-util', ['type:lib']),
        'libs/ui/project.json': proj('lib-ui', ['type:lib', 'scope:web']),
        'tools/project.json': proj('tools', [], targets=('lint',)),
    })


ALL = ['app-api', 'app-web', 'lib-ui', 'lib-util']


def ran_projects(ws, target='build'):
    return sorted(l.split(':')[0] for l in ws.ran() if l.endswith(':' + target))


@pytest.mark.parametrize('args, expect', [
    ([], ALL),
    (['-p', 'app-web'], ['app-web']),
    (['-p', 'app-web', 'lib-ui'], ['app-web', 'lib-ui']),
    (['-p', 'app-web,lib-ui'], ['app-web', 'lib-ui']),
    (['-p', 'app-*'], ['app-api', 'app-web']),
    (['-p', 'app-*,lib-ui'], ['app-api', 'app-web', 'lib-ui']),
    (['-p', 'apps/*'], ['app-api', 'app-web']),              # globs over project roots
    (['-p', 'tag:type:lib'], ['lib-ui', 'lib-util']),
    (['-p', 'tag:scope:*'], ['app-api', 'app-web', 'lib-ui']),
    (['-p', '!app-web'], ['app-api', 'lib-ui', 'lib-util']),
    (['-p', 'app-*', '!app-api'], ['app-web']),
    (['--projects', 'lib-*'], ['lib-ui', 'lib-util']),
    (['--projects=lib-*'], ['lib-ui', 'lib-util']),
    (['-p=lib-*'], ['lib-ui', 'lib-util']),
    (['-p', 'app-*', '--exclude', 'app-api'], ['app-web']),
    (['-p', 'app-*', '--exclude=app-api'], ['app-web']),
    (['--exclude', 'lib-*'], ['app-api', 'app-web']),
    (['--exclude', 'app-*,lib-ui'], ['lib-util']),
    (['--exclude', 'app-web', 'lib-ui'], ['app-api', 'lib-util']),
    (['-p', '*', '--exclude', 'tag:scope:web'], ['app-api', 'lib-util']),
])
def test_project_patterns_and_exclude(make_ws, args, expect):
    ws = projects_ws(make_ws)
    r = ws.run('run-many', '-t', 'build', *args)
    assert r.code == 0, r
    assert ran_projects(ws) == expect, r
    assert not [l for l in ws.ran() if not l.endswith(':build')], 'only build tasks run'


@pytest.mark.parametrize('targets', [
    ['-t', 'build,test'],
    ['-t', 'build', 'test'],
    ['--targets', 'build,test'],
    ['--targets=build,test'],
    ['-t=build,test'],
    ['--target', 'build', 'test'],
])
def test_target_list_forms(make_ws, targets):
    ws = projects_ws(make_ws)
    r = ws.run('run-many', *targets, '-p', 'app-web', 'lib-ui')
    assert r.code == 0, r
    assert sorted(ws.ran()) == ['app-web:build', 'app-web:test', 'lib-ui:build', 'lib-ui:test']


def test_projects_without_the_target_are_skipped(make_ws):
    ws = projects_ws(make_ws)
    r = ws.run('run-many', '-t', 'lint')
    assert r.code == 0, r
    assert ws.ran() == ['tools:lint']


def test_dependencies_outside_the_selection_still_run_first(make_ws):
    ws = make_ws({
        'nx.json': {'targetDefaults': {'build': {'dependsOn': ['^build']}}},
        'a/project.json': {'name': 'a', 'implicitDependencies': ['b'],
                           'targets': {'build': {'command': log('a')}}},
        'b/project.json': {'name': 'b', 'targets': {'build': {'command': log('b')}}},
        'c/project.json': {'name': 'c', 'targets': {'build': {'command': log('c')}}},
    })
    r = ws.run('run-many', '-t', 'build', '-p', 'a')
    assert r.code == 0, r
    assert ws.ran() == ['b', 'a']


def timed(name):
    return f"{log(name + ' start')}; sleep 1; {log(name + ' end')}"


def concurrency(lines):
    cur = peak = 0
    for l in lines:
        cur += 1 if l.endswith(' start') else -1
        peak = max(peak, cur)
    return peak


def parallel_ws(make_ws):
    return make_ws({
        'nx.json': {},
        **{f'p{i}/project.json': {'name': f'p{i}', 'targets': {'build': {'command': timed(f'p{i}')}}}
           for i in range(3)},
    })


@pytest.mark.parametrize('spelling', [['--parallel', '1'], ['--parallel=1']])
def test_parallel_one_runs_one_at_a_time(make_ws, spelling):
    ws = parallel_ws(make_ws)
    r = ws.run('run-many', '-t', 'build', *spelling)
    assert r.code == 0, r
    assert len(ws.ran()) == 6
    assert concurrency(ws.ran()) == 1, ws.ran()


def test_parallel_env_default(make_ws):
    ws = parallel_ws(make_ws)
    r = ws.run('run-many', '-t', 'build', env={'BLD_PARALLEL': '1'})
    assert r.code == 0, r
    assert concurrency(ws.ran()) == 1, ws.ran()


def test_parallel_three_overlaps(make_ws):
    ws = parallel_ws(make_ws)
    r = ws.run('run-many', '-t', 'build', '--parallel', '3')
    assert r.code == 0, r
    assert len(ws.ran()) == 6
    assert concurrency(ws.ran()) >= 2, ws.ran()


def test_parallel_false_and_bare_parallel_as_in_nx(make_ws):
    # Nx: --parallel=false runs one task at a time; a bare --parallel (or =true) is the
    # default width (Nx: 3; bld: the number of cores, CLI.md).
    ws = parallel_ws(make_ws)
    r = ws.run('run-many', '-t', 'build', '--parallel=false')
    assert r.code == 0, r
    assert concurrency(ws.ran()) == 1, ws.ran()
    for flag in ('--parallel', '--parallel=true'):
        ws.clear_log()
        r = ws.run('run-many', '-t', 'build', flag)
        assert r.code == 0, r
        assert len(ws.ran()) == 6


def test_parallel_flag_beats_the_environment(make_ws):
    ws = parallel_ws(make_ws)
    r = ws.run('run-many', '-t', 'build', '--parallel', '3', env={'BLD_PARALLEL': '1'})
    assert r.code == 0, r
    assert concurrency(ws.ran()) >= 2, ws.ran()
