"""The official Google GenAI SDK (`google.genai`), unchanged, against the proxy
itself as a Gemini API server (`base_url` = the proxy, no provider prefix):
`models.generate_content`, `models.generate_content_stream` and function
calling, each against

  * a bare Gemini name — Google AI Studio natively: the body is forwarded
    untouched to `{GOOGLE_AI_STUDIO_BASE_URL}/{version}/models/{model}:...`
    (the API version the client called: the SDK's default `v1`, or `v1beta`
    as Gemini CLI calls it) with the upstream key, and the answer relayed as is;
  * `openai/...` — translated to OpenAI chat completions and back;
  * `anthropic/...` — translated twice (Gemini → OpenAI chat → Anthropic
    Messages) and back.

Then countTokens and embeddings, errors in Google's shape (the SDK's
`ClientError`), and the proxy key as `?key=`. The mock provider (conftest.py)
records what it received."""

import base64
import json
import urllib.request

import pytest
from google import genai
from google.genai import errors, types

from conftest import ANTHROPIC_KEY, GEMINI_KEY, OPENAI_KEY, PROXY_KEY

NATIVE = "gemini-2.0-flash"
OPENAI = "openai/gpt-4o-mini"
ANTHROPIC = "anthropic/claude-sonnet-4-5"
MODELS = [NATIVE, OPENAI, ANTHROPIC]

# model → (the auth header the upstream must get, its value)
AUTH = {
    NATIVE: ("x-goog-api-key", GEMINI_KEY),
    OPENAI: ("authorization", f"Bearer {OPENAI_KEY}"),
    ANTHROPIC: ("x-api-key", ANTHROPIC_KEY),
}

# model → (text, (prompt, candidates, total) tokens) the mock's answer becomes
# for the client: whole, then streamed.
ANSWER = {
    NATIVE: ("Hallo", (2, 1, 3)),
    OPENAI: ("Hello from the mock", (5, 4, 9)),
    ANTHROPIC: ("Bonjour", (3, 1, 4)),
}
STREAMED = {
    NATIVE: ("Hallo", (2, 1, 3)),
    OPENAI: ("Hello there", (5, 3, 8)),
    ANTHROPIC: ("Bonjour", (3, 2, 5)),
}

WEATHER = types.FunctionDeclaration(
    name="get_weather", description="Weather in a city",
    parameters=types.Schema(type="OBJECT", properties={"city": types.Schema(type="STRING")}, required=["city"]))
WEATHER_JSON_SCHEMA = {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}


class Gemini:
    """A `genai.Client` on the proxy, and the requests it sent (kept alive: the
    SDK closes its HTTP client when the Client is dropped)."""

    def __init__(self, proxy, key=PROXY_KEY, api_version=None):
        self.sent = []
        options = types.HttpOptions(base_url=proxy, api_version=api_version,
                                    client_args={"event_hooks": {"request": [self.sent.append]}})
        self.client = genai.Client(api_key=key, http_options=options)
        self.models = self.client.models

    def last_body(self):
        return self.sent[-1].content

    def version(self):
        """The API version the SDK called (its default, `v1` in 3.x, unless told)."""
        version = self.sent[-1].url.path.split("/")[1]
        assert version in ("v1", "v1beta"), self.sent[-1].url
        return version


def posts(received):
    return [r for r in received if r["method"] == "POST"]


def upstream_path(model, method, version):
    """Where the mock must see a request for `model` (`version`: the API
    version the client called, which Google AI Studio is called with too)."""
    if model == NATIVE:
        query = "?alt=sse" if method == "streamGenerateContent" else ""
        return f"/google/{version}/models/{NATIVE}:{method}{query}"
    if model == OPENAI:
        return "/openai/v1/chat/completions"
    return "/anthropic/v1/messages"


def assert_upstream_auth(model, entry):
    header, value = AUTH[model]
    assert entry["headers"].get(header) == value, entry["headers"]
    for name, v in entry["headers"].items():
        assert PROXY_KEY not in v, f"proxy key leaked upstream in {name}"
    assert PROXY_KEY not in entry["path"], "proxy key leaked upstream in the path"
    if model != NATIVE:
        assert "x-goog-api-key" not in entry["headers"]


def assert_usage(usage, counts):
    prompt, candidates, total = counts
    assert usage is not None
    assert (usage.prompt_token_count, usage.candidates_token_count, usage.total_token_count) == \
        (prompt, candidates, total)


def model_version(model):
    # Google's own answer is relayed as is; a translated one names the model as the client did.
    return NATIVE if model == NATIVE else model


CONFIG = types.GenerateContentConfig(system_instruction="Be brief.", max_output_tokens=64, temperature=0.25)


def assert_translated_body(model, body, user_text):
    """The upstream body of a translated request made with CONFIG."""
    assert body["temperature"] == 0.25
    if model == OPENAI:
        assert body["model"] == "gpt-4o-mini"
        # OpenAI itself takes max_completion_tokens (max_tokens is deprecated there).
        assert body["max_completion_tokens"] == 64
        assert "max_tokens" not in body
        assert body["messages"] == [{"role": "system", "content": "Be brief."},
                                    {"role": "user", "content": user_text}]
    else:
        assert body["model"] == "claude-sonnet-4-5"
        assert body["max_tokens"] == 64
        assert body["system"] == "Be brief." or body["system"] == [{"type": "text", "text": "Be brief."}]
        assert len(body["messages"]) == 1 and body["messages"][0]["role"] == "user"
        content = body["messages"][0]["content"]
        assert content == user_text or content == [{"type": "text", "text": user_text}]


@pytest.mark.parametrize("model", MODELS)
def test_generate_content(proxy, received, model):
    g = Gemini(proxy)
    resp = g.models.generate_content(model=model, contents="Hi", config=CONFIG)
    text, counts = ANSWER[model]
    assert resp.text == text
    assert resp.candidates[0].finish_reason == types.FinishReason.STOP
    assert_usage(resp.usage_metadata, counts)
    assert resp.model_version == model_version(model)
    assert resp.function_calls is None

    sent = posts(received)
    assert [r["path"] for r in sent] == [upstream_path(model, "generateContent", g.version())]
    assert_upstream_auth(model, sent[0])
    if model == NATIVE:
        # Passed through: the very bytes the SDK sent.
        assert sent[0]["body"] == g.last_body()
        body = json.loads(sent[0]["body"])
        assert body["contents"] == [{"parts": [{"text": "Hi"}], "role": "user"}]
        assert body["generationConfig"] == {"maxOutputTokens": 64, "temperature": 0.25}
        assert body["systemInstruction"]["parts"] == [{"text": "Be brief."}]
    else:
        body = json.loads(sent[0]["body"])
        assert_translated_body(model, body, "Hi")
        assert not body.get("stream")
        assert "tools" not in body


@pytest.mark.parametrize("model", MODELS)
def test_generate_content_stream(proxy, received, model):
    g = Gemini(proxy)
    chunks = list(g.models.generate_content_stream(model=model, contents="Hi", config=CONFIG))
    text, counts = STREAMED[model]
    assert len(chunks) >= 2, chunks
    assert "".join(c.text or "" for c in chunks) == text
    last = chunks[-1]
    # The last event ends the answer: finishReason and the whole usage.
    assert last.candidates[0].finish_reason == types.FinishReason.STOP
    assert all(c.candidates[0].finish_reason is None for c in chunks[:-1])
    assert_usage(last.usage_metadata, counts)
    assert all(c.model_version == model_version(model) for c in chunks)

    sent = posts(received)
    assert [r["path"] for r in sent] == [upstream_path(model, "streamGenerateContent", g.version())]
    assert_upstream_auth(model, sent[0])
    body = json.loads(sent[0]["body"])
    if model == NATIVE:
        assert sent[0]["body"] == g.last_body()
        assert body["generationConfig"] == {"maxOutputTokens": 64, "temperature": 0.25}
    else:
        assert_translated_body(model, body, "Hi")
        assert body["stream"] is True
        if model == OPENAI:
            assert body["stream_options"] == {"include_usage": True}


def weather_config():
    return types.GenerateContentConfig(
        system_instruction="Use the tools.", max_output_tokens=100,
        tools=[types.Tool(function_declarations=[WEATHER])],
        automatic_function_calling=types.AutomaticFunctionCallingConfig(disable=True))


def assert_declared_tools(model, body):
    if model == NATIVE:
        assert body["tools"] == [{"functionDeclarations": [{
            "name": "get_weather", "description": "Weather in a city",
            "parameters": {"type": "OBJECT", "properties": {"city": {"type": "STRING"}}, "required": ["city"]}}]}]
    elif model == OPENAI:
        assert body["tools"] == [{"type": "function", "function": {
            "name": "get_weather", "description": "Weather in a city", "parameters": WEATHER_JSON_SCHEMA}}]
    else:
        assert [t["name"] for t in body["tools"]] == ["get_weather"]
        assert body["tools"][0]["description"] == "Weather in a city"
        assert body["tools"][0]["input_schema"] == WEATHER_JSON_SCHEMA


# model → the id a translated answer gives its function call (the upstream's
# tool call id); Google's own answer gives none here.
CALL_ID = {NATIVE: None, OPENAI: "call_1", ANTHROPIC: "toolu_1"}


@pytest.mark.parametrize("model,answer_by", [(m, "name") for m in MODELS] + [(OPENAI, "id"), (ANTHROPIC, "id")])
def test_function_calling_round_trip(proxy, received, model, answer_by):
    g = Gemini(proxy)
    config = weather_config()
    contents = [types.Content(role="user", parts=[types.Part(text="Weather in Paris?")])]
    first = g.models.generate_content(model=model, contents=contents, config=config)
    calls = first.function_calls
    assert calls is not None and len(calls) == 1
    assert calls[0].name == "get_weather"
    assert calls[0].args == {"city": "Paris"}
    assert calls[0].id == CALL_ID[model]
    assert first.candidates[0].finish_reason == types.FinishReason.STOP
    assert first.model_version == model_version(model)
    assert first.usage_metadata.prompt_token_count > 0

    # The model's turn as the SDK parsed it, then the function's response: by
    # name, without an id, as Google's examples do; or with the call's id.
    response = types.FunctionResponse(name="get_weather", response={"output": "sunny, 21C"},
                                      id=calls[0].id if answer_by == "id" else None)
    contents += [first.candidates[0].content,
                 types.Content(role="user", parts=[types.Part(function_response=response)])]
    second = g.models.generate_content(model=model, contents=contents, config=config)
    assert second.text == "Weather: sunny, 21C"
    assert second.function_calls is None
    assert second.candidates[0].finish_reason == types.FinishReason.STOP

    sent = posts(received)
    assert [r["path"] for r in sent] == [upstream_path(model, "generateContent", g.version())] * 2
    for entry in sent:
        assert_upstream_auth(model, entry)
    first_body, body = (json.loads(r["body"]) for r in sent)
    assert_declared_tools(model, first_body)
    assert_declared_tools(model, body)
    if model == NATIVE:
        assert sent[-1]["body"] == g.last_body()
        assert body["contents"][1]["parts"][0]["functionCall"] == {"name": "get_weather", "args": {"city": "Paris"}}
        assert body["contents"][2]["parts"][0]["functionResponse"] == {
            "name": "get_weather", "response": {"output": "sunny, 21C"}}
    elif model == OPENAI:
        assert body["model"] == "gpt-4o-mini"
        assert body["max_completion_tokens"] == 100
        user, assistant, tool = body["messages"][1:]
        assert body["messages"][0] == {"role": "system", "content": "Use the tools."}
        assert user == {"role": "user", "content": "Weather in Paris?"}
        assert assistant["role"] == "assistant"
        assert [(c["id"], c["function"]["name"], json.loads(c["function"]["arguments"]))
                for c in assistant["tool_calls"]] == [("call_1", "get_weather", {"city": "Paris"})]
        # Matched to its call by id or by name: it answers call_1.
        assert tool == {"role": "tool", "tool_call_id": "call_1", "content": "sunny, 21C"}
    else:
        assert body["model"] == "claude-sonnet-4-5"
        assert body["max_tokens"] == 100
        assert body["system"] in ("Use the tools.", [{"type": "text", "text": "Use the tools."}])
        user, assistant, results = body["messages"]
        assert user["role"] == "user"
        assert assistant["role"] == "assistant"
        uses = [b for b in assistant["content"] if b["type"] == "tool_use"]
        assert [(u["id"], u["name"], u["input"]) for u in uses] == [("toolu_1", "get_weather", {"city": "Paris"})]
        assert results["role"] == "user"
        result = results["content"][0]
        assert result["type"] == "tool_result"
        assert result["tool_use_id"] == "toolu_1"
        content = result["content"]
        assert content == "sunny, 21C" or content == [{"type": "text", "text": "sunny, 21C"}]


@pytest.mark.parametrize("model", MODELS)
def test_function_call_streamed(proxy, received, model):
    g = Gemini(proxy)
    chunks = list(g.models.generate_content_stream(model=model, contents="Weather in Paris?",
                                                   config=weather_config()))
    calls = [fc for c in chunks for fc in (c.function_calls or [])]
    assert [(fc.name, fc.args) for fc in calls] == [("get_weather", {"city": "Paris"})]
    text = "".join(p.text or "" for c in chunks for p in c.candidates[0].content.parts or [])
    assert text == {NATIVE: "Hal", OPENAI: "Hello there", ANTHROPIC: "Bonjour"}[model]
    assert chunks[-1].candidates[0].finish_reason == types.FinishReason.STOP
    assert chunks[-1].usage_metadata.total_token_count > 0
    sent = posts(received)
    assert [r["path"] for r in sent] == [upstream_path(model, "streamGenerateContent", g.version())]
    assert_upstream_auth(model, sent[0])
    assert_declared_tools(model, json.loads(sent[0]["body"]))


def test_upstream_rate_limit_is_the_sdks_client_error(proxy, received):
    g = Gemini(proxy)
    with pytest.raises(errors.ClientError) as e:
        g.models.generate_content(model="openai/rate-limited", contents="Hi")
    assert e.value.code == 429
    assert e.value.status == "RESOURCE_EXHAUSTED"
    assert "Rate limit reached" in e.value.message
    # Google's error shape, nothing else.
    assert set(e.value.details) == {"error"}
    assert set(e.value.details["error"]) >= {"code", "message", "status"}
    assert e.value.details["error"]["code"] == 429
    assert [r["path"] for r in posts(received)] == ["/openai/v1/chat/completions"]


def test_upstream_rate_limit_while_streaming(proxy, received):
    g = Gemini(proxy)
    with pytest.raises(errors.ClientError) as e:
        list(g.models.generate_content_stream(model="openai/rate-limited", contents="Hi"))
    assert e.value.code == 429
    assert e.value.status == "RESOURCE_EXHAUSTED"


def test_unknown_provider_is_the_sdks_400(proxy, received):
    g = Gemini(proxy)
    with pytest.raises(errors.ClientError) as e:
        g.models.generate_content(model="nosuch/model", contents="Hi")
    assert e.value.code == 400
    assert e.value.status == "INVALID_ARGUMENT"
    assert "nosuch" in e.value.message
    assert posts(received) == []


@pytest.mark.parametrize("model", [NATIVE, OPENAI])
def test_wrong_proxy_key_is_401(proxy, received, model):
    g = Gemini(proxy, key="wrong-key")
    with pytest.raises(errors.ClientError) as e:
        g.models.generate_content(model=model, contents="Hi")
    assert e.value.code == 401
    assert e.value.status == "UNAUTHENTICATED"
    assert "wrong-key" not in str(e.value)
    assert received == []


@pytest.mark.parametrize("model", [NATIVE, OPENAI])
def test_v1beta_as_gemini_cli_calls_it(proxy, received, model):
    g = Gemini(proxy, api_version="v1beta")
    resp = g.models.generate_content(model=model, contents="Hi")
    assert resp.text == ANSWER[model][0]
    assert g.sent[-1].url.path == f"/v1beta/models/{model}:generateContent"
    sent = posts(received)
    assert [r["path"] for r in sent] == [upstream_path(model, "generateContent", "v1beta")]
    assert_upstream_auth(model, sent[0])


def test_count_tokens_natively(proxy, received):
    g = Gemini(proxy)
    assert g.models.count_tokens(model=NATIVE, contents="Hi").total_tokens == 7
    sent = posts(received)
    assert [r["path"] for r in sent] == [upstream_path(NATIVE, "countTokens", g.version())]
    assert_upstream_auth(NATIVE, sent[0])
    assert sent[0]["body"] == g.last_body()


def test_count_tokens_elsewhere_is_an_estimate(proxy, received):
    g = Gemini(proxy)
    r = g.models.count_tokens(model=OPENAI, contents="Hi there, how are you?")
    assert r.total_tokens > 0
    assert r.sdk_http_response.headers.get("x-llm-proxy-token-count") == "estimate"
    assert posts(received) == []


@pytest.mark.parametrize("model", ["gemini-embedding-001", "openai/text-embedding-3-small"])
def test_embed_content(proxy, received, model):
    g = Gemini(proxy)
    # The SDK sends the Gemini API's embeddings as batchEmbedContents.
    r = g.models.embed_content(model=model, contents=["one", "two"])
    assert [e.values for e in r.embeddings] == [[0.5, 0.0, -2.0], [0.5, 1.0, -2.0]]
    sent = posts(received)
    assert len(sent) == 1
    if model.startswith("openai/"):
        assert sent[0]["path"] == "/openai/v1/embeddings"
        assert_upstream_auth(OPENAI, sent[0])
        body = json.loads(sent[0]["body"])
        assert body["model"] == "text-embedding-3-small"
        assert body["input"] == ["one", "two"]
    else:
        assert sent[0]["path"] == f"/google/{g.version()}/models/{model}:batchEmbedContents"
        assert_upstream_auth(NATIVE, sent[0])
        assert sent[0]["body"] == g.last_body()


@pytest.mark.parametrize("model", [NATIVE, OPENAI])
def test_proxy_key_as_query_parameter_stays_at_the_proxy(proxy, received, model):
    # As Google's REST examples send it: `?key=` (the SDK sends x-goog-api-key).
    url = f"{proxy}/v1beta/models/{model}:streamGenerateContent?alt=sse&key={PROXY_KEY}"
    body = json.dumps({"contents": [{"role": "user", "parts": [{"text": "Hi"}]}]}).encode()
    req = urllib.request.Request(url, data=body, headers={"content-type": "application/json"})
    with urllib.request.urlopen(req, timeout=30) as r:
        assert r.status == 200
        events = [json.loads(line[len(b"data: "):]) for line in r.read().split(b"\r\n") if line.startswith(b"data: ")]
    assert "".join(p.get("text", "") for e in events for p in e["candidates"][0]["content"]["parts"]) == \
        STREAMED[model][0]
    sent = posts(received)
    assert [r["path"] for r in sent] == [upstream_path(model, "streamGenerateContent", "v1beta")]
    assert_upstream_auth(model, sent[0])


# The SDK (3.x) writes some nested fields in the proto field names, snake_case —
# `parameters_json_schema`, `inlineData.mime_type`, `fileData.file_uri`,
# `thinkingConfig.thinking_budget` —
# which Google's API accepts as it accepts their lowerCamelCase JSON names. A
# translation must read both.

@pytest.mark.parametrize("model", [OPENAI, ANTHROPIC])
def test_function_declared_with_a_json_schema(proxy, received, model):
    schema = {"type": "object", "properties": {"city": {"type": "string", "description": "A city"}},
              "required": ["city"], "additionalProperties": False}
    g = Gemini(proxy)
    config = types.GenerateContentConfig(
        tools=[types.Tool(function_declarations=[types.FunctionDeclaration(
            name="get_weather", description="Weather in a city", parameters_json_schema=schema)])],
        automatic_function_calling=types.AutomaticFunctionCallingConfig(disable=True))
    resp = g.models.generate_content(model=model, contents="Weather in Paris?", config=config)
    assert resp.function_calls[0].args == {"city": "Paris"}
    body = json.loads(posts(received)[0]["body"])
    if model == OPENAI:
        assert body["tools"][0]["function"]["parameters"] == schema
    else:
        assert body["tools"][0]["input_schema"] == schema


@pytest.mark.parametrize("model", [OPENAI, ANTHROPIC])
def test_inline_image(proxy, received, model):
    png = b"\x89PNG\r\n\x1a\n-not-really"
    g = Gemini(proxy)
    contents = [types.Content(role="user", parts=[types.Part(text="What is this?"),
                                                 types.Part.from_bytes(data=png, mime_type="image/png")])]
    g.models.generate_content(model=model, contents=contents)
    body = json.loads(posts(received)[0]["body"])
    data = base64.b64encode(png).decode()
    parts = body["messages"][0]["content"]
    if model == OPENAI:
        assert parts == [{"type": "text", "text": "What is this?"},
                         {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{data}"}}]
    else:
        assert parts[1] == {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": data}}


def test_image_by_uri(proxy, received):
    g = Gemini(proxy)
    contents = [types.Content(role="user", parts=[
        types.Part(text="What is this?"),
        types.Part.from_uri(file_uri="https://images.example.invalid/cat.png", mime_type="image/png")])]
    g.models.generate_content(model=OPENAI, contents=contents)
    body = json.loads(posts(received)[0]["body"])
    assert body["messages"][0]["content"][1] == {
        "type": "image_url", "image_url": {"url": "https://images.example.invalid/cat.png"}}


@pytest.mark.parametrize("model,effort", [("openai/o4-mini", "low"), (OPENAI, None)])
def test_thinking_budget(proxy, received, model, effort):
    g = Gemini(proxy)
    config = types.GenerateContentConfig(thinking_config=types.ThinkingConfig(thinking_budget=1024))
    resp = g.models.generate_content(model=model, contents="Hi", config=config)
    body = json.loads(posts(received)[0]["body"])
    if effort:
        # A budget of up to 2048 tokens is a low effort.
        assert body.get("reasoning_effort") == effort
    else:
        # gpt-4o-mini does not reason: the setting is dropped, and named.
        assert "reasoning_effort" not in body
        dropped = resp.sdk_http_response.headers.get("x-llm-proxy-dropped", "")
        assert "generationConfig.thinkingConfig" in dropped.split(", ")


@pytest.mark.parametrize("api_version", [None, "v1beta"])
def test_models_list(proxy, api_version):
    """`models.list()` on the proxy: every provider's models, named as the
    proxy's Gemini API takes them (the SDK calls /v1/models or /v1beta/models)."""
    g = Gemini(proxy, api_version=api_version)
    names = [m.name for m in g.models.list()]
    assert "models/openai/gpt-4o-mini" in names, names
    assert "models/openai/gpt-4o" in names, names
    assert g.sent[0].url.path == f"/{api_version or 'v1'}/models"
