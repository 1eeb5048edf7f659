# The heterogeneous map through the CLI and the server: trained when 20
# table learnwares describe their columns, retrained after 25% growth, and
# searched by a user whose table has other columns.  Few training steps:
# this checks the dock's behaviour, bench_hetero the map's quality.
. "$(dirname "$0")/lib.sh"

dock="$WORK/dock"
for i in $(seq 0 24); do
  build_fixture_zip "$(printf '%08d' "$i")" "$WORK/lw$i.zip" || fail "cannot pack fixture learnware $i"
done
expect 0 "0 learnwares" -- "$LW" dock init "$dock"
export LEARNWARE_DOCK="$dock"
first=(); for i in $(seq 0 18); do first+=("$WORK/lw$i.zip"); done
expect 0 "00000019  usable" -- "$LW" dock add -q --hetero-steps 30 "${first[@]}"
expect 0 "no heterogeneous map yet" -- "$LW" dock hetero
expect 0 "19 usable table learnwares describe their columns" -- "$LW" dock hetero

# The user's table has 5 of the fixture's 10 columns, described the same way.
cut -d, -f1-5 "$FIXTURES/gmm_n1000_d10.csv" | head -300 >"$WORK/user.csv"
expect 0 "" -- "$LW" spec table "$WORK/user.csv" -o "$WORK/user_rkme.json" -k 20
cat >"$WORK/user_sem.json" <<'JSON'
{"Data": {"Type": "Class", "Values": ["Table"]},
 "Task": {"Type": "Class", "Values": ["Regression"]},
 "Input": {"Dimension": 5, "Description": {"0": "feature 0", "1": "feature 1", "2": "feature 2",
                                            "3": "feature 3", "4": "feature 4"}}}
JSON
expect 0 "no heterogeneous search: the dock has no heterogeneous map yet" -- \
  "$LW" search --rkme "$WORK/user_rkme.json" --semantic "$WORK/user_sem.json"

# The 20th described learnware trains the first map, once, after the batch.
expect 0 "trained a new heterogeneous map" -- "$LW" dock add --hetero-steps 30 "$WORK/lw19.zip"
"$LW" dock hetero --json >"$WORK/h1.json" || fail "dock hetero --json failed"
[ "$(jq -r .generation "$WORK/h1.json")" = 1 ] || fail "first map should be generation 1: $(cat "$WORK/h1.json")"
[ "$(jq -r .trained_on "$WORK/h1.json")" = 20 ] || fail "first map should train on 20: $(cat "$WORK/h1.json")"
map1=$(jq -r .map_id "$WORK/h1.json")
[ -f "$dock/hetero/map-$map1.lwhm" ] || fail "the map file $dock/hetero/map-$map1.lwhm is missing"

"$LW" search --rkme "$WORK/user_rkme.json" --semantic "$WORK/user_sem.json" --json >"$WORK/s1.json" ||
  fail "heterogeneous search failed"
[ "$(jq -r .candidates "$WORK/s1.json")" = 0 ] || fail "no learnware shares the user's 5 columns: $(head -c 300 "$WORK/s1.json")"
[ "$(jq -r .heterogeneous.map_id "$WORK/s1.json")" = "$map1" ] || fail "search should use map $map1"
[ "$(jq -r .heterogeneous.candidates "$WORK/s1.json")" = 20 ] ||
  fail "all 20 learnwares of the other space are heterogeneous candidates: $(jq -c .heterogeneous "$WORK/s1.json" | head -c 300)"
[ "$(jq -r '.heterogeneous.single | length' "$WORK/s1.json")" -ge 1 ] || fail "heterogeneous search ranked none"
expect 0 "heterogeneous search (map $map1): 20 learnwares of other feature spaces" -- \
  "$LW" search --rkme "$WORK/user_rkme.json" --semantic "$WORK/user_sem.json"

# The same descriptions given as a file of lines, or as JSON keyed by the data's column names.
for i in 0 1 2 3 4; do echo "feature $i"; done >"$WORK/desc.txt"
expect 0 "heterogeneous search (map $map1): 20 learnwares" -- \
  "$LW" search --rkme "$WORK/user_rkme.json" --input-desc "$WORK/desc.txt"
{ echo "a,b,c,d,e"; cat "$WORK/user.csv"; } >"$WORK/user_named.csv"
echo '{"e": "feature 4", "a": "feature 0", "b": "feature 1", "c": "feature 2", "d": "feature 3"}' >"$WORK/desc.json"
expect 0 "heterogeneous search (map $map1): 20 learnwares" -- \
  "$LW" search --rkme "$WORK/user_rkme.json" --input-desc "$WORK/desc.json" --header-from "$WORK/user_named.csv"
expect 3 "\"z\" is not a column of the header" -- "$LW" search --rkme "$WORK/user_rkme.json" \
  --input-desc <(echo '{"z": "zeta"}') --header-from "$WORK/user_named.csv"
expect 3 "4 lines, but the specification has 5 columns" -- \
  "$LW" search --rkme "$WORK/user_rkme.json" --input-desc <(head -4 "$WORK/desc.txt")
expect 3 "\"e\" is not a column index: name columns with --header-from" -- \
  "$LW" search --rkme "$WORK/user_rkme.json" --input-desc "$WORK/desc.json"

# 25 >= 20 x 1.25: the next batch retrains; the old map's file goes.
more=(); for i in $(seq 20 24); do more+=("$WORK/lw$i.zip"); done
expect 0 "trained a new heterogeneous map" -- "$LW" dock add --hetero-steps 30 "${more[@]}"
"$LW" dock hetero --json >"$WORK/h2.json"
[ "$(jq -r .generation "$WORK/h2.json")" = 2 ] || fail "second map should be generation 2: $(cat "$WORK/h2.json")"
[ "$(jq -r .trained_on "$WORK/h2.json")" = 25 ] || fail "second map should train on 25"
map2=$(jq -r .map_id "$WORK/h2.json")
[ "$map2" != "$map1" ] || fail "a retrained map needs a new id"
[ ! -f "$dock/hetero/map-$map1.lwhm" ] || fail "the old map's file should be removed"
expect 0 "no new map is due" -- "$LW" dock hetero

# Reuse across feature spaces: the learnwares take 10 columns, the user has 5.
expect 0 "300 predictions from 2 learnwares of other feature spaces" -- "$LW" reuse --learnwares 00000001,00000002 \
  --method average --data "$WORK/user.csv" --input-desc "$WORK/desc.txt" -o "$WORK/pred.csv"
[ "$(wc -l <"$WORK/pred.csv")" = 301 ] || fail "reuse should write a header and 300 predictions"
awk -F, '{print 2 * $1 + $3}' "$WORK/user.csv" >"$WORK/labels.csv"
expect 0 "300 predictions from 2 learnwares" -- "$LW" reuse --learnwares 00000001,00000002 \
  --method feature-augment --data "$WORK/user.csv" --labels "$WORK/labels.csv" \
  --input-desc "$WORK/desc.txt" -o "$WORK/pred_aug.csv"
expect 3 "needs labels" -- "$LW" reuse --learnwares 00000001 --method average-augment \
  --data "$WORK/user.csv" --input-desc "$WORK/desc.txt" -o "$WORK/x.csv"
expect 3 "does not cross feature spaces" -- "$LW" reuse --learnwares 00000001 --method job-selector \
  --data "$WORK/user.csv" --input-desc "$WORK/desc.txt" -o "$WORK/x.csv"
expect 2 "has no saved form yet" -- "$LW" fit --learnwares 00000001 --method average \
  --data "$WORK/user.csv" --input-desc "$WORK/desc.txt" -o "$WORK/x.json"

# The server answers the same search with the current map.
serve_dock "$dock" --set workers=0
jq -n --slurpfile s "$WORK/user_sem.json" --slurpfile r "$WORK/user_rkme.json" \
  '{semantic: $s[0], rkme: $r[0]}' >"$WORK/body.json"
code=$(curl -s -o "$WORK/resp.json" -w '%{http_code}' -H 'Content-Type: application/json' \
  --data-binary @"$WORK/body.json" "$url/api/v1/search")
[ "$code" = 200 ] || fail "server search gave $code: $(head -c 300 "$WORK/resp.json")"
[ "$(jq -r .heterogeneous.map_id "$WORK/resp.json")" = "$map2" ] ||
  fail "server search should use map $map2: $(head -c 300 "$WORK/resp.json")"
[ "$(jq -r .heterogeneous.candidates "$WORK/resp.json")" = 25 ] || fail "server: 25 heterogeneous candidates"
expect 0 "heterogeneous search (map $map2): 25 learnwares" -- \
  "$LW" search --server "$url" --rkme "$WORK/user_rkme.json" --input-desc "$WORK/desc.txt"

# A user of the server reuses on their own machine: download, a local dock, a map of its own.
mkdir -p "$WORK/dl"
expect 0 "" -- "$LW" download 00000003 00000004 00000005 --server "$url" -o "$WORK/dl" -q
expect 0 "00000003  usable" -- "$LW" dock add --dock "$WORK/local" -q "$WORK"/dl/learnware-0000000[345].zip
expect 0 "no heterogeneous map yet" -- "$LW" dock hetero --dock "$WORK/local"
expect 0 "generation 1, trained on 3 learnwares" -- "$LW" dock hetero train --dock "$WORK/local" --hetero-steps 30
expect 0 "300 predictions from 3 learnwares of other feature spaces" -- "$LW" reuse --dock "$WORK/local" \
  --learnwares 00000001,00000002,00000003 --method average --data "$WORK/user.csv" \
  --input-desc "$WORK/desc.txt" -o "$WORK/pred_local.csv"

expect 2 "hetero takes no argument, or 'train'" -- "$LW" dock hetero now
finish
