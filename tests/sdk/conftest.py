"""Fixtures for the real-SDK tests: a loopback mock provider and the proxy
(`wasi` flavour) under `wasmtime serve`, pointed at it.

The component is built by `cargo test` (target/component/llm-proxy-wasi-p3.wasm,
the WASIp3 build); scripts/test.sh runs that first.
"""

import base64
import json
import os
import shutil
import socket
import struct
import subprocess
import threading
import time
import urllib.request
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
WASM = ROOT / "target" / "component" / "llm-proxy-wasi-p3.wasm"
PROXY_KEY = "sdk-test-proxy-key-123"
OPENAI_KEY = "sk-upstream-openai-key"
ANTHROPIC_KEY = "sk-ant-upstream-key"
GEMINI_KEY = "AIza-upstream-gemini-key"
GROQ_KEY = "gsk-upstream-groq-key"
LOCAL_KEY = "local-upstream-key"


def sse(events):
    return "".join(f"data: {json.dumps(e)}\n\n" for e in events) + "data: [DONE]\n\n"


def embeddings_answer(body, vectors, tokens):
    """OpenAI's embeddings list; base64 vectors (little-endian float32) when asked, as OpenAI sends them."""
    def encode(v):
        if body.get("encoding_format") == "base64":
            return base64.b64encode(struct.pack(f"<{len(v)}f", *v)).decode()
        return v
    return {"object": "list", "model": body["model"],
            "data": [{"object": "embedding", "index": i, "embedding": encode(v)} for i, v in enumerate(vectors)],
            "usage": {"prompt_tokens": tokens, "total_tokens": tokens}}


def mock_vectors(body):
    """One vector per input text: [0.5, index, -2.0], `dimensions` long when asked."""
    texts = body["input"] if isinstance(body["input"], list) else [body["input"]]
    size = body.get("dimensions") or 3
    return [([0.5, float(i), -2.0] + [0.25] * size)[:size] for i in range(len(texts))]


def chunk(delta, finish=None, usage=None, choices=True):
    body = {"id": "chatcmpl-s", "object": "chat.completion.chunk", "created": 1, "model": "gpt-4o-mini"}
    body["choices"] = [{"index": 0, "delta": delta, "finish_reason": finish}] if choices else []
    if usage:
        body["usage"] = usage
    return body


class MockProvider(BaseHTTPRequestHandler):
    """OpenAI and Anthropic shaped answers; records what it received."""

    received = []

    def log_message(self, *args):
        pass

    def _record(self):
        length = int(self.headers.get("content-length") or 0)
        raw = self.rfile.read(length) if length else b""
        entry = {"method": self.command, "path": self.path, "headers": {k.lower(): v for k, v in self.headers.items()}, "body": raw}
        MockProvider.received.append(entry)
        return json.loads(raw) if raw else None

    def _send(self, status, body, ctype="application/json"):
        data = body.encode() if isinstance(body, str) else body
        self.send_response(status)
        self.send_header("content-type", ctype)
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        self._record()
        if self.path == "/openai/v1/models":
            self._send(200, json.dumps({"object": "list", "data": [
                {"id": "gpt-4o-mini", "object": "model", "created": 1721172741, "owned_by": "system"},
                {"id": "gpt-4o", "object": "model", "created": 1715367049, "owned_by": "system"}]}))
        else:
            self._send(404, json.dumps({"error": {"message": "not found"}}))

    def do_POST(self):
        body = self._record()
        if body and body.get("model") == "rate-limited":
            err = {"error": {"message": "Rate limit reached", "type": "requests", "code": "rate_limit_exceeded"}}
            return self._send(429, json.dumps(err))
        if self.path.endswith("/chat/completions"):
            self._chat(body)
        elif self.path == "/openai/v1/responses":
            self._responses(body)
        elif self.path.endswith("/embeddings"):
            self._send(200, json.dumps(embeddings_answer(body, mock_vectors(body), 4)))
        elif self.path == "/anthropic/v1/messages":
            self._messages(body)
        elif self.path.startswith(("/google/v1beta/models/", "/google/v1/models/")):
            self._gemini(body)
        else:
            self._send(404, json.dumps({"error": {"message": "not found"}}))

    def _chat(self, body):
        messages = body.get("messages", [])
        wants_tool = body.get("tools") and not any(m.get("role") == "tool" for m in messages)
        if body.get("stream"):
            usage = {"prompt_tokens": 5, "completion_tokens": 3, "total_tokens": 8}
            events = [chunk({"role": "assistant", "content": ""})]
            events += [chunk({"content": w}) for w in ["Hel", "lo", " there"]]
            if wants_tool:
                events.append(chunk({"tool_calls": [{"index": 0, "id": "call_s", "type": "function",
                                                     "function": {"name": "get_weather", "arguments": "{\"ci"}}]}))
                events.append(chunk({"tool_calls": [{"index": 0, "function": {"arguments": "ty\": \"Paris\"}"}}]}))
                events.append(chunk({}, finish="tool_calls"))
            else:
                events.append(chunk({}, finish="stop"))
            if (body.get("stream_options") or {}).get("include_usage"):
                events.append(chunk(None, usage=usage, choices=False))
            return self._send(200, sse(events), "text/event-stream")
        if wants_tool:
            message = {"role": "assistant", "content": None, "tool_calls": [{
                "id": "call_1", "type": "function",
                "function": {"name": "get_weather", "arguments": json.dumps({"city": "Paris"})}}]}
            finish = "tool_calls"
        elif any(m.get("role") == "tool" for m in messages):
            tool = next(m for m in messages if m.get("role") == "tool")
            message = {"role": "assistant", "content": f"Weather: {tool['content']}"}
            finish = "stop"
        else:
            message = {"role": "assistant", "content": "Hello from the mock"}
            finish = "stop"
        self._send(200, json.dumps({
            "id": "chatcmpl-1", "object": "chat.completion", "created": 1, "model": body["model"],
            "choices": [{"index": 0, "message": message, "finish_reason": finish}],
            "usage": {"prompt_tokens": 5, "completion_tokens": 4, "total_tokens": 9}}))

    def _responses(self, body):
        """OpenAI's own Responses API: a function call first, then the
        answer that quotes the function's output."""
        items = body.get("input") if isinstance(body.get("input"), list) else []
        outputs = [i for i in items if i.get("type") == "function_call_output"]
        if body.get("tools") and not outputs:
            output = [{"type": "function_call", "id": "fc_n", "call_id": "call_n", "name": "get_weather",
                       "arguments": json.dumps({"city": "Paris"}), "status": "completed"}]
        else:
            text = f"Weather: {outputs[0]['output']}" if outputs else "Hello from OpenAI's Responses API"
            output = [{"type": "message", "id": "msg_n", "status": "completed", "role": "assistant",
                       "content": [{"type": "output_text", "text": text, "annotations": []}]}]
        response = {"id": "resp_native", "object": "response", "created_at": 1, "status": "completed",
                    "model": body["model"], "output": output, "parallel_tool_calls": True,
                    "tool_choice": "auto", "tools": [],
                    "usage": {"input_tokens": 5, "output_tokens": 4, "total_tokens": 9,
                              "input_tokens_details": {"cached_tokens": 0},
                              "output_tokens_details": {"reasoning_tokens": 0}}}
        if body.get("stream"):
            events = [("response.created", {"response": {**response, "status": "in_progress", "output": []}}),
                      ("response.completed", {"response": response})]
            text = "".join(f"event: {n}\ndata: {json.dumps({'type': n, 'sequence_number': i, **d})}\n\n"
                           for i, (n, d) in enumerate(events))
            return self._send(200, text, "text/event-stream")
        self._send(200, json.dumps(response))

    def _gemini(self, body):
        """Google AI Studio's countTokens, (batch)embedContents and generateContent
        (and `:streamGenerateContent?alt=sse`, CRLF-separated events as Google
        writes them): a function call first
        when the request declares functions, then the answer that quotes the
        function's response; plain text otherwise."""
        if ":countTokens" in self.path:
            return self._send(200, json.dumps({"totalTokens": 7}))
        if ":batchEmbedContents" in self.path:
            vectors = [[0.5, float(i), -2.0] for i in range(len(body["requests"]))]
            return self._send(200, json.dumps({"embeddings": [{"values": v} for v in vectors]}))
        if ":embedContent" in self.path:
            return self._send(200, json.dumps({"embedding": {"values": [0.5, 0.0, -2.0]}}))
        last = ((body or {}).get("contents") or [{}])[-1]
        results = [p["functionResponse"] for p in last.get("parts") or [] if "functionResponse" in p]
        declares = any("functionDeclarations" in t for t in (body or {}).get("tools") or [])
        call = {"functionCall": {"name": "get_weather", "args": {"city": "Paris"}}}

        def answer(parts, finish=None, usage=(2, 1, 3)):
            cand = {"content": {"parts": parts, "role": "model"}, "index": 0}
            if finish:
                cand["finishReason"] = finish
            prompt, candidates, total = usage
            return {"candidates": [cand], "modelVersion": "gemini-2.0-flash", "responseId": "gemini-resp-1",
                    "usageMetadata": {"promptTokenCount": prompt, "candidatesTokenCount": candidates,
                                      "totalTokenCount": total}}
        if results:
            r = results[0].get("response") or {}
            texts = [f"Weather: {r.get('output', json.dumps(r))}"]
        elif declares:
            texts = None
        else:
            texts = ["Hal", "lo"]
        if ":streamGenerateContent" in self.path:
            if texts is None:
                events = [answer([{"text": "Hal"}], usage=(2, 0, 2)), answer([call], "STOP", (2, 4, 6))]
            else:
                events = [answer([{"text": t}], usage=(2, 0, 2)) for t in texts[:-1]]
                events.append(answer([{"text": texts[-1]}], "STOP"))
            text = "".join(f"data: {json.dumps(e)}\r\n\r\n" for e in events)
            return self._send(200, text, "text/event-stream")
        if texts is None:
            return self._send(200, json.dumps(answer([call], "STOP", (2, 4, 6))))
        self._send(200, json.dumps(answer([{"text": "".join(texts)}], "STOP")))

    def _messages(self, body):
        def last_results():
            last = (body.get("messages") or [{}])[-1]
            content = last.get("content")
            if isinstance(content, list):
                return [b for b in content if b.get("type") == "tool_result"]
            return []
        results = last_results()
        wants_tool = body.get("tools") and not results
        if body.get("stream"):
            events = [
                ("message_start", {"type": "message_start", "message": {
                    "id": "msg_1", "type": "message", "role": "assistant", "model": body["model"], "content": [],
                    "stop_reason": None, "stop_sequence": None, "usage": {"input_tokens": 3, "output_tokens": 0}}}),
                ("content_block_start", {"type": "content_block_start", "index": 0, "content_block": {"type": "text", "text": ""}}),
                ("content_block_delta", {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "Bon"}}),
                ("content_block_delta", {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "jour"}}),
                ("content_block_stop", {"type": "content_block_stop", "index": 0}),
            ]
            stop = "end_turn"
            if wants_tool:
                events += [
                    ("content_block_start", {"type": "content_block_start", "index": 1, "content_block": {
                        "type": "tool_use", "id": "toolu_s", "name": "get_weather", "input": {}}}),
                    ("content_block_delta", {"type": "content_block_delta", "index": 1, "delta": {
                        "type": "input_json_delta", "partial_json": "{\"city\": "}}),
                    ("content_block_delta", {"type": "content_block_delta", "index": 1, "delta": {
                        "type": "input_json_delta", "partial_json": "\"Paris\"}"}}),
                    ("content_block_stop", {"type": "content_block_stop", "index": 1}),
                ]
                stop = "tool_use"
            events += [
                ("message_delta", {"type": "message_delta", "delta": {"stop_reason": stop, "stop_sequence": None}, "usage": {"output_tokens": 2}}),
                ("message_stop", {"type": "message_stop"}),
            ]
            text = "".join(f"event: {n}\ndata: {json.dumps(d)}\n\n" for n, d in events)
            return self._send(200, text, "text/event-stream")
        if wants_tool:
            content = [{"type": "tool_use", "id": "toolu_1", "name": "get_weather", "input": {"city": "Paris"}}]
            stop = "tool_use"
        elif results:
            r = results[0]["content"]
            r = r if isinstance(r, str) else "".join(b.get("text", "") for b in r)
            content = [{"type": "text", "text": f"Weather: {r}"}]
            stop = "end_turn"
        else:
            content = [{"type": "text", "text": "Bonjour"}]
            stop = "end_turn"
        self._send(200, json.dumps({
            "id": "msg_1", "type": "message", "role": "assistant", "model": body["model"],
            "content": content, "stop_reason": stop, "stop_sequence": None,
            "usage": {"input_tokens": 3, "output_tokens": 1}}))


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wasmtime():
    found = shutil.which("wasmtime") or str(Path.home() / ".cargo" / "bin" / "wasmtime")
    assert Path(found).exists(), "wasmtime not found: run scripts/test.sh"
    return found


@pytest.fixture(scope="session")
def mock():
    server = ThreadingHTTPServer(("127.0.0.1", 0), MockProvider)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server
    server.shutdown()


@pytest.fixture()
def received(mock):
    MockProvider.received.clear()
    return MockProvider.received


def serve(settings):
    """Starts the proxy under wasmtime serve with `settings`; returns (url, process)."""
    port = free_port()
    # As scripts/serve-opts.sh: the environment and the WASIp3 interfaces.
    args = [wasmtime(), "serve", "-S", "cli", "-S", "p3", "-W", "component-model-async",
            "--addr", f"127.0.0.1:{port}"]
    for name in settings:
        args += ["--env", name]
    env = {"PATH": os.environ.get("PATH", ""), "HOME": os.environ.get("HOME", ""), **settings}
    proc = subprocess.Popen(args + [str(WASM)], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    deadline = time.time() + 60
    while True:
        try:
            with urllib.request.urlopen(f"{url}/ping", timeout=2) as r:
                if r.status == 200:
                    break
        except OSError:
            pass
        assert time.time() < deadline, "proxy did not start"
        time.sleep(0.05)
    return url, proc


@pytest.fixture(scope="session")
def cloud_mock():
    import clouds
    server = clouds.start()
    yield server
    server.shutdown()


@pytest.fixture()
def cloud_received(cloud_mock):
    import clouds
    clouds.CloudMock.received.clear()
    clouds.CloudMock.tokens_issued.clear()
    clouds.CloudMock.refuse_tokens.clear()
    clouds.CloudMock.refuse_next = 0
    return clouds.CloudMock


@pytest.fixture(scope="session")
def cloud_proxy(cloud_mock):
    """The proxy with Azure, Vertex (service account) and Bedrock (SigV4)
    pointed at the cloud mocks."""
    import clouds
    assert WASM.exists(), f"{WASM} missing: run `cargo test` (scripts/test.sh does) first"
    base = f"http://127.0.0.1:{cloud_mock.server_address[1]}"
    url, proc = serve({
        "PROXY_API_KEY": PROXY_KEY,
        "AZURE_OPENAI_API_KEY": clouds.AZURE_KEY,
        "AZURE_OPENAI_BASE_URL": f"{base}/azure",
        "VERTEX_SERVICE_ACCOUNT_JSON": clouds.FIXTURE.read_text(),
        "VERTEX_TOKEN_URI": f"{base}/google/token",
        "GOOGLE_VERTEX_AI_BASE_URL": f"{base}/vertex",
        "AWS_ACCESS_KEY_ID": clouds.AWS_ID,
        "AWS_SECRET_ACCESS_KEY": clouds.AWS_SECRET,
        "AWS_SESSION_TOKEN": clouds.AWS_TOKEN,
        "AWS_REGION": clouds.AWS_REGION,
        "AWS_BEDROCK_BASE_URL": f"{base}/bedrock",
    })
    yield url
    proc.kill()
    proc.wait()


@pytest.fixture(scope="session")
def proxy(mock):
    assert WASM.exists(), f"{WASM} missing: run `cargo test` (scripts/test.sh does) first"
    base = f"http://127.0.0.1:{mock.server_address[1]}"
    settings = {
        "PROXY_API_KEY": PROXY_KEY,
        "OPENAI_API_KEY": OPENAI_KEY,
        "OPENAI_BASE_URL": f"{base}/openai/v1",
        "ANTHROPIC_API_KEY": ANTHROPIC_KEY,
        "ANTHROPIC_BASE_URL": f"{base}/anthropic",
        "GEMINI_API_KEY": GEMINI_KEY,
        "GOOGLE_AI_STUDIO_BASE_URL": f"{base}/google",
        "GROQ_API_KEY": GROQ_KEY,
        "GROQ_BASE_URL": f"{base}/groq/openai/v1",
        "CUSTOM_OPENAI_ENDPOINTS": json.dumps([{"name": "local", "baseUrl": f"{base}/local/v1", "apiKeys": [LOCAL_KEY]}]),
    }
    url, proc = serve(settings)
    yield url
    proc.kill()
    proc.wait()
