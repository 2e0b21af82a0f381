"""The resident daemon: started by the first client and reused, one per root, replaced
when stale, killed or of another version; its socket (fallback folder for long paths,
peer uid checked), its lifecycle (status, stop, idle shutdown, SIGTERM, reset) and that
no client takes it down.

Every test here sets BLD_DAEMON=1 (the suite's default is one-shot); each workspace has
its own daemon, stopped at teardown (conftest: `bld daemon stop`)."""

import json
import os
import signal
import socket
import struct
import subprocess
import sys
import threading
import time

import pytest

from conftest import BLD, engines_of, log, pid_alive, wait_for

D = {'BLD_DAEMON': '1'}


def files(extra=None):
    f = {
        'nx.json': {'targetDefaults': {'build': {'cache': True}}},
        '.gitignore': '.bld\ndist\n',
        'a/project.json': {'name': 'a', 'targets': {'build': {
            'command': log('a:build') + ' && mkdir -p dist && echo built > dist/a.txt',
            'outputs': ['{workspaceRoot}/dist']}}},
        'a/src/x.txt': 'x',
    }
    f.update(extra or {})
    return f


def daemon_pid(ws):
    try:
        return int((ws.root / '.bld/bldd.pid').read_text())
    except (OSError, ValueError):
        return 0


def status(ws, env=None):
    r = ws.run('daemon', 'status', '--json', env={**D, **(env or {})})
    assert r.code == 0, r
    return json.loads(r.out)


def daemons_of(ws):
    return engines_of(ws, resident=True)


def frame(obj):
    data = json.dumps(obj).encode()
    return struct.pack('>IB', len(data), ord('J')) + data


def test_second_run_is_served_by_the_daemon_the_first_started(make_ws):
    ws = make_ws(files())
    r = ws.run('run', 'a:build', env=D)
    assert r.code == 0, r
    pid = daemon_pid(ws)
    assert pid and pid_alive(pid)
    # detached: not the client's child, its own session, stdio to the log
    assert os.getsid(pid) != os.getsid(0)
    r = ws.run('run', 'a:build', env=D)
    assert r.code == 0, r
    assert ws.ran() == ['a:build']          # the second was a cache hit
    st = status(ws)
    assert st['pid'] == pid and st['workspace'] == str(ws.root.resolve())
    assert st['requestsServed'] >= 2
    assert st['rssKiB'] > 0
    assert (ws.root / '.bld/bldd.sock').is_socket()
    assert os.stat(ws.root / '.bld/bldd.sock').st_mode & 0o777 == 0o600
    assert 'started' in ws.run('daemon', 'logs', env=D).out
    assert daemons_of(ws) == [pid]


def test_no_daemon_ci_and_flag_keep_one_shot(make_ws):
    ws = make_ws(files())
    for env, args in (({'BLD_DAEMON': '0'}, []), ({'BLD_DAEMON': None, 'CI': 'true'}, []),
                      ({'BLD_DAEMON': None}, ['--no-daemon'])):
        r = ws.run('run', 'a:build', *args, env=env)
        assert r.code == 0, r
        assert not daemons_of(ws) and not (ws.root / '.bld/bldd.sock').exists()
    # without BLD_DAEMON and CI, the daemon is the default
    r = ws.run('show', 'projects', env={'BLD_DAEMON': None, 'CI': None})
    assert r.code == 0 and r.out.split() == ['a'], r
    assert len(daemons_of(ws)) == 1


def test_sigkill_then_a_fresh_daemon_and_the_cache_is_intact(make_ws):
    ws = make_ws(files())
    assert ws.run('run', 'a:build', env=D).code == 0
    old = daemon_pid(ws)
    os.kill(old, signal.SIGKILL)
    assert wait_for(lambda: not pid_alive(old), timeout=10)
    # the socket file and the lock file are left behind: both are replaced
    assert (ws.root / '.bld/bldd.sock').exists()
    ws.clear_log()
    r = ws.run('run', 'a:build', env=D)
    assert r.code == 0, r
    assert ws.ran() == [], 'the cache entry did not survive the daemon being killed'
    new = daemon_pid(ws)
    assert new and new != old and pid_alive(new)
    r = ws.run('cache', 'ls', env=D)
    assert r.code == 0, r


def test_clients_starting_at_once_end_with_one_daemon(make_ws):
    ws = make_ws(files())
    procs = [ws.spawn('show', 'projects', env=D) for _ in range(6)]
    for p in procs:
        out, err = p.communicate(timeout=60)
        assert p.returncode == 0, (out, err)
        assert out.split() == [b'a']
    assert wait_for(lambda: len(daemons_of(ws)) == 1, timeout=10), daemons_of(ws)
    assert daemons_of(ws) == [daemon_pid(ws)]


def test_a_daemon_of_another_version_is_replaced(make_ws):
    ws = make_ws(files())
    # the test hook: a client and the daemon it starts claim version 0.0.1
    old_env = {**D, 'BLD_FAKE_VERSION': '0.0.1'}
    r = ws.run('daemon', 'start', env=old_env)
    assert r.code == 0, r
    old = daemon_pid(ws)
    assert status(ws, old_env)['version'] == '0.0.1'
    r = ws.run('run', 'a:build', env=D)
    assert r.code == 0, r
    assert ws.ran() == ['a:build']
    new = daemon_pid(ws)
    assert new != old
    assert status(ws)['version'] != '0.0.1'
    assert wait_for(lambda: not pid_alive(old), timeout=10), 'the old daemon did not retire'
    assert 'retiring' in ws.run('daemon', 'logs', env=D).out


def test_the_old_daemon_finishes_running_work_before_it_retires(make_ws):
    ws = make_ws(files({'s/project.json': {'name': 's', 'targets': {'build': {
        'command': f"touch '{'@SIDE@'}/s.started' && sleep 1.5 && " + log('s:done')}}}}))
    old_env = {**D, 'BLD_FAKE_VERSION': '0.0.1'}
    p = ws.spawn('run', 's:build', env=old_env)
    assert wait_for(lambda: (ws.side / 's.started').exists(), timeout=20)
    old = daemon_pid(ws)
    r = ws.run('show', 'projects', env=D)
    assert r.code == 0, r
    assert daemon_pid(ws) != old
    out, err = p.communicate(timeout=30)
    assert p.returncode == 0, (out, err)
    assert 's:done' in ws.ran()
    assert wait_for(lambda: not pid_alive(old), timeout=10)


def test_another_uid_is_refused(make_ws):
    if os.geteuid() != 0:
        raise AssertionError('this test switches to uid 65534 and needs root (CI runs as root)')
    ws = make_ws(files())
    assert ws.run('daemon', 'start', env=D).code == 0
    sock = ws.root / '.bld/bldd.sock'
    # widen the socket's mode so only the SO_PEERCRED check stands in the way, and reach
    # it through an O_PATH descriptor (the folders above are closed to uid 65534)
    os.chmod(sock, 0o666)
    fd = os.open(sock, os.O_PATH)
    script = (
        'import os, socket, sys, struct, json\n'
        'os.setgroups([]); os.setgid(65534); os.setuid(65534)\n'
        's = socket.socket(socket.AF_UNIX)\n'
        f's.connect("/proc/self/fd/{fd}")\n'
        'd = json.dumps({"t": "hello", "proto": 1, "client": "x"}).encode()\n'
        'got = b""\n'
        'try:\n'
        '    s.sendall(struct.pack(">IB", len(d), 74) + d)\n'
        '    s.settimeout(10)\n'
        '    got = s.recv(100)\n'
        'except (BrokenPipeError, ConnectionResetError):\n'
        '    pass\n'
        'print("answer", len(got))\n')
    r = subprocess.run([sys.executable, '-c', script], pass_fds=[fd], capture_output=True,
                       text=True, timeout=30)
    os.close(fd)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == 'answer 0', r.stdout   # closed without a word
    assert 'refused a connection: the peer is another user' in \
        ws.run('daemon', 'logs', env=D).out
    assert ws.run('show', 'projects', env=D).code == 0


def test_long_workspace_path_uses_the_fallback_folder(make_ws, tmp_path):
    ws = make_ws(files(), folder='l' * 60 + '/' + 'o' * 60)
    assert len(str(ws.root / '.bld/bldd.sock')) > 108
    run_dir = tmp_path / 'xdg'
    run_dir.mkdir(mode=0o700)
    env = {**D, 'XDG_RUNTIME_DIR': str(run_dir)}
    r = ws.run('run', 'a:build', env=env)
    assert r.code == 0, r
    assert not (ws.root / '.bld/bldd.sock').exists()
    st = status(ws, env)
    assert st['socket'].startswith(str(run_dir / 'bld') + '/'), st
    assert os.stat(run_dir / 'bld').st_mode & 0o777 == 0o700
    assert ws.run('run', 'a:build', env=env).code == 0
    assert status(ws, env)['pid'] == st['pid']
    assert ws.run('daemon', 'stop', env=env).code == 0
    assert not os.path.exists(st['socket'])


def test_bad_project_json_while_running_then_fixed(make_ws):
    ws = make_ws(files())
    assert ws.run('run', 'a:build', env=D).code == 0
    pid = daemon_pid(ws)
    ws.write('a/project.json', '{\n  "name": "a",\n  "targets": {\n    "build": }\n}\n')
    r = ws.run('run', 'a:build', env=D)
    assert r.code == 2, r
    assert 'a/project.json:4:' in r.err, r
    assert pid_alive(pid) and daemon_pid(ws) == pid
    ws.write('a/project.json', {'name': 'a', 'targets': {'build': {'command': log('a:fixed')}}})
    r = ws.run('run', 'a:build', env=D)
    assert r.code == 0, r
    assert ws.ran()[-1] == 'a:fixed'
    assert daemon_pid(ws) == pid


def test_a_workspace_bad_from_the_start_then_fixed(make_ws):
    # the daemon's first load fails: it knows no folders to watch, so it loads per request
    ws = make_ws(files({'b/project.json': '{\n  "name": "b"\n  "targets": {}\n}\n'}))
    for _ in range(2):
        r = ws.run('run', 'a:build', env=D)
        assert r.code == 2 and 'b/project.json:3:3' in r.err, r
    ws.write('b/project.json', {'name': 'b'})
    r = ws.run('run', 'a:build', env=D)
    assert r.code == 0, r
    same_as_one_shot(ws)
    ws.write('a/src/x.txt', 'after the fix')   # now watched: seen as one-shot sees it
    same_as_one_shot(ws)


def test_an_edit_just_before_a_command_is_seen(make_ws):
    ws = make_ws(files())
    assert ws.run('run', 'a:build', env=D).code == 0
    for n in range(5):
        ws.write('a/src/x.txt', f'v{n}')
        r = ws.run('show', 'tasks', '-t', 'build', '--json', env=D)
        one = ws.run('show', 'tasks', '-t', 'build', '--json', env={'BLD_DAEMON': '0'})
        assert r.code == 0 and r.out == one.out, (r, one)


def same_as_one_shot(ws, env=None):
    r = ws.run('show', 'tasks', '-t', 'build', '--json', env={**D, **(env or {})})
    one = ws.run('show', 'tasks', '-t', 'build', '--json', env={'BLD_DAEMON': '0'})
    assert (r.code, r.out, r.err) == (one.code, one.out, one.err), (r, one)
    return r


def test_the_watcher_keeps_a_generation_until_the_tree_changes(make_ws):
    ws = make_ws(files())
    same_as_one_shot(ws)
    st = status(ws)
    assert st['watchedDirs'] >= 3 and not st['fallback'] and st['memo'], st
    g = st['generation']
    assert ws.run('show', 'projects', env=D).code == 0
    assert status(ws)['generation'] == g            # nothing changed: the same snapshot
    ws.write('a/src/x.txt', 'edited')               # content only: its hash is forgotten
    same_as_one_shot(ws)
    assert status(ws)['generation'] == g
    ws.write('a/src/new.txt', 'n')                  # a new file: a new generation
    same_as_one_shot(ws)
    assert status(ws)['generation'] == g + 1
    # a new folder holding a new project, made and filled at once
    ws.write('c/deep/er/project.json', {'name': 'c', 'targets': {'build': {'command': 'true'}}})
    ws.write('c/deep/er/src/f.txt', 'f')
    r = ws.run('show', 'projects', env=D)
    assert r.code == 0 and r.out.split() == ['a', 'c'], r
    same_as_one_shot(ws)
    ws.write('c/deep/er/src/f.txt', 'g')            # its folders are watched now
    same_as_one_shot(ws)
    st = status(ws)
    assert st['generation'] > g + 1 and st['watchedDirs'] >= 8, st
    r = ws.run('daemon', 'status', env=D)
    assert 'watching:' in r.out and 'generation:' in r.out, r


def test_kept_task_graphs_follow_edits_of_project_json_and_nx_json(make_ws):
    """The daemon keeps each generation's task graphs by request: the same request again
    shares the kept graph; an edit of project.json or nx.json just before a request (no
    pause) is in that request's graph, its tasks' options and the commands it runs."""
    ws = make_ws(files({'b/project.json': {'name': 'b', 'targets': {
        'build': {'command': log('b:one')}, 'lint': {'command': log('b:lint')}}}}))
    r = ws.run('run', 'b:build', env=D)
    assert r.code == 0 and ws.ran() == ['b:one'], r
    same_as_one_shot(ws)
    same_as_one_shot(ws)
    st = status(ws)
    assert st['taskGraphsKept'] >= 2 and st['taskGraphHits'] >= 1, st
    g = st['generation']
    # the command is the task's options: the next run must run the new one
    ws.write('b/project.json', {'name': 'b', 'targets': {
        'build': {'command': log('b:two')}, 'lint': {'command': log('b:lint')}}})
    r = ws.run('run', 'b:build', env=D)
    assert r.code == 0 and ws.ran() == ['b:one', 'b:two'], r
    assert status(ws)['generation'] > g
    # dependsOn from nx.json: b:build now waits for b:lint, in the very next request
    nx = json.loads(ws.read('nx.json'))
    nx['targetDefaults']['build']['dependsOn'] = ['lint']
    ws.write('nx.json', nx)
    r = same_as_one_shot(ws)
    build = [t for t in json.loads(r.out) if t['id'] == 'b:build'][0]
    assert build['dependsOn'] == ['b:lint'], r
    r = ws.run('run', 'b:build', '--skip-cache', env=D)
    assert r.code == 0 and ws.ran()[-2:] == ['b:lint', 'b:two'], r
    # and away again from project.json
    ws.write('b/project.json', {'name': 'b', 'targets': {
        'build': {'command': log('b:two'), 'dependsOn': []},
        'lint': {'command': log('b:lint')}}})
    r = same_as_one_shot(ws)
    build = [t for t in json.loads(r.out) if t['id'] == 'b:build'][0]
    assert build['dependsOn'] == [], r


def test_kept_task_graphs_follow_edits_of_a_package_json_script(make_ws):
    """A project of a package.json workspace: editing its script just before a request
    (no pause) changes the command the next run runs, not the kept graph's."""
    ws = make_ws({
        'nx.json': {},
        '.gitignore': '.bld\n',
        'package.json': {'name': 'root', 'private': True, 'workspaces': ['packages/*']},
        'packages/p/package.json': {'name': 'p', 'scripts': {'build': log('p:one')}},
    })
    r = ws.run('run', 'p:build', env=D)
    assert r.code == 0 and ws.ran() == ['p:one'], r
    r = ws.run('run', 'p:build', '--skip-cache', env=D)     # served from the kept graph
    assert r.code == 0 and ws.ran() == ['p:one', 'p:one'], r
    ws.write('packages/p/package.json', {'name': 'p', 'scripts': {'build': log('p:two')}})
    r = ws.run('run', 'p:build', '--skip-cache', env=D)
    assert r.code == 0 and ws.ran() == ['p:one', 'p:one', 'p:two'], r


def test_the_daemon_threads_share_one_malloc_arena(make_ws):
    """Loads and cache work run on the thread pool; with an arena per worker the daemon
    kept what each had freed (status: heapArenas, heap bytes in use and held)."""
    ws = make_ws(files())
    assert ws.run('run', 'a:build', env=D).code == 0
    same_as_one_shot(ws)
    ws.write('a/src/new.txt', 'n')                  # a new generation: a load on the pool
    same_as_one_shot(ws)
    st = status(ws)
    assert st['heapArenas'] == 1, st
    if st['heapHeldKiB']:   # 0 under AddressSanitizer, whose allocator glibc cannot see
        assert 0 < st['heapInUseKiB'] <= st['heapHeldKiB'] < st['rssKiB'], st
    r = ws.run('daemon', 'status', env=D)
    assert r.code == 0 and 'MiB in use' in r.out and '1 arena' in r.out, r


def test_verbose_and_bld_debug_stats_say_where_the_time_went(make_ws):
    ws = make_ws(files())
    for args, env in ((['run', 'a:build', '--verbose'], D),
                      (['run', 'a:build'], {**D, 'BLD_DEBUG': 'stats'})):
        r = ws.run(*args, env=env)
        assert r.code == 0, r
        text = r.out + r.err
        for word in ('bld: daemon:', 'host ', 'graph ', 'hashing ', 'lookup ', 'restore ',
                     'spawn ', 'bld: client: engine reached'):
            assert word in text, (word, r)
    r = ws.run('show', 'projects', env={**D, 'BLD_DEBUG': 'stats'})
    assert r.code == 0 and 'bld: daemon:' in r.out + r.err and 'show ' in r.out + r.err, r
    st = status(ws)
    for key in ('pid', 'uptimeSeconds', 'workspace', 'rssKiB', 'watchedDirs', 'generation',
                'requestsServed', 'fallback'):
        assert key in st, (key, st)
    assert st['requestsServed'] >= 3 and st['rssKiB'] > 0


def test_a_lost_event_queue_falls_back_to_reloading(make_ws):
    ws = make_ws(files({'a/src/y.txt': 'y'}))
    same_as_one_shot(ws)
    pid = daemon_pid(ws)
    limit = int(open('/proc/sys/fs/inotify/max_queued_events').read())
    os.kill(pid, signal.SIGSTOP)   # it reads nothing meanwhile: the queue overflows
    try:
        x, y = ws.root / 'a/src/x.txt', ws.root / 'a/src/y.txt'
        for n in range(limit // 2 + 1000):
            os.utime(x)
            os.utime(y)
        ws.write('a/src/x.txt', 'changed after the overflow')
    finally:
        os.kill(pid, signal.SIGCONT)
    same_as_one_shot(ws)
    st = status(ws)
    assert st['fallback'] and 'overflowed' in st['fallbackReason'] and not st['memo'], st
    ws.write('a/src/y.txt', 'and later')
    ws.write('a/src/z.txt', 'new')
    same_as_one_shot(ws)
    logs = ws.run('daemon', 'logs', env=D).out
    assert logs.count('overflowed') == 1, logs
    assert 'every request reloads' in ws.run('daemon', 'status', env=D).out


def test_out_of_inotify_watches_falls_back_to_reloading(make_ws):
    ws = make_ws(files())
    env = {'BLD_WATCH_LIMIT': '2'}   # bldd's test hook: the third watch fails as ENOSPC would
    same_as_one_shot(ws, env)
    st = status(ws, env)
    assert st['fallback'] and 'max_user_watches' in st['fallbackReason'], st
    for n in range(3):
        ws.write('a/src/x.txt', f'v{n}')
        ws.write(f'a/src/n{n}.txt', 'new')
        same_as_one_shot(ws, env)
    assert pid_alive(daemon_pid(ws))


def test_stop_status_and_idle_shutdown(make_ws):
    ws = make_ws(files())
    r = ws.run('daemon', 'status', env=D)
    assert r.code == 3 and 'no bld daemon' in r.out, r
    r = ws.run('daemon', 'stop', env=D)
    assert r.code == 0 and 'no bld daemon' in r.out, r
    r = ws.run('daemon', 'start', env=D)
    assert r.code == 0 and 'running' in r.out, r
    pid = daemon_pid(ws)
    r = ws.run('daemon', 'status', env=D)
    assert r.code == 0 and f'pid:        {pid}' in r.out, r
    r = ws.run('daemon', 'stop', env=D)
    assert r.code == 0 and f'stopped (pid {pid})' in r.out, r
    assert not pid_alive(pid) or wait_for(lambda: not pid_alive(pid), timeout=5)
    assert not (ws.root / '.bld/bldd.sock').exists()
    assert not (ws.root / '.bld/bldd.pid').exists()
    # idle shutdown (BLD_DAEMON_IDLE, seconds, read by the daemon at start)
    r = ws.run('daemon', 'start', env={**D, 'BLD_DAEMON_IDLE': '1'})
    pid = daemon_pid(ws)
    assert wait_for(lambda: not pid_alive(pid), timeout=15), 'no idle shutdown'
    assert 'idle for 1 s' in ws.run('daemon', 'logs', env=D).out
    assert not (ws.root / '.bld/bldd.sock').exists()


def test_reset_stops_the_daemon_first(make_ws):
    ws = make_ws(files())
    assert ws.run('run', 'a:build', env=D).code == 0
    pid = daemon_pid(ws)
    r = ws.run('reset', env=D)
    assert r.code == 0, r
    assert wait_for(lambda: not pid_alive(pid), timeout=5)
    assert not (ws.root / '.bld').exists()


def long_task_files():
    return files({'s/project.json': {'name': 's', 'targets': {'build': {
        'command': "sh -c 'echo $$ > \"@SIDE@/s.pid\"; exec sleep 60'"}}}})


def task_pid(ws):
    try:
        return int((ws.side / 's.pid').read_text())
    except (OSError, ValueError):
        return 0


def test_sigterm_shuts_down_cleanly_and_stops_the_tasks(make_ws):
    ws = make_ws(long_task_files())
    p = ws.spawn('run', 's:build', env=D)
    assert wait_for(lambda: task_pid(ws), timeout=20)
    child = task_pid(ws)
    pid = daemon_pid(ws)
    os.kill(pid, signal.SIGTERM)
    out, err = p.communicate(timeout=20)
    assert p.returncode == 130, (out, err)
    assert wait_for(lambda: not pid_alive(child), timeout=10)
    assert wait_for(lambda: not pid_alive(pid), timeout=10)
    logs = ws.run('daemon', 'logs', env=D).out
    assert 'shutting down: SIGTERM' in logs and 'exited after' in logs, logs
    assert 'did not close cleanly' not in logs
    assert not (ws.root / '.bld/bldd.sock').exists()


def test_a_database_another_process_set_aside_is_opened_again(make_ws):
    """The daemon keeps its cache handle between requests.  Another process that
    finds the database unreadable moves it aside (cache_open) and makes a new one in
    the same folder: the daemon's next store goes to the new one, where others see it."""
    ws = make_ws({'nx.json': {}, '.gitignore': 'dist\n.bld\n',
                  'a/project.json': {'name': 'a', 'targets': {'build': {
                      'command': log('a'), 'cache': True}}},
                  'b/project.json': {'name': 'b', 'targets': {'build': {
                      'command': log('b'), 'cache': True}}}})
    cache = str(ws.side / 'cache')
    env = {**D, 'BLD_CACHE_DIR': cache}
    assert ws.run('run', 'a:build', env=env).code == 0   # the handle is kept
    db = os.path.join(cache, 'cache.db')
    os.rename(db, db + '.corrupt-1')
    for tail in ('-wal', '-shm'):
        if os.path.exists(db + tail):
            os.unlink(db + tail)
    r = ws.run('run', 'b:build', env=env)
    assert r.code == 0 and 'local cache' not in r.out, r
    r = ws.run('run', 'b:build', env={'BLD_DAEMON': '0', 'BLD_CACHE_DIR': cache})
    assert r.code == 0 and 'local cache' in r.out, r
    assert ws.ran() == ['a', 'b'], ws.ran()


def test_no_client_takes_the_daemon_down(make_ws):
    ws = make_ws(long_task_files())
    assert ws.run('daemon', 'start', env=D).code == 0
    pid = daemon_pid(ws)
    sock = str(ws.root / '.bld/bldd.sock')
    # a malformed frame, invalid JSON, a request before hello, a connection just closed
    for payload in (b'\xff\xff\xff\xff\x00', struct.pack('>IB', 3, ord('J')) + b'{{{',
                    frame({'t': 'request', 'cmd': 'list', 'cwd': '/'}), b''):
        s = socket.socket(socket.AF_UNIX)
        s.connect(sock)
        s.sendall(payload)
        s.shutdown(socket.SHUT_WR)
        s.settimeout(10)
        while s.recv(65536):
            pass
        s.close()
    # a client killed mid-stream: its task is stopped, the daemon lives on
    p = ws.spawn('run', 's:build', env=D)
    assert wait_for(lambda: task_pid(ws), timeout=20)
    child = task_pid(ws)
    p.kill()
    p.wait(10)
    assert wait_for(lambda: not pid_alive(child), timeout=10)
    # a client that stops reading: a task floods output, nobody reads it
    ws.write('f/project.json', {'name': 'f', 'targets': {'build': {
        'command': 'head -c 50000000 /dev/zero | tr "\\0" x; echo'}}})
    slow = subprocess.Popen([BLD, 'run', 'f:build'], cwd=ws.root, env=ws._env(D),
                            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    ws.procs.append(slow)
    time.sleep(1)
    # meanwhile another client is served at once
    t0 = time.monotonic()
    r = ws.run('show', 'projects', env=D)
    assert r.code == 0, r
    assert time.monotonic() - t0 < 5
    slow.kill()
    slow.wait(10)
    assert pid_alive(pid) and daemon_pid(ws) == pid
    r = ws.run('run', 'a:build', env=D)
    assert r.code == 0, r
    assert status(ws)['pid'] == pid


# -- the in-flight table: one task hash, one execution, however many clients want it --

GATE = ("i=0; while [ ! -e '@SIDE@/go' ] && [ $i -lt 600 ]; do sleep 0.05; i=$((i+1)); done")


def shared_files(fail=False, extra=None):
    """s:build logs its start, prints, waits for the test's go file, then logs its end
    and writes its output (or fails).  x and y both depend on it."""
    end = ("echo s-fail >&2 && exit 3" if fail else
           log('s:ran') + " && mkdir -p dist && echo slow > dist/s.txt && echo s-output")
    f = {'s/project.json': {'name': 's', 'targets': {'build': {
        'command': log('s:start') + " && echo $$ > '@SIDE@/s.pid' && echo s-begin && "
                   "touch '@SIDE@/s.started' && " + GATE + " && echo s-middle && " + end,
        'outputs': ['{workspaceRoot}/dist/s.txt']}}}}
    for p in ('x', 'y'):
        f[f'{p}/project.json'] = {'name': p, 'implicitDependencies': ['s'], 'targets': {
            'build': {'command': log(f'{p}:ran'), 'dependsOn': ['^build']}}}
    f.update(extra or {})
    return files(f)


def followed(ws, n):
    """Wait until n requests follow another's in-flight task."""
    return wait_for(lambda: status(ws)['tasksFollowed'] == n, timeout=20)


def start_two(ws, first=('s:build',), second=('s:build',)):
    """Client a starts the shared task; client b asks for it while it runs and follows."""
    assert ws.run('daemon', 'start', env=D).code == 0
    a = ws.spawn('run', *first, env=D)
    assert wait_for(lambda: (ws.side / 's.started').exists(), timeout=20)
    b = ws.spawn('run', *second, env=D)
    assert followed(ws, 1), status(ws)
    return a, b


def go(ws):
    (ws.side / 'go').touch()


def group_alive(pgid):
    """Some process of process group pgid is alive."""
    for d in os.listdir('/proc'):
        if d.isdigit():
            try:
                with open(f'/proc/{d}/stat') as f:
                    fields = f.read().rsplit(')', 1)[1].split()
            except OSError:
                continue
            if int(fields[2]) == pgid and fields[0] not in ('Z', 'X'):
                return True
    return False


def no_task_in_flight(ws):
    st = status(ws)
    return st['tasksInFlight'] == 0 and st['tasksFollowed'] == 0


def test_two_clients_one_slow_task_runs_once(make_ws):
    ws = make_ws(shared_files())
    a, b = start_two(ws)
    # the follower got task-start and the output so far while the task still waits
    go(ws)
    for p in (a, b):
        out, err = p.communicate(timeout=60)
        assert p.returncode == 0, (out, err)
        assert b's-begin' in out and b's-middle' in out and b's-output' in out, out
        assert b'cache]' not in out, out  # run, not restored
    assert ws.ran().count('s:start') == 1 and ws.ran().count('s:ran') == 1, ws.ran()
    assert no_task_in_flight(ws)
    # stored once, by the one that ran it: a third client restores it
    r = ws.run('run', 's:build', env=D)
    assert r.code == 0 and 'local cache' in r.out, r
    assert ws.ran().count('s:start') == 1


def test_ctrl_c_in_the_follower(make_ws):
    ws = make_ws(shared_files())
    a, b = start_two(ws)
    b.send_signal(signal.SIGINT)
    out, err = b.communicate(timeout=30)
    assert b.returncode == 130, (out, err)
    assert followed(ws, 0)
    go(ws)
    out, err = a.communicate(timeout=60)
    assert a.returncode == 0 and b's-output' in out, (out, err)
    assert ws.ran().count('s:start') == 1 and ws.ran().count('s:ran') == 1, ws.ran()
    assert no_task_in_flight(ws)


def test_a_follower_with_another_cache_gets_the_entry_in_its_own(make_ws, tmp_path):
    """A client storing into another BLD_CACHE_DIR follows the running task like any
    other (it runs once: two runs at once would write the same outputs under each
    other's store), and stores the result into its own cache when the task ends."""
    ws = make_ws(shared_files())
    other = {**D, 'BLD_CACHE_DIR': str(tmp_path / 'other-cache')}
    assert ws.run('daemon', 'start', env=D).code == 0
    a = ws.spawn('run', 's:build', env=D)
    assert wait_for(lambda: (ws.side / 's.started').exists(), timeout=20)
    b = ws.spawn('run', 's:build', env=other)
    assert followed(ws, 1), status(ws)
    go(ws)
    for p in (a, b):
        out, err = p.communicate(timeout=60)
        assert p.returncode == 0 and b's-begin' in out and b's-output' in out, (out, err)
        assert b'not cached' not in out + err, (out, err)
    assert ws.ran().count('s:start') == 1, ws.ran()
    assert no_task_in_flight(ws)
    for env in (other, D):
        # each entry replays the task's whole output (b joined after s-begin was printed)
        r = ws.run('run', 's:build', env=env)
        assert r.code == 0 and 'local cache' in r.out, r
        assert 's-begin' in r.out and 's-middle' in r.out and 's-output' in r.out, r
    assert ws.ran().count('s:start') == 1, ws.ran()


def test_ctrl_c_in_the_client_that_started_it(make_ws):
    ws = make_ws(shared_files())
    a, b = start_two(ws)
    pid = int((ws.side / 's.pid').read_text())
    a.send_signal(signal.SIGINT)
    # a ends at once, the task still waiting for the go file: it was handed to b
    out, err = a.communicate(timeout=30)
    assert a.returncode == 130, (out, err)
    assert pid_alive(pid) and not (ws.side / 'go').exists()
    assert status(ws)['tasksInFlight'] == 1
    go(ws)
    out, err = b.communicate(timeout=60)
    assert b.returncode == 0, (out, err)
    assert b's-begin' in out and b's-output' in out, out
    assert ws.ran().count('s:start') == 1, ws.ran()  # not started again
    assert ws.ran().count('s:ran') == 1, ws.ran()
    assert no_task_in_flight(ws)
    r = ws.run('run', 's:build', env=D)
    assert r.code == 0 and 'local cache' in r.out, r  # b stored what a started


def test_three_clients_the_owner_leaves_the_others_share_its_heir(make_ws):
    ws = make_ws(shared_files())
    a, b = start_two(ws)
    c = ws.spawn('run', 's:build', env=D)
    assert followed(ws, 2), status(ws)
    a.send_signal(signal.SIGINT)
    out, err = a.communicate(timeout=30)
    assert a.returncode == 130, (out, err)
    assert followed(ws, 1), status(ws)      # b owns it now, c follows b
    go(ws)
    for p in (b, c):
        out, err = p.communicate(timeout=60)
        assert p.returncode == 0, (out, err)
        assert b's-begin' in out and b's-middle' in out and b's-output' in out, out
    assert ws.ran().count('s:start') == 1 and ws.ran().count('s:ran') == 1, ws.ran()
    assert no_task_in_flight(ws)


def test_ctrl_c_in_both_stops_the_task(make_ws):
    ws = make_ws(shared_files())
    a, b = start_two(ws)
    pid = int((ws.side / 's.pid').read_text())
    for p in (a, b):
        p.send_signal(signal.SIGINT)
        out, err = p.communicate(timeout=30)
        assert p.returncode == 130, (out, err)
    assert wait_for(lambda: not group_alive(pid), timeout=10), 'the task outlived both clients'
    assert no_task_in_flight(ws)
    assert ws.ran() == ['s:start'], ws.ran()
    # nothing was stored; the next client runs it
    go(ws)
    r = ws.run('run', 's:build', env=D)
    assert r.code == 0 and 's-output' in r.out, r
    assert ws.ran().count('s:start') == 2


def test_a_shared_dependency_of_two_targets(make_ws):
    ws = make_ws(shared_files())
    a, b = start_two(ws, first=('x:build',), second=('y:build',))
    go(ws)
    for p in (a, b):
        out, err = p.communicate(timeout=60)
        assert p.returncode == 0, (out, err)
    ran = ws.ran()
    assert ran.count('s:start') == 1 and ran.count('s:ran') == 1, ran
    # each dependent ran after the shared task ended, once
    assert ran.count('x:ran') == 1 and ran.count('y:ran') == 1, ran
    assert ran.index('x:ran') > ran.index('s:ran') and ran.index('y:ran') > ran.index('s:ran')
    assert no_task_in_flight(ws)


def test_a_failing_shared_task_fails_both(make_ws):
    ws = make_ws(shared_files(fail=True))
    a, b = start_two(ws, first=('x:build',), second=('s:build',))
    go(ws)
    for p in (a, b):
        out, err = p.communicate(timeout=60)
        assert p.returncode == 1, (out, err)
        assert b's-fail' in out + err, (out, err)
    ran = ws.ran()
    assert ran.count('s:start') == 1 and 'x:ran' not in ran, ran
    assert no_task_in_flight(ws)


def test_a_queued_shared_task_is_handed_over(make_ws):
    """a (--parallel 1) holds its slot with q:build; its s:build is claimed, queued; b
    follows it; Ctrl-C in a: b runs s:build itself, once."""
    ws = make_ws(shared_files(extra={
        'q/project.json': {'name': 'q', 'targets': {'build': {
            'command': log('q:start') + " && sleep 60"}}},
        'z/project.json': {'name': 'z', 'implicitDependencies': ['q'], 'targets': {
            'build': {'command': log('z:ran'), 'dependsOn': ['^build']}}}}))
    assert ws.run('daemon', 'start', env=D).code == 0
    a = ws.spawn('run-many', '-t', 'build', '-p', 'z', 's', '--parallel', '1', env=D)
    assert wait_for(lambda: 'q:start' in ws.ran(), timeout=20), ws.ran()
    b = ws.spawn('run', 's:build', env=D)
    assert followed(ws, 1), status(ws)
    assert 's:start' not in ws.ran()         # queued behind q in a
    a.send_signal(signal.SIGINT)
    out, err = a.communicate(timeout=30)
    assert a.returncode == 130, (out, err)
    go(ws)
    out, err = b.communicate(timeout=60)
    assert b.returncode == 0 and b's-output' in out, (out, err)
    ran = ws.ran()
    assert ran.count('s:start') == 1 and ran.count('s:ran') == 1 and 'z:ran' not in ran, ran
    assert no_task_in_flight(ws)


def stderr_until(p, text, timeout=20):
    """What p wrote on stderr until text appeared (or timeout), read without blocking."""
    fd, got = p.stderr.fileno(), b''
    os.set_blocking(fd, False)
    end = time.monotonic() + timeout
    while text not in got and time.monotonic() < end:
        try:
            chunk = os.read(fd, 65536)
        except BlockingIOError:
            chunk = None
        if chunk:
            got += chunk
        else:
            time.sleep(0.05)
    os.set_blocking(fd, True)
    return got


def test_an_owner_waiting_for_another_engine_then_canceled(make_ws):
    """A one-shot engine runs s:build; the daemon's a claims it and waits for that engine's
    lock, b follows a; Ctrl-C in a: b waits for the lock itself, then restores."""
    ws = make_ws(shared_files())
    assert ws.run('daemon', 'start', env=D).code == 0
    e = ws.spawn('run', 's:build', env={'BLD_DAEMON': '0'})
    assert wait_for(lambda: (ws.side / 's.started').exists(), timeout=20)
    a = ws.spawn('run', 's:build', env=D)
    assert wait_for(lambda: status(ws)['tasksInFlight'] == 1, timeout=20), status(ws)
    b = ws.spawn('run', 's:build', env=D)
    assert followed(ws, 1), status(ws)
    # b is told why it waits, as a is
    told = stderr_until(b, b'waiting for another bld running s:build')
    assert b'waiting for another bld running s:build' in told, told
    a.send_signal(signal.SIGINT)
    out, err = a.communicate(timeout=30)
    assert a.returncode == 130, (out, err)
    assert b'waiting for another bld running s:build' in err, err
    go(ws)
    out, err = e.communicate(timeout=60)
    assert e.returncode == 0, (out, err)
    out, err = b.communicate(timeout=60)
    assert b.returncode == 0 and b'local cache' in out, (out, err)
    assert ws.ran().count('s:start') == 1, ws.ran()
    assert no_task_in_flight(ws)


def test_a_request_arriving_while_the_shared_task_is_stored_restores_it(make_ws):
    """The job stays in the table from the task's end until its entry is stored: a
    request arriving then waits for the store and restores.  The store is held up by
    the owner's run hashing another task (g, whose runtime input waits for gate2) ahead
    of it on that run's queue of cache work."""
    wait2 = ("touch '@SIDE@/g.hashing'; i=0; while [ ! -e '@SIDE@/gate2' ] && "
             "[ $i -lt 600 ]; do sleep 0.05; i=$((i+1)); done; echo g")
    ws = make_ws(shared_files(extra={
        'w/project.json': {'name': 'w', 'targets': {'build': {'command': log('w:ran')}}},
        'g/project.json': {'name': 'g', 'implicitDependencies': ['w'], 'targets': {'build': {
            'command': log('g:ran'), 'dependsOn': ['^build'],
            'inputs': ['default', {'runtime': wait2}]}}}}))
    assert ws.run('daemon', 'start', env=D).code == 0
    a = ws.spawn('run-many', '-t', 'build', '-p', 's', 'g', env=D)
    assert wait_for(lambda: (ws.side / 'g.hashing').exists(), timeout=20), ws.ran()
    assert wait_for(lambda: (ws.side / 's.started').exists(), timeout=20), ws.ran()
    go(ws)
    assert wait_for(lambda: 's:ran' in ws.ran(), timeout=20), ws.ran()
    time.sleep(0.5)                            # s's process ends; its store waits behind g
    # s's job (w's may be there too: its store can share a pool trip with g's hashing,
    # as it did under the sanitizers)
    assert status(ws)['tasksInFlight'] >= 1
    b = ws.spawn('run', 's:build', env=D)
    assert followed(ws, 1), status(ws)
    assert b.poll() is None
    (ws.side / 'gate2').touch()
    out, err = b.communicate(timeout=60)
    assert b.returncode == 0 and b'local cache' in out, (out, err)
    out, err = a.communicate(timeout=60)
    assert a.returncode == 0, (out, err)
    ran = ws.ran()
    assert ran.count('s:start') == 1 and 'g:ran' in ran, ran
    assert no_task_in_flight(ws)


def test_sigterm_with_a_shared_task(make_ws):
    ws = make_ws(shared_files())
    a, b = start_two(ws)
    pid, task = daemon_pid(ws), int((ws.side / 's.pid').read_text())
    os.kill(pid, signal.SIGTERM)
    for p in (a, b):
        out, err = p.communicate(timeout=30)
        assert p.returncode == 130, (out, err)
    assert wait_for(lambda: not group_alive(task), timeout=10)
    assert wait_for(lambda: not pid_alive(pid), timeout=10)
    logs = ws.run('daemon', 'logs', env=D).out
    assert 'exited after' in logs and 'did not close cleanly' not in logs, logs


def test_a_follower_that_stops_reading_holds_the_shared_task(make_ws):
    """Back-pressure: the shared task's output waits for its slowest reader (the daemon
    does not queue it without bound); once that client is gone the task goes on."""
    ws = make_ws(files({'f/project.json': {'name': 'f', 'targets': {'build': {
        'command': "touch '@SIDE@/s.started' && " + GATE +
                   " && head -c 50000000 /dev/zero | tr '\\0' x; echo",
        'cache': True}}}}))
    assert ws.run('daemon', 'start', env=D).code == 0
    got = {}
    a = subprocess.Popen([BLD, 'run', 'f:build'], cwd=ws.root, env=ws._env(D),
                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    ws.procs.append(a)
    reader = threading.Thread(target=lambda: got.update(out=a.stdout.read()))
    reader.start()
    assert wait_for(lambda: (ws.side / 's.started').exists(), timeout=20)
    b = subprocess.Popen([BLD, 'run', 'f:build'], cwd=ws.root, env=ws._env(D),
                         stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    ws.procs.append(b)                     # b never reads its output
    assert followed(ws, 1), status(ws)
    go(ws)
    time.sleep(3)
    assert a.poll() is None, 'the shared task ran on while a follower could not keep up'
    b.kill()
    b.wait(10)
    reader.join(120)
    assert a.wait(30) == 0
    assert got['out'].count(b'x') == 50000000
    assert no_task_in_flight(ws)


def test_differential_daemon_equals_one_shot_after_random_edits(make_ws):
    """A seeded random walk of edits; after each, with no pause, `bld show tasks --json`
    (hashes and cache status) through the daemon equals the one-shot answer.
    Replay: BLD_DIFF_SEED=<seed> BLD_DIFF_STEPS=<n>."""
    import random
    seed = int(os.environ.get('BLD_DIFF_SEED') or random.randrange(1 << 30))
    steps = int(os.environ.get('BLD_DIFF_STEPS') or 200)
    print(f'differential test: seed {seed}, {steps} steps (BLD_DIFF_SEED={seed} replays)')
    rng = random.Random(seed)
    projects = ['p0', 'p1', 'p2']
    f = {'nx.json': {'namedInputs': {'default': ['{projectRoot}/**/*'],
                                     'production': ['default', '!{projectRoot}/**/*.md']},
                     'targetDefaults': {'build': {'cache': True, 'inputs': ['production', '^production']}}},
         '.gitignore': '.bld\ndist\n'}

    def proj(name, deps):
        return {'name': name, 'implicitDependencies': deps, 'targets': {'build': {
            'command': f'mkdir -p dist/{name} && echo {name} > dist/{name}/o.txt',
            'outputs': [f'{{workspaceRoot}}/dist/{name}']}}}
    for i, p in enumerate(projects):
        f[f'{p}/project.json'] = proj(p, projects[:i][-1:])
        f[f'{p}/src/main.txt'] = p
        f[f'{p}/README.md'] = 'doc'
    f['outside/notes.txt'] = 'x'
    ws = make_ws(f)
    ws.git('checkout', '-q', '-b', 'other')
    ws.write('p0/src/branch.txt', 'only on other')
    ws.commit('other branch')
    ws.git('checkout', '-q', 'main')
    branch = 'main'

    def files_of(p):
        base = ws.root / p
        return [q for q in base.rglob('*') if q.is_file() and q.name != 'project.json']

    def edit(k):
        nonlocal branch
        kind = rng.choice(['create', 'modify', 'delete', 'rename', 'outside', 'md',
                           'project', 'nxjson', 'ignore', 'newproj', 'checkout', 'run',
                           'saveover', 'newdir', 'inflight'])
        p = rng.choice(projects)
        if kind == 'create':
            ws.write(f'{p}/src/f{k}.txt', str(rng.random()))
        elif kind == 'modify' or kind == 'md':
            fs = [q for q in files_of(p) if (q.suffix == '.md') == (kind == 'md')]
            if fs:
                rng.choice(fs).write_text(str(rng.random()))
        elif kind == 'delete':
            fs = files_of(p)
            if len(fs) > 1:
                rng.choice(fs).unlink()
        elif kind == 'rename':
            fs = files_of(p)
            if fs:
                src = rng.choice(fs)
                tmp = src.with_name(src.name + '.tmp')
                tmp.write_text(src.read_text() + '!')
                os.replace(tmp, src.with_name(f'r{k}.txt'))   # an editor's save by rename
                src.unlink(missing_ok=True)
        elif kind == 'saveover':
            fs = files_of(p)
            if fs:   # an editor's save: a temporary file renamed over the old one
                dst = rng.choice(fs)
                tmp = dst.with_name('.' + dst.name + '.swp')
                tmp.write_text(str(rng.random()))
                os.replace(tmp, dst)
        elif kind == 'newdir':   # folders made and filled at once, before any watch on them
            ws.write(f'{p}/src/d{k}/e/f{k}.txt', str(rng.random()))
        elif kind == 'inflight':   # an edit while a request of the daemon runs
            q = ws.spawn('show', 'tasks', '-t', 'build', '--json', env=D)
            fs = files_of(p)
            if fs:
                rng.choice(fs).write_text(str(rng.random()))
            ws.write(f'{p}/src/i{k}.txt', 'x')
            q.communicate(timeout=60)
            assert q.returncode == 0
        elif kind == 'outside':
            ws.write('outside/notes.txt', str(rng.random()))
        elif kind == 'project':
            j = json.loads(ws.read(f'{p}/project.json'))
            j['targets']['build']['options'] = {'v': rng.randrange(5)}
            ws.write(f'{p}/project.json', j)
        elif kind == 'nxjson':
            j = json.loads(ws.read('nx.json'))
            j['namedInputs']['production'] = ['default'] + (
                ['!{projectRoot}/**/*.md'] if rng.random() < 0.5 else [])
            ws.write('nx.json', j)
        elif kind == 'ignore':
            extra = rng.choice(['', '*.tmp\n', 'p1/src/f*\n'])
            ws.write('.gitignore', '.bld\ndist\n' + extra)
        elif kind == 'newproj' and len(projects) < 6:
            name = f'p{len(projects)}'
            ws.write(f'{name}/project.json', proj(name, [rng.choice(projects)]))
            ws.write(f'{name}/src/main.txt', name)
            projects.append(name)
        elif kind == 'checkout':
            ws.git('add', '-A')
            ws.git('stash', '-q', '--include-untracked')
            branch = 'other' if branch == 'main' else 'main'
            ws.git('checkout', '-q', branch)
            projects[:] = sorted(q.parent.name for q in ws.root.glob('*/project.json'))
        elif kind == 'run':
            r = ws.run('run-many', '-t', 'build', env=D)
            assert r.code in (0, 1), r
        return kind

    for k in range(steps):
        kind = edit(k)
        r = ws.run('show', 'tasks', '-t', 'build', '--json', env=D)
        one = ws.run('show', 'tasks', '-t', 'build', '--json', env={'BLD_DAEMON': '0'})
        assert (r.code, r.out, r.err) == (one.code, one.out, one.err), \
            f'seed {seed}, step {k} ({kind}): daemon {r!r}\none-shot {one!r}'
    assert len(daemons_of(ws)) == 1


# -- outputs the daemon vouches for ---------------------------------------------------
# A hit whose outputs the daemon found in place, watching their folders since, skips the
# restore's checks.  Each test below makes the daemon vouch (a third run: vouchedHits
# grows), changes the outputs with no pause, and the next run must still leave them
# byte-exact as the entry has them: with a vouch that ignored that change it would not.

def vouch_files(extra=None):
    f = {
        'nx.json': {'targetDefaults': {'build': {'cache': True}}},
        '.gitignore': '.bld\ndist\n',
        'o/project.json': {'name': 'o', 'targets': {'build': {
            'command': log('o:build') + ' && mkdir -p dist/o/sub && cp o/src/a.txt dist/o/a.txt'
                       ' && echo deep > dist/o/sub/b.txt && echo built o',
            'outputs': ['{workspaceRoot}/dist/o']}}},
        'o/src/a.txt': 'alpha\n',
    }
    f.update(extra or {})
    return f


def tree_of(ws, top='dist/o'):
    """top and every entry below it: path -> (kind, bytes or link text, mode)."""
    out = {}

    def entry(p):
        st = os.lstat(p)
        rel = os.path.relpath(p, ws.root)
        if os.path.islink(p):
            out[rel] = ('link', os.readlink(p), 0)
        elif os.path.isdir(p):
            out[rel] = ('dir', b'', st.st_mode & 0o7777)
        else:
            out[rel] = ('file', open(p, 'rb').read(), st.st_mode & 0o7777)

    base = ws.root / top
    if os.path.lexists(base):
        entry(base)
    for dirpath, dirs, names in os.walk(base):
        for n in dirs + names:
            entry(os.path.join(dirpath, n))
    return out


def vouched(ws, task='o:build'):
    """Run task until the daemon vouches for its outputs; the outputs as stored."""
    r = ws.run('run', task, env=D)                       # a miss: runs, stores
    assert r.code == 0, r
    want = tree_of(ws)
    checked = ws.run('run', task, env=D)                 # a hit, checked: vouched from now
    n = status(ws)['vouchedHits']
    trusted = ws.run('run', task, env=D)                 # a hit on trust
    assert status(ws)['vouchedHits'] == n + 1, status(ws)
    assert (trusted.code, trusted.out) == (checked.code, checked.out), (checked, trusted)
    assert 'local cache' in trusted.out and tree_of(ws) == want
    return want


def rename_over(ws):
    ws.write('dist/o/new.tmp', 'other\n')
    os.rename(ws.root / 'dist/o/new.tmp', ws.root / 'dist/o/a.txt')


def rename_in_from_the_workspace(ws):
    ws.write('o/src/moved.tmp', 'from elsewhere\n')
    os.rename(ws.root / 'o/src/moved.tmp', ws.root / 'dist/o/sub/b.txt')


def dist_made_again(ws):
    import shutil
    shutil.rmtree(ws.root / 'dist')
    ws.write('dist/o/a.txt', 'stale\n')
    ws.write('dist/o/sub/b.txt', 'stale\n')


def dist_moved_away_and_another_in_its_place(ws):
    os.rename(ws.root / 'dist', ws.root / 'dist-old')
    ws.write('dist/o/a.txt', 'alpha\n')
    ws.write('dist/o/sub/b.txt', 'other\n')


def sub_folder_became_a_file(ws):
    import shutil
    shutil.rmtree(ws.root / 'dist/o/sub')
    ws.write('dist/o/sub', 'a file now\n')


def output_folder_became_a_symlink(ws):
    os.rename(ws.root / 'dist/o', ws.root / 'dist/o-real')
    os.symlink('o-real', ws.root / 'dist/o')
    ws.write('dist/o-real/a.txt', 'through the link\n')


CHANGES = {
    'file modified, same size': lambda ws: ws.write('dist/o/a.txt', 'ALPHA\n'),
    'file deleted': lambda ws: os.unlink(ws.root / 'dist/o/sub/b.txt'),
    'file mode changed': lambda ws: os.chmod(ws.root / 'dist/o/a.txt', 0o600),
    'renamed over an output': rename_over,
    'renamed in from a watched folder': rename_in_from_the_workspace,
    'an extra file': lambda ws: ws.write('dist/o/extra.txt', 'extra\n'),
    'an extra folder': lambda ws: ws.write('dist/o/more/f.txt', 'f\n'),
    'dist removed and made again': dist_made_again,
    'dist moved away, another in its place': dist_moved_away_and_another_in_its_place,
    'a folder output became a file': sub_folder_became_a_file,
    'the output folder became a symlink': output_folder_became_a_symlink,
}


@pytest.mark.parametrize('name', list(CHANGES))
def test_a_vouched_output_changed_is_restored(make_ws, name):
    ws = make_ws(vouch_files())
    want = vouched(ws)
    CHANGES[name](ws)
    r = ws.run('run', 'o:build', env=D)                 # no pause after the change
    assert r.code == 0 and 'local cache' in r.out, r
    assert tree_of(ws) == want
    assert ws.ran() == ['o:build'], ws.ran()


def test_a_one_shot_run_writing_other_bytes_drops_the_vouch(make_ws):
    ws = make_ws(vouch_files())
    want = vouched(ws)
    ws.write('o/src/a.txt', 'beta\n')                   # another hash, run without the daemon
    r = ws.run('run', 'o:build', env={'BLD_DAEMON': '0'})
    assert r.code == 0 and ws.read('dist/o/a.txt') == 'beta\n', r
    ws.write('o/src/a.txt', 'alpha\n')                  # back: the vouched entry's hash
    r = ws.run('run', 'o:build', env=D)
    assert r.code == 0 and 'local cache' in r.out, r
    assert tree_of(ws) == want
    assert ws.ran() == ['o:build', 'o:build'], ws.ran()


def test_a_task_writing_into_another_tasks_outputs_drops_its_vouch(make_ws):
    ws = make_ws(vouch_files({'w/project.json': {'name': 'w', 'targets': {'build': {
        'command': log('w:build') + ' && mkdir -p dist/w && echo w > dist/w/w.txt'
                   ' && echo clobbered > dist/o/sub/b.txt',
        'outputs': ['{workspaceRoot}/dist/w']}}}}))
    want = vouched(ws)
    r = ws.run('run', 'w:build', env=D)
    assert r.code == 0 and ws.read('dist/o/sub/b.txt') == 'clobbered\n', r
    r = ws.run('run', 'o:build', env=D)
    assert r.code == 0 and 'local cache' in r.out, r
    assert tree_of(ws) == want


def test_outputs_past_the_watch_share_are_checked_every_time(make_ws):
    """Output folders get at most half the watches (BLD_WATCH_LIMIT here): one that
    cannot be watched makes no vouch, and every hit is checked."""
    ws = make_ws(vouch_files())
    assert ws.run('show', 'projects', env=D).code == 0
    tree = status(ws)['watchedDirs']
    assert ws.run('daemon', 'stop', env=D).code == 0
    # outputs may use watches up to (2 * tree + 4) / 2 = tree + 2: dist and dist/o, not
    # dist/o/sub (the root is the workspace's already)
    env = {**D, 'BLD_WATCH_LIMIT': str(2 * tree + 4)}
    assert ws.run('run', 'o:build', env=env).code == 0
    want = tree_of(ws)
    for n in range(3):
        r = ws.run('run', 'o:build', env=env)
        assert r.code == 0 and 'local cache' in r.out, r
        st = status(ws, env)
        assert not st['fallback'] and st['vouchedHits'] == 0, st
        assert st['vouchedEntries'] == 0 and st['outputWatches'] >= 2, st
        ws.write('dist/o/sub/b.txt', f'changed {n}\n')
        r = ws.run('run', 'o:build', env=env)
        assert r.code == 0 and tree_of(ws) == want, r
    assert ws.ran() == ['o:build']


def test_changes_beside_vouched_outputs_keep_the_vouch(make_ws):
    """Only a change at, above or below an entry's outputs drops its vouch: not another
    task's source edit and outputs written beside it, nor a name that merely starts the
    same."""
    ws = make_ws(vouch_files({'p/project.json': {'name': 'p', 'targets': {'build': {
        'command': 'mkdir -p dist/p && cp p/src/x.txt dist/p/x.txt',
        'outputs': ['{workspaceRoot}/dist/p']}}}, 'p/src/x.txt': 'x\n'}))
    want = vouched(ws)
    for n in range(2):
        ws.write('p/src/x.txt', f'x{n}\n')                     # a source edit
        assert ws.run('run', 'p:build', env=D).code == 0     # writes dist/p, a sibling
        ws.write('dist/o-notes.txt', f'{n}\n')                 # "dist/o" is its prefix
        before = status(ws)['vouchedHits']
        r = ws.run('run', 'o:build', env=D)
        assert r.code == 0 and 'local cache' in r.out, r
        assert status(ws)['vouchedHits'] == before + 1, status(ws)
        assert tree_of(ws) == want
