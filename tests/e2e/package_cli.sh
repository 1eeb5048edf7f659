# learnware pack / unpack: a folder into a reproducible zip and back, with
# hostile archives refused before anything is written.
. "$(dirname "$0")/lib.sh"

spec='{"z":[[1,2]],"beta":[1],"gamma":0.1,"num_points":3,"type":"RKMETableSpecification"}'
src="$WORK/src"
mkdir -p "$src/docs"
printf 'name: demo\nmodel:\n  kind: linear\n  file: model.json\n  input_shape: [2]\n' >"$src/learnware.yaml"
printf '{"kind":"linear"}' >"$src/model.json"
printf '%s' "$spec" >"$src/stat_spec.json"
printf '# demo\n' >"$src/docs/README.md"

# Pack: a summary of what went in; the same folder gives the same bytes.
expect 0 "packed 4 files" -- "$LW" pack "$src" -o "$WORK/lw.zip"
expect 0 "linear (model.json), input [2]" -- "$LW" pack "$src" -o "$WORK/lw.zip"
touch -d '2001-01-01' "$src/model.json"
"$LW" pack "$src" -o "$WORK/again.zip" -q
checks=$((checks + 1))
cmp -s "$WORK/lw.zip" "$WORK/again.zip" || fail "packing the same folder twice gave different zips"

# Unpack: the same files back, and the manifest summary.
expect 0 "unpacked $WORK/lw.zip into $WORK/out: 4 files" -- "$LW" unpack "$WORK/lw.zip" -o "$WORK/out"
for f in learnware.yaml model.json stat_spec.json docs/README.md; do
  checks=$((checks + 1))
  cmp -s "$src/$f" "$WORK/out/$f" || fail "$f differs after pack and unpack"
done
expect 3 "exists and is not empty" -- "$LW" unpack "$WORK/lw.zip" -o "$WORK/out"
expect 0 "RKMETableSpecification (stat_spec.json)" -- "$LW" unpack "$WORK/lw.zip" -o "$WORK/out2" --max-entries 4

# A folder without learnware.yaml, described on the command line.
mkdir "$WORK/bare"
cp "$src/model.json" "$src/stat_spec.json" "$WORK/bare/"
expect 0 "packed 3 files" -- "$LW" pack "$WORK/bare" -o "$WORK/bare.zip" --kind logistic --model-file model.json --output-shape 3
expect 0 "logistic (model.json), output [3]" -- "$LW" unpack "$WORK/bare.zip" -o "$WORK/bare_out"
expect 2 "--kind must be linear, logistic" -- "$LW" pack "$WORK/bare" -o "$WORK/x.zip" --kind tensorflow --model-file m

# Folders that cannot be packed: nothing is written.
printf 'model:\n  kind: tensorflow\n' >"$WORK/bare/learnware.yaml"
expect 3 "learnware.yaml: model.kind: 'tensorflow' is not a model kind; use one of linear" -- \
  "$LW" pack "$WORK/bare" -o "$WORK/x.zip"
printf 'model:\n  kind: xgboost\n  file: trees.json\n' >"$WORK/bare/learnware.yaml"
expect 4 "model.file: 'trees.json' is not in the package" -- "$LW" pack "$WORK/bare" -o "$WORK/x.zip"
printf 'model:\n  kind: linear\n  file: model.json\n' >"$WORK/bare/learnware.yaml"
ln -s /etc/passwd "$WORK/bare/passwd"
expect 3 "passwd is a symbolic link" -- "$LW" pack "$WORK/bare" -o "$WORK/x.zip"
expect 4 "nosuch" -- "$LW" pack "$WORK/nosuch" -o "$WORK/x.zip"
checks=$((checks + 1))
[ ! -e "$WORK/x.zip" ] || fail "a failed pack wrote x.zip"

# Hostile archives: a name climbing out ('xxevil' renamed '../evi' in the bytes),
# too many entries, not a zip.  Nothing may be left behind.
mkdir "$WORK/evil"
cp "$src/learnware.yaml" "$src/model.json" "$src/stat_spec.json" "$WORK/evil/"
printf 'pwned\n' >"$WORK/evil/xxevil"
"$LW" pack "$WORK/evil" -o "$WORK/evil.zip" -q
perl -pi -e 's{xxevil}{../evi}g' "$WORK/evil.zip"
expect 3 "entry '../evi' has a '..' component; refusing the archive" -- \
  "$LW" unpack "$WORK/evil.zip" -o "$WORK/evil_out"
expect 3 "holds 4 entries, over the limit of 3" -- "$LW" unpack "$WORK/lw.zip" -o "$WORK/few" --max-entries 3
printf 'not a zip' >"$WORK/junk.zip"
expect 3 "is not a zip archive" -- "$LW" unpack "$WORK/junk.zip" -o "$WORK/junk_out"
expect 4 "nosuch.zip" -- "$LW" unpack "$WORK/nosuch.zip" -o "$WORK/nosuch_out"
for d in evil_out few junk_out nosuch_out; do
  checks=$((checks + 1))
  [ ! -e "$WORK/$d" ] || fail "a refused unpack left $d behind"
done
checks=$((checks + 1))
[ ! -e "$WORK/evi" ] && [ ! -e "$WORK/../evi" ] || fail "the hostile entry was written"

# A reference-style zip of the folder itself (one top folder) when zip is installed.
if command -v zip >/dev/null; then
  mkdir -p "$WORK/ref/my_learnware"
  printf 'model:\n  class_name: MyModel\n' >"$WORK/ref/my_learnware/learnware.yaml"
  printf 'class MyModel:\n    pass\n' >"$WORK/ref/my_learnware/__init__.py"
  printf '%s' "$spec" >"$WORK/ref/my_learnware/stat_spec.json"
  (cd "$WORK/ref" && zip -qr ../ref.zip my_learnware)
  expect 0 "top folder 'my_learnware' stripped" -- "$LW" unpack "$WORK/ref.zip" -o "$WORK/ref_out"
  expect 0 "python (MyModel in __init__.py)" -- "$LW" unpack "$WORK/ref.zip" -o "$WORK/ref_out2"
fi

# Command lines.
expect 0 "usage: learnware pack DIR -o OUT.zip" -- "$LW" pack --help
expect 0 "usage: learnware unpack ZIP -o DIR" -- "$LW" unpack --help
expect 2 "missing -o" -- "$LW" pack "$src"
expect 2 "missing the zip to unpack" -- "$LW" unpack -o "$WORK/o"
expect 2 "--max-ratio must be at least 1" -- "$LW" unpack "$WORK/lw.zip" -o "$WORK/o" --max-ratio 0.5
expect 2 "--input-shape expects positive integers" -- "$LW" pack "$src" -o "$WORK/o.zip" --kind linear --input-shape 3,x
finish
