#!/usr/bin/env bash
# Build and check one learnware of every model kind from the shared data:
#
#   boston-linear      linear     regression      trained by `learnware train`
#   letter-logistic    logistic   classification  trained by `learnware train`
#   letter-mlp         mlp        classification  trained by `learnware train`
#   boston-xgboost     xgboost    regression      trained by `learnware train`
#   boston-process     process    regression      a Python program speaking the
#                                                 model protocol, running the
#                                                 linear model's JSON
#   boston-sklearn     python     regression      the reference engine's format:
#                                                 __init__.py with a Model class
#                                                 and a scikit-learn model
#
# Each gets its RKME (`learnware spec table`) and semantic specification
# (`learnware semantic new`), is packed (`learnware pack`) and checked
# (`learnware check`, in the sandbox).  Ends with a summary; exits 1 unless
# every learnware is usable.
#
# Usage: examples/build_kinds.sh [OUT_DIR]   (default build/examples/kinds)
# Needs the learnware binary (scripts/setup.sh builds it), the shared data,
# bubblewrap, and Debian's /usr/bin/python3 with python3-numpy and
# python3-sklearn (scripts/setup.sh installs them).  $LW overrides the binary.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
. "$here/scripts/shared.sh"
shared=$(lw_find_shared "$here")
lw=${LW:-"$here/build/learnware"}
out=${1:-"$here/build/examples/kinds"}
src="$here/examples/kinds"
boston="$shared/data/boston.csv"   # 13 features, target `target` (1000 USD)
letter="$shared/data/letter.csv"   # 16 features, target `label` (A..Z)
py=/usr/bin/python3

rm -rf "$out"
mkdir -p "$out"
for c in {A..Z}; do echo "probability of the letter $c"; done >"$out/letter_classes.txt"
summary=()
failed=0

# specs NAME DATA TARGET: the learnware's folder with its RKME of DATA's
# features (every column but TARGET).  rkme.json unless $rkme says otherwise.
specs() {
  mkdir -p "$out/$1"
  "$lw" spec table "$2" --drop "$3" -o "$out/$1/${rkme:-rkme.json}" -q
}

# semantic NAME TASK LIBRARY SCENARIOS INPUT-DESC-FILE OUTPUT-OPTIONS... -- DESCRIPTION
# (the file name is semantic.json unless $sem says otherwise)
semantic() {
  local name=$1 task=$2 library=$3 scenario=$4 inputs=$5
  shift 5
  local outargs=()
  while [ "$1" != -- ]; do outargs+=("$1"); shift; done
  "$lw" semantic new --data Table --task "$task" --library "$library" \
    --scenario "$scenario" --license GPL-2.0 --name "$name" --description "$2" \
    --input-desc-file "$inputs" "${outargs[@]}" -o "$out/$name/${sem:-semantic.json}"
}

# held_out TRAIN-OUTPUT: "rmse 4.89" or "accuracy 0.93" from train's summary.
held_out() {
  sed -n 's/.*; \([a-z]*\) [0-9.]* train, \([0-9.]*\) held out.*/\1 \2/p' <<<"$1"
}

# finish NAME KIND TASK DATA METRIC [PACK-OPTIONS...]: pack the folder and
# check the zip; its log goes to NAME.check.txt.
finish() {
  local name=$1 kind=$2 task=$3 data=$4 metric=$5 verdict size
  shift 5
  "$lw" pack "$out/$name" -o "$out/$name.zip" -q "$@"
  verdict=usable
  "$lw" check "$out/$name.zip" >"$out/$name.check.txt" 2>&1 ||
    verdict=$(awk '$3 == "result" { print $4 }' "$out/$name.check.txt")
  verdict=${verdict:-error}
  [ "$verdict" = usable ] || failed=1
  size=$(du -k "$out/$name.zip" | cut -f1)
  summary+=("$(printf '%-20s %-9s %-15s %-11s %-16s %5s KiB  %s' "$name.zip" "$kind" "$task" \
    "$data" "$metric" "$size" "$verdict")")
  echo "$name: $verdict"
}

# The built-in and XGBoost kinds: `learnware train` makes the model and
# `pack --kind` writes the learnware.yaml.
# train TARGET KIND TASK DATA NAME [TRAIN-OPTIONS...]
train() {
  local target=$1 kind=$2 task=$3 data=$4 name=$5
  shift 5
  "$lw" train --model "$kind" --task "$task" "$data" --target "$target" --seed 1 \
    -o "$out/$name/model.json" "$@"
}

# 1. linear regression on boston.
specs boston-linear "$boston" target
semantic boston-linear Regression Others Business,Financial "$src/boston_features.txt" \
  --output-dim 1 -- "ridge regression of the median value of owner-occupied homes (1000 USD) of a Boston census tract"
r=$(train target linear regression "$boston" boston-linear)
echo "$r"
linear_metric=$(held_out "$r")
finish boston-linear linear regression boston.csv "$linear_metric" \
  --kind linear --model-file model.json --stat-spec rkme.json --semantic semantic.json \
  --input-shape 13 --output-shape 1 --name "boston house prices, linear"

# 2. logistic (softmax) regression on letter.
specs letter-logistic "$letter" label
semantic letter-logistic Classification Others Computer "$src/letter_features.txt" \
  --output-desc-file "$out/letter_classes.txt" -- "softmax regression recognising the letters A-Z from 16 statistics of a character image"
r=$(train label logistic classification "$letter" letter-logistic)
echo "$r"
finish letter-logistic logistic classification letter.csv "$(held_out "$r")" \
  --kind logistic --model-file model.json --stat-spec rkme.json --semantic semantic.json \
  --input-shape 16 --output-shape 26 --name "letter recognition, softmax"

# 3. MLP on letter (small and short so the example stays quick: the
#    defaults, --hidden 64,64 and up to 200 epochs, reach about 0.96).
specs letter-mlp "$letter" label
semantic letter-mlp Classification Others Computer "$src/letter_features.txt" \
  --output-desc-file "$out/letter_classes.txt" -- "ReLU network (one hidden layer of 64) recognising the letters A-Z from 16 statistics of a character image"
r=$(train label mlp classification "$letter" letter-mlp --hidden 64 --epochs 40)
echo "$r"
finish letter-mlp mlp classification letter.csv "$(held_out "$r")" \
  --kind mlp --model-file model.json --stat-spec rkme.json --semantic semantic.json \
  --input-shape 16 --output-shape 26 --name "letter recognition, MLP"

# 4. XGBoost on boston (build_diamonds.sh makes five more).
specs boston-xgboost "$boston" target
semantic boston-xgboost Regression Others Business,Financial "$src/boston_features.txt" \
  --output-dim 1 -- "gradient-boosted trees (XGBoost) predicting the median value of owner-occupied homes (1000 USD) of a Boston census tract"
r=$(train target xgboost regression "$boston" boston-xgboost)
echo "$r"
finish boston-xgboost xgboost regression boston.csv "$(held_out "$r")" \
  --kind xgboost --model-file model.json --stat-spec rkme.json --semantic semantic.json \
  --input-shape 13 --output-shape 1 --name "boston house prices, XGBoost"

# 5. A process model: any program in the package that speaks the model
#    protocol (docs/model-protocol.md).  This one is a Python script that
#    evaluates the linear model of step 1; the manifest says how to run it.
specs boston-process "$boston" target
semantic boston-process Regression Others Business,Financial "$src/boston_features.txt" \
  --output-dim 1 -- "the ridge regression of boston-linear, served by a stand-alone Python program over the model protocol"
install -m 755 "$src/process_model.py" "$out/boston-process/process_model.py"
cp "$out/boston-linear/model.json" "$out/boston-process/model.json"
cat >"$out/boston-process/learnware.yaml" <<'YAML'
format_version: 1
name: boston house prices, process
model:
  kind: process
  command: [process_model.py, model.json]
  input_shape: [13]
  output_shape: [1]
stat_specifications:
  - module_path: learnware.specification
    class_name: RKMETableSpecification
    file_name: rkme.json
    kwargs: {}
semantic_specification:
  file_name: semantic.json
YAML
finish boston-process process regression boston.csv "$linear_metric"

# 6. A learnware in the reference engine's format, as its Python client
#    writes them: learnware.yaml names no kind, only a Model class in
#    __init__.py; the files are stat_spec.json and
#    semantic_specification.json.  The model is scikit-learn's, trained and
#    pickled by Debian's python3-sklearn; the dock runs it with the same
#    /usr/bin/python3 through its shim.
if "$py" -c 'import numpy, sklearn' 2>/dev/null; then
  rkme=stat_spec.json specs boston-sklearn "$boston" target
  sem=semantic_specification.json semantic boston-sklearn Regression Scikit-learn \
    Business,Financial "$src/boston_features.txt" --output-dim 1 -- \
    "scikit-learn HistGradientBoostingRegressor predicting the median value of owner-occupied homes (1000 USD) of a Boston census tract"
  r=$("$py" "$src/reference/train.py" "$boston" "$out/boston-sklearn/model.pkl")
  echo "$r"
  cp "$src/reference/__init__.py" "$out/boston-sklearn/"
  cat >"$out/boston-sklearn/learnware.yaml" <<'YAML'
model:
  class_name: Model
  kwargs: {}
stat_specifications:
  - module_path: learnware.specification
    class_name: RKMETableSpecification
    file_name: stat_spec.json
    kwargs: {}
YAML
  finish boston-sklearn python regression boston.csv \
    "$(sed -n 's/.*\(rmse [0-9.]*\) held out.*/\1/p' <<<"$r")"
else
  echo "boston-sklearn: skipped: $py cannot import numpy and sklearn (install python3-sklearn)" >&2
  summary+=("$(printf '%-20s %-9s %-15s %-11s %-16s %5s      %s' boston-sklearn.zip python \
    regression boston.csv - - "skipped: no python3-sklearn")")
  failed=1
fi

echo
printf '%-20s %-9s %-15s %-11s %-16s %9s  %s\n' learnware kind task data "held out" size check
printf '%s\n' "${summary[@]}"
echo "learnwares in $out/*.zip, their folders beside them, check logs in $out/*.check.txt"
exit "$failed"
