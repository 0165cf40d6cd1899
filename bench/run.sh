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
#     peak RSS of the host processes and the component's size.
# Prints markdown tables; raw output goes to bench/out/<timestamp>/.
#   bench/run.sh                  # 10 s per load run (57 runs with Spin), ~12 minutes
#   BENCH_SECONDS=30 bench/run.sh
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
build_component wasi-p2 --no-default-features --features wasi,p2
wasm=target/component/llm-proxy-wasi-p3.wasm
wasm_p2=target/component/llm-proxy-wasi-p2.wasm
(cd bench/floor && cargo build --quiet --release --target wasm32-wasip2)
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
serve_wasmtime wasmtime-p2 "$wasm_p2" "${proxy_env[@]}"
serve_wasmtime wasmtime-floor "$floor_wasm" "UPSTREAM=127.0.0.1:$mock_port"
serve_wasmtime wasmtime-floor-p3 "$floor_p3_wasm" "UPSTREAM=127.0.0.1:$mock_port"
wait_up "${port_of[wasmtime]}" ping
wait_up "${port_of[wasmtime-p2]}" ping
wait_up "${port_of[wasmtime-floor]}" noop
wait_up "${port_of[wasmtime-floor-p3]}" noop

hosts=(wasmtime)
if [ -n "${SPIN:-}" ]; then
  hosts+=(spin)
  build_component spin-p3
  build_component spin-p2 --no-default-features --features spin,p2
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
  port=$(free_port)
  SPIN_VARIABLE_UPSTREAM_URL="$mock" "$SPIN" up --from bench/floor-p3/spin.toml --listen "127.0.0.1:$port" \
    --env "UPSTREAM=127.0.0.1:$mock_port" --state-dir "$out/spin-state-floor-p3" >/dev/null 2>"$out/spin-floor-p3.log" &
  pid_of[spin-floor-p3]=$!; port_of[spin-floor-p3]=$port; pids+=($!)
  wait_up "${port_of[spin-floor-p3]}" noop
  wait_up "${port_of[spin]}" ping
  wait_up "${port_of[spin-p2]}" ping
  wait_up "${port_of[spin-3keys-rr]}" ping
  wait_up "${port_of[spin-nopool]}" ping
  wait_up "${port_of[spin-floor]}" noop
else
  echo "bench: no spin binary (SPIN= or on PATH): Spin rows are left out" >&2
fi

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
  for n in "$h" "$h-p2" "$h-floor" "$h-floor-p3"; do
    wrk -t2 -c32 -d2s -s bench/post.lua "http://127.0.0.1:${port_of[$n]}/v1/chat/completions" >/dev/null 2>&1 || true
  done
done

for c in 1 32 128; do
  load "direct,$c" "$mock_port" /v1/chat/completions "$c" bench/post.lua
  for h in "${hosts[@]}"; do
    load "$h-floor,$c" "${port_of[$h-floor]}" /v1/chat/completions "$c" bench/post.lua "${pid_of[$h-floor]}"
    load "$h-floor-p3,$c" "${port_of[$h-floor-p3]}" /v1/chat/completions "$c" bench/post.lua "${pid_of[$h-floor-p3]}"
    load "$h,$c" "${port_of[$h]}" /v1/chat/completions "$c" bench/post.lua "${pid_of[$h]}"
    load "$h-p2,$c" "${port_of[$h-p2]}" /v1/chat/completions "$c" bench/post.lua "${pid_of[$h-p2]}"
  done
done
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
median() { python3 -c "import json,sys,statistics as s; r=[json.loads(l) for l in open('$1')]; print('%.2f %.2f %.2f %s' % (s.median(x['ttfb_ms'] for x in r), s.median(x['first_event_ms'] for x in r), s.median(x['total_ms'] for x in r), all(x['incremental'] for x in r)))"; }
size_of() { [ -f "target/component/llm-proxy-$1.wasm" ] && stat -c %s "target/component/llm-proxy-$1.wasm" || echo "-"; }

# ---------------------------------------------------------------- report
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
} | tee "$out/summary.md"
echo "bench: raw output in $out" >&2
