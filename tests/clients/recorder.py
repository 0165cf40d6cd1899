#!/usr/bin/env python3
"""A recording reverse proxy for scripts/clients.sh --record (standard library).

Listens on 127.0.0.1:--port (any free port by default; written to --port-file), forwards every request
unchanged to --upstream (the proxy under test) and relays the answer back as it
arrives (chunked), while writing each request exactly as the client sent it to
--log-dir as NNNN.json ({"method","path","headers","body"}, plus the
answer's "response": {"status","headers"}). Secrets are not
removed here: tests/clients/fixtures.py redacts when it writes fixtures.
"""

import argparse
import http.client
import json
import os
import time
from http.server import ThreadingHTTPServer
from urllib.parse import urlsplit

from quiet_http import QuietHandler

ARGS = None
HOP = {"connection", "keep-alive", "transfer-encoding", "te", "trailer", "upgrade",
       "proxy-connection", "proxy-authenticate", "proxy-authorization", "content-length"}


class Handler(QuietHandler):
    def forward(self):
        raw = self.read_body()
        n, body = self.numbered(raw)
        # Header names as the client spelled them, in order (lowercased).
        entry = {"method": self.command, "path": self.path,
                 "headers": {k.lower(): v for k, v in self.headers.items()}, "body": body}
        log = os.path.join(ARGS.log_dir, f"{n:04d}.json")
        with open(log, "w") as f:
            json.dump(entry, f, indent=1)
        up = urlsplit(ARGS.upstream)
        conn = http.client.HTTPConnection(up.hostname, up.port, timeout=300)
        headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP}
        headers["content-length"] = str(len(raw))
        try:
            conn.request(self.command, self.path, body=raw if raw or self.command in ("POST", "PUT") else None,
                         headers=headers)
            resp = conn.getresponse()
        except OSError as e:
            msg = json.dumps({"error": {"message": f"recorder: upstream unreachable: {e}"}}).encode()
            self.send_response(502)
            self.send_header("content-type", "application/json")
            self.send_header("content-length", str(len(msg)))
            self.end_headers()
            self.wfile.write(msg)
            return
        # The answer's head too (status, headers such as x-llm-proxy-dropped).
        entry["response"] = {"status": resp.status, "headers": {k.lower(): v for k, v in resp.getheaders()}}
        with open(log, "w") as f:
            json.dump(entry, f, indent=1)
        self.send_response(resp.status, resp.reason)
        for k, v in resp.getheaders():
            if k.lower() not in HOP:
                self.send_header(k, v)
        no_body = self.command == "HEAD" or resp.status in (204, 304)
        if not no_body:
            self.send_header("transfer-encoding", "chunked")
        self.end_headers()
        if no_body:
            return
        while True:
            data = resp.read1(65536)
            if not data:
                break
            self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
            self.wfile.flush()
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()
        conn.close()

    do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = do_OPTIONS = do_PATCH = forward


def main():
    global ARGS
    p = argparse.ArgumentParser()
    p.add_argument("--upstream", required=True)
    p.add_argument("--log-dir", required=True)
    p.add_argument("--port-file", required=True)
    p.add_argument("--port", type=int, default=0)
    ARGS = p.parse_args()
    os.makedirs(ARGS.log_dir, exist_ok=True)
    server = ThreadingHTTPServer(("127.0.0.1", ARGS.port), Handler)
    server.daemon_threads = True
    tmp = ARGS.port_file + ".tmp"
    with open(tmp, "w") as f:
        f.write(str(server.server_address[1]))
    os.replace(tmp, ARGS.port_file)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
