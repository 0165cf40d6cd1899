"""The official OpenAI SDK, unchanged, against Azure OpenAI, Vertex AI and
Bedrock through the proxy — the mocks check each cloud's auth independently
(api-key; the JWT with `cryptography`; SigV4 with botocore)."""

import json

import openai
import pytest

from conftest import PROXY_KEY

MODELS = {
    "azure-openai/gpt-4o-deployment": ("Azure deployment gpt-4o-deployment", "Azure streams"),
    "google-vertex-ai/gemini-2.0-flash": ("Hello from Vertex", "Vertex streams"),
    "aws-bedrock/anthropic.claude-3-haiku-20240307-v1:0": ("Hello from Bedrock", "Bedrock streams"),
}


def client(url):
    return openai.OpenAI(base_url=f"{url}/v1", api_key=PROXY_KEY, max_retries=0)


def secrets_absent(received):
    import clouds
    for r in received:
        blob = json.dumps(r["headers"]) + r["body"].decode(errors="replace")
        for secret in (PROXY_KEY, clouds.AWS_SECRET, "PRIVATE KEY"):
            assert secret not in blob, f"{secret[:8]}… reached {r['path']}"


@pytest.mark.parametrize("model", list(MODELS))
def test_chat_completions_from_every_cloud(cloud_proxy, cloud_received, model):
    reply = client(cloud_proxy).chat.completions.create(
        model=model, messages=[{"role": "user", "content": "Hello"}], max_tokens=20)
    assert reply.choices[0].message.content == MODELS[model][0]
    assert reply.choices[0].finish_reason == "stop"
    assert reply.model == model or model.startswith("azure-openai/") or model.startswith("google-vertex-ai/")
    rejected = [r for r in cloud_received.received if r["path"] and b"mock_rejected" in r["body"]]
    assert not rejected
    secrets_absent(cloud_received.received)
    if model.startswith("google-vertex-ai/"):
        # No store under wasmtime: a token is minted, unless the instance
        # that served this one still had one in memory (WASIp3).
        assert len(cloud_received.tokens_issued) <= 1
        token = cloud_received.received[-1]["headers"]["authorization"].removeprefix("Bearer ")
        assert token in cloud_received.valid_tokens


@pytest.mark.parametrize("model", list(MODELS))
def test_streams_from_every_cloud(cloud_proxy, cloud_received, model):
    stream = client(cloud_proxy).chat.completions.create(
        model=model, messages=[{"role": "user", "content": "Hello"}], stream=True,
        stream_options={"include_usage": True})
    chunks = list(stream)
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == MODELS[model][1]
    assert [c.choices[0].finish_reason for c in chunks if c.choices][-1] == "stop"
    if model.startswith("aws-bedrock/"):
        # converse-stream's binary frames became OpenAI chunks, usage last.
        assert chunks[-1].usage.total_tokens == 7
        assert cloud_received.received[-1]["path"].endswith("/converse-stream")


def test_claude_on_vertex_through_raw_predict(cloud_proxy, cloud_received):
    reply = client(cloud_proxy).chat.completions.create(
        model="google-vertex-ai/claude-sonnet-4@20250514", messages=[{"role": "user", "content": "Hi"}])
    assert reply.choices[0].message.content == "Claude on Vertex"
    assert cloud_received.received[-1]["path"].endswith("/publishers/anthropic/models/claude-sonnet-4@20250514:rawPredict")


def test_a_401_from_vertex_triggers_exactly_one_token_refresh(cloud_proxy, cloud_received):
    def vertex():
        return [r["headers"]["authorization"] for r in cloud_received.received
                if r["path"].startswith("/vertex/")]
    # The first attempt is refused (with a token from memory or just minted);
    # the proxy mints one more and retries.
    cloud_received.refuse_next = 1
    reply = client(cloud_proxy).chat.completions.create(
        model="google-vertex-ai/gemini-2.0-flash", messages=[{"role": "user", "content": "Hi"}])
    assert reply.choices[0].message.content == "Hello from Vertex"
    sent = vertex()
    assert len(sent) == 2
    assert sent[1] == f"Bearer {cloud_received.tokens_issued[-1]}"
    assert sent[0] != sent[1]
    # Refused again: still exactly one refresh, and the 401 reaches the client.
    cloud_received.received.clear()
    cloud_received.tokens_issued.clear()
    cloud_received.refuse_next = 2
    with pytest.raises(openai.AuthenticationError):
        client(cloud_proxy).chat.completions.create(
            model="google-vertex-ai/gemini-2.0-flash", messages=[{"role": "user", "content": "Hi"}])
    sent = vertex()
    assert len(sent) == 2
    assert sent[1] == f"Bearer {cloud_received.tokens_issued[-1]}"


def test_wrong_azure_key_is_the_sdks_authentication_error(cloud_mock, cloud_received):
    from conftest import serve
    base = f"http://127.0.0.1:{cloud_mock.server_address[1]}"
    url, proc = serve({"PROXY_API_KEY": PROXY_KEY, "AZURE_OPENAI_API_KEY": "wrong-key",
                       "AZURE_OPENAI_BASE_URL": f"{base}/azure"})
    try:
        with pytest.raises(openai.AuthenticationError):
            client(url).chat.completions.create(model="azure-openai/d", messages=[{"role": "user", "content": "x"}])
        assert cloud_received.received[-1]["headers"]["api-key"] == "wrong-key"
    finally:
        proc.kill()
        proc.wait()
