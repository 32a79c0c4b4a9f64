"""A webhook receiver for tests: verifies every delivery with the `standardwebhooks` package from
PyPI (an implementation independent of ours) and records it. It listens on 127.0.0.1 and prints
its port on the first line.

Paths choose how it answers:
  /ok/...              200
  /flaky/N/...         500 for the first N requests on this exact path, then 200
  /hang/...            reads the request, then waits 60 s before answering
  /hang-once/...       the first request on the path hangs 60 s, later ones get 200
  /gone/...            410
  /redirect/...        302 to the cloud metadata address (must never be followed)
  /slow-body/...       200, then a 10 MB body 4 KiB every 100 ms (must not be read in full)

Control (JSON): POST /_secret {"path_prefix": "/ok/abc", "secret": "whsec_..."} sets the secret
deliveries under that prefix are verified with; GET /_received returns every request so far:
[{path, webhook_id, timestamp, verified, error, body}].
"""
import json
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from standardwebhooks.webhooks import Webhook

lock = threading.Lock()
received = []
secrets = {}
counts = {}


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def _reply(self, status, body=b"", headers=None):
        self.send_response(status)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.send_header("content-length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        if self.path == "/_received":
            with lock:
                body = json.dumps(received).encode()
            return self._reply(200, body, {"content-type": "application/json"})
        self._reply(404)

    def do_POST(self):
        length = int(self.headers.get("content-length", "0"))
        body = self.rfile.read(length)
        if self.path == "/_secret":
            control = json.loads(body)
            with lock:
                secrets[control["path_prefix"]] = control["secret"]
            return self._reply(204)
        headers = {name.lower(): value for name, value in self.headers.items()}
        with lock:
            secret = next((s for prefix, s in secrets.items() if self.path.startswith(prefix)), None)
            counts[self.path] = counts.get(self.path, 0) + 1
            count = counts[self.path]
        verified, error = False, None
        if secret is None:
            error = "no secret for this path"
        else:
            try:
                Webhook(secret).verify(body, headers)
                verified = True
            except Exception as exc:  # the package raises its own verification errors
                error = f"{type(exc).__name__}: {exc}"
        with lock:
            received.append({
                "path": self.path,
                "webhook_id": headers.get("webhook-id"),
                "timestamp": headers.get("webhook-timestamp"),
                "signature": headers.get("webhook-signature"),
                "verified": verified,
                "error": error,
                "body": body.decode("utf-8", "replace"),
                "at": time.time(),
            })
        parts = self.path.strip("/").split("/")
        kind = parts[0]
        if kind == "flaky" and count <= int(parts[1]):
            return self._reply(500, b"not yet")
        if kind == "hang-once" and count == 1:
            time.sleep(60)
            return self._reply(200)
        if kind == "hang":
            time.sleep(60)
            return self._reply(200)
        if kind == "gone":
            return self._reply(410)
        if kind == "redirect":
            return self._reply(302, b"", {"location": "http://169.254.169.254/latest/meta-data/"})
        if kind == "slow-body":
            self.send_response(200)
            self.send_header("content-length", str(10 * 1024 * 1024))
            self.end_headers()
            try:
                for _ in range(2560):
                    self.wfile.write(b"x" * 4096)
                    self.wfile.flush()
                    time.sleep(0.1)
            except (BrokenPipeError, ConnectionResetError):
                pass
            return
        self._reply(200, b"ok")


server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
server.daemon_threads = True
print(server.server_address[1], flush=True)
server.serve_forever()
