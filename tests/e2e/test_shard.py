"""--shard i/n (docs/ci.md): a deterministic split of the task graph across n machines.

On a generated 200-project workspace (bench/genws.py): for n = 1..5 the shards' own tasks
are disjoint and together exactly the unsharded task set, by task count and again once the
cache has recorded durations; each shard, run alone in its own clone against one shared
cache, succeeds; afterwards the whole graph restores from that cache.
"""

import json
import os
import pathlib
import subprocess
import time

import pytest

from conftest import BLD, clean_env, log

GENWS = pathlib.Path(__file__).resolve().parents[2] / 'bench' / 'genws.py'


@pytest.fixture(scope='module')
def ws200(tmp_path_factory):
    base = tmp_path_factory.mktemp('shard')
    root = base / 'ws'
    subprocess.run(['/usr/bin/python3', str(GENWS), '--projects', '200', '--out', str(root)],
                   check=True, stdout=subprocess.DEVNULL, env=clean_env(base))
    yield base, root
    stop_daemon(base, root)


def stop_daemon(base, folder):
    """The e2e-daemon pass starts a resident daemon per folder: stop it (else a no-op)."""
    subprocess.run([BLD, 'daemon', 'stop'], cwd=str(folder), env=clean_env(base / 'home'),
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=30)


def bld(base, cwd, *args, cache):
    env = clean_env(base / 'home', {'BLD_CACHE_DIR': str(cache)})
    p = subprocess.run([BLD, *args], cwd=str(cwd), env=env, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, text=True, timeout=300)
    return p


def tasks(base, root, cache, *extra):
    p = bld(base, root, 'show', 'tasks', '-t', 'build', '--json', *extra, cache=cache)
    assert p.returncode == 0, p.stderr
    return json.loads(p.stdout)


def check_partition(base, root, cache, by_count):
    everything = {t['id'] for t in tasks(base, root, cache)}
    assert len(everything) == 200
    for n in range(1, 6):
        seen = {}
        for i in range(1, n + 1):
            listed = tasks(base, root, cache, '--shard', f'{i}/{n}')
            own = [t['id'] for t in listed if t['requested']]
            assert own, (n, i)
            for t in own:
                assert t not in seen, f'{t} in shards {seen[t]} and {i} of {n}'
                seen[t] = i
            # what a shard lists beside its own tasks are their dependencies
            deps = {d for t in listed for d in t['dependsOn']}
            assert {t['id'] for t in listed if not t['requested']} <= deps
        assert set(seen) == everything, n
        sizes = sorted(list(seen.values()).count(i) for i in range(1, n + 1))
        if by_count:
            assert sizes[-1] <= 1.1 * 200 / n + 2, (n, sizes)   # bounded load
    return everything


def test_shards_partition_the_task_graph_and_each_runs_alone(ws200, tmp_path):
    base, root = ws200
    cache = tmp_path / 'shared-cache'
    everything = check_partition(base, root, cache, True)     # no durations: by count
    first = {i: {t['id'] for t in tasks(base, root, cache, '--shard', f'{i}/4')
                 if t['requested']} for i in range(1, 5)}
    # each shard on its own "machine": a clone of its own, one shared cache
    for i in (3, 1, 4, 2):
        clone = tmp_path / f'clone{i}'
        subprocess.run(['git', 'clone', '-q', str(root), str(clone)], check=True,
                       env=clean_env(base))
        p = bld(base, clone, 'run-many', '-t', 'build', '--shard', f'{i}/4', cache=cache)
        stop_daemon(base, clone)
        assert p.returncode == 0, (i, p.stdout[-2000:], p.stderr[-2000:])
        for t in first[i]:
            proj = t.split(':')[0]
            assert (clone / 'dist' / 'packages' / proj / 'out.txt').is_file(), t
    # the shards together stored everything: the whole graph is cached
    listed = tasks(base, root, cache)
    assert {t['id'] for t in listed if t['cache'] == 'local'} == everything
    # Only durations recorded before HEAD's commit count (every shard of one commit sees
    # the same): those the shards just stored did not move the split between them.
    # A new commit makes them count; the split still partitions the graph.
    time.sleep(1.1)
    subprocess.run(['git', 'commit', '-q', '--allow-empty', '-m', 'later'], cwd=root,
                   check=True, env=clean_env(base))
    check_partition(base, root, cache, False)


def test_shard_by_count_or_duration_only(ws200, tmp_path):
    base, root = ws200
    env = clean_env(base / 'home', {'BLD_CACHE_DIR': str(tmp_path / 'c'), 'BLD_SHARD_BY': 'x'})
    p = subprocess.run([BLD, 'show', 'tasks', '-t', 'build', '--shard', '1/2'], cwd=root,
                       env=env, capture_output=True, text=True)
    assert p.returncode == 2 and 'BLD_SHARD_BY' in p.stderr, p.stderr


@pytest.mark.parametrize('bad', ['0/4', '5/4', '2', '1/0', 'a/b', '1/4x', '-1/3'])
def test_malformed_shard_is_a_usage_error(ws200, tmp_path, bad):
    base, root = ws200
    p = bld(base, root, 'run-many', '-t', 'build', f'--shard={bad}', cache=tmp_path / 'c')
    assert p.returncode == 2, (bad, p.stderr)
    assert '--shard' in p.stderr and 'expected <i>/<n>' in p.stderr, p.stderr


def test_more_shards_than_projects(make_ws):
    ws = make_ws({
        'nx.json': {},
        'a/project.json': {'name': 'a', 'targets': {'build': {'command': log('a')}}},
        'b/project.json': {'name': 'b', 'targets': {'build': {'command': log('b')}}},
    })
    empty = 0
    for i in range(1, 6):
        r = ws.run('run-many', '-t', 'build', '--shard', f'{i}/5')
        assert r.code == 0, r
        if 'has no tasks' in r.err:
            empty += 1
            assert f'shard {i}/5 has no tasks: the 2 tasks went to the other shards' in r.err
    assert empty == 3
    assert sorted(ws.ran()) == ['a', 'b']


def test_affected_takes_shard(make_ws):
    # bld affected --shard i/n splits the affected task graph like run-many's
    files = {'nx.json': {}}
    for k in range(8):
        deps = {'implicitDependencies': [f'p{k - 1}']} if k else {}
        files[f'p{k}/project.json'] = {'name': f'p{k}', **deps, 'targets': {'build': {
            'command': log(f'p{k}'), 'dependsOn': ['^build'], 'cache': True, 'outputs': []}}}
        files[f'p{k}/src.txt'] = 'v1\n'
    ws = make_ws(files)
    ws.git('checkout', '-q', '-b', 'feature')
    ws.write('p4/src.txt', 'v2\n')              # affects p4..p7 (p5..p7 depend on p4)
    ws.commit('change p4')

    def dry(*extra):
        r = ws.run('affected', '-t', 'build', '--base=main', '--dry-run', '--json', *extra)
        assert r.code == 0, r
        return json.loads(r.out)

    whole = {t['id'] for t in dry() if t['requested']}
    assert whole == {'p4:build', 'p5:build', 'p6:build', 'p7:build'}
    for n in (2, 3):
        seen = []
        for i in range(1, n + 1):
            seen += [t['id'] for t in dry('--shard', f'{i}/{n}') if t['requested']]
        assert sorted(seen) == sorted(whole), n
    ws.clear_log()
    for i in (1, 2):
        r = ws.run('affected', '-t', 'build', '--base=main', '--shard', f'{i}/2')
        assert r.code == 0, r
    assert {f'{p}:build' for p in ws.ran()} >= whole
