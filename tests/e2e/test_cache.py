"""The task cache end to end: what reruns after which edit, byte-exact restores, failures,
env inputs, two clones sharing one cache, `cache why`, and the cache commands.

Whether a command really ran is read from a log outside the workspace (conftest's side log).
"""

import json
import os
import shutil
import stat
import subprocess

from conftest import log

NX = {
    'namedInputs': {
        'default': ['{projectRoot}/**/*'],
        'production': ['default', '!{projectRoot}/**/*.md'],
    },
    'targetDefaults': {'build': {'cache': True}},
}


def build_cmd(name):
    """A build that logs itself and writes dist/<name>: text, binary, an executable, a symlink."""
    return (log(f'{name}:build') + f' && mkdir -p dist/{name}/sub && '
            f'echo built-{name} > dist/{name}/out.txt && '
            f"printf '\\000\\001\\377{name}' > dist/{name}/sub/bin.dat && "
            f'printf "#!/bin/sh\\necho hi\\n" > dist/{name}/run.sh && chmod 751 dist/{name}/run.sh && '
            f'ln -sf out.txt dist/{name}/link && echo terminal-of-{name}')


def project(name, deps=(), inputs=None, extra=None):
    t = {'command': build_cmd(name), 'outputs': [f'{{workspaceRoot}}/dist/{name}']}
    if inputs is not None:
        t['inputs'] = inputs
    t.update(extra or {})
    return {'name': name, 'implicitDependencies': list(deps), 'targets': {'build': t}}


def files(projects):
    f = {'nx.json': NX, '.gitignore': 'dist\n.bld\n'}
    for p in projects:
        f[f'{p["name"]}/project.json'] = p
        f[f'{p["name"]}/src/main.txt'] = f'source of {p["name"]}\n'
        f[f'{p["name"]}/README.md'] = 'docs\n'
    return f


def ran(ws):
    return sorted(ws.ran())


def run_all(ws, *extra, env=None):
    ws.clear_log()
    r = ws.run('run-many', '-t', 'build', *extra, env=env)
    assert r.code == 0, r
    return ran(ws)


def snapshot(root):
    """Every path below root: (kind, mode, bytes or link target)."""
    out = {}
    for dirpath, dirnames, filenames in os.walk(root):
        for n in dirnames + filenames:
            p = os.path.join(dirpath, n)
            st = os.lstat(p)
            rel = os.path.relpath(p, root)
            if stat.S_ISLNK(st.st_mode):
                out[rel] = ('link', os.readlink(p))
            elif stat.S_ISDIR(st.st_mode):
                out[rel] = ('dir', stat.S_IMODE(st.st_mode))
            else:
                out[rel] = ('file', stat.S_IMODE(st.st_mode), open(p, 'rb').read())
    return out


def test_rerun_runs_nothing(make_ws):
    ws = make_ws(files([project('a', ['b']), project('b')]))
    assert run_all(ws) == ['a:build', 'b:build']
    assert run_all(ws) == []


def test_deleted_outputs_restore_byte_exact(make_ws):
    ws = make_ws(files([project('a')]))
    run_all(ws)
    before = snapshot(ws.root / 'dist')
    shutil.rmtree(ws.root / 'dist')
    ws.clear_log()
    r = ws.run('run', 'a:build')
    assert r.code == 0, r
    assert ws.ran() == []
    assert 'terminal-of-a' in r.out  # the recorded terminal output is replayed
    assert snapshot(ws.root / 'dist') == before
    assert snapshot(ws.root / 'dist')['a/run.sh'][1] == 0o751
    assert snapshot(ws.root / 'dist')['a/link'] == ('link', 'out.txt')


def test_restore_replaces_changed_outputs_only_inside_declared(make_ws):
    ws = make_ws(files([project('a')]))
    run_all(ws)
    before = snapshot(ws.root / 'dist')
    (ws.root / 'dist/a/out.txt').write_text('tampered\n')
    (ws.root / 'dist/a/extra.txt').write_text('extra\n')
    (ws.root / 'dist/keep.txt').write_text('not an output\n')
    assert run_all(ws) == []
    after = snapshot(ws.root / 'dist')
    assert after.pop('keep.txt')[2] == b'not an output\n'
    assert after == before


def test_editing_an_input_reruns_exactly_the_affected(make_ws):
    ws = make_ws(files([project('a', ['b']), project('b'), project('c')]))
    run_all(ws)
    ws.write('b/src/main.txt', 'edited\n')
    assert run_all(ws) == ['a:build', 'b:build']
    assert run_all(ws) == []
    ws.write('c/src/new.txt', 'new file\n')
    assert run_all(ws) == ['c:build']


def test_negated_file_does_not_rerun(make_ws):
    ws = make_ws(files([project('a', ['b'], inputs=['production', '^production']),
                        project('b', inputs=['production'])]))
    run_all(ws)
    ws.write('a/README.md', 'edited docs\n')
    ws.write('b/README.md', 'edited docs\n')
    assert run_all(ws) == []
    ws.write('b/src/main.txt', 'edited\n')
    assert run_all(ws) == ['a:build', 'b:build']


def test_dependency_edits_follow_caret_inputs(make_ws):
    ws = make_ws(files([
        project('dflt', ['lib']),                                   # default inputs
        project('prod', ['lib'], inputs=['production', '^production']),
        project('own', ['lib'], inputs=['{projectRoot}/**/*']),      # own files only
        project('lib', inputs=['{projectRoot}/**/*']),
    ]))
    run_all(ws)
    ws.write('lib/src/main.txt', 'edited\n')
    assert run_all(ws) == ['dflt:build', 'lib:build', 'prod:build']


def test_depends_on_alone_is_not_a_hash_dependency(make_ws):
    # Nx 22 (oracle): a:build dependsOn b:build, default inputs, no project-graph edge:
    # editing b reruns only b.
    ws = make_ws(files([project('a', extra={'dependsOn': ['b:build']}), project('b')]))
    run_all(ws)
    ws.write('b/src/main.txt', 'edited\n')
    assert run_all(ws) == ['b:build']


def test_env_input_change_reruns(make_ws):
    ws = make_ws(files([project('a', inputs=['default', {'env': 'MY_FLAG'}]), project('b')]))
    assert run_all(ws, env={'MY_FLAG': '1'}) == ['a:build', 'b:build']
    assert run_all(ws, env={'MY_FLAG': '1'}) == []
    assert run_all(ws, env={'MY_FLAG': '2'}) == ['a:build']
    assert run_all(ws, env={'MY_FLAG': '2', 'UNRELATED': 'x'}) == []


def test_failure_is_not_cached(make_ws):
    fail = {'command': log('a:build') + ' && test -f @SIDE@/ok', 'outputs': []}
    ws = make_ws(files([{'name': 'a', 'targets': {'build': fail}}]))
    ws.clear_log()
    assert ws.run('run', 'a:build').code == 1
    assert ws.run('run', 'a:build').code == 1
    assert ws.ran() == ['a:build', 'a:build']
    (ws.side / 'ok').write_text('')
    assert ws.run('run', 'a:build').code == 0
    assert ws.run('run', 'a:build').code == 0
    assert ws.ran() == ['a:build'] * 3


def test_deep_chains_restore_in_one_pass_and_misses_go_on_after(make_ws):
    # e -> d -> c -> b -> a: the first preparation restores every level at once; a task
    # behind one that is not cached (n) or that misses (edited) is prepared after it ran
    deep = [project('e', ['d']), project('d', ['c']), project('c', ['b']), project('b', ['a']),
            project('a')]
    after_n = [project('m', ['n']), project('n', extra={'cache': False})]
    ws = make_ws(files(deep + after_n))
    assert run_all(ws) == ['a:build', 'b:build', 'c:build', 'd:build', 'e:build', 'm:build',
                           'n:build']
    before = snapshot(ws.root / 'dist')
    hashes = task_hashes(ws)
    shutil.rmtree(ws.root / 'dist')
    assert run_all(ws) == ['n:build']
    assert snapshot(ws.root / 'dist') == before
    assert task_hashes(ws) == hashes
    ws.write('c/src/main.txt', 'edited\n')
    assert run_all(ws) == ['c:build', 'd:build', 'e:build', 'n:build']
    after = task_hashes(ws)
    assert {k for k in after if after[k][0] != hashes[k][0]} == {'c:build', 'd:build', 'e:build'}
    assert all(after[k][1] == 'local' for k in after if k != 'n:build'), after


def test_cache_false_and_skip_cache_run_everything(make_ws):
    nocache = project('n', extra={'cache': False})
    ws = make_ws(files([project('a'), nocache]))
    assert run_all(ws) == ['a:build', 'n:build']
    assert run_all(ws) == ['n:build']
    # the engine decides what is cacheable (the store takes any hash): no entry for n
    r = ws.run('cache', 'ls', '--json')
    assert r.code == 0, r
    assert [e['task'] for e in json.loads(r.out)] == ['a:build']
    assert run_all(ws, '--skip-cache') == ['a:build', 'n:build']
    assert run_all(ws, env={'BLD_SKIP_CACHE': '1'}) == ['a:build', 'n:build']


def task_hashes(ws, env=None):
    r = ws.run('show', 'tasks', '-t', 'build', '--json', env=env)
    assert r.code == 0, r
    return {t['id']: (t['hash'], t.get('cache')) for t in json.loads(r.out)}


def test_two_clones_share_a_cache_with_identical_hashes(make_ws, tmp_path):
    ws = make_ws(files([project('a', ['b']), project('b')]))
    shared = tmp_path / 'shared-cache'
    env = {'BLD_CACHE_DIR': str(shared)}
    assert run_all(ws, env=env) == ['a:build', 'b:build']
    clone = tmp_path / 'elsewhere' / 'clone'
    clone.parent.mkdir()
    subprocess.run(['git', 'clone', '-q', str(ws.root), str(clone)], check=True,
                   env={'PATH': os.environ.get('PATH', '/usr/bin:/bin'), 'HOME': str(ws.home),
                        'GIT_CONFIG_NOSYSTEM': '1', 'GIT_CONFIG_GLOBAL': '/dev/null'})
    first = task_hashes(ws, env)
    ws2 = type(ws).__new__(type(ws))
    ws2.__dict__.update(ws.__dict__)
    ws2.root = clone
    ws2.procs = []
    second = task_hashes(ws2, env)
    assert {k: v[0] for k, v in first.items()} == {k: v[0] for k, v in second.items()}
    assert all(v[1] == 'local' for v in second.values()), second
    ws.clear_log()
    r = ws2.run('run-many', '-t', 'build', env=env)
    assert r.code == 0, r
    assert ws.ran() == []
    assert snapshot(clone / 'dist') == snapshot(ws.root / 'dist')


def test_cache_why_names_the_edited_file(make_ws):
    ws = make_ws(files([project('a', ['b']), project('b')]))
    run_all(ws)
    ws.write('b/src/main.txt', 'edited\n')
    r = ws.run('cache', 'why', 'a:build')
    assert r.code == 0, r
    assert 'b/src/main.txt' in r.out, r
    r = ws.run('cache', 'why', 'b:build')
    assert 'b/src/main.txt' in r.out, r


def test_cache_why_names_env_and_option(make_ws):
    ws = make_ws(files([project('a', inputs=['default', {'env': 'MODE'}])]))
    run_all(ws, env={'MODE': 'x'})
    r = ws.run('cache', 'why', 'a:build', env={'MODE': 'y'})
    assert 'env var MODE' in r.out, r


def test_corrupted_blob_is_a_miss_with_a_warning(make_ws):
    ws = make_ws(files([project('a')]))
    run_all(ws)
    blobs = [p for p in (ws.root / '.bld/cache/blobs').rglob('*')
             if p.is_file() and p.parent.name != 'tmp']
    assert blobs
    for b in blobs:
        os.chmod(b, 0o644)
        b.write_bytes(b'garbage' + b.read_bytes())
    shutil.rmtree(ws.root / 'dist')
    ws.clear_log()
    r = ws.run('run', 'a:build')
    assert r.code == 0, r
    assert ws.ran() == ['a:build']
    assert 'corrupt' in r.both.lower() or 'does not match' in r.both, r
    assert (ws.root / 'dist/a/out.txt').read_text() == 'built-a\n'


def test_unwritable_cache_does_not_fail_the_build(make_ws, tmp_path):
    ws = make_ws(files([project('a')]))
    ro = tmp_path / 'ro'
    ro.mkdir()
    (ro / 'cache').write_text('a file where the cache folder should be\n')
    r = ws.run('run', 'a:build', env={'BLD_CACHE_DIR': str(ro / 'cache')})
    assert r.code == 0, r
    assert ws.ran() == ['a:build']


def test_cache_commands(make_ws):
    ws = make_ws(files([project('a', ['b']), project('b')]))
    run_all(ws)
    hashes = task_hashes(ws)
    r = ws.run('cache', 'ls')
    assert r.code == 0 and 'a:build' in r.out and hashes['a:build'][0] in r.out, r
    r = ws.run('cache', 'show', hashes['a:build'][0][:10])
    assert r.code == 0, r
    assert 'a/src/main.txt' in r.out and 'dist/a/out.txt' in r.out, r
    r = ws.run('cache', 'stats')
    assert r.code == 0 and 'entries:   2' in r.out, r
    r = ws.run('cache', 'prune', '--max-size', '0')
    assert r.code == 0 and 'pruned 2' in r.out, r
    assert run_all(ws) == ['a:build', 'b:build']


def test_hits_and_hit_rate_are_counted(make_ws):
    ws = make_ws(files([project('a', ['b']), project('b')]))
    assert run_all(ws) == ['a:build', 'b:build']
    assert run_all(ws) == []
    assert run_all(ws) == []
    hashes = task_hashes(ws)
    r = ws.run('cache', 'stats')
    assert r.code == 0 and 'hit rate:  66.7% of the last 6 runs (4 hits)' in r.out, r
    r = ws.run('cache', 'ls', '--json')
    assert r.code == 0, r
    assert sorted((e['task'], e['hits']) for e in json.loads(r.out)) == [
        ('a:build', 2), ('b:build', 2)], r
    r = ws.run('cache', 'show', hashes['a:build'][0], '--json')
    entry = json.loads(r.out)
    assert entry['hits'] == 2 and entry['last_used'] >= entry['created'], r


def test_automatic_prune_past_the_size_limit(make_ws):
    def big(name):
        return {'name': name, 'targets': {'build': {
            'command': log(f'{name}:build') + f' && mkdir -p dist/{name} && '
                       f'head -c 1000 /dev/zero | tr "\\000" x > dist/{name}/blob.txt',
            'outputs': [f'{{workspaceRoot}}/dist/{name}']}}}
    ws = make_ws(files([big('a'), big('b'), big('c')]))
    env = {'BLD_CACHE_MAX_SIZE': '2500'}
    for name in ('a', 'b', 'c'):
        r = ws.run('run', f'{name}:build', env=env)
        assert r.code == 0, r
    r = ws.run('cache', 'ls', '--json')
    assert r.code == 0, r
    entries = json.loads(r.out)
    assert sorted(e['task'] for e in entries) == ['b:build', 'c:build']  # a was least recent
    assert sum(e['size'] for e in entries) <= 2500
