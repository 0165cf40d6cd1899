#!/usr/bin/env bash
# One coding-agent case, run by scripts/clients.sh INSIDE a loopback-only
# network namespace with a mount namespace of its own (`unshare -rnm`): the
# scripted mock providers, the proxy (wasmtime serve or spin up), optionally
# the recorder, and the client. /etc/resolv.conf is bound to one naming only
# the mock's DNS logger, so every host name anyone tries to look up is logged
# (and nothing resolves).
# Everything it needs comes in the environment (see scripts/clients.sh).
# Fixed ports are safe: each case has a network namespace of its own.
set -uo pipefail
ip link set lo up

MOCK_OPENAI=9001 MOCK_ANTHROPIC=9002 MOCK_GEMINI=9003 PROXY=8080 RECORDER=8081
echo "nameserver 127.0.0.1" >"$CASE_DIR/resolv.conf"
mount --bind "$CASE_DIR/resolv.conf" /etc/resolv.conf 2>/dev/null ||
  echo "note: /etc/resolv.conf not replaced; host-name lookups are not logged" >"$CASE_DIR/dns-note"
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done; wait 2>/dev/null; }
trap cleanup EXIT

wait_file() { for _ in $(seq 1 300); do [ -s "$1" ] && return 0; sleep 0.1; done; return 1; }

# ---- the scripted mock providers
# (Gemini CLI: the mock calls its shell tool, run_shell_command, though it
# also offers read_file: the round trip through a shell command.)
prefer_shell=
[ "$CLIENT" = gemini ] && prefer_shell=--prefer-shell
python3 "$ROOT/tests/clients/mock_upstream.py" --log-dir "$CASE_DIR/mock" \
  --ports-file "$CASE_DIR/mock-ports.json" --file "$CASE_DIR/work/secret.txt" \
  ${EDIT_FILE:+--edit-file "$EDIT_FILE"} $prefer_shell \
  --openai-port $MOCK_OPENAI --anthropic-port $MOCK_ANTHROPIC --gemini-port $MOCK_GEMINI \
  --dns-port 53 2>"$CASE_DIR/mock.log" &
pids+=($!)
wait_file "$CASE_DIR/mock-ports.json" || { echo "mock did not start" >"$CASE_DIR/setup-error"; exit 1; }

# ---- the proxy (HOST=direct: none; the client talks to the mock itself)
# Groq stands for "any OpenAI-compatible provider other than OpenAI": its
# base URL keeps Groq's own path (/openai/v1), so the mock sees
# /openai/v1/chat/completions. Google AI Studio's base URL is the root (its
# paths carry /v1beta); GEMINI_API_KEY here is the provider's key (in Gemini
# CLI's environment it is the proxy key).
settings=(
  "PROXY_API_KEY=$PROXY_KEY"
  "OPENAI_API_KEY=$OPENAI_KEY"
  "ANTHROPIC_API_KEY=$ANTHROPIC_KEY"
  "GROQ_API_KEY=$GROQ_KEY"
  "GEMINI_API_KEY=$GEMINI_KEY"
  "OPENAI_BASE_URL=http://127.0.0.1:$MOCK_OPENAI/v1"
  "ANTHROPIC_BASE_URL=http://127.0.0.1:$MOCK_ANTHROPIC"
  "GROQ_BASE_URL=http://127.0.0.1:$MOCK_OPENAI/openai/v1"
  "GOOGLE_AI_STUDIO_BASE_URL=http://127.0.0.1:$MOCK_GEMINI"
)
# The team cases: the client holds a client key (PROXY_KEYS, its SHA-256
# only) that may use the route `smart` alone; the route's first target
# (Mistral, pointed at a mock path that answers 503) is down, so every turn
# falls back to the second. The proxy's log must name the key and the route.
# Under Spin the key also has limits, requests and tokens (counted in Spin's
# store: each request reserves an estimate at admission and settles to the
# usage the answer reports, so every stream must carry its usage); wasmtime
# serve has no shared store, where such a key is refused.
if [ "${CASE:-}" = team ]; then
  key_sha=$(printf %s "$PROXY_KEY" | sha256sum | cut -d' ' -f1)
  limit=
  [ "$HOST" = spin ] && limit=',"rpm":1000,"tpm":10000000,"daily_tokens":100000000'
  settings[0]="PROXY_API_KEY=admin-$PROXY_KEY-not-the-clients"
  settings+=(
    "PROXY_KEYS=[{\"name\":\"team-member\",\"sha256\":\"$key_sha\",\"models\":[\"smart\"]$limit}]"
    "MODEL_ROUTES={\"smart\":[\"mistral/mistral-large-latest\",\"openai/gpt-4o-mini\"]}"
    "MISTRAL_API_KEY=mistral-fake-$(od -An -N8 -tx1 /dev/urandom | tr -d " \n")"
    "MISTRAL_BASE_URL=http://127.0.0.1:$MOCK_OPENAI/overloaded/v1"
  )
  printf '%s\n' '"key":"team-member"' '"route":"smart"' '"model":"openai/gpt-4o-mini"' \
    >"$CASE_DIR/expect-log"
fi
if [ "$HOST" = direct ]; then
  PROXY=$MOCK_OPENAI
  [ "$CLIENT" = gemini ] && PROXY=$MOCK_GEMINI
elif [ "$HOST" = wasi ]; then
  # The options of scripts/serve-opts.sh (WASIp3 on).
  source "$ROOT/scripts/serve-opts.sh"
  args=(serve "${SERVE_OPTS[@]}" --addr "127.0.0.1:$PROXY")
  for s in "${settings[@]}"; do args+=(--env "$s"); done
  env -i HOME="$HOME" PATH="$PATH" "$WASMTIME" "${args[@]}" "$WASM_WASI" \
    >"$CASE_DIR/proxy.log" 2>&1 &
  pids+=($!)
else
  mkdir -p "$CASE_DIR/spin"
  python3 "$ROOT/tests/clients/cases.py" spin-manifest "$WASM_SPIN" $MOCK_OPENAI $MOCK_ANTHROPIC $MOCK_GEMINI \
    >"$CASE_DIR/spin/spin.toml" || exit 1
  vars=()
  for s in "${settings[@]}"; do vars+=("SPIN_VARIABLE_${s}"); done
  env -i HOME="$HOME" PATH="$PATH" "${vars[@]}" "$SPIN" up --from "$CASE_DIR/spin/spin.toml" \
    --listen "127.0.0.1:$PROXY" --runtime-config-file "$ROOT/runtime-config.toml" \
    --state-dir "$CASE_DIR/spin/.spin" >"$CASE_DIR/proxy.log" 2>&1 &
  pids+=($!)
fi
up=
for _ in $(seq 1 600); do
  [ "$HOST" = direct ] && { up=1; break; }
  if curl -s -o /dev/null -m 2 "http://127.0.0.1:$PROXY/ping"; then up=1; break; fi
  sleep 0.1
done
[ -n "$up" ] || { echo "proxy ($HOST) did not answer /ping in 60 s" >"$CASE_DIR/setup-error"; exit 1; }

# ---- optionally the recorder in front of the proxy (or of the mock)
target=$PROXY
if [ "$RECORD" = 1 ]; then
  python3 "$ROOT/tests/clients/recorder.py" --upstream "http://127.0.0.1:$PROXY" \
    --log-dir "$CASE_DIR/rec" --port-file "$CASE_DIR/rec-port" --port $RECORDER \
    2>"$CASE_DIR/recorder.log" &
  pids+=($!)
  wait_file "$CASE_DIR/rec-port" || { echo "recorder did not start" >"$CASE_DIR/setup-error"; exit 1; }
  target=$RECORDER
fi
BASE="http://127.0.0.1:$target"

# ---- the client: a throwaway HOME, no telemetry, no update checks
H="$CASE_DIR/home"
mkdir -p "$H"
common=(HOME="$H" PATH="/usr/local/bin:/usr/bin:/bin" TERM=dumb LANG=C.UTF-8
        XDG_CONFIG_HOME="$H/.config" XDG_CACHE_HOME="$H/.cache" XDG_DATA_HOME="$H/.local/share"
        XDG_STATE_HOME="$H/.local/state" NO_COLOR=1)
PROMPT="Read the file secret.txt and tell me what it says."
# TRACE=1: log every connect() the client makes (to see what it still tries).
wrap=()
[ "${TRACE:-0}" = 1 ] && wrap=(strace -f -qq -e trace=connect -o "$CASE_DIR/connect.trace")
cd "$CASE_DIR/work"

case "$CLIENT" in
claude-code)
  # Read is allowed up front (--allowedTools), so no permission prompt; as
  # root, --dangerously-skip-permissions is refused and not needed.
  timeout "$TIMEOUT" env -i "${common[@]}" \
    ANTHROPIC_BASE_URL="$BASE" ANTHROPIC_API_KEY="$PROXY_KEY" \
    ANTHROPIC_DEFAULT_HAIKU_MODEL="$MODEL" ANTHROPIC_SMALL_FAST_MODEL="$MODEL" \
    CLAUDE_CONFIG_DIR="$H/.claude" \
    DISABLE_TELEMETRY=1 DISABLE_AUTOUPDATER=1 DISABLE_ERROR_REPORTING=1 \
    DISABLE_BUG_COMMAND=1 DISABLE_GROWTHBOOK=1 CLAUDE_CODE_DISABLE_FEEDBACK_SURVEY=1 \
    CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC=1 CLAUDE_CODE_DISABLE_FEATURE_FLAGS=1 \
    "${wrap[@]}" "$CLAUDE_BIN" -p "$PROMPT" --model "$MODEL" --allowedTools Read --output-format text \
    </dev/null >"$CASE_DIR/out.txt" 2>"$CASE_DIR/err.txt"
  echo $? >"$CASE_DIR/rc"
  ;;
opencode)
  # The provider packages opencode would otherwise fetch at run time (it
  # bundles these two, so this is a fallback): the pinned copies in the cache,
  # where opencode looks ($XDG_CACHE_HOME/opencode/packages/<pkg>/node_modules).
  mkdir -p "$H/.cache/opencode"
  ln -s "$OPENCODE_DIR/packages" "$H/.cache/opencode/packages"
  # opencode installs @opencode-ai/plugin into its config folder at start
  # (in the background) unless package-lock.json already lists it: a copy
  # of the pinned install, node_modules shared.
  mkdir -p "$H/.config/opencode"
  cp "$OPENCODE_DIR/config/package.json" "$OPENCODE_DIR/config/package-lock.json" "$H/.config/opencode/"
  ln -s "$OPENCODE_DIR/config/node_modules" "$H/.config/opencode/node_modules"
  cat >"$CASE_DIR/work/opencode.json" <<EOF
{
  "\$schema": "https://opencode.ai/config.json",
  "autoupdate": false,
  "share": "disabled",
  "lsp": false,
  "formatter": false,
  "provider": {
    "llm-proxy": {
      "npm": "$EXTRA",
      "name": "llm-proxy",
      "options": { "baseURL": "$BASE/v1", "apiKey": "{env:LLM_PROXY_KEY}" },
      "models": { "$MODEL": {} }
    }
  },
  "model": "llm-proxy/$MODEL",
  "small_model": "llm-proxy/$MODEL"
}
EOF
  timeout "$TIMEOUT" env -i "${common[@]}" LLM_PROXY_KEY="$PROXY_KEY" \
    OPENCODE_DISABLE_AUTOUPDATE=1 OPENCODE_DISABLE_MODELS_FETCH=1 OPENCODE_DISABLE_LSP_DOWNLOAD=1 \
    OPENCODE_DISABLE_SHARE=1 OPENCODE_DISABLE_DEFAULT_PLUGINS=1 OPENCODE_DISABLE_CLAUDE_CODE=1 \
    OPENCODE_DISABLE_EMBEDDED_WEB_UI=1 \
    "${wrap[@]}" "$OPENCODE_BIN" run --print-logs --model "llm-proxy/$MODEL" "$PROMPT" \
    </dev/null >"$CASE_DIR/out.txt" 2>"$CASE_DIR/err.txt"
  echo $? >"$CASE_DIR/rc"
  ;;
aider)
  # aider has no tools: its own loop carries the file back. --auto-test runs
  # the failing test command after the model's edit and sends its output
  # (the secret) to the model. A fresh model-price cache (litellm's own
  # bundled copy) stops aider from downloading the price list at start.
  mkdir -p "$H/.aider/caches"
  prices=$(ls "$(dirname "$AIDER_BIN")"/../lib/python3*/site-packages/litellm/model_prices_and_context_window_backup.json 2>/dev/null | head -1)
  if [ -n "$prices" ]; then cp "$prices" "$H/.aider/caches/model_prices_and_context_window.json"
  else echo '{"llm-proxy-test": {}}' >"$H/.aider/caches/model_prices_and_context_window.json"; fi
  timeout "$TIMEOUT" env -i "${common[@]}" LITELLM_LOCAL_MODEL_COST_MAP=True \
    OPENAI_API_BASE="$BASE/v1" OPENAI_API_KEY="$PROXY_KEY" \
    "${wrap[@]}" "$AIDER_BIN" --model "openai/$MODEL" \
    --no-git --yes-always --no-check-update --analytics-disable --no-show-model-warnings \
    --no-show-release-notes --no-pretty --no-fancy-input --no-detect-urls \
    --test-cmd 'sh -c "cat secret.txt; exit 1"' --auto-test \
    --message "Append ', proxy' to the line in notes.txt." notes.txt \
    </dev/null >"$CASE_DIR/out.txt" 2>"$CASE_DIR/err.txt"
  echo $? >"$CASE_DIR/rc"
  ;;
codex)
  # Codex CLI (the native binary of the npm package), its own home: a custom
  # provider on the Responses API, key from LLM_PROXY_KEY. Besides the
  # proxy, Codex would reach GitHub and chatgpt.com at start (the curated
  # plugin marketplace: features.plugins) and ab.chatgpt.com at the end (its
  # metrics: analytics / otel exporters); --strict-config makes a key this
  # version no longer knows an error instead of a silent no-op. Approval
  # policy is `never` under `exec`; danger-full-access runs `cat` without
  # bubblewrap (the namespace is the sandbox).
  # For a model name it does not know (every provider/model name) Codex
  # uses fallback metadata: no reasoning effort, no text verbosity, no
  # apply_patch tool. EXTRA names a model of its bundled catalog whose entry
  # the case gives to $MODEL (model_catalog_json): Codex then sends what it
  # sends its own models (a `custom` apply_patch tool, tool_search, ...).
  mkdir -p "$H/.codex"
  catalog=
  if [ -n "$EXTRA" ]; then
    env -i "${common[@]}" CODEX_HOME="$H/.codex" "$CODEX_BIN" debug models >"$CASE_DIR/codex-models.json" \
      2>>"$CASE_DIR/err.txt" &&
      python3 "$ROOT/tests/clients/cases.py" codex-catalog "$CASE_DIR/codex-models.json" "$EXTRA" "$MODEL" \
        >"$H/.codex/catalog.json" ||
      { echo "no catalog entry $EXTRA in Codex's bundled catalog" >"$CASE_DIR/setup-error"; exit 1; }
    catalog="model_catalog_json = \"$H/.codex/catalog.json\""
  fi
  cat >"$H/.codex/config.toml" <<EOF
model = "$MODEL"
model_provider = "llm-proxy"
check_for_update_on_startup = false
$catalog

[model_providers.llm-proxy]
name = "llm-proxy"
base_url = "$BASE/v1"
env_key = "LLM_PROXY_KEY"
wire_api = "responses"
requires_openai_auth = false

[analytics]
enabled = false

[otel]
exporter = "none"
metrics_exporter = "none"
trace_exporter = "none"

[features]
plugins = false
EOF
  timeout "$TIMEOUT" env -i "${common[@]}" CODEX_HOME="$H/.codex" LLM_PROXY_KEY="$PROXY_KEY" \
    "${wrap[@]}" "$CODEX_BIN" exec --strict-config --skip-git-repo-check -s danger-full-access \
    --color never "Print the content of secret.txt using a shell command, then tell me what it says." \
    </dev/null >"$CASE_DIR/out.txt" 2>"$CASE_DIR/err.txt"
  echo $? >"$CASE_DIR/rc"
  ;;
gemini)
  # Gemini CLI (Node), headless (-p) with JSON output, --yolo so its shell
  # tool runs without a prompt. It talks to GOOGLE_GEMINI_BASE_URL with
  # GEMINI_API_KEY (the proxy key) in x-goog-api-key. Its user settings:
  # API-key auth (else it exits "Invalid auth method selected"), folder trust
  # off (else headless runs refuse an untrusted folder), usage statistics off
  # (else it posts them to Google's Clearcut log host, and adds an
  # x-gemini-api-privileged-user-id header), telemetry and auto-update off.
  mkdir -p "$H/.gemini"
  cat >"$H/.gemini/settings.json" <<EOF
{
  "security": {
    "auth": { "selectedType": "gemini-api-key" },
    "folderTrust": { "enabled": false }
  },
  "privacy": { "usageStatisticsEnabled": false },
  "telemetry": { "enabled": false },
  "general": { "enableAutoUpdate": false, "enableAutoUpdateNotification": false }
}
EOF
  timeout "$TIMEOUT" env -i "${common[@]}" GOOGLE_GEMINI_BASE_URL="$BASE" GEMINI_API_KEY="$PROXY_KEY" \
    "${wrap[@]}" "$NODE_BIN" "$GEMINI_JS" -p "$PROMPT" -m "$MODEL" --yolo -o json \
    </dev/null >"$CASE_DIR/out.txt" 2>"$CASE_DIR/err.txt"
  echo $? >"$CASE_DIR/rc"
  ;;
esac
exit 0
