#!/usr/bin/env bash
# Runs the whole test suite: native unit tests of the core, and integration
# tests that build the component and drive it under `wasmtime serve` against
# loopback mock providers. Installs what it needs first (scripts/setup.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh --test
export PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"

cargo test --all-targets 2>&1
