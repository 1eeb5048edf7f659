# learnware check: real learnwares of every model kind pass, and hostile or
# broken ones fail with a clear log line while the checker stays unharmed.
. "$(dirname "$0")/lib.sh"

boston="$LW_SHARED_DIR/data/boston.csv"
PY=/usr/bin/python3
chmod 755 "$WORK"
limits=(--timeout 3 --memory 512 --cpu 5)

# A semantic specification and RKME for the 13 Boston features.
seq 1 13 | sed 's/^/feature /' >"$WORK/desc.txt"
"$LW" semantic new --data Table --task Regression --library Others --scenario Business \
  --license MIT --name "boston house prices" --description "median value in thousand dollars" \
  --input-desc-file "$WORK/desc.txt" --output-dim 1 -o "$WORK/semantic.json" >/dev/null
"$LW" spec table "$boston" --drop target -o "$WORK/rkme.json" -q

# new_package DIR KIND-LINES...: a folder with the specs and a learnware.yaml.
new_package() {
  local dir=$1
  shift
  mkdir -p "$dir"
  cp "$WORK/semantic.json" "$WORK/rkme.json" "$dir/"
  {
    echo "model:"
    printf '  %s\n' "$@"
    echo "stat_specifications:"
    echo "  - {module_path: learnware.specification, class_name: RKMETableSpecification, file_name: rkme.json, kwargs: {}}"
    echo "semantic_specification: {file_name: semantic.json}"
  } >"$dir/learnware.yaml"
}

# Built-in and XGBoost models trained here, checked through the sandbox.
for kind in linear xgboost; do
  new_package "$WORK/$kind" "kind: $kind" "file: model.json"
  "$LW" train --model "$kind" --task regression "$boston" --target target -o "$WORK/$kind/model.json" -q
  expect 0 "" -- "$LW" pack "$WORK/$kind" -o "$WORK/$kind.zip"
  expect 0 "result      usable" -- "$LW" check "$WORK/$kind.zip" "${limits[@]}"
done
expect 0 "in the sandbox" -- "$LW" check "$WORK/linear.zip" "${limits[@]}"

# A process model: a Python program speaking the protocol (predicts the row mean).
proc_model() {
  new_package "$WORK/$1" "kind: process" "command: [model.py]"
  cat >"$WORK/$1/model.py"
  chmod 755 "$WORK/$1/model.py"
}
proc_model good <<'PYEOF'
#!/usr/bin/python3
import struct, sys
inp, out = sys.stdin.buffer, sys.stdout.buffer
out.write(b"LWMP" + struct.pack("<III", 1, 13, 1)); out.flush()
while True:
    head = inp.read(16)
    if len(head) < 16: break
    rows, cols = struct.unpack("<QQ", head)
    vals = struct.unpack("<%dd" % (rows * cols), inp.read(8 * rows * cols))
    means = [sum(vals[i * cols:(i + 1) * cols]) / cols for i in range(rows)]
    out.write(struct.pack("<qQ", rows, 1) + struct.pack("<%dd" % rows, *means)); out.flush()
PYEOF
expect 0 "result      usable" -- "$LW" check "$WORK/good" "${limits[@]}"

# Hostile process models: each fails the check with a line saying why.
hostile() {
  local name=$1 fragment=$2
  proc_model "$name"
  expect 3 "$fragment" -- "$LW" check "$WORK/$name" "${limits[@]}"
}
hostile crash "Segmentation fault" <<'EOF2'
#!/bin/bash
kill -SEGV $$
EOF2
hostile hang "wall-clock" <<'EOF2'
#!/bin/bash
while :; do :; done
EOF2
hostile garbage "LWMP" <<'EOF2'
#!/bin/bash
echo "Hello, I am not a model"
sleep 5
EOF2
hostile forkbomb "FAIL" <<'EOF2'
#!/bin/bash
f() { f | f & }
f
sleep 10
EOF2
hostile diskfill "FAIL" <<'EOF2'
#!/bin/bash
dd if=/dev/zero of=/tmp/fill bs=1M count=4096 2>&1
dd if=/dev/zero of=/learnware/fill bs=1M count=16 2>&1
exit 1
EOF2
hostile network "Network is unreachable" <<'EOF2'
#!/usr/bin/python3
import socket, sys
try:
    socket.create_connection(("1.1.1.1", 53), timeout=2)
    sys.stderr.write("connected!\n")
except OSError as e:
    sys.stderr.write("network: %s\n" % e)
sys.exit(2)
EOF2
hostile memory "FAIL" <<'EOF2'
#!/usr/bin/python3
x = bytearray(10 << 30)
EOF2
checks=$((checks + 1))
[ ! -e "$WORK/diskfill/fill" ] || fail "the disk filler wrote into the package"

# A reference-format learnware: scikit-learn model behind __init__.py.
new_package "$WORK/ref" "class_name: Model" "kwargs: {}"
mv "$WORK/ref/rkme.json" "$WORK/ref/stat_spec.json"
sed -i 's/file_name: rkme.json/file_name: stat_spec.json/' "$WORK/ref/learnware.yaml"
$PY - "$boston" "$WORK/ref/model.pkl" <<'PYEOF'
import pickle, sys, numpy as np
from sklearn.linear_model import Ridge
d = np.genfromtxt(sys.argv[1], delimiter=",", skip_header=1)
pickle.dump(Ridge().fit(d[:, :-1], d[:, -1]), open(sys.argv[2], "wb"))
PYEOF
cat >"$WORK/ref/__init__.py" <<'PYEOF'
import os, pickle
import numpy as np
from learnware.model import BaseModel

class Model(BaseModel):
    def __init__(self):
        super().__init__(input_shape=(13,), output_shape=(1,))
        with open(os.path.join(os.path.dirname(__file__), "model.pkl"), "rb") as f:
            self.model = pickle.load(f)
    def fit(self, X, y): pass
    def finetune(self, X, y): pass
    def predict(self, X):
        return self.model.predict(np.asarray(X)).reshape(-1, 1)
PYEOF
chmod -R a+rX "$WORK/ref"
(cd "$WORK" && $PY -c "import shutil; shutil.make_archive('ref', 'zip', '.', 'ref')")
expect 0 "result      usable" -- "$LW" check "$WORK/ref.zip" "${limits[@]}"

# Broken specifications.
new_package "$WORK/badsem" "kind: linear" "file: model.json"
cp "$WORK/linear/model.json" "$WORK/badsem/"
sed -i 's/"Business"/"Finance"/' "$WORK/badsem/semantic.json"
expect 3 "Finance" -- "$LW" check "$WORK/badsem" "${limits[@]}"
new_package "$WORK/baddim" "kind: linear" "file: model.json"
cp "$WORK/linear/model.json" "$WORK/baddim/"
"$LW" spec table "$boston" -o "$WORK/baddim/rkme.json" -q
expect 3 "dimension 14" -- "$LW" check "$WORK/baddim" "${limits[@]}"

# Not a learnware at all.
printf 'not a zip' >"$WORK/junk.zip"
expect 3 "junk.zip" -- "$LW" check "$WORK/junk.zip"
expect 2 "expected one learnware" -- "$LW" check
expect 0 "usage: learnware check" -- "$LW" check --help
finish
