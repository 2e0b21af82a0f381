"""The thin client and its one-shot engine: finding bldd, an engine that cannot be
started (exit 2), help for every command, nx.json plugins reported but not run.
"""

import re

import pytest

from conftest import log


def simple_ws(make_ws, nx=None):
    return make_ws({
        'nx.json': nx or {},
        'libs/x/project.json': {'name': 'x', 'targets': {'build': {'command': log('x')}}},
    })


def test_bldd_found_beside_bld_without_env(make_ws):
    ws = simple_ws(make_ws)
    r = ws.run('run', 'x:build', env={'BLDD': None})
    assert r.code == 0, r
    assert ws.ran() == ['x']


def test_engine_that_cannot_start_exit_2(make_ws, tmp_path):
    ws = simple_ws(make_ws)
    r = ws.run('run', 'x:build', env={'BLDD': str(tmp_path / 'no-such-bldd')})
    assert r.code == 2, r
    assert 'bldd' in r.err or 'engine' in r.err, r
    assert ws.ran() == []


def test_engine_that_dies_exit_2(make_ws, tmp_path):
    fake = tmp_path / 'fake-bldd'
    fake.write_text('#!/bin/sh\nexit 0\n')
    fake.chmod(0o755)
    ws = simple_ws(make_ws)
    r = ws.run('run', 'x:build', env={'BLDD': str(fake)})
    assert r.code == 2, r
    assert r.err.strip(), r
    assert ws.ran() == []


@pytest.mark.parametrize('cmd', ['run', 'run-many', 'show', 'graph', 'list'])
def test_every_command_has_help(make_ws, cmd):
    ws = simple_ws(make_ws)
    for args in (['help', cmd], [cmd, '--help']):
        r = ws.run(*args)
        assert r.code == 0, r
        assert cmd in r.out, r
    assert ws.ran() == []


def test_help_for_unknown_command_exit_2(make_ws):
    ws = simple_ws(make_ws)
    r = ws.run('help', 'frobnicate')
    assert r.code == 2, r


def test_plugins_are_reported_not_run(make_ws):
    ws = simple_ws(make_ws, nx={'plugins': ['@nx/vite/plugin',
                                            {'plugin': '@nx/jest/plugin', 'options': {}}]})
    r = ws.run('run', 'x:build')
    assert r.code == 0, r
    assert ws.ran() == ['x']
    r = ws.run('show', 'project', 'x')
    assert r.code == 0, r
    assert '@nx/vite/plugin' in r.both and '@nx/jest/plugin' in r.both, r


def test_colour_off_with_no_color(make_ws):
    ws = simple_ws(make_ws)
    r = ws.run('run', 'x:build', env={'NO_COLOR': '1', 'FORCE_COLOR': None})
    assert r.code == 0, r
    assert '\x1b[' not in r.out + r.err, r


def test_colour_on_with_force_color(make_ws):
    ws = simple_ws(make_ws)
    r = ws.run('run', 'x:build', env={'NO_COLOR': None, 'FORCE_COLOR': '1'})
    assert r.code == 0, r
    assert re.search(r'\x1b\[[0-9;]*m', r.out + r.err), r
