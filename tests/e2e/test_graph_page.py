"""bld graph --affected / --focus: the JSON and DOT marks, and the HTML page in Debian's
headless Chromium: a 200-project graph renders, a click on a project (dispatched through the
DOM by the page's #click= hook) focuses it, and a screenshot is taken."""

import json
import os
import re
import shutil
import subprocess

from conftest import log

CHROMIUM = shutil.which('chromium') or shutil.which('chromium-browser')
N = 200


def name(i):
    return 'p%03d' % i


def big_ws(make_ws):
    """p_i depends on p_(i//2): a binary tree rooted at p000 (p001 depends on p000...)."""
    files = {'nx.json': {}}
    for i in range(N):
        p = {'name': name(i), 'targets': {'build': {'command': log(name(i)), 'cache': True}}}
        if i:
            p['implicitDependencies'] = [name((i - 1) // 2)]
        files['libs/%s/project.json' % name(i)] = p
        files['libs/%s/src.txt' % name(i)] = name(i) + '\n'
    ws = make_ws(files)
    ws.git('checkout', '-q', '-b', 'feature')
    ws.write('libs/p010/src.txt', 'changed\n')
    ws.commit('change p010')
    return ws


def dependents(i):
    out, todo = set(), [i]
    while todo:
        j = todo.pop()
        out.add(j)
        todo += [k for k in (2 * j + 1, 2 * j + 2) if k < N]
    return out


def ancestors(i):
    out = {i}
    while i:
        i = (i - 1) // 2
        out.add(i)
    return out


def chromium(tmp_path, *args):
    assert CHROMIUM, 'chromium is not installed (scripts/install-deps.sh installs it)'
    prof = tmp_path / 'chromium-profile'
    prof.mkdir(exist_ok=True)
    r = subprocess.run([CHROMIUM, '--headless', '--no-sandbox', '--disable-gpu',
                        '--disable-background-networking', '--no-first-run',
                        '--user-data-dir=' + str(prof), '--virtual-time-budget=5000', *args],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=120)
    assert r.returncode == 0, r.stderr[-2000:]
    return r.stdout


def test_json_and_dot_mark_affected_and_focus(make_ws):
    ws = big_ws(make_ws)
    r = ws.run('graph', '--affected', '--focus', 'p004')
    assert r.code == 0, r
    g = json.loads(r.out)
    assert sorted(g['affectedProjects']) == sorted(name(i) for i in dependents(10))
    assert g['focus']['project'] == 'p004'
    assert sorted(g['focus']['projects']) == sorted(name(i) for i in
                                                    dependents(4) | ancestors(4))
    r = ws.run('graph', '--affected', '--focus=p004', '--file', 'g.dot')
    assert r.code == 0, r
    dot = ws.read('g.dot')
    assert re.search(r'"p010" \[[^]]*fillcolor', dot) and not re.search(r'"p011" \[[^]]*fill', dot)
    assert re.search(r'"p004" \[[^]]*penwidth=3', dot)
    assert re.search(r'"p003" \[[^]]*gray75', dot)
    r = ws.run('graph', '--focus', 'nope')
    assert r.code == 2 and 'nope' in r.err, r


def test_html_page_renders_and_focuses_in_headless_chromium(make_ws, tmp_path):
    ws = big_ws(make_ws)
    r = ws.run('graph', '--affected', '--file', 'graph.html')
    assert r.code == 0, r
    page = ws.root / 'graph.html'
    html = page.read_text()
    # self-contained: no script, style, image or font is fetched from anywhere
    assert not re.search(r'(src|href)\s*=\s*"(https?:)?//', html)
    assert '@import' not in html and 'url(http' not in html
    dom = chromium(tmp_path, '--dump-dom', page.as_uri() + '#click=p010')
    nodes = {n: c for c, n in re.findall(r'<g class="n ([a-z ]*)" data-name="(p\d{3})"', dom)}
    assert len(nodes) == N                                  # the whole graph rendered
    assert sorted(n for n, c in nodes.items() if 'aff' in c.split()) == \
        sorted(name(i) for i in dependents(10))
    keep = {name(i) for i in dependents(10) | ancestors(10)}
    assert 'focus' in nodes['p010'].split()
    for n, c in nodes.items():
        assert ('out' in c.split()) == (n not in keep), (n, c)
    assert 'focused: p010 (%d projects)' % len(keep) in dom
    shot = tmp_path / 'graph.png'
    chromium(tmp_path, '--window-size=1400,1000', '--screenshot=' + str(shot),
             page.as_uri() + '#click=p010')
    data = shot.read_bytes()
    assert data[:8] == b'\x89PNG\r\n\x1a\n' and len(data) > 10000
    keep_dir = os.environ.get('BLD_TEST_ARTIFACTS')
    if keep_dir:
        os.makedirs(keep_dir, exist_ok=True)
        shutil.copy(shot, os.path.join(keep_dir, 'graph-focus.png'))
