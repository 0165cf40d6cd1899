"""Writes the large-request bodies bench/run.sh posts: Claude Code's recorded
tool-result turn (tests/fixtures/clients/claude-code-translated), its middle
turns repeated until the body is about SIZE bytes, not streamed; and an
OpenAI chat body of the same size from opencode's recorded turn.

  python3 bench/large_bodies.py OUT_DIR SIZE
"""
import json
import sys

out, size = sys.argv[1], int(sys.argv[2])


def grow(body, model):
    body = dict(body, model=model, stream=False)
    body.pop("stream_options", None)
    msgs = body["messages"]
    head, middle, tail = msgs[:1], msgs[1:-1] or msgs[:1], msgs[-1:]
    grown = list(middle)
    while len(json.dumps(dict(body, messages=head + grown + tail))) < size:
        grown += middle
    body["messages"] = head + grown + tail
    return body


def load(case):
    with open(f"tests/fixtures/clients/{case}/tool_result.json") as f:
        return json.load(f)["body"]


for name, case, model in [
    ("messages", "claude-code-translated", "openai/gpt-4o-mini"),
    ("chat", "opencode-chat", "openai/gpt-4o-mini"),
]:
    body = grow(load(case), model)
    with open(f"{out}/large-{name}.json", "w") as f:
        json.dump(body, f)
    print(f"{name}: {len(json.dumps(body))} bytes", file=sys.stderr)
