#!/usr/bin/env bash
# Build and run every benchmark.  Usage: scripts/bench.sh [--quick | --full]
#
#   (none)   the default sizes; bench_search stops at 1e5 learnwares (a few minutes)
#   --quick  small sizes only; bench_search stops at 1e4
#   --full   bench_search goes on to 1e6 learnwares (about 10 to 15 minutes on 2 cores);
#            the other benches run their default sizes
#
# LW_BENCH_MAX=N sets bench_search's largest size directly (it wins over the
# default, --quick and --full win over it).  Output goes to stdout; progress
# lines go to stderr.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
mode=${1:-}
case "$mode" in
  "" | --quick | --full) ;;
  *) echo "usage: scripts/bench.sh [--quick | --full]" >&2; exit 2 ;;
esac
. "$here/scripts/shared.sh"
LW_SHARED_DIR=$(lw_find_shared "$here")
export LW_SHARED_DIR
"$here/scripts/setup.sh" "$here/build"
for b in "$here"/build/bench/bench_*; do
  name=$(basename "$b")
  args=()
  case "$name:$mode" in
    *:) ;;
    bench_search:*) args=("$mode") ;;
    *:--quick) args=(--quick) ;;          # the others know --quick; --full is bench_search's
  esac
  echo "== $name ${args[*]}"
  OMP_NUM_THREADS=${OMP_NUM_THREADS:-$(nproc)} "$b" "${args[@]}"
done
