"""Loopback stand-ins for Azure OpenAI, Google's token endpoint, Vertex AI and
Amazon Bedrock. Each checks the auth it receives with code that is not the
proxy's: the `api-key`; the JWT assertion's RS256 signature with the
`cryptography` package and the test key's public half; the SigV4 signature
recomputed by botocore from the request as received.
"""

import base64
import json
import threading
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs

from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding

from conftest import embeddings_answer, mock_vectors

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "test-service-account.json"
SERVICE_ACCOUNT = json.loads(FIXTURE.read_text())
PUBLIC_KEY = serialization.load_pem_private_key(SERVICE_ACCOUNT["private_key"].encode(), None).public_key()

AZURE_KEY = "azure-upstream-key-0001"
AWS_ID = "AKIAPROXYTEST0001"
AWS_SECRET = "proxy/test/secret/key/0000000000000000000"
AWS_TOKEN = "proxy-test-session-token"
AWS_REGION = "us-east-1"
BEDROCK_TITAN = "/bedrock/model/amazon.titan-embed-text-v2%3A0/invoke"
BEDROCK_COHERE = "/bedrock/model/cohere.embed-multilingual-v3/invoke"


def b64url(s):
    return base64.urlsafe_b64decode(s + "=" * (-len(s) % 4))


def verify_assertion(assertion, audience):
    """The JWT the proxy signed: header, claims, RS256 signature."""
    header, claims, signature = assertion.split(".")
    PUBLIC_KEY.verify(b64url(signature), f"{header}.{claims}".encode(), padding.PKCS1v15(), hashes.SHA256())
    h, c = json.loads(b64url(header)), json.loads(b64url(claims))
    assert h == {"alg": "RS256", "typ": "JWT", "kid": SERVICE_ACCOUNT["private_key_id"]}, h
    assert c["iss"] == SERVICE_ACCOUNT["client_email"], c
    assert c["aud"] == audience, c
    assert c["scope"] == "https://www.googleapis.com/auth/cloud-platform", c
    assert c["exp"] - c["iat"] == 3600, c


def verify_sigv4(method, path, headers, body):
    """Recomputes the signature with botocore over what was received."""
    auth = headers["authorization"]
    assert auth.startswith("AWS4-HMAC-SHA256 Credential=" + AWS_ID + "/"), auth
    fields = dict(p.strip().split("=", 1) for p in auth[len("AWS4-HMAC-SHA256 "):].split(","))
    signed = fields["SignedHeaders"].split(";")
    assert signed == ["host", "x-amz-date", "x-amz-security-token"], signed
    scope = fields["Credential"].split("/")
    assert scope[2:] == [AWS_REGION, "bedrock", "aws4_request"], scope
    request = AWSRequest(method=method, url=f"http://{headers['host']}{path}", data=body,
                         headers={name: headers[name] for name in signed})
    request.context["timestamp"] = headers["x-amz-date"]
    signer = SigV4Auth(Credentials(AWS_ID, AWS_SECRET, AWS_TOKEN), "bedrock", AWS_REGION)
    signer._modify_request_before_signing(request)
    string_to_sign = signer.string_to_sign(request, signer.canonical_request(request))
    expected = signer.signature(string_to_sign, request)
    assert fields["Signature"] == expected, (fields["Signature"], expected)


def event_frame(event_type, payload):
    """One AWS event-stream frame (prelude, string headers, payload, CRCs)."""
    headers = b""
    for name, value in ((":event-type", event_type), (":content-type", "application/json"), (":message-type", "event")):
        headers += bytes([len(name)]) + name.encode() + b"\x07" + len(value).to_bytes(2, "big") + value.encode()
    data = json.dumps(payload).encode()
    total = 12 + len(headers) + len(data) + 4
    prelude = total.to_bytes(4, "big") + len(headers).to_bytes(4, "big")
    message = prelude + zlib.crc32(prelude).to_bytes(4, "big") + headers + data
    return message + zlib.crc32(message).to_bytes(4, "big")


def chat_completion(model, text):
    return {"id": "chatcmpl-cloud", "object": "chat.completion", "created": 1, "model": model,
            "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 4, "completion_tokens": 2, "total_tokens": 6}}


def chat_stream(model, words):
    events = [{"id": "chatcmpl-s", "object": "chat.completion.chunk", "created": 1, "model": model,
               "choices": [{"index": 0, "delta": {"content": w}, "finish_reason": None}]} for w in words]
    events.append({"id": "chatcmpl-s", "object": "chat.completion.chunk", "created": 1, "model": model,
                   "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]})
    return "".join(f"data: {json.dumps(e)}\n\n" for e in events) + "data: [DONE]\n\n"


class CloudMock(BaseHTTPRequestHandler):
    """Routes: /azure/openai/..., /google/token, /vertex/v1/..., /bedrock/model/..."""

    received = []
    # Minted during this test (cleared per test)...
    tokens_issued = []
    # ...and during the session: a token stays valid across tests (a WASIp3
    # instance keeps one in memory for the requests that follow).
    valid_tokens = set()
    minted = 0
    # Vertex refuses these tokens, and the next `refuse_next` requests, with
    # a 401 (to test the one refresh).
    refuse_tokens = set()
    refuse_next = 0
    lock = threading.Lock()

    def log_message(self, *args):
        pass

    def _send(self, status, body, ctype="application/json", extra=()):
        data = body if isinstance(body, bytes) else (body.encode() if isinstance(body, str) else json.dumps(body).encode())
        self.send_response(status)
        self.send_header("content-type", ctype)
        self.send_header("content-length", str(len(data)))
        for k, v in extra:
            self.send_header(k, v)
        self.end_headers()
        self.wfile.write(data)

    def do_POST(self):
        raw = self.rfile.read(int(self.headers.get("content-length") or 0))
        headers = {k.lower(): v for k, v in self.headers.items()}
        with CloudMock.lock:
            CloudMock.received.append({"path": self.path, "headers": headers, "body": raw})
        try:
            if self.path.startswith("/azure/"):
                return self._azure(headers, raw)
            if self.path == "/google/token":
                return self._token(raw)
            if self.path.startswith("/vertex/"):
                return self._vertex(headers, raw)
            if self.path.startswith("/bedrock/"):
                return self._bedrock(headers, raw)
        except AssertionError as e:
            return self._send(418, {"mock_rejected": str(e)})
        self._send(404, {"error": {"message": "no such route"}})

    def _azure(self, headers, raw):
        assert self.path in ("/azure/openai/v1/chat/completions", "/azure/openai/v1/embeddings"), self.path
        if headers.get("api-key") != AZURE_KEY:
            return self._send(401, {"error": {"code": "401", "message": "Access denied due to invalid subscription key."}})
        body = json.loads(raw)
        if self.path.endswith("/embeddings"):
            return self._send(200, embeddings_answer(body, mock_vectors(body), 5))
        if body.get("stream"):
            return self._send(200, chat_stream(body["model"], ["Azure ", "streams"]), "text/event-stream")
        self._send(200, chat_completion(body["model"], f"Azure deployment {body['model']}"))

    def _token(self, raw):
        form = parse_qs(raw.decode())
        assert form["grant_type"] == ["urn:ietf:params:oauth:grant-type:jwt-bearer"], form
        verify_assertion(form["assertion"][0], f"http://{self.headers['host']}/google/token")
        with CloudMock.lock:
            CloudMock.minted += 1
            token = f"ya29.mock-token-{CloudMock.minted}"
            CloudMock.tokens_issued.append(token)
            CloudMock.valid_tokens.add(token)
        self._send(200, {"access_token": token, "expires_in": 3599, "token_type": "Bearer"})

    def _vertex(self, headers, raw):
        token = headers.get("authorization", "").removeprefix("Bearer ")
        with CloudMock.lock:
            refused = CloudMock.refuse_next > 0
            CloudMock.refuse_next = max(0, CloudMock.refuse_next - 1)
        if refused or token not in CloudMock.valid_tokens or token in CloudMock.refuse_tokens:
            return self._send(401, {"error": {"code": 401, "message": "Request had invalid authentication credentials.",
                                              "status": "UNAUTHENTICATED"}})
        body = json.loads(raw)
        prefix = f"/vertex/v1/projects/{SERVICE_ACCOUNT['project_id']}/locations/us-central1"
        if self.path == prefix + "/endpoints/openapi/embeddings":
            assert body["model"].startswith("google/"), body["model"]
            return self._send(200, embeddings_answer(body, mock_vectors(body), 6))
        if self.path == prefix + "/endpoints/openapi/chat/completions":
            assert body["model"].startswith("google/"), body["model"]
            if body.get("stream"):
                return self._send(200, chat_stream(body["model"], ["Vertex ", "streams"]), "text/event-stream")
            return self._send(200, chat_completion(body["model"], "Hello from Vertex"))
        assert self.path.startswith(prefix + "/publishers/anthropic/models/"), self.path
        assert body["anthropic_version"] == "vertex-2023-10-16" and "model" not in body, body
        self._send(200, {"id": "msg_v", "type": "message", "role": "assistant", "model": "claude",
                         "content": [{"type": "text", "text": "Claude on Vertex"}], "stop_reason": "end_turn",
                         "stop_sequence": None, "usage": {"input_tokens": 3, "output_tokens": 3}})

    def _bedrock(self, headers, raw):
        verify_sigv4("POST", self.path, headers, raw)
        body = json.loads(raw)
        if self.path.endswith("/invoke"):
            return self._bedrock_embeddings(body)
        assert self.path.startswith("/bedrock/model/anthropic.claude-3-haiku-20240307-v1%3A0/converse"), self.path
        assert body["messages"][-1]["role"] == "user", body
        if self.path.endswith("/converse-stream"):
            frames = [event_frame("messageStart", {"role": "assistant"}),
                      event_frame("contentBlockDelta", {"contentBlockIndex": 0, "delta": {"text": "Bedrock "}}),
                      event_frame("contentBlockDelta", {"contentBlockIndex": 0, "delta": {"text": "streams"}}),
                      event_frame("contentBlockStop", {"contentBlockIndex": 0}),
                      event_frame("messageStop", {"stopReason": "end_turn"}),
                      event_frame("metadata", {"usage": {"inputTokens": 5, "outputTokens": 2, "totalTokens": 7},
                                               "metrics": {"latencyMs": 10}})]
            return self._send(200, b"".join(frames), "application/vnd.amazon.eventstream",
                              [("x-amzn-requestid", "req-stream-1")])
        self._send(200, {"output": {"message": {"role": "assistant", "content": [{"text": "Hello from Bedrock"}]}},
                         "stopReason": "end_turn",
                         "usage": {"inputTokens": 5, "outputTokens": 3, "totalTokens": 8}, "metrics": {"latencyMs": 9}},
                   extra=[("x-amzn-requestid", "req-json-1")])

    def _bedrock_embeddings(self, body):
        """InvokeModel for Titan Text Embeddings v2 (one text) and Cohere Embed (texts)."""
        if self.path == BEDROCK_TITAN:
            assert set(body) <= {"inputText", "dimensions", "normalize"} and body["normalize"] is True, body
            size = body.get("dimensions") or 3
            vector = ([0.5, float(len(body["inputText"])), -2.0] + [0.25] * size)[:size]
            return self._send(200, {"embedding": vector, "inputTextTokenCount": 3})
        assert self.path == BEDROCK_COHERE, self.path
        assert body["input_type"] == "search_document" and isinstance(body["texts"], list), body
        vectors = [[0.5, float(i), -2.0] for i in range(len(body["texts"]))]
        self._send(200, {"id": "emb-1", "embeddings": vectors, "texts": body["texts"],
                         "response_type": "embeddings_floats"},
                   extra=[("x-amzn-bedrock-input-token-count", "7")])


def start():
    server = ThreadingHTTPServer(("127.0.0.1", 0), CloudMock)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server
