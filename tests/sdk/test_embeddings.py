"""The official OpenAI SDK's `client.embeddings.create`, unchanged, through
the proxy: OpenAI-compatible providers (OpenAI, Google AI Studio, a custom
endpoint), Azure OpenAI, Vertex AI and Bedrock (Titan and Cohere Embed,
translated; the mock verifies SigV4 with botocore).

The SDK asks for `encoding_format: "base64"` unless told otherwise and decodes
the little-endian float32 itself: a translated Bedrock answer must honour it.
"""

import json

import openai
import pytest

from conftest import GEMINI_KEY, LOCAL_KEY, OPENAI_KEY, PROXY_KEY


def client(url):
    return openai.OpenAI(base_url=f"{url}/v1", api_key=PROXY_KEY, max_retries=0)


def sent(received):
    return json.loads(received[-1]["body"])


@pytest.mark.parametrize("model, path, auth", [
    ("openai/text-embedding-3-small", "/openai/v1/embeddings", f"Bearer {OPENAI_KEY}"),
    ("google-ai-studio/gemini-embedding-001", "/google/v1beta/openai/embeddings", f"Bearer {GEMINI_KEY}"),
    ("local/nomic-embed-text", "/local/v1/embeddings", f"Bearer {LOCAL_KEY}"),
])
def test_string_input_default_encoding(proxy, received, model, path, auth):
    result = client(proxy).embeddings.create(model=model, input="The food was delicious")
    assert [d.embedding for d in result.data] == [[0.5, 0.0, -2.0]]
    assert result.usage.total_tokens == 4
    assert received[-1]["path"] == path
    assert received[-1]["headers"]["authorization"] == auth
    body = sent(received)
    # The SDK's default, passed through; only the model is rewritten.
    assert body == {"model": model.split("/", 1)[1], "input": "The food was delicious", "encoding_format": "base64"}


def test_list_input_dimensions_and_float(proxy, received):
    result = client(proxy).embeddings.create(
        model="openai/text-embedding-3-large", input=["a", "b", "c"], dimensions=5, encoding_format="float")
    assert [d.index for d in result.data] == [0, 1, 2]
    assert result.data[2].embedding == [0.5, 2.0, -2.0, 0.25, 0.25]
    assert sent(received) == {"model": "text-embedding-3-large", "input": ["a", "b", "c"], "dimensions": 5,
                              "encoding_format": "float"}


def test_a_provider_without_embeddings_is_the_sdks_bad_request(proxy, received):
    with pytest.raises(openai.BadRequestError) as e:
        client(proxy).embeddings.create(model="groq/llama-3.1-8b-instant", input="x")
    assert "provider 'groq' has no embeddings endpoint" in str(e.value)
    assert not received


@pytest.mark.parametrize("model, path", [
    ("azure-openai/embedding-deployment", "/azure/openai/v1/embeddings"),
    ("google-vertex-ai/text-embedding-005", "/vertex/v1/projects/{project}/locations/us-central1/endpoints/openapi/embeddings"),
])
def test_azure_and_vertex(cloud_proxy, cloud_received, model, path):
    import clouds
    c = client(cloud_proxy)
    result = c.embeddings.create(model=model, input=["x", "y"], dimensions=4)
    assert [d.embedding for d in result.data] == [[0.5, 0.0, -2.0, 0.25], [0.5, 1.0, -2.0, 0.25]]
    calls = [r for r in cloud_received.received if r["path"] != "/google/token"]
    assert calls[-1]["path"] == path.format(project=clouds.SERVICE_ACCOUNT["project_id"])


def test_bedrock_titan_default_base64_and_float(cloud_proxy, cloud_received):
    import clouds
    c = client(cloud_proxy)
    # The SDK's default: base64, which the proxy encodes from Titan's floats.
    result = c.embeddings.create(model="aws-bedrock/amazon.titan-embed-text-v2:0", input="hello", dimensions=4)
    assert result.data[0].embedding == [0.5, 5.0, -2.0, 0.25]
    assert result.model == "aws-bedrock/amazon.titan-embed-text-v2:0"
    assert result.usage.prompt_tokens == 3
    assert cloud_received.received[-1]["path"] == clouds.BEDROCK_TITAN
    assert json.loads(cloud_received.received[-1]["body"]) == {"inputText": "hello", "dimensions": 4, "normalize": True}
    # Asked for floats explicitly: a list of floats as Titan sent them.
    result = c.embeddings.create(model="aws-bedrock/amazon.titan-embed-text-v2:0", input=["hey"],
                                 encoding_format="float")
    assert result.data[0].embedding == [0.5, 3.0, -2.0]
    # Several texts: Titan takes one per request.
    with pytest.raises(openai.BadRequestError) as e:
        c.embeddings.create(model="aws-bedrock/amazon.titan-embed-text-v2:0", input=["a", "b"])
    assert "one text per request" in str(e.value)


def test_bedrock_cohere_list_input(cloud_proxy, cloud_received):
    import clouds
    result = client(cloud_proxy).embeddings.create(
        model="aws-bedrock/cohere.embed-multilingual-v3", input=["un", "deux", "trois"])
    assert [d.embedding for d in result.data] == [[0.5, 0.0, -2.0], [0.5, 1.0, -2.0], [0.5, 2.0, -2.0]]
    assert result.usage.total_tokens == 7
    assert cloud_received.received[-1]["path"] == clouds.BEDROCK_COHERE
