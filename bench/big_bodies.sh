#!/usr/bin/env bash
# One request must not take a whole instance (issue 26, point 5): a body of
# small JSON objects (BIG_BYTES, default 32 MiB less 64 KiB, under the
# default MAX_BODY_BYTES; body "objects") posted once to every body route —
# and next to it the same small objects only up to MAX_BODY_VALUES (200,000
# values, body "objects≤limit") and one text of BIG_BYTES in the route's
# shape (body "text") — count_tokens (the
# proxy's estimate), chat completions, Messages and Responses (translated),
# embeddings, the Gemini API (translated) and the Universal Endpoint (a
# gateway setting) — against the bench's mock upstream, while another client
# asks /ping every 10 ms on the same host. Per host: `wasmtime serve` with the
# `wasi` flavour (started as scripts/run.sh starts it) and a real `spin up`
# with the default flavour (spin.toml + runtime-config.toml, `source` pointed
# at the build), each route in a host process of its own. Per route: the host
# process's peak RSS (VmHWM of it and its children, and what it was before the
# post), the request's time and status, and the worst /ping latency while it
# ran. With OLD_WASI / OLD_SPIN (an older build's wasi and spin p3
# components, built elsewhere with bench/run.sh's cargo flags), that build's
# rows too, in the same run.
#   bench/big_bodies.sh
#   OLD_WASI=/tmp/old/llm-proxy-wasi-p3.wasm OLD_SPIN=/tmp/old/llm-proxy-spin-p3.wasm bench/big_bodies.sh
#   ROUTES="chat gemini" BODIES="objects text" HOSTS=spin bench/big_bodies.sh
# Spin: $SPIN, `spin` on PATH, or the build kept in ../shared/tools/spin
# (beside the main checkout).
# Prints a markdown table; raw output goes to bench/out/big-<timestamp>/.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"
source scripts/serve-opts.sh
if [ -z "${SPIN:-}" ]; then
  if command -v spin >/dev/null 2>&1; then SPIN=$(command -v spin)
  else
    # ../shared beside the main checkout (this may be a worktree of it).
    shared="$(cd "$(git rev-parse --git-common-dir)/../.." && pwd)/shared/tools/spin/install-spin"
    [ -x "$shared" ] && SPIN=$("$shared")
  fi
fi
size=${BIG_BYTES:-$((32 * 1024 * 1024 - 65536))}
routes=(${ROUTES:-count_tokens chat messages responses embeddings gemini universal})
bodies=(${BODIES:-objects values text})
values=${BODY_VALUES:-200000}
out="bench/out/big-$(date -u +%Y%m%dT%H%M%SZ)"
mkdir -p "$out"

cargo build --quiet --release --example mock-upstream
build_component() { # name cargo-feature-args...
  local name=$1; shift
  cargo build --quiet --release --target wasm32-wasip2 --target-dir target/component "$@"
  cp target/component/wasm32-wasip2/release/llm_proxy.wasm "target/component/llm-proxy-$name.wasm"
}
build_component wasi-p3 --no-default-features --features wasi
[ -n "${SPIN:-}" ] && build_component spin-p3

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_up() { for _ in $(seq 1 400); do curl -fs "http://127.0.0.1:$1/ping" >/dev/null 2>&1 && return 0; sleep 0.05; done; echo "big_bodies: :$1 did not come up" >&2; return 1; }
pids=()
cleanup() { for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT

mock_port=$(free_port)
target/release/examples/mock-upstream "127.0.0.1:$mock_port" 2>"$out/mock.log" &
pids+=($!)
mock="http://127.0.0.1:$mock_port"
settings=(PROXY_API_KEY=bench-proxy-key OPENAI_API_KEY=sk-bench-upstream "OPENAI_BASE_URL=$mock/v1"
          GROQ_API_KEY=gsk-bench-upstream "GROQ_BASE_URL=$mock/openai/v1"
          CLOUDFLARE_ACCOUNT_ID=acc "AI_GATEWAY_BASE_URL=$mock")

for r in "${routes[@]}"; do
  python3 bench/big_bodies.py body "$r" "$size" "$out/$r-objects.json"
  python3 bench/big_bodies.py body "$r" "$size" "$out/$r-values.json" "$values"
  python3 bench/big_bodies.py text "$r" "$size" "$out/$r-text.json"
done

# Peak and current RSS in MB of a process and its children (summed).
rss() { # pid VmHWM|VmRSS
  local total=0 p
  for p in $1 $(pgrep -P "$1" 2>/dev/null || true); do
    [ -r "/proc/$p/status" ] && total=$((total + $(awk -v k="$2:" '$1==k{print $2}' "/proc/$p/status")))
  done
  echo $((total / 1024))
}

start_host() { # host wasm → sets host_pid, host_port
  host_port=$(free_port)
  if [ "$1" = wasmtime ]; then
    local args=()
    for kv in "${settings[@]}"; do args+=(--env "$kv"); done
    wasmtime serve "${SERVE_OPTS[@]}" --addr "127.0.0.1:$host_port" "${args[@]}" "$2" >/dev/null 2>>"$out/$1.log" &
  else
    sed "s#^source = \"target/wasm32-wasip2/release/llm_proxy.wasm\"#source = \"$(realpath "$2")\"#" spin.toml >"$out/spin.toml"
    grep -q "^source = \"$(realpath "$2")\"" "$out/spin.toml" ||
      { echo "big_bodies: spin.toml's [component.llm-proxy] source line not found" >&2; exit 1; }
    local vars=(SPIN_VARIABLE_EXTRA_OUTBOUND_HOST="$mock")
    for kv in "${settings[@]}"; do vars+=("SPIN_VARIABLE_$kv"); done
    env "${vars[@]}" "$SPIN" up --from "$out/spin.toml" --listen "127.0.0.1:$host_port" \
      --runtime-config-file runtime-config.toml --state-dir "$out/spin-state" >/dev/null 2>>"$out/$1.log" &
  fi
  host_pid=$!
  pids+=($host_pid)
  wait_up "$host_port"
}

builds=(new)
declare -A wasm_of=([wasmtime,new]=target/component/llm-proxy-wasi-p3.wasm [spin,new]=target/component/llm-proxy-spin-p3.wasm)
if [ -n "${OLD_WASI:-}" ] || [ -n "${OLD_SPIN:-}" ]; then
  builds=(old new)
  wasm_of[wasmtime,old]=${OLD_WASI:-}
  wasm_of[spin,old]=${OLD_SPIN:-}
fi
hosts=()
for h in ${HOSTS:-wasmtime spin}; do [ "$h" != spin ] || [ -n "${SPIN:-}" ] && hosts+=("$h"); done
[ -n "${SPIN:-}" ] || echo "big_bodies: no spin binary (SPIN=, on PATH, ../shared/tools/spin): Spin rows left out" >&2

echo "| host | build | route | body | MB | status | time s | worst /ping ms | pings | RSS before MB | peak RSS MB |"
echo "|---|---|---|---|---:|---:|---:|---:|---:|---:|---:|"
for h in "${hosts[@]}"; do
  for b in "${builds[@]}"; do
    w=${wasm_of[$h,$b]:-}
    [ -n "$w" ] || continue
    for r in "${routes[@]}"; do
     for body in "${bodies[@]}"; do
      start_host "$h" "$w"
      # Warm: the instance up, the route's code paths compiled.
      for _ in 1 2 3; do curl -fs "http://127.0.0.1:$host_port/ping" >/dev/null; done
      before=$(rss "$host_pid" VmRSS)
      line=$(python3 bench/big_bodies.py run "$host_port" "$r" "$out/$r-$body.json")
      peak=$(rss "$host_pid" VmHWM)
      echo "$h $b $body $line" >>"$out/raw.jsonl"
      kill "$host_pid" 2>/dev/null || true
      wait "$host_pid" 2>/dev/null || true
      python3 bench/big_bodies.py row "$h" "$b" "$body" "$before" "$peak" "$line"
     done
    done
  done
done
