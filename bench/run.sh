#!/usr/bin/env bash
# Benchmarks the whole proxy against a direct baseline and against each
# host's floor, in one run on one machine, all on loopback:
#   - non-streaming chat completions at concurrency 1, 32 and 128, straight to
#     a fast mock upstream ("direct"), through the floor forwarders and through
#     the proxy built both ways — WASIp3 (the default, `wasi:http/handler@0.3.0`)
#     and WASIp2 (the `p2` feature) — under `wasmtime serve` (the `wasi`
#     flavour, started as scripts/run.sh starts it) and under `spin up` (the
#     `spin` flavour, started as docs/deploy.md says: spin.toml +
#     runtime-config.toml, `source` pointed at each build) when a `spin` binary
#     is found (SPIN=..., or on PATH);
#   - the floors: bench/floor (WASIp2) and bench/floor-p3 (WASIp3), the least a
#     component can do under the same host — answer at once (no-op), or
#     forward the request to the mock and stream the answer back with no logic
#     at all (forwarder);
#   - CPU per request of each host process (utime+stime over requests);
#   - issue 18's targets in one table: the p3 proxy's req/s at 32 against both
#     floors, its added p50 at 1 and first SSE event over direct, its CPU per
#     request against the p2 proxy's, and peak RSS;
#   Everything below that (translation, large bodies, key rotation, no-op) is
#   the p3 build; the p2 build gets the chat rows, the stream probe, CPU, RSS.
#   - the Anthropic Messages API translated to the OpenAI mock (/v1/messages),
#     the Responses API (/v1/responses) and the Gemini API
#     (/v1beta/models/openai/gpt-4o-mini:generateContent, key in
#     x-goog-api-key), each next to the chat row; issue 19's targets for the
#     Gemini API in one table (added p50 over the chat row's, first event);
#   - a large Claude Code turn (the recorded one grown to LARGE_BYTES, default
#     1 MB) translated, the same turn in the Gemini API's form translated, next
#     to an OpenAI chat body of that size untranslated and through the floor
#     forwarder;
#   - under Spin: three keys with global round robin next to one key;
#   - a streaming probe (first byte, first event, total, incremental; chat,
#     Messages, Responses and Gemini's streamGenerateContent?alt=sse), and
#     peak RSS of the host processes and the component's size;
#   - the team gateway (docs/team.md; issue 20), p3, chat completions at
#     concurrency 1 and 32, each next to the plain chat row: a proxy with
#     PROXY_KEYS, MODEL_ROUTES and MODEL_PRICES set, asked (a) with the
#     all-access key, (b) with a client key with rpm and tpm (admission: one
#     increment; its tokens added at the end), (c) for a model route (two
#     targets, the first answering) — under spin up with runtime-config.toml
#     (the default store in memory) and with deploy/runtime-config.redis.toml
#     (a redis-server of its own on loopback; (a) and (b)), and under wasmtime
#     serve (no store: (a) and (c)); each row checked against /usage (Spin)
#     or the JSON log lines (wasmtime serve);
#   - with BEFORE_WASI / BEFORE_SPIN (the p3 wasi / spin components of an
#     older build, e.g. bench/before_after.sh), that build's chat row and the
#     current one's in alternating rounds (ROUNDS, default 5, of
#     ROUND_SECONDS, default 5, each) under both hosts.
# Prints markdown tables; raw output goes to bench/out/<timestamp>/.
#   bench/run.sh                  # 10 s per load run (71 runs with Spin), ~15 minutes
#   BENCH_SECONDS=30 bench/run.sh
#   TEAM_ONLY=1 bench/run.sh      # the team section and the rows it compares against (24 runs, ~5 minutes)
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
export PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"
if ! command -v wrk >/dev/null 2>&1; then
  echo "bench: installing wrk (Debian package)" >&2
  if [ "$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq wrk; else sudo apt-get install -y wrk; fi
fi
if [ -z "${SPIN:-}" ] && command -v spin >/dev/null 2>&1; then SPIN=$(command -v spin); fi

source scripts/serve-opts.sh
secs="${BENCH_SECONDS:-10}"
# TEAM_ONLY=1: only direct, the p3 floors and the p3 proxy at concurrency 1
# and 32, the team section and (with BEFORE_*) the rounds.
full() { [ -z "${TEAM_ONLY:-}" ]; }
out="bench/out/$(date -u +%Y%m%dT%H%M%SZ)"
mkdir -p "$out"

cargo build --quiet --release --examples
# Every build lands in target/component/wasm32-wasip2/release/llm_proxy.wasm:
# each is copied to its own name at once.
build_component() { # name cargo-feature-args...
  local name=$1; shift
  cargo build --quiet --release --target wasm32-wasip2 --target-dir target/component "$@"
  cp target/component/wasm32-wasip2/release/llm_proxy.wasm "target/component/llm-proxy-$name.wasm"
}
build_component wasi-p3 --no-default-features --features wasi
full && build_component wasi-p2 --no-default-features --features wasi,p2
wasm=target/component/llm-proxy-wasi-p3.wasm
wasm_p2=target/component/llm-proxy-wasi-p2.wasm
full && (cd bench/floor && cargo build --quiet --release --target wasm32-wasip2)
floor_wasm=bench/floor/target/wasm32-wasip2/release/floor.wasm
# The WASIp3 floor (issue 18's yardstick): the request handed to the upstream as is.
(cd bench/floor-p3 && cargo build --quiet --release --target wasm32-wasip2)
floor_p3_wasm=bench/floor-p3/target/wasm32-wasip2/release/floor_p3.wasm

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_up() { for _ in $(seq 1 400); do curl -fs "http://127.0.0.1:$1/$2" >/dev/null 2>&1 && return 0; sleep 0.05; done; echo "bench: :$1 did not come up" >&2; return 1; }

pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT

export MOCK_EVENTS="${MOCK_EVENTS:-10}" MOCK_GAP_MS="${MOCK_GAP_MS:-20}"
# The mock gives each connection a thread, and a connection a host keeps pooled
# holds its thread until 5 s idle. Nine host processes at concurrency 128 can
# leave several hundred such connections behind one run; with too few threads
# the next run's new connections wait for them (seen: seconds-long stalls
# after the c=128 rows with the default 256).
export MOCK_THREADS="${MOCK_THREADS:-1024}"
mock_port=$(free_port)
target/release/examples/mock-upstream "127.0.0.1:$mock_port" 2>"$out/mock.log" &
pids+=($!)
sleep 0.3
mock="http://127.0.0.1:$mock_port"

# ---------------------------------------------------------------- hosts
declare -A pid_of port_of
serve_wasmtime() { # name wasm env...
  local name=$1 w=$2; shift 2
  local port; port=$(free_port)
  local args=()
  for kv in "$@"; do args+=(--env "$kv"); done
  wasmtime serve "${SERVE_OPTS[@]}" --addr "127.0.0.1:$port" "${args[@]}" "$w" >/dev/null 2>"$out/$name.log" &
  pid_of[$name]=$!; port_of[$name]=$port; pids+=($!)
}
serve_spin() { # name manifest env-for-spin...
  local name=$1 manifest=$2; shift 2
  local port; port=$(free_port)
  env "$@" "$SPIN" up --from "$manifest" --listen "127.0.0.1:$port" \
    --runtime-config-file "${RUNTIME_CONFIG:-runtime-config.toml}" --state-dir "$out/spin-state-$name" \
    >/dev/null 2>"$out/$name.log" &
  pid_of[$name]=$!; port_of[$name]=$port; pids+=($!)
}

proxy_env=(PROXY_API_KEY=bench-proxy-key OPENAI_API_KEY=sk-bench-upstream "OPENAI_BASE_URL=$mock/v1"
           GROQ_API_KEY=gsk-bench-upstream "GROQ_BASE_URL=$mock/openai/v1")
# SERVE_OPTS (scripts/serve-opts.sh) carry `-S p3 -W component-model-async`;
# the p2 components run under the same options.
serve_wasmtime wasmtime "$wasm" "${proxy_env[@]}"
serve_wasmtime wasmtime-floor-p3 "$floor_p3_wasm" "UPSTREAM=127.0.0.1:$mock_port"
if full; then
  serve_wasmtime wasmtime-p2 "$wasm_p2" "${proxy_env[@]}"
  serve_wasmtime wasmtime-floor "$floor_wasm" "UPSTREAM=127.0.0.1:$mock_port"
  wait_up "${port_of[wasmtime-p2]}" ping
  wait_up "${port_of[wasmtime-floor]}" noop
fi
wait_up "${port_of[wasmtime]}" ping
wait_up "${port_of[wasmtime-floor-p3]}" noop

hosts=(wasmtime)
if [ -n "${SPIN:-}" ]; then
  hosts+=(spin)
  build_component spin-p3
  full && build_component spin-p2 --no-default-features --features spin,p2
  # spin.toml with `source` pointed at each build (absolute: Spin resolves it
  # from the manifest's directory); everything else as deployed.
  for v in p3 p2; do
    sed "s#^source = \"target/wasm32-wasip2/release/llm_proxy.wasm\"#source = \"$PWD/target/component/llm-proxy-spin-$v.wasm\"#" \
      spin.toml >"$out/spin-$v.toml"
    grep -q "^source = \"$PWD/target/component/llm-proxy-spin-$v.wasm\"" "$out/spin-$v.toml" ||
      { echo "bench: spin.toml's [component.llm-proxy] source line not found" >&2; exit 1; }
  done
  spin_vars=(SPIN_VARIABLE_PROXY_API_KEY=bench-proxy-key SPIN_VARIABLE_OPENAI_BASE_URL="$mock/v1"
             SPIN_VARIABLE_GROQ_API_KEY=gsk-bench-upstream SPIN_VARIABLE_GROQ_BASE_URL="$mock/openai/v1"
             SPIN_VARIABLE_EXTRA_OUTBOUND_HOST="$mock")
  serve_spin spin "$out/spin-p3.toml" "${spin_vars[@]}" SPIN_VARIABLE_OPENAI_API_KEY=sk-bench-upstream
  if full; then
    serve_spin spin-p2 "$out/spin-p2.toml" "${spin_vars[@]}" SPIN_VARIABLE_OPENAI_API_KEY=sk-bench-upstream
    # The p3 build with Spin's outbound connection pool off (docs/performance.md,
    # "WASIp3 under Spin: the request body after its head").
    { cat runtime-config.toml; printf '\n[outbound_http]\nconnection_pooling = false\n'; } >"$out/runtime-config-nopool.toml"
    RUNTIME_CONFIG="$out/runtime-config-nopool.toml" serve_spin spin-nopool "$out/spin-p3.toml" "${spin_vars[@]}" \
      SPIN_VARIABLE_OPENAI_API_KEY=sk-bench-upstream
    serve_spin spin-3keys-rr "$out/spin-p3.toml" "${spin_vars[@]}" SPIN_VARIABLE_OPENAI_API_KEY=sk-one,sk-two,sk-three \
      SPIN_VARIABLE_ENABLE_GLOBAL_ROUND_ROBIN=true
    # The floor under Spin: UPSTREAM reaches it as component environment.
    port=$(free_port)
    SPIN_VARIABLE_UPSTREAM_URL="$mock" "$SPIN" up --from bench/floor/spin.toml --listen "127.0.0.1:$port" \
      --env "UPSTREAM=127.0.0.1:$mock_port" --state-dir "$out/spin-state-floor" >/dev/null 2>"$out/spin-floor.log" &
    pid_of[spin-floor]=$!; port_of[spin-floor]=$port; pids+=($!)
  fi
  port=$(free_port)
  SPIN_VARIABLE_UPSTREAM_URL="$mock" "$SPIN" up --from bench/floor-p3/spin.toml --listen "127.0.0.1:$port" \
    --env "UPSTREAM=127.0.0.1:$mock_port" --state-dir "$out/spin-state-floor-p3" >/dev/null 2>"$out/spin-floor-p3.log" &
  pid_of[spin-floor-p3]=$!; port_of[spin-floor-p3]=$port; pids+=($!)
  wait_up "${port_of[spin-floor-p3]}" noop
  wait_up "${port_of[spin]}" ping
  if full; then
    wait_up "${port_of[spin-p2]}" ping
    wait_up "${port_of[spin-3keys-rr]}" ping
    wait_up "${port_of[spin-nopool]}" ping
    wait_up "${port_of[spin-floor]}" noop
  fi
else
  echo "bench: no spin binary (SPIN= or on PATH): Spin rows are left out" >&2
fi

# ---------------------------------------------------------------- team gateway hosts
# The same p3 builds with the team gateway's settings (docs/team.md): one
# client key with limits high enough never to refuse (so admission — one
# increment — and the end-of-request writes happen on every request), a
# model route of two targets (the first answers), prices for both. The
# route's second target is Anthropic, planned but never sent.
client_key=bench-client-key
client_sha=$(printf %s "$client_key" | sha256sum | cut -d' ' -f1)
team_settings=(
  "PROXY_KEYS=[{\"name\":\"bench-client\",\"sha256\":\"$client_sha\",\"models\":[\"openai/*\",\"smart\"],\"rpm\":100000000,\"tpm\":1000000000}]"
  'MODEL_ROUTES={"smart":["openai/gpt-4o-mini","anthropic/claude-sonnet-4-5"]}'
  'MODEL_PRICES={"openai/gpt-4o-mini":{"input":0.15,"output":0.6},"anthropic/claude-sonnet-4-5":{"input":3,"output":15}}'
  ANTHROPIC_API_KEY=sk-ant-bench-upstream "ANTHROPIC_BASE_URL=$mock")
serve_wasmtime wasmtime-team "$wasm" "${proxy_env[@]}" "${team_settings[@]}"
team_hosts=(wasmtime-team)
if [ -n "${SPIN:-}" ]; then
  spin_team=()
  for kv in "${team_settings[@]}"; do spin_team+=("SPIN_VARIABLE_$kv"); done
  # runtime-config.toml, as the chat rows: Spin's store, in memory.
  serve_spin spin-team "$out/spin-p3.toml" "${spin_vars[@]}" SPIN_VARIABLE_OPENAI_API_KEY=sk-bench-upstream "${spin_team[@]}"
  team_hosts+=(spin-team)
  if command -v redis-server >/dev/null 2>&1; then
    # A redis-server of this run's own, loopback only, nothing written to disk.
    redis_port=$(free_port)
    redis-server --port "$redis_port" --bind 127.0.0.1 --save '' --appendonly no >"$out/redis.log" 2>&1 &
    pids+=($!)
    sed "s#^url = \"redis://127.0.0.1:6379\"#url = \"redis://127.0.0.1:$redis_port\"#" deploy/runtime-config.redis.toml \
      >"$out/runtime-config-redis.toml"
    grep -q "^url = \"redis://127.0.0.1:$redis_port\"" "$out/runtime-config-redis.toml" ||
      { echo "bench: deploy/runtime-config.redis.toml's url line not found" >&2; exit 1; }
    for _ in $(seq 1 100); do redis-cli -p "$redis_port" ping >/dev/null 2>&1 && break; sleep 0.05; done
    RUNTIME_CONFIG="$out/runtime-config-redis.toml" serve_spin spin-team-redis "$out/spin-p3.toml" "${spin_vars[@]}" \
      SPIN_VARIABLE_OPENAI_API_KEY=sk-bench-upstream "${spin_team[@]}"
    team_hosts+=(spin-team-redis)
  else
    echo "bench: no redis-server: the Redis rows are left out" >&2
  fi
fi
# An older build's p3 components (BEFORE_WASI, BEFORE_SPIN), for the rounds.
before_hosts=()
if [ -n "${BEFORE_WASI:-}" ]; then
  serve_wasmtime wasmtime-before "$BEFORE_WASI" "${proxy_env[@]}"
  before_hosts+=(wasmtime)
fi
if [ -n "${BEFORE_SPIN:-}" ] && [ -n "${SPIN:-}" ]; then
  sed "s#^source = \"target/wasm32-wasip2/release/llm_proxy.wasm\"#source = \"$(realpath "$BEFORE_SPIN")\"#" spin.toml >"$out/spin-before.toml"
  serve_spin spin-before "$out/spin-before.toml" "${spin_vars[@]}" SPIN_VARIABLE_OPENAI_API_KEY=sk-bench-upstream
  # The older build with the team settings: its client-key row (rpm + tpm)
  # against this build's, in the rounds.
  serve_spin spin-before-team "$out/spin-before.toml" "${spin_vars[@]}" SPIN_VARIABLE_OPENAI_API_KEY=sk-bench-upstream "${spin_team[@]}"
  before_hosts+=(spin)
fi
for n in "${team_hosts[@]}"; do wait_up "${port_of[$n]}" ping; done
for h in "${before_hosts[@]}"; do wait_up "${port_of[$h-before]}" ping; done
[ -n "${pid_of[spin-before-team]:-}" ] && wait_up "${port_of[spin-before-team]}" ping

# ---------------------------------------------------------------- load
to_ms() { awk '{v=$1; if (v ~ /us$/) {sub(/us$/,"",v); v/=1000} else if (v ~ /ms$/) {sub(/ms$/,"",v)} else if (v ~ /s$/) {sub(/s$/,"",v); v*=1000}; printf "%.3f", v}'; }
# CPU ticks (utime+stime) of a process and its descendants.
cpu_ticks() {
  local total=0 p
  for p in $1 $(pgrep -P "$1" 2>/dev/null || true); do
    [ -r "/proc/$p/stat" ] && total=$((total + $(awk '{print $14 + $15}' "/proc/$p/stat")))
  done
  echo "$total"
}
tick_ms=$(awk -v hz="$(getconf CLK_TCK)" 'BEGIN { print 1000 / hz }')
declare -A res
load() { # key port path conc script pid → res[key]="p50 p99 rps cpu_ms_per_req"
  local key=$1 port=$2 path=$3 c=$4 script=$5 pid=${6:-}
  local t=$(( c < 2 ? 1 : 2 )) raw="$out/wrk-${key//[^A-Za-z0-9_.-]/_}.txt"
  local before=0 after=0
  [ -n "$pid" ] && before=$(cpu_ticks "$pid")
  wrk -t"$t" -c"$c" -d"${secs}s" --latency -s "$script" "http://127.0.0.1:$port$path" >"$raw" 2>&1
  [ -n "$pid" ] && after=$(cpu_ticks "$pid")
  local p50 p99 rps n errs cpu="-"
  p50=$(awk '$1=="50%"{print $2}' "$raw" | to_ms)
  p99=$(awk '$1=="99%"{print $2}' "$raw" | to_ms)
  rps=$(awk '/^Requests\/sec:/{printf "%.0f", $2}' "$raw")
  n=$(awk '/requests in/{print $1}' "$raw")
  errs=$(awk '/Non-2xx|Socket errors/' "$raw" | tr '\n' ' ')
  [ -z "$errs" ] || echo "bench: $key: $errs" >&2
  [ -n "$pid" ] && cpu=$(awk -v d=$((after - before)) -v n="$n" -v ms="$tick_ms" 'BEGIN { printf "%.3f", d * ms / n }')
  res[$key]="$p50 $p99 $rps $cpu"
}

# Warm up (compilation cache, pooling slots).
for h in "${hosts[@]}"; do
  for n in "$h" "$h-p2" "$h-floor" "$h-floor-p3" "$h-team" "$h-team-redis" "$h-before"; do
    [ -n "${port_of[$n]:-}" ] || continue
    wrk -t2 -c32 -d2s -s bench/post.lua "http://127.0.0.1:${port_of[$n]}/v1/chat/completions" >/dev/null 2>&1 || true
  done
done

concs=(1 32 128)
full || concs=(1 32)
for c in "${concs[@]}"; do
  load "direct,$c" "$mock_port" /v1/chat/completions "$c" bench/post.lua
  for h in "${hosts[@]}"; do
    full && load "$h-floor,$c" "${port_of[$h-floor]}" /v1/chat/completions "$c" bench/post.lua "${pid_of[$h-floor]}"
    load "$h-floor-p3,$c" "${port_of[$h-floor-p3]}" /v1/chat/completions "$c" bench/post.lua "${pid_of[$h-floor-p3]}"
    load "$h,$c" "${port_of[$h]}" /v1/chat/completions "$c" bench/post.lua "${pid_of[$h]}"
    full && load "$h-p2,$c" "${port_of[$h-p2]}" /v1/chat/completions "$c" bench/post.lua "${pid_of[$h-p2]}"
  done
done
if full; then
# Peak RSS so far: every process has served the same chat rows, nothing more
# (the p3 proxy goes on to the large bodies, which would lift its peak alone).
rss() { # peak RSS in MB of a process and its children (their peaks summed)
  local total=0 p
  for p in $1 $(pgrep -P "$1" 2>/dev/null || true); do
    [ -r "/proc/$p/status" ] && total=$((total + $(awk '/VmHWM/{print $2}' "/proc/$p/status")))
  done
  echo $((total / 1024))
}
declare -A rss_chat
for h in "${hosts[@]}"; do
  for n in "$h" "$h-p2" "$h-floor" "$h-floor-p3"; do rss_chat[$n]=$(rss "${pid_of[$n]}"); done
done
gemini_path=/v1beta/models/openai/gpt-4o-mini
for c in 1 32; do
  for h in "${hosts[@]}"; do
    load "$h-messages,$c" "${port_of[$h]}" /v1/messages "$c" bench/messages.lua "${pid_of[$h]}"
    load "$h-responses,$c" "${port_of[$h]}" /v1/responses "$c" bench/responses.lua "${pid_of[$h]}"
    load "$h-gemini,$c" "${port_of[$h]}" "$gemini_path:generateContent" "$c" bench/gemini.lua "${pid_of[$h]}"
    load "$h-floor-noop,$c" "${port_of[$h-floor]}" /noop "$c" /dev/null "${pid_of[$h-floor]}"
    load "$h-ping,$c" "${port_of[$h]}" /ping "$c" /dev/null "${pid_of[$h]}"
  done
done
large=${LARGE_BYTES:-1048576}
python3 bench/large_bodies.py "$out" "$large"
for h in "${hosts[@]}"; do
  BODY_FILE="$out/large-chat.json" load "$h-floor-large,1" "${port_of[$h-floor]}" /v1/chat/completions 1 bench/body.lua "${pid_of[$h-floor]}"
  BODY_FILE="$out/large-chat.json" load "$h-large-chat,1" "${port_of[$h]}" /v1/chat/completions 1 bench/body.lua "${pid_of[$h]}"
  BODY_FILE="$out/large-messages.json" load "$h-large-messages,1" "${port_of[$h]}" /v1/messages 1 bench/body.lua "${pid_of[$h]}"
  BODY_FILE="$out/large-gemini.json" KEY_HEADER=x-goog-api-key \
    load "$h-large-gemini,1" "${port_of[$h]}" "$gemini_path:generateContent" 1 bench/body.lua "${pid_of[$h]}"
done
BODY_FILE="$out/large-chat.json" load "direct-large,1" "$mock_port" /v1/chat/completions 1 bench/body.lua
if [ -n "${SPIN:-}" ]; then
  load "spin-3keys-rr,32" "${port_of[spin-3keys-rr]}" /v1/chat/completions 32 bench/post.lua "${pid_of[spin-3keys-rr]}"
  for c in 1 32; do
    load "spin-nopool,$c" "${port_of[spin-nopool]}" /v1/chat/completions "$c" bench/post.lua "${pid_of[spin-nopool]}"
  done
fi

probe() { # port path body [key] → 5 JSON lines
  for _ in 1 2 3 4 5; do target/release/examples/stream-probe "127.0.0.1:$1" "$2" "$3" ${4:-}; done
}
chat_stream='{"model":"openai/gpt-4o-mini","stream":true,"messages":[{"role":"user","content":"hi"}]}'
messages_stream='{"model":"openai/gpt-4o-mini","max_tokens":100,"stream":true,"messages":[{"role":"user","content":"hi"}]}'
responses_stream='{"model":"groq/llama-3.3-70b","stream":true,"store":false,"input":"hi"}'
gemini_stream='{"contents":[{"role":"user","parts":[{"text":"hi"}]}]}'
probe "$mock_port" /v1/chat/completions "$chat_stream" >"$out/stream-direct.jsonl"
for h in "${hosts[@]}"; do
  probe "${port_of[$h]}" /v1/chat/completions "$chat_stream" bench-proxy-key >"$out/stream-$h.jsonl"
  probe "${port_of[$h]}" /v1/messages "$messages_stream" bench-proxy-key >"$out/stream-$h-messages.jsonl"
  probe "${port_of[$h]}" /v1/responses "$responses_stream" bench-proxy-key >"$out/stream-$h-responses.jsonl"
  probe "${port_of[$h]}" "$gemini_path:streamGenerateContent?alt=sse" "$gemini_stream" x-goog-api-key:bench-proxy-key \
    >"$out/stream-$h-gemini.jsonl"
  probe "${port_of[$h-floor]}" /v1/chat/completions "$chat_stream" >"$out/stream-$h-floor.jsonl"
  probe "${port_of[$h-floor-p3]}" /v1/chat/completions "$chat_stream" >"$out/stream-$h-floor-p3.jsonl"
  probe "${port_of[$h-p2]}" /v1/chat/completions "$chat_stream" bench-proxy-key >"$out/stream-$h-p2.jsonl"
done
fi # full

# ---------------------------------------------------------------- team gateway rows
# What was counted for a usage name so far, "requests input_tokens": today's
# counters from GET /usage (Spin), or the JSON log lines (wasmtime serve).
usage_now() { # instance usage-name
  if [[ $1 == wasmtime* ]]; then
    python3 -c '
import json, sys
n = t = 0
for l in open(sys.argv[1], errors="replace"):
    if "\"event\":\"request\"" in l:
        try: v = json.loads(l[l.index("{"):])
        except ValueError: continue
        if v.get("key") == sys.argv[2]: n += 1; t += v.get("input_tokens") or 0
print(n, t)' "$out/$1.log" "$2"
  else
    curl -fs -H "Authorization: Bearer bench-proxy-key" "http://127.0.0.1:${port_of[$1]}/usage" | python3 -c '
import json, sys
k = [k["today"] for k in json.load(sys.stdin)["keys"] if k["name"] == sys.argv[1]]
print(k[0]["requests"], k[0]["input_tokens"]) if k else print(0, 0)' "$2"
  fi
}
declare -A check redis_ops
# Redis' own count of the commands a row sent (the Redis rows), per request.
redis_calls() { # → "INCRBY n GET n ..."
  redis-cli -p "$redis_port" INFO commandstats | tr -d '\r' |
    awk -F'[_:=,]' '/^cmdstat_/ { printf "%s %s ", toupper($2), $4 }'
}
team_load() { # key instance conc proxy-key model usage-name
  local u0 u1 n
  u0=$(usage_now "$2" "$6")
  [[ $2 == *-redis ]] && redis-cli -p "$redis_port" CONFIG RESETSTAT >/dev/null
  TEAM_KEY=$4 TEAM_MODEL=$5 load "$1" "${port_of[$2]}" /v1/chat/completions "$3" bench/team.lua "${pid_of[$2]}"
  sleep 1 # the last requests' end-of-request writes
  n=$(awk '/requests in/{print $1}' "$out/wrk-${1//[^A-Za-z0-9_.-]/_}.txt")
  [[ $2 == *-redis ]] && redis_ops[$1]=$(redis_calls | awk -v n="$n" '{ for (i = 1; i < NF; i += 2) if ($i !~ /^CONFIG/) printf "%s%s %.2f", (i > 1 ? ", " : ""), $i, $(i+1)/n }')
  u1=$(usage_now "$2" "$6")
  check[$1]="$n $u0 $u1"
}
for n in "${team_hosts[@]}"; do
  # The route answered by its first target: its headers, once.
  curl -s -D - -o /dev/null -H "Authorization: Bearer bench-proxy-key" -H "Content-Type: application/json" \
    -d '{"model":"smart","messages":[{"role":"user","content":"hi"}]}' \
    "http://127.0.0.1:${port_of[$n]}/v1/chat/completions" >"$out/route-headers-$n.txt"
done
for c in 1 32; do
  for n in "${team_hosts[@]}"; do
    team_load "$n-a,$c" "$n" "$c" bench-proxy-key openai/gpt-4o-mini all-access
    [[ $n == wasmtime* ]] || team_load "$n-b,$c" "$n" "$c" "$client_key" openai/gpt-4o-mini bench-client
    [[ $n == *-redis ]] || team_load "$n-c,$c" "$n" "$c" bench-proxy-key smart all-access
  done
done
[ -n "${redis_port:-}" ] && redis-cli -p "$redis_port" --scan --pattern 'llm-proxy/*' | sort >"$out/redis-keys.txt"

# ---------------------------------------------------------------- rounds: an older build
# The older build's chat row and this build's (plain, and with the team
# settings, all-access key) in alternating rounds, each round with its own
# direct and floor rows; the order reversed every other round.
if [ ${#before_hosts[@]} -gt 0 ]; then
  saved_secs=$secs
  secs=${ROUND_SECONDS:-5}
  : >"$out/rounds.tsv"
  for r in $(seq 1 "${ROUNDS:-5}"); do
    for c in 1 32; do
      load "r$r-direct,$c" "$mock_port" /v1/chat/completions "$c" bench/post.lua
      echo "$r $c - direct ${res[r$r-direct,$c]}" >>"$out/rounds.tsv"
      for h in "${before_hosts[@]}"; do
        order=("$h-floor-p3:floor" "$h-before:before" "$h:after" "$h-team:after-team")
        (( r % 2 == 0 )) && order=("$h-team:after-team" "$h:after" "$h-before:before" "$h-floor-p3:floor")
        # Under Spin, the client key with limits too (row (b)): the older
        # build's and this one's.
        if [ -n "${pid_of[$h-before-team]:-}" ]; then
          if (( r % 2 == 0 )); then
            order=("$h-team:after-client" "$h-before-team:before-client" "${order[@]}")
          else
            order+=("$h-before-team:before-client" "$h-team:after-client")
          fi
        fi
        for o in "${order[@]}"; do
          key=bench-proxy-key
          [[ $o == *-client ]] && key=$client_key
          TEAM_KEY=$key load "r$r-$h-${o#*:},$c" "${port_of[${o%%:*}]}" /v1/chat/completions "$c" bench/team.lua "${pid_of[${o%%:*}]}"
          echo "$r $c $h ${o#*:} ${res[r$r-$h-${o#*:},$c]}" >>"$out/rounds.tsv"
        done
      done
    done
  done
  secs=$saved_secs
fi
median() { python3 -c "import json,sys,statistics as s; r=[json.loads(l) for l in open('$1')]; print('%.2f %.2f %.2f %s' % (s.median(x['ttfb_ms'] for x in r), s.median(x['first_event_ms'] for x in r), s.median(x['total_ms'] for x in r), all(x['incremental'] for x in r)))"; }
size_of() { [ -f "target/component/llm-proxy-$1.wasm" ] && stat -c %s "target/component/llm-proxy-$1.wasm" || echo "-"; }

# ---------------------------------------------------------------- report
# The team section's tables (and the rounds', when they ran).
host_name() { case $1 in wasmtime*) echo "wasmtime serve" ;; *) echo "spin up" ;; esac; }
store_name() {
  case $1 in
    wasmtime*) echo "none" ;;
    *-redis) echo "Redis (deploy/runtime-config.redis.toml)" ;;
    *) echo "Spin's, in memory (runtime-config.toml)" ;;
  esac
}
trow() { # conc host store request key chat-key floor-key
  local p50 p99 rps cpu cp50 crps ccpu dp50 frps n=0 r0=0 t0=0 r1=0 t1=0
  read -r p50 p99 rps cpu <<<"${res[$5]}"
  read -r cp50 _ crps ccpu <<<"${res[$6]}"
  read -r _ _ frps _ <<<"${res[$7]}"
  read -r dp50 _ _ _ <<<"${res[direct,$1]}"
  [ -n "${check[$5]:-}" ] && read -r n r0 t0 r1 t1 <<<"${check[$5]}"
  awk -v c="$1" -v h="$2" -v st="$3" -v q="$4" -v p50="$p50" -v p99="$p99" -v rps="$rps" -v cpu="$cpu" -v cp50="$cp50" -v crps="$crps" \
      -v ccpu="$ccpu" -v dp50="$dp50" -v frps="$frps" -v same="$([ "$5" = "$6" ] && echo 1)" -v n="$n" -v dr=$((r1 - r0)) -v dt=$((t1 - t0)) \
      -v chk="${check[$5]:+1}" -v nofloor="$([ "$5" = "$7" ] && echo 1)" \
    'BEGIN { vs = same ? "" : sprintf("%+.0f %%", 100*((p50-dp50)/(cp50-dp50)-1));
             rv = same ? "" : sprintf("%.0f %%", 100*rps/crps);
             cv = (same || cpu == "-" || ccpu == "-") ? "" : sprintf("%.2f×", cpu/ccpu);
             fv = nofloor ? "" : sprintf("%.0f %%", 100*rps/frps);
             counted = chk ? sprintf("%d of %d (input tokens %d = 9 × %d)", dr, n, dt, dt/9) : "";
             printf "| %d | %s | %s | %s | %.3f | %.3f | %d | %+.3f | %s | %s | %s | %s | %s | %s |\n",
               c, h, st, q, p50, p99, rps, p50-dp50, vs, rv, cpu, cv, fv, counted }'
}
team_report() {
  echo
  echo "The team gateway (docs/team.md), p3, non-streaming chat completions, beside the plain chat row of this run (the same build with PROXY_API_KEY and one provider key only; under spin up with runtime-config.toml, so its all-access requests are counted in the store too). The team instances also have PROXY_KEYS (one client key, rpm 100000000, tpm 1000000000, models openai/* and smart), MODEL_ROUTES (smart: openai/gpt-4o-mini, then anthropic/claude-sonnet-4-5) and MODEL_PRICES. (a) the all-access key, (b) the client key (admission: one increment; at the end its usage counters and its minute's tokens), (c) the model route smart (its first target answers). \"counted\": what the instance counted for the key during the row (spin up: GET /usage, today's requests; wasmtime serve: JSON log lines) against wrk's completed requests; the mock's answer has 9 input tokens."
  echo
  echo "| conc | host | store | request | p50 ms | p99 ms | req/s | added p50 ms | added p50 vs chat row | req/s vs chat row | CPU ms/req | CPU vs chat row | req/s vs p3 floor | counted of wrk's requests |"
  echo "| ---: | --- | --- | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |"
  local c n h
  for c in 1 32; do
    trow "$c" — — "direct" "direct,$c" "direct,$c" "direct,$c"
    for n in "${team_hosts[@]}"; do
      h=${n%%-*}
      if [ "$n" = "$h-team" ]; then
        trow "$c" "$(host_name "$h")" — "floor-forwarder (p3)" "$h-floor-p3,$c" "$h-floor-p3,$c" "$h-floor-p3,$c"
        trow "$c" "$(host_name "$h")" "$(store_name "$h")" "plain chat row (all-access key)" "$h,$c" "$h,$c" "$h-floor-p3,$c"
      fi
      [ -n "${res[$n-a,$c]:-}" ] && trow "$c" "$(host_name "$h")" "$(store_name "$n")" "(a) all-access key" "$n-a,$c" "$h,$c" "$h-floor-p3,$c"
      [ -n "${res[$n-b,$c]:-}" ] && trow "$c" "$(host_name "$h")" "$(store_name "$n")" "(b) client key, rpm + tpm" "$n-b,$c" "$h,$c" "$h-floor-p3,$c"
      [ -n "${res[$n-c,$c]:-}" ] && trow "$c" "$(host_name "$h")" "$(store_name "$n")" "(c) route smart" "$n-c,$c" "$h,$c" "$h-floor-p3,$c"
    done
  done
  echo
  for n in "${team_hosts[@]}"; do
    echo "Route headers ($n): $(grep -i '^x-llm-proxy-\(route\|attempts\)' "$out/route-headers-$n.txt" | tr -d '\r' | tr '\n' ' ')"
  done
  [ -s "$out/redis-keys.txt" ] && echo "Redis after the rows: $(wc -l <"$out/redis-keys.txt") keys under llm-proxy/ ($out/redis-keys.txt)."
  for k in "${!redis_ops[@]}"; do echo "Redis commands per wrk request, row $k: ${redis_ops[$k]}."; done | sort
  [ -s "$out/rounds.tsv" ] || return 0
  echo
  echo "An older build (BEFORE_WASI=${BEFORE_WASI:-—}, BEFORE_SPIN=${BEFORE_SPIN:-—}) against this one, chat completions, ${ROUNDS:-5} alternating rounds of ${ROUND_SECONDS:-5} s (direct, the p3 floor, before, after, after with the team settings; the order reversed every other round). Medians over the rounds; added p50 is each round's p50 minus that round's direct p50; \"paired\" is the median of the rounds' after ÷ before. \"after + team\" is the team instance asked with the all-access key (row (a) above):"
  echo
  python3 - "$out/rounds.tsv" <<'PY'
import statistics as st, sys
rows = [l.split() for l in open(sys.argv[1]) if l.strip()]
direct = {(r[0], r[1]): float(r[4]) for r in rows if r[3] == "direct"}
get = lambda h, c, v, i: [(r[0], float(r[4 + i]) if r[4 + i] != "-" else None) for r in rows if r[2] == h and r[1] == c and r[3] == v]
print("| host | conc | direct p50 ms | floor p3 added p50 | before added p50 | after added p50 | after ÷ before | paired | after + team added p50 | ÷ before | paired | CPU ms/req before / after / after + team | req/s before / after / after + team |")
print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
for h in dict.fromkeys(r[2] for r in rows if r[2] != "-"):
    for c in ("1", "32"):
        added = {v: {rd: p - direct[(rd, c)] for rd, p in get(h, c, v, 0)} for v in ("floor", "before", "after", "after-team")}
        med = {v: st.median(a.values()) for v, a in added.items()}
        paired = lambda v: st.median(added[v][rd] / added["before"][rd] for rd in added[v])
        cpu = {v: st.median(x for _, x in get(h, c, v, 3) if x is not None) for v in ("before", "after", "after-team")}
        rps = {v: st.median(x for _, x in get(h, c, v, 2)) for v in ("before", "after", "after-team")}
        dp = st.median(p for (rd, cc), p in direct.items() if cc == c)
        name = "wasmtime serve" if h == "wasmtime" else "spin up"
        print(f"| {name} | {c} | {dp:.3f} | {med['floor']:+.3f} | {med['before']:+.3f} | {med['after']:+.3f} | **{med['after'] / med['before']:.2f}×** | {paired('after'):.2f}× "
              f"| {med['after-team']:+.3f} | {med['after-team'] / med['before']:.2f}× | {paired('after-team'):.2f}× "
              f"| {cpu['before']:.3f} / {cpu['after']:.3f} / {cpu['after-team']:.3f} | {rps['before']:.0f} / {rps['after']:.0f} / {rps['after-team']:.0f} |")
clients = [h for h in dict.fromkeys(r[2] for r in rows if r[3] == "before-client")]
if clients:
    print()
    print("The client key with limits (row (b): rpm + tpm, its tokens reserved at admission and settled at the end in this build; counted after the fact in the older one), the same rounds:")
    print()
    print("| host | conc | before added p50 | after added p50 | after ÷ before | paired | CPU ms/req before / after | ÷ | req/s before / after | ÷ |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
for h in clients:
    for c in ("1", "32"):
        added = {v: {rd: p - direct[(rd, c)] for rd, p in get(h, c, v, 0)} for v in ("before-client", "after-client")}
        med = {v: st.median(a.values()) for v, a in added.items()}
        paired = st.median(added["after-client"][rd] / added["before-client"][rd] for rd in added["after-client"])
        cpu = {v: st.median(x for _, x in get(h, c, v, 3) if x is not None) for v in ("before-client", "after-client")}
        rps = {v: st.median(x for _, x in get(h, c, v, 2)) for v in ("before-client", "after-client")}
        print(f"| spin up | {c} | {med['before-client']:+.3f} | {med['after-client']:+.3f} | **{med['after-client'] / med['before-client']:.2f}×** | {paired:.2f}× "
              f"| {cpu['before-client']:.3f} / {cpu['after-client']:.3f} | {cpu['after-client'] / cpu['before-client']:.2f}× "
              f"| {rps['before-client']:.0f} / {rps['after-client']:.0f} | {rps['after-client'] / rps['before-client']:.2f}× |")
PY
}
row() { # conc label key direct-key floor-key
  read -r p50 p99 rps cpu <<<"${res[$3]}"
  read -r dp50 dp99 drps _ <<<"${res[$4]}"
  local frps="" fcpu=""
  [ -n "${5:-}" ] && read -r _ _ frps fcpu <<<"${res[$5]}"
  awk -v c="$1" -v n="$2" -v p50="$p50" -v p99="$p99" -v rps="$rps" -v cpu="$cpu" -v dp50="$dp50" -v drps="$drps" -v frps="$frps" -v fcpu="$fcpu" \
    'BEGIN { share = (frps == "" ? "" : sprintf("%.0f %%", 100*rps/frps)); cr = (fcpu == "" || fcpu == "-" || cpu == "-" ? "" : sprintf("%.2f×", cpu/fcpu));
             printf "| %d | %s | %.3f | %.3f | %d | %+.3f | %.1f %% | %s | %s | %s |\n", c, n, p50, p99, rps, p50-dp50, 100*rps/drps, cpu, share, cr }'
}
{
if full; then
  echo "## llm-proxy benchmark — $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores, ${secs}s per run"
  echo
  echo "Hosts: wasmtime serve $(wasmtime --version | awk '{print $2}')${SPIN:+, spin up ($("$SPIN" --version | awk '{print $2}'))}. Non-streaming chat completions (POST /v1/chat/completions, ~200 B request, ~300 B answer):"
  echo
  echo "| conc | target | p50 ms | p99 ms | req/s | added p50 ms | req/s vs direct | CPU ms/req | req/s vs its floor | CPU vs its floor |"
  echo "| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
  for c in 1 32 128; do
    row "$c" direct "direct,$c" "direct,$c"
    for h in "${hosts[@]}"; do
      row "$c" "$h floor-forwarder (p2)" "$h-floor,$c" "direct,$c"
      row "$c" "$h llm-proxy (p2)" "$h-p2,$c" "direct,$c" "$h-floor,$c"
      row "$c" "$h floor-forwarder (p3)" "$h-floor-p3,$c" "direct,$c"
      row "$c" "$h llm-proxy (p3)" "$h,$c" "direct,$c" "$h-floor-p3,$c"
    done
  done
  echo
  echo "\`floor-forwarder (p2)\` is bench/floor under the same host: the least a component can do to proxy (one outbound request, both bodies streamed; no auth, no routing, no settings, no logging). \`floor-forwarder (p3)\` is bench/floor-p3: the same job as a \`wasi:http@0.3.0\` component (instances reused), the incoming request handed to the upstream as is — issue 18's yardstick. \`llm-proxy (p3)\` is the default build, \`llm-proxy (p2)\` the \`p2\` feature's; \"its floor\" is the floor of the same WASI version (p3 proxy vs p3 floor, p2 proxy vs p2 floor)."
  echo
  echo "Issue 18's targets — the p3 proxy against the floors, direct and the p2 proxy (chat completions; RSS is each process's peak after the chat rows above, before anything else ran):"
  echo
  echo "| host | p3 req/s @32 | vs p2 floor @32 | vs p3 floor @32 | added p50 @1 ms, p3 (p2) | first event vs direct ms, p3 (p2) | CPU ms/req @32, p3 / p2 | CPU p3 ÷ p2 | peak RSS MB, p3 / p2 (floors p3 / p2) |"
  echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
  read -r _ sd_first _ _ <<<"$(median "$out/stream-direct.jsonl")"
  for h in "${hosts[@]}"; do
    read -r _ _ rps cpu <<<"${res[$h,32]}"
    read -r _ _ _ cpu2 <<<"${res[$h-p2,32]}"
    read -r _ _ frps2 _ <<<"${res[$h-floor,32]}"
    read -r _ _ frps3 _ <<<"${res[$h-floor-p3,32]}"
    read -r p50 _ _ _ <<<"${res[$h,1]}"
    read -r p50_2 _ _ _ <<<"${res[$h-p2,1]}"
    read -r dp50 _ _ _ <<<"${res[direct,1]}"
    read -r _ first _ _ <<<"$(median "$out/stream-$h.jsonl")"
    read -r _ first2 _ _ <<<"$(median "$out/stream-$h-p2.jsonl")"
    awk -v h="$h" -v rps="$rps" -v f2="$frps2" -v f3="$frps3" -v p50="$p50" -v p50_2="$p50_2" -v dp50="$dp50" \
        -v first="$first" -v first2="$first2" -v d="$sd_first" -v cpu="$cpu" -v cpu2="$cpu2" \
        -v rss="${rss_chat[$h]}" -v rss2="${rss_chat[$h-p2]}" -v frss3="${rss_chat[$h-floor-p3]}" -v frss2="${rss_chat[$h-floor]}" \
      'BEGIN { printf "| %s | %d | %.0f %% | %.0f %% | %+.3f (%+.3f) | %+.2f (%+.2f) | %s / %s | %.2f× | %s / %s (%s / %s) |\n",
               h, rps, (f2 > 0 ? 100*rps/f2 : 0), (f3 > 0 ? 100*rps/f3 : 0), p50-dp50, p50_2-dp50, first-d, first2-d, cpu, cpu2, (cpu2 > 0 ? cpu/cpu2 : 0), rss, rss2, frss3, frss2 }'
  done
  echo
  echo "${SPIN:+Under Spin, RSS is the sum of the \`spin up\` process's and its children's peaks, and CPU includes them. }Below, every llm-proxy row is the p3 build."
  echo
  echo "Client dialects translated to the OpenAI mock: the Anthropic Messages API (POST /v1/messages, model openai/gpt-4o-mini), the OpenAI Responses API (POST /v1/responses, model groq/llama-3.3-70b, translated to chat completions) and the Gemini API (POST $gemini_path:generateContent, the key in x-goog-api-key, translated to chat completions), next to the chat row:"
  echo
  echo "| conc | target | p50 ms | p99 ms | req/s | added p50 ms | req/s vs direct | CPU ms/req | req/s vs chat row | translation's share of added p50 |"
  echo "| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
  for c in 1 32; do
    for h in "${hosts[@]}"; do
      for r in messages:/v1/messages responses:/v1/responses gemini:"$gemini_path:generateContent"; do
        route=${r%%:*}
        read -r p50 p99 rps cpu <<<"${res[$h-$route,$c]}"
        read -r cp50 _ crps _ <<<"${res[$h,$c]}"
        read -r dp50 _ drps _ <<<"${res[direct,$c]}"
        awk -v c="$c" -v n="$h llm-proxy (p3) ${r#*:}" -v p50="$p50" -v p99="$p99" -v rps="$rps" -v cpu="$cpu" -v dp50="$dp50" -v drps="$drps" -v cp50="$cp50" -v crps="$crps" \
          'BEGIN { printf "| %d | %s | %.3f | %.3f | %d | %+.3f | %.1f %% | %s | %.0f %% | %+.0f %% |\n", c, n, p50, p99, rps, p50-dp50, 100*rps/drps, cpu, 100*rps/crps, 100*((p50-dp50)/(cp50-dp50)-1) }'
      done
    done
  done
  echo
  echo "Issue 19's targets — the Gemini API (p3) against the chat row of this run (limit: added p50 at most 15 % over the chat row's) and against the upstream (limit: first streamed event within 1 ms of the mock's, straight to it):"
  echo
  echo "| host | req/s @1 / @32 | vs chat row @1 / @32 | added p50 @1 ms, Gemini (chat) | over chat's @1 | added p50 @32 ms, Gemini (chat) | over chat's @32 | first event vs direct ms, Gemini (chat) | limits met |"
  echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |"
  read -r _ sd_first _ _ <<<"$(median "$out/stream-direct.jsonl")"
  for h in "${hosts[@]}"; do
    read -r g1 _ gr1 _ <<<"${res[$h-gemini,1]}"
    read -r g32 _ gr32 _ <<<"${res[$h-gemini,32]}"
    read -r c1 _ cr1 _ <<<"${res[$h,1]}"
    read -r c32 _ cr32 _ <<<"${res[$h,32]}"
    read -r d1 _ _ _ <<<"${res[direct,1]}"
    read -r d32 _ _ _ <<<"${res[direct,32]}"
    read -r _ gfirst _ _ <<<"$(median "$out/stream-$h-gemini.jsonl")"
    read -r _ cfirst _ _ <<<"$(median "$out/stream-$h.jsonl")"
    awk -v h="$h" -v g1="$g1" -v g32="$g32" -v gr1="$gr1" -v gr32="$gr32" -v c1="$c1" -v c32="$c32" -v cr1="$cr1" -v cr32="$cr32" \
        -v d1="$d1" -v d32="$d32" -v gf="$gfirst" -v cf="$cfirst" -v d="$sd_first" \
      'BEGIN { o1 = 100*((g1-d1)/(c1-d1)-1); o32 = 100*((g32-d32)/(c32-d32)-1); fe = gf-d;
               ok = (o1 <= 15 && o32 <= 15 && fe <= 1) ? "yes" : "no";
               printf "| %s | %d / %d | %.0f %% / %.0f %% | %+.3f (%+.3f) | %+.0f %% | %+.3f (%+.3f) | %+.0f %% | %+.2f (%+.2f) | %s |\n",
               h, gr1, gr32, 100*gr1/cr1, 100*gr32/cr32, g1-d1, c1-d1, o1, g32-d32, c32-d32, o32, fe, cf-d, ok }'
  done
  echo
  echo "A large request, concurrency 1: Claude Code's recorded tool-result turn grown to ~$((large / 1024)) KB (its middle turns repeated; not streamed), translated to the OpenAI mock, as Claude Code sends it and in the Gemini API's form (the same conversation as a generateContent body), next to opencode's recorded chat turn grown to the same size (untranslated, and through the host's floor forwarder):"
  echo
  echo "| host | target | p50 ms | p99 ms | req/s | CPU ms/req | p50 vs floor forwarder |"
  echo "| --- | --- | ---: | ---: | ---: | ---: | ---: |"
  read -r a b r cpu <<<"${res[direct-large,1]}"; echo "| — | direct to the mock | $a | $b | $r | $cpu | |"
  for h in "${hosts[@]}"; do
    read -r fp50 _ _ _ <<<"${res[$h-floor-large,1]}"
    for k in floor-large:"floor-forwarder (p2)" large-chat:"llm-proxy (p3) /v1/chat/completions" large-messages:"llm-proxy (p3) /v1/messages (translated)" \
             large-gemini:"llm-proxy (p3) :generateContent (translated)"; do
      read -r a b r cpu <<<"${res[$h-${k%%:*},1]}"
      awk -v h="$h" -v n="${k#*:}" -v a="$a" -v b="$b" -v r="$r" -v cpu="$cpu" -v f="$fp50" \
        'BEGIN { printf "| %s | %s | %s | %s | %s | %s | %.2f× |\n", h, n, a, b, r, cpu, a/f }'
    done
  done
  if [ -n "${SPIN:-}" ]; then
    echo
    echo "Key rotation under spin up, llm-proxy (p3) (runtime-config.toml: the default store in memory), concurrency 32:"
    echo
    echo "| keys | p50 ms | p99 ms | req/s | CPU ms/req | req/s vs one key | p50 vs one key |"
    echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: |"
    read -r op50 op99 orps ocpu <<<"${res[spin,32]}"
    read -r p50 p99 rps cpu <<<"${res[spin-3keys-rr,32]}"
    echo "| one key | $op50 | $op99 | $orps | $ocpu | 100 % | 1.00× |"
    awk -v p50="$p50" -v p99="$p99" -v rps="$rps" -v cpu="$cpu" -v orps="$orps" -v op50="$op50" \
      'BEGIN { printf "| three keys, global round robin | %s | %s | %d | %s | %.0f %% | %.2f× |\n", p50, p99, rps, cpu, 100*rps/orps, p50/op50 }'
  fi
  if [ -n "${SPIN:-}" ]; then
    echo
    echo "Spin's outbound connection pool, llm-proxy (p3), chat completions (a request body written by the component; docs/performance.md):"
    echo
    echo "| conc | outbound connections | p50 ms | p99 ms | req/s | CPU ms/req | req/s vs p2 floor |"
    echo "| ---: | --- | ---: | ---: | ---: | ---: | ---: |"
    for c in 1 32; do
      read -r fp50 fp99 frps fcpu <<<"${res[spin-floor,$c]}"
      for k in "spin:pooled (Spin's default)" "spin-nopool:a new one per request"; do
        read -r p50 p99 rps cpu <<<"${res[${k%%:*},$c]}"
        awk -v c="$c" -v n="${k#*:}" -v p50="$p50" -v p99="$p99" -v rps="$rps" -v cpu="$cpu" -v f="$frps" \
          'BEGIN { printf "| %s | %s | %s | %s | %d | %s | %.0f %% |\n", c, n, p50, p99, rps, cpu, 100*rps/f }'
      done
    done
  fi
  echo
  echo "No upstream at all — a component that answers at once:"
  echo
  echo "| conc | host | component | p50 ms | p99 ms | req/s | CPU ms/req |"
  echo "| ---: | --- | --- | ---: | ---: | ---: | ---: |"
  for c in 1 32; do
    for h in "${hosts[@]}"; do
      read -r a b r cpu <<<"${res[$h-floor-noop,$c]}"; echo "| $c | $h | floor no-op (p2) | $a | $b | $r | $cpu |"
      read -r a b r cpu <<<"${res[$h-ping,$c]}"; echo "| $c | $h | llm-proxy (p3) /ping | $a | $b | $r | $cpu |"
    done
  done
  echo
  echo "Streaming probe (median of 5; upstream sends $MOCK_EVENTS events ${MOCK_GAP_MS} ms apart; connection warmed first, as an SDK's pooled one):"
  echo
  echo "| target | first byte ms | first event ms | total ms | incremental | first event vs direct |"
  echo "| --- | ---: | ---: | ---: | --- | ---: |"
  read -r d_ttfb d_first d_total d_inc <<<"$(median "$out/stream-direct.jsonl")"
  echo "| direct | $d_ttfb | $d_first | $d_total | $d_inc | |"
  for h in "${hosts[@]}"; do
    for f in "$h-floor:floor-forwarder (p2)" "$h-p2:llm-proxy (p2)" "$h-floor-p3:floor-forwarder (p3)" "$h:llm-proxy (p3)" \
             "$h-messages:llm-proxy (p3) /v1/messages" "$h-responses:llm-proxy (p3) /v1/responses" \
             "$h-gemini:llm-proxy (p3) :streamGenerateContent?alt=sse"; do
      read -r ttfb first total inc <<<"$(median "$out/stream-${f%%:*}.jsonl")"
      awk -v n="$h ${f#*:}" -v a="$ttfb" -v b="$first" -v t="$total" -v i="$inc" -v d="$d_first" \
      'BEGIN { printf "| %s | %s | %s | %s | %s | %+.2f ms |\n", n, a, b, t, i, b-d }'
    done
  done
  echo
  echo -n "Peak RSS at the end: wasmtime serve $(rss "${pid_of[wasmtime]}") MB (p3), $(rss "${pid_of[wasmtime-p2]}") MB (p2)"
  [ -n "${SPIN:-}" ] && echo -n ", spin up $(rss "${pid_of[spin]}") MB (p3), $(rss "${pid_of[spin-p2]}") MB (p2)"
  echo ". Component: $(size_of wasi-p3) bytes (wasi p3), $(size_of wasi-p2) (wasi p2), $(size_of spin-p3) (spin p3), $(size_of spin-p2) (spin p2)."
else
  echo "## llm-proxy benchmark, team section (TEAM_ONLY) — $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores, ${secs}s per run"
  echo
  echo "Hosts: wasmtime serve $(wasmtime --version | awk '{print $2}')${SPIN:+, spin up ($("$SPIN" --version | awk '{print $2}'))}."
fi
team_report
} | tee "$out/summary.md"
echo "bench: raw output in $out" >&2
