"""Real remote cache servers on loopback for the remote cache tests, each started and
stopped by the test that uses it:

  Nginx(tmp, token=None)        nginx with WebDAV (PUT creates folders), optionally checking
                                a bearer token; protocol `http`; .connections(method) says
                                which TCP connection served each request
  BazelRemote(tmp)              bazel-remote's HTTP interface (--disable_http_ac_validation,
                                as bld needs); protocol `http`; binary from `go install`
  NxApi(tmp, token, ro_token)   tests/e2e/nx_cache_server.py: Nx's self-hosted cache API
  Turbo(tmp, token, key=None)   turborepo-remote-cache from npm, local-disk storage

Each has .url, .stop(), .start() (again, on the same port and storage), and .store (the
folder its artifacts land in).  Tools installed for them (npm, go) are kept under
BLD_TOOLS_DIR (default ~/.cache/bld-test-tools), so one CI run installs them once.
"""

import os
import pathlib
import shutil
import socket
import subprocess
import sys
import time
import urllib.request

HERE = pathlib.Path(__file__).resolve().parent
TOOLS = pathlib.Path(os.environ.get('BLD_TOOLS_DIR') or
                     pathlib.Path.home() / '.cache' / 'bld-test-tools')
TURBO_VERSION = '2.12.0'
BAZEL_REMOTE_VERSION = 'v2.5.1'


def free_port():
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]


def wait_port(port, proc, what, timeout=30):
    end = time.time() + timeout
    while time.time() < end:
        if proc.poll() is not None:
            raise RuntimeError(f'{what} exited with {proc.returncode}')
        try:
            with socket.create_connection(('127.0.0.1', port), timeout=0.2):
                return
        except OSError:
            time.sleep(0.05)
    raise RuntimeError(f'{what} did not listen on port {port}')


class Server:
    def __init__(self, tmp):
        self.dir = pathlib.Path(tmp)
        self.dir.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.proc = None
        self.log = open(self.dir / 'server.log', 'ab')

    @property
    def url(self):
        return f'http://127.0.0.1:{self.port}'

    def start(self):
        self.proc = subprocess.Popen(self.argv(), env=self.env(), stdout=self.log,
                                     stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                     start_new_session=True)
        wait_port(self.port, self.proc, type(self).__name__)
        return self

    def env(self):
        return dict(os.environ)

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None

    def artifacts(self):
        """Every stored file below the storage folder."""
        return sorted(p for p in self.store.rglob('*') if p.is_file())


class Nginx(Server):
    def __init__(self, tmp, token=None):
        super().__init__(tmp)
        self.store = self.dir / 'store'
        self.store.mkdir(exist_ok=True)
        (self.dir / 'tmp').mkdir(exist_ok=True)
        auth = (f'if ($http_authorization != "Bearer {token}") {{ return 401; }}'
                if token else '')
        user = 'user root;' if os.geteuid() == 0 else ''
        dav_ext = '/usr/lib/nginx/modules/ngx_http_dav_ext_module.so'
        load = f'load_module {dav_ext};' if os.path.exists(dav_ext) else ''
        d = self.dir
        ext = 'dav_ext_methods PROPFIND OPTIONS;' if load else ''
        (d / 'nginx.conf').write_text(f'''
{load}
{user}
daemon off;
worker_processes 1;
pid {d}/nginx.pid;
error_log {d}/error.log;
events {{ worker_connections 256; }}
http {{
  access_log {d}/access.log;
  log_format conns '$connection $request_method $uri $status';
  access_log {d}/connections.log conns;
  client_body_temp_path {d}/tmp/body;
  proxy_temp_path {d}/tmp/proxy;
  fastcgi_temp_path {d}/tmp/fastcgi;
  uwsgi_temp_path {d}/tmp/uwsgi;
  scgi_temp_path {d}/tmp/scgi;
  server {{
    listen 127.0.0.1:{self.port};
    root {self.store};
    client_max_body_size 0;
    location / {{
      {auth}
      dav_methods PUT DELETE;
      {ext}
      create_full_put_path on;
      dav_access user:rw group:r all:r;
    }}
  }}
}}
''')

    def connections(self, method, at_least=0):
        """nginx's serial numbers of the connections that served each `method` request so
        far (connections.log: one line per request), in order; waits (5 s at most) for
        at_least of them, as nginx logs a request after its response went out."""
        log = self.dir / 'connections.log'
        end = time.time() + 5
        while True:
            lines = log.read_text().split('\n') if log.exists() else []
            got = [int(l.split()[0]) for l in lines
                   if len(l.split()) == 4 and l.split()[1] == method]
            if len(got) >= at_least or time.time() > end:
                return got
            time.sleep(0.05)

    def argv(self):
        return [shutil.which('nginx') or '/usr/sbin/nginx', '-p', str(self.dir), '-c',
                str(self.dir / 'nginx.conf'), '-e', str(self.dir / 'error.log')]


class NxApi(Server):
    def __init__(self, tmp, token='rw-token', ro_token='ro-token'):
        super().__init__(tmp)
        self.store = self.dir / 'store'
        self.store.mkdir(exist_ok=True)
        self.token, self.ro_token = token, ro_token

    def argv(self):
        return [sys.executable, str(HERE / 'nx_cache_server.py'), '--port', str(self.port),
                '--store', str(self.store), '--token', self.token, '--read-only-token',
                self.ro_token]


def _install_turbo():
    prefix = TOOLS / f'turborepo-remote-cache-{TURBO_VERSION}'
    binary = prefix / 'node_modules' / '.bin' / 'turborepo-remote-cache'
    if not binary.exists():
        prefix.mkdir(parents=True, exist_ok=True)
        (prefix / 'package.json').write_text('{"private": true}\n')
        r = subprocess.run(['npm', 'install', '--no-audit', '--no-fund', '--loglevel=error',
                            f'turborepo-remote-cache@{TURBO_VERSION}'], cwd=prefix,
                           capture_output=True, text=True, timeout=600)
        if r.returncode != 0:
            raise RuntimeError('npm install turborepo-remote-cache failed:\n' + r.stderr)
    return binary


class Turbo(Server):
    def __init__(self, tmp, token='turbo-token', key=None):
        super().__init__(tmp)
        self.store = self.dir / 'store'
        self.store.mkdir(exist_ok=True)
        self.token, self.key = token, key
        self.binary = _install_turbo()

    def argv(self):
        return [str(self.binary)]

    def env(self):
        e = dict(os.environ)
        e.update({'PORT': str(self.port), 'HOST': '127.0.0.1', 'STORAGE_PROVIDER': 'local',
                  'STORAGE_PATH': str(self.store), 'STORAGE_PATH_USE_TMP_FOLDER': 'false',
                  'TURBO_TOKEN': self.token, 'LOG_LEVEL': 'warn', 'NODE_ENV': 'production'})
        if self.key:
            e['TURBO_REMOTE_CACHE_SIGNATURE_KEY'] = self.key
        return e


def install_bazel_remote():
    """bazel-remote built with Go's own client; (path, None) or (None, why not)."""
    gobin = TOOLS / 'go' / 'bin'
    binary = gobin / 'bazel-remote'
    if binary.exists():
        return binary, None
    if not shutil.which('go'):
        return None, 'go is not installed'
    env = dict(os.environ, GOBIN=str(gobin), GOMODCACHE=str(TOOLS / 'go' / 'mod'),
               GOCACHE=str(TOOLS / 'go' / 'cache'))
    r = subprocess.run(['go', 'install',
                        f'github.com/buchgr/bazel-remote/v2@{BAZEL_REMOTE_VERSION}'],
                       env=env, capture_output=True, text=True, timeout=900)
    if r.returncode != 0:
        return None, ('go install github.com/buchgr/bazel-remote/v2@' + BAZEL_REMOTE_VERSION +
                      ' failed: ' + r.stderr.strip().splitlines()[-1])
    return binary, None


class BazelRemote(Server):
    def __init__(self, tmp, binary):
        super().__init__(tmp)
        self.store = self.dir / 'store'
        self.store.mkdir(exist_ok=True)
        self.binary = binary

    def argv(self):
        return [str(self.binary), '--dir', str(self.store), '--max_size', '1',
                '--host', '127.0.0.1', '--port', str(self.port), '--grpc_address', 'none',
                '--disable_http_ac_validation']


def http_put(url, data, headers=None):
    req = urllib.request.Request(url, data=data, method='PUT', headers=headers or {})
    with urllib.request.urlopen(req, timeout=10) as r:
        return r.status
