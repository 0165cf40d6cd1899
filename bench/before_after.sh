#!/usr/bin/env bash
# An older build's chat row against this one's, in the same run: bench/run.sh's
# team section (TEAM_ONLY=1 unless set) plus alternating rounds (ROUNDS,
# default 5, of ROUND_SECONDS, default 5) of the older p3 components and the
# current ones, under wasmtime serve and spin up. Build the older components
# elsewhere (a worktree at the older commit, with bench/run.sh's cargo flags:
#   --release --target wasm32-wasip2 --no-default-features --features wasi   (wasi p3)
#   --release --target wasm32-wasip2                                         (spin p3))
# and pass their paths:
#   bench/before_after.sh OLD_WASI_P3.wasm [OLD_SPIN_P3.wasm]
set -euo pipefail
[ $# -ge 1 ] || { echo "usage: $0 OLD_WASI_P3.wasm [OLD_SPIN_P3.wasm]" >&2; exit 2; }
BEFORE_WASI=$(realpath "$1") BEFORE_SPIN=${2:+$(realpath "$2")} TEAM_ONLY=${TEAM_ONLY-1} \
  exec "$(dirname "$0")/run.sh"
