#!/usr/bin/env bash
# Benchmarks the whole proxy against a direct baseline, in one run on one
# machine, all on loopback:
#   - non-streaming chat completions at concurrency 1, 32 and 128, straight to
#     a fast mock upstream ("direct") and through the proxy (the `wasi`
#     flavour under the pinned `wasmtime serve`; under `spin up` too when a
#     `spin` binary is on PATH);
#   - the host's floor, under the same `wasmtime serve`: bench/floor, the least
#     a component can do — answer at once (no-op), or forward the request to
#     the mock and relay the answer with no logic at all (minimal forwarder);
#   - a streaming probe (time to first byte, first event, total, incremental);
#   - peak RSS of the host process and the component's size.
# Prints a markdown table with ratios to the direct baseline; raw output goes
# to bench/out/<timestamp>/.
#   bench/run.sh                  # 10 s per load run
#   BENCH_SECONDS=30 bench/run.sh
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
export PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"
if ! command -v wrk >/dev/null 2>&1; then
  echo "bench: installing wrk (Debian package)" >&2
  if [ "$(id -u)" = 0 ]; then apt-get update -qq && apt-get install -y -qq wrk; else sudo apt-get install -y wrk; fi
fi

source scripts/serve-opts.sh
secs="${BENCH_SECONDS:-10}"
out="bench/out/$(date -u +%Y%m%dT%H%M%SZ)"
mkdir -p "$out"

cargo build --quiet --release --examples
cargo build --quiet --release --target wasm32-wasip2 --target-dir target/component \
  --no-default-features --features wasi
wasm=target/component/llm-proxy-wasi.wasm
cp target/component/wasm32-wasip2/release/llm_proxy.wasm "$wasm"

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_up() { for _ in $(seq 1 200); do curl -fs "http://127.0.0.1:$1/$2" >/dev/null 2>&1 && return 0; sleep 0.05; done; echo "bench: :$1 did not come up" >&2; return 1; }

pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT

export MOCK_EVENTS="${MOCK_EVENTS:-10}" MOCK_GAP_MS="${MOCK_GAP_MS:-20}"
mock_port=$(free_port)
target/release/examples/mock-upstream "127.0.0.1:$mock_port" 2>"$out/mock.log" &
pids+=($!)
sleep 0.3

proxy_port=$(free_port)
PROXY_API_KEY=bench-proxy-key OPENAI_API_KEY=sk-bench-upstream \
OPENAI_BASE_URL="http://127.0.0.1:$mock_port/v1" \
  wasmtime serve "${SERVE_OPTS[@]}" --addr "127.0.0.1:$proxy_port" \
  --env PROXY_API_KEY --env OPENAI_API_KEY --env OPENAI_BASE_URL "$wasm" >/dev/null 2>"$out/proxy.log" &
proxy_pid=$!
pids+=($proxy_pid)
wait_up "$proxy_port" ping

(cd bench/floor && cargo build --quiet --release --target wasm32-wasip2)
floor_port=$(free_port)
UPSTREAM="127.0.0.1:$mock_port" wasmtime serve "${SERVE_OPTS[@]}" --addr "127.0.0.1:$floor_port" \
  --env UPSTREAM bench/floor/target/wasm32-wasip2/release/floor.wasm >/dev/null 2>"$out/floor.log" &
pids+=($!)
wait_up "$floor_port" noop

targets=("direct|$mock_port|/v1/chat/completions" "floor-forwarder|$floor_port|/v1/chat/completions" "wasmtime|$proxy_port|/v1/chat/completions")
spin_pid=""
if command -v spin >/dev/null 2>&1; then
  spin_port=$(free_port)
  cargo build --quiet --release --target wasm32-wasip2
  SPIN_VARIABLE_PROXY_API_KEY=bench-proxy-key SPIN_VARIABLE_OPENAI_API_KEY=sk-bench-upstream \
  SPIN_VARIABLE_OPENAI_BASE_URL="http://127.0.0.1:$mock_port/v1" \
  SPIN_VARIABLE_EXTRA_OUTBOUND_HOST="http://127.0.0.1:$mock_port" \
    spin up --listen "127.0.0.1:$spin_port" >/dev/null 2>"$out/spin.log" &
  spin_pid=$!
  pids+=($spin_pid)
  wait_up "$spin_port" ping
  targets+=("spin|$spin_port|/v1/chat/completions")
fi

# wrk → "p50_ms p99_ms rps"
to_ms() { awk '{v=$1; if (v ~ /us$/) {sub(/us$/,"",v); v/=1000} else if (v ~ /ms$/) {sub(/ms$/,"",v)} else if (v ~ /s$/) {sub(/s$/,"",v); v*=1000}; printf "%.3f", v}'; }
load() { # name port path conc [script]
  local name=$1 port=$2 path=$3 c=$4 script=${5:-bench/post.lua} t=$(( $4 < 2 ? 1 : 2 ))
  local raw="$out/wrk-$name-c$c.txt"
  wrk -t"$t" -c"$c" -d"${secs}s" --latency -s "$script" "http://127.0.0.1:$port$path" >"$raw" 2>&1
  local p50 p99 rps errs
  p50=$(awk '$1=="50%"{print $2}' "$raw" | to_ms)
  p99=$(awk '$1=="99%"{print $2}' "$raw" | to_ms)
  rps=$(awk '/^Requests\/sec:/{printf "%.0f", $2}' "$raw")
  errs=$(awk '/Non-2xx|Socket errors/' "$raw" | tr '\n' ' ')
  [ -z "$errs" ] || echo "bench: $name c=$c: $errs" >&2
  echo "$p50 $p99 $rps"
}

# Warm up (compilation cache, pooling slots).
wrk -t2 -c32 -d2s -s bench/post.lua "http://127.0.0.1:$proxy_port/v1/chat/completions" >/dev/null 2>&1 || true

declare -A res
for c in 1 32 128; do
  for t in "${targets[@]}"; do
    IFS='|' read -r name port path <<<"$t"
    res["$name,$c"]=$(load "$name" "$port" "$path" "$c")
  done
done
declare -A noop ping
for c in 1 32; do
  noop[$c]=$(load floor-noop "$floor_port" /noop "$c" /dev/null)
  ping[$c]=$(load proxy-ping "$proxy_port" /ping "$c" /dev/null)
done
rss_kb=$(awk '/VmHWM/{print $2}' "/proc/$proxy_pid/status")

probe() { # port key → median-of-5 JSON line fields
  local port=$1 key=${2:-}
  for _ in 1 2 3 4 5; do
    target/release/examples/stream-probe "127.0.0.1:$port" /v1/chat/completions \
      '{"model":"openai/gpt-4o-mini","stream":true,"messages":[{"role":"user","content":"hi"}]}' $key
  done
}
probe "$mock_port" >"$out/stream-direct.jsonl"
probe "$proxy_port" bench-proxy-key >"$out/stream-proxy.jsonl"
median() { python3 -c "import json,sys,statistics as s; r=[json.loads(l) for l in open('$1')]; print('%.2f %.2f %.2f %s' % (s.median(x['ttfb_ms'] for x in r), s.median(x['first_event_ms'] for x in r), s.median(x['total_ms'] for x in r), all(x['incremental'] for x in r)))"; }
read -r d_ttfb d_first d_total d_inc <<<"$(median "$out/stream-direct.jsonl")"
read -r p_ttfb p_first p_total p_inc <<<"$(median "$out/stream-proxy.jsonl")"
size=$(stat -c %s "$wasm")

{
  echo "## llm-proxy benchmark — $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) cores, ${secs}s per run"
  echo
  echo "Non-streaming chat completions (POST /v1/chat/completions, ~200 B request, ~300 B answer):"
  echo
  echo "| conc | target | p50 ms | p99 ms | req/s | added p50 ms | added p99 ms | req/s vs direct |"
  echo "| ---: | --- | ---: | ---: | ---: | ---: | ---: | ---: |"
  for c in 1 32 128; do
    read -r dp50 dp99 drps <<<"${res[direct,$c]}"
    for t in "${targets[@]}"; do
      IFS='|' read -r name _ _ <<<"$t"
      read -r p50 p99 rps <<<"${res[$name,$c]}"
      awk -v c="$c" -v n="$name" -v p50="$p50" -v p99="$p99" -v rps="$rps" -v dp50="$dp50" -v dp99="$dp99" -v drps="$drps" \
        'BEGIN { printf "| %d | %s | %.3f | %.3f | %d | %+.3f | %+.3f | %.1f %% |\n", c, n, p50, p99, rps, p50-dp50, p99-dp99, 100*rps/drps }'
    done
  done
  echo
  echo "\`floor-forwarder\` is bench/floor: the least a component can do to proxy under the same host (read the body, one outbound request, relay the answer; no auth, no routing, no logging)."
  echo
  echo "No upstream at all — a component that answers at once, under the same host:"
  echo
  echo "| conc | component | p50 ms | p99 ms | req/s |"
  echo "| ---: | --- | ---: | ---: | ---: |"
  for c in 1 32; do
    read -r a b r <<<"${noop[$c]}"; echo "| $c | floor no-op | $a | $b | $r |"
    read -r a b r <<<"${ping[$c]}"; echo "| $c | llm-proxy /ping | $a | $b | $r |"
  done
  echo
  echo "Streaming probe (median of 5; upstream sends $MOCK_EVENTS events ${MOCK_GAP_MS} ms apart):"
  echo
  echo "| target | first byte ms | first event ms | total ms | incremental |"
  : "connection warmed with one keep-alive request first, as an SDK's pooled connection is"
  echo "| --- | ---: | ---: | ---: | --- |"
  echo "| direct | $d_ttfb | $d_first | $d_total | $d_inc |"
  echo "| wasmtime | $p_ttfb | $p_first | $p_total | $p_inc |"
  awk -v a="$p_first" -v b="$d_first" 'BEGIN { printf "\nFirst event through the proxy: %+.2f ms vs direct.\n", a-b }'
  echo
  echo "Peak RSS of wasmtime serve (after all runs, up to concurrency 128): $((rss_kb / 1024)) MB. Component: $size bytes."
} | tee "$out/summary.md"
echo "bench: raw output in $out" >&2
