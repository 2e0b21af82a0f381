#!/usr/bin/python3
"""`bld run <project>:bundle` beside `nx run <project>:bundle` in a workspace made by the real
@aws/nx-plugin (the one tests/e2e/test_aws_plugin.py makes and keeps in $BLD_E2E_NPM_DIR).

One hyperfine run, four commands, medians:
  bld cold     bld run P:bundle --skip-cache     (dist/ deleted before each run)
  nx cold      nx run P:bundle --skip-nx-cache   (dist/ deleted before each run)
  bld cached   bld run P:bundle                  (outputs in place, entries in the cache)
  nx cached    nx run P:bundle
Cold runs execute the plugin's targets: compile (@nxlv/python:build: uv build; bld runs it
natively, Nx through @nxlv/python) and bundle-x86 (uv export + uv pip install --target,
~2,900 files), with uv's own cache warm for both.  Both tools as in CI: bld one-shot
(BLD_DAEMON=0), Nx without its daemon (NX_DAEMON=false), no Nx Cloud, no TUI.  uv uses a
present CPython 3.12 (UV_PYTHON), as in the test.

    UV_CACHE_DIR=/tmp/bld-ci-cache/uv BLD_E2E_NPM_DIR=/tmp/bld-ci-cache/npm \\
    /usr/bin/python3 bench/plugin.py --bld build/client/bld --bldd build/daemon/bldd --runs 10
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


def main():
    ap = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    ap.add_argument('--bld', required=True)
    ap.add_argument('--bldd', required=True)
    ap.add_argument('--runs', type=int, default=10)
    ap.add_argument('--out', default=None, help='JSON results file')
    a = ap.parse_args()
    os.environ['BLD'] = bld = os.path.abspath(a.bld)
    os.environ['BLDD'] = os.path.abspath(a.bldd)
    sys.path.insert(0, str(HERE.parent / 'tests' / 'e2e'))
    import test_aws_plugin as t  # noqa: E402  (after BLD is set: conftest reads it)
    if t.PY312 is None:
        sys.exit('bench/plugin.py: no CPython 3.12 on this machine (see test_aws_plugin.py)')
    tmp = pathlib.Path(tempfile.mkdtemp(prefix='bld-plugin-bench-'))
    try:
        home = tmp / 'home'
        home.mkdir()
        src = t.generated_workspace(home)
        ws = tmp / 'ws'
        env = t.env_for(home, BLD_DAEMON='0', NX_CACHE_DIRECTORY=str(tmp / 'nx-cache'))
        t.sh(['git', 'clone', '-q', str(src), str(ws)], tmp, env)
        (ws / 'node_modules').symlink_to(src / 'node_modules')
        project = json.loads((ws / 'packages/my_api/project.json').read_text())['name']
        nx = str(ws / 'node_modules/.bin/nx')
        out = tmp / 'hyperfine.json'
        cmds = [('bld cold', f'{bld} run {project}:bundle --skip-cache', 'rm -rf dist'),
                ('nx cold', f'{nx} run {project}:bundle --skip-nx-cache', 'rm -rf dist'),
                ('bld cached', f'{bld} run {project}:bundle', 'true'),
                ('nx cached', f'{nx} run {project}:bundle', 'true')]
        argv = ['hyperfine', '-N', '--runs', str(a.runs), '--warmup', '1',
                '--export-json', str(out)]
        for name, cmd, prep in cmds:
            argv += ['--prepare', prep]
        for name, cmd, prep in cmds:
            argv += ['-n', name, cmd]
        subprocess.run(argv, cwd=ws, env=env, check=True)
        # The cached rows must be cache hits: each says so once more after the timing.
        for name, cmd, _ in cmds[2:]:
            said = subprocess.run(cmd.split(), cwd=ws, env=env, capture_output=True, text=True)
            tail = [l for l in said.stdout.splitlines() if 'cache' in l]
            print(f'{name}: {tail[-1].strip() if tail else "NOT A CACHE HIT"}')
            if said.returncode or not tail or 'cache' not in tail[-1]:
                sys.exit(f'bench/plugin.py: {name} did not read the cache:\n{said.stdout}')
        res = {r['command']: r for r in json.loads(out.read_text())['results']}
        summary = {}
        for name, _, _ in cmds:
            r = res[name]
            summary[name] = {k: r[k] for k in ('median', 'mean', 'min', 'max', 'user', 'system')}
        for kind in ('cold', 'cached'):
            b, n = res[f'bld {kind}'], res[f'nx {kind}']
            summary[f'{kind} nx/bld'] = n['median'] / b['median']
            cpu = lambda r: (r['user'] + r['system']) * 1000   # mean CPU of the tool and children
            print(f'{kind:7s} bld median {b["median"] * 1000:8.0f} ms (CPU {cpu(b):6.0f} ms)   '
                  f'nx median {n["median"] * 1000:8.0f} ms (CPU {cpu(n):6.0f} ms)   '
                  f'nx/bld {n["median"] / b["median"]:5.1f}x')
        files = sum(1 for p in (ws / 'dist/packages/my_api/bundle-x86').rglob('*') if p.is_file())
        summary['bundle_files'] = files
        print(f'project {project}, bundle-x86 files: {files}, {a.runs} runs each')
        if a.out:
            pathlib.Path(a.out).write_text(json.dumps(summary, indent=2) + '\n')
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == '__main__':
    main()
