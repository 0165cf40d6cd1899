#!/usr/bin/env bash
# Runs the whole test suite:
#  1. native unit tests of the sans-IO core (cargo test, no wasm involved);
#  2. integration tests that build the component (both flavours), check each
#     against its WIT world, and drive the `wasi` flavour under `wasmtime serve`
#     against loopback mock providers;
#  3. the official OpenAI, Anthropic and Google GenAI Python SDKs, unchanged, against the
#     proxy (in a local virtualenv, .venv).
# Installs what it needs first (scripts/setup.sh). Nothing leaves loopback.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh --test
export PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"

cargo test --all-targets 2>&1

if [ ! -x .venv/bin/python ]; then
  python3 -m venv .venv
fi
.venv/bin/python -m pip install --quiet --disable-pip-version-check -r tests/sdk/requirements.txt
.venv/bin/python -m pytest -q -p no:cacheprovider tests/sdk
