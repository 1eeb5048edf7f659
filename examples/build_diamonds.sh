#!/usr/bin/env bash
# Build one XGBoost learnware per cut of the diamonds table, end to end with
# this project alone: split, train, specify, describe, pack, check.
#
# Usage: examples/build_diamonds.sh [OUT_DIR]   (default build/examples/diamonds)
# Needs the learnware binary (scripts/setup.sh builds it) and the shared data.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
. "$here/scripts/shared.sh"
shared=$(lw_find_shared "$here")
lw=${LW:-"$here/build/learnware"}
out=${1:-"$here/build/examples/diamonds"}
data="$shared/data/diamonds.csv"
features="carat,depth,table,x,y,z"

rm -rf "$out"
mkdir -p "$out/users"
cat >"$out/features.txt" <<'DESC'
carat: weight of the diamond
depth: total depth percentage, 2 * z / (x + y)
table: width of the top relative to the widest point
x: length in mm
y: width in mm
z: depth in mm
DESC
for cut in Fair Good "Very Good" Premium Ideal; do
  slug=$(tr 'A-Z ' 'a-z_' <<<"$cut")
  dir="$out/$slug"
  mkdir -p "$dir"
  # Rows of this cut; every fifth goes to the user's test split, the rest trains.
  awk -F, -v cut="$cut" -v train="$dir/train.csv" -v test="$out/users/$slug.csv" '
    NR == 1 { print > train; print > test; next }
    $2 == cut { if (++n % 5 == 0) print > test; else print > train }' "$data"

  "$lw" train --model xgboost --task regression "$dir/train.csv" --target price \
    --columns "$features" --seed 1 -o "$dir/model.json" -q
  "$lw" spec table "$dir/train.csv" --columns "$features" -o "$dir/rkme.json" -q
  "$lw" semantic new --data Table --task Regression --library Others \
    --scenario Business --license MIT --name "diamond price, $cut cut" \
    --description "XGBoost regressor of diamond prices (USD) for the $cut cut, from carat, depth, table and x/y/z size" \
    --input-desc-file "$out/features.txt" --output-dim 1 -o "$dir/semantic.json"
  cat >"$dir/learnware.yaml" <<YAML
format_version: 1
name: diamonds-$slug
model:
  kind: xgboost
  file: model.json
  input_shape: [6]
  output_shape: [1]
stat_specifications:
  - module_path: learnware.specification
    class_name: RKMETableSpecification
    file_name: rkme.json
    kwargs: {}
semantic_specification:
  file_name: semantic.json
YAML
  rm "$dir/train.csv"
  "$lw" pack "$dir" -o "$out/$slug.zip" -q
  "$lw" check "$out/$slug.zip"
done
echo "learnwares in $out/*.zip; each cut's held-out rows in $out/users/"
