"""Ctrl-C: SIGINT to the bld client stops every process its tasks started (the whole
process group, grandchildren included), starts nothing more, and bld exits 130.

The task scripts record their pids in the side folder; liveness is read from /proc.
"""

import os
import signal
import time

from conftest import engines_of, has_env, kill_if_alive, log, pid_alive, wait_for

# A task that writes its own pid, starts a grandchild in the background (which, in a
# non-interactive shell, ignores SIGINT: only a signal to the group that is not SIGINT,
# or SIGKILL, ends it) and waits.
LONG_SH = '''name=$1
echo $$ > @SIDE@/$name.child.pid
sleep 300 &
echo $! > @SIDE@/$name.grand.pid
echo started-$name >> @LOG@
wait
echo finished-$name >> @LOG@
'''


def long_ws(make_ws):
    return make_ws({
        'nx.json': {},
        'tools/long.sh': LONG_SH,
        'a/project.json': {'name': 'a', 'targets': {
            'long': {'command': 'sh tools/long.sh a'},
            'after': {'command': log('after-ran'), 'dependsOn': ['long']},
        }},
        'b/project.json': {'name': 'b', 'targets': {
            'long': {'command': 'sh tools/long.sh b'}}},
    })


def pids(ws, *names):
    out = []
    for n in names:
        for kind in ('child', 'grand'):
            f = ws.side / f'{n}.{kind}.pid'
            out.append(int(f.read_text().split()[0]))
    return out


def pid_files_ready(ws, *names):
    for n in names:
        for kind in ('child', 'grand'):
            f = ws.side / f'{n}.{kind}.pid'
            if not f.exists() or not f.read_text().strip():
                return False
    return True


def interrupt_and_check(ws, proc, names):
    wait_for(lambda: pid_files_ready(ws, *names) or proc.poll() is not None, timeout=30)
    if not pid_files_ready(ws, *names):
        proc.kill()
        out, err = proc.communicate()
        raise AssertionError(f'tasks did not start: ran {ws.ran()}, bld exit {proc.returncode}\n'
                             f'stdout: {out!r}\nstderr: {err!r}')
    all_pids = pids(ws, *names)
    assert all(pid_alive(p) for p in all_pids)
    time.sleep(0.2)
    os.kill(proc.pid, signal.SIGINT)
    try:
        out, err = proc.communicate(timeout=20)
    except Exception:
        proc.kill()
        raise AssertionError('bld did not exit within 20 s of SIGINT')
    try:
        assert proc.returncode == 130, (proc.returncode, out, err)
        assert wait_for(lambda: not any(pid_alive(p) for p in all_pids), timeout=10), \
            f'still alive after Ctrl-C: {[p for p in all_pids if pid_alive(p)]}'
        assert wait_for(lambda: not engines_of(ws), timeout=10), 'the engine outlived the client'
    finally:
        for p in all_pids:
            if has_env(p, 'HOME', str(ws.home)):   # still ours, not a recycled pid
                kill_if_alive(p)
    return out, err


def test_sigint_kills_child_and_grandchild_exit_130(make_ws):
    ws = long_ws(make_ws)
    proc = ws.spawn('run', 'a:long')
    interrupt_and_check(ws, proc, ['a'])
    assert 'finished-a' not in ws.ran()


def test_sigint_starts_no_dependents(make_ws):
    ws = long_ws(make_ws)
    proc = ws.spawn('run', 'a:after')
    interrupt_and_check(ws, proc, ['a'])
    time.sleep(0.5)
    assert 'after-ran' not in ws.ran()


def test_sigint_stops_every_parallel_task(make_ws):
    ws = long_ws(make_ws)
    proc = ws.spawn('run-many', '-t', 'long', '--parallel', '2')
    interrupt_and_check(ws, proc, ['a', 'b'])


STUBBORN_SH = '''trap '' INT TERM HUP
echo $$ > @SIDE@/s.child.pid
sh -c "trap '' INT TERM HUP; sleep 300" &
echo $! > @SIDE@/s.grand.pid
while :; do sleep 1; done
'''


def test_sigint_stops_tasks_that_ignore_int_and_term(make_ws):
    # Ctrl-C must not hang on a task that ignores SIGINT and SIGTERM: bld escalates
    # (SIGKILL to the group after a grace period) and still exits 130.
    ws = make_ws({
        'nx.json': {},
        'tools/stubborn.sh': STUBBORN_SH,
        's/project.json': {'name': 's', 'targets': {'hang': {'command': 'sh tools/stubborn.sh'}}},
    })
    proc = ws.spawn('run', 's:hang')
    interrupt_and_check(ws, proc, ['s'])


def test_terminal_ctrl_c_to_the_whole_foreground_group(make_ws):
    # A terminal's Ctrl-C signals the whole foreground process group: bld and, unless it
    # moved itself elsewhere, the one-shot engine at the same moment.  Same outcome.
    ws = long_ws(make_ws)
    proc = ws.spawn('run-many', '-t', 'long', '--parallel', '2', start_new_session=True)
    wait_for(lambda: pid_files_ready(ws, 'a', 'b') or proc.poll() is not None, timeout=30)
    assert pid_files_ready(ws, 'a', 'b'), (proc.poll(), ws.ran())
    all_pids = pids(ws, 'a', 'b')
    time.sleep(0.2)
    os.killpg(proc.pid, signal.SIGINT)
    try:
        out, err = proc.communicate(timeout=20)
        assert proc.returncode == 130, (proc.returncode, out, err)
        assert wait_for(lambda: not any(pid_alive(p) for p in all_pids), timeout=10), \
            f'still alive after Ctrl-C: {[p for p in all_pids if pid_alive(p)]}'
        assert wait_for(lambda: not engines_of(ws), timeout=10), 'the engine outlived the client'
    finally:
        for p in all_pids:
            if has_env(p, 'HOME', str(ws.home)):
                kill_if_alive(p)


def stops_everything(ws, proc, sig, names=('a',)):
    wait_for(lambda: pid_files_ready(ws, *names) or proc.poll() is not None, timeout=30)
    assert pid_files_ready(ws, *names), (proc.poll(), ws.ran())
    all_pids = pids(ws, *names)
    time.sleep(0.2)
    os.kill(proc.pid, sig)
    try:
        proc.communicate(timeout=20)
        assert proc.returncode != 0
        assert wait_for(lambda: not any(pid_alive(p) for p in all_pids), timeout=10), \
            f'still alive after {sig.name}: {[p for p in all_pids if pid_alive(p)]}'
        assert wait_for(lambda: not engines_of(ws), timeout=10), 'the engine outlived the client'
    finally:
        for p in all_pids:
            if has_env(p, 'HOME', str(ws.home)):
                kill_if_alive(p)
    return proc.returncode


def test_sigterm_to_the_client_stops_the_tasks(make_ws):
    ws = long_ws(make_ws)
    proc = ws.spawn('run', 'a:long')
    stops_everything(ws, proc, signal.SIGTERM)


def test_client_killed_hard_the_engine_stops_its_tasks(make_ws):
    # SIGKILL leaves the client no say: the one-shot engine sees its client gone and
    # stops the tasks it started for it, rather than running on as an orphan.
    ws = long_ws(make_ws)
    proc = ws.spawn('run', 'a:after')
    stops_everything(ws, proc, signal.SIGKILL)
    time.sleep(0.5)
    assert 'after-ran' not in ws.ran()
