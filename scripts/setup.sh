#!/usr/bin/env bash
# Installs what building and testing llm-proxy needs, skipping what is there:
# the wasm32-wasip2 Rust target, a pinned wasmtime (with only the features we
# use) and, for the test suite, a pinned wasm-tools.
#   scripts/setup.sh            # wasm target + wasmtime
#   scripts/setup.sh --test     # ... + wasm-tools
set -euo pipefail

WASMTIME_VERSION=48.0.8
WASMTIME_FEATURES=serve,run,component-model,component-model-async,cranelift,pooling-allocator,parallel-compilation,cache,wasi-config,wasi-keyvalue
WASM_TOOLS_VERSION=1.263.0

export PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"

say() { echo "setup: $*" >&2; }

if command -v rustup >/dev/null 2>&1; then
  if ! rustup target list --installed | grep -qx wasm32-wasip2; then
    say "adding the wasm32-wasip2 target"
    rustup target add wasm32-wasip2
  fi
fi

have_version() { command -v "$1" >/dev/null 2>&1 && "$1" --version 2>/dev/null | grep -q " $2\b"; }

if ! have_version wasmtime "$WASMTIME_VERSION"; then
  say "installing wasmtime $WASMTIME_VERSION (15-30 minutes on 2 cores, once)"
  cargo install wasmtime-cli --version "$WASMTIME_VERSION" --locked \
    --no-default-features --features "$WASMTIME_FEATURES"
fi

if [ "${1:-}" = "--test" ] && ! have_version wasm-tools "$WASM_TOOLS_VERSION"; then
  say "installing wasm-tools $WASM_TOOLS_VERSION (only its component commands, ~3 minutes)"
  cargo install wasm-tools --version "$WASM_TOOLS_VERSION" --locked \
    --no-default-features --features component
fi
