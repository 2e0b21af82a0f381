"""Workspace configuration as Nx reads it, seen through running tasks: tokens, run-commands
options (env, envFile, args, commands), dependsOn object forms, implicitDependencies with
exclusions, and configuration errors (exit 2 with the file and the key).

Each expectation was checked with Nx 22.1.3 (nx-oracle) on the same files.  Where Nx
crashes on a wrong type (`"dependsOn": "^build"`), bld must give a clear error instead.
"""

import json
import re

from conftest import log, pid_alive, wait_for


def test_tokens_in_command(make_ws):
    ws = make_ws({
        'nx.json': {},
        'libs/a/project.json': {'name': 'a', 'targets': {
            'tok': {'command': "echo '{projectRoot}|{projectName}' >> @LOG@"},
            'ws': {'executor': 'nx:run-commands',
                   'options': {'command': 'pwd >> @LOG@', 'cwd': '{workspaceRoot}/libs'}},
        }},
    })
    r = ws.run('run', 'a:tok')
    assert r.code == 0, r
    r = ws.run('run', 'a:ws')
    assert r.code == 0, r
    assert ws.ran() == ['libs/a|a', str((ws.root / 'libs').resolve())]


def test_env_and_env_file(make_ws):
    ws = make_ws({
        'nx.json': {},
        'libs/a/.env.test': 'BAR=bar1\n',
        'libs/a/project.json': {'name': 'a', 'targets': {'env': {
            'executor': 'nx:run-commands',
            'options': {'command': 'echo "$FOO|$BAR" >> @LOG@', 'env': {'FOO': 'foo1'},
                        'envFile': 'libs/a/.env.test'}}}},
    })
    r = ws.run('run', 'a:env')
    assert r.code == 0, r
    assert ws.ran() == ['foo1|bar1']


def test_args_option_is_appended(make_ws):
    ws = make_ws({
        'nx.json': {},
        'tools/args.sh': 'for a in "$@"; do printf "[%s]\\n" "$a"; done >> @LOG@\n',
        'a/project.json': {'name': 'a', 'targets': {'args': {
            'executor': 'nx:run-commands',
            'options': {'command': 'sh tools/args.sh', 'args': '--one=1'}}}},
    })
    r = ws.run('run', 'a:args')
    assert r.code == 0, r
    assert ws.ran() == ['[--one=1]']


def test_parallel_commands_all_run_and_a_failure_fails_the_task(make_ws):
    ws = make_ws({
        'nx.json': {},
        'a/project.json': {'name': 'a', 'targets': {
            'ok': {'executor': 'nx:run-commands',
                   'options': {'commands': [log('one'), log('two'), log('three')]}},
            'bad': {'executor': 'nx:run-commands',
                    'options': {'commands': [log('x'), 'exit 4'], 'parallel': False}},
            'after': {'command': log('after'), 'dependsOn': ['bad']},
        }},
    })
    r = ws.run('run', 'a:ok')
    assert r.code == 0, r
    assert sorted(ws.ran()) == ['one', 'three', 'two']
    ws.clear_log()
    r = ws.run('run', 'a:after')
    assert r.code == 1, r
    assert ws.ran() == ['x']


def test_dependson_object_with_dependencies_true(make_ws):
    ws = make_ws({
        'nx.json': {},
        'a/project.json': {'name': 'a', 'implicitDependencies': ['b'], 'targets': {
            'obj': {'command': log('a:obj'), 'dependsOn': [{'target': 'build', 'dependencies': True}]},
            'build': {'command': log('a:build')}}},
        'b/project.json': {'name': 'b', 'targets': {'build': {'command': log('b:build')}}},
    })
    r = ws.run('run', 'a:obj')
    assert r.code == 0, r
    assert ws.ran() == ['b:build', 'a:obj']


def test_caret_dependson_looks_through_projects_without_the_target(make_ws):
    # a -> m -> c where m has no build target: Nx's ^build looks through m to c:build.
    ws = make_ws({
        'nx.json': {'targetDefaults': {'build': {'dependsOn': ['^build']}}},
        'a/project.json': {'name': 'a', 'implicitDependencies': ['m'],
                           'targets': {'build': {'command': log('a')}}},
        'm/project.json': {'name': 'm', 'implicitDependencies': ['c'],
                           'targets': {'lint': {'command': log('m:lint')}}},
        'c/project.json': {'name': 'c', 'targets': {'build': {'command': log('c')}}},
    })
    r = ws.run('run', 'a:build')
    assert r.code == 0, r
    assert ws.ran() == ['c', 'a']


def test_implicit_dependency_exclusion(make_ws):
    # a's package.json depends on b; implicitDependencies ["!b"] removes that edge.
    ws = make_ws({
        'nx.json': {'targetDefaults': {'build': {'dependsOn': ['^build']}}},
        'package.json': {'name': 'r', 'private': True, 'workspaces': ['libs/*']},
        'libs/a/package.json': {'name': '@x/a', 'dependencies': {'@x/b': '*'}},
        'libs/a/project.json': {'name': 'a', 'implicitDependencies': ['!b'],
                                'targets': {'build': {'command': log('a')}}},
        'libs/b/package.json': {'name': '@x/b'},
        'libs/b/project.json': {'name': 'b', 'targets': {'build': {'command': log('b')}}},
    })
    r = ws.run('run', 'a:build')
    assert r.code == 0, r
    assert ws.ran() == ['a']


def test_unknown_implicit_dependency_exit_2(make_ws):
    ws = make_ws({
        'nx.json': {},
        'libs/a/project.json': {'name': 'a', 'implicitDependencies': ['nope'],
                                'targets': {'build': {'command': log('a')}}},
    })
    r = ws.run('run', 'a:build')
    assert r.code == 2, r
    assert 'nope' in r.both and 'libs/a/project.json' in r.both, r
    assert ws.ran() == []


def test_duplicate_project_names_exit_2_naming_both(make_ws):
    ws = make_ws({
        'nx.json': {},
        'libs/a/project.json': {'name': 'a', 'targets': {'build': {'command': log('a')}}},
        'libs/a2/project.json': {'name': 'a', 'targets': {}},
    })
    r = ws.run('show', 'projects')
    assert r.code == 2, r
    assert re.search(r'libs/a(?!2)\b', r.both) and 'libs/a2' in r.both, r


def test_wrong_types_are_clear_errors(make_ws):
    ws = make_ws({
        'nx.json': {},
        'libs/t/project.json': {'name': 't', 'targets': {'build': {'command': 'true',
                                                                   'dependsOn': '^build'}}},
    })
    r = ws.run('run', 't:build')
    assert r.code == 2, r
    assert 'libs/t/project.json' in r.both and 'dependsOn' in r.both, r
    ws.write('libs/t/project.json', {'name': 't', 'implicitDependencies': 'b', 'targets': {}})
    r = ws.run('show', 'projects')
    assert r.code == 2, r
    assert 'libs/t/project.json' in r.both and 'implicitDependencies' in r.both, r



def test_target_without_executor_or_command_is_a_noop(make_ws):
    # Common in Nx workspaces: an aggregate target with only dependsOn.  Nx 22 gives it
    # the executor nx:noop (show project says so) and runs its dependencies.
    ws = make_ws({
        'nx.json': {},
        'a/project.json': {'name': 'a', 'targets': {
            'build': {'command': log('a:build')},
            'test': {'command': log('a:test')},
            'ci': {'dependsOn': ['build', 'test']},
        }},
    })
    r = ws.run('run', 'a:ci', '--parallel', '1')
    assert r.code == 0, r
    assert sorted(ws.ran()) == ['a:build', 'a:test']
    r = ws.run('show', 'project', 'a', '--json')
    assert r.code == 0, r
    assert json.loads(r.out)['targets']['ci']['executor'] == 'nx:noop'


def test_run_script_executor_runs_the_package_script_in_the_project(make_ws):
    # nx:run-script runs `npm run <script>` in the project's root (Nx 22.1.3).
    ws = make_ws({
        'nx.json': {},
        'libs/a/package.json': {'name': '@s/a', 'scripts': {
            'hello': 'pwd >> @LOG@; echo "$npm_lifecycle_event" >> @LOG@'}},
        'libs/a/project.json': {'name': 'a', 'targets': {'hi': {
            'executor': 'nx:run-script', 'options': {'script': 'hello'}}}},
    })
    r = ws.run('run', 'a:hi')
    assert r.code == 0, r
    assert ws.ran() == [str((ws.root / 'libs/a').resolve()), 'hello']


def test_continuous_dependency_does_not_block_and_is_stopped_after(make_ws):
    # Nx 22.1.3: a continuous task (serve) starts, its dependents run without waiting for
    # it to end (after readyWhen's text when it has one), and it is stopped when they are done.
    ws = make_ws({
        'nx.json': {},
        'a/project.json': {'name': 'a', 'targets': {
            'serve': {'continuous': True,
                      'command': f"echo $$ > @SIDE@/serve.pid; {log('serve-start')}; sleep 300"},
            'e2e': {'command': f"sleep 0.5; {log('e2e-ran')}", 'dependsOn': ['serve']},
            'serve2': {'continuous': True, 'executor': 'nx:run-commands', 'options': {
                'command': f"echo $$ > @SIDE@/serve2.pid; sleep 0.5; {log('serve2-ready')}; "
                           "echo serving-now; sleep 300",
                'readyWhen': 'serving-now'}},
            'e2e2': {'command': log('e2e2-ran'), 'dependsOn': ['serve2']},
        }},
    })
    r = ws.run('run', 'a:e2e', timeout=60)
    assert r.code == 0, r
    assert ws.ran() == ['serve-start', 'e2e-ran']
    pid = int((ws.side / 'serve.pid').read_text())
    assert wait_for(lambda: not pid_alive(pid), timeout=10), 'serve outlived the run'
    ws.clear_log()
    r = ws.run('run', 'a:e2e2', timeout=60)
    assert r.code == 0, r
    assert ws.ran() == ['serve2-ready', 'e2e2-ran']
    pid = int((ws.side / 'serve2.pid').read_text())
    assert wait_for(lambda: not pid_alive(pid), timeout=10), 'serve2 outlived the run'
