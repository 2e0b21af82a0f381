"""bld affected, show projects --affected, show tasks --affected: real git repositories with
branches; the global-file rules are the ones docs/affected.md gives (watched in Nx 22.1.3)."""

import json
import subprocess

from conftest import log


def project(name, deps=(), inputs=None, cmd=None):
    t = {'command': cmd or log(name + ':build'), 'cache': True, 'outputs': []}
    if inputs is not None:
        t['inputs'] = inputs
    p = {'name': name, 'targets': {'build': t}}
    if deps:
        p['implicitDependencies'] = list(deps)
    return p


def files():
    return {
        'nx.json': {'namedInputs': {'sharedGlobals': ['{workspaceRoot}/global.txt'],
                                    'default': ['{projectRoot}/**/*', 'sharedGlobals'],
                                    'production': ['default', '!{projectRoot}/README.md']}},
        'package.json': {'name': 'root', 'private': True,
                         'dependencies': {'lodash': '4.0.0', 'left-pad': '1.0.0'}},
        'tsconfig.base.json': {'compilerOptions': {'target': 'es2020', 'paths': {
            '@x/core': ['libs/core/src/index.ts'], '@x/ui': ['libs/ui/src/index.ts']}}},
        'package-lock.json': {'name': 'root', 'lockfileVersion': 3, 'packages': {}},
        'pyproject.toml': '[project]\nname = "root"\n',
        'uv.lock': 'version = 1\n',
        '.nxignore': '',
        '.gitignore': '.bld\nignored.txt\n',
        'global.txt': 'g\n',
        'libs/core/project.json': project('core'),
        'libs/core/package.json': {'name': 'core-pkg', 'dependencies': {'lodash': '4.0.0'}},
        'libs/core/src/index.ts': 'export const core = 1;\n',
        'libs/ui/project.json': project('ui', ['core']),
        'libs/ui/src/index.ts': 'export const ui = 1;\n',
        'apps/web/project.json': project('web', ['ui']),
        'apps/web/main.ts': 'web\n',
        'apps/leaf/project.json': project('leaf', inputs=['production']),
        'apps/leaf/main.ts': 'leaf\n',
        'apps/leaf/README.md': 'readme\n',
        'tools/notes.txt': 'outside every project\n',
    }


ALL = ['core', 'leaf', 'ui', 'web']


def branch(ws):
    ws.git('checkout', '-q', '-b', 'feature')


def affected(ws, *extra, env=None):
    r = ws.run('show', 'projects', '--affected', *extra, env=env)
    assert r.code == 0, r
    return sorted(r.out.split())


def change(ws, path, text):
    ws.write(path, text)
    ws.commit('change ' + path)


def test_leaf_change_affects_just_it(make_ws):
    ws = make_ws(files())
    branch(ws)
    change(ws, 'apps/leaf/main.ts', 'leaf 2\n')
    assert affected(ws) == ['leaf']


def test_library_change_affects_dependents_transitively(make_ws):
    ws = make_ws(files())
    branch(ws)
    change(ws, 'libs/core/src/index.ts', 'export const core = 2;\n')
    assert affected(ws) == ['core', 'ui', 'web']
    assert affected(ws, '--base=main', '--head', 'HEAD') == ['core', 'ui', 'web']


def test_global_file_rules(make_ws):
    ws = make_ws(files())
    branch(ws)
    cases = [
        ('nx.json', lambda t: t.replace('"sharedGlobals":', '"x": [], "sharedGlobals":'), ALL),
        ('package-lock.json', lambda t: t.replace('3', '2'), ALL),
        ('package.json', lambda t: t.replace('4.0.0', '4.1.0'), ['core', 'ui', 'web']),
        ('package.json', lambda t: t.replace('"private": true', '"private": false'), []),
        ('package.json', lambda t: t.replace(', "left-pad": "1.0.0"', ''), ALL),
        ('tsconfig.base.json', lambda t: t.replace('libs/ui/src/index.ts', 'libs/ui/src/m.ts'),
         ['ui', 'web']),
        ('tsconfig.base.json', lambda t: t.replace('es2020', 'es2022'), ALL),
        ('pyproject.toml', lambda t: t + '# x\n', []),
        ('uv.lock', lambda t: t + '# x\n', []),
        ('.gitignore', lambda t: t + 'other\n', []),
        ('.nxignore', lambda t: t + 'other\n', []),
        # only targets that write inputs count (Nx reads target.inputs, not the defaults)
        ('global.txt', lambda t: t + 'h\n', ['leaf']),
        ('tools/notes.txt', lambda t: t + 'x\n', []),
    ]
    for path, edit, want in cases:
        ws.git('checkout', '-q', '-B', 'feature', 'main')
        before = ws.read(path)
        ws.write(path, edit(json.dumps(json.loads(before)) if path.endswith('.json') else before))
        assert ws.read(path) != before, path
        ws.commit('edit ' + path)
        assert affected(ws, '--head=HEAD') == want, (path, ws.git('show', '--stat', 'HEAD'))


def test_uncommitted_and_untracked_count_ignored_do_not(make_ws):
    ws = make_ws(files())
    branch(ws)
    ws.write('apps/leaf/main.ts', 'leaf unstaged\n')
    assert affected(ws) == ['leaf']
    ws.git('checkout', '--', 'apps/leaf/main.ts')
    ws.write('apps/web/new.ts', 'untracked\n')
    assert affected(ws) == ['web']
    ws.git('add', 'apps/web/new.ts')
    assert affected(ws) == ['web']                     # staged
    ws.git('reset', '-q', 'apps/web/new.ts')
    (ws.root / 'apps/web/new.ts').unlink()
    ws.write('libs/core/ignored.txt', 'ignored\n')
    assert affected(ws) == []
    ws.write('apps/leaf/main.ts', 'leaf unstaged\n')
    assert affected(ws, '--head=HEAD') == []           # with --head, uncommitted do not count


def test_uncommitted_and_untracked_flags_as_nx(make_ws):
    # watched in Nx 22.1.3: --uncommitted is `git diff HEAD` (staged, unstaged, deletions),
    # --untracked `git ls-files --others --exclude-standard`; committed changes count in neither
    ws = make_ws(files())
    branch(ws)
    change(ws, 'apps/leaf/main.ts', 'committed\n')
    ws.write('libs/ui/src/index.ts', 'unstaged\n')
    ws.write('apps/web/staged.ts', 'staged\n')
    ws.git('add', 'apps/web/staged.ts')
    ws.write('libs/core/new/deep.ts', 'untracked\n')
    ws.write('apps/leaf/ignored.txt', 'ignored\n')
    assert affected(ws, '--uncommitted') == ['ui', 'web']
    assert affected(ws, '--untracked') == ['core', 'ui', 'web']
    assert affected(ws) == ALL
    ws.git('checkout', '-q', '--', 'libs/ui/src/index.ts')
    ws.git('rm', '-q', '--cached', 'apps/web/staged.ts')
    ws.git('rm', '-q', 'libs/ui/src/index.ts')              # a deletion counts as uncommitted
    assert affected(ws, '--uncommitted') == ['ui', 'web']
    r = ws.run('affected', '-t', 'build', '--untracked', '--dry-run', '--json')
    assert r.code == 0, r
    assert sorted(t['id'] for t in json.loads(r.out) if t['requested']) == \
        ['core:build', 'ui:build', 'web:build']
    # Nx refuses these pairs; so does bld (exit 2, naming both)
    for pair in (['--uncommitted', '--untracked'], ['--untracked', '--base=main'],
                 ['--uncommitted', '--head=HEAD'], ['--files=x', '--untracked']):
        r = ws.run('show', 'projects', '--affected', *pair)
        names = [a.split('=')[0] for a in pair]
        assert r.code == 2 and all(n in r.err for n in names), (pair, r)
    # the environment's NX_BASE does not conflict
    assert affected(ws, '--untracked', env={'NX_BASE': 'nope'}) == ['core', 'ui', 'web']


def test_rename_counts_for_both_projects_and_deletion_for_its_path(make_ws):
    ws = make_ws(files())
    branch(ws)
    ws.git('mv', 'apps/leaf/main.ts', 'libs/ui/moved.ts')
    ws.commit('rename')
    assert affected(ws) == ['leaf', 'ui', 'web']
    ws.git('checkout', '-q', '-B', 'feature', 'main')
    ws.git('rm', '-q', 'apps/web/main.ts')
    ws.commit('delete')
    assert affected(ws) == ['web']


def test_deleted_project_does_not_crash(make_ws):
    ws = make_ws(files())
    branch(ws)
    ws.git('rm', '-q', '-r', 'apps/leaf')
    ws.commit('drop leaf')
    assert affected(ws) == ['core', 'ui', 'web']       # a removed project.json: every project
    r = ws.run('affected', '-t', 'build', '--dry-run')
    assert r.code == 0, r


def test_files_option_and_nx_base_head(make_ws):
    ws = make_ws(files())
    assert affected(ws, '--files', 'libs/ui/src/index.ts,apps/leaf/main.ts') == \
        ['leaf', 'ui', 'web']
    assert affected(ws, '--files=tools/notes.txt') == []
    branch(ws)
    change(ws, 'apps/leaf/main.ts', 'leaf 2\n')
    first = ws.git('rev-parse', 'HEAD').strip()
    change(ws, 'libs/ui/src/index.ts', 'ui 2\n')
    assert affected(ws, env={'NX_BASE': 'main', 'NX_HEAD': first}) == ['leaf']
    assert affected(ws, env={'NX_BASE': first}) == ['ui', 'web']
    # flags win over the environment
    assert affected(ws, '--base=main', env={'NX_BASE': first}) == ['leaf', 'ui', 'web']


def test_default_base_from_nx_json(make_ws):
    f = files()
    f['nx.json']['defaultBase'] = 'trunk'
    ws = make_ws(f)
    ws.git('branch', 'trunk')
    branch(ws)
    change(ws, 'apps/leaf/main.ts', 'leaf 2\n')
    assert affected(ws) == ['leaf']
    ws.git('branch', '-D', 'trunk')
    r = ws.run('show', 'projects', '--affected')
    assert r.code == 2 and 'unknown git ref "trunk"' in r.err, r
    # the older spelling, as Nx reads it: nx.json affected.defaultBase
    ws.git('branch', 'old', 'main')
    f['nx.json'] = {'affected': {'defaultBase': 'old'}}
    ws.write('nx.json', f['nx.json'])
    assert affected(ws, '--head=HEAD') == ['leaf']


def test_detached_head_works(make_ws):
    ws = make_ws(files())
    branch(ws)
    change(ws, 'apps/leaf/main.ts', 'leaf 2\n')
    ws.git('checkout', '-q', '--detach')
    assert affected(ws) == ['leaf']


def test_dry_run_lists_exactly_what_a_run_executes(make_ws):
    ws = make_ws(files())
    branch(ws)
    change(ws, 'libs/ui/src/index.ts', 'ui 2\n')
    r = ws.run('affected', '-t', 'build', '--dry-run', '--json')
    assert r.code == 0, r
    tasks = json.loads(r.out)
    assert sorted(t['id'] for t in tasks) == ['ui:build', 'web:build']
    assert all(t['status'] == 'will-run' and len(t['hash']) == 32 for t in tasks)
    assert ws.ran() == []                               # nothing ran
    r = ws.run('affected', '-t', 'build')
    assert r.code == 0, r
    assert sorted(ws.ran()) == ['ui:build', 'web:build']
    ws.clear_log()
    r = ws.run('affected', '-t', 'build', '--dry-run', '--json')
    assert [t['status'] for t in json.loads(r.out)] == ['local-hit', 'local-hit']
    r = ws.run('show', 'tasks', '-t', 'build', '--affected')
    assert r.code == 0 and 'local hit' in r.out and 'ui:build' in r.out, r
    assert 'leaf:build' not in r.out
    r = ws.run('affected', '-t', 'build')
    assert r.code == 0 and ws.ran() == [], r


def test_errors_exit_2_and_say_what_to_do(make_ws, tmp_path):
    ws = make_ws(files())
    r = ws.run('show', 'projects', '--affected', '--base=nope')
    assert r.code == 2 and 'unknown git ref "nope"' in r.err, r
    r = ws.run('affected', '-t', 'build', '--head=nope')
    assert r.code == 2 and 'unknown git ref "nope"' in r.err, r
    plain = make_ws({'nx.json': {}, 'a/project.json': project('a')}, git=False,
                    folder='plain')
    r = plain.run('show', 'projects', '--affected')
    assert r.code == 2 and 'not in a git repository' in r.err and '--files' in r.err, r
    assert plain.run('show', 'projects', '--affected', '--files=a/x').out.split() == ['a']
    # a shallow clone without the merge-base
    branch(ws)
    for i in range(3):
        change(ws, 'apps/leaf/main.ts', f'leaf {i}\n')
    ws.git('checkout', '-q', 'main')
    change(ws, 'apps/web/main.ts', 'web on main\n')
    clone = tmp_path / 'shallow'
    subprocess.run(['git', 'clone', '-q', '--depth=1', '--no-single-branch',
                    'file://' + str(ws.root), str(clone)], check=True)
    subprocess.run(['git', '-C', str(clone), 'checkout', '-q', 'feature'], check=True)
    r = ws.run('show', 'projects', '--affected', '--base=origin/main', cwd=clone)
    assert r.code == 2 and 'shallow clone' in r.err and 'pass --files' in r.err, r


def test_shard_splits_the_affected_tasks(make_ws):
    ws = make_ws(files())
    branch(ws)
    change(ws, 'libs/core/src/index.ts', 'export const core = 3;\n')
    seen = []
    for i in (1, 2):
        r = ws.run('affected', '-t', 'build', '--dry-run', '--json', f'--shard={i}/2')
        assert r.code == 0, r
        seen.append({t['id'] for t in json.loads(r.out) if t.get('requested', True)})
    assert not (seen[0] & seen[1])
    assert seen[0] | seen[1] == {'core:build', 'ui:build', 'web:build'}


def by_inputs(ws, *extra):
    return affected(ws, '-t', 'build', '--by-inputs', *extra)


def test_by_inputs_leaves_out_a_task_whose_inputs_did_not_change(make_ws):
    """--by-inputs compares each task's hash with its hash at the merge-base, the latter
    computed from git's trees (no checkout): docs/affected.md."""
    ws = make_ws(files())
    branch(ws)
    change(ws, 'apps/leaf/README.md', 'readme 2\n')      # production excludes it
    assert affected(ws) == ['leaf']                         # Nx's project-level rule
    assert by_inputs(ws) == []
    r = ws.run('affected', '-t', 'build', '--by-inputs', '--dry-run', '--json')
    assert r.code == 0 and json.loads(r.out) == [], r
    r = ws.run('affected', '-t', 'build', '--by-inputs')   # a real run: nothing to do
    assert r.code == 0 and ws.ran() == [], r
    change(ws, 'apps/leaf/main.ts', 'leaf 2\n')           # an input: its hash changes
    assert by_inputs(ws) == ['leaf']
    r = ws.run('affected', '-t', 'build', '--by-inputs')
    assert r.code == 0 and ws.ran() == ['leaf:build'], r
    r = ws.run('show', 'tasks', '-t', 'build', '--affected', '--by-inputs', '--json')
    assert r.code == 0 and [t['id'] for t in json.loads(r.out)] == ['leaf:build'], r
    r = ws.run('show', 'projects', '--affected', '-t', 'build', '--by-inputs', '--verbose')
    base = ws.git('merge-base', 'main', 'HEAD').strip()
    assert r.code == 0 and 'compared with those at %s' % base in r.err, r
    ws.git('checkout', '-q', '-B', 'feature', 'main')
    change(ws, 'libs/core/src/index.ts', 'export const core = 4;\n')
    # ui and web hash core's files through "^default": all three change
    assert by_inputs(ws) == ['core', 'ui', 'web']


def test_by_inputs_deletions_new_files_and_configuration(make_ws):
    ws = make_ws(files())
    branch(ws)
    ws.git('rm', '-q', 'apps/leaf/README.md')              # deleted, not an input
    ws.commit('drop readme')
    assert affected(ws) == ['leaf'] and by_inputs(ws) == []
    ws.git('rm', '-q', 'apps/leaf/main.ts')                # deleted input
    ws.commit('drop main')
    assert by_inputs(ws) == ['leaf']
    ws.git('checkout', '-q', '-B', 'feature', 'main')
    change(ws, 'apps/web/extra.ts', 'new\n')               # a new file the input glob matches
    assert by_inputs(ws) == ['web']
    ws.git('checkout', '-q', '-B', 'feature', 'main')
    # only compilerOptions.paths: the mapped projects by Nx's rule; Nx leaves paths out of
    # the hashed tsconfig, so no hash changes
    change(ws, 'tsconfig.base.json',
           ws.read('tsconfig.base.json').replace('libs/ui/src/index.ts', 'libs/ui/src/m.ts'))
    assert affected(ws) == ['ui', 'web'] and by_inputs(ws) == []
    # a project's configuration is one input of each of its tasks (as in Nx): another
    # target's options change the build hash too
    leaf = json.loads(ws.read('apps/leaf/project.json'))
    leaf['targets']['lint'] = {'command': 'true', 'options': {'x': 1}}
    change(ws, 'apps/leaf/project.json', json.dumps(leaf))
    assert by_inputs(ws) == ['leaf']
    # sharedGlobals: Nx's project rule counts only targets that write `inputs` (leaf); the
    # hashes also change where "^default" brings it in (ui, web: dependencies' default
    # named input), not for core (no inputs key: its own files and ^default, no deps)
    ws.git('checkout', '-q', '-B', 'feature', 'main')
    change(ws, 'global.txt', 'g 2\n')
    assert affected(ws) == ['leaf'] and by_inputs(ws) == ['leaf', 'ui', 'web']
    # nx.json is hashed into every task (as Nx does): even a target default no task uses
    nx = json.loads(ws.read('nx.json'))
    nx['targetDefaults'] = {'lint': {'cache': True}}
    change(ws, 'nx.json', json.dumps(nx))
    assert by_inputs(ws) == ALL


def test_by_inputs_head_and_working_tree_sides(make_ws):
    ws = make_ws(files())
    branch(ws)
    change(ws, 'apps/leaf/main.ts', 'leaf 2\n')
    ws.write('libs/core/src/index.ts', 'uncommitted\n')
    ws.write('apps/web/untracked.ts', 'untracked\n')
    assert by_inputs(ws) == ALL                              # HEAD plus the working tree
    assert by_inputs(ws, '--head=HEAD') == ['leaf']          # head's tree, not the disk
    assert by_inputs(ws, '--base=main', '--head', 'main') == []
    assert by_inputs(ws, '--uncommitted') == ['core', 'ui', 'web']
    assert by_inputs(ws, '--untracked') == ['web']
    ws.write('libs/core/src/index.ts', 'export const core = 1;\n')  # back as committed
    assert by_inputs(ws, '--uncommitted') == []
    # a new project since the base: its task has no base hash
    ws.write('apps/fresh/project.json', json.dumps(project('fresh')))
    ws.write('apps/fresh/main.ts', 'fresh\n')
    ws.commit('fresh')
    assert 'fresh' in by_inputs(ws, '--head=HEAD')
    r = ws.run('show', 'projects', '--affected', '--by-inputs')
    assert r.code == 2 and '-t' in r.err, r
    r = ws.run('show', 'projects', '--affected', '-t', 'build', '--by-inputs', '--files=x')
    assert r.code == 2 and '--files' in r.err, r


def test_workspace_below_the_repository_top(make_ws):
    ws = make_ws({**{'mono/' + k: v for k, v in files().items()}, 'README.md': 'top\n'})
    sub = ws.root / 'mono'
    branch(ws)
    ws.write('mono/apps/leaf/README.md', 'readme 2\n')
    ws.write('mono/libs/ui/src/index.ts', 'ui 2\n')
    ws.write('README.md', 'outside the workspace\n')
    ws.commit('edits')

    def projects(*extra):
        r = ws.run('show', 'projects', '--affected', *extra, cwd=sub)
        assert r.code == 0, r
        return sorted(r.out.split())
    assert projects() == ['leaf', 'ui', 'web']
    assert projects('-t', 'build', '--by-inputs') == ['ui', 'web']
    ws.write('mono/libs/core/src/index.ts', 'uncommitted\n')
    assert projects('-t', 'build', '--by-inputs', '--uncommitted') == ['core', 'ui', 'web']
    assert projects('-t', 'build', '--by-inputs', '--head=HEAD') == ['ui', 'web']


def task_hashes(ws, cwd=None):
    r = ws.run('show', 'tasks', '-t', 'build', '--json', cwd=cwd)
    assert r.code == 0, r
    return {t['id']: t['hash'] for t in json.loads(r.out)}


def test_by_inputs_equals_the_hashes_of_a_checkout_of_the_merge_base(make_ws):
    """Differential: --by-inputs (merge-base hashes from git's trees) against the hashes
    `show tasks` gives in a real checkout of the merge-base (a git worktree), after seeded
    random edits, committed or not.  Replay: BLD_DIFF_SEED=<seed>."""
    import os
    import random
    seed = int(os.environ.get('BLD_DIFF_SEED') or random.randrange(1 << 30))
    rng = random.Random(seed)
    ws = make_ws(files())
    base_dir = ws.base / 'base-checkout'
    ws.git('worktree', 'add', '-q', '--detach', str(base_dir), 'main')
    at_base = task_hashes(ws, cwd=base_dir)
    edits = [
        lambda: ws.write('apps/leaf/README.md', 'readme %d\n' % rng.randrange(99)),
        lambda: ws.write('apps/leaf/main.ts', 'leaf %d\n' % rng.randrange(99)),
        lambda: ws.write('apps/web/new%d.ts' % rng.randrange(3), 'new\n'),
        lambda: ws.write('libs/core/src/index.ts', 'core %d\n' % rng.randrange(99)),
        lambda: ws.write('libs/ui/src/extra.ts', 'ui\n'),
        lambda: ws.write('global.txt', 'g %d\n' % rng.randrange(99)),
        lambda: ws.write('tools/notes.txt', 'notes %d\n' % rng.randrange(99)),
        lambda: ws.write('tsconfig.base.json', ws.read('tsconfig.base.json').replace(
            'libs/ui/src/index.ts', 'libs/ui/src/m%d.ts' % rng.randrange(9))),
        lambda: ws.write('libs/core/project.json', json.dumps(dict(
            project('core'), targets={'build': project('core')['targets']['build'],
                                      'lint': {'command': 'true %d' % rng.randrange(9)}}))),
        lambda: (ws.root / 'apps/web/main.ts').unlink(missing_ok=True),
        lambda: (ws.root / 'apps/leaf/README.md').unlink(missing_ok=True),
    ]
    for step in range(12):
        ws.git('checkout', '-q', '-f', '-B', 'feature', 'main')
        ws.git('clean', '-q', '-fd', '-e', '.bld')
        for _ in range(rng.randint(1, 3)):
            rng.choice(edits)()
        if rng.random() < 0.6:
            ws.commit('step %d' % step)
        now = task_hashes(ws)
        changed = sorted({i.split(':')[0] for i in now if now[i] != at_base.get(i)})
        rule = affected(ws)                  # Nx's project rule, for the message
        got = by_inputs(ws)
        assert got == changed, (seed, step, rule, ws.git('status', '-s'),
                                ws.git('diff', 'main', '--stat'))
    ws.git('worktree', 'remove', '--force', str(base_dir))


def test_by_inputs_when_the_merge_base_cannot_be_loaded(make_ws):
    fs = files()
    fs['apps/leaf/project.json'] = '{"name": "leaf", "targets": {'      # malformed on main
    ws = make_ws(fs)
    branch(ws)
    ws.write('apps/leaf/project.json', json.dumps(project('leaf', inputs=['production'])))
    ws.commit('fix leaf')
    r = ws.run('show', 'projects', '--affected', '-t', 'build', '--by-inputs')
    assert r.code == 0 and sorted(r.out.split()) == ALL, r    # every candidate
    assert 'cannot be loaded' in r.err and 'apps/leaf/project.json' in r.err, r
