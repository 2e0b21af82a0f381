"""Shared fixtures for bld's end-to-end tests.

Every test gets real temporary workspaces that are real git repositories and
drives the real `bld` binary (path in env BLD; meson sets it, and BLDD and
BLD_SOURCE_ROOT too) with a clean environment.  Whether a task's command
really ran is decided from side effects *outside* the workspace (a log file
the command appends to), never from bld's own output.

    from conftest import log

    def test_one(make_ws):
        ws = make_ws({
            'nx.json': {},
            'a/project.json': {'name': 'a', 'targets': {'build': {'command': log('a:build')}}},
        })
        r = ws.run('run', 'a:build')
        assert r.code == 0, r
        assert ws.ran() == ['a:build']

Helpers:
  make_ws(files, git=True, folder=None, oneshot=False) -> Workspace
                                          (folder: its name under tmp_path; oneshot: always
                                          BLD_DAEMON=0, for tests about the one-shot engine)
                                          files: {relative path: str | bytes | dict | list}
                                          dict/list values are written as JSON.  In text,
                                          @SIDE@ becomes the side folder, @LOG@ the side log.
  log(text) -> str                        shell snippet appending `text` to the side log
  Workspace.run(*args, env=None, cwd=None, timeout=120) -> Result(code, out, err)
                                          a Result unpacks as (code, out, err);
                                          env values of None remove a variable.
  Workspace.spawn(*args, env=None, cwd=None) -> subprocess.Popen  (killed at teardown)
  Workspace.ran() -> [lines]              the side log's lines, in order
  Workspace.write(path, content), .read(path), .commit(msg), .git(*args)
  Workspace.root, .side                   the workspace folder; a folder outside it for
                                          side effects (log, pid files)
"""

import fcntl
import json
import os
import pathlib
import shlex
import shutil
import signal
import subprocess
import time

import pytest

# Variables passed through from the outer environment (sanitizers, toolchain).
_PASS_THROUGH = ('PATH', 'LANG', 'LC_ALL', 'ASAN_OPTIONS', 'UBSAN_OPTIONS', 'LSAN_OPTIONS',
                 'MSAN_OPTIONS', 'TSAN_OPTIONS', 'LD_LIBRARY_PATH', 'BLD_SOURCE_ROOT',
                 'UV_INDEX_URL', 'UV_DEFAULT_INDEX', 'PIP_INDEX_URL', 'UV_NATIVE_TLS',
                 # reaching PyPI, npm and the Go proxy from machines behind a proxy
                 'SSL_CERT_FILE', 'SSL_CERT_DIR', 'NODE_EXTRA_CA_CERTS', 'HTTP_PROXY',
                 'HTTPS_PROXY', 'NO_PROXY', 'http_proxy', 'https_proxy', 'no_proxy',
                 'GOPROXY')
# uv's cache, shared by every test of a run (and kept between CI steps: scripts/test.sh
# points it at a folder CI reuses); HOME is per test, so uv's default would start cold.
UV_CACHE_DIR = os.environ.get('UV_CACHE_DIR') or os.path.join(
    os.environ.get('TMPDIR', '/tmp'), 'bld-e2e-uv-cache')

# The CDK toolchain the CDK tests (test_pipeline, test_cdk_constructs) install once into
# $BLD_E2E_NPM_DIR, outside any repository (scripts/test.sh points it at a folder CI reuses).
CDK_NPM_PACKAGES = ['aws-cdk-lib', 'aws-cdk', 'constructs', 'typescript', 'tsx', '@types/node']


def cdk_node_modules():
    """The node_modules folder holding CDK_NPM_PACKAGES, installed on first use."""
    if not shutil.which('npm'):
        pytest.fail('npm is not installed (scripts/install-deps.sh installs it)')
    base = pathlib.Path(os.environ.get('BLD_E2E_NPM_DIR', '/tmp/bld-e2e-npm-v1'))
    base.mkdir(parents=True, exist_ok=True)
    with open(base / '.lock', 'w') as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        bins = base / 'node_modules/.bin'
        if not all((bins / b).exists() for b in ('cdk', 'tsc', 'tsx')) or \
                not (base / 'node_modules/@types/node').is_dir():
            (base / 'package.json').write_text('{"name": "bld-e2e-cdk", "private": true}\n')
            r = subprocess.run(['npm', 'install', '--no-audit', '--no-fund', *CDK_NPM_PACKAGES],
                               cwd=str(base), capture_output=True, text=True, timeout=900)
            assert r.returncode == 0, f'npm install failed: {r.stderr[-2000:]}'
        # npm may skip install scripts: check the tools really run.
        for tool in ('cdk', 'tsc', 'tsx'):
            r = subprocess.run([str(bins / tool), '--version'], capture_output=True, text=True,
                               timeout=120)
            assert r.returncode == 0, (tool, r.stderr)
    return base / 'node_modules'


def _binary(name):
    path = os.environ.get(name)
    if not path:
        root = pathlib.Path(__file__).resolve().parents[2]
        guess = {'BLD': 'client/bld', 'BLDD': 'daemon/bldd'}[name]
        for build in sorted(root.glob('build*')):
            if (build / guess).is_file():
                return str(build / guess)
        raise RuntimeError(f'env {name} is not set (run the tests through `meson test`)')
    return path


BLD = _binary('BLD')
BLDD = _binary('BLDD')


class Result(tuple):
    """(code, out, err) of one bld invocation; also .code .out .err .both .raw_out .raw_err."""

    def __new__(cls, code, out, err, argv, raw_out=b'', raw_err=b''):
        self = super().__new__(cls, (code, out, err))
        self.argv = argv
        self.raw_out, self.raw_err = raw_out, raw_err   # the bytes as bld wrote them
        return self

    code = property(lambda self: self[0])
    out = property(lambda self: self[1])
    err = property(lambda self: self[2])
    both = property(lambda self: self[1] + self[2])

    def __repr__(self):
        return ('\n$ ' + ' '.join(shlex.quote(a) for a in self.argv) +
            f'\n[exit {self.code}]\n--- stdout ---\n{self.out}\n--- stderr ---\n{self.err}')


def clean_env(home, extra=None):
    """A minimal, reproducible environment: one-shot engine, no colour, no user git config."""
    env = {k: os.environ[k] for k in _PASS_THROUGH if k in os.environ}
    env.setdefault('PATH', '/usr/local/bin:/usr/bin:/bin')
    env.setdefault('LANG', 'C.UTF-8')
    env.update({
        'HOME': str(home),
        'TMPDIR': os.environ.get('TMPDIR', '/tmp'),
        'BLD': BLD,
        'BLDD': BLDD,
        # one-shot engine, or (the daemon pass of the suite, BLD_E2E_DAEMON=1) through
        # each workspace's own resident daemon, stopped at teardown
        'BLD_DAEMON': '1' if os.environ.get('BLD_E2E_DAEMON') == '1' else '0',
        'BLD_DAEMON_IDLE': '300',
        'NO_COLOR': '1',
        'TERM': 'dumb',
        'GIT_CONFIG_NOSYSTEM': '1',
        'GIT_CONFIG_GLOBAL': '/dev/null',
        'GIT_AUTHOR_NAME': 'bld e2e', 'GIT_AUTHOR_EMAIL': 'e2e@bld.invalid',
        'GIT_COMMITTER_NAME': 'bld e2e', 'GIT_COMMITTER_EMAIL': 'e2e@bld.invalid',
        'UV_CACHE_DIR': UV_CACHE_DIR,
        'UV_PYTHON_DOWNLOADS': 'never',
        'UV_NO_PROGRESS': '1',
    })
    for k, v in (extra or {}).items():
        if v is None:
            env.pop(k, None)
        else:
            env[k] = str(v)
    return env


def uses_daemon(env):
    """Whether bld run with env talks to a resident daemon (the client's rule)."""
    v = env.get('BLD_DAEMON', '')
    if v:
        return v not in ('0', 'false')
    return env.get('CI') != 'true'


DAEMON_PASS = os.environ.get('BLD_E2E_DAEMON') == '1'


def log(text):
    """Shell snippet, for a target's command, appending one line `text` to the side log."""
    return f"echo {shlex.quote(text)} >> '@LOG@'"


def _write(path, content, subst=None):
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(content, (dict, list)):
        content = json.dumps(content, indent=2) + '\n'
    if isinstance(content, str):
        for k, v in (subst or {}).items():
            content = content.replace(k, v)
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content)


class Workspace:
    def __init__(self, base, files, git=True, oneshot=False):
        self.base = base
        self.oneshot = oneshot
        self.root = base / 'ws'
        self.side = base / 'side'          # outside the workspace: side effects land here
        self.home = base / 'home'
        for d in (self.root, self.side, self.home):
            d.mkdir(parents=True, exist_ok=True)
        self.log = self.side / 'ran.log'
        self.log.touch()
        self.procs = []
        self.daemon_maybe = False
        self.subst = {'@SIDE@': str(self.side), '@LOG@': str(self.log)}
        for rel, content in files.items():
            _write(self.root / rel, content, self.subst)
        if git:
            self.git('init', '-q', '-b', 'main')
            self.commit('initial')

    # -- files and git -------------------------------------------------------
    def write(self, rel, content):
        _write(self.root / rel, content, self.subst)

    def read(self, rel):
        return (self.root / rel).read_text()

    def git(self, *args):
        r = subprocess.run(['git', *args], cwd=self.root, env=clean_env(self.home),
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, timeout=60)
        assert r.returncode == 0, f'git {args}: {r.stdout}'
        return r.stdout

    def commit(self, msg='change'):
        self.git('add', '-A')
        self.git('commit', '-q', '--allow-empty', '-m', msg)

    # -- side effects --------------------------------------------------------
    def log_cmd(self, text):
        """Shell snippet that appends one line `text` to the side log."""
        return log(text).replace('@LOG@', str(self.log))

    def ran(self):
        return [l for l in self.log.read_text().splitlines() if l]

    def clear_log(self):
        self.log.write_text('')

    # -- running bld ---------------------------------------------------------
    def _env(self, env):
        if self.oneshot:
            env = {'BLD_DAEMON': '0', **(env or {})}
        e = clean_env(self.home, env)
        if uses_daemon(e):
            self.daemon_maybe = True
        return e

    def run(self, *args, env=None, cwd=None, timeout=120, stdin=None):
        argv = [BLD, *[str(a) for a in args]]
        try:
            p = subprocess.run(argv, cwd=str(cwd or self.root), env=self._env(env),
                input=stdin, stdout=subprocess.PIPE, stderr=subprocess.PIPE, timeout=timeout)
        except subprocess.TimeoutExpired as e:
            raise AssertionError(f'bld timed out after {timeout}s: {argv}\n'
                f'stdout: {e.stdout!r}\nstderr: {e.stderr!r}') from None
        dec = lambda b: b.decode('utf-8', errors='replace')
        return Result(p.returncode, dec(p.stdout), dec(p.stderr), argv, p.stdout, p.stderr)

    def spawn(self, *args, env=None, cwd=None, **kw):
        """Start bld without waiting; stdout/stderr are pipes.  Killed at teardown."""
        p = subprocess.Popen([BLD, *[str(a) for a in args]], cwd=str(cwd or self.root),
            env=self._env(env), stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, **kw)
        self.procs.append(p)
        return p

    def cleanup(self):
        for p in self.procs:
            if p.poll() is None:
                p.kill()
                try:
                    p.wait(10)
                except subprocess.TimeoutExpired:
                    pass
        # Processes a test recorded in *.pid files of the side folder, if still ours
        # (their environment carries this workspace's HOME: a recycled pid does not).
        for f in self.side.glob('*.pid'):
            try:
                pid = int(f.read_text().split()[0])
            except (ValueError, IndexError, OSError):
                continue
            if has_env(pid, 'HOME', str(self.home)):
                kill_if_alive(pid, signal.SIGKILL)
        if self.daemon_maybe and (self.root / '.bld').exists():
            try:
                subprocess.run([BLD, 'daemon', 'stop'], cwd=self.root, env=clean_env(self.home),
                    stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, timeout=15)
            except subprocess.TimeoutExpired:
                pass
        if self.daemon_maybe:
            # daemons of other roots the test made (a second clone, a nested workspace)
            # carry this workspace's HOME too: stop them as well
            others = engines_of(self, resident=True)
            for pid in others:
                kill_if_alive(pid, signal.SIGTERM)
            if not wait_for(lambda: not any(pid_alive(p) for p in others), timeout=10):
                for pid in others:
                    kill_if_alive(pid, signal.SIGKILL)
        if self.daemon_maybe and (self.root / '.bld').exists():
            # a daemon's sanitizer report goes to its log, not to any client: look there
            try:
                text = (self.root / '.bld/daemon.log').read_text(errors='replace')
            except OSError:
                text = ''
            for bad in ('ERROR: AddressSanitizer', 'ERROR: LeakSanitizer', 'runtime error:',
                        'did not close cleanly'):
                assert bad not in text, f'the daemon of {self.root} logged:\n{text[-4000:]}'



def pid_alive(pid):
    """True while pid exists and is not a zombie."""
    try:
        with open(f'/proc/{pid}/stat') as f:
            state = f.read().rsplit(')', 1)[1].split()[0]
    except (FileNotFoundError, ProcessLookupError, IndexError):
        return False
    return state not in ('Z', 'X')


def has_env(pid, name, value):
    """True when process pid's environment has name=value."""
    try:
        with open(f'/proc/{pid}/environ', 'rb') as f:
            return f'{name}={value}'.encode() in f.read().split(b'\0')
    except OSError:
        return False


def engines_of(ws, resident=False):
    """Live bldd processes started for ws's tests (their environment carries its HOME):
    one-shot engines, or with resident=True the resident daemons (bldd --daemon)."""
    found = []
    want = os.path.realpath(BLDD)
    for d in pathlib.Path('/proc').iterdir():
        if not d.name.isdigit():
            continue
        try:
            if os.path.realpath(d / 'exe') != want:
                continue
            if (b'--daemon' in (d / 'cmdline').read_bytes().split(b'\0')) != resident:
                continue
            if has_env(int(d.name), 'HOME', str(ws.home)) and pid_alive(int(d.name)):
                found.append(int(d.name))
        except OSError:
            continue
    return found


def kill_if_alive(pid, sig=signal.SIGKILL):
    if pid_alive(pid):
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            pass


def wait_for(pred, timeout=20.0, step=0.05):
    """Poll pred() until true or timeout; returns its last value."""
    end = time.monotonic() + timeout
    while True:
        v = pred()
        if v or time.monotonic() > end:
            return v
        time.sleep(step)


@pytest.fixture
def make_ws(tmp_path):
    made = []

    def make(files, git=True, folder=None, oneshot=False):
        ws = Workspace(tmp_path / (folder or f'w{len(made)}'), files, git=git, oneshot=oneshot)
        made.append(ws)
        return ws

    yield make
    for ws in made:
        ws.cleanup()


def target(cmd, **kw):
    """A run-commands target from a command string, plus any other keys."""
    return {'command': cmd, **kw}
