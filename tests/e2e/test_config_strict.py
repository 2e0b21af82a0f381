"""Configuration read strictly: about 200 seeded mutations of a valid project.json and nx.json
(truncations, byte flips, deletions, every known key given a wrong type).  Each mutant that is
not valid configuration must give exit 2 with file:line:col; no mutant may crash or hang bld or
change a workspace file; afterwards the valid workspace still restores from the cache without
running anything.

Whether a mutant is valid is decided here, independently of bld: strict UTF-8, JSON as Python's
json module reads it plus // and /* */ comments and trailing commas after a value (what Nx
22.1.3 accepts, watched with nx-oracle), no lone surrogate or NUL escapes (bld refuses those:
docs/nx-differences.md), and the types of Nx's published schemas (SCHEMA below).

    BLD_MUTANTS_REPORT=1 pytest tests/e2e/test_config_strict.py   prints the right/wrong count
"""

import json
import os
import random
import re
import shutil

import pytest

SEED = 12

# ---- the oracle: types from Nx's schemas/project-schema.json and nx-schema.json ----------

S, N, B, O, A = 'string', 'number', 'boolean', 'object', 'array'


def node(*types, items=None, keys=None, values=None):
    return {'types': set(types), 'items': items, 'keys': keys or {}, 'values': values}


STR, NUM, BOOL, OBJ = node(S), node(N), node(B), node(O)
STRS = node(A, items=STR)
STR_OR_STRS = node(S, A, items=STR)
INPUT = node(S, O, keys={
    'fileset': STR, 'input': STR, 'projects': STR_OR_STRS, 'dependencies': BOOL,
    'runtime': STR, 'env': STR, 'externalDependencies': STRS,
    'dependentTasksOutputFiles': STR, 'transitive': BOOL})
INPUTS = node(A, items=INPUT)
DEPENDS_ON = node(A, items=node(S, O, keys={
    'target': STR, 'projects': STR_OR_STRS, 'dependencies': BOOL, 'params': STR}))
RUN_COMMANDS_OPTIONS = {
    'command': STR_OR_STRS,
    'commands': node(A, items=node(S, O, keys={
        'command': STR, 'forwardAllArgs': BOOL, 'description': STR, 'prefix': STR,
        'prefixColor': STR, 'color': STR, 'bgColor': STR})),
    'parallel': BOOL, 'readyWhen': STR_OR_STRS, 'args': STR_OR_STRS, 'envFile': STR,
    'color': BOOL, 'cwd': STR, 'env': node(O, values=STR), '__unparsed__': STRS,
    'forwardAllArgs': BOOL, 'tty': BOOL}
RUN_SCRIPT_OPTIONS = {'script': STR, '__unparsed__': STRS}
OPENAPI_OPTIONS = {'openApiSpecPath': STR, 'outputPath': STR}
OPTIONS_BY_EXECUTOR = {
    'nx:run-commands': RUN_COMMANDS_OPTIONS, '@nx/workspace:run-commands': RUN_COMMANDS_OPTIONS,
    '@nrwl/workspace:run-commands': RUN_COMMANDS_OPTIONS,
    '@nxlv/python:run-commands': RUN_COMMANDS_OPTIONS,
    'nx:run-script': RUN_SCRIPT_OPTIONS, 'bld:openapi-metadata': OPENAPI_OPTIONS, 'nx:noop': {}}
ANY_OPTIONS = {**RUN_COMMANDS_OPTIONS, **RUN_SCRIPT_OPTIONS, **OPENAPI_OPTIONS}


def target_node(executor):
    """A target; its options by executor (unknown: not checked; none written: all bld reads)."""
    if executor is None:
        opts = ANY_OPTIONS
    else:
        opts = OPTIONS_BY_EXECUTOR.get(executor)
    o = node(O, keys=opts) if opts is not None else OBJ
    return node(O, keys={
        'executor': STR, 'command': STR, 'options': o, 'configurations': node(O, values=o),
        'defaultConfiguration': STR, 'dependsOn': DEPENDS_ON, 'inputs': INPUTS,
        'outputs': STRS, 'cache': BOOL, 'continuous': BOOL, 'parallelism': BOOL,
        'metadata': node(O, keys={'description': STR}), 'syncGenerators': STRS})


def executor_of(t, key=None):
    if isinstance(t, dict):
        if 'executor' in t:
            return t['executor'] if isinstance(t['executor'], str) else None
        if 'command' in t:
            return 'nx:run-commands'
    if key and ':' in key:
        return key
    return None


NAMED_INPUTS = node(O, values=INPUTS)
PROJECT = node(O, keys={
    'name': STR, 'root': STR, 'sourceRoot': STR, 'projectType': STR, 'generators': OBJ,
    'namedInputs': NAMED_INPUTS, 'targets': 'targets', 'tags': STRS,
    'implicitDependencies': STRS, 'metadata': node(O, keys={'description': STR}),
    'release': OBJ})
NX = node(O, keys={
    'implicitDependencies': OBJ, 'affected': node(O, keys={'defaultBase': STR}),
    'extends': STR, 'defaultBase': STR, 'tasksRunnerOptions': node(O, values=OBJ),
    'namedInputs': NAMED_INPUTS, 'targetDefaults': 'targetDefaults',
    'workspaceLayout': node(O, keys={'libsDir': STR, 'appsDir': STR}),
    'cli': OBJ, 'generators': OBJ,
    'plugins': node(A, items=node(S, O, keys={
        'plugin': STR, 'options': OBJ, 'include': STRS, 'exclude': STRS})),
    'tui': node(O, keys={'enabled': BOOL, 'autoExit': node(B, N)}),
    'defaultProject': STR, 'nxCloudAccessToken': STR, 'nxCloudUrl': STR,
    'nxCloudEncryptionKey': STR, 'neverConnectToCloud': BOOL, 'parallel': NUM,
    'cacheDirectory': STR, 'useDaemonProcess': BOOL, 'useInferencePlugins': BOOL,
    'release': OBJ, 'sync': node(O, keys={
        'globalGenerators': STRS, 'generatorOptions': node(O, values=OBJ),
        'applyChanges': BOOL, 'disabledTaskSyncGenerators': STRS}),
    'conformance': OBJ})


def type_of(v):
    if isinstance(v, bool):
        return B
    if isinstance(v, (int, float)):
        return N
    return {str: S, dict: O, list: A, type(None): 'null'}[type(v)]


def walk(v, nd, path, out):
    """Append (path, schema node) of every typed value under v; (path, None) on a wrong type."""
    if nd == 'targets':
        nd = node(O)
        if not isinstance(v, dict):
            out.append((path, None))
            return
        out.append((path, nd))
        for k, t in v.items():
            walk(t, target_node(executor_of(t)), f'{path}.{k}', out)
        return
    if nd == 'targetDefaults':
        if not isinstance(v, dict):
            out.append((path, None))
            return
        out.append((path, OBJ))
        for k, t in v.items():
            walk(t, target_node(executor_of(t, k)), f'{path}.{k}', out)
        return
    if type_of(v) not in nd['types']:
        out.append((path, None))
        return
    out.append((path, nd))
    if isinstance(v, list) and nd['items']:
        for i, e in enumerate(v):
            walk(e, nd['items'], f'{path}[{i}]', out)
    if isinstance(v, dict):
        for k, e in v.items():
            sub = nd['keys'].get(k) or nd['values']
            if sub:
                walk(e, sub, f'{path}.{k}' if path else k, out)


class Invalid(Exception):
    pass


def strip_jsonc(text):
    """Comments out; a comma right before a closer, after a value, out.  Raises Invalid."""
    out, i, n = [], 0, len(text)
    while i < n:
        c = text[i]
        if c == '"':
            j = i + 1
            while j < n and text[j] != '"':
                j += 2 if text[j] == '\\' else 1
            out.append(text[i:j + 1])
            i = j + 1
        elif text.startswith('//', i):
            while i < n and text[i] not in '\n':
                i += 1
        elif text.startswith('/*', i):
            j = text.find('*/', i + 2)
            if j < 0:
                raise Invalid('unclosed comment')
            out.append(' ')
            i = j + 2
        else:
            out.append(c)
            i += 1
    s = ''.join(out)
    # Trailing commas: only outside strings (strings re-tokenised by a regex).
    tok = re.compile(r'"(?:[^"\\]|\\.)*"|,(?=[ \t\r\n]*[}\]])|[^",]+|,', re.S)
    res, prev = [], ''
    for m in tok.finditer(s):
        t = m.group(0)
        if t == ',' and re.match(r'[ \t\r\n]*[}\]]', s[m.end():]) and prev not in '{[,':
            continue
        res.append(t)
        stripped = t.strip(' \t\r\n')
        if stripped:
            prev = stripped[-1]
    return ''.join(res)


def _reject_constant(name):
    raise Invalid(name)


def _check_strings(v):
    for s in ([v] if isinstance(v, str) else v if isinstance(v, list) else
              list(v.keys()) + list(v.values()) if isinstance(v, dict) else []):
        if isinstance(s, str):
            if '\0' in s or any(0xD800 <= ord(c) <= 0xDFFF for c in s):
                raise Invalid('NUL or lone surrogate')
        else:
            _check_strings(s)


def parse_config(data):
    """The value of a config file's bytes, or Invalid."""
    try:
        text = data.decode('utf-8')
        v = json.loads(strip_jsonc(text), parse_constant=_reject_constant)
    except (UnicodeDecodeError, ValueError) as e:
        raise Invalid(str(e)) from None
    _check_strings(v)
    return v


def config_valid(data, schema):
    try:
        v = parse_config(data)
    except Invalid:
        return False
    out = []
    walk(v, schema, '', out)
    return all(nd is not None for _, nd in out)


# ---- the workspace ---------------------------------------------------------------------

NX_JSON = '''{
  // the workspace's settings
  "$schema": "./node_modules/nx/schemas/nx-schema.json",
  "namedInputs": {
    "default": ["{projectRoot}/**/*", "sharedGlobals"],
    "sharedGlobals": [{"runtime": "echo v1"}],
    "production": ["default", "!{projectRoot}/**/*.spec.txt"],
  },
  "targetDefaults": {
    "build": {"cache": true, "inputs": ["production", "^production"], "outputs": ["{projectRoot}/dist"]},
    "nx:run-commands": {"options": {"cwd": "."}},
    "lint": {"executor": "nx:run-script", "options": {"script": "lint"}, "configurations": {"ci": {}}},
  },
  /* keys bld does not act on, still typed by Nx's schema */
  "defaultBase": "main",
  "parallel": 3,
  "workspaceLayout": {"appsDir": "apps", "libsDir": "libs"},
  "plugins": [],
  "tui": {"enabled": false, "autoExit": true},
  "useDaemonProcess": false,
  "defaultProject": "p",
  "affected": {"defaultBase": "main"},
  "sync": {"applyChanges": true, "globalGenerators": []},
  "tasksRunnerOptions": {"default": {"options": {}}},
  "cli": {},
  "generators": {}
}
'''

# The log's path comes from the environment, so that the file's bytes (and so the seeded
# mutations) are the same on every machine.
BUILD = 'mkdir -p p/dist && cat p/src/a.txt > p/dist/a.txt && echo p:build >> "$P_LOG"'

PROJECT_JSON = '''{
  "name": "p",
  "$schema": "../node_modules/nx/schemas/project-schema.json",
  "root": "p",
  "sourceRoot": "p/src",
  "projectType": "library",
  "tags": ["scope:p", "type:lib"],
  "implicitDependencies": [],
  "namedInputs": {"src": ["{projectRoot}/src/**/*", {"fileset": "{projectRoot}/*.md"}]},
  "metadata": {"description": "the project"},
  "targets": {
    "build": {
      "executor": "nx:run-commands",
      "options": {"command": @BUILD@, "forwardAllArgs": false, "env": {"P_MODE": "x"}},
      "configurations": {"prod": {"color": false}},
      "inputs": ["src", "production", {"env": "P_MODE"}, {"externalDependencies": []},
                 {"input": "src", "projects": ["p"]}, {"input": "src", "dependencies": true},
                 {"dependentTasksOutputFiles": "**/*.txt", "transitive": true}],
      "outputs": ["{projectRoot}/dist"],
      "dependsOn": ["prep", {"target": "prep", "projects": "self", "params": "ignore"},
                    {"target": "prep", "dependencies": true}],
      "cache": true, // cached
      "parallelism": true,
      "continuous": false,
      "metadata": {"description": "build it"},
      "syncGenerators": [],
    },
    "prep": {"command": "true", "cache": true},
    "serve": {
      "executor": "nx:run-commands",
      "continuous": true,
      "options": {"commands": ["echo a", {"command": "echo b", "forwardAllArgs": false}],
                  "readyWhen": ["a"], "args": "--x", "envFile": ".env.serve", "tty": false,
                  "parallel": true, "__unparsed__": []}
    },
    "lint": {"options": {"script": "lint"}},
    "api": {"executor": "bld:openapi-metadata",
            "options": {"openApiSpecPath": "p/api.json", "outputPath": "p/dist/api.ts"}},
    "other": {"executor": "@acme/tool:thing", "options": {"command": 1}}
  }
}
'''.replace('@BUILD@', json.dumps(BUILD))


def files():
    return {
        'nx.json': NX_JSON,
        '.gitignore': 'dist\n.bld\n',
        'package.json': {'name': 'root', 'private': True},
        'p/project.json': PROJECT_JSON,
        'p/package.json': {'name': 'p', 'scripts': {'lint': 'true'}},
        'p/src/a.txt': 'hello\n',
        'p/README.md': 'p\n',
    }


# ---- mutations -------------------------------------------------------------------------

def with_marker(text, path, value):
    """text (a JSON(C) document) re-serialised with the value at path replaced by value;
    also the 1-based line:col where the value starts."""
    doc = parse_config(text.encode())
    keys = re.findall(r'\[(\d+)\]|\.?([^.\[]+)', path)
    cur = doc
    for i, (idx, key) in enumerate(keys):
        k = int(idx) if idx else key
        if i == len(keys) - 1:
            cur[k] = '@@MARK@@'
        else:
            cur = cur[k]
    s = json.dumps(doc, indent=2)
    at = s.index('"@@MARK@@"')
    line = s.count('\n', 0, at) + 1
    col = at - (s.rfind('\n', 0, at) + 1) + 1
    return s.replace('"@@MARK@@"', json.dumps(value), 1) + '\n', line, col


WRONG = {S: [7, True, ['x'], {}], N: ['many', False, [1]], B: ['yes', 1, None],
         O: ['x', [1], 3], A: ['x', 7, {'a': 1}]}
FLIP_BYTES = [0x00, 0xff, 0xc0, 0x80, 0xed, 0xe2, ord('"'), ord(','), ord('}'), ord(']'),
              ord('{'), ord('['), ord(':'), ord('x'), ord('\t'), ord('\n'), ord('\\'), 0x01,
              ord('/'), ord('*'), ord('0'), ord('-'), ord('.')]


def mutants(rng, rel, text, schema, n_trunc, n_flip, n_del):
    data = text.encode()
    out = []
    for _ in range(n_trunc):
        k = rng.randrange(0, len(data))
        out.append((f'{rel}: truncated at {k}', data[:k], None))
    for _ in range(n_flip):
        k = rng.randrange(0, len(data))
        b = rng.choice(FLIP_BYTES) if rng.random() < 0.8 else rng.randrange(256)
        out.append((f'{rel}: byte {k} -> {b:#x}', data[:k] + bytes([b]) + data[k + 1:], None))
    for _ in range(n_del):
        k = rng.randrange(0, len(data))
        m = rng.randrange(1, 12)
        out.append((f'{rel}: {m} bytes deleted at {k}', data[:k] + data[k + m:], None))
    typed = []
    walk(parse_config(data), schema, '', typed)
    for path, nd in typed:
        if not path:
            continue
        wrong = [w for t in sorted(nd['types'])
                 for w in WRONG[t] if type_of(w) not in nd['types']]
        value = rng.choice(wrong)
        mutated, line, col = with_marker(text, path, value)
        out.append((f'{rel}: {path} = {json.dumps(value)}', mutated.encode(),
                    (path, line, col)))
    return out


def snapshot(root):
    """Every file's bytes, outside dist/, .bld/ and .git/."""
    snap = {}
    for d, dirs, fs in os.walk(root):
        dirs[:] = [x for x in dirs if x not in ('dist', '.bld', '.git')]
        for f in fs:
            p = os.path.join(d, f)
            with open(p, 'rb') as fh:
                snap[os.path.relpath(p, root)] = fh.read()
    return snap


CRASH = re.compile(r'AddressSanitizer|runtime error:|LeakSanitizer|Segmentation|core dumped')


def judge(ws, rel, data, typed, valid):
    """'' when bld behaved, else what went wrong."""
    ws.write(rel, data)
    before = snapshot(ws.root)
    r = ws.run('run', 'p:build', timeout=60, stdin=b'', env={'P_LOG': ws.log})
    if r.code < 0 or r.code > 2 or CRASH.search(r.err):
        return f'crash: exit {r.code}: {r.err[-300:]}'
    after = snapshot(ws.root)
    if after != before:
        changed = sorted(k for k in set(after) | set(before) if after.get(k) != before.get(k))
        return f'workspace files changed: {changed}'
    if valid:
        return ''
    if r.code != 2:
        return f'exit {r.code} for an invalid {rel}'
    if not re.search(re.escape(rel) + r':\d+:\d+: ', r.err):
        return f'no {rel}:line:col in: {r.err.strip()[:200]}'
    if typed:
        path, line, col = typed
        if f'{rel}:{line}:{col}: ' not in r.err or path not in r.err:
            return f'wanted {rel}:{line}:{col} and {path} in: {r.err.strip()[:300]}'
    return ''


def test_valid_workspace_is_valid():
    assert config_valid(PROJECT_JSON.encode(), PROJECT)
    assert config_valid(NX_JSON.encode(), NX)
    assert not config_valid(b'{"parallel": "many"}', NX)
    assert not config_valid(b'{"a": "\\ud800"}', NX)
    assert not config_valid(b'{"a": 1,,}', NX)
    assert config_valid(b'{"a": [1,],}', NX)


def test_seeded_mutations(make_ws):
    ws = make_ws(files())
    r = ws.run('run', 'p:build', env={'P_LOG': ws.log})
    assert r.code == 0, r
    assert ws.ran() == ['p:build']
    rng = random.Random(SEED)
    cases = (mutants(rng, 'p/project.json', PROJECT_JSON, PROJECT, 16, 18, 10) +
             mutants(rng, 'nx.json', NX_JSON, NX, 6, 8, 5))
    assert 190 <= len(cases) <= 230, len(cases)
    wrong, right = [], 0
    originals = {'p/project.json': PROJECT_JSON, 'nx.json': NX_JSON}
    for what, data, typed in cases:
        rel = what.split(':')[0]
        schema = PROJECT if rel == 'p/project.json' else NX
        problem = judge(ws, rel, data, typed, config_valid(data, schema))
        ws.write(rel, originals[rel])
        if problem:
            wrong.append(f'{what}: {problem}')
        else:
            right += 1
    if os.environ.get('BLD_MUTANTS_REPORT'):
        print(f'\n{right} of {len(cases)} mutants right')
        for w in wrong:
            print('  ' + w)
    assert not wrong, f'{len(wrong)} of {len(cases)} mutants wrong:\n' + '\n'.join(wrong[:40])
    # The valid workspace restores from the cache without running anything.
    ws.clear_log()
    shutil.rmtree(ws.root / 'p' / 'dist')
    r = ws.run('run', 'p:build', env={'P_LOG': ws.log})
    assert r.code == 0, r
    assert ws.ran() == []
    assert (ws.root / 'p/dist/a.txt').read_text() == 'hello\n'
