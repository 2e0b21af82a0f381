#!/usr/bin/python3
"""A fully remote-cached `run-many -t build` of a generated workspace (genws.py) against remote
cache servers on loopback, beside the fully local-cached run in the same session.

Scenarios (hyperfine, medians; every run restores all N tasks, none runs):
  local         the clone's local cache holds every entry; dist/ deleted before each run
  nginx         nginx WebDAV (protocol http); local cache and dist/ deleted before each run
  bazel         bazel-remote (--disable_http_ac_validation), when `go install` can build it
  local-daemon  as local, through the clone's resident daemon (warm workspace host)
  nginx-daemon  as nginx, through the resident daemon: its host keeps the remote cache's
                connections between runs (the local cache is BLD_CACHE_DIR elsewhere, so
                deleting it leaves the daemon's .bld/ alone)

The first clone builds everything once and uploads it; a second clone, in another folder,
is what the scenarios run in.  One-shot engine (BLD_DAEMON=0), as in CI, except the -daemon
scenarios.

    /usr/bin/python3 bench/remote.py --bld build/client/bld --bldd build/daemon/bldd \\
        -n 200 --runs 10
"""

import argparse
import json
import os
import pathlib
import shutil
import subprocess
import sys
import tempfile

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / 'tests' / 'e2e'))
import remote_servers as rs  # noqa: E402


def sh(cmd, **kw):
    return subprocess.run(cmd, shell=True, check=True, **kw)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    ap.add_argument('--bld', required=True)
    ap.add_argument('--bldd', required=True)
    ap.add_argument('-n', '--projects', type=int, default=200)
    ap.add_argument('--runs', type=int, default=10)
    ap.add_argument('--out', default=None, help='JSON results file')
    ap.add_argument('--tmp', default=None, help='folder for the workspaces (e.g. /dev/shm)')
    a = ap.parse_args()
    bld, bldd = os.path.abspath(a.bld), os.path.abspath(a.bldd)
    tmp = pathlib.Path(tempfile.mkdtemp(prefix='bld-remote-bench-', dir=a.tmp))
    servers = []
    clone = tmp / 'elsewhere' / 'two'
    try:
        ws = tmp / 'one'
        subprocess.run([sys.executable, str(HERE / 'genws.py'), '-n', str(a.projects), '-o',
                        str(ws)], check=True, stdout=subprocess.DEVNULL)
        clone.parent.mkdir()
        sh(f'git clone -q {ws} {clone}')
        base = dict(os.environ, BLD=bld, BLDD=bldd, BLD_DAEMON='0', NO_COLOR='1', CI='true')
        base.pop('BLD_REMOTE_CACHE_URL', None)
        scen = {}
        nginx = rs.Nginx(tmp / 'nginx').start()
        servers.append(nginx)
        scen['nginx'] = nginx.url
        binary, why = rs.install_bazel_remote()
        if binary:
            br = rs.BazelRemote(tmp / 'bazel', binary).start()
            servers.append(br)
            scen['bazel-remote'] = br.url
        else:
            print(f'bazel-remote: not measured ({why})', file=sys.stderr)
        for name, url in scen.items():   # fill each server from the first clone
            env = dict(base, BLD_REMOTE_CACHE_URL=url)
            sh(f'rm -rf {ws}/dist {ws}/.bld && {bld} run-many -t build >/dev/null', cwd=ws,
               env=env)
        # the local scenario's cache, filled from the server like a CI machine would be
        env = dict(base, BLD_REMOTE_CACHE_URL=scen['nginx'])
        sh(f'{bld} run-many -t build >/dev/null', cwd=clone, env=env)
        results = {}
        cmds = [('local', 'rm -rf dist', base)]
        for name, url in scen.items():
            cmds.append((name, 'rm -rf dist .bld', dict(base, BLD_REMOTE_CACHE_URL=url)))
        # the daemon starts after the one-shot scenarios, whose `rm -rf .bld` would take
        # its socket away
        dcache = tmp / 'daemon-cache'
        daemon = dict(base, BLD_DAEMON='1', BLD_CACHE_DIR=str(dcache))
        fill = dict(daemon, BLD_REMOTE_CACHE_URL=scen['nginx'])
        cmds.append(('local-daemon', 'rm -rf dist', daemon))
        cmds.append(('nginx-daemon', f'rm -rf dist {dcache}',
                     dict(daemon, BLD_REMOTE_CACHE_URL=scen['nginx'])))
        for name, prep, env in cmds:
            if name == 'local-daemon':   # fills dcache from nginx, through the daemon
                sh(f'{bld} run-many -t build >/dev/null', cwd=clone, env=fill)
            out = tmp / f'{name}.json'
            subprocess.run(['hyperfine', '-N', '--runs', str(a.runs), '--warmup', '1',
                            '--prepare', prep, '--export-json', str(out),
                            f'{bld} run-many -t build'], cwd=clone, env=env, check=True,
                           stdout=subprocess.DEVNULL)
            r = json.loads(out.read_text())['results'][0]
            results[name] = {'median_s': r['median'], 'mean_s': r['mean'],
                             'min_s': r['min'], 'max_s': r['max']}
            print(f'{name:14s} median {r["median"] * 1000:8.1f} ms  '
                  f'(min {r["min"] * 1000:.1f}, max {r["max"] * 1000:.1f}, {a.runs} runs)')
        sh(f'{bld} daemon stop >/dev/null', cwd=clone, env=daemon)
        # where the remote time goes: one more remote run with phase timings
        env = dict(base, BLD_REMOTE_CACHE_URL=scen['nginx'], BLD_DEBUG='1')
        sh('rm -rf dist .bld', cwd=clone)
        t = subprocess.run([bld, 'run-many', '-t', 'build'], cwd=clone, env=env,
                           capture_output=True, text=True)
        phases = [l for l in (t.stdout + t.stderr).splitlines() if l.startswith('bld: ')]
        print('\n'.join(phases))
        st = subprocess.run([bld, 'cache', 'stats', '--json'], cwd=clone, env=env,
                            capture_output=True, text=True)
        remote = json.loads(st.stdout).get('remote', {})
        print('remote counters of the clone (all runs):', remote)
        results['phases_nginx'] = phases
        results['artifact_bytes'] = sum(p.stat().st_size for p in nginx.artifacts())
        print('artifacts on nginx:', len(nginx.artifacts()), 'files,',
              results['artifact_bytes'], 'bytes')
        if a.out:
            pathlib.Path(a.out).write_text(json.dumps(results, indent=2) + '\n')
    finally:
        if clone.exists():
            subprocess.run([bld, 'daemon', 'stop'], cwd=clone, stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL, env=dict(os.environ, BLD=bld, BLDD=bldd))
        for s in servers:
            s.stop()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == '__main__':
    main()
