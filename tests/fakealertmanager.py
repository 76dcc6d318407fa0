"""A small fake of Alertmanager's v2 API for the silences (and an alert list, empty unless a
test fills it): enough for alertmanager_silence's unit tests and the maintenance playbooks'
tests. Every request is recorded in order (`requests`), and when it came (`stamps`, the
time.monotonic() of each). The real Alertmanager is in
tests/integration/test_alertmanager_silence_real.py."""

import json
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, HTTPServer


class FakeAlertmanager(object):
    def __init__(self, prefix=''):
        self.silences = {}
        self.alerts = []
        self.requests = []
        self.stamps = []
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def answer(self, status, body=None):
                text = b'' if body is None else json.dumps(body).encode()
                self.send_response(status)
                self.send_header('Content-Type', 'application/json')
                self.send_header('Content-Length', str(len(text)))
                self.end_headers()
                self.wfile.write(text)

            def do_GET(self):
                fake.record('GET', self.path, None)
                if self.path.split('?')[0] == prefix + '/api/v2/silences':
                    return self.answer(200, list(fake.silences.values()))
                if self.path.startswith(prefix + '/api/v2/alerts'):
                    return self.answer(200, fake.alerts)
                silence = fake.silences.get(self.path.rsplit('/', 1)[-1])
                return self.answer(200, silence) if silence else self.answer(404, 'silence not found')

            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers['Content-Length'])))
                fake.record('POST', self.path, body)
                silence_id = str(uuid.uuid4())
                fake.silences[silence_id] = dict(body, id=silence_id, status={'state': 'active'})
                self.answer(200, {'silenceID': silence_id})

            def do_DELETE(self):
                fake.record('DELETE', self.path, None)
                silence = fake.silences.get(self.path.rsplit('/', 1)[-1])
                if not silence:
                    return self.answer(404, 'silence not found')
                silence['status'] = {'state': 'expired'}
                return self.answer(200)

        self.server = HTTPServer(('127.0.0.1', 0), Handler)
        self.port = self.server.server_address[1]
        self.url = 'http://127.0.0.1:%d%s/' % (self.port, prefix)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def record(self, method, path, body):
        self.requests.append((method, path, body))
        self.stamps.append(time.monotonic())

    def writes(self):
        return [r for r in self.requests if r[0] != 'GET']

    def stop(self):
        self.server.shutdown()
        self.server.server_close()
