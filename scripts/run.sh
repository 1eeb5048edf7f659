#!/usr/bin/env bash
# Set up, build, and run the dock's main job on real data: build learnwares
# from the diamonds table (one XGBoost model per cut), check them into a
# fresh dock on the embedded default (SQLite and a local folder), then
# search it as two users would, each holding rows the learnwares never saw.
# With --serve it then serves that dock over HTTP (API and web UI) until
# Ctrl-C: LEARNWARE_LISTEN sets the address (127.0.0.1:8080), and
# LEARNWARE_ADMIN_EMAIL / LEARNWARE_ADMIN_PASSWORD create the first admin.
set -euo pipefail
serve=0
case "${1:-}" in
  "") ;;
  --serve) serve=1 ;;
  *) echo "usage: scripts/run.sh [--serve]" >&2; exit 2 ;;
esac
here=$(cd "$(dirname "$0")/.." && pwd)
. "$here/scripts/shared.sh"
LW_SHARED_DIR=$(lw_find_shared "$here")
export LW_SHARED_DIR

"$here/scripts/setup.sh" "$here/build"
lw="$here/build/learnware"
out="$here/build/main-job"
market="$out/learnwares"
dock="$out/dock"
features="carat,depth,table,x,y,z"

echo "== building learnwares from $LW_SHARED_DIR/data/diamonds.csv"
"$here/examples/build_diamonds.sh" "$market" >"$out.log" 2>&1 ||
  { tail -20 "$out.log"; echo "run: building the learnwares failed; log in $out.log" >&2; exit 1; }
ls "$market"/*.zip

echo "== a fresh dock in $dock"
rm -rf "$dock"
"$lw" dock init "$dock"
"$lw" dock add --dock "$dock" -q "$market"/*.zip
"$lw" dock list --dock "$dock"

# A user describes the task semantically; their rows never leave this machine:
# only the RKME of them is given to the dock.
cat >"$out/user_semantic.json" <<'JSON'
{"Data": {"Type": "Class", "Values": ["Table"]},
 "Task": {"Type": "Class", "Values": ["Regression"]},
 "Scenario": {"Type": "Tag", "Values": ["Business"]}}
JSON

echo "== user 1 holds held-out Premium rows"
"$lw" spec table "$market/users/premium.csv" --columns "$features" -o "$out/user1_rkme.json" -q
"$lw" search --dock "$dock" --semantic "$out/user_semantic.json" --rkme "$out/user1_rkme.json"

echo "== user 2 holds held-out rows of the Fair and Ideal cuts together"
{ cat "$market/users/fair.csv"; tail -n +2 "$market/users/ideal.csv"; } >"$out/user2.csv"
"$lw" spec table "$out/user2.csv" --columns "$features" -o "$out/user2_rkme.json" -q
"$lw" search --dock "$dock" --semantic "$out/user_semantic.json" --rkme "$out/user2_rkme.json"

echo "== a name search, with a typo"
"$lw" search --dock "$dock" --name "primium"

echo "== user 2 reuses what the search found, without labels"
rmse() { # predictions.csv: RMSE against user 2's prices
  paste -d, <(tail -n +2 "$1") <(tail -n +2 "$out/user2.csv" | awk -F, '{ print $NF }') |
    awk -F, '{ d = $1 - $2; s += d * d; n++ } END { printf "%.1f", sqrt(s / n) }'
}
for method in average job-selector; do
  "$lw" reuse --dock "$dock" --learnwares 00000003,00000001 --method "$method" \
    --data "$out/user2.csv" --columns "$features" -o "$out/user2_$method.csv" -q
done
"$lw" reuse --dock "$dock" --learnwares 00000003 --method average \
  --data "$out/user2.csv" --columns "$features" -o "$out/user2_top1.csv" -q
echo "RMSE of the predicted prices (USD): top-1 learnware alone $(rmse "$out/user2_top1.csv")," \
     "averaging the mixture $(rmse "$out/user2_average.csv"), job selector $(rmse "$out/user2_job-selector.csv")"

if [ "$serve" = 1 ]; then
  echo "== serving $dock: open the printed address in a browser; Ctrl-C stops"
  exec "$lw" serve --dock "$dock"
fi
