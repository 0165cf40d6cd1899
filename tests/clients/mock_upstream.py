#!/usr/bin/env python3
"""Scripted mock LLM providers for the coding-agent tests (scripts/clients.sh).

Standard library only. One process, three loopback listeners:
  * an OpenAI-compatible provider: POST .../chat/completions (JSON or SSE with
    tool_calls deltas, usage and a final [DONE]), POST .../responses (the
    Responses API: JSON or the full SSE event sequence, each event with its
    sequence_number; a function_call item with arguments deltas, or a message
    with output_text deltas; usage in response.completed), GET .../models;
  * an Anthropic provider: POST /v1/messages (JSON or the full SSE event
    sequence, tool_use with input_json_delta), POST /v1/messages/count_tokens,
    GET /v1/models;
  * a Gemini API provider (Google AI Studio's native API): POST
    /v1beta/models/{model}:streamGenerateContent?alt=sse (SSE `data:
    {GenerateContentResponse}` events, \r\n\r\n between them as Google
    sends them; a functionCall part, or the text in pieces; finishReason STOP
    and usageMetadata on the last event), :generateContent (JSON; a JSON
    answer filled from responseJsonSchema / responseSchema when the request
    asks for application/json), :countTokens ({"totalTokens": N}),
    GET /v1beta/models.

The script each provider follows, whatever the client:
  * an agent request (it offers a file-reading tool, or else a shell tool such
    as Codex's exec_command) whose conversation has no tool result yet -> ONE
    tool call: read the file given by --file (a shell tool: `cat` it; with
    --prefer-shell the shell tool even when a file-reading tool is offered);
  * an agent request that carries a tool result -> a final text quoting the
    token found in that result (regex MAGIC-[A-Za-z0-9]+);
  * a request without tools (aider): if a user turn carries a token, the final
    text quoting it; otherwise an edit of --edit-file in the format the system
    prompt asks for (SEARCH/REPLACE, or a whole-file listing);
  * anything else (titles, topic checks, quota probes) -> short plain text
    without the token.

Every request is written to --log-dir as NNNN-<dialect>.json
({"dialect","method","path","headers","body","kind"}).
With --dns-port, a third listener answers every DNS query (UDP) with REFUSED
and appends the name looked up to <log-dir>/dns.txt: the case runs with this
as its only name server, so any host name a client (or host) tries to reach
shows up there.
The ports (--openai-port/--anthropic-port/--gemini-port, default: any free
one) are written to --ports-file as {"openai": P, "anthropic": P, "gemini": P}.
"""

import argparse
import json
import os
import re
import shlex
import socket
import sys
import threading
import time
import uuid
from http.server import ThreadingHTTPServer

from quiet_http import QuietHandler

TOKEN = re.compile(r"MAGIC-[A-Za-z0-9]+")
READ_TOOLS = ("read", "read_file", "readfile", "view", "file_read")
PATH_ARGS = ("file_path", "filePath", "path", "file", "filename")

ARGS = None
LOCK = threading.Lock()


# ------------------------------------------------------------------ helpers

def text_of(content):
    """All text inside a message content (string, list of parts, nested)."""
    if content is None:
        return ""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "\n".join(text_of(p) for p in content)
    if isinstance(content, dict):
        out = []
        for key in ("text", "content", "output", "input"):
            if key in content:
                v = content[key]
                out.append(v if isinstance(v, str) else text_of(v) if not isinstance(v, dict) else json.dumps(v))
        return "\n".join(out)
    return str(content)


SHELL_TOOLS = ("exec_command", "shell", "shell_command", "bash", "run_shell_command")


def tool_specs(tools, dialect):
    """(type, name, JSON schema) of each tool offered, whatever the API shape:
    chat `{"type":"function","function":{...}}`, Anthropic `{name,
    input_schema}`, Responses `{"type":"function", name, parameters}` (also
    `custom`, `local_shell`; a `namespace`'s tools are not candidates), Gemini
    `{"functionDeclarations": [{name, parameters | parametersJsonSchema}]}`."""
    for t in tools or []:
        if not isinstance(t, dict):
            continue
        if dialect == "gemini":
            for f in t.get("functionDeclarations") or []:
                if isinstance(f, dict):
                    yield "function", f.get("name", ""), f.get("parametersJsonSchema") or f.get("parameters") or {}
        elif dialect == "openai":
            fn = t.get("function") or {}
            yield "function", fn.get("name", ""), fn.get("parameters") or {}
        elif dialect == "anthropic":
            yield "function", t.get("name", ""), t.get("input_schema") or {}
        else:
            yield t.get("type", ""), t.get("name", "") or t.get("type", ""), t.get("parameters") or {}


def agent_tool(tools, dialect):
    """The call to make: (type, name, arguments), or None. A file-reading tool
    when one is offered (the path in its path argument), else a shell tool
    (`cat` the file, in the argument shape its schema asks for)."""
    specs = list(tool_specs(tools, dialect))
    shell = shell_call(specs)
    if shell and ARGS.prefer_shell:
        return shell
    for kind, name, schema in specs:
        if kind == "function" and name.lower() in READ_TOOLS:
            props = (schema.get("properties") or {}).keys()
            arg = next((a for a in PATH_ARGS if a in props), None) or next(iter(props), "file_path")
            return "function", name, {arg: ARGS.file}
    return shell


def shell_call(specs):
    """`cat` the file through a shell tool, if one is offered."""
    line = "cat " + shlex.quote(ARGS.file)
    for kind, name, schema in specs:
        if kind == "local_shell":
            return "local_shell", "local_shell", {"command": ["bash", "-lc", line]}
        if kind == "function" and name.lower() in SHELL_TOOLS:
            props = schema.get("properties") or {}
            if "cmd" in props:
                return "function", name, {"cmd": line}
            if (props.get("command") or {}).get("type") == "array":
                return "function", name, {"command": ["bash", "-lc", line]}
            return "function", name, {"command": line}
    return None


def tool_results(body, dialect):
    """Texts of the tool results in the conversation."""
    out = []
    if dialect == "gemini":
        for c in body.get("contents") or []:
            for p in (c.get("parts") or []) if isinstance(c, dict) else []:
                if isinstance(p, dict) and isinstance(p.get("functionResponse"), dict):
                    out.append(json.dumps(p["functionResponse"].get("response")))
        return out
    if dialect == "responses":
        items = body.get("input")
        for it in items if isinstance(items, list) else []:
            if isinstance(it, dict) and it.get("type") in ("function_call_output", "custom_tool_call_output",
                                                           "local_shell_call_output"):
                out.append(text_of(it.get("output")))
        return out
    for m in body.get("messages") or []:
        if dialect == "openai":
            if m.get("role") == "tool":
                out.append(text_of(m.get("content")))
        else:
            c = m.get("content")
            if isinstance(c, list):
                for p in c:
                    if isinstance(p, dict) and p.get("type") == "tool_result":
                        out.append(text_of(p.get("content")))
    return out


def user_texts(body):
    if "contents" in body:
        return [text_of(c.get("parts")) for c in body.get("contents") or []
                if isinstance(c, dict) and c.get("role", "user") == "user"]
    return [text_of(m.get("content")) for m in body.get("messages") or [] if m.get("role") == "user"]


def system_text(body, dialect):
    if dialect == "gemini":
        return text_of((body.get("systemInstruction") or {}).get("parts"))
    if dialect == "anthropic":
        return text_of(body.get("system"))
    return "\n".join(text_of(m.get("content")) for m in body.get("messages") or [] if m.get("role") == "system")


def plan(body, dialect):
    """What to answer: (kind, text, tool_call) with tool_call = (type, name,
    arguments). dialect: openai (chat), anthropic, responses or gemini."""
    tool = agent_tool(body.get("tools"), dialect)
    if tool:
        results = tool_results(body, dialect)
        if results:
            found = TOKEN.findall("\n".join(results))
            if found:
                return "final", f"The file says: {found[-1]}", None
            return "final", "The tool result carried no token.", None
        return "tool_call", "", tool
    if body.get("tools") or dialect in ("responses", "gemini"):
        return "side", "OK.", None
    # No tools: aider's loop, or a side request.
    users = user_texts(body)
    system = system_text(body, dialect)
    if ARGS.edit_file and users and ("SEARCH/REPLACE" in system or "file listing" in system.lower()):
        found = TOKEN.findall(users[-1])
        if found:
            return "final", f"The test output says: {found[-1]}", None
        if any(TOKEN.search(u) for u in users):
            return "side", "OK.", None
        return "edit", edit_reply(system), None
    return "side", "Reading a file.", None


def edit_reply(system):
    name = os.path.basename(ARGS.edit_file)
    try:
        with open(ARGS.edit_file) as f:
            old = f.read()
    except OSError:
        old = "hello\n"
    new = old.rstrip("\n") + ", proxy\n"
    if "SEARCH/REPLACE" in system:
        return (f"I will edit {name}.\n\n{name}\n```\n<<<<<<< SEARCH\n{old.rstrip(chr(10))}\n=======\n"
                f"{new.rstrip(chr(10))}\n>>>>>>> REPLACE\n```\n")
    return f"I will edit {name}.\n\n{name}\n```\n{new}```\n"


# ------------------------------------------------------------------ answers

def openai_json(body, kind, text, call):
    msg = {"role": "assistant", "content": text or None}
    finish = "stop"
    if call:
        msg["tool_calls"] = [{"id": "call_" + uuid.uuid4().hex[:20], "type": "function",
                              "function": {"name": call[1], "arguments": json.dumps(call[2])}}]
        finish = "tool_calls"
    return {"id": "chatcmpl-" + uuid.uuid4().hex[:24], "object": "chat.completion",
            "created": int(time.time()), "model": body.get("model", "mock"),
            "choices": [{"index": 0, "message": msg, "finish_reason": finish, "logprobs": None}],
            "usage": {"prompt_tokens": 42, "completion_tokens": 7, "total_tokens": 49}}


def openai_events(body, kind, text, call):
    cid, created, model = "chatcmpl-" + uuid.uuid4().hex[:24], int(time.time()), body.get("model", "mock")

    def chunk(delta, finish=None, **extra):
        c = {"id": cid, "object": "chat.completion.chunk", "created": created, "model": model,
             "choices": [{"index": 0, "delta": delta, "finish_reason": finish, "logprobs": None}]}
        c.update(extra)
        return "data: " + json.dumps(c) + "\n\n"

    yield chunk({"role": "assistant", "content": ""})
    if call:
        args = json.dumps(call[2])
        yield chunk({"tool_calls": [{"index": 0, "id": "call_" + uuid.uuid4().hex[:20], "type": "function",
                                     "function": {"name": call[1], "arguments": ""}}]})
        half = len(args) // 2
        for piece in (args[:half], args[half:]):
            yield chunk({"tool_calls": [{"index": 0, "function": {"arguments": piece}}]})
        yield chunk({}, "tool_calls")
    else:
        words = re.findall(r"\S+\s*|\s+", text)
        for i in range(0, len(words), 3):
            yield chunk({"content": "".join(words[i:i + 3])})
        yield chunk({}, "stop")
    if (body.get("stream_options") or {}).get("include_usage"):
        yield "data: " + json.dumps({"id": cid, "object": "chat.completion.chunk", "created": created,
                                     "model": model, "choices": [],
                                     "usage": {"prompt_tokens": 42, "completion_tokens": 7,
                                               "total_tokens": 49}}) + "\n\n"
    yield "data: [DONE]\n\n"


def anthropic_json(body, kind, text, call):
    content = []
    if text:
        content.append({"type": "text", "text": text})
    if call:
        content.append({"type": "tool_use", "id": "toolu_" + uuid.uuid4().hex[:22], "name": call[1],
                        "input": call[2]})
    return {"id": "msg_" + uuid.uuid4().hex[:24], "type": "message", "role": "assistant",
            "model": body.get("model", "mock"), "content": content,
            "stop_reason": "tool_use" if call else "end_turn", "stop_sequence": None,
            "usage": {"input_tokens": 42, "output_tokens": 7}}


def anthropic_events(body, kind, text, call):
    def ev(name, data):
        return f"event: {name}\ndata: {json.dumps(data)}\n\n"

    msg = anthropic_json(body, kind, "", None)
    msg["stop_reason"] = None
    msg["usage"] = {"input_tokens": 42, "output_tokens": 1, "cache_creation_input_tokens": 0,
                    "cache_read_input_tokens": 0}
    yield ev("message_start", {"type": "message_start", "message": msg})
    yield ev("ping", {"type": "ping"})
    index = 0
    if text:
        yield ev("content_block_start", {"type": "content_block_start", "index": index,
                                         "content_block": {"type": "text", "text": ""}})
        words = re.findall(r"\S+\s*|\s+", text)
        for i in range(0, len(words), 3):
            yield ev("content_block_delta", {"type": "content_block_delta", "index": index,
                                             "delta": {"type": "text_delta", "text": "".join(words[i:i + 3])}})
        yield ev("content_block_stop", {"type": "content_block_stop", "index": index})
        index += 1
    if call:
        yield ev("content_block_start", {"type": "content_block_start", "index": index,
                                         "content_block": {"type": "tool_use",
                                                           "id": "toolu_" + uuid.uuid4().hex[:22],
                                                           "name": call[1], "input": {}}})
        args = json.dumps(call[2])
        half = len(args) // 2
        for piece in ("", args[:half], args[half:]):
            yield ev("content_block_delta", {"type": "content_block_delta", "index": index,
                                             "delta": {"type": "input_json_delta", "partial_json": piece}})
        yield ev("content_block_stop", {"type": "content_block_stop", "index": index})
    yield ev("message_delta", {"type": "message_delta",
                               "delta": {"stop_reason": "tool_use" if call else "end_turn",
                                         "stop_sequence": None},
                               "usage": {"output_tokens": 7}})
    yield ev("message_stop", {"type": "message_stop"})


def responses_output(body, call, text):
    """The output items of a Responses answer (complete, as in
    response.completed and the non-streaming answer): a reasoning item first
    when the request asks for reasoning.encrypted_content (as OpenAI's
    reasoning models answer; the client sends it back in its next input),
    then the tool call or the message."""
    out = []
    if "reasoning.encrypted_content" in (body.get("include") or []):
        out.append({"id": "rs_" + uuid.uuid4().hex[:24], "type": "reasoning", "summary": [],
                    "encrypted_content": "mock-encrypted-" + uuid.uuid4().hex})
    return out + responses_answer(call, text)


def responses_answer(call, text):
    if call:
        kind, name, args = call
        call_id = "call_" + uuid.uuid4().hex[:20]
        if kind == "local_shell":
            return [{"id": "lsh_" + uuid.uuid4().hex[:24], "type": "local_shell_call", "status": "completed",
                     "call_id": call_id, "action": {"type": "exec", **args}}]
        return [{"id": "fc_" + uuid.uuid4().hex[:24], "type": "function_call", "status": "completed",
                 "arguments": json.dumps(args), "call_id": call_id, "name": name}]
    return [{"id": "msg_" + uuid.uuid4().hex[:24], "type": "message", "status": "completed", "role": "assistant",
             "content": [{"type": "output_text", "text": text, "annotations": [], "logprobs": []}]}]


def responses_object(body, status, output, rid, created):
    usage = None
    if status == "completed":
        usage = {"input_tokens": 42, "input_tokens_details": {"cached_tokens": 0}, "output_tokens": 7,
                 "output_tokens_details": {"reasoning_tokens": 0}, "total_tokens": 49}
    return {"id": rid, "object": "response", "created_at": created, "status": status, "error": None,
            "incomplete_details": None, "instructions": body.get("instructions"), "model": body.get("model", "mock"),
            "output": output, "parallel_tool_calls": body.get("parallel_tool_calls", True),
            "previous_response_id": None, "reasoning": body.get("reasoning"), "store": body.get("store", False),
            "temperature": 1.0, "text": body.get("text") or {"format": {"type": "text"}},
            "tool_choice": body.get("tool_choice", "auto"), "tools": [], "top_p": 1.0, "truncation": "disabled",
            "usage": usage, "metadata": {}}


def responses_json(body, kind, text, call):
    return responses_object(body, "completed", responses_output(body, call, text),
                            "resp_" + uuid.uuid4().hex[:24], int(time.time()))


def responses_events(body, kind, text, call):
    """The Responses API's stream: response.created, .in_progress, per output
    item .output_item.added / its deltas / .output_item.done, then
    response.completed; every event with its sequence_number."""
    rid, created = "resp_" + uuid.uuid4().hex[:24], int(time.time())
    seq = iter(range(10**9))

    def ev(event, **data):
        data = {"type": event, "sequence_number": next(seq), **data}
        return f"event: {event}\ndata: {json.dumps(data)}\n\n"

    output = responses_output(body, call, text)
    yield ev("response.created", response=responses_object(body, "in_progress", [], rid, created))
    yield ev("response.in_progress", response=responses_object(body, "in_progress", [], rid, created))
    for index, item in enumerate(output):
        if item["type"] == "message":
            part = item["content"][0]
            yield ev("response.output_item.added", output_index=index,
                     item={**item, "status": "in_progress", "content": []})
            yield ev("response.content_part.added", item_id=item["id"], output_index=index, content_index=0,
                     part={**part, "text": ""})
            for piece in re.findall(r"\S+\s*|\s+", part["text"]):
                yield ev("response.output_text.delta", item_id=item["id"], output_index=index, content_index=0,
                         delta=piece, logprobs=[])
            yield ev("response.output_text.done", item_id=item["id"], output_index=index, content_index=0,
                     text=part["text"], logprobs=[])
            yield ev("response.content_part.done", item_id=item["id"], output_index=index, content_index=0,
                     part=part)
        elif item["type"] == "function_call":
            yield ev("response.output_item.added", output_index=index,
                     item={**item, "status": "in_progress", "arguments": ""})
            args = item["arguments"]
            half = len(args) // 2
            for piece in (args[:half], args[half:]):
                yield ev("response.function_call_arguments.delta", item_id=item["id"], output_index=index,
                         delta=piece)
            yield ev("response.function_call_arguments.done", item_id=item["id"], output_index=index,
                     name=item["name"], arguments=args)
        else:
            yield ev("response.output_item.added", output_index=index, item={**item, "status": "in_progress"})
        yield ev("response.output_item.done", output_index=index, item=item)
    yield ev("response.completed", response=responses_object(body, "completed", output, rid, created))


def schema_value(schema, depth=0):
    """A small value that fits a JSON schema (OpenAPI-style upper-case types
    too): the first enum value, each required property (all of them when
    none is named), the first item of an array."""
    if not isinstance(schema, dict) or depth > 8:
        return None
    if schema.get("enum"):
        return schema["enum"][0]
    for key in ("anyOf", "oneOf"):
        if schema.get(key):
            return schema_value(schema[key][0], depth + 1)
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "null")
    kind = (kind or ("object" if "properties" in schema else "string")).lower()
    if kind == "object":
        props = schema.get("properties") or {}
        names = schema.get("required") or list(props)
        return {n: schema_value(props.get(n) or {}, depth + 1) for n in names}
    if kind == "array":
        item = schema_value(schema.get("items") or {}, depth + 1)
        return [item] if item is not None else []
    if kind in ("integer", "number"):
        return schema.get("minimum", 1)
    if kind == "boolean":
        return False
    if kind == "null":
        return None
    return "OK."


def gemini_side_text(body, text):
    """A side request asking for JSON (responseMimeType application/json):
    a JSON text that fits its schema; otherwise the plain text."""
    config = body.get("generationConfig") or {}
    if config.get("responseMimeType") != "application/json":
        return text
    schema = config.get("responseJsonSchema") or config.get("responseSchema") or {"type": "object"}
    return json.dumps(schema_value(schema))


GEMINI_USAGE = {"promptTokenCount": 42, "candidatesTokenCount": 7, "totalTokenCount": 49}


def gemini_candidate(parts, finish=None):
    c = {"content": {"role": "model", "parts": parts}, "index": 0}
    if finish:
        c["finishReason"] = finish
    return c


def gemini_json(body, model, kind, text, call):
    parts = [{"functionCall": {"name": call[1], "args": call[2]}}] if call else \
        [{"text": gemini_side_text(body, text) if kind == "side" else text}]
    return {"candidates": [gemini_candidate(parts, "STOP")], "usageMetadata": GEMINI_USAGE,
            "modelVersion": model, "responseId": uuid.uuid4().hex[:22]}


def gemini_events(body, model, kind, text, call):
    """`alt=sse`: one event per piece; the last one carries finishReason STOP
    and usageMetadata (a function call comes whole, in one event)."""
    rid = uuid.uuid4().hex[:22]

    def ev(parts, last):
        e = {"candidates": [gemini_candidate(parts, "STOP" if last else None)], "modelVersion": model,
             "responseId": rid}
        if last:
            e["usageMetadata"] = GEMINI_USAGE
        return "data: " + json.dumps(e) + "\r\n\r\n"

    if call:
        yield ev([{"functionCall": {"name": call[1], "args": call[2]}}], True)
        return
    if kind == "side":
        text = gemini_side_text(body, text)
    words = re.findall(r"\S+\s*|\s+", text) or [""]
    pieces = ["".join(words[i:i + 3]) for i in range(0, len(words), 3)]
    for i, piece in enumerate(pieces):
        yield ev([{"text": piece}], i == len(pieces) - 1)


# ------------------------------------------------------------------ server

class Handler(QuietHandler):
    dialect = "openai"

    def record(self, raw, kind):
        n, body = self.numbered(raw)
        entry = {"dialect": self.dialect, "method": self.command, "path": self.path,
                 "headers": {k.lower(): v for k, v in self.headers.items()}, "body": body, "kind": kind}
        with open(os.path.join(ARGS.log_dir, f"{n:04d}-{self.dialect}.json"), "w") as f:
            json.dump(entry, f, indent=1)

    def send_json(self, status, obj):
        data = json.dumps(obj).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def send_events(self, events):
        self.send_response(200)
        self.send_header("content-type", "text/event-stream")
        self.send_header("cache-control", "no-cache")
        self.send_header("transfer-encoding", "chunked")
        self.end_headers()
        for e in events:
            data = e.encode()
            self.wfile.write(b"%x\r\n%s\r\n" % (len(data), data))
            self.wfile.flush()
        self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()

    def do_GET(self):
        self.read_body()
        path = self.path.split("?")[0].rstrip("/")
        if path.endswith("/models"):
            self.record(b"", "models")
            if self.dialect == "gemini":
                return self.send_json(200, {"models": [
                    {"name": f"models/{m}", "displayName": m, "inputTokenLimit": 1048576,
                     "outputTokenLimit": 65536,
                     "supportedGenerationMethods": ["generateContent", "countTokens"]}
                    for m in ("gemini-2.5-flash", "gemini-2.5-pro", "gemini-2.5-flash-lite")]})
            if self.dialect == "openai":
                return self.send_json(200, {"object": "list", "data": [
                    {"id": m, "object": "model", "created": 1700000000, "owned_by": "mock"}
                    for m in ("gpt-4o-mini", "gpt-4o")]})
            models = [{"type": "model", "id": m, "display_name": m, "created_at": "2025-01-01T00:00:00Z"}
                      for m in ("claude-sonnet-4-6", "claude-haiku-4-5")]
            return self.send_json(200, {"data": models, "has_more": False,
                                        "first_id": models[0]["id"], "last_id": models[-1]["id"]})
        self.record(b"", "unknown")
        self.send_json(404, {"error": {"message": f"mock: no route {self.path}", "type": "not_found"}})

    def do_POST(self):
        raw = self.read_body()
        path = self.path.split("?")[0].rstrip("/")
        try:
            body = json.loads(raw or b"{}")
        except ValueError:
            self.record(raw, "bad-json")
            return self.send_json(400, {"error": {"message": "mock: body is not JSON"}})
        if path.startswith("/overloaded/"):
            # A provider that is down (a model route's first target): a 503.
            self.record(raw, "overloaded")
            return self.send_json(503, {"error": {"message": "mock: overloaded", "type": "overloaded"}})
        if self.dialect == "gemini":
            return self.gemini(path, raw, body)
        if self.dialect == "anthropic" and path.endswith("/messages/count_tokens"):
            self.record(raw, "count_tokens")
            return self.send_json(200, {"input_tokens": max(1, len(raw) // 4)})
        if self.dialect == "openai" and path.endswith("/responses"):
            kind, text, call = plan(body, "responses")
            self.record(raw, kind)
            if body.get("stream"):
                return self.send_events(responses_events(body, kind, text, call))
            return self.send_json(200, responses_json(body, kind, text, call))
        ok = (path.endswith("/chat/completions") if self.dialect == "openai" else path.endswith("/v1/messages"))
        if not ok:
            self.record(raw, "unknown")
            return self.send_json(404, {"error": {"message": f"mock: no route {self.path}"}})
        kind, text, call = plan(body, self.dialect)
        self.record(raw, kind)
        if self.dialect == "openai":
            if body.get("stream"):
                return self.send_events(openai_events(body, kind, text, call))
            return self.send_json(200, openai_json(body, kind, text, call))
        if body.get("stream"):
            return self.send_events(anthropic_events(body, kind, text, call))
        return self.send_json(200, anthropic_json(body, kind, text, call))

    def gemini(self, path, raw, body):
        """POST /v1beta/models/{model}:{method}; errors in Google's shape."""
        m = re.fullmatch(r"/v1beta/models/(.+):(streamGenerateContent|generateContent|countTokens)", path)
        if not m:
            self.record(raw, "unknown")
            return self.send_json(404, {"error": {"code": 404, "message": f"mock: no route {self.path}",
                                                  "status": "NOT_FOUND"}})
        model, method = m.groups()
        if not (self.headers.get("x-goog-api-key") or "key=" in self.path):
            self.record(raw, "no-key")
            return self.send_json(403, {"error": {"code": 403, "message": "mock: no API key",
                                                  "status": "PERMISSION_DENIED"}})
        if method == "countTokens":
            self.record(raw, "count_tokens")
            return self.send_json(200, {"totalTokens": max(1, len(raw) // 4)})
        kind, text, call = plan(body, "gemini")
        self.record(raw, kind)
        if method == "streamGenerateContent":
            return self.send_events(gemini_events(body, model, kind, text, call))
        return self.send_json(200, gemini_json(body, model, kind, text, call))


def dns_logger(port):
    """Log each queried name to dns.txt; answer REFUSED (nothing resolves)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", port))

    def loop():
        while True:
            data, addr = sock.recvfrom(4096)
            if len(data) < 12:
                continue
            i, labels = 12, []
            while i < len(data) and data[i]:
                n = data[i]
                labels.append(data[i + 1:i + 1 + n].decode("ascii", "replace"))
                i += n + 1
            qtype = int.from_bytes(data[i + 1:i + 3], "big") if i + 3 <= len(data) else 0
            with LOCK, open(os.path.join(ARGS.log_dir, "dns.txt"), "a") as f:
                f.write(f"{'.'.join(labels)} {qtype}\n")
            # Header: same id, QR=1, RD copied, RA=1, RCODE=5 (REFUSED); the question echoed.
            flags = bytes([0x80 | (data[2] & 0x01), 0x85])
            sock.sendto(data[:2] + flags + data[4:6] + b"\0" * 6 + data[12:i + 5], addr)

    threading.Thread(target=loop, daemon=True).start()


def serve(dialect, port):
    cls = type(f"{dialect}Handler", (Handler,), {"dialect": dialect})
    server = ThreadingHTTPServer(("127.0.0.1", port), cls)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server.server_address[1]


def main():
    global ARGS
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--log-dir", required=True)
    p.add_argument("--ports-file", required=True)
    p.add_argument("--file", required=True, help="absolute path the tool call asks to read")
    p.add_argument("--edit-file", default="", help="file aider is asked to edit (absolute)")
    p.add_argument("--openai-port", type=int, default=0)
    p.add_argument("--anthropic-port", type=int, default=0)
    p.add_argument("--gemini-port", type=int, default=0)
    p.add_argument("--prefer-shell", action="store_true",
                   help="call the shell tool (cat) even when a file-reading tool is offered")
    p.add_argument("--dns-port", type=int, default=0, help="also log DNS queries (0: off)")
    ARGS = p.parse_args()
    os.makedirs(ARGS.log_dir, exist_ok=True)
    if ARGS.dns_port:
        dns_logger(ARGS.dns_port)
    ports = {"openai": serve("openai", ARGS.openai_port),
             "anthropic": serve("anthropic", ARGS.anthropic_port),
             "gemini": serve("gemini", ARGS.gemini_port)}
    tmp = ARGS.ports_file + ".tmp"
    with open(tmp, "w") as f:
        json.dump(ports, f)
    os.replace(tmp, ARGS.ports_file)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    sys.exit(main())
