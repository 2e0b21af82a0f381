"""Harder cases for the runner: large and binary output, tasks killed by a signal,
--parallel as an upper bound, and a larger DAG where every task runs exactly once,
after all of its dependencies.
"""

import json
import random
import re

import pytest

from conftest import log


def test_large_output_is_complete(make_ws):
    ws = make_ws({
        'nx.json': {},
        'a/project.json': {'name': 'a', 'targets': {'build': {
            'command': f"seq 1 200000; {log('done')}"}}},
    })
    r = ws.run('run', 'a:build')
    assert r.code == 0, r.code
    nums = [l for l in r.out.splitlines() if re.fullmatch(r'\d+', l.strip())]
    assert len(nums) == 200000, len(nums)
    assert nums[0].strip() == '1' and nums[-1].strip() == '200000'
    assert ws.ran() == ['done']


def test_output_bytes_are_carried_exactly(make_ws):
    # Not UTF-8, a NUL, a carriage return: the protocol carries task output byte-exact.
    ws = make_ws({
        'nx.json': {},
        'a/project.json': {'name': 'a', 'targets': {'build': {
            'command': "printf 'start\\377\\376\\000mid\\rend\\n'"}}},
    })
    r = ws.run('run', 'a:build')
    assert r.code == 0, r
    assert b'start\xff\xfe\x00mid\rend\n' in r.raw_out, r.raw_out


def test_task_killed_by_a_signal_fails_and_stops_dependents(make_ws):
    ws = make_ws({
        'nx.json': {'targetDefaults': {'build': {'dependsOn': ['^build']}}},
        'lib/project.json': {'name': 'lib', 'targets': {'build': {
            'command': f"{log('lib')}; kill -9 $$"}}},
        'app/project.json': {'name': 'app', 'implicitDependencies': ['lib'],
                             'targets': {'build': {'command': log('app')}}},
    })
    r = ws.run('run', 'app:build')
    assert r.code == 1, r
    assert ws.ran() == ['lib']


def test_task_exit_codes_other_than_1_still_give_1(make_ws):
    ws = make_ws({
        'nx.json': {},
        'a/project.json': {'name': 'a', 'targets': {'build': {'command': 'exit 42'}}},
    })
    r = ws.run('run', 'a:build')
    assert r.code == 1, r


def timed(name):
    return f"{log(name + ' start')}; sleep 0.4; {log(name + ' end')}"


def concurrency(lines):
    cur = peak = 0
    for l in lines:
        cur += 1 if l.endswith(' start') else -1
        peak = max(peak, cur)
    return peak


def test_parallel_is_an_upper_bound(make_ws):
    ws = make_ws({
        'nx.json': {},
        **{f'p{i}/project.json': {'name': f'p{i}', 'targets': {'build': {'command': timed(f'p{i}')}}}
           for i in range(6)},
    })
    r = ws.run('run-many', '-t', 'build', '--parallel', '2')
    assert r.code == 0, r
    assert len(ws.ran()) == 12
    assert concurrency(ws.ran()) == 2, ws.ran()


def dag(n, seed):
    """Deterministic DAG: each project depends on 0-3 earlier ones."""
    rnd = random.Random(seed)
    return {i: sorted(rnd.sample(range(i), min(i, rnd.randint(0, 3)))) for i in range(n)}


@pytest.mark.parametrize('parallel', ['1', '4'])
def test_larger_dag_runs_each_task_once_after_its_dependencies(make_ws, parallel):
    n = 60
    deps = dag(n, 7)
    files = {'nx.json': {'targetDefaults': {'build': {'dependsOn': ['^build']}}}}
    for i, ds in deps.items():
        files[f'packages/p{i:02d}/project.json'] = {
            'name': f'p{i:02d}', 'implicitDependencies': [f'p{d:02d}' for d in ds],
            'targets': {'build': {'command': f"{log(f'p{i:02d} start')}; {log(f'p{i:02d} end')}"}}}
    ws = make_ws(files)
    r = ws.run('run-many', '-t', 'build', '--parallel', parallel)
    assert r.code == 0, r
    ran = ws.ran()
    assert len(ran) == 2 * n, ran
    pos = {l: i for i, l in enumerate(ran)}
    assert len(pos) == 2 * n, 'each task ran exactly once'
    for i, ds in deps.items():
        for d in ds:
            assert pos[f'p{d:02d} end'] < pos[f'p{i:02d} start'], (d, i)
    # The last project's chain alone: run p59 and only its transitive dependencies run.
    ws.clear_log()
    r = ws.run('run', f'p{n - 1:02d}:build')
    assert r.code == 0, r
    want, todo = set(), [n - 1]
    while todo:
        x = todo.pop()
        if x not in want:
            want.add(x)
            todo.extend(deps[x])
    assert sorted(l.split()[0] for l in ws.ran() if l.endswith('end')) == sorted(f'p{x:02d}' for x in want)


def test_two_clients_at_once_in_one_workspace(make_ws):
    # Two terminals: both requests are served and both succeed (cacheable and not).
    files = {'nx.json': {'targetDefaults': {'build': {'dependsOn': ['^build'], 'cache': True,
                                                      'outputs': ['{workspaceRoot}/dist/{projectRoot}']}}}}
    for i in range(8):
        files[f'p{i}/project.json'] = {
            'name': f'p{i}', 'implicitDependencies': [f'p{i - 1}'] if i else [],
            'targets': {
                'build': {'command': f'mkdir -p dist/p{i} && echo {i} > dist/p{i}/out.txt && sleep 0.1'},
                'lint': {'command': f"{log(f'p{i}:lint')}; sleep 0.1"}}}
    ws = make_ws(files)
    a = ws.spawn('run-many', '-t', 'build', 'lint')
    b = ws.spawn('run-many', '-t', 'build', 'lint')
    oa, ea = a.communicate(timeout=120)
    ob, eb = b.communicate(timeout=120)
    assert a.returncode == 0, (oa, ea)
    assert b.returncode == 0, (ob, eb)
    assert sorted(ws.ran()) == sorted(f'p{i}:lint' for i in range(8) for _ in range(2))
    for i in range(8):
        assert (ws.root / f'dist/p{i}/out.txt').read_text() == f'{i}\n'


def test_workspace_path_with_spaces_and_unicode(make_ws):
    ws = make_ws({
        'nx.json': {'targetDefaults': {'build': {'dependsOn': ['^build']}}},
        'my libs/b/project.json': {'name': 'b', 'targets': {'build': {
            'command': log('b'), 'outputs': ['{projectRoot}/out']}}},
        'apps/a/project.json': {'name': 'a', 'implicitDependencies': ['b'], 'targets': {
            'build': {'executor': 'nx:run-commands',
                      'options': {'command': 'pwd >> "$LOGFILE"', 'cwd': '{projectRoot}',
                                  'env': {'LOGFILE': '@LOG@'}}}}},
        'bad dir/project.json': '{\n  "name": "c"\n  "targets": {}\n}\n',
    }, folder='the wörk space')
    r = ws.run('run', 'a:build')
    assert r.code == 2, r
    assert 'bad dir/project.json:3:3' in r.both, r
    (ws.root / 'bad dir/project.json').unlink()
    r = ws.run('run', 'a:build', cwd=ws.root / 'my libs')
    assert r.code == 0, r
    assert ws.ran() == ['b', str((ws.root / 'apps/a').resolve())]
    r = ws.run('show', 'project', 'b', '--json')
    assert r.code == 0, r
    assert json.loads(r.out)['root'] == 'my libs/b'
    out = ws.side / 'graph é.json'
    r = ws.run('graph', '--file', out)
    assert r.code == 0, r
    assert sorted(json.loads(out.read_text())['graph']['nodes']) == ['a', 'b']
