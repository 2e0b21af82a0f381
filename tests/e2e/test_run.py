"""bld run: dependency order, configurations, forwarded args, the shorthand.

Whether a task ran is read from the side log outside the workspace (see conftest.py).
Nx 22.1.3 was checked with the same workspaces (shared/tools/nx-oracle).
"""

from conftest import log


def step(name, secs='0.2'):
    """A command that logs its start and end around a short sleep."""
    return f"{log(name + ' start')}; sleep {secs}; {log(name + ' end')}"


def chain_ws(make_ws, extra=None):
    """c <- b <- a through implicitDependencies and ^build from targetDefaults; z unrelated."""
    files = {
        'nx.json': {'targetDefaults': {'build': {'dependsOn': ['^build']}}},
        'libs/c/project.json': {'name': 'c', 'targets': {'build': {'command': step('c')}}},
        'libs/b/project.json': {'name': 'b', 'implicitDependencies': ['c'],
                                'targets': {'build': {'command': step('b')}}},
        'apps/a/project.json': {'name': 'a', 'implicitDependencies': ['b'],
                                'targets': {'build': {'command': step('a')}}},
        'z/project.json': {'name': 'z', 'targets': {'build': {'command': step('z')}}},
    }
    files.update(extra or {})
    return make_ws(files)


CHAIN = ['c start', 'c end', 'b start', 'b end', 'a start', 'a end']


def test_three_level_chain_runs_in_dependency_order(make_ws):
    ws = chain_ws(make_ws)
    r = ws.run('run', 'a:build')
    assert r.code == 0, r
    assert ws.ran() == CHAIN


def test_chain_order_holds_with_parallelism(make_ws):
    ws = chain_ws(make_ws)
    r = ws.run('run', 'a:build', '--parallel', '4')
    assert r.code == 0, r
    assert ws.ran() == CHAIN


def test_chain_through_package_json_workspace_dependencies(make_ws):
    # Nx links projects whose package.json depends on another workspace package
    # (the root package.json declares the workspaces); devDependencies count too.
    ws = make_ws({
        'nx.json': {'targetDefaults': {'build': {'dependsOn': ['^build']}}},
        'package.json': {'name': 'root', 'private': True, 'workspaces': ['packages/*']},
        'packages/a/project.json': {'name': 'a', 'targets': {'build': {'command': step('a')}}},
        'packages/a/package.json': {'name': '@x/a', 'version': '1.0.0',
                                    'dependencies': {'@x/b': '*'}},
        'packages/b/project.json': {'name': 'b', 'targets': {'build': {'command': step('b')}}},
        'packages/b/package.json': {'name': '@x/b', 'version': '1.0.0',
                                    'devDependencies': {'@x/c': '1.0.0'}},
        'packages/c/project.json': {'name': 'c', 'targets': {'build': {'command': step('c')}}},
        'packages/c/package.json': {'name': '@x/c', 'version': '1.0.0'},
    })
    r = ws.run('run', 'a:build')
    assert r.code == 0, r
    assert ws.ran() == CHAIN


def test_exclude_task_dependencies_runs_only_the_named_task(make_ws):
    ws = chain_ws(make_ws)
    r = ws.run('run', 'a:build', '--exclude-task-dependencies')
    assert r.code == 0, r
    assert ws.ran() == ['a start', 'a end']
    ws.clear_log()
    r = ws.run('run', 'a:build', '--excludeTaskDependencies')
    assert r.code == 0, r
    assert ws.ran() == ['a start', 'a end']


def test_dependson_forms_same_project_and_explicit_project(make_ws):
    # "lint" (same project), "c:gen" (explicit task), object form with projects.
    ws = make_ws({
        'nx.json': {},
        'c/project.json': {'name': 'c', 'targets': {'gen': {'command': log('c:gen')}}},
        'd/project.json': {'name': 'd', 'targets': {'gen': {'command': log('d:gen')}}},
        'a/project.json': {'name': 'a', 'targets': {
            'lint': {'command': log('a:lint')},
            'build': {'command': log('a:build'),
                      'dependsOn': ['lint', 'c:gen', {'target': 'gen', 'projects': ['d']}]},
        }},
    })
    r = ws.run('run', 'a:build', '--parallel', '1')
    assert r.code == 0, r
    ran = ws.ran()
    assert sorted(ran) == ['a:build', 'a:lint', 'c:gen', 'd:gen']
    assert ran[-1] == 'a:build'


def test_shorthand_target_project(make_ws):
    ws = chain_ws(make_ws)
    r = ws.run('build', 'a')
    assert r.code == 0, r
    assert ws.ran() == CHAIN


def test_configurations_three_spellings(make_ws):
    ws = make_ws({
        'nx.json': {},
        'a/project.json': {'name': 'a', 'targets': {'build': {
            'executor': 'nx:run-commands',
            'options': {'command': log('dev')},
            'configurations': {'prod': {'command': log('prod')}},
        }}},
    })
    for args in (['run', 'a:build'], ['run', 'a:build:prod'], ['run', 'a:build', '-c', 'prod'],
                 ['run', 'a:build', '--configuration=prod'], ['run', 'a:build', '--configuration', 'prod']):
        ws.clear_log()
        r = ws.run(*args)
        assert r.code == 0, r
        assert ws.ran() == (['dev'] if args == ['run', 'a:build'] else ['prod']), r


def test_default_configuration_is_used(make_ws):
    ws = make_ws({
        'nx.json': {},
        'a/project.json': {'name': 'a', 'targets': {'build': {
            'executor': 'nx:run-commands',
            'defaultConfiguration': 'prod',
            'options': {'command': log('dev')},
            'configurations': {'prod': {'command': log('prod')}, 'dev': {}},
        }}},
    })
    r = ws.run('run', 'a:build')
    assert r.code == 0, r
    assert ws.ran() == ['prod']
    ws.clear_log()
    r = ws.run('run', 'a:build:dev')
    assert r.code == 0, r
    assert ws.ran() == ['dev']


ARGS_SH = 'for a in "$@"; do printf "[%s]\\n" "$a"; done >> @LOG@\n'


def test_double_dash_args_are_forwarded(make_ws):
    # Nx appends the args after `--` to the command, keeping each one whole.
    ws = make_ws({
        'nx.json': {},
        'tools/args.sh': ARGS_SH,
        'a/project.json': {'name': 'a', 'targets': {'echo': {'command': 'sh tools/args.sh fixed'}}},
    })
    r = ws.run('run', 'a:echo', '--', '--foo', 'bar', '--x=1', 'two words')
    assert r.code == 0, r
    assert ws.ran() == ['[fixed]', '[--foo]', '[bar]', '[--x=1]', '[two words]']


def test_double_dash_args_with_shorthand(make_ws):
    ws = make_ws({
        'nx.json': {},
        'tools/args.sh': ARGS_SH,
        'a/project.json': {'name': 'a', 'targets': {'echo': {'command': 'sh tools/args.sh'}}},
    })
    r = ws.run('echo', 'a', '--', '-v', 'x')
    assert r.code == 0, r
    assert ws.ran() == ['[-v]', '[x]']


def test_command_runs_in_workspace_root_by_default_and_cwd_option(make_ws):
    ws = make_ws({
        'nx.json': {},
        'libs/a/project.json': {'name': 'a', 'targets': {
            'root': {'command': 'pwd >> @LOG@'},
            'here': {'executor': 'nx:run-commands',
                     'options': {'command': 'pwd >> @LOG@', 'cwd': '{projectRoot}'}},
        }},
    })
    r = ws.run('run', 'a:root', cwd=ws.root / 'libs' / 'a')
    assert r.code == 0, r
    r = ws.run('run', 'a:here')
    assert r.code == 0, r
    assert ws.ran() == [str(ws.root.resolve()), str((ws.root / 'libs' / 'a').resolve())]


def test_env_of_the_client_reaches_the_command(make_ws):
    ws = make_ws({
        'nx.json': {},
        'a/project.json': {'name': 'a', 'targets': {'env': {'command': 'echo "$E2E_VALUE" >> @LOG@'}}},
    })
    r = ws.run('run', 'a:env', env={'E2E_VALUE': 'from-client-42'})
    assert r.code == 0, r
    assert ws.ran() == ['from-client-42']


def test_commands_list_and_noop(make_ws):
    ws = make_ws({
        'nx.json': {},
        'a/project.json': {'name': 'a', 'targets': {
            'multi': {'executor': 'nx:run-commands', 'dependsOn': ['nothing'],
                      'options': {'commands': [log('one'), log('two')], 'parallel': False}},
            'nothing': {'executor': 'nx:noop'},
        }},
    })
    r = ws.run('run', 'a:multi')
    assert r.code == 0, r
    assert ws.ran() == ['one', 'two']


def test_command_output_is_shown(make_ws):
    ws = make_ws({
        'nx.json': {},
        'a/project.json': {'name': 'a', 'targets': {'hello': {'command': 'echo hello-from-task-7'}}},
    })
    r = ws.run('run', 'a:hello')
    assert r.code == 0, r
    assert 'hello-from-task-7' in r.both


def test_run_from_a_subfolder_finds_the_workspace_root(make_ws):
    ws = chain_ws(make_ws)
    r = ws.run('run', 'a:build', cwd=ws.root / 'libs' / 'b')
    assert r.code == 0, r
    assert ws.ran() == CHAIN


def test_configuration_is_carried_through_dependson(make_ws):
    # Nx 22.1.3: a:build:prod runs b:build:prod (b has prod) and c:build (c has not);
    # a:check:prod (check has no prod) still runs its dependency lint as lint:prod.
    def conf_target(name, confs):
        return {'executor': 'nx:run-commands', 'options': {'command': log(f'{name}-dev')},
                'configurations': {c: {'command': log(f'{name}-{c}')} for c in confs}}
    ws = make_ws({
        'nx.json': {'targetDefaults': {'build': {'dependsOn': ['^build']}}},
        'a/project.json': {'name': 'a', 'implicitDependencies': ['b', 'c'], 'targets': {
            'build': conf_target('a', ['prod']),
            'lint': conf_target('a-lint', ['prod']),
            'check': {'command': log('a-check'), 'dependsOn': ['lint']},
        }},
        'b/project.json': {'name': 'b', 'targets': {'build': conf_target('b', ['prod'])}},
        'c/project.json': {'name': 'c', 'targets': {'build': conf_target('c', ['other'])}},
    })
    r = ws.run('run', 'a:build:prod')
    assert r.code == 0, r
    assert sorted(ws.ran()) == ['a-prod', 'b-prod', 'c-dev']
    ws.clear_log()
    r = ws.run('run', 'a:check:prod')
    assert r.code == 0, r
    assert sorted(ws.ran()) == ['a-check', 'a-lint-prod']
    ws.clear_log()
    r = ws.run('run-many', '-t', 'build', '-c', 'prod')
    assert r.code == 0, r
    assert sorted(ws.ran()) == ['a-prod', 'b-prod', 'c-dev']


def test_dependson_params_forward_passes_the_args_on(make_ws):
    # Nx 22.1.3: a dependsOn entry with "params": "forward" gives the dependency the same
    # forwarded args; without it ("ignore", the default) the dependency gets none.
    ws = make_ws({
        'nx.json': {},
        'tools/args.sh': 'n=$1; shift; for a in "$@"; do printf "%s[%s]\\n" "$n" "$a"; done >> @LOG@\n',
        'b/project.json': {'name': 'b', 'targets': {
            'gen': {'command': 'sh tools/args.sh b'},
            'gen2': {'command': 'sh tools/args.sh b2; echo b2-ran >> @LOG@'}}},
        'a/project.json': {'name': 'a', 'targets': {'build': {
            'command': 'sh tools/args.sh a',
            'dependsOn': [{'projects': ['b'], 'target': 'gen', 'params': 'forward'},
                          {'projects': ['b'], 'target': 'gen2'}]}}},
    })
    r = ws.run('run', 'a:build', '--parallel', '1', '--', '--x=1')
    assert r.code == 0, r
    ran = ws.ran()
    assert sorted(ran) == ['a[--x=1]', 'b2-ran', 'b[--x=1]'], ran
    assert ran[-1] == 'a[--x=1]'
