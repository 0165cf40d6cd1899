"""What the case's two little servers (mock_upstream.py, recorder.py) share:
an HTTP/1.1 handler that logs nothing and reads a request body whole,
chunked or with a length."""

import itertools
import json
import threading
from http.server import BaseHTTPRequestHandler

_numbers = itertools.count(1)
_numbers_lock = threading.Lock()


class QuietHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *a):
        pass

    def read_body(self):
        if self.headers.get("transfer-encoding", "").lower() == "chunked":
            data = b""
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    self.rfile.readline()
                    return data
                data += self.rfile.read(size)
                self.rfile.readline()
        n = int(self.headers.get("content-length") or 0)
        return self.rfile.read(n) if n else b""

    @staticmethod
    def numbered(raw):
        """The next request number (1, 2, ...) and the body as JSON (or as
        text when it is not JSON)."""
        try:
            body = json.loads(raw) if raw else None
        except ValueError:
            body = raw.decode("utf-8", "replace")
        with _numbers_lock:
            return next(_numbers), body
