"""A small server of Nx's self-hosted remote cache API, written from its published spec, for
bld's remote cache tests (no such server is packaged):

  GET /v1/cache/{hash}   200 + the artifact (application/octet-stream), 404 when absent
  PUT /v1/cache/{hash}   needs Content-Length (411 otherwise; a chunked body is 400);
                         200 stored, 409 when the hash is already there, 403 for a
                         read-only token
  any request            401 without `Authorization: Bearer <token>` of a known token
  HEAD (or another method) 405: the API has none

Every request is appended to <store>/../requests.log as "METHOD path status".
"""

import argparse
import http.server
import os
import pathlib
import re
import threading

KEY = re.compile(r'^/v1/cache/([A-Za-z0-9_.-]{1,128})$')


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--port', type=int, required=True)
    ap.add_argument('--store', required=True)
    ap.add_argument('--token', required=True)
    ap.add_argument('--read-only-token', required=True)
    a = ap.parse_args()
    store = pathlib.Path(a.store)
    log = store.parent / 'requests.log'
    lock = threading.Lock()

    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = 'HTTP/1.1'

        def log_message(self, *args):
            pass

        def answer(self, status, body=b'', ctype='text/plain'):
            with lock, open(log, 'a') as f:
                f.write(f'{self.command} {self.path} {status}\n')
            self.send_response(status)
            self.send_header('Content-Type', ctype)
            self.send_header('Content-Length', str(len(body)))
            self.end_headers()
            if self.command != 'HEAD':
                self.wfile.write(body)

        def auth(self):
            h = self.headers.get('Authorization', '')
            if h == f'Bearer {a.token}':
                return 'rw'
            if h == f'Bearer {a.read_only_token}':
                return 'ro'
            return None

        def key(self):
            m = KEY.match(self.path)
            return store / m.group(1) if m else None

        def do_GET(self):
            who, path = self.auth(), self.key()
            if not who:
                return self.answer(401, b'missing or invalid token')
            if not path:
                return self.answer(404, b'not found')
            if not path.exists():
                return self.answer(404, b'not found')
            self.answer(200, path.read_bytes(), 'application/octet-stream')

        def do_PUT(self):
            who, path = self.auth(), self.key()
            if 'chunked' in self.headers.get('Transfer-Encoding', ''):
                self.close_connection = True
                return self.answer(400, b'chunked bodies are not accepted')
            n = self.headers.get('Content-Length')
            if n is None:
                self.close_connection = True
                return self.answer(411, b'Content-Length required')
            body = self.rfile.read(int(n))
            if not who:
                return self.answer(401, b'missing or invalid token')
            if who == 'ro':
                return self.answer(403, b'read-only token')
            if not path:
                return self.answer(400, b'bad hash')
            if path.exists():
                return self.answer(409, b'cannot override an existing record')
            tmp = path.with_suffix('.tmp')
            tmp.write_bytes(body)
            os.replace(tmp, path)
            self.answer(200, b'')

        def do_HEAD(self):
            self.answer(405)

        do_POST = do_DELETE = do_HEAD

    srv = http.server.ThreadingHTTPServer(('127.0.0.1', a.port), Handler)
    srv.daemon_threads = True
    srv.serve_forever()


if __name__ == '__main__':
    main()
