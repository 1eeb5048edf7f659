#!/usr/bin/env bash
# Build and run every benchmark.  Usage: scripts/bench.sh [--quick]
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
. "$here/scripts/shared.sh"
LW_SHARED_DIR=$(lw_find_shared "$here")
export LW_SHARED_DIR
"$here/scripts/setup.sh" "$here/build"
for b in "$here"/build/bench/bench_*; do
  echo "== $(basename "$b")"
  OMP_NUM_THREADS=${OMP_NUM_THREADS:-$(nproc)} "$b" "$@"
done
