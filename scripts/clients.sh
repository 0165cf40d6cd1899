#!/usr/bin/env bash
# Real coding agents through the proxy: Claude Code, opencode, aider, Codex
# CLI and Gemini CLI, at pinned versions, each run non-interactively against the
# repo's scripted mock providers (tests/clients/mock_upstream.py), under both
# hosts: the `wasi` flavour under `wasmtime serve` and the `spin` flavour
# under `spin up`.
#
#   scripts/clients.sh                 # install (cached) and run every case
#   scripts/clients.sh --record        # ... and re-record tests/fixtures/clients/
#   scripts/clients.sh --only opencode # cases whose "client case host" matches
#
# Each case (mock, proxy, client) runs inside its own loopback-only network
# namespace (`unshare -rnm`), so nothing can reach beyond 127.0.0.1, with a
# DNS logger as its only name server: a case fails if anything in it looked
# up a host name (telemetry, update checks, downloads). The
# script asks the model to read a file holding a random token; the mock
# answers with a tool call for that file (Codex, which has no file-reading
# tool, and Gemini CLI: a `cat` through its shell tool), and, once the tool result comes
# back, with a text quoting the token. A case passes when the client exits 0,
# its output quotes the token, and the mock saw the tool result arrive on the
# expected upstream path (and never the proxy key), and no host name was
# looked up.
#
# The clients are installed once into ${LLM_PROXY_CLIENTS_CACHE:-~/.cache/llm-proxy-clients}
# (outside the repo, so fresh clones on the same machine reuse them).
# Settings: CLIENT_TIMEOUT (seconds per client run, default 180), SPIN,
# WASMTIME_BIN, KEEP=1 (keep the case folders: logs, requests, outputs),
# TRACE=1 (with KEEP=1: each client's connect() calls in connect.trace),
# COMPONENT_WASI / COMPONENT_SPIN (a component to run instead of building one),
# DIRECT=1 (the codex and gemini cases once, host `direct`: the client talks
# to the mock itself, no proxy — Codex to the OpenAI mock's /v1/responses,
# Gemini CLI to the Gemini mock's /v1beta/models/...; proves the mock and the
# client agree, and --record records what the client sends, the recorder in
# front of the mock).
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$(pwd)
export PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"

CLAUDE_CODE_VERSION=2.1.332
OPENCODE_VERSION=1.18.33
# The provider packages opencode would load for a custom provider; opencode
# 1.18.33 bundles these very versions (it only installs a package it lacks).
AI_SDK_OPENAI_COMPATIBLE_VERSION=2.0.41
AI_SDK_ANTHROPIC_VERSION=3.0.111
AIDER_VERSION=0.86.2
AIDER_PYTHON=${AIDER_PYTHON:-$(command -v python3.11 || command -v python3)}
CODEX_VERSION=0.171.0
GEMINI_CLI_VERSION=0.61.0

CACHE=${LLM_PROXY_CLIENTS_CACHE:-$HOME/.cache/llm-proxy-clients}
TIMEOUT=${CLIENT_TIMEOUT:-180}
RECORD=0
ONLY=
while [ $# -gt 0 ]; do
  case "$1" in
    --record) RECORD=1 ;;
    --only) ONLY=$2; shift ;;
    -h|--help) sed -n '2,34p' "$0"; exit 0 ;;
    *) echo "clients: unknown argument $1" >&2; exit 2 ;;
  esac
  shift
done

say() { echo "clients: $*" >&2; }

# ------------------------------------------------------------------ installs

# npm_install DIR SPEC: a pinned package into its own prefix, scripts off
# (the platform binaries come as optional dependencies; nothing is fetched
# by an install script).
npm_install() {
  mkdir -p "$1"
  (cd "$1" && npm install --prefix "$1" --no-save --no-audit --no-fund --ignore-scripts \
    --loglevel=error "$2" >&2)
}

# A folder counts as installed when its marker names the same recipe.
installed() { [ "$(cat "$1/.installed" 2>/dev/null)" = "$2" ]; }

install_clients() {
  local t0 dir recipe
  dir="$CACHE/claude-code-$CLAUDE_CODE_VERSION"
  recipe="@anthropic-ai/claude-code@$CLAUDE_CODE_VERSION"
  if ! installed "$dir" "$recipe"; then
    t0=$SECONDS; say "installing Claude Code $CLAUDE_CODE_VERSION into $dir"
    npm_install "$dir" "@anthropic-ai/claude-code@$CLAUDE_CODE_VERSION"
    echo "$recipe" >"$dir/.installed"; say "Claude Code installed in $((SECONDS - t0)) s"
  fi
  dir="$CACHE/opencode-$OPENCODE_VERSION"
  recipe="opencode-ai@$OPENCODE_VERSION @ai-sdk/openai-compatible@$AI_SDK_OPENAI_COMPATIBLE_VERSION"
  recipe+=" @ai-sdk/anthropic@$AI_SDK_ANTHROPIC_VERSION @opencode-ai/plugin@$OPENCODE_VERSION"
  if ! installed "$dir" "$recipe"; then
    t0=$SECONDS; say "installing opencode $OPENCODE_VERSION and its provider packages into $dir"
    npm_install "$dir" "opencode-ai@$OPENCODE_VERSION"
    # Where opencode installs a provider package it lacks:
    # $XDG_CACHE_HOME/opencode/packages/<package>/node_modules/<package>.
    npm_install "$dir/packages/@ai-sdk/openai-compatible" \
      "@ai-sdk/openai-compatible@$AI_SDK_OPENAI_COMPATIBLE_VERSION"
    npm_install "$dir/packages/@ai-sdk/anthropic" "@ai-sdk/anthropic@$AI_SDK_ANTHROPIC_VERSION"
    # ... and the plugin package it installs into its config folder at start
    # (it skips that when package-lock.json lists it): saved, with a lock.
    mkdir -p "$dir/config"
    (cd "$dir/config" && npm install --prefix "$dir/config" --save-exact --no-audit --no-fund \
      --ignore-scripts --loglevel=error "@opencode-ai/plugin@$OPENCODE_VERSION" >&2)
    echo "$recipe" >"$dir/.installed"; say "opencode installed in $((SECONDS - t0)) s"
  fi
  dir="$CACHE/aider-$AIDER_VERSION"
  recipe="aider-chat==$AIDER_VERSION"
  if ! installed "$dir" "$recipe"; then
    t0=$SECONDS; say "installing aider $AIDER_VERSION into $dir (a venv)"
    rm -rf "$dir"
    "$AIDER_PYTHON" -m venv "$dir"
    "$dir/bin/pip" install --quiet --disable-pip-version-check "aider-chat==$AIDER_VERSION" >&2
    echo "$recipe" >"$dir/.installed"; say "aider installed in $((SECONDS - t0)) s"
  fi
  dir="$CACHE/codex-$CODEX_VERSION"
  recipe="@openai/codex@$CODEX_VERSION"
  if ! installed "$dir" "$recipe"; then
    # The package's launcher (Node) only finds and runs the native binary of
    # the platform package (an optional dependency); the cases run that
    # binary directly.
    t0=$SECONDS; say "installing Codex CLI $CODEX_VERSION into $dir"
    npm_install "$dir" "@openai/codex@$CODEX_VERSION"
    echo "$recipe" >"$dir/.installed"; say "Codex CLI installed in $((SECONDS - t0)) s"
  fi
  dir="$CACHE/gemini-cli-$GEMINI_CLI_VERSION"
  recipe="@google/gemini-cli@$GEMINI_CLI_VERSION"
  if ! installed "$dir" "$recipe"; then
    # One bundled JavaScript package (Node 20+); its only dependencies are
    # optional native ones (node-pty's prebuilt linux-x64 package, keytar),
    # none of which needs an install script.
    t0=$SECONDS; say "installing Gemini CLI $GEMINI_CLI_VERSION into $dir"
    npm_install "$dir" "@google/gemini-cli@$GEMINI_CLI_VERSION"
    echo "$recipe" >"$dir/.installed"; say "Gemini CLI installed in $((SECONDS - t0)) s"
  fi
}

first_file() { for f in "$@"; do [ -x "$f" ] && { echo "$f"; return; }; done; echo "$1"; }

install_clients
CLAUDE_BIN=$(first_file \
  "$CACHE/claude-code-$CLAUDE_CODE_VERSION/node_modules/@anthropic-ai/claude-code-linux-x64/claude" \
  "$CACHE/claude-code-$CLAUDE_CODE_VERSION/node_modules/.bin/claude")
OPENCODE_BIN=$(first_file \
  "$CACHE/opencode-$OPENCODE_VERSION/node_modules/opencode-linux-x64/bin/opencode" \
  "$CACHE/opencode-$OPENCODE_VERSION/node_modules/.bin/opencode")
OPENCODE_DIR="$CACHE/opencode-$OPENCODE_VERSION"
AIDER_BIN="$CACHE/aider-$AIDER_VERSION/bin/aider"
case "$(uname -m)" in
  aarch64|arm64) CODEX_TRIPLE=aarch64-unknown-linux-musl CODEX_PKG=codex-linux-arm64 ;;
  *) CODEX_TRIPLE=x86_64-unknown-linux-musl CODEX_PKG=codex-linux-x64 ;;
esac
CODEX_BIN=$(first_file \
  "$CACHE/codex-$CODEX_VERSION/node_modules/@openai/$CODEX_PKG/vendor/$CODEX_TRIPLE/bin/codex" \
  "$CACHE/codex-$CODEX_VERSION/node_modules/.bin/codex")
# Gemini CLI is a Node script: the case runs it with this Node (its PATH is
# reset to the system's).
GEMINI_JS="$CACHE/gemini-cli-$GEMINI_CLI_VERSION/node_modules/@google/gemini-cli/bundle/gemini.js"
NODE_BIN=$(command -v node || true)

# ------------------------------------------------------------------ hosts

# The components: reused when newer than the sources, else built exactly as
# tests/common/mod.rs builds them.
component() {
  local flavour=$1 out="target/component/llm-proxy-$1.wasm" features=() given
  given=$([ "$1" = wasi ] && echo "${COMPONENT_WASI:-}" || echo "${COMPONENT_SPIN:-}")
  if [ -n "$given" ]; then realpath "$given"; return; fi
  [ "$flavour" = wasi ] && features=(--no-default-features --features wasi)
  if [ ! -f "$out" ] || [ -n "$(find src Cargo.toml Cargo.lock -newer "$out" -print -quit)" ]; then
    say "building the $flavour component"
    cargo build --quiet --release --target wasm32-wasip2 --target-dir target/component "${features[@]}"
    cp target/component/wasm32-wasip2/release/llm_proxy.wasm "$out"
  fi
  echo "$ROOT/$out"
}

HOSTS=()
WASMTIME=${WASMTIME_BIN:-$(command -v wasmtime || true)}
if [ -n "$WASMTIME" ] && [ -x "$WASMTIME" ]; then
  HOSTS+=(wasi)
else
  say "NOTE — no wasmtime (scripts/setup.sh installs it): the wasmtime serve cases are SKIPPED"
fi
if [ -z "${SPIN:-}" ] && command -v spin >/dev/null 2>&1; then SPIN=$(command -v spin); fi
if [ -z "${SPIN:-}" ] && [ -x ../shared/tools/spin/install-spin ]; then
  SPIN=$(../shared/tools/spin/install-spin 2>/dev/null || true)
fi
if [ -n "${SPIN:-}" ] && [ -x "$SPIN" ]; then
  HOSTS+=(spin)
else
  say "NOTE — no spin binary (SPIN= or on PATH): the spin up cases are SKIPPED"
fi
if ! unshare -rnm true 2>/dev/null; then
  say "cannot make a network namespace (unshare -rnm); the cases run only inside one, on loopback"
  exit 1
fi
# Built (or found) when the first case under that host runs.
WASM_WASI= WASM_SPIN=

# ------------------------------------------------------------------ cases

# client case model expected-dialect expected-path [extra]
# extra: opencode's provider package; codex's catalog model (the case gives
# the model that entry of Codex's bundled catalog, under the case's name).
# (With DIRECT=1, no proxy between: codex's expected path is /v1/responses;
# a translated gemini case's the Gemini mock's
# /v1beta/models/<model>:streamGenerateContent.)
# Gemini CLI speaks the Gemini API (POST
# /v1beta/models/<model>:streamGenerateContent?alt=sse, key in x-goog-api-key)
# and, with a named model, sends nothing else (no countTokens, no
# next-speaker check): a `provider/model` name is translated to chat
# completions, a bare Gemini name goes to google-ai-studio as it is (the
# Gemini mock). With `auto` (its default) it routes by itself: first a
# :generateContent to gemini-3.5-flash-lite asking for a complexity score
# (responseJsonSchema; the mock fills the schema in), then the turn to the
# model it picked, gemini-3.8-flash in 0.61.0 — both bare names, both
# native.
CASES=(
  "claude-code translated openai/gpt-4o-mini openai /v1/chat/completions"
  "claude-code native claude-sonnet-4-6 anthropic /v1/messages"
  "opencode chat openai/gpt-4o-mini openai /v1/chat/completions @ai-sdk/openai-compatible"
  "opencode messages openai/gpt-4o-mini openai /v1/chat/completions @ai-sdk/anthropic"
  "opencode messages-native claude-sonnet-4-6 anthropic /v1/messages @ai-sdk/anthropic"
  "aider chat openai/gpt-4o-mini openai /v1/chat/completions"
  "codex translated groq/llama-3.3-70b-versatile openai /openai/v1/chat/completions"
  "codex native openai/gpt-5-codex openai /v1/responses"
  "codex catalog groq/llama-3.3-70b-versatile openai /openai/v1/chat/completions gpt-5.5"
  "gemini translated openai/gpt-4o-mini openai /v1/chat/completions"
  "gemini native gemini-2.5-flash gemini /v1beta/models/gemini-2.5-flash:streamGenerateContent"
  "gemini auto auto gemini /v1beta/models/gemini-3.8-flash:streamGenerateContent"
  "claude-code team smart openai /v1/chat/completions"
  "codex team smart openai /v1/responses"
  "gemini team smart openai /v1/chat/completions"
)
# The clients DIRECT=1 runs without the proxy.
DIRECT_CLIENTS=" codex gemini "

RUN=$(mktemp -d "${TMPDIR:-/tmp}/llm-proxy-clients.XXXXXX")
if [ -n "${KEEP:-}" ]; then say "keeping the case folders in $RUN"; else trap 'rm -rf "$RUN"' EXIT; fi
rand() { od -An -N8 -tx1 /dev/urandom | tr -d ' \n'; }
passed=0 failed=0 recorded=()

run_case() {
  local h=$1 client case model dialect path extra dir token edit proxy_key openai_key anthropic_key groq_key
  local gemini_key
  local rec t0 ms secs reason direct=
  read -r client case model dialect path extra <<<"$2"
  [ -n "$ONLY" ] && ! grep -qE -- "$ONLY" <<<"$client $case $h" && return
  if [ "$h" = direct ]; then
    direct=direct
    case "$client" in
      codex) path=/v1/responses ;;
      gemini) [ "$dialect" = gemini ] || path="/v1beta/models/$model:streamGenerateContent"; dialect=gemini ;;
    esac
  fi
  if [ "$h" = wasi ] && [ -z "$WASM_WASI" ]; then WASM_WASI=$(component wasi); fi
  if [ "$h" = spin ] && [ -z "$WASM_SPIN" ]; then WASM_SPIN=$(component spin); fi
  dir="$RUN/$client-$case-$h"
  mkdir -p "$dir/work" "$dir/mock" "$dir/rec"
  token="MAGIC-$(rand)"
  echo "$token" >"$dir/token"
  echo "$token" >"$dir/work/secret.txt"
  edit=
  if [ "$client" = aider ]; then echo hello >"$dir/work/notes.txt"; edit="$dir/work/notes.txt"; fi
  proxy_key="proxy-key-clients-$(rand)" openai_key="sk-openai-fake-$(rand)" anthropic_key="sk-ant-fake-$(rand)"
  groq_key="gsk-fake-$(rand)" gemini_key="AIza-fake-$(rand)"
  printf '{"proxy":"%s","openai":"%s","anthropic":"%s","groq":"%s","gemini":"%s"}\n' \
    "$proxy_key" "$openai_key" "$anthropic_key" "$groq_key" "$gemini_key" >"$dir/keys.json"
  # Record each client case once (on the first host), as the client sent it.
  rec=0
  if [ "$RECORD" = 1 ] && [[ ! " ${recorded[*]} " =~ " $client-$case " ]]; then rec=1; fi
  t0=$(date +%s%N)
  env ROOT="$ROOT" CASE_DIR="$dir" CLIENT="$client" CASE="$case" HOST="$h" MODEL="$model" EXTRA="${extra:-}" \
    EDIT_FILE="$edit" RECORD="$rec" TIMEOUT="$TIMEOUT" PROXY_KEY="$proxy_key" \
    OPENAI_KEY="$openai_key" ANTHROPIC_KEY="$anthropic_key" GROQ_KEY="$groq_key" GEMINI_KEY="$gemini_key" \
    WASMTIME="$WASMTIME" \
    SPIN="${SPIN:-}" TRACE="${TRACE:-0}" WASM_WASI="$WASM_WASI" WASM_SPIN="$WASM_SPIN" \
    CLAUDE_BIN="$CLAUDE_BIN" OPENCODE_BIN="$OPENCODE_BIN" OPENCODE_DIR="$OPENCODE_DIR" \
    AIDER_BIN="$AIDER_BIN" CODEX_BIN="$CODEX_BIN" GEMINI_JS="$GEMINI_JS" NODE_BIN="$NODE_BIN" \
    timeout $((TIMEOUT + 120)) unshare -rnm bash "$ROOT/tests/clients/case.sh" || true
  ms=$(( ($(date +%s%N) - t0) / 1000000 )); secs="$((ms / 1000)).$((ms % 1000 / 100))"
  if [ -f "$dir/setup-error" ]; then
    reason=$(cat "$dir/setup-error")
  elif [ ! -f "$dir/rc" ]; then
    reason="the case did not finish"
  else
    reason=$(python3 tests/clients/cases.py check "$dir" "$dialect" "$path" $direct || true)
  fi
  if [ -z "$reason" ]; then
    passed=$((passed + 1))
    printf 'PASS %s %s %s %ss\n' "$client" "$case" "$h" "$secs"
  else
    failed=$((failed + 1))
    printf 'FAIL %s %s %s %ss\n' "$client" "$case" "$h" "$secs"
    echo "  why: $reason"
    for f in out.txt err.txt proxy.log; do
      [ -s "$dir/$f" ] || continue
      echo "  --- $f (last lines)"
      grep -v '^timestamp=.* level=\(INFO\|DEBUG\)' "$dir/$f" | tail -n 8 | cut -c1-300 | sed 's/^/  /'
    done
  fi
  if [ "$rec" = 1 ]; then
    recorded+=("$client-$case")
    python3 tests/clients/cases.py fixtures "$dir/rec" "$dir" "tests/fixtures/clients/$client-$case" \
      && say "recorded tests/fixtures/clients/$client-$case/{first,tool_result}.json" \
      || say "recording $client-$case failed"
  fi
}

for h in "${HOSTS[@]}"; do
  for c in "${CASES[@]}"; do
    [ -n "${DIRECT:-}" ] && [[ "$DIRECT_CLIENTS" == *" ${c%% *} "* ]] && continue
    run_case "$h" "$c"
  done
done
if [ -n "${DIRECT:-}" ]; then
  for c in "${CASES[@]}"; do
    [[ "$DIRECT_CLIENTS" == *" ${c%% *} "* ]] && run_case direct "$c"
  done
fi

[ ${#HOSTS[@]} -gt 0 ] || say "NOTE — no host available: no case ran"
echo "$passed passed, $failed failed"
[ "$failed" -eq 0 ]
