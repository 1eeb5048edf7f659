# learnware reuse and learnware fit: every reuser of the reference on a dock
# whose answers are known, fit-then-predict equal to reuse, and clear errors.
. "$(dirname "$0")/lib.sh"

market="$FIXTURES/search30"
export LEARNWARE_DOCK="$WORK/dock"

# Learnware k (fixture blob k) predicts (k+1) * sum(x): averages and subsets are exact.
for k in 0 1 2; do
  id=$(printf '%08d' "$k")
  dir="$WORK/src/$k"
  mkdir -p "$dir"
  cp "$market/learnwares/$id.rkme.json" "$dir/stat_spec.json"
  cp "$market/learnwares/$id.semantic.json" "$dir/semantic_specification.json"
  w=$((k + 1))
  printf '{"format":"learnware-model","version":1,"kind":"linear","task":"regression","input_dim":10,"output_dim":1,"layers":[{"weights":[[%s]],"bias":[0],"activation":"identity"}]}' \
    "$w,$w,$w,$w,$w,$w,$w,$w,$w,$w" >"$dir/model.json"
  "$LW" pack "$dir" -o "$WORK/lw$k.zip" -q --kind linear --model-file model.json --input-shape 10 \
    --output-shape 1 --semantic semantic_specification.json
done
"$LW" dock add -q "$WORK"/lw0.zip "$WORK"/lw1.zip "$WORK"/lw2.zip >/dev/null || fail "cannot build the dock"

# The user's rows: herded from the user's RKME (blobs 0, 1 and 2); labels 2 * sum(x).
"$LW" spec herd "$market/user_rkme.json" -n 300 -o "$WORK/user.csv" --seed 3
awk -F, 'NR == 1 { print "y"; next } { s = 0; for (i = 1; i <= NF; i++) s += $i; printf "%.17g\n", 2 * s }' \
  "$WORK/user.csv" >"$WORK/labels.csv"
sums() { awk -F, 'NR > 1 { s = 0; for (i = 1; i <= NF; i++) s += $i; printf "%.17g\n", s }' "$WORK/user.csv"; }
sums >"$WORK/sum.txt"

# compare PREDICTIONS.csv FACTOR TOL: every prediction is FACTOR * sum(x) within TOL.
compare() {
  checks=$((checks + 1))
  paste -d, "$WORK/sum.txt" <(tail -n +2 "$1") | awk -F, -v f="$2" -v t="$3" '
    { d = $2 - f * $1; if (d < 0) d = -d; if (d > t) { bad++; if (bad < 3) print "row " NR ": " $2 " vs " f * $1 } }
    END { exit bad > 0 }' || fail "$1 is not $2 * sum(x) within $3"
}

expect 0 "300 predictions from 2 learnwares" -- "$LW" reuse --learnwares 00000001,00000003 --method average \
  --data "$WORK/user.csv" -o "$WORK/avg.csv"
compare "$WORK/avg.csv" 2 1e-9
expect 0 "300 predictions from 3 learnwares" -- "$LW" reuse --learnwares 00000001,00000002,00000003 \
  --method ensemble-pruning --data "$WORK/user.csv" --labels "$WORK/labels.csv" -o "$WORK/prune.csv"
# The one exact subset: learnwares 1 and 3 average to 2 * sum (or 2 alone, but a subset has two or more).
compare "$WORK/prune.csv" 2 1e-6
expect 0 "300 predictions" -- "$LW" reuse --learnwares 00000001,00000003 --method feature-augment \
  --data "$WORK/user.csv" --labels "$WORK/labels.csv" -o "$WORK/aug.csv"
compare "$WORK/aug.csv" 2 1e-3

# The job selector routes each row to one learnware: each prediction is 1x, 2x or 3x the sum.
expect 0 "300 predictions from 3 learnwares" -- "$LW" reuse --learnwares 00000001,00000002,00000003 \
  --method job-selector --data "$WORK/user.csv" -o "$WORK/job.csv"
checks=$((checks + 1))
paste -d, "$WORK/sum.txt" <(tail -n +2 "$WORK/job.csv") | awk -F, '
  { ok = 0; for (f = 1; f <= 3; f++) { d = $2 - f * $1; if (d < 0) d = -d; if (d < 1e-6) ok = 1 } if (!ok) bad++ }
  END { exit bad > 0 }' || fail "a job-selector prediction is no learnware's"

# fit, then reuse --reuser: the same predictions without refitting.
expect 0 "fitted job-selector over 3 learnwares" -- "$LW" fit --learnwares 00000001,00000002,00000003 \
  --method job-selector --data "$WORK/user.csv" -o "$WORK/job.json"
expect 0 "300 predictions from 3 learnwares" -- "$LW" reuse --reuser "$WORK/job.json" --data "$WORK/user.csv" \
  -o "$WORK/job2.csv"
checks=$((checks + 1))
cmp -s "$WORK/job.csv" "$WORK/job2.csv" || fail "a saved job selector predicts differently"
expect 0 "fitted feature-augment" -- "$LW" fit --learnwares 00000001,00000003 --method feature-augment \
  --data "$WORK/user.csv" --labels "$WORK/labels.csv" -o "$WORK/aug.json"
expect 0 "" -- "$LW" reuse --reuser "$WORK/aug.json" --data "$WORK/user.csv" -o "$WORK/aug2.csv"
checks=$((checks + 1))
cmp -s "$WORK/aug.csv" "$WORK/aug2.csv" || fail "a saved feature augmentation predicts differently"

# Alignment: a user with 8 of the 10 columns reuses the 10-column learnwares
# through maps trained on the RKMEs; with labels, feature augmentation on top.
cut -d, -f1-8 "$WORK/user.csv" >"$WORK/user8.csv"
expect 0 "300 predictions from 2 learnwares" -- "$LW" reuse --learnwares 00000001,00000002 --method align \
  --data "$WORK/user8.csv" -o "$WORK/align.csv"
expect 0 "300 predictions from 2 learnwares" -- "$LW" reuse --learnwares 00000001,00000002 --method align \
  --data "$WORK/user8.csv" --labels "$WORK/labels.csv" -o "$WORK/align_aug.csv"
checks=$((checks + 1))
awk -F, 'NR > 1 && ($1 + 0 != $1 || $1 == "nan" || $1 == "inf") { bad++ } END { exit bad > 0 }' \
  "$WORK/align_aug.csv" || fail "an aligned prediction is not a finite number"
# A fitted aligned reuser keeps its maps: the same predictions again.
expect 0 "fitted align + feature-augment over 2 learnwares" -- "$LW" fit --learnwares 00000001,00000002 \
  --method align --data "$WORK/user8.csv" --labels "$WORK/labels.csv" -o "$WORK/align.json"
expect 0 "300 predictions from 2 learnwares" -- "$LW" reuse --reuser "$WORK/align.json" --data "$WORK/user8.csv" \
  -o "$WORK/align_aug2.csv"
checks=$((checks + 1))
cmp -s "$WORK/align_aug.csv" "$WORK/align_aug2.csv" || fail "a saved aligned reuser predicts differently"

# Errors: what is wrong and how to fix it.
expect 3 "labelled rows" -- "$LW" reuse --learnwares 00000001 --method feature-augment --data "$WORK/user.csv" -o "$WORK/x.csv"
expect 4 "no learnware 00000042" -- "$LW" reuse --learnwares 00000001,00000042 --method average --data "$WORK/user.csv" -o "$WORK/x.csv"
expect 3 "takes 10 input columns but the user's rows have 9" -- "$LW" reuse --learnwares 00000001 --method average \
  --data "$WORK/user.csv" --drop 1 -o "$WORK/x.csv"
expect 2 "--method is average" -- "$LW" reuse --learnwares 00000001 --method magic --data "$WORK/user.csv" -o "$WORK/x.csv"
expect 2 "--learnwares and --method are required" -- "$LW" reuse --data "$WORK/user.csv" -o "$WORK/x.csv"
head -100 "$WORK/labels.csv" >"$WORK/short.csv"
expect 3 "labels for 300 rows" -- "$LW" reuse --learnwares 00000001,00000003 --method feature-augment \
  --data "$WORK/user.csv" --labels "$WORK/short.csv" -o "$WORK/x.csv"
printf 'y\n' >"$WORK/const.csv"; for i in $(seq 300); do echo 5 >>"$WORK/const.csv"; done
expect 3 "every label is 5" -- "$LW" reuse --learnwares 00000001,00000003 --method feature-augment \
  --data "$WORK/user.csv" --labels "$WORK/const.csv" -o "$WORK/x.csv"
expect 4 "" -- "$LW" reuse --reuser "$WORK/none.json" --data "$WORK/user.csv" -o "$WORK/x.csv"

finish
