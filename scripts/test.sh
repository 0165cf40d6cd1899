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
# The multi-instance test (two `spin up` over one Redis) also needs
# `redis-server`: installed here from Debian's package when missing; without
# it that test fails under CI (CI=1, .ci/run) and is skipped elsewhere.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh --test
export PATH="${CARGO_HOME:-$HOME/.cargo}/bin:$PATH"

# redis-server, for the multi-instance test (tests/multi_instance.rs: two
# `spin up` over one Redis). The test starts its own on a free loopback port;
# no system service is started here. Installed from Debian's package when
# missing; in CI (CI=1, set by .ci/run) a missing redis-server fails that
# test, elsewhere it is skipped with a loud note.
install_redis() {
  local sudo=()
  if [ "$(id -u)" != 0 ]; then
    command -v sudo >/dev/null 2>&1 || return 1
    sudo=(sudo -n)
  fi
  command -v apt-get >/dev/null 2>&1 || return 1
  # Where no policy-rc.d keeps services from starting on install, one does
  # for the length of the install (and is removed again).
  local guard=""
  if [ ! -e /usr/sbin/policy-rc.d ]; then
    printf '#!/bin/sh\nexit 101\n' | "${sudo[@]}" tee /usr/sbin/policy-rc.d >/dev/null &&
      "${sudo[@]}" chmod 755 /usr/sbin/policy-rc.d && guard=1
  fi
  local install=("${sudo[@]}" env DEBIAN_FRONTEND=noninteractive
    apt-get install -y --no-install-recommends redis-server)
  local ok=0
  "${install[@]}" || { "${sudo[@]}" apt-get update && "${install[@]}"; } || ok=$?
  if [ -n "$guard" ]; then "${sudo[@]}" rm -f /usr/sbin/policy-rc.d; fi
  return "$ok"
}
if ! command -v redis-server >/dev/null 2>&1; then
  echo "test: installing redis-server (Debian package) for the multi-instance test" >&2
  install_redis || echo "test: WARNING — could not install redis-server" >&2
fi
if command -v redis-server >/dev/null 2>&1; then
  echo "test: multi-instance test runs with $(redis-server --version | cut -d' ' -f1-3)" >&2
elif [ "${CI:-}" = 1 ]; then
  echo "test: ERROR — no redis-server: the multi-instance test (tests/multi_instance.rs) will FAIL" >&2
else
  echo "test: NOTE — no redis-server: the multi-instance test (tests/multi_instance.rs) is SKIPPED" >&2
fi

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
if ! command -v redis-server >/dev/null 2>&1; then
  echo "test: NOTE — the multi-instance test was SKIPPED (no redis-server); install Debian's redis-server to run it" >&2
fi
