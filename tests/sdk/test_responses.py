"""The official OpenAI SDK's Responses API (`client.responses`), unchanged,
against the proxy's /v1/responses: natively to OpenAI, translated to
OpenAI-compatible providers and a custom endpoint, chained to Anthropic's
Messages API and to Bedrock's Converse."""

import json

import openai
import pytest

from conftest import ANTHROPIC_KEY, GROQ_KEY, LOCAL_KEY, OPENAI_KEY, PROXY_KEY

# model → (path the mock must see, auth header, its value)
PROVIDERS = {
    "openai/gpt-5-codex": ("/openai/v1/responses", "authorization", f"Bearer {OPENAI_KEY}"),
    "groq/llama-3.3-70b": ("/groq/openai/v1/chat/completions", "authorization", f"Bearer {GROQ_KEY}"),
    "local/qwen2.5": ("/local/v1/chat/completions", "authorization", f"Bearer {LOCAL_KEY}"),
    "anthropic/claude-3-5-haiku-latest": ("/anthropic/v1/messages", "x-api-key", ANTHROPIC_KEY),
}

TOOLS = [{"type": "function", "name": "get_weather", "description": "Weather in a city",
          "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}]


def client(url):
    return openai.OpenAI(base_url=f"{url}/v1", api_key=PROXY_KEY, max_retries=0)


def posts(received):
    return [r for r in received if r["method"] == "POST"]


@pytest.mark.parametrize("model", list(PROVIDERS))
def test_responses_create_with_a_tool_round_trip(proxy, received, model):
    path, auth, value = PROVIDERS[model]
    c = client(proxy)
    first = c.responses.create(model=model, input="Weather in Paris?", tools=TOOLS,
                               instructions="Use the tools.", store=False)
    call = next(i for i in first.output if i.type == "function_call")
    assert call.name == "get_weather"
    assert json.loads(call.arguments) == {"city": "Paris"}
    second = c.responses.create(
        model=model, tools=TOOLS, store=False,
        input=[{"role": "user", "content": "Weather in Paris?"},
               {"type": "function_call", "call_id": call.call_id, "name": call.name, "arguments": call.arguments},
               {"type": "function_call_output", "call_id": call.call_id, "output": "sunny, 21C"}])
    assert second.status == "completed"
    assert second.output_text == "Weather: sunny, 21C"
    assert second.usage.input_tokens > 0 and second.usage.output_tokens > 0
    sent = posts(received)
    assert [r["path"] for r in sent] == [path, path]
    for r in sent:
        assert r["headers"][auth] == value
        assert all(PROXY_KEY not in v for v in r["headers"].values())
    if model.startswith("openai/"):
        assert json.loads(sent[0]["body"])["model"] == "gpt-5-codex"
    else:
        # The model is named as the client named it in a translated answer.
        assert first.model == model


@pytest.mark.parametrize("model,text", [("groq/llama-3.3-70b", "Hello there"),
                                        ("anthropic/claude-3-5-haiku-latest", "Bonjour"),
                                        ("openai/gpt-5-codex", "Hello from OpenAI's Responses API")])
def test_responses_stream(proxy, received, model, text):
    deltas = []
    with client(proxy).responses.stream(model=model, input="Say hello", store=False) as stream:
        for event in stream:
            if event.type == "response.output_text.delta":
                deltas.append(event.delta)
        final = stream.get_final_response()
    assert final.status == "completed"
    assert final.output_text == text
    if not model.startswith("openai/"):
        assert "".join(deltas) == text
        assert final.usage.total_tokens > 0


def test_streamed_tool_call(proxy, received):
    with client(proxy).responses.stream(model="groq/llama-3.3-70b", input="Weather?", tools=TOOLS) as stream:
        final = stream.get_final_response()
    call = next(i for i in final.output if i.type == "function_call")
    assert json.loads(call.arguments) == {"city": "Paris"}
    assert final.output_text == "Hello there"


def test_conversation_state_on_a_translated_provider_is_the_sdks_bad_request(proxy, received):
    with pytest.raises(openai.BadRequestError) as e:
        client(proxy).responses.create(model="groq/llama-3.3-70b", input="And then?",
                                       previous_response_id="resp_1")
    assert "keeps no conversation state" in str(e.value)
    assert posts(received) == []


def test_bedrock_through_converse(cloud_proxy, cloud_received):
    reply = client(cloud_proxy).responses.create(
        model="aws-bedrock/anthropic.claude-3-haiku-20240307-v1:0", input="Hello", max_output_tokens=20)
    assert reply.output_text == "Hello from Bedrock"
    assert reply.status == "completed"
    assert cloud_received.received[-1]["path"].endswith("/converse")
