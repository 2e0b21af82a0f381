"""Cache robustness: the engine killed (SIGKILL) at random moments while it stores, again and
again, leaves a cache whose every visible entry restores byte-exact; two processes sharing one
cache (two clones, one BLD_CACHE_DIR), with a concurrent prune, never corrupt it.
"""

import json
import os
import random
import shutil
import signal
import sqlite3
import subprocess
import time

from conftest import log, wait_for

NFILES = 120

# Outputs are a pure function of a/src/n.txt, so the expected bytes of any entry are known.
GEN = ('N=$(cat a/src/n.txt) && mkdir -p dist/a/d && '
       f'i=0; while [ $i -lt {NFILES} ]; do echo "$N-$i" > dist/a/d/f$i.txt; i=$((i+1)); done; '
       'head -c 2000000 /dev/zero | tr "\\000" "$N" > dist/a/big.bin; '
       'ln -sf big.bin dist/a/link; echo "built $N"')


def expected(n):
    out = {f'a/d/f{i}.txt': f'{n}-{i}\n'.encode() for i in range(NFILES)}
    out['a/big.bin'] = str(n)[0].encode() * 2000000
    return out


def ws_files():
    return {
        'nx.json': {'targetDefaults': {'build': {'cache': True}}},
        '.gitignore': 'dist\n.bld\n',
        'a/project.json': {'name': 'a', 'targets': {'build': {
            'command': log('a:build') + ' && ' + GEN, 'outputs': ['{workspaceRoot}/dist/a']}}},
        'a/src/n.txt': '0',
    }


def check_outputs(ws, n):
    root = ws.root / 'dist'
    for rel, data in expected(n).items():
        assert (root / rel).read_bytes() == data, (n, rel)
    assert os.readlink(root / 'a/link') == 'big.bin'
    assert sorted(os.listdir(root / 'a/d')) == sorted(f'f{i}.txt' for i in range(NFILES))


def children(pid):
    out = []
    try:
        for tid in os.listdir(f'/proc/{pid}/task'):
            with open(f'/proc/{pid}/task/{tid}/children') as f:
                out += [int(x) for x in f.read().split()]
    except OSError:
        pass
    return out


def descendants(pid):
    out, todo = [], [pid]
    while todo:
        for c in children(todo.pop()):
            out.append(c)
            todo.append(c)
    return out


def engine_pid(client):
    """The one-shot engine: the bldd child of the bld client."""
    for c in children(client.pid):
        try:
            with open(f'/proc/{c}/comm') as f:
                if f.read().strip().startswith('bldd'):
                    return c
        except OSError:
            pass
    return None


def integrity(cache_dir):
    db = sqlite3.connect(str(cache_dir / 'cache.db'), timeout=30)
    try:
        assert db.execute('PRAGMA integrity_check').fetchone()[0] == 'ok'
        return db.execute('SELECT COUNT(*) FROM entries').fetchone()[0]
    finally:
        db.close()


def visible_hit(ws, n):
    ws.write('a/src/n.txt', str(n))
    r = ws.run('show', 'tasks', '-t', 'build', '--json')
    assert r.code == 0, r
    return json.loads(r.out)[0].get('cache') == 'local'


def test_kill_mid_store_leaves_a_consistent_cache(make_ws):
    # the engine killed here is the client's one-shot child (test_daemon.py kills a daemon)
    ws = make_ws(ws_files(), oneshot=True)
    # calibrate: how long one full run (command + store) takes
    t0 = time.monotonic()
    assert ws.run('run', 'a:build').code == 0
    full = time.monotonic() - t0
    rng = random.Random(1234)
    kills = 0
    last = 0
    for n in range(1, 41):
        if kills >= 12:
            break
        last = n
        ws.write('a/src/n.txt', str(n))
        p = ws.spawn('run', 'a:build')
        pid = wait_for(lambda: engine_pid(p), timeout=10, step=0.002)
        if pid:
            time.sleep(rng.uniform(0, full))
            # the engine and the command it may be running: no straggler writes dist later
            for victim in [pid] + descendants(pid):
                try:
                    os.kill(victim, signal.SIGKILL)
                    kills += victim == pid
                except ProcessLookupError:
                    pass
        p.wait(60)
    assert kills >= 10
    entries = integrity(ws.root / '.bld/cache')
    hits = 0
    for n in range(0, last + 1):
        if not visible_hit(ws, n):
            continue
        hits += 1
        shutil.rmtree(ws.root / 'dist', ignore_errors=True)
        ws.clear_log()
        r = ws.run('run', 'a:build')
        assert r.code == 0, r
        assert ws.ran() == [], f'entry for n={n} was visible but did not restore: {r}'
        check_outputs(ws, n)
    assert hits >= 1 and hits == entries
    # the cache still works: a killed run reruns and stores
    ws.write('a/src/n.txt', '7')
    shutil.rmtree(ws.root / 'dist', ignore_errors=True)
    assert ws.run('run', 'a:build').code == 0
    check_outputs(ws, 7)
    r = ws.run('cache', 'prune', '--max-size', '10G')
    assert r.code == 0, r


def multi_files():
    f = {'nx.json': {'targetDefaults': {'build': {'cache': True}}}, '.gitignore': 'dist\n.bld\n'}
    for k in range(6):
        name = f'p{k}'
        gen = (f'mkdir -p dist/{name} && i=0; while [ $i -lt 40 ]; do '
               f'echo "{name}-$i-$(cat {name}/src/v.txt)" > dist/{name}/f$i.txt; i=$((i+1)); done')
        f[f'{name}/project.json'] = {'name': name, 'targets': {'build': {
            'command': log(f'{name}:build') + ' && ' + gen,
            'outputs': [f'{{workspaceRoot}}/dist/{name}']}}}
        f[f'{name}/src/v.txt'] = '0'
    return f


def test_two_processes_sharing_a_cache_never_corrupt_it(make_ws, tmp_path):
    shared = tmp_path / 'shared'
    env = {'BLD_CACHE_DIR': str(shared)}
    one = make_ws(multi_files())
    two = make_ws(multi_files())
    for rnd in range(4):
        for k in range(6):
            v = str(rnd if k % 2 else rnd // 2)
            one.write(f'p{k}/src/v.txt', v)
            two.write(f'p{k}/src/v.txt', v)
        procs = [w.spawn('run-many', '-t', 'build', '--parallel', '3', env=env)
                 for w in (one, two)]
        pruner = one.spawn('cache', 'prune', '--max-size', '5k', env=env) if rnd == 2 else None
        for p in procs:
            out, err = p.communicate(timeout=120)
            assert p.returncode == 0, (out, err)
        if pruner:
            pruner.communicate(timeout=60)
    integrity(shared)
    # every visible entry restores byte-exact in both clones
    for w in (one, two):
        shutil.rmtree(w.root / 'dist', ignore_errors=True)
        w.clear_log()
        r = w.run('run-many', '-t', 'build', env=env)
        assert r.code == 0, r
        for k in range(6):
            v = (w.root / f'p{k}/src/v.txt').read_text()
            for i in range(40):
                assert (w.root / f'dist/p{k}/f{i}.txt').read_text() == f'p{k}-{i}-{v}\n'
    assert len(one.ran()) + len(two.ran()) <= 6  # at most one clone had to rebuild pruned ones


def test_full_disk_fails_caching_not_the_build(make_ws, tmp_path):
    small = tmp_path / 'small'
    small.mkdir()
    if subprocess.run(['mount', '-t', 'tmpfs', '-o', 'size=400k', 'tmpfs', str(small)],
                      stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL).returncode != 0:
        import pytest
        pytest.skip('needs permission to mount a small tmpfs')
    try:
        f = ws_files()  # a:build writes ~2 MB: more than the cache's file system holds
        f['b/project.json'] = {'name': 'b', 'targets': {'build': {
            'command': log('b:build') + ' && mkdir -p dist/b && echo small > dist/b/o.txt',
            'outputs': ['{workspaceRoot}/dist/b']}}}
        ws = make_ws(f)
        env = {'BLD_CACHE_DIR': str(small / 'cache')}
        for _ in range(2):
            ws.clear_log()
            r = ws.run('run-many', '-t', 'build', env=env)
            assert r.code == 0, r
        assert ws.ran() == ['a:build']  # a could not be cached, b was
        assert 'no space left' in r.both.lower(), r
        check_outputs(ws, 0)
        integrity(small / 'cache')
        assert not list((small / 'cache/blobs/tmp').iterdir())  # no partial blob left behind
    finally:
        subprocess.run(['umount', '-l', str(small)])
