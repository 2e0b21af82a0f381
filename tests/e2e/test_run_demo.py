"""The README's demo workspace (examples/demo): `bld run hello:bundle` builds the whole
chain in order and leaves a runnable bundle.  Keeps scripts/demo.sh honest.
"""

import os
import pathlib
import shutil
import subprocess

from conftest import clean_env

DEMO = pathlib.Path(os.environ.get('BLD_SOURCE_ROOT', pathlib.Path(__file__).parents[2])) / 'examples' / 'demo'


def demo_ws(make_ws):
    files = {}
    for p in DEMO.rglob('*'):
        if p.is_file() and not {'dist', '.bld', '__pycache__'} & set(p.relative_to(DEMO).parts):
            files[str(p.relative_to(DEMO))] = p.read_bytes()
    return make_ws(files)


def test_demo_bundle_runs_the_chain_and_works(make_ws):
    ws = demo_ws(make_ws)
    r = ws.run('run', 'hello:bundle')
    assert r.code == 0, r
    out = r.out
    order = [out.find(s) for s in ('built packages/words', 'built packages/greet',
                                   'built apps/hello', 'hello: tests passed', 'bundle: dist/apps/hello/bundle')]
    assert -1 not in order and order == sorted(order), r
    run_sh = ws.root / 'dist/apps/hello/bundle/run.sh'
    p = subprocess.run([str(run_sh), 'e2e'], env=clean_env(ws.home), stdout=subprocess.PIPE, text=True)
    assert p.returncode == 0 and p.stdout == 'Hello, e2e!\n', p


def test_demo_bundle_is_self_contained(make_ws):
    ws = demo_ws(make_ws)
    r = ws.run('run', 'hello:bundle')
    assert r.code == 0, r
    bundle = ws.root / 'dist/apps/hello/bundle'
    moved = ws.side / 'bundle'
    shutil.copytree(bundle, moved)
    shutil.rmtree(ws.root / 'dist')
    p = subprocess.run([str(moved / 'run.sh'), 'there'], env=clean_env(ws.home),
                       stdout=subprocess.PIPE, text=True)
    assert p.stdout == 'Hello, there!\n', p


def test_demo_is_a_listed_workspace(make_ws):
    ws = demo_ws(make_ws)
    r = ws.run('show', 'projects')
    assert r.code == 0, r
    assert sorted(r.out.split()) == ['greet', 'hello', 'words']
