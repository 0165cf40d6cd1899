#!/usr/bin/env bash
# Benchmarks the whole proxy against a direct baseline and against each
# host's floor, in one run on one machine, all on loopback:
#   - non-streaming chat completions at concurrency 1, 32 and 128, straight to
#     a fast mock upstream ("direct"), through the floor forwarder and through
#     the proxy, under `wasmtime serve` (the `wasi` flavour, started as
#     scripts/run.sh starts it) and under `spin up` (the `spin` flavour, started
#     as docs/deploy.md says: spin.toml + runtime-config.toml) when a `spin` binary
#     is found (SPIN=..., or on PATH);
#   - the floor: bench/floor, the least a component can do under the same
#     host — answer at once (no-op), or forward the request to the mock and
#     stream the answer back with no logic at all (forwarder);
#   - CPU per request of each host process (utime+stime over requests);
#   - the Anthropic Messages API translated to the OpenAI mock (/v1/messages);
#   - a large Claude Code turn (the recorded one grown to LARGE_BYTES, default
#     1 MB) translated, next to an OpenAI chat body of that size untranslated
#     and through the floor forwarder;
#   - under Spin: three keys with global round robin next to one key;
#   - a streaming probe (first byte, first event, total, incremental), and
#     peak RSS of the host processes and the component's size.
# Prints markdown tables; raw output goes to bench/out/<timestamp>/.
#   bench/run.sh                  # 10 s per load run, ~6 minutes
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
cargo build --quiet --release --target wasm32-wasip2 --target-dir target/component \
  --no-default-features --features wasi
wasm=target/component/llm-proxy-wasi.wasm
cp target/component/wasm32-wasip2/release/llm_proxy.wasm "$wasm"
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
    --runtime-config-file runtime-config.toml --state-dir "$out/spin-state-$name" \
    >/dev/null 2>"$out/$name.log" &
  pid_of[$name]=$!; port_of[$name]=$port; pids+=($!)
}

proxy_env=(PROXY_API_KEY=bench-proxy-key OPENAI_API_KEY=sk-bench-upstream "OPENAI_BASE_URL=$mock/v1"
           GROQ_API_KEY=gsk-bench-upstream "GROQ_BASE_URL=$mock/openai/v1")
serve_wasmtime wasmtime "$wasm" "${proxy_env[@]}"
serve_wasmtime wasmtime-floor "$floor_wasm" "UPSTREAM=127.0.0.1:$mock_port"
# p3 needs the component-model-async feature and the p3 interfaces.
SERVE_OPTS_P2=("${SERVE_OPTS[@]}")
SERVE_OPTS=("${SERVE_OPTS_P2[@]}" -S p3 -W component-model-async)
serve_wasmtime wasmtime-floor-p3 "$floor_p3_wasm" "UPSTREAM=127.0.0.1:$mock_port"
SERVE_OPTS=("${SERVE_OPTS_P2[@]}")
wait_up "${port_of[wasmtime]}" ping
wait_up "${port_of[wasmtime-floor]}" noop
wait_up "${port_of[wasmtime-floor-p3]}" noop

hosts=(wasmtime)
if [ -n "${SPIN:-}" ]; then
  hosts+=(spin)
  cargo build --quiet --release --target wasm32-wasip2
  spin_vars=(SPIN_VARIABLE_PROXY_API_KEY=bench-proxy-key SPIN_VARIABLE_OPENAI_BASE_URL="$mock/v1"
             SPIN_VARIABLE_GROQ_API_KEY=gsk-bench-upstream SPIN_VARIABLE_GROQ_BASE_URL="$mock/openai/v1"
             SPIN_VARIABLE_EXTRA_OUTBOUND_HOST="$mock")
  serve_spin spin spin.toml "${spin_vars[@]}" SPIN_VARIABLE_OPENAI_API_KEY=sk-bench-upstream
  serve_spin spin-3keys-rr spin.toml "${spin_vars[@]}" SPIN_VARIABLE_OPENAI_API_KEY=sk-one,sk-two,sk-three \
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
  wait_up "${port_of[spin-3keys-rr]}" ping
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
  wrk -t2 -c32 -d2s -s bench/post.lua "http://127.0.0.1:${port_of[$h]}/v1/chat/completions" >/dev/null 2>&1 || true
  wrk -t2 -c32 -d2s -s bench/post.lua "http://127.0.0.1:${port_of[$h-floor]}/v1/chat/completions" >/dev/null 2>&1 || true
done

for c in 1 32 128; do
  load "direct,$c" "$mock_port" /v1/chat/completions "$c" bench/post.lua
  for h in "${hosts[@]}"; do
    load "$h-floor,$c" "${port_of[$h-floor]}" /v1/chat/completions "$c" bench/post.lua "${pid_of[$h-floor]}"
    load "$h-floor-p3,$c" "${port_of[$h-floor-p3]}" /v1/chat/completions "$c" bench/post.lua "${pid_of[$h-floor-p3]}"
    load "$h,$c" "${port_of[$h]}" /v1/chat/completions "$c" bench/post.lua "${pid_of[$h]}"
  done
done
for c in 1 32; do
  for h in "${hosts[@]}"; do
    load "$h-messages,$c" "${port_of[$h]}" /v1/messages "$c" bench/messages.lua "${pid_of[$h]}"
    load "$h-responses,$c" "${port_of[$h]}" /v1/responses "$c" bench/responses.lua "${pid_of[$h]}"
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
done
BODY_FILE="$out/large-chat.json" load "direct-large,1" "$mock_port" /v1/chat/completions 1 bench/body.lua
if [ -n "${SPIN:-}" ]; then
  load "spin-3keys-rr,32" "${port_of[spin-3keys-rr]}" /v1/chat/completions 32 bench/post.lua "${pid_of[spin-3keys-rr]}"
fi

probe() { # port path body [key] → 5 JSON lines
  for _ in 1 2 3 4 5; do target/release/examples/stream-probe "127.0.0.1:$1" "$2" "$3" ${4:-}; done
}
chat_stream='{"model":"openai/gpt-4o-mini","stream":true,"messages":[{"role":"user","content":"hi"}]}'
messages_stream='{"model":"openai/gpt-4o-mini","max_tokens":100,"stream":true,"messages":[{"role":"user","content":"hi"}]}'
responses_stream='{"model":"groq/llama-3.3-70b","stream":true,"store":false,"input":"hi"}'
probe "$mock_port" /v1/chat/completions "$chat_stream" >"$out/stream-direct.jsonl"
for h in "${hosts[@]}"; do
  probe "${port_of[$h]}" /v1/chat/completions "$chat_stream" bench-proxy-key >"$out/stream-$h.jsonl"
  probe "${port_of[$h]}" /v1/messages "$messages_stream" bench-proxy-key >"$out/stream-$h-messages.jsonl"
  probe "${port_of[$h]}" /v1/responses "$responses_stream" bench-proxy-key >"$out/stream-$h-responses.jsonl"
  probe "${port_of[$h-floor]}" /v1/chat/completions "$chat_stream" >"$out/stream-$h-floor.jsonl"
done
median() { python3 -c "import json,sys,statistics as s; r=[json.loads(l) for l in open('$1')]; print('%.2f %.2f %.2f %s' % (s.median(x['ttfb_ms'] for x in r), s.median(x['first_event_ms'] for x in r), s.median(x['total_ms'] for x in r), all(x['incremental'] for x in r)))"; }
rss() { awk '/VmHWM/{printf "%d", $2/1024}' "/proc/$1/status"; }
size=$(stat -c %s "$wasm")
spin_size=$( [ -f target/wasm32-wasip2/release/llm_proxy.wasm ] && stat -c %s target/wasm32-wasip2/release/llm_proxy.wasm || echo "-")

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
  echo "| conc | target | p50 ms | p99 ms | req/s | added p50 ms | req/s vs direct | CPU ms/req | req/s vs host floor | CPU vs floor |"
  echo "| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
  for c in 1 32 128; do
    row "$c" direct "direct,$c" "direct,$c"
    for h in "${hosts[@]}"; do
      row "$c" "$h floor-forwarder" "$h-floor,$c" "direct,$c"
      row "$c" "$h floor-forwarder (p3)" "$h-floor-p3,$c" "direct,$c"
      row "$c" "$h llm-proxy" "$h,$c" "direct,$c" "$h-floor,$c"
    done
  done
  echo
  echo "\`floor-forwarder\` is bench/floor under the same host: the least a component can do to proxy (one outbound request, both bodies streamed; no auth, no routing, no settings, no logging). \"vs host floor\" compares llm-proxy with it. \`(p3)\` is bench/floor-p3: the same job as a \`wasi:http@0.3.0\` component (instances reused), the incoming request handed to the upstream as is — issue 18's yardstick."
  echo
  echo "Client dialects translated to the OpenAI mock: the Anthropic Messages API (POST /v1/messages, model openai/gpt-4o-mini) and the OpenAI Responses API (POST /v1/responses, model groq/llama-3.3-70b, translated to chat completions), next to the chat row:"
  echo
  echo "| conc | target | p50 ms | p99 ms | req/s | added p50 ms | req/s vs direct | CPU ms/req | req/s vs chat row | translation's share of added p50 |"
  echo "| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |"
  for c in 1 32; do
    for h in "${hosts[@]}"; do
      for route in messages responses; do
        read -r p50 p99 rps cpu <<<"${res[$h-$route,$c]}"
        read -r cp50 _ crps _ <<<"${res[$h,$c]}"
        read -r dp50 _ drps _ <<<"${res[direct,$c]}"
        awk -v c="$c" -v n="$h /v1/$route" -v p50="$p50" -v p99="$p99" -v rps="$rps" -v cpu="$cpu" -v dp50="$dp50" -v drps="$drps" -v cp50="$cp50" -v crps="$crps" \
          'BEGIN { printf "| %d | %s | %.3f | %.3f | %d | %+.3f | %.1f %% | %s | %.0f %% | %+.0f %% |\n", c, n, p50, p99, rps, p50-dp50, 100*rps/drps, cpu, 100*rps/crps, 100*((p50-dp50)/(cp50-dp50)-1) }'
      done
    done
  done
  echo
  echo "A large request, concurrency 1: Claude Code's recorded tool-result turn grown to ~$((large / 1024)) KB (its middle turns repeated; not streamed), translated to the OpenAI mock, next to opencode's recorded chat turn grown to the same size (untranslated, and through the host's floor forwarder):"
  echo
  echo "| host | target | p50 ms | p99 ms | req/s | CPU ms/req | p50 vs floor forwarder |"
  echo "| --- | --- | ---: | ---: | ---: | ---: | ---: |"
  read -r a b r cpu <<<"${res[direct-large,1]}"; echo "| — | direct to the mock | $a | $b | $r | $cpu | |"
  for h in "${hosts[@]}"; do
    read -r fp50 _ _ _ <<<"${res[$h-floor-large,1]}"
    for k in floor-large:floor-forwarder large-chat:"llm-proxy /v1/chat/completions" large-messages:"llm-proxy /v1/messages (translated)"; do
      read -r a b r cpu <<<"${res[$h-${k%%:*},1]}"
      awk -v h="$h" -v n="${k#*:}" -v a="$a" -v b="$b" -v r="$r" -v cpu="$cpu" -v f="$fp50" \
        'BEGIN { printf "| %s | %s | %s | %s | %s | %s | %.2f× |\n", h, n, a, b, r, cpu, a/f }'
    done
  done
  if [ -n "${SPIN:-}" ]; then
    echo
    echo "Key rotation under spin up (runtime-config.toml: the default store in memory), concurrency 32:"
    echo
    echo "| keys | p50 ms | p99 ms | req/s | CPU ms/req | req/s vs one key | p50 vs one key |"
    echo "| --- | ---: | ---: | ---: | ---: | ---: | ---: |"
    read -r op50 op99 orps ocpu <<<"${res[spin,32]}"
    read -r p50 p99 rps cpu <<<"${res[spin-3keys-rr,32]}"
    echo "| one key | $op50 | $op99 | $orps | $ocpu | 100 % | 1.00× |"
    awk -v p50="$p50" -v p99="$p99" -v rps="$rps" -v cpu="$cpu" -v orps="$orps" -v op50="$op50" \
      'BEGIN { printf "| three keys, global round robin | %s | %s | %d | %s | %.0f %% | %.2f× |\n", p50, p99, rps, cpu, 100*rps/orps, p50/op50 }'
  fi
  echo
  echo "No upstream at all — a component that answers at once:"
  echo
  echo "| conc | host | component | p50 ms | p99 ms | req/s | CPU ms/req |"
  echo "| ---: | --- | --- | ---: | ---: | ---: | ---: |"
  for c in 1 32; do
    for h in "${hosts[@]}"; do
      read -r a b r cpu <<<"${res[$h-floor-noop,$c]}"; echo "| $c | $h | floor no-op | $a | $b | $r | $cpu |"
      read -r a b r cpu <<<"${res[$h-ping,$c]}"; echo "| $c | $h | llm-proxy /ping | $a | $b | $r | $cpu |"
    done
  done
  echo
  echo "Streaming probe (median of 5; upstream sends $MOCK_EVENTS events ${MOCK_GAP_MS} ms apart; connection warmed first, as an SDK's pooled one):"
  echo
  echo "| target | first byte ms | first event ms | total ms | incremental | first event vs direct |"
  echo "| --- | ---: | ---: | ---: | --- | ---: |"
  read -r d_ttfb d_first d_total d_inc <<<"$(median "$out/stream-direct.jsonl")"
  echo "| direct | $d_ttfb | $d_first | $d_total | $d_inc | |"
  for f in "${hosts[@]/%/-floor}" "${hosts[@]}" "${hosts[@]/%/-messages}" "${hosts[@]/%/-responses}"; do
    read -r ttfb first total inc <<<"$(median "$out/stream-$f.jsonl")"
    awk -v n="$f" -v a="$ttfb" -v b="$first" -v t="$total" -v i="$inc" -v d="$d_first" \
      'BEGIN { printf "| %s | %s | %s | %s | %s | %+.2f ms |\n", n, a, b, t, i, b-d }'
  done
  echo
  echo -n "Peak RSS: wasmtime serve $(rss "${pid_of[wasmtime]}") MB"
  [ -n "${SPIN:-}" ] && echo -n ", spin up $(rss "${pid_of[spin]}") MB"
  echo ". Component: $size bytes (wasi), $spin_size bytes (spin)."
} | tee "$out/summary.md"
echo "bench: raw output in $out" >&2
