"""Writes the large-request bodies bench/run.sh posts: Claude Code's recorded
tool-result turn (tests/fixtures/clients/claude-code-translated), its middle
turns repeated until the body is about SIZE bytes, not streamed; the same
grown turn in the Gemini API's form (a generateContent body as Gemini CLI
shapes one: systemInstruction, functionDeclarations, user and model turns
with functionCall and functionResponse parts); and an OpenAI chat body of
the same size from opencode's recorded turn.

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


def text_of(content):
    if isinstance(content, str):
        return content
    return "\n".join(b.get("text", "") for b in content if b.get("type") == "text")


def to_gemini(body):
    """A Messages body -> the same conversation as a generateContent body."""
    system = body.get("system", [])
    system = [{"type": "text", "text": system}] if isinstance(system, str) else system
    names = {}
    contents = []
    for m in body["messages"]:
        blocks = m["content"]
        blocks = [{"type": "text", "text": blocks}] if isinstance(blocks, str) else blocks
        parts = []
        for b in blocks:
            if b["type"] == "text":
                parts.append({"text": b["text"]})
            elif b["type"] == "tool_use":
                names[b["id"]] = b["name"]
                parts.append({"functionCall": {"id": b["id"], "name": b["name"], "args": b["input"]}})
            elif b["type"] == "tool_result":
                parts.append({"functionResponse": {"id": b["tool_use_id"], "name": names.get(b["tool_use_id"], ""),
                                                   "response": {"output": text_of(b["content"])}}})
        # Gemini has no system turn: a system message is the user's text.
        contents.append({"role": "model" if m["role"] == "assistant" else "user", "parts": parts})
    return {
        "contents": contents,
        "systemInstruction": {"role": "user", "parts": [{"text": b["text"]} for b in system]},
        "tools": [{"functionDeclarations": [
            {"name": t["name"], "description": t.get("description", ""), "parametersJsonSchema": t["input_schema"]}
            for t in body.get("tools", [])]}],
        "generationConfig": {"maxOutputTokens": body.get("max_tokens", 4096), "temperature": 0},
    }


for name, case, model in [
    ("messages", "claude-code-translated", "openai/gpt-4o-mini"),
    ("chat", "opencode-chat", "openai/gpt-4o-mini"),
]:
    body = grow(load(case), model)
    with open(f"{out}/large-{name}.json", "w") as f:
        json.dump(body, f)
    print(f"{name}: {len(json.dumps(body))} bytes", file=sys.stderr)
    if name == "messages":
        gemini = to_gemini(body)
        with open(f"{out}/large-gemini.json", "w") as f:
            json.dump(gemini, f)
        print(f"gemini: {len(json.dumps(gemini))} bytes", file=sys.stderr)
