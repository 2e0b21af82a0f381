"""Two engines at once on one cache: the cross-process task lock (docs/cache.md).

Two one-shot engines run the same tasks against one cache folder.  Exactly one of
them runs each task; the other waits ("waiting for another bld running p:build"),
then restores what the first stored.  The cache never holds torn bytes: after the
rounds every entry restores byte-exact against bytes this test computes itself.
"""

import hashlib
import os
import shutil
import signal
import subprocess
import sys
import time

from conftest import BLD, wait_for

PROJECTS = [f'p{i}' for i in range(6)]
BLOCKS = 64          # 64 blocks of 16 KiB: 1 MiB per output

GEN_PY = '''import hashlib, os, sys, time
name = sys.argv[1]
seed = open(f'{name}/seed.txt').read().strip()
os.makedirs(f'dist/{name}', exist_ok=True)
with open(f'dist/{name}/out.bin', 'wb') as f:
    for i in range(%d):
        f.write(hashlib.sha256(f'{name}:{seed}:{i}'.encode()).digest() * 512)
        f.flush()
        time.sleep(0.002)
with open(sys.argv[2], 'a') as log:
    log.write(f'{name}:build {seed}\\n')
''' % BLOCKS


def expected(name, seed):
    return b''.join(hashlib.sha256(f'{name}:{seed}:{i}'.encode()).digest() * 512
                    for i in range(BLOCKS))


def concurrent_ws(make_ws):
    files = {'nx.json': {}, 'tools/gen.py': GEN_PY}
    for p in PROJECTS:
        files[f'{p}/project.json'] = {'name': p, 'targets': {'build': {
            'command': f'{sys.executable} tools/gen.py {p} @LOG@',
            'outputs': ['{workspaceRoot}/dist/{projectRoot}'], 'cache': True}}}
        files[f'{p}/seed.txt'] = 'initial\n'
    return make_ws(files)


def set_seeds(ws, seed):
    for p in PROJECTS:
        ws.write(f'{p}/seed.txt', f'{seed}\n')


def test_two_concurrent_run_many_never_store_torn_outputs(make_ws):
    ws = concurrent_ws(make_ws)
    env = {'BLD_CACHE_DIR': str(ws.base / 'shared-cache')}
    for rnd in range(10):
        set_seeds(ws, rnd)
        ws.clear_log()
        procs = [ws.spawn('run-many', '-t', 'build', '--parallel', '3', env=env)
                 for _ in range(2)]
        outs = []
        for p in procs:
            out, err = p.communicate(timeout=120)
            outs.append(out.decode() + err.decode())
            assert p.returncode == 0, (rnd, outs[-1])
        # the lock: each task ran once, by one of the two engines
        assert sorted(ws.ran()) == sorted(f'{p}:build {rnd}' for p in PROJECTS), \
            (rnd, ws.ran(), outs)
    # every round's entries restore byte-exact, running nothing
    for rnd in range(10):
        set_seeds(ws, rnd)
        shutil.rmtree(ws.root / 'dist')
        ws.clear_log()
        r = ws.run('run-many', '-t', 'build', env=env)
        assert r.code == 0, r
        assert ws.ran() == [], (rnd, r)
        for p in PROJECTS:
            got = (ws.root / 'dist' / p / 'out.bin').read_bytes()
            assert got == expected(p, rnd), (rnd, p, len(got))


WAIT_SH = '''while [ ! -f @SIDE@/go ]; do sleep 0.05; done
mkdir -p dist/w && echo built > dist/w/out.txt
echo w:build >> @LOG@
'''
WAITING = 'waiting for another bld running w:build'


def waiting_ws(make_ws):
    return make_ws({
        'nx.json': {},
        'tools/wait.sh': WAIT_SH,
        'w/project.json': {'name': 'w', 'targets': {'build': {
            'command': 'echo started > @SIDE@/started; sh tools/wait.sh',
            'outputs': ['{workspaceRoot}/dist/w'], 'cache': True}}},
    })


def spawn_to_files(ws, name, *args, env=None):
    """bld with stdout/stderr going to files in the side folder (readable while it runs)."""
    out = open(ws.side / f'{name}.out', 'wb')
    err = open(ws.side / f'{name}.err', 'wb')
    p = subprocess.Popen([BLD, *args], cwd=str(ws.root), env=ws._env(env),
                         stdin=subprocess.DEVNULL, stdout=out, stderr=err)
    ws.procs.append(p)
    out.close()
    err.close()
    return p


def err_text(ws, name):
    return (ws.side / f'{name}.err').read_text(errors='replace')


def start_holder_and_waiter(ws):
    """a runs w:build and holds its lock; b, another engine, waits for it.  b is always a
    one-shot engine: in the suite's daemon pass a is the resident daemon, whose in-flight
    job holds the same cross-process lock (two requests of one daemon would share the job
    instead of waiting, test_daemon.py)."""
    a = spawn_to_files(ws, 'a', 'run', 'w:build')
    wait_for(lambda: (ws.side / 'started').exists() or a.poll() is not None, timeout=30)
    assert (ws.side / 'started').exists(), err_text(ws, 'a')
    b = spawn_to_files(ws, 'b', 'run', 'w:build', env={'BLD_DAEMON': '0'})
    wait_for(lambda: WAITING in err_text(ws, 'b') or b.poll() is not None, timeout=30)
    assert WAITING in err_text(ws, 'b'), (b.poll(), err_text(ws, 'b'))
    return a, b


def test_second_engine_says_once_that_it_waits_then_restores(make_ws):
    ws = waiting_ws(make_ws)
    a, b = start_holder_and_waiter(ws)
    time.sleep(0.5)               # several retries: still said once
    (ws.side / 'go').touch()
    assert a.wait(timeout=60) == 0, err_text(ws, 'a')
    assert b.wait(timeout=60) == 0, err_text(ws, 'b')
    assert err_text(ws, 'b').count(WAITING) == 1, err_text(ws, 'b')
    assert WAITING not in err_text(ws, 'a')
    assert ws.ran() == ['w:build']        # b restored instead of running
    assert '[local cache]' in (ws.side / 'b.out').read_text()
    assert '[local cache]' not in (ws.side / 'a.out').read_text()
    assert (ws.root / 'dist/w/out.txt').read_text() == 'built\n'


def test_ctrl_c_while_waiting_exits_130(make_ws):
    ws = waiting_ws(make_ws)
    a, b = start_holder_and_waiter(ws)
    t0 = time.monotonic()
    b.send_signal(signal.SIGINT)
    assert b.wait(timeout=10) == 130, err_text(ws, 'b')
    assert time.monotonic() - t0 < 5
    assert a.poll() is None                 # the holder goes on
    (ws.side / 'go').touch()
    assert a.wait(timeout=60) == 0, err_text(ws, 'a')
    assert ws.ran() == ['w:build']
    # and the lock is free again: a third run restores
    os.remove(ws.root / 'dist/w/out.txt')
    r = ws.run('run', 'w:build')
    assert r.code == 0, r
    assert WAITING not in r.err
    assert ws.ran() == ['w:build']


def test_holder_killed_hard_frees_the_lock(make_ws):
    ws = waiting_ws(make_ws)
    a, b = start_holder_and_waiter(ws)
    # kill -9 the holder's engine and its task: the kernel drops the flock
    for pid in engine_and_task_pids(ws, a):
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    (ws.side / 'go').touch()
    assert b.wait(timeout=60) == 0, err_text(ws, 'b')
    assert ws.ran() == ['w:build']          # b took the lock and ran it itself


def engine_and_task_pids(ws, client):
    """The client and every process below it: its one-shot engine, the task's shell."""
    parent = {}
    for d in os.listdir('/proc'):
        if d.isdigit():
            try:
                stat = open(f'/proc/{d}/stat').read()
            except OSError:
                continue
            parent[int(d)] = int(stat.rsplit(')', 1)[1].split()[1])
    found = [client.pid]
    for _ in range(8):
        found += [p for p, pp in parent.items() if pp in found and p not in found]
    return found
