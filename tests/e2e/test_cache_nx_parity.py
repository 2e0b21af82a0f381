"""Differential check against real Nx: one workspace and one sequence of edits under Nx (the
oracle, /work/shared/tools/nx-oracle or $NX_ORACLE) and under bld; after each edit the same
tasks must rerun.  Skipped unless NX_ORACLE names the oracle script (it needs Nx from npm).

    NX_ORACLE=/work/shared/tools/nx-oracle meson test -C build test_cache_nx_parity
"""
import json
import os
import shutil
import subprocess

import pytest

from conftest import BLD

ORACLE = os.environ.get('NX_ORACLE', '')
pytestmark = pytest.mark.skipif(not (ORACLE and os.access(ORACLE, os.X_OK)),
                                reason='set NX_ORACLE to the nx-oracle script to compare with Nx')


def mkws(root, log):
    if os.path.exists(root): shutil.rmtree(root)
    os.makedirs(root)
    def w(rel, content):
        p = os.path.join(root, rel); os.makedirs(os.path.dirname(p), exist_ok=True)
        open(p, 'w').write(content if isinstance(content, str) else json.dumps(content, indent=1))
    w('nx.json', {'namedInputs': {'default': ['{projectRoot}/**/*'],
                                  'production': ['default', '!{projectRoot}/**/*.md']},
                  'targetDefaults': {'build': {'cache': True}}})
    w('.gitignore', 'dist\n.bld\nnode_modules\n.nx\n.nx-oracle-cache\n')
    def proj(name, deps=(), **t):
        tgt = {'command': f'echo {name} >> {log}; mkdir -p dist/{name}; cat {name}/src/main.txt > dist/{name}/o.js; echo {name} > dist/{name}/o.txt',
               'outputs': [f'{{workspaceRoot}}/dist/{name}']}
        tgt.update(t)
        j = {'name': name, 'implicitDependencies': list(deps), 'targets': {'build': tgt, 'test': {'command': 'true', 'options': {'x': 1}}}}
        w(f'{name}/project.json', j)
        w(f'{name}/src/main.txt', name)
        w(f'{name}/README.md', 'doc')
    proj('a', ['b'])
    proj('b')
    proj('c', ['b'], inputs=['{projectRoot}/**/*'])
    proj('d', ['b'], inputs=['production', '^production'])
    proj('e', inputs=['default', {'env': 'MYVAR'}])
    proj('f', dependsOn=['b:build'])
    proj('g', inputs=['{workspaceRoot}/shared/**/*', '!{workspaceRoot}/shared/**/*.md', '{projectRoot}/**/*'])
    proj('h', inputs=[{'runtime': 'cat rt.txt'}])
    proj('j', ['b'], inputs=['{projectRoot}/**/*', {'dependentTasksOutputFiles': '**/*.js', 'transitive': True}], dependsOn=['^build'])
    proj('k', ['a'], inputs=['default', '^default'])
    proj('m', ['k'], inputs=['production', '^production'])
    proj('p', inputs=['{projectRoot}/**/*', {'input': 'production', 'projects': ['b']}])
    proj('q', inputs=['{projectRoot}/**/*'])
    w('q/sub/project.json', {'name': 'qsub', 'targets': {}})
    w('q/sub/x.txt', 'x')
    proj('r')  # its own "default" is narrower; a target without inputs still hashes all files
    jr = json.load(open(os.path.join(root, 'r/project.json')))
    jr['namedInputs'] = {'default': ['{projectRoot}/src/**/*']}
    w('r/project.json', jr)
    w('shared/x.txt', 'x'); w('shared/y.md', 'y'); w('rt.txt', '1'); w('README.md', 'root')
    w('m/namedin.txt', 'n')
    subprocess.run('git init -q . && git add -A && git -c user.name=x -c user.email=x@x commit -qm init', shell=True, cwd=root, check=True)

def edit(root, rel, content, append=True):
    p = os.path.join(root, rel); os.makedirs(os.path.dirname(p), exist_ok=True)
    with open(p, 'a' if append else 'w') as f: f.write(content)

def jedit(root, rel, fn):
    p = os.path.join(root, rel); j = json.load(open(p)); fn(j); json.dump(j, open(p, 'w'), indent=1)

STEPS = [
    ('initial', None),
    ('rerun', None),
    ('edit b/src', lambda r: edit(r, 'b/src/main.txt', 'x')),
    ('edit b/README.md', lambda r: edit(r, 'b/README.md', 'x')),
    ('edit d/README.md', lambda r: edit(r, 'd/README.md', 'x')),
    ('edit root README', lambda r: edit(r, 'README.md', 'x')),
    ('b test options', lambda r: jedit(r, 'b/project.json', lambda j: j['targets']['test']['options'].update(x=2))),
    ('b build inputs (not hashed config)', lambda r: jedit(r, 'b/project.json', lambda j: j['targets']['build'].update(inputs=['default']))),
    ('shared/x.txt', lambda r: edit(r, 'shared/x.txt', 'x')),
    ('shared/y.md', lambda r: edit(r, 'shared/y.md', 'x')),
    ('rt.txt', lambda r: edit(r, 'rt.txt', '2', False)),
    ('env MYVAR', 'MYVAR'),
    ('edit k/src', lambda r: edit(r, 'k/src/main.txt', 'x')),
    ('edit a/src', lambda r: edit(r, 'a/src/main.txt', 'x')),
    ('edit a/README.md', lambda r: edit(r, 'a/README.md', 'x')),
    ('m project namedInputs', lambda r: jedit(r, 'm/project.json', lambda j: j.update(namedInputs={'production': ['{projectRoot}/src/**/*']}))),
    ('edit m/namedin.txt', lambda r: edit(r, 'm/namedin.txt', 'x')),
    ('b tags', lambda r: jedit(r, 'b/project.json', lambda j: j.update(tags=['t']))),
    ('tsconfig.base.json', lambda r: edit(r, 'tsconfig.base.json', '{"compilerOptions": {"strict": true}}', False)),
    ('nx.json touch', lambda r: jedit(r, 'nx.json', lambda j: j.update(defaultBase='main'))),
    ('untracked b/src/new.txt', lambda r: edit(r, 'b/src/new.txt', 'new')),
    ('delete b/src/new.txt', lambda r: os.remove(os.path.join(r, 'b/src/new.txt'))),
    ('nested q/sub/x.txt', lambda r: edit(r, 'q/sub/x.txt', 'y')),
    ('q/other.txt', lambda r: edit(r, 'q/other.txt', 'y')),
    ('gitignored b/src/x.log', lambda r: (edit(r, '.gitignore', '*.log\n'), None) and None),
    ('b/src/x.log (ignored)', lambda r: edit(r, 'b/src/x.log', 'y')),
    ('r/README.md (outside its default)', lambda r: edit(r, 'r/README.md', 'x')),
    ('rm dist', lambda r: shutil.rmtree(os.path.join(r, 'dist'))),
]

def run(tool, root, log, env):
    open(log, 'w').close()
    e = dict(os.environ, **env)
    if tool == 'nx':
        p = subprocess.run([ORACLE, root, 'run-many', '-t', 'build'], env=e, capture_output=True,
                           text=True)
    else:
        e['BLD_DAEMON'] = '0'
        p = subprocess.run([BLD, 'run-many', '-t', 'build'], cwd=root, env=e,
                           capture_output=True, text=True)
    assert p.returncode == 0, (tool, p.stdout[-2000:], p.stderr[-2000:])
    return sorted(open(log).read().split())


def test_same_tasks_rerun_as_in_nx(tmp_path):
    roots = {t: str(tmp_path / f'{t}-ws') for t in ('nx', 'bld')}
    logs = {t: str(tmp_path / f'{t}.log') for t in ('nx', 'bld')}
    for t in roots:
        mkws(roots[t], logs[t])
    env, report, bad = {}, [], 0
    for name, act in STEPS:
        if act == 'MYVAR':
            env = {'MYVAR': '1'}
        elif act:
            for t in roots:
                act(roots[t])
        res = {t: run(t, roots[t], logs[t], env) for t in roots}
        same = res['nx'] == res['bld']
        bad += not same
        report.append(f"{'OK  ' if same else 'DIFF'} {name:38s} nx={' '.join(res['nx'])}  "
                      f"bld={' '.join(res['bld'])}")
    assert not bad, '\n'.join(report)
