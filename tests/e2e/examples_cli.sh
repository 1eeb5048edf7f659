# The examples: examples/build_kinds.sh and examples/build_diamonds.sh build
# real learnwares from the shared data, and every one of them is usable.
. "$(dirname "$0")/lib.sh"

root=$(cd "$(dirname "$0")/../.." && pwd)
chmod 755 "$WORK"                     # the sandbox reads the packages from here
mkdir -m 755 "$WORK/tmp"
export TMPDIR="$WORK/tmp"             # check's unpacked copies go here, and away with $WORK
export LW LW_SHARED_DIR

# usable ZIP: the checker, run here and not by the script, says usable.
usable() {
  expect 0 "usable" -- "$LW" check -q "$1"
}

# Every runtime kind.
kinds="$WORK/kinds"
expect 0 "boston-sklearn.zip   python" -- bash "$root/examples/build_kinds.sh" "$kinds"
for name in boston-linear letter-logistic letter-mlp boston-xgboost boston-process boston-sklearn; do
  usable "$kinds/$name.zip"
  checks=$((checks + 1))
  grep -q "result      usable" "$kinds/$name.check.txt" 2>/dev/null ||
    fail "$name.check.txt does not end usable"
done
expect 0 "model:         process (process_model.py ...)" -- \
  "$LW" unpack "$kinds/boston-process.zip" -o "$WORK/process"
# The reference-format manifest names no kind: it reads as a python model.
expect 0 "model:         python (Model in __init__.py)" -- \
  "$LW" unpack "$kinds/boston-sklearn.zip" -o "$WORK/sklearn"
checks=$((checks + 1))
grep -q "kind" "$WORK/sklearn/learnware.yaml" && fail "the reference-format manifest names a kind"
expect 0 "Output.Dimension 26" -- "$LW" check "$kinds/letter-mlp.zip"

# The process model is honest: run outside the sandbox on boston's rows, it
# answers what `learnware predict` says the linear model does.
"$LW" predict "$kinds/boston-linear/model.json" "$LW_SHARED_DIR/data/boston.csv" \
  -o "$WORK/linear.csv"
checks=$((checks + 1))
/usr/bin/python3 - "$WORK/process/process_model.py" "$LW_SHARED_DIR/data/boston.csv" \
  "$WORK/linear.csv" <<'PYEOF' || fail "the process model disagrees with learnware predict"
import struct, subprocess, sys
prog, data, expected = sys.argv[1:]
rows = [[float(v) for v in line.split(",")[:13]] for line in open(data).read().split("\n")[1:] if line]
want = [float(line) for line in open(expected).read().split("\n")[1:] if line]
p = subprocess.run([prog], input=struct.pack("<QQ", len(rows), 13) +
                   struct.pack("<%dd" % (13 * len(rows)), *sum(rows, [])), capture_output=True)
assert p.stdout[:4] == b"LWMP" and struct.unpack("<III", p.stdout[4:16]) == (1, 13, 1), p.stdout[:16]
n, k = struct.unpack("<qQ", p.stdout[16:32])
got = struct.unpack("<%dd" % n, p.stdout[32:])
assert (n, k, p.returncode) == (len(want), 1, 0), (n, k, p.returncode, p.stderr)
worst = max(abs(a - b) / max(1.0, abs(b)) for a, b in zip(got, want))
assert worst < 1e-9, worst
PYEOF

# One XGBoost learnware per diamond cut.
diamonds="$WORK/diamonds"
expect 0 "result      usable" -- bash "$root/examples/build_diamonds.sh" "$diamonds"
for cut in fair good very_good premium ideal; do
  usable "$diamonds/$cut.zip"
  checks=$((checks + 1))
  [ -s "$diamonds/users/$cut.csv" ] || fail "no held-out rows for $cut"
done
# The examples in a dock, reused with text labels: class names come from
# the served models' files, so letters map to the models' classes.
chmod 755 "$WORK"
expect 0 "00000002  usable" -- "$LW" dock add -q --dock "$WORK/dock" "$kinds/letter-logistic.zip" "$kinds/letter-mlp.zip"
head -201 "$LW_SHARED_DIR/data/letter.csv" >"$WORK/letters.csv"
expect 0 "200 predictions from 2 learnwares" -- "$LW" reuse --dock "$WORK/dock" --learnwares 00000001,00000002 \
  --method feature-augment --task classification --data "$WORK/letters.csv" --target label -o "$WORK/letters_pred.csv"
printf 'x.box,y.box,width,high,onpix,x.bar,y.bar,x2bar,y2bar,xybar,x2ybr,xy2br,x.ege,xegvy,y.ege,yegvx,label\n2,8,3,5,1,8,13,0,6,6,10,8,0,8,0,8,T\n5,12,3,7,2,10,5,5,4,13,3,9,2,8,4,10,Q9\n' \
  >"$WORK/badlabel.csv"
expect 3 "label 2 'Q9' is not a class of learnware 00000001" -- "$LW" reuse --dock "$WORK/dock" \
  --learnwares 00000001,00000002 --method feature-augment --task classification --data "$WORK/badlabel.csv" \
  --target label -o "$WORK/x.csv"

finish
