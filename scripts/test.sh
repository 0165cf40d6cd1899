#!/usr/bin/env bash
# Runs the whole test suite:
#  1. native unit tests of the sans-IO core (cargo test, no wasm involved);
#  2. integration tests that build the component (both flavours), check each
#     against its WIT world, drive the `wasi` flavour under `wasmtime serve`
#     and the `spin` flavour under `spin up` against loopback mock providers —
#     the WASIp3 builds (the default), then again the WASIp2 builds
#     (LLM_PROXY_EDGE=p2: hosts without WASIp3);
#  3. the official OpenAI, Anthropic and Google GenAI Python SDKs, unchanged, against the
#     proxy (in a local virtualenv, .venv);
#  4. the real coding agents (Claude Code, opencode, aider, Codex CLI) through the proxy
#     under both hosts, each in a loopback-only network namespace
#     (scripts/clients.sh; the agents are installed once into a cache).
# Installs what it needs first (scripts/setup.sh). Nothing leaves loopback.
# NO_CLIENTS=1 skips step 4 (it says so).
#
# The Spin tests run when a `spin` binary is found: `SPIN=/path/to/spin`, or
# `spin` on PATH. Without one they are skipped, and this script says so.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh --test
export PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"

if [ -z "${SPIN:-}" ] && command -v spin >/dev/null 2>&1; then
  SPIN=$(command -v spin)
fi
if [ -n "${SPIN:-}" ]; then
  export SPIN
  echo "test: Spin tests run under $("$SPIN" --version 2>/dev/null || echo "$SPIN")" >&2
else
  echo "test: NOTE — no spin binary (SPIN= or on PATH): the Spin tests (tests/spin.rs) are SKIPPED" >&2
fi

cargo test --all-targets 2>&1
# The WASIp2 builds through the same integration tests (the native ones run
# again too; they take seconds).
LLM_PROXY_EDGE=p2 cargo test --tests 2>&1

if [ ! -x .venv/bin/python ]; then
  python3 -m venv .venv
fi
.venv/bin/python -m pip install --quiet --disable-pip-version-check -r tests/sdk/requirements.txt
.venv/bin/python -m pytest -q -p no:cacheprovider tests/sdk

if [ "${NO_CLIENTS:-}" = 1 ]; then
  echo "test: NOTE — NO_CLIENTS=1: the coding-agent cases (scripts/clients.sh) were SKIPPED" >&2
else
  # The components cargo test just built are reused, not rebuilt.
  bash scripts/clients.sh
fi

if [ -z "${SPIN:-}" ]; then
  echo "test: NOTE — the Spin tests were SKIPPED (no spin binary); install Spin or set SPIN= to run them" >&2
fi
