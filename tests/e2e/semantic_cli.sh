# learnware semantic: the reference's files check clean, every bad
# specification gets its problems listed with exit 3, `new` writes the
# reference's bytes and refuses invalid input, and `taxonomy` lists it all.
. "$(dirname "$0")/lib.sh"

S30="$FIXTURES/search30"

# The reference's learnware files are valid; its user file is not a learnware.
for f in "$S30"/learnwares/*.semantic.json; do
  expect 0 "valid semantic specification" -- "$LW" semantic check "$f"
done
expect 3 "Name: is empty" -- "$LW" semantic check "$S30/user_semantic.json"
expect 3 "4 problems" -- "$LW" semantic check "$S30/user_semantic.json"
expect 3 "" -- "$LW" semantic check -q "$S30/user_semantic.json"

# `new` reproduces a reference file byte for byte (plus a final newline).
seq 0 9 | sed 's/^/feature /' >"$WORK/in.txt"
echo "sum of features" >"$WORK/out.txt"
expect 0 "" -- "$LW" semantic new --data Table --task Regression --library Scikit-learn \
  --scenario Education --license MIT --name blob_0 \
  --description "dummy regressor on gaussian blob 0" --input-desc-file "$WORK/in.txt" \
  --output-dim 1 --output-desc-file "$WORK/out.txt" -o "$WORK/blob_0.json"
checks=$((checks + 1))
cmp -s "$WORK/blob_0.json" <(cat "$S30/learnwares/00000000.semantic.json"; echo) ||
  fail "semantic new does not reproduce 00000000.semantic.json"

# License defaults to Apache-2.0; -o - writes to standard output.
expect 0 '"Apache-2.0"' -- "$LW" semantic new --data Image --task Others --library PyTorch \
  --scenario "Nature, Computer" --name cats --description "finds cats" -o -

# Every problem of an invalid specification, with what is allowed.
expect 3 "did you mean 'Financial'?" -- "$LW" semantic new --data Table --task Regression \
  --library Others --scenario Business,Finance --name n --description d --input-dim 2 \
  --output-dim 1 -o "$WORK/x.json"
expect 3 "Data: 'Tabel' is not an allowed value; allowed: Table, Image, Text; did you mean 'Table'?" -- \
  "$LW" semantic new --data Tabel --task Others --library Others --scenario Others --name n \
  --description d -o "$WORK/x.json"
expect 3 "Output: Dimension is 1; Task 'Classification' needs at least 2" -- \
  "$LW" semantic new --data Table --task Classification --library Others --scenario Others \
  --name n --description d --input-dim 2 --output-dim 1 -o "$WORK/x.json"
expect 3 "Input: missing; Data 'Table' requires it" -- "$LW" semantic new --data Table \
  --task Others --library Others --scenario Others --name n --description d -o "$WORK/x.json"
printf 'a\nb\nc\n' >"$WORK/three.txt"
expect 3 "key '2' is out of range; Dimension 2 allows 0 to 1" -- "$LW" semantic new \
  --data Table --task Others --library Others --scenario Others --name n --description d \
  --input-dim 2 --input-desc-file "$WORK/three.txt" -o "$WORK/x.json"
expect 3 "Name: missing" -- "$LW" semantic new --data Image --task Others --library Others \
  --scenario Others --description d -o "$WORK/x.json"

# Malformed specification files: one clear message each, exit 3 (4: missing).
cp "$S30/learnwares/00000001.semantic.json" "$WORK/ok.json"
sed 's/"Education"/"Finance"/' "$WORK/ok.json" >"$WORK/finance.json"
expect 3 "Scenario: 'Finance' is not an allowed value; allowed: Business, Financial," -- \
  "$LW" semantic check "$WORK/finance.json"
sed 's/"Dimension": 10/"Dimension": -10/' "$WORK/ok.json" >"$WORK/negdim.json"
expect 3 'Input: "Dimension" must be a non-negative integer' -- "$LW" semantic check "$WORK/negdim.json"
sed 's/"Dimension": 10/"Dimension": 2.5/' "$WORK/ok.json" >"$WORK/realdim.json"
expect 3 "found 2.5" -- "$LW" semantic check "$WORK/realdim.json"
sed 's/"Dimension": 10/"Dimension": 3/' "$WORK/ok.json" >"$WORK/smalldim.json"
expect 3 "keys '3', '4', '5', '6', '7', ... are out of range; Dimension 3 allows 0 to 2" -- \
  "$LW" semantic check "$WORK/smalldim.json"
sed 's/"9": "feature 9"/"nine": "feature 9"/' "$WORK/ok.json" >"$WORK/key.json"
expect 3 "\"Description\" key 'nine' is not a feature index" -- "$LW" semantic check "$WORK/key.json"
sed 's/"Dimension": 10/"Dimension": NaN/' "$WORK/ok.json" >"$WORK/nan.json"
expect 3 "NaN or Infinity is not JSON" -- "$LW" semantic check "$WORK/nan.json"
tr -d '\n ' <"$WORK/ok.json" | sed 's/"Values":\["Table"\]/"Values":"Table"/' >"$WORK/str.json"
expect 3 'Data: "Values" must be a list, like ["Table"], not a string' -- \
  "$LW" semantic check "$WORK/str.json"
head -c 100 "$WORK/ok.json" >"$WORK/cut.json"
expect 3 "cut.json: line" -- "$LW" semantic check "$WORK/cut.json"
printf '[1,2]' >"$WORK/array.json"
expect 3 "top level must be a JSON object" -- "$LW" semantic check "$WORK/array.json"
expect 4 "$WORK/nope.json" -- "$LW" semantic check "$WORK/nope.json"
head -c 70000000 /dev/zero >"$WORK/huge.json"
expect 3 "over the limit" -- "$LW" semantic check "$WORK/huge.json"

# A missing License is the reference's reload default, on request.
# (the License block is six lines in the reference's layout)
awk '/"License": \{/ { skip = 6 } skip > 0 { skip--; next } { print }' "$WORK/ok.json" \
  >"$WORK/nolicense.json"
expect 3 "License: missing" -- "$LW" semantic check "$WORK/nolicense.json"
expect 0 "valid" -- "$LW" semantic check --fill-defaults "$WORK/nolicense.json"

# The taxonomy, built in or extended from a file.
expect 0 "Scenario     Tag     required  Business, Financial" -- "$LW" semantic taxonomy
expect 0 '"format": "learnware-taxonomy"' -- "$LW" semantic taxonomy --json
cat >"$WORK/tax.json" <<'JSON'
{"format": "learnware-taxonomy", "extends": "builtin",
 "keys": {"Scenario": {"Values": ["Space"]}}}
JSON
expect 0 "Architecture, Others, Space" -- "$LW" semantic taxonomy -t "$WORK/tax.json"
sed 's/"Education"/"Space"/' "$WORK/ok.json" >"$WORK/space.json"
expect 3 "'Space' is not an allowed value" -- "$LW" semantic check "$WORK/space.json"
expect 0 "valid" -- "$LW" semantic check -t "$WORK/tax.json" "$WORK/space.json"
printf '{"format": "learnware-taxonomy", "kyes": {}}' >"$WORK/badtax.json"
expect 3 "unknown member 'kyes'" -- "$LW" semantic taxonomy -t "$WORK/badtax.json"
expect 4 "nope.json" -- "$LW" semantic check -t "$WORK/nope.json" "$WORK/ok.json"

# Bad command lines.
expect 2 "usage: learnware semantic" -- "$LW" semantic
expect 2 "unknown command 'frob'" -- "$LW" semantic frob
expect 2 "expected one SEM.json file, got 0" -- "$LW" semantic check
expect 2 "missing -o SEM.json" -- "$LW" semantic new --data Table
expect 2 "--input-dim expects a non-negative integer" -- "$LW" semantic new --input-dim -2 -o "$WORK/x.json"
expect 2 "--set expects KEY=VALUES" -- "$LW" semantic new --set Data -o "$WORK/x.json"
expect 4 "'Colour' is not a key of the taxonomy" -- "$LW" semantic new --set Colour=red -o "$WORK/x.json"
expect 4 "nope.txt" -- "$LW" semantic new --input-desc-file "$WORK/nope.txt" -o "$WORK/x.json"
for sub in check new taxonomy; do
  expect 0 "usage: learnware semantic $sub" -- "$LW" semantic "$sub" --help
done
expect 0 "usage: learnware semantic" -- "$LW" semantic --help

# A refused specification leaves no output behind.
checks=$((checks + 1))
[ ! -e "$WORK/x.json" ] || fail "a refused specification wrote x.json"
finish
