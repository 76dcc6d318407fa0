"""The cluster scenario's webhook sink: an HTTP server on 127.0.0.1:9099 that appends the body of
each POST (Alertmanager's webhook notification, JSON) as one line to
/var/lib/kojiforge-webhook-sink/notifications.jsonl, with the time it arrived (received_at, Unix
seconds) added. Run by kojiforge-webhook-sink.service, which molecule/cluster/prepare.yml sets up;
the tests read the file."""

import json
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

OUTPUT = "/var/lib/kojiforge-webhook-sink/notifications.jsonl"
LOCK = threading.Lock()


class Sink(BaseHTTPRequestHandler):
    def do_POST(self):  # pylint: disable=invalid-name
        length = int(self.headers.get("Content-Length", "0"))
        body = self.rfile.read(length).decode("utf-8")
        try:
            notification = json.loads(body)
        except ValueError:
            notification = {"unparsed": body}
        if isinstance(notification, dict):
            notification["received_at"] = time.time()
        with LOCK, open(OUTPUT, "a", encoding="utf-8") as handle:
            handle.write(json.dumps(notification, sort_keys=True) + "\n")
        self.send_response(200)
        self.end_headers()

    def do_GET(self):  # pylint: disable=invalid-name
        self.send_response(200)
        self.end_headers()
        self.wfile.write(b"kojiforge webhook sink\n")

    def log_message(self, format, *args):  # pylint: disable=redefined-builtin
        sys.stderr.write("%s %s\n" % (self.address_string(), format % args))


def main():
    server = ThreadingHTTPServer(("127.0.0.1", 9099), Sink)
    server.serve_forever()


if __name__ == "__main__":
    main()
