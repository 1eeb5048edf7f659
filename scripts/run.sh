#!/usr/bin/env bash
# Set up, build, and run the dock's main job on a real data set.  Until the
# dock itself lands, the main job is the statistical specification: fit an
# RKME to the diamonds table (53,940 rows) and summarise it.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
. "$here/scripts/shared.sh"
LW_SHARED_DIR=$(lw_find_shared "$here")
export LW_SHARED_DIR
shared=$LW_SHARED_DIR

"$here/scripts/setup.sh" "$here/build"
lw="$here/build/learnware"
out="$here/build/out"
mkdir -p "$out"

data="$shared/data/diamonds.csv"
"$lw" spec table "$data" --drop cut,color,clarity,price -o "$out/diamonds.rkme.json"
"$lw" spec show "$out/diamonds.rkme.json"
