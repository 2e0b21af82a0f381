"""The remote cache against real servers on loopback (remote_servers.py): nginx WebDAV,
bazel-remote, Nx's self-hosted API, turborepo-remote-cache.  Two clones in different folders,
each with its own local cache, share one server: the second clone's run-many runs nothing and
its outputs are byte-exact.  Then what must never happen: read-only writes, a tampered,
truncated or foreign artifact restored, a dead server failing the build, a token printed.
"""

import json
import os
import shutil
import subprocess
import threading
import time

import pytest

from conftest import log
import remote_servers as rs

NX = {'targetDefaults': {'build': {'cache': True}}}


def build_cmd(name, extra=''):
    return (log(f'{name}:build') + f' && mkdir -p dist/{name}/sub && '
            f'echo built-{name} > dist/{name}/out.txt && '
            f"printf '\\000\\001\\377{name}' > dist/{name}/sub/bin.dat && "
            f'printf "#!/bin/sh\\necho hi\\n" > dist/{name}/run.sh && '
            f'chmod 751 dist/{name}/run.sh && ln -sf out.txt dist/{name}/link && '
            f'echo terminal-of-{name}{extra}')


def files(names=('a', 'b', 'c')):
    f = {'nx.json': NX, '.gitignore': 'dist\n.bld\n'}
    for i, n in enumerate(names):
        deps = [names[i + 1]] if i + 1 < len(names) else []
        f[f'{n}/project.json'] = {'name': n, 'implicitDependencies': deps, 'targets': {
            'build': {'command': build_cmd(n), 'outputs': [f'{{workspaceRoot}}/dist/{n}']}}}
        f[f'{n}/src/main.txt'] = f'source of {n}\n'
    return f


def snapshot(root):
    out = {}
    for dirpath, dirs, fs in os.walk(root):
        for name in dirs + fs:
            p = os.path.join(dirpath, name)
            st = os.lstat(p)
            rel = os.path.relpath(p, root)
            if os.path.islink(p):
                out[rel] = ('link', os.readlink(p))
            elif os.path.isdir(p):
                out[rel] = ('dir', st.st_mode & 0o7777)
            else:
                out[rel] = ('file', st.st_mode & 0o7777, open(p, 'rb').read())
    return out


_CLONES = []


@pytest.fixture(autouse=True)
def _cleanup_clones():
    """Clones are Workspaces make_ws does not know: stop their daemons (e2e-daemon) too."""
    yield
    while _CLONES:
        _CLONES.pop().cleanup()


def clone(ws, dest):
    """A second clone of ws in another folder, as a Workspace (its own .bld/cache)."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    subprocess.run(['git', 'clone', '-q', str(ws.root), str(dest)], check=True,
                   env={'PATH': os.environ.get('PATH', '/usr/bin:/bin'), 'HOME': str(ws.home),
                        'GIT_CONFIG_NOSYSTEM': '1', 'GIT_CONFIG_GLOBAL': '/dev/null'})
    ws2 = type(ws).__new__(type(ws))
    ws2.__dict__.update(ws.__dict__)
    ws2.root = dest
    ws2.procs = []
    _CLONES.append(ws2)
    return ws2


def run_many(ws, env):
    ws.clear_log()
    r = ws.run('run-many', '-t', 'build', env=env)
    assert r.code == 0, r
    return r


def two_clones(make_ws, tmp_path, env):
    """First clone builds and uploads; the second, elsewhere, restores everything remotely."""
    ws = make_ws(files(), folder='one')
    r = run_many(ws, env)
    assert sorted(ws.ran()) == ['a:build', 'b:build', 'c:build'], r
    assert 'warn' not in r.both.lower(), r
    other = clone(ws, tmp_path / 'far' / 'away' / 'two')
    r2 = run_many(other, env)
    assert ws.ran() == [], r2
    assert r2.out.count('[remote cache]') == 3, r2
    assert 'terminal-of-a' in r2.out
    assert snapshot(other.root / 'dist') == snapshot(ws.root / 'dist')
    # the remote hits are local entries now: a third run is all local
    r3 = run_many(other, env)
    assert ws.ran() == [] and r3.out.count('[local cache]') == 3, r3
    return ws, other


# ---- nginx (WebDAV) ----

@pytest.fixture
def nginx(tmp_path):
    s = rs.Nginx(tmp_path / 'nginx').start()
    yield s
    s.stop()


def http_env(server, **kw):
    env = {'BLD_REMOTE_CACHE_URL': server.url, 'BLD_REMOTE_CACHE_PROTOCOL': 'http'}
    env.update(kw)
    return env


def test_nginx_two_clones_share_the_cache(make_ws, tmp_path, nginx):
    two_clones(make_ws, tmp_path, http_env(nginx))
    keys = [p.relative_to(nginx.store).as_posix() for p in nginx.artifacts()]
    assert len(keys) == 3 and all(k.startswith('ac/') and len(k) == 67 for k in keys), keys


def test_resident_daemon_keeps_its_remote_connections_across_requests(make_ws, tmp_path,
                                                                    nginx):
    """The workspace host keeps the remote cache's transport (keyed by its configuration),
    so a second request to the same daemon reuses the first one's TCP connections; a
    one-shot engine cannot."""
    ws = make_ws(files())
    daemon = http_env(nginx, BLD_DAEMON='1')
    run_many(ws, dict(daemon, BLD_CACHE_DIR=str(tmp_path / 'c1')))   # builds, uploads
    puts, misses = nginx.connections('PUT', 3), nginx.connections('GET', 3)
    assert len(puts) == 3, puts
    # a fresh local cache: every task is a GET (a hit) now, through the same daemon
    r = run_many(ws, dict(daemon, BLD_CACHE_DIR=str(tmp_path / 'c2')))
    assert r.out.count('[remote cache]') == 3, r
    gets = nginx.connections('GET', len(misses) + 3)[len(misses):]
    # (parallel downloads may open more connections beside the kept ones)
    assert len(gets) == 3 and set(gets) & set(puts + misses), (puts, misses, gets)
    st = ws.run('daemon', 'status', '--json', env=daemon)
    assert st.code == 0 and json.loads(st.out)['remoteLinks'] == 1, st
    # another configuration (read-only) is another link; the first is kept too
    r = run_many(ws, dict(daemon, BLD_CACHE_DIR=str(tmp_path / 'c3'),
                          BLD_REMOTE_CACHE_READ_ONLY='1'))
    assert r.out.count('[remote cache]') == 3, r
    st = ws.run('daemon', 'status', '--json', env=daemon)
    assert st.code == 0 and json.loads(st.out)['remoteLinks'] == 2, st
    # at most 4 configurations are kept; a fifth still works, over a link of its own
    for token in ('t3', 't4', 't5'):
        env = dict(daemon, BLD_CACHE_DIR=str(tmp_path / f'c-{token}'),
                   BLD_REMOTE_CACHE_TOKEN=token)
        r = ws.run('show', 'tasks', '-t', 'build', env=env)
        assert r.code == 0 and r.out.count('remote hit') == 3, r
    st = ws.run('daemon', 'status', '--json', env=daemon)
    assert st.code == 0 and json.loads(st.out)['remoteLinks'] == 4, st
    # the one-shot engine connects anew
    r = run_many(ws, dict(daemon, BLD_DAEMON='0', BLD_CACHE_DIR=str(tmp_path / 'c4')))
    assert r.out.count('[remote cache]') == 3, r
    oneshot = nginx.connections('GET', len(misses) + 9)[-3:]
    assert not set(oneshot) & set(puts + misses + gets), (puts, misses, gets, oneshot)


def test_stats_count_remote_hits_and_bytes(make_ws, tmp_path, nginx):
    env = http_env(nginx)
    ws, other = two_clones(make_ws, tmp_path, env)
    r = other.run('cache', 'stats', '--json', env=env)
    assert r.code == 0, r
    import json
    remote = json.loads(r.out)['remote']
    assert remote['hits'] == 3 and remote['bytes_down'] > 0, remote
    r = ws.run('cache', 'stats', env=env)
    assert 'remote:' in r.out and '3 uploads' in r.out, r


@pytest.mark.parametrize('kind', ['nginx', 'nx'])
def test_show_tasks_says_remote_hit(make_ws, tmp_path, kind):
    server = (rs.Nginx(tmp_path / 'srv') if kind == 'nginx' else rs.NxApi(tmp_path / 'srv')).start()
    try:
        env = http_env(server) if kind == 'nginx' else nx_env(server, server.token)
        ws, other = upload_then_other_clone(make_ws, tmp_path, server, env)
        other.write('a/src/main.txt', 'changed\n')
        r = other.run('show', 'tasks', '-t', 'build', env=env)
        assert r.code == 0, r
        rows = {l.split()[0]: l.split(None, 2)[2] for l in r.out.splitlines()[1:] if l.strip()}
        assert rows == {'a:build': 'miss', 'b:build': 'remote hit', 'c:build': 'remote hit'}, r
        import json
        r = other.run('show', 'tasks', '-t', 'build', '--json', env=env)
        assert {t['id']: t['cache'] for t in json.loads(r.out)}['b:build'] == 'remote'
        if kind == 'nx':
            assert not [l for l in requests_of(server) if l.startswith('HEAD')]
        server.stop()
        r = other.run('show', 'tasks', '-t', 'build', env=env)
        assert r.code == 0 and r.both.count('local cache only') == 1, r
    finally:
        server.stop()


def test_read_only_never_writes(make_ws, nginx):
    ws = make_ws(files())
    run_many(ws, http_env(nginx, BLD_REMOTE_CACHE_READ_ONLY='1'))
    assert sorted(ws.ran()) == ['a:build', 'b:build', 'c:build']
    assert nginx.artifacts() == []
    assert not [l for l in (nginx.dir / 'access.log').read_text().splitlines() if '"PUT ' in l]


def upload_then_other_clone(make_ws, tmp_path, server, env):
    ws = make_ws(files(), folder='one')
    run_many(ws, env)
    return ws, clone(ws, tmp_path / 'elsewhere' / 'two')


@pytest.mark.parametrize('damage', ['tampered', 'truncated', 'foreign'])
def test_bad_artifacts_are_refused_and_the_task_runs(make_ws, tmp_path, nginx, damage):
    env = http_env(nginx)
    ws, other = upload_then_other_clone(make_ws, tmp_path, nginx, env)
    arts = nginx.artifacts()
    assert len(arts) == 3
    # the artifact of one task, changed on the server
    victim = max(arts, key=lambda p: p.stat().st_size)
    data = victim.read_bytes()
    if damage == 'tampered':
        data = data[:-20] + bytes(b ^ 0x55 for b in data[-20:-10]) + data[-10:]
    elif damage == 'truncated':
        data = data[:len(data) // 2]
    else:
        data = next(p for p in arts if p != victim).read_bytes()
    victim.chmod(0o644)
    victim.write_bytes(data)
    other.clear_log()
    r = other.run('run-many', '-t', 'build', env=env)
    assert r.code == 0, r
    assert len(ws.ran()) == 1, r
    assert r.both.count('artifact was refused') == 1, r
    assert snapshot(other.root / 'dist') == snapshot(ws.root / 'dist')


def test_server_down_from_the_start_degrades_with_one_warning(make_ws):
    ws = make_ws(files())
    port = rs.free_port()
    env = {'BLD_REMOTE_CACHE_URL': f'http://127.0.0.1:{port}'}
    r = run_many(ws, env)
    assert sorted(ws.ran()) == ['a:build', 'b:build', 'c:build']
    assert r.both.count('remote cache http://127.0.0.1') == 1, r
    assert 'local cache only' in r.both


def test_server_stopped_mid_run_build_succeeds_with_one_warning(make_ws, tmp_path, nginx):
    names = [f'p{i}' for i in range(6)]
    f = files(names)
    # p3 (in the middle of the chain) stops the server while it runs
    stop = tmp_path / 'stop-now'
    f['p3/project.json']['targets']['build']['command'] = (
        f'touch {stop} && while [ -e {stop} ]; do sleep 0.05; done && ' + build_cmd('p3'))
    ws = make_ws(f)
    done = threading.Event()

    def stopper():
        while not stop.exists() and not done.is_set():
            time.sleep(0.02)
        nginx.stop()
        stop.unlink(missing_ok=True)

    t = threading.Thread(target=stopper)
    t.start()
    try:
        ws.clear_log()
        r = ws.run('run-many', '-t', 'build', env=http_env(nginx))
    finally:
        done.set()
        t.join()
    assert r.code == 0, r
    assert sorted(ws.ran()) == sorted(f'{n}:build' for n in names)
    assert r.both.count('local cache only') == 1, r


def test_wrong_token_warns_clearly_and_never_prints_it(make_ws, tmp_path):
    server = rs.Nginx(tmp_path / 'authed', token='right-token').start()
    try:
        ws = make_ws(files())
        secret = 'wrong-secret-token-4711'
        r = run_many(ws, http_env(server, BLD_REMOTE_CACHE_TOKEN=secret))
        assert '401' in r.both and 'BLD_REMOTE_CACHE_TOKEN' in r.both, r
        assert r.both.count('local cache only') == 1, r
        assert secret not in r.both
        r = ws.run('run-many', '-t', 'build', '--verbose', env=http_env(
            server, BLD_REMOTE_CACHE_TOKEN=secret))
        assert secret not in r.both, r
        r = ws.run('cache', 'stats', env=http_env(server, BLD_REMOTE_CACHE_TOKEN=secret))
        assert secret not in r.both
        r = ws.run('daemon', 'logs', env={})   # through the daemon: its log neither
        assert secret not in r.both
        for p in (ws.root / '.bld').rglob('*.log'):
            assert secret not in p.read_text(errors='replace'), p
        # and the right one works
        ws.run('reset', env={})
        good = http_env(server, BLD_REMOTE_CACHE_TOKEN='right-token')
        run_many(ws, good)
        assert len(server.artifacts()) == 3
    finally:
        server.stop()


def test_nx_json_bld_section_configures_and_env_wins(make_ws, tmp_path, nginx):
    f = files()
    f['nx.json'] = dict(NX, bld={'BLD_REMOTE_CACHE_URL': nginx.url})
    ws = make_ws(f)
    run_many(ws, {})
    assert len(nginx.artifacts()) == 3
    ws.write('a/src/main.txt', 'changed\n')
    run_many(ws, {'BLD_REMOTE_CACHE_READ_ONLY': 'true'})
    assert len(nginx.artifacts()) == 3


def test_bad_protocol_setting_is_a_warning_not_a_failure(make_ws, nginx):
    ws = make_ws(files())
    r = run_many(ws, http_env(nginx, BLD_REMOTE_CACHE_PROTOCOL='ftp'))
    assert 'BLD_REMOTE_CACHE_PROTOCOL' in r.both and 'not one of http, nx, turborepo' in r.both
    assert nginx.artifacts() == []


# ---- bazel-remote ----

@pytest.fixture(scope='module')
def bazel_remote_binary():
    binary, why = rs.install_bazel_remote()
    if not binary:
        pytest.skip(f'bazel-remote unavailable: {why}')
    return binary


def test_bazel_remote_two_clones_share_the_cache(make_ws, tmp_path, bazel_remote_binary):
    s = rs.BazelRemote(tmp_path / 'bazel-remote', bazel_remote_binary).start()
    try:
        two_clones(make_ws, tmp_path, http_env(s))
    finally:
        s.stop()


# ---- Nx's self-hosted API ----

@pytest.fixture
def nxapi(tmp_path):
    s = rs.NxApi(tmp_path / 'nxapi').start()
    yield s
    s.stop()


def nx_env(server, token):
    return {'BLD_REMOTE_CACHE_URL': server.url, 'BLD_REMOTE_CACHE_PROTOCOL': 'nx',
            'BLD_REMOTE_CACHE_TOKEN': token}


def requests_of(server):
    p = server.dir / 'requests.log'
    return p.read_text().splitlines() if p.exists() else []


def test_nx_api_two_clones_share_the_cache(make_ws, tmp_path, nxapi):
    two_clones(make_ws, tmp_path, nx_env(nxapi, nxapi.token))
    reqs = requests_of(nxapi)
    assert sum(1 for l in reqs if l.startswith('PUT ') and l.endswith(' 200')) == 3, reqs
    assert not [l for l in reqs if l.startswith('HEAD')]


def test_nx_api_read_only_token_stops_uploading_keeps_reading(make_ws, tmp_path, nxapi):
    env = nx_env(nxapi, nxapi.token)
    ws, other = upload_then_other_clone(make_ws, tmp_path, nxapi, env)
    before = len(nxapi.artifacts())
    ro = nx_env(nxapi, nxapi.ro_token)
    other.write('a/src/main.txt', 'changed in the clone\n')
    other.clear_log()
    r = other.run('run-many', '-t', 'build', env=ro)
    assert r.code == 0, r
    assert ws.ran() == ['a:build'], r          # b and c: remote hits through the ro token
    assert r.both.count('(403)') == 1 and 'reading only' in r.both, r
    assert len(nxapi.artifacts()) == before


def test_nx_api_401_names_the_server_not_the_token(make_ws, nxapi):
    ws = make_ws(files())
    r = run_many(ws, nx_env(nxapi, 'not-a-valid-token-123'))
    assert sorted(ws.ran()) == ['a:build', 'b:build', 'c:build']
    assert '401' in r.both and nxapi.url in r.both, r
    assert 'not-a-valid-token-123' not in r.both


def test_nx_api_already_there_is_fine(make_ws, tmp_path, nxapi):
    env = nx_env(nxapi, nxapi.token)
    ws = make_ws(files(), folder='one')
    run_many(ws, env)
    ws.run('reset', env={})
    r = run_many(ws, dict(env, BLD_REMOTE_CACHE_URL=nxapi.url))  # all remote hits now
    assert ws.ran() == [] and 'warn' not in r.both.lower(), r


# ---- turborepo-remote-cache ----

def turbo_env(server, key=None):
    env = {'BLD_REMOTE_CACHE_URL': server.url, 'BLD_REMOTE_CACHE_PROTOCOL': 'turborepo',
           'TURBO_TOKEN': server.token, 'TURBO_TEAMID': 'team_bld'}
    if key:
        env['BLD_REMOTE_CACHE_SIGNING_KEY'] = key
    return env


def test_turborepo_two_clones_share_the_cache(make_ws, tmp_path):
    s = rs.Turbo(tmp_path / 'turbo').start()
    try:
        two_clones(make_ws, tmp_path, turbo_env(s))
        assert len(s.artifacts()) == 3
    finally:
        s.stop()


def test_turborepo_signed_artifacts(make_ws, tmp_path):
    key = 'signing-key-for-tests'
    s = rs.Turbo(tmp_path / 'turbo', key=key).start()
    try:
        ws, other = two_clones(make_ws, tmp_path, turbo_env(s, key))
        # another key: every artifact's tag is wrong, so each is refused and runs
        third = clone(ws, tmp_path / 'third')
        third.clear_log()
        r = third.run('run-many', '-t', 'build', env=turbo_env(s, 'another-key'))
        assert r.code == 0, r
        assert sorted(ws.ran()) == ['a:build', 'b:build', 'c:build'], r
        assert r.both.count('signature is missing or wrong') == 3, r
    finally:
        s.stop()


# ---- docs/ci.md's workflow, with the remote cache ----

def test_ci_recipe_main_writes_fork_pull_request_reads_only(make_ws, tmp_path, nginx):
    """main: read-write; a fork's pull request: read-only, sharded `affected`, as docs/ci.md."""
    names = [f'p{i}' for i in range(6)]
    ws = make_ws(files(names), folder='main-ci')
    main_env = http_env(nginx, BLD_CACHE_DIR=str(tmp_path / 'ci-cache-main'))
    r = ws.run('run-many', '-t', 'build', '--shard', '1/2', env=main_env)
    assert r.code == 0, r
    r = ws.run('run-many', '-t', 'build', '--shard', '2/2', env=main_env)
    assert r.code == 0, r
    stored = len(nginx.artifacts())
    assert stored == 6
    pr = clone(ws, tmp_path / 'fork' / 'pr')
    pr.git('checkout', '-q', '-b', 'feature')
    pr.write('p5/src/main.txt', 'changed by the pull request\n')
    pr.commit('change p5')
    ro = http_env(nginx, BLD_REMOTE_CACHE_READ_ONLY='1',
                  BLD_CACHE_DIR=str(tmp_path / 'ci-cache-pr'))
    ws.clear_log()
    for shard in ('1/2', '2/2'):
        r = pr.run('affected', '-t', 'build', '--base=origin/main', '--shard', shard, env=ro)
        assert r.code == 0, r
    # p5 changed: it and everything that depends on it rebuild (p0..p4 depend on it through the
    # chain); nothing was uploaded from the pull request
    assert sorted(set(ws.ran())) == sorted(f'{n}:build' for n in names)
    assert len(nginx.artifacts()) == stored
    # a pull request that changes nothing restores everything from the remote cache
    pr2 = clone(ws, tmp_path / 'fork' / 'pr2')
    ws.clear_log()
    r = pr2.run('run-many', '-t', 'build', env=http_env(
        nginx, BLD_REMOTE_CACHE_READ_ONLY='1', BLD_CACHE_DIR=str(tmp_path / 'ci-cache-pr2')))
    assert r.code == 0 and ws.ran() == [] and r.out.count('[remote cache]') == 6, r
