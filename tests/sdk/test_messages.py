"""The official Anthropic SDK, unchanged, against the proxy's /v1/messages for
every kind of provider; and the official OpenAI SDK against
/v1/chat/completions with anthropic/... (the native Messages API behind it)."""

import json

import anthropic
import openai
import pytest

from conftest import ANTHROPIC_KEY, GROQ_KEY, LOCAL_KEY, OPENAI_KEY, PROXY_KEY

# model → (path the mock must see, auth header, its value)
PROVIDERS = {
    "openai/gpt-4o-mini": ("/openai/v1/chat/completions", "authorization", f"Bearer {OPENAI_KEY}"),
    "groq/llama-3.3-70b": ("/groq/openai/v1/chat/completions", "authorization", f"Bearer {GROQ_KEY}"),
    "local/qwen2.5": ("/local/v1/chat/completions", "authorization", f"Bearer {LOCAL_KEY}"),
    "anthropic/claude-3-5-haiku-latest": ("/anthropic/v1/messages", "x-api-key", ANTHROPIC_KEY),
}

TOOLS = [{"name": "get_weather", "description": "Weather in a city",
          "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}]


def claude(proxy, key=PROXY_KEY):
    # base_url without /v1: the SDK adds /v1/messages itself, as with Claude Code's ANTHROPIC_BASE_URL.
    return anthropic.Anthropic(base_url=proxy, api_key=key, max_retries=0)


def posts(received):
    return [r for r in received if r["method"] == "POST"]


@pytest.mark.parametrize("model", list(PROVIDERS))
def test_messages_create_with_a_tool_round_trip(proxy, received, model):
    path, auth, value = PROVIDERS[model]
    c = claude(proxy)
    messages = [{"role": "user", "content": "Weather in Paris?"}]
    first = c.messages.create(model=model, max_tokens=200, messages=messages, tools=TOOLS)
    assert first.stop_reason == "tool_use"
    # Translated answers name the model as the client did; Anthropic's own is relayed as is.
    assert first.model == (model if not model.startswith("anthropic/") else "claude-3-5-haiku-latest")
    call = next(b for b in first.content if b.type == "tool_use")
    assert call.name == "get_weather" and call.input == {"city": "Paris"}
    messages += [{"role": "assistant", "content": [b.model_dump(exclude_none=True) for b in first.content]},
                 {"role": "user", "content": [{"type": "tool_result", "tool_use_id": call.id, "content": "sunny, 21C"}]}]
    second = c.messages.create(model=model, max_tokens=200, messages=messages, tools=TOOLS)
    assert second.stop_reason == "end_turn"
    assert second.content[0].text == "Weather: sunny, 21C"
    sent = posts(received)
    assert [r["path"] for r in sent] == [path, path]
    for r in sent:
        assert r["headers"][auth] == value
        assert all(PROXY_KEY not in v for v in r["headers"].values())
    body = json.loads(sent[-1]["body"])
    if model.startswith("anthropic/"):
        assert body["model"] == "claude-3-5-haiku-latest"
        assert body["messages"][-1]["content"][0]["type"] == "tool_result"
    else:
        assert body["model"] == model.split("/", 1)[1]
        assert body["messages"][-1] == {"role": "tool", "tool_call_id": call.id, "content": "sunny, 21C"}
        assert body["tools"][0]["function"]["name"] == "get_weather"


@pytest.mark.parametrize("model", list(PROVIDERS))
def test_messages_stream_text_then_a_tool_call(proxy, received, model):
    c = claude(proxy)
    with c.messages.stream(model=model, max_tokens=200, tools=TOOLS,
                           messages=[{"role": "user", "content": "Weather in Paris?"}]) as stream:
        text = "".join(stream.text_stream)
        final = stream.get_final_message()
    assert text in ("Hello there", "Bonjour")
    assert final.stop_reason == "tool_use"
    assert [b.type for b in final.content] == ["text", "tool_use"]
    assert final.content[1].name == "get_weather"
    assert final.content[1].input == {"city": "Paris"}
    assert final.usage.output_tokens > 0
    body = json.loads(posts(received)[-1]["body"])
    assert body["stream"] is True


def test_errors_are_the_sdks_own_exception_types(proxy, received):
    c = claude(proxy)
    with pytest.raises(anthropic.RateLimitError) as e:
        c.messages.create(model="openai/rate-limited", max_tokens=10, messages=[{"role": "user", "content": "x"}])
    assert e.value.status_code == 429
    assert e.value.body["error"]["type"] == "rate_limit_error"
    with pytest.raises(anthropic.AuthenticationError):
        claude(proxy, key="wrong-key").messages.create(
            model="openai/gpt-4o-mini", max_tokens=10, messages=[{"role": "user", "content": "x"}])
    with pytest.raises(anthropic.BadRequestError) as e:
        c.messages.create(model="nosuch/model", max_tokens=10, messages=[{"role": "user", "content": "x"}])
    assert "nosuch" in str(e.value)


def test_count_tokens_is_an_estimate_elsewhere(proxy, received):
    r = claude(proxy).messages.count_tokens(model="openai/gpt-4o-mini",
                                            messages=[{"role": "user", "content": "hello there, how are you?"}])
    assert r.input_tokens > 0
    assert posts(received) == []


def chat(proxy):
    return openai.OpenAI(base_url=f"{proxy}/v1", api_key=PROXY_KEY, max_retries=0)


CHAT_TOOLS = [{"type": "function", "function": {
    "name": "get_weather", "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}}}]


def test_openai_sdk_reaches_anthropic_natively_with_tools(proxy, received):
    c = chat(proxy)
    messages = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Weather in Paris?"}]
    first = c.chat.completions.create(model="anthropic/claude-3-5-haiku-latest", messages=messages,
                                      tools=CHAT_TOOLS, max_tokens=100)
    assert first.choices[0].finish_reason == "tool_calls"
    call = first.choices[0].message.tool_calls[0]
    assert call.function.name == "get_weather"
    assert json.loads(call.function.arguments) == {"city": "Paris"}
    assert first.model == "anthropic/claude-3-5-haiku-latest"
    assert first.usage.prompt_tokens == 3
    messages += [first.choices[0].message.model_dump(exclude_none=True),
                 {"role": "tool", "tool_call_id": call.id, "content": "sunny"}]
    second = c.chat.completions.create(model="anthropic/claude-3-5-haiku-latest", messages=messages,
                                       tools=CHAT_TOOLS, max_tokens=100)
    assert second.choices[0].message.content == "Weather: sunny"
    sent = posts(received)
    assert [r["path"] for r in sent] == ["/anthropic/v1/messages"] * 2
    body = json.loads(sent[-1]["body"])
    assert body["system"] == "Be brief."
    assert body["tools"][0]["input_schema"]["properties"]["city"]["type"] == "string"
    assert body["messages"][1]["content"][0] == {"type": "tool_use", "id": call.id, "name": "get_weather",
                                                 "input": {"city": "Paris"}}
    assert body["messages"][2]["content"][0]["type"] == "tool_result"
    assert sent[-1]["headers"]["x-api-key"] == ANTHROPIC_KEY


def test_openai_sdk_streams_from_native_anthropic(proxy, received):
    stream = chat(proxy).chat.completions.create(
        model="anthropic/claude-3-5-haiku-latest", messages=[{"role": "user", "content": "Weather?"}],
        tools=CHAT_TOOLS, stream=True, stream_options={"include_usage": True})
    chunks = list(stream)
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert text == "Bonjour"
    calls = [tc for c in chunks if c.choices for tc in (c.choices[0].delta.tool_calls or [])]
    assert calls[0].function.name == "get_weather"
    assert json.loads("".join(tc.function.arguments or "" for tc in calls)) == {"city": "Paris"}
    assert [c.choices[0].finish_reason for c in chunks if c.choices][-1] == "tool_calls"
    assert chunks[-1].choices == [] and chunks[-1].usage.completion_tokens == 2
