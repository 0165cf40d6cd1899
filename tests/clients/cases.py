#!/usr/bin/env python3
"""Helpers for scripts/clients.sh (standard library only).

  cases.py spin-manifest WASM PORT...      spin.toml adapted for a test run (stdout)
  cases.py check CASE_DIR DIALECT PATH [direct]
                                           judge one case; prints the reason on failure
                                           (direct: the client talked to the mock itself)
  cases.py fixtures REC_DIR CASE_DIR OUT   write first.json and tool_result.json
  cases.py codex-catalog MODELS FROM TO    Codex's catalog entry FROM, named TO (stdout)

A case directory holds: token (the secret), out.txt/err.txt (the client's
output), rc (its exit code), mock/ (requests the mock providers saw),
rec/ (requests the client sent, with --record) and keys.json (the fake
secrets to redact).
"""

import json
import os
import re
import sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FIXED_TOKEN = "MAGIC-0123456789abcdef"
FIXED_DIR = "/tmp/llm-proxy-client-case"


def spin_manifest(wasm, ports):
    """The project's spin.toml with the component's path and loopback hosts
    (the same two edits as spin_manifest() in tests/common/mod.rs)."""
    manifest = open(os.path.join(ROOT, "spin.toml")).read()
    source = 'source = "target/wasm32-wasip2/release/llm_proxy.wasm"'
    hosts = "allowed_outbound_hosts = [\n" + "".join(f'    "http://127.0.0.1:{p}",\n' for p in ports)
    if source not in manifest or "allowed_outbound_hosts = [\n" not in manifest:
        sys.exit("spin.toml no longer has the lines clients.sh adapts")
    adapted = manifest.replace(source, f"source = {json.dumps(wasm)}")
    return adapted.replace("allowed_outbound_hosts = [\n", hosts, 1)


def entries(folder):
    out = []
    for name in sorted(os.listdir(folder)) if os.path.isdir(folder) else []:
        if name.endswith(".json"):
            with open(os.path.join(folder, name)) as f:
                out.append(json.load(f))
    return out


def check(case, dialect, path, direct=""):
    token = open(os.path.join(case, "token")).read().strip()
    keys = json.load(open(os.path.join(case, "keys.json")))
    rc = open(os.path.join(case, "rc")).read().strip()
    out = open(os.path.join(case, "out.txt"), errors="replace").read()
    problems = []
    if rc != "0":
        problems.append(f"client exit code {rc}")
    # The mock's final text is "... says: <token>": the token reached the
    # client's output through the model's answer, not by echoing the file.
    if f"says: {token}" not in out:
        problems.append("the final output does not quote the token")
    seen = entries(os.path.join(case, "mock"))
    arrived = [e for e in seen if e["dialect"] == dialect and e["path"].split("?")[0] == path
               and token in json.dumps(e["body"])]
    if not arrived:
        got = sorted({f'{e["dialect"]} {e["method"]} {e["path"]} ({e["kind"]})' for e in seen})
        problems.append(f"the mock never saw the tool result on {dialect} {path}; it saw: {got or 'nothing'}")
    expect = os.path.join(case, "expect-log")
    if os.path.exists(expect):
        log = open(os.path.join(case, "proxy.log"), errors="replace").read()
        lines = [l for l in log.splitlines() if '"event":"request"' in l]
        for needle in open(expect).read().split("\n"):
            if needle and not any(needle in l for l in lines):
                problems.append(f"no request log line with {needle}")
    dns = os.path.join(case, "mock", "dns.txt")
    if os.path.exists(dns):
        names = sorted({line.split()[0] for line in open(dns) if line.strip()})
        problems.append(f"host names were looked up (traffic beyond the proxy): {names}")
    for e in seen if not direct else []:
        blob = json.dumps(e)
        if keys["proxy"] in blob:
            problems.append(f'the proxy key reached the provider ({e["path"]})')
            break
    if problems:
        print("; ".join(problems))
        return 1
    return 0


def has_token(body):
    return bool(re.search(r"MAGIC-[A-Za-z0-9]+", json.dumps(body)))


def is_agent_request(e):
    if e["method"] != "POST" or not isinstance(e["body"], dict):
        return False
    p = e["path"].split("?")[0]
    if not (p.endswith("/chat/completions") or p.endswith("/v1/messages") or p.endswith("/responses")
            or p.endswith(":generateContent") or p.endswith(":streamGenerateContent")):
        return False
    body = e["body"]
    tools = body.get("tools") or []
    names = [(t.get("function") or {}).get("name") or t.get("name") or t.get("type") or "" for t in tools]
    # Gemini: {"functionDeclarations": [{"name": ...}, ...]}
    names += [f.get("name") or "" for t in tools for f in t.get("functionDeclarations") or []]
    if tools:
        # Codex has no file-reading tool: its shell tool reads the file
        # (Gemini CLI's too, run_shell_command, as the mock asks it).
        return any(n.lower() in ("read", "read_file", "exec_command", "shell", "local_shell",
                                 "run_shell_command") for n in names)
    # aider: no tools; its main requests carry its edit-format instructions.
    return "SEARCH/REPLACE" in json.dumps(body) or "file listing" in json.dumps(body)


def redact(entry, case, keys, token):
    """Secrets -> placeholders; the run's token and temp dir -> fixed values."""
    text = json.dumps({"method": entry["method"], "path": entry["path"],
                       "headers": {k: v for k, v in entry["headers"].items()
                                   if k not in ("content-length", "host")},
                       "body": entry["body"]})
    for name, value in sorted(keys.items(), key=lambda kv: -len(kv[1])):
        text = text.replace(value, f"<{name.upper()}_KEY>")
    text = text.replace(token, FIXED_TOKEN).replace(os.path.realpath(case), FIXED_DIR).replace(case, FIXED_DIR)
    out = json.loads(text)
    out["headers"]["host"] = "<PROXY_HOST>"
    return out


def fixtures(rec, case, out_dir):
    token = open(os.path.join(case, "token")).read().strip()
    keys = json.load(open(os.path.join(case, "keys.json")))
    seen = [e for e in entries(rec) if is_agent_request(e)]
    first = next((e for e in seen if not has_token(e["body"])), None)
    result = next((e for e in seen if token in json.dumps(e["body"])), None)
    if not first or not result:
        print(f"fixtures: no {'first' if not first else 'tool-result'} request recorded in {rec}")
        return 1
    os.makedirs(out_dir, exist_ok=True)
    for name, e in (("first", first), ("tool_result", result)):
        fixture = redact(e, case, keys, token)
        blob = json.dumps(fixture)
        assert not any(v in blob for v in keys.values()), "a secret survived redaction"
        with open(os.path.join(out_dir, f"{name}.json"), "w") as f:
            json.dump(fixture, f, indent=1, ensure_ascii=False)
            f.write("\n")
    return 0


def codex_catalog(models, source, model):
    """A one-model catalog for Codex's model_catalog_json: the entry of
    `codex debug models` for `source`, under the name `model`."""
    entry = next(m for m in json.load(open(models))["models"] if m["slug"] == source)
    entry = dict(entry, slug=model, display_name=model)
    json.dump({"models": [entry]}, sys.stdout, indent=1)
    return 0


def main():
    cmd, args = sys.argv[1], sys.argv[2:]
    if cmd == "spin-manifest":
        sys.stdout.write(spin_manifest(args[0], args[1:]))
        return 0
    if cmd == "check":
        return check(*args)
    if cmd == "fixtures":
        return fixtures(*args)
    if cmd == "codex-catalog":
        return codex_catalog(*args)
    sys.exit(f"unknown command {cmd}")


if __name__ == "__main__":
    sys.exit(main())
