# learnware dock and learnware search: the reference's 30-learnware market
# built through the real CLI, searched with the reference's user, and the
# organiser's add / update / delete / export / import, including kills.
. "$(dirname "$0")/lib.sh"

market="$FIXTURES/search30"
dock="$WORK/dock"
py=/usr/bin/python3

for i in $(seq 0 29); do
  build_fixture_zip "$(printf '%08d' "$i")" "$WORK/lw$i.zip" || fail "cannot pack fixture learnware $i"
done

expect 0 "dock at $dock (sqlite): 0 learnwares" -- "$LW" dock init "$dock"
export LEARNWARE_DOCK="$dock"
# Dock ids start at 1: fixture learnware k becomes 0000000(k+1).
zips=()
for i in $(seq 0 29); do zips+=("$WORK/lw$i.zip"); done
# The fixture describes its columns, so 30 adds would train a heterogeneous map:
# not what this test is about (tests/e2e/hetero_cli.sh is).
expect 0 "00000030  usable" -- "$LW" dock add -q --no-hetero "${zips[@]}"
expect 0 "00000001  success     usable" -- "$LW" dock list
expect 3 "learnware 00000001 has the same content" -- "$LW" dock add --no-hetero -q "$WORK/lw0.zip"
expect 0 "Table / Regression: blob_4" -- "$LW" dock show 00000005

# Statistical search: the reference's ranking, scores and mixture.
"$LW" search --rkme "$market/user_rkme.json" --semantic "$market/user_semantic.json" --json -n 0 \
  >"$WORK/greedy.json" || fail "search (greedy) failed"
"$LW" search --rkme "$market/user_rkme.json" --semantic "$market/user_semantic.json" --json -n 0 \
  --mixture auto >"$WORK/auto.json" || fail "search (auto) failed"
checks=$((checks + 1))
$py - "$market/expected.json" "$WORK/greedy.json" "$WORK/auto.json" <<'PY' || fail "search results differ from the reference"
import json, sys
exp = json.load(open(sys.argv[1]))
ours = {"greedy": json.load(open(sys.argv[2])), "auto": json.load(open(sys.argv[3]))}
dock_id = lambda ref: "%08d" % (int(ref) + 1)
bad = []
for method, got in ours.items():
    want = exp[method]
    ids = [h["id"] for h in got["single"]]
    if ids != [dock_id(i) for i, _ in want["single"]]:
        bad.append("%s singles %s" % (method, ids))
    for h, (ref, score) in zip(got["single"], want["single"]):
        if abs(h["score"] - score) > 1e-4:
            bad.append("%s score of %s: %g vs %g" % (method, h["id"], h["score"], score))
        if abs(h["mmd2"] - exp["dist"][ref]) > 1e-6:
            bad.append("%s MMD of %s: %g vs %g" % (method, h["id"], h["mmd2"], exp["dist"][ref]))
    mix = got.get("mixture")
    if want["multiple"]:
        ref_ids, ref_score = want["multiple"][0]
        if not mix or sorted(m["id"] for m in mix["learnwares"]) != sorted(dock_id(i) for i in ref_ids):
            bad.append("%s mixture %s" % (method, mix))
        elif abs(mix["score"] - ref_score) > 1e-4 or abs(sum(m["weight"] for m in mix["learnwares"]) - 1) > 1e-9:
            bad.append("%s mixture score/weights %s" % (method, mix))
    elif mix:
        bad.append("%s: a mixture the reference does not recommend" % method)
print("\n".join(bad))
sys.exit(1 if bad else 0)
PY
expect 0 "mixture of 3" -- "$LW" search --rkme "$market/user_rkme.json"
expect 0 "RANK  ID        SCORE  MMD^2" -- "$LW" search --rkme "$market/user_rkme.json"
expect 0 "30 learnwares pass the semantic filter; 30 ranked by MMD" -- "$LW" search --rkme "$market/user_rkme.json" --exact

# Semantic search: names exactly, then fuzzily; tags that rule everything out.
expect 0 "blob_17" -- "$LW" search --name blob_17
expect 0 "1 learnwares match" -- "$LW" search --name blob_17
expect 0 "(fuzzy name match)" -- "$LW" search --name "bolb_17"
printf '{"Scenario":{"Type":"Tag","Values":["Health"]}}' >"$WORK/health.json"
expect 0 "0 learnwares match" -- "$LW" search --semantic "$WORK/health.json"
expect 0 "0 learnwares pass the semantic filter" -- "$LW" search --semantic "$WORK/health.json" --rkme "$market/user_rkme.json"
expect 0 "00000012" -- "$LW" search --id 00000012
expect 3 "semantic" -- "$LW" search --semantic "$market/user_rkme.json"

# Update: a semantic-only change keeps the status; the new name is found.
sed 's/"blob_4"/"renamed blob"/' "$market/learnwares/00000004.semantic.json" >"$WORK/renamed.json"
expect 0 "00000005  semantic specification updated" -- "$LW" dock update 00000005 --semantic "$WORK/renamed.json"
expect 0 "renamed blob" -- "$LW" search --name "renamed"
expect 0 "00000005  success     usable" -- "$LW" dock list
printf '{"Data":{"Type":"Class","Values":["Spreadsheet"]}}' >"$WORK/badsem.json"
expect 3 "Spreadsheet" -- "$LW" dock update 00000005 --semantic "$WORK/badsem.json"

# A new file is checked again; an invalid one is refused and changes nothing.
build_fixture_zip 00000000 "$WORK/again.zip"
printf '{"kind":"linear"}' >"$WORK/src/00000000/model.json"
"$LW" pack "$WORK/src/00000000" -o "$WORK/broken.zip" -q --kind linear --model-file model.json \
  --input-shape 10 --output-shape 1 --semantic semantic_specification.json
expect 3 "refused, the check found it invalid" -- "$LW" dock update 00000002 --zip "$WORK/broken.zip"
expect 0 "00000002  success     usable" -- "$LW" dock list
expect 3 "refused, the check found it invalid" -- "$LW" dock add --no-hetero "$WORK/broken.zip"

# Delete: gone from list and search; its id is not given again.
expect 0 "00000001  deleted" -- "$LW" dock delete 00000001
expect 4 "00000001" -- "$LW" dock show 00000001
expect 0 "29 learnwares pass the semantic filter" -- "$LW" search --rkme "$market/user_rkme.json"
expect 0 "00000031  usable" -- "$LW" dock add --no-hetero -q "$WORK/lw0.zip"
expect 0 "00000031" -- "$LW" search --rkme "$market/user_rkme.json" -n 1

# Download gives back the very package.
expect 0 "" -- "$LW" dock download 00000003 -o "$WORK/down.zip"
checks=$((checks + 1))
cmp -s "$WORK/down.zip" "$WORK/lw2.zip" || fail "downloaded package differs from the one added"

# Export and import: the same learnwares, searchable in the new dock.
expect 0 "exported 30 learnwares" -- "$LW" dock export -o "$WORK/export.zip"
expect 0 "imported 30 learnwares, 0 already here, 0 refused" -- "$LW" dock import --no-hetero --dock "$WORK/copy" "$WORK/export.zip"
expect 0 "imported 0 learnwares, 30 already here" -- "$LW" dock import --no-hetero --dock "$WORK/copy" "$WORK/export.zip"
expect 0 "mixture of 3" -- "$LW" search --dock "$WORK/copy" --rkme "$market/user_rkme.json"
# The ids survive: 00000001 was deleted before the export, 00000031 came last.
expect 0 "Table / Regression: blob_0" -- "$LW" dock show --dock "$WORK/copy" 00000031
expect 4 "00000001" -- "$LW" dock show --dock "$WORK/copy" 00000001
printf 'not a zip' >"$WORK/junk.zip"
expect 3 "not a readable zip" -- "$LW" dock import --no-hetero "$WORK/junk.zip"

# A lost index is rebuilt; a corrupt one too.
rm -rf "$dock/index"
expect 0 "30 learnwares pass the semantic filter" -- "$LW" search --rkme "$market/user_rkme.json"
for f in "$dock"/index/*.lwix; do printf 'garbage' >"$f"; done
expect 0 "30 learnwares pass the semantic filter" -- "$LW" search --rkme "$market/user_rkme.json"
expect 0 "indexed 30 learnwares" -- "$LW" dock reindex

# Usage errors.
expect 2 "unknown command" -- "$LW" dock frobnicate
expect 2 "needs one learnware id" -- "$LW" dock show
expect 4 "none.zip: no such file" -- "$LW" dock add --no-hetero "$WORK/none.zip"
unset LEARNWARE_DOCK
expect 2 "no dock" -- "$LW" dock list

# Kill -9 during adds, again and again: afterwards every learnware is whole
# or absent, none is lost, and search sees exactly the usable ones.
kdock="$WORK/killed"
# A killed add cannot remove its work folder: keep them in ours.  The
# sandbox's uid must reach the package, so the path must be traversable.
chmod 755 "$WORK"
mkdir -m 755 "$WORK/tmp"
export TMPDIR="$WORK/tmp"
"$LW" dock init "$kdock" >/dev/null
for round in 1 2 3 4 5 6; do
  "$LW" dock add --no-hetero --dock "$kdock" -q "${zips[@]}" >/dev/null 2>&1 &
  pid=$!
  sleep "0.$((RANDOM % 9 + 1))"
  kill -9 "$pid" 2>/dev/null
  wait "$pid" 2>/dev/null
done
"$LW" dock verify --dock "$kdock" >/dev/null || fail "verify after kills failed"
"$LW" dock add --no-hetero --dock "$kdock" -q "${zips[@]}" >/dev/null 2>&1
checks=$((checks + 1))
$py - "$kdock" <<'PY' || fail "the dock is inconsistent after kills"
import json, os, sqlite3, subprocess, sys
dock = sys.argv[1]
lw = os.environ["LW"]
rows = json.loads(subprocess.run([lw, "dock", "list", "--all", "--json", "--dock", dock],
                                 capture_output=True, check=True).stdout)
bad = []
shas = {}
for r in rows:
    if r["verdict"] != "usable":
        bad.append("%s is %s/%s" % (r["id"], r["status"], r["verdict"]))
    if r["sha256"] in shas:
        bad.append("%s duplicates %s" % (r["id"], shas[r["sha256"]]))
    shas[r["sha256"]] = r["id"]
names = {r["semantic"]["Name"]["Values"] for r in rows}
if len(names) != 30:
    bad.append("%d distinct learnwares, expected 30" % len(names))
files = os.listdir(os.path.join(dock, "files", "learnwares"))
if len(files) != len(rows):
    bad.append("%d files for %d records: %s" % (len(files), len(rows), files))
out = subprocess.run([lw, "search", "--dock", dock, "--rkme",
                      os.path.join(os.environ["LW_SHARED_DIR"], "reference/fixtures/search30/user_rkme.json"),
                      "--json"], capture_output=True, check=True).stdout
if json.loads(out)["candidates"] != 30:
    bad.append("search ranks %s, expected 30" % json.loads(out)["candidates"])
print("\n".join(bad))
sys.exit(1 if bad else 0)
PY

finish
