# Image and text learnwares through the real binary: spec, train, predict,
# pack, check, dock add, search and reuse, and the inputs they refuse.
. "$(dirname "$0")/lib.sh"

fm=/usr/share/datasets/fashion-mnist
[ -r "$fm/train-images-idx3-ubyte.gz" ] || {
  echo "FAIL: $fm is missing: install the Debian package dataset-fashion-mnist" >&2
  exit 1
}
train_img="$fm/train-images-idx3-ubyte.gz" train_lab="$fm/train-labels-idx1-ubyte.gz"
test_img="$fm/t10k-images-idx3-ubyte.gz" test_lab="$fm/t10k-labels-idx1-ubyte.gz"

# Three Debian sections, 160 descriptions each: 100 to train on, 60 for the user.
awk -F, 'NR == 1 || (($2 == "games" || $2 == "science" || $2 == "sound") && n[$2]++ < 160)' \
  "$LW_SHARED_DIR/data/debian_descriptions.csv" >"$WORK/t3.csv"
awk -F, 'NR == 1 || ++n[$2] <= 100' "$WORK/t3.csv" >"$WORK/texts.csv"
awk -F, 'NR == 1 || ++n[$2] > 100' "$WORK/t3.csv" >"$WORK/user_texts.csv"
# The first 200 test labels, one per line.
zcat "$test_lab" | tail -c +9 | head -c 200 | od -An -tu1 -v | tr -s ' ' '\n' | sed '/^$/d' \
  >"$WORK/truth.txt"

# accuracy PRED.csv TRUTH: the predictions' last column against one label per line.
accuracy() {
  paste -d, <(tail -n +2 "$1" | awk -F, '{ print $NF }') "$2" |
    awk -F, '{ ok += $1 == $2; n++ } END { printf "%.4f", ok / n }'
}
above() {
  checks=$((checks + 1))
  awk -v a="$1" -v b="$2" 'BEGIN { exit !(a > b) }' || fail "$1 is not above $2"
}
count_lines() {
  checks=$((checks + 1))
  [ "$(wc -l <"$1")" -eq "$2" ] || fail "$1 has $(wc -l <"$1") lines, expected $2"
}

# --- specifications ---------------------------------------------------------
img="$WORK/img" txt="$WORK/txt"
mkdir -p "$img" "$txt"
expect 0 "300 images (1 channel) -> 10 reduced images" -- "$LW" spec image "$train_img" \
  --limit 300 -k 10 --steps 3 -o "$img/stat_spec.json"
expect 0 "300 texts -> 20 reduced points in 256 dimensions" -- "$LW" spec text "$WORK/texts.csv" \
  -k 20 -o "$txt/stat_spec.json"
for f in "channels       1" "size           32 x 32" "points (K)     10" "self-distance" "images (n)"; do
  expect 0 "$f" -- "$LW" spec show "$img/stat_spec.json"
done
expect 0 '"k":10,"channels":1,"size":32,"num_points":null' -- "$LW" spec show --json "$img/stat_spec.json"
for f in "texts (n)      300" "points (K)     20" "dimension (d)  256" "languages      en" \
  "encoder        lw-text-hash-svd-256 version 1" "encoder hash   "; do
  expect 0 "$f" -- "$LW" spec show "$txt/stat_spec.json"
done
expect 0 '"type":"RKMETextSpecification","n":300,"k":20,"d":256' -- \
  "$LW" spec show --json "$txt/stat_spec.json"

# herd: an image specification's heaviest reduced images as a raw tensor, which reads back.
expect 0 "4 of 10 reduced images of 1 x 32 x 32" -- "$LW" spec herd "$img/stat_spec.json" -n 4 \
  -o "$WORK/z.lwten"
checks=$((checks + 1))
[ "$(stat -c %s "$WORK/z.lwten")" -eq $((40 + 4 * 1024 * 4)) ] || fail "z.lwten should hold 4 x 1 x 32 x 32 floats"
expect 0 "4 images (1 channel)" -- "$LW" spec image "$WORK/z.lwten" -k 2 --steps 1 -o "$WORK/zz.json"
expect 2 "missing -o OUT.lwten" -- "$LW" spec herd "$img/stat_spec.json" -n 4
# ... a text specification's herded rows are embeddings, e1..e256.
expect 0 "5 rows of 256 embedding dimensions" -- "$LW" spec herd "$txt/stat_spec.json" -n 5 \
  -o "$WORK/emb.csv" --seed 2
count_lines "$WORK/emb.csv" 6
checks=$((checks + 1))
head -1 "$WORK/emb.csv" | grep -q '^e1,e2,.*,e256$' || fail "emb.csv header: $(head -c 80 "$WORK/emb.csv")"

# --- train and predict ------------------------------------------------------
expect 0 "mlp classification on 300 images of 1 channel from $train_img: 300 rows x 1024 features, 10 classes" -- \
  "$LW" train --images "$train_img" --labels "$train_lab" --limit 300 --epochs 40 -o "$img/model.json"
expect 0 "" -- "$LW" predict "$img/model.json" --images "$test_img" --limit 200 -o "$WORK/img_pred.csv"
count_lines "$WORK/img_pred.csv" 201
checks=$((checks + 1))
[ "$(head -1 "$WORK/img_pred.csv")" = "p_0,p_1,p_2,p_3,p_4,p_5,p_6,p_7,p_8,p_9,label" ] ||
  fail "img_pred.csv header: $(head -1 "$WORK/img_pred.csv")"
above "$(accuracy "$WORK/img_pred.csv" "$WORK/truth.txt")" 0.6

expect 0 "logistic classification on 300 texts of $WORK/texts.csv (encoder lw-text-hash-svd-256): 300 rows x 256 features, 3 classes" -- \
  "$LW" train --text "$WORK/texts.csv" --label-column section -o "$txt/model.json"
expect 0 "" -- "$LW" predict "$txt/model.json" --text "$WORK/user_texts.csv" -o "$WORK/txt_pred.csv"
awk -F, 'NR > 1 { print $2 }' "$WORK/user_texts.csv" >"$WORK/sections.txt"
count_lines "$WORK/txt_pred.csv" 181
above "$(accuracy "$WORK/txt_pred.csv" "$WORK/sections.txt")" 0.7
# One text per line, labels in their own file.
awk -F, 'NR > 1 && NR <= 61 { print $3 }' "$WORK/texts.csv" | tr -d '"\r' >"$WORK/lines.txt"
awk -F, 'NR > 1 && NR <= 61 { print $2 }' "$WORK/texts.csv" >"$WORK/line_labels.txt"
expect 0 "on 60 texts of $WORK/lines.txt" -- "$LW" train --text "$WORK/lines.txt" \
  --labels "$WORK/line_labels.txt" -m mlp --epochs 5 -o "$WORK/lines.json"

# Bad inputs, each named with what to do.
seq 0 9 >"$WORK/ten.txt"
expect 3 "ten.txt: 10 labels for the 20 images read; give one label per image" -- \
  "$LW" train --images "$train_img" --limit 20 --labels "$WORK/ten.txt" -o "$WORK/x.json"
head -50 "$WORK/line_labels.txt" >"$WORK/fifty.txt"
expect 3 "fifty.txt: 50 labels for the 60 texts of $WORK/lines.txt" -- \
  "$LW" train --text "$WORK/lines.txt" --labels "$WORK/fifty.txt" -o "$WORK/x.json"
perl -e 'print "LWTEN\0\1\0", pack("Q<4", 2, 1, 16, 16), pack("f<*", map { $_ % 255 } 0 .. 511)' \
  >"$WORK/small.lwten"
expect 3 "must have one size" -- "$LW" train --images "$WORK/small.lwten" "$train_img" --limit 10 \
  --labels "$WORK/ten.txt" -o "$WORK/x.json"
expect 3 "--mixed-sizes" -- "$LW" train --images "$WORK/small.lwten" "$train_img" --limit 10 \
  --labels "$WORK/ten.txt" -o "$WORK/x.json"
expect 0 "10 images of 1 channel" -- "$LW" train --images "$WORK/small.lwten" "$train_img" \
  --mixed-sizes --limit 10 --labels "$WORK/ten.txt" --epochs 2 --holdout 0 -o "$WORK/mixed.json"
: >"$WORK/empty.txt"
expect 3 "empty.txt: has no text" -- "$LW" train --text "$WORK/empty.txt" --labels "$WORK/ten.txt" -o "$WORK/x.json"
printf '\n  \n\n' >"$WORK/blank.txt"
expect 3 "blank.txt: has no text" -- "$LW" predict "$txt/model.json" --text "$WORK/blank.txt"
expect 3 "not of labels" -- "$LW" train --images "$train_img" --limit 20 --labels "$test_img" -o "$WORK/x.json"
expect 4 "no label column 'genre'" -- "$LW" train --text "$WORK/texts.csv" --label-column genre -o "$WORK/x.json"
expect 3 "give 1024 columns (1-channel images of 32 x 32), but $txt/model.json takes 256 columns" -- \
  "$LW" predict "$txt/model.json" --images "$test_img" --limit 5
expect 2 "give --images or --text, not both" -- "$LW" train --images "$train_img" --text "$WORK/lines.txt" \
  --labels "$WORK/ten.txt" -o "$WORK/x.json"
expect 2 "missing the labels" -- "$LW" train --images "$train_img" -o "$WORK/x.json"
expect 2 "--target, --columns and --drop are for tables" -- "$LW" train --text "$WORK/texts.csv" \
  --target section -o "$WORK/x.json"
expect 2 "--text reads one file" -- "$LW" predict "$txt/model.json" --text "$WORK/lines.txt" "$WORK/x.txt"

# --- pack and check ---------------------------------------------------------
"$LW" semantic new --data Image --task Classification --library Others --scenario Business \
  --name "fashion items" --description "Fashion-MNIST clothing classes" --input-dim 1024 \
  --output-dim 10 -o "$img/semantic_specification.json" >/dev/null || fail "semantic new (image)"
"$LW" semantic new --data Text --task Classification --library Others --scenario Business \
  --name "debian sections" --description "games, science or sound, from a package description" \
  --output-dim 3 -o "$txt/semantic_specification.json" >/dev/null || fail "semantic new (text)"
expect 0 "packed 4 files" -- "$LW" pack "$img" -o "$WORK/img.zip" --kind mlp --model-file model.json \
  --semantic semantic_specification.json
expect 0 "packed 4 files" -- "$LW" pack "$txt" -o "$WORK/txt.zip" --kind logistic --model-file model.json \
  --semantic semantic_specification.json
expect 0 "statistical:   RKMEImageSpecification (stat_spec.json)" -- "$LW" unpack "$WORK/img.zip" -o "$WORK/u1"
expect 0 "mlp (model.json), input [1024], output [10]" -- "$LW" unpack "$WORK/img.zip" -o "$WORK/u2"
expect 0 "statistical:   RKMETextSpecification (stat_spec.json)" -- "$LW" unpack "$WORK/txt.zip" -o "$WORK/u3"
expect 0 "logistic (model.json), input [256], output [3]" -- "$LW" unpack "$WORK/txt.zip" -o "$WORK/u4"
# A manifest that calls an image specification a table one is packed, with a warning.
cp -r "$WORK/u1" "$WORK/mislabelled"
sed -i 's/RKMEImageSpecification/RKMETableSpecification/' "$WORK/mislabelled/learnware.yaml"
expect 0 "but stat_spec.json is a RKMEImageSpecification; the checker will refuse it" -- \
  "$LW" pack "$WORK/mislabelled" -o "$WORK/mislabelled.zip"

expect 0 "usable" -- "$LW" check "$WORK/img.zip"
expect 0 "RKMEImageSpecification" -- "$LW" check "$WORK/img.zip"
expect 0 "usable" -- "$LW" check "$WORK/txt.zip"
expect 0 "RKMETextSpecification" -- "$LW" check "$WORK/txt.zip"
expect 3 "" -- "$LW" check "$WORK/mislabelled.zip"

# --- dock, search and reuse -------------------------------------------------
# A second image learnware, to average with the first.
img2="$WORK/img2"
cp -r "$img" "$img2"
expect 0 "" -- "$LW" train --images "$train_img" --labels "$train_lab" --limit 300 --hidden 32 \
  --seed 5 --epochs 40 -q -o "$img2/model.json"
expect 0 "" -- "$LW" pack "$img2" -o "$WORK/img2.zip" -q --kind mlp --model-file model.json \
  --semantic semantic_specification.json
dock="$WORK/dock"
expect 0 "" -- "$LW" dock init "$dock"
expect 0 "00000001  usable" -- "$LW" dock add --dock "$dock" -q "$WORK/img.zip"
expect 0 "00000002  usable" -- "$LW" dock add --dock "$dock" -q "$WORK/txt.zip"
expect 0 "00000003  usable" -- "$LW" dock add --dock "$dock" -q "$WORK/img2.zip"

"$LW" spec image "$test_img" --limit 200 -k 10 --steps 3 -q -o "$WORK/user_img.json" || fail "user image spec"
"$LW" spec text "$WORK/user_texts.csv" -k 20 -q -o "$WORK/user_txt.json" || fail "user text spec"
expect 0 "fashion items" -- "$LW" search --dock "$dock" --rkme "$WORK/user_img.json"
expect 0 "00000002" -- "$LW" search --dock "$dock" --rkme "$WORK/user_txt.json"

expect 0 "200 predictions from 1 learnwares" -- "$LW" reuse --dock "$dock" --learnwares 00000001 \
  --method average --images "$test_img" --limit 200 -o "$WORK/r1.csv"
above "$(accuracy "$WORK/r1.csv" "$WORK/truth.txt")" 0.6
expect 0 "200 predictions from 2 learnwares" -- "$LW" reuse --dock "$dock" --learnwares 00000001,00000003 \
  --method average --images "$test_img" --limit 200 -o "$WORK/r2.csv"
above "$(accuracy "$WORK/r2.csv" "$WORK/truth.txt")" 0.6
expect 0 "200 predictions from 2 learnwares" -- "$LW" reuse --dock "$dock" --learnwares 00000001,00000003 \
  --method ensemble-pruning --images "$test_img" --labels "$test_lab" --limit 200 -o "$WORK/r3.csv"
above "$(accuracy "$WORK/r3.csv" "$WORK/truth.txt")" 0.6
expect 0 "200 predictions from 2 learnwares" -- "$LW" reuse --dock "$dock" --learnwares 00000001,00000003 \
  --method feature-augment --images "$test_img" --labels "$test_lab" --limit 200 -o "$WORK/r3a.csv"
above "$(accuracy "$WORK/r3a.csv" "$WORK/truth.txt")" 0.6

# Text: predictions are class indices, the classes sorted (games, science, sound).
sed 's/^games$/0/; s/^science$/1/; s/^sound$/2/' "$WORK/sections.txt" >"$WORK/section_ids.txt"
expect 0 "180 predictions from 1 learnwares" -- "$LW" reuse --dock "$dock" --learnwares 00000002 \
  --method average --text "$WORK/user_texts.csv" -o "$WORK/r4.csv"
above "$(accuracy "$WORK/r4.csv" "$WORK/section_ids.txt")" 0.7
expect 0 "180 predictions from 1 learnwares" -- "$LW" reuse --dock "$dock" --learnwares 00000002 \
  --method job-selector --text "$WORK/user_texts.csv" -o "$WORK/r5.csv"
expect 0 "180 predictions from 1 learnwares" -- "$LW" reuse --dock "$dock" --learnwares 00000002 \
  --method feature-augment --text "$WORK/user_texts.csv" --label-column section -o "$WORK/r6.csv"
above "$(accuracy "$WORK/r6.csv" "$WORK/section_ids.txt")" 0.7

# Inputs that do not fit the learnwares.
expect 3 "learnware 00000002 is a Text learnware, but the user's inputs are images (--images)" -- \
  "$LW" reuse --dock "$dock" --learnwares 00000001,00000002 --method average --images "$test_img" \
  --limit 20 -o "$WORK/x.csv"
expect 3 "learnware 00000001 is an Image learnware, but the user's inputs are texts (--text)" -- \
  "$LW" reuse --dock "$dock" --learnwares 00000001 --method average --text "$WORK/user_texts.csv" \
  -o "$WORK/x.csv"
expect 3 "is an Image learnware, but the user's inputs are a table (--data)" -- \
  "$LW" reuse --dock "$dock" --learnwares 00000001 --method average --data "$WORK/emb.csv" -o "$WORK/x.csv"
expect 3 "--method job-selector routes rows by table RKMEs" -- "$LW" reuse --dock "$dock" \
  --learnwares 00000001 --method job-selector --images "$test_img" --limit 20 -o "$WORK/x.csv"
expect 3 "ten.txt: 10 labels for the 20 images read" -- "$LW" reuse --dock "$dock" --learnwares 00000001 \
  --method ensemble-pruning --images "$test_img" --limit 20 --labels "$WORK/ten.txt" -o "$WORK/x.csv"
expect 2 "--method align maps table columns" -- "$LW" reuse --dock "$dock" --learnwares 00000001 \
  --method align --images "$test_img" -o "$WORK/x.csv"
expect 2 "--data, --columns, --drop and --target are for tables" -- "$LW" reuse --dock "$dock" \
  --learnwares 00000001 --method average --images "$test_img" --data "$WORK/emb.csv" -o "$WORK/x.csv"

for v in "train" "predict" "reuse" "spec herd" "spec show"; do
  expect 0 "usage: learnware $v" -- "$LW" $v --help
done
# --- the same through the server: submit, checked by a worker, searched ------
chmod 755 "$WORK" # the sandboxed check reads the uploads as another user
export XDG_CONFIG_HOME="$WORK/config"
unset LEARNWARE_SERVER LEARNWARE_TOKEN LEARNWARE_DOCK
serve_dock "$WORK/sdock"
"$LW" register --server "$url" --email ada@example.org --name Ada --password-stdin <<<"ada-password-1" \
  >/dev/null 2>&1 || fail "cannot register with the server"
"$LW" login --server "$url" --email ada@example.org --password-stdin <<<"ada-password-1" >/dev/null 2>&1 ||
  fail "cannot log in to the server"
expect 0 "usable  $WORK/img.zip" -- "$LW" submit "$WORK/img.zip" --wait -q
expect 0 "usable  $WORK/txt.zip" -- "$LW" submit "$WORK/txt.zip" --wait -q
expect 0 "fashion items" -- "$LW" search --server "$url" --rkme "$WORK/user_img.json"
code=$(curl -s -o "$WORK/resp.json" -w '%{http_code}' -F "rkme=@$WORK/user_txt.json" "$url/api/v1/search")
checks=$((checks + 1))
[ "$code" = 200 ] && [ "$(jq -r '.kind' "$WORK/resp.json")" = statistical ] &&
  [ "$(jq -r '.candidates' "$WORK/resp.json")" = 1 ] ||
  fail "server search with a text spec: $code $(head -c 300 "$WORK/resp.json")"
code=$(curl -s -o "$WORK/resp.json" -w '%{http_code}' -F 'rkme={"type":"RKMEImageSpecification"};type=application/json' \
  "$url/api/v1/search")
checks=$((checks + 1))
[ "$code" = 400 ] || fail "a malformed image spec should be a 400, not $code: $(head -c 300 "$WORK/resp.json")"

finish
