# learnware train / predict: from a CSV to a model file and back, through the real binary.
. "$(dirname "$0")/lib.sh"

data="$LW_SHARED_DIR/data"
boston="$data/boston.csv"
xgbdir="${LW_TEST_DATA:?set LW_TEST_DATA to tests/data}/xgboost"
letters="$WORK/letter.csv"
head -3001 "$data/letter.csv" >"$letters"

# rmse PRED.csv DATA.csv COL: RMSE of the first prediction column against column COL.
rmse() {
  paste -d, "$1" "$2" | awk -F, -v c="$3" 'NR > 1 { d = $1 - $(c + 1); s += d * d; n++ }
    END { printf "%.6f", sqrt(s / n) }'
}
# accuracy PRED.csv DATA.csv: the label column (last) against the data's last column.
accuracy() {
  paste -d, "$1" "$2" | awk -F, -v k="$(head -1 "$1" | awk -F, '{ print NF }')" \
    'NR > 1 { ok += $k == $NF; n++ } END { printf "%.6f", ok / n }'
}
# below A B: A < B
below() {
  checks=$((checks + 1))
  awk -v a="$1" -v b="$2" 'BEGIN { exit !(a < b) }' || fail "$1 is not below $2"
}

# Each kind trains and prints its summary.
expect 0 "linear regression on $boston: 506 rows x 13 features" -- \
  "$LW" train -m linear "$boston" -t target -o "$WORK/lin.json"
expect 0 "rmse" -- "$LW" train --model mlp --task regression "$boston" --target target \
  --epochs 100 --hidden 32 --seed 4 -o "$WORK/mlp.json"
expect 0 "26 classes" -- "$LW" train -m logistic "$letters" -t label -o "$WORK/lr.json"
expect 0 "rounds" -- "$LW" train -m xgboost --task classification "$letters" -t label \
  --rounds 15 --max-depth 3 --threads 2 -o "$WORK/xgb.ubj"
expect 0 "fit on 506 rows, 0 held out" -- "$LW" train -m xgboost --task regression "$boston" \
  -t 14 --holdout 0 --rounds 30 --eta 0.3 -o "$WORK/xgb.json" --threads 2

# The same seed gives the same file.
expect 0 "" -- "$LW" train --model mlp --task regression "$boston" --target target \
  --epochs 100 --hidden 32 --seed 4 -o "$WORK/mlp2.json" -q
checks=$((checks + 1))
cmp -s "$WORK/mlp.json" "$WORK/mlp2.json" || fail "mlp with the same seed differs"

# Predictions: the model picks its columns by name, so the target column may stay.
expect 0 "" -- "$LW" predict "$WORK/lin.json" "$boston" -o "$WORK/lin.csv"
checks=$((checks + 1))
[ "$(head -1 "$WORK/lin.csv")" = prediction ] && [ "$(wc -l <"$WORK/lin.csv")" -eq 507 ] ||
  fail "lin.csv should hold a 'prediction' header and 506 rows"
below "$(rmse "$WORK/lin.csv" "$boston" 14)" 5.0
expect 0 "" -- "$LW" predict "$WORK/mlp.json" "$boston" -o "$WORK/mlp.csv"
below "$(rmse "$WORK/mlp.csv" "$boston" 14)" 4.5
expect 0 "" -- "$LW" predict "$WORK/xgb.json" "$boston" -o "$WORK/xgbr.csv"
below "$(rmse "$WORK/xgbr.csv" "$boston" 14)" 4.0

expect 0 "" -- "$LW" predict "$WORK/lr.json" "$letters" -o "$WORK/lr.csv"
checks=$((checks + 1))
head -1 "$WORK/lr.csv" | grep -q '^p_A,p_B,.*,p_Z,label$' || fail "lr.csv header: $(head -1 "$WORK/lr.csv")"
below 0.7 "$(accuracy "$WORK/lr.csv" "$letters")"
expect 0 "" -- "$LW" predict "$WORK/xgb.ubj" "$letters" -o "$WORK/xgb.csv"
below 0.7 "$(accuracy "$WORK/xgb.csv" "$letters")"
expect 0 "p_A," -- "$LW" predict --kind xgboost "$WORK/xgb.ubj" "$letters"

# Python's xgboost models run too (feature names read from the file).
expect 0 "" -- "$LW" predict "$xgbdir/boston_reg.json" "$boston" -o "$WORK/py.csv"
below "$(rmse "$WORK/py.csv" "$boston" 14)" 3.0
expect 0 "" -- "$LW" predict "$xgbdir/letter_abc.ubj" "$letters" -c 1-16 -o "$WORK/py3.csv"
checks=$((checks + 1))
[ "$(head -1 "$WORK/py3.csv")" = "p_0,p_1,p_2,label" ] || fail "py3.csv header: $(head -1 "$WORK/py3.csv")"

# Bad command lines and bad inputs.
expect 2 "missing --target" -- "$LW" train -m linear "$boston" -o "$WORK/x.json"
expect 2 "missing --task" -- "$LW" train -m mlp "$boston" -t target -o "$WORK/x.json"
expect 2 "--model must be" -- "$LW" train -m forest "$boston" -t target -o "$WORK/x.json"
expect 2 "--hidden takes" -- "$LW" train -m mlp --task regression --hidden 8,0 "$boston" -t target -o "$WORK/x.json"
expect 4 "--target names no column 'price'" -- "$LW" train -m linear "$boston" -t price -o "$WORK/x.json"
expect 3 "is 'T', not a number" -- "$LW" train -m linear "$letters" -t label -o "$WORK/x.json"
expect 3 "for regression use linear" -- "$LW" train -m logistic --task regression "$boston" -t target -o "$WORK/x.json"
printf 'a,b,y\n1,2,x\n3,4,x\n5,6,x\n' >"$WORK/one.csv"
expect 3 "every row has the same class (x)" -- "$LW" train -m logistic "$WORK/one.csv" -t y -o "$WORK/x.json"
printf 'a,b,y\n1,2,5\n3,4,5\n5,6,5\n' >"$WORK/const.csv"
expect 3 "the target is the same (5) in every row" -- "$LW" train -m linear "$WORK/const.csv" -t y -o "$WORK/x.json"
printf 'a,b,y\n1,2,5\n3,4,NA\n5,6,7\n' >"$WORK/nan.csv"
expect 3 "row 3: the target 'y' is missing ('NA')" -- "$LW" train -m linear "$WORK/nan.csv" -t y -o "$WORK/x.json"
printf 'a,b,y\n' >"$WORK/empty.csv"
expect 3 "no data rows" -- "$LW" train -m linear "$WORK/empty.csv" -t y -o "$WORK/x.json"
checks=$((checks + 1))
[ ! -e "$WORK/x.json" ] || fail "a failed train left a model file"

expect 3 "expects 13 input columns, got 5" -- "$LW" predict "$WORK/lin.json" "$boston" -c 1-5
expect 3 "is an XGBoost model, not a mlp model" -- "$LW" predict --kind mlp "$WORK/xgb.ubj" "$letters"
head -c 300 "$WORK/lin.json" >"$WORK/cut.json"
expect 3 "cut.json: line" -- "$LW" predict "$WORK/cut.json" "$boston"
sed 's/"x_mean":\[[-0-9.e]*/"x_mean":[NaN/' "$WORK/lin.json" >"$WORK/nan.json"
expect 3 "NaN or Infinity" -- "$LW" predict "$WORK/nan.json" "$boston"
head -c 2000 "$WORK/xgb.ubj" >"$WORK/cut.ubj"
expect 3 "not a well-formed XGBoost UBJ model" -- "$LW" predict "$WORK/cut.ubj" "$letters"
expect 4 "" -- "$LW" predict "$WORK/none.json" "$boston"

for v in train predict; do
  expect 0 "usage: learnware $v" -- "$LW" $v --help
done
expect 0 "train    fit" -- "$LW" help
finish
