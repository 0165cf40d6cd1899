"""The big-body rows of bench/big_bodies.sh: a body of small JSON objects for
each body route, and one run of it — the body posted once while another
client asks /ping every 10 ms on the same host — reported as a JSON line.

  python3 bench/big_bodies.py body ROUTE SIZE FILE [VALUES]  # ROUTE's body: SIZE bytes,
                                                      # or VALUES JSON values at most
  python3 bench/big_bodies.py text ROUTE SIZE FILE     # the same shape, one text of SIZE
  python3 bench/big_bodies.py run PORT ROUTE FILE      # post it, ping meanwhile
  python3 bench/big_bodies.py row HOST BUILD BODY RSS_BEFORE RSS_PEAK JSON  # a table row

Loopback only.
"""
import http.client
import json
import socket
import sys
import threading
import time

# route: (path, header carrying the proxy key, item, body around the items)
BLOCK = '{"type":"text","text":"a"}'
ROUTES = {
    "count_tokens": ("/v1/messages/count_tokens", "authorization", BLOCK,
                     '{"model":"openai/gpt-4o-mini","messages":[{"role":"user","content":[%s]}]}'),
    "chat": ("/v1/chat/completions", "authorization", BLOCK,
             '{"model":"openai/gpt-4o-mini","messages":[{"role":"user","content":[%s]}]}'),
    "messages": ("/v1/messages", "authorization", BLOCK,
                 '{"model":"openai/gpt-4o-mini","max_tokens":100,"messages":[{"role":"user","content":[%s]}]}'),
    "responses": ("/v1/responses", "authorization", '{"type":"input_text","text":"a"}',
                  '{"model":"groq/llama-3.3-70b","store":false,"input":[{"role":"user","content":[%s]}]}'),
    "embeddings": ("/v1/embeddings", "authorization", '"a"',
                   '{"model":"openai/text-embedding-3-small","input":[%s]}'),
    "gemini": ("/v1beta/models/openai/gpt-4o-mini:generateContent", "x-goog-api-key", '{"text":"a"}',
               '{"contents":[{"role":"user","parts":[%s]}]}'),
    "universal": ("/g/bench/", "authorization", BLOCK,
                  '[{"provider":"openai","endpoint":"chat/completions","headers":{},'
                  '"query":{"model":"gpt-4o-mini","messages":[{"role":"user","content":[%s]}]}}]'),
}
KEY = "bench-proxy-key"


def values(text):
    """JSON values in `text`, as the proxy counts them (src/body_limit.rs)."""
    n, in_string, escaped, in_scalar = 0, False, False, False
    for c in text:
        if in_string:
            if escaped:
                escaped = False
            elif c == "\\":
                escaped = True
            elif c == '"':
                in_string = False
        elif c == '"':
            n, in_string, in_scalar = n + 1, True, False
        elif c in "{[":
            n, in_scalar = n + 1, False
        elif c in "}],: \t\n\r":
            in_scalar = False
        elif not in_scalar:
            n, in_scalar = n + 1, True
    return n


def body(route, size, path, most=None):
    _, _, item, shape = ROUTES[route]
    n = max(1, (size - len(shape)) // (len(item) + 1))
    if most is not None:
        n = min(n, (most - values(shape % "")) // values(item))
    with open(path, "w") as f:
        f.write(shape % ",".join([item] * n))


def text(route, size, path):
    """The route's shape with one item: a text of about `size` bytes."""
    _, _, item, shape = ROUTES[route]
    long = item.replace('"a"', json.dumps("a" * max(1, size - len(shape) - len(item))))
    with open(path, "w") as f:
        f.write(shape % long)


def post(port, url, headers, payload):
    """POSTs `payload` in chunks; a server that answers before it has read
    it all (a 413) ends the sending, and its answer is read all the same."""
    sock = socket.create_connection(("127.0.0.1", port), timeout=300)
    head = f"POST {url} HTTP/1.1\r\nhost: 127.0.0.1\r\ncontent-type: application/json\r\n"
    head += f"content-length: {len(payload)}\r\nconnection: close\r\n"
    head += "".join(f"{k}: {v}\r\n" for k, v in headers.items()) + "\r\n"
    try:
        sock.sendall(head.encode())
        view = memoryview(payload)
        for at in range(0, len(payload), 1 << 16):
            sock.sendall(view[at:at + (1 << 16)])
    except OSError:
        pass
    answer = b""
    try:
        while True:
            chunk = sock.recv(1 << 16)
            if not chunk:
                break
            answer += chunk
    except OSError:
        pass
    sock.close()
    status_line, _, rest = answer.partition(b"\r\n")
    parts = status_line.split()
    status = int(parts[1]) if len(parts) > 1 else 0
    return status, rest.partition(b"\r\n\r\n")[2]


def run(port, route, path):
    url, header, _, _ = ROUTES[route]
    with open(path, "rb") as f:
        payload = f.read()
    done = threading.Event()
    pings = []  # (start, latency ms)

    def pinger():
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        while not done.is_set():
            t0 = time.monotonic()
            try:
                conn.request("GET", "/ping")
                conn.getresponse().read()
            except (OSError, http.client.HTTPException):
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
                continue
            dt = time.monotonic() - t0
            pings.append((t0, dt * 1000))
            time.sleep(max(0.0, 0.01 - dt))
        conn.close()

    t = threading.Thread(target=pinger)
    t.start()
    time.sleep(0.3)  # pinging before the post starts
    value = KEY if header == "x-goog-api-key" else f"Bearer {KEY}"
    start = time.monotonic()
    status, answer = post(port, url, {header: value}, payload)
    seconds = time.monotonic() - start
    time.sleep(0.05)
    done.set()
    t.join()
    during = [ms for (t0, ms) in pings if t0 + ms / 1000 >= start and t0 <= start + seconds]
    before = [ms for (t0, ms) in pings if t0 + ms / 1000 < start]
    print(json.dumps({
        "route": route, "bytes": len(payload), "status": status, "seconds": round(seconds, 3),
        "ping_max_ms": round(max(during, default=0.0), 1), "pings_during": len(during),
        "ping_before_max_ms": round(max(before, default=0.0), 1),
        "answer": answer[:160].decode("utf-8", "replace"),
    }))


if __name__ == "__main__":
    if sys.argv[1] == "body":
        body(sys.argv[2], int(sys.argv[3]), sys.argv[4], int(sys.argv[5]) if len(sys.argv) > 5 else None)
    elif sys.argv[1] == "row":
        host, build, kind, before, peak, line = sys.argv[2:8]
        v = json.loads(line)
        kind = {"values": "objects≤limit"}.get(kind, kind)
        print(f"| {host} | {build} | {v['route']} | {kind} | {v['bytes'] / 1048576:.1f} | {v['status']} | "
              f"{v['seconds']:.2f} | {v['ping_max_ms']:.0f} | {v['pings_during']} | {before} | {peak} |")
    elif sys.argv[1] == "text":
        text(sys.argv[2], int(sys.argv[3]), sys.argv[4])
    else:
        run(int(sys.argv[2]), sys.argv[3], sys.argv[4])
