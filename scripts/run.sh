#!/usr/bin/env bash
# Builds the portable (`wasi`) flavour and serves it with wasmtime.
#   scripts/run.sh                      # listens on 127.0.0.1:8080
#   ADDR=0.0.0.0:3000 scripts/run.sh    # another address
#   ENV_FILE=prod.env scripts/run.sh    # settings from another file
#   EDGE=p2 scripts/run.sh              # the WASIp2 build (hosts without WASIp3)
# Settings come from .env (git-ignored): one NAME=value per line; the Spin
# form SPIN_VARIABLE_NAME=value is accepted too, so one file serves both hosts.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
export PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"

# WASIp3 (wasi:http@0.3.0, instances reused) unless EDGE=p2.
features=wasi; suffix=p3
if [ "${EDGE:-p3}" = p2 ]; then features=wasi,p2; suffix=p2; fi
cargo build --release --target wasm32-wasip2 --target-dir target/component \
  --no-default-features --features "$features"
wasm=target/component/llm-proxy-wasi-$suffix.wasm
cp target/component/wasm32-wasip2/release/llm_proxy.wasm "$wasm"

# Each setting is exported into wasmtime's environment and forwarded by name
# (`--env NAME`), so secrets never show up in the process list. (`-S` options
# split at commas; `--env` does not, so key lists travel safely this way.)
env_args=()
env_file="${ENV_FILE:-.env}"
if [ -f "$env_file" ]; then
  while IFS= read -r line || [ -n "$line" ]; do
    line="${line%$'\r'}"
    [[ "$line" =~ ^[[:space:]]*(#|$) ]] && continue
    [[ "$line" == *=* ]] || continue
    name="${line%%=*}"; value="${line#*=}"
    name="${name#export }"; name="${name//[[:space:]]/}"
    name="${name#SPIN_VARIABLE_}"; name="${name^^}"
    if [[ "$value" =~ ^\"(.*)\"$ ]] || [[ "$value" =~ ^\'(.*)\'$ ]]; then value="${BASH_REMATCH[1]}"; fi
    export "$name=$value"
    env_args+=(--env "$name")
  done < "$env_file"
else
  echo "run: no $env_file found; copy .env.example to .env and fill in your keys" >&2
fi

addr="${ADDR:-127.0.0.1:8080}"
echo "run: llm-proxy listening on http://$addr" >&2
# serve: the wasi:http/proxy host; SERVE_OPTS are explained in scripts/serve-opts.sh.
source scripts/serve-opts.sh
exec wasmtime serve "${SERVE_OPTS[@]}" --addr "$addr" "${env_args[@]}" "$wasm"
