# The dock on PostgreSQL: the same CLI, the same answers as on SQLite.
# Needs the loopback server of scripts/pg-test-server.sh (a CTest fixture);
# LW_PG_URL_FILE names the file holding its admin URL.
. "$(dirname "$0")/../e2e/lib.sh"

admin=$(cat "${LW_PG_URL_FILE:?set LW_PG_URL_FILE}")
db="dock_e2e_$$"
psql -q "$admin" -c "CREATE DATABASE $db" || { fail "cannot create database $db"; finish; exit 1; }
url="${admin%/*}/$db"
files="$WORK/files"
market="$FIXTURES/search30"

for i in 0 1 2 3 4 5; do
  id=$(printf '%08d' "$i")
  mkdir -p "$WORK/src/$i"
  cp "$market/learnwares/$id.rkme.json" "$WORK/src/$i/stat_spec.json"
  cp "$market/learnwares/$id.semantic.json" "$WORK/src/$i/semantic_specification.json"
  printf '{"format":"learnware-model","version":1,"kind":"linear","task":"regression","input_dim":10,"output_dim":1,"layers":[{"weights":[[1,1,1,1,1,1,1,1,1,1]],"bias":[0],"activation":"identity"}]}' \
    >"$WORK/src/$i/model.json"
  "$LW" pack "$WORK/src/$i" -o "$WORK/lw$i.zip" -q --kind linear --model-file model.json \
    --input-shape 10 --output-shape 1 --semantic semantic_specification.json
done

expect 0 "(postgresql): 0 learnwares" -- "$LW" dock init "$url" --files-root "$files"
expect 0 "00000006  usable" -- "$LW" dock add --dock "$url" --files-root "$files" -q "$WORK"/lw?.zip
expect 3 "has the same content" -- "$LW" dock add --dock "$url" --files-root "$files" -q "$WORK/lw0.zip"
expect 0 "mixture of 3" -- "$LW" search --dock "$url" --files-root "$files" --rkme "$market/user_rkme.json"
expect 0 "1     00000001  " -- "$LW" search --dock "$url" --files-root "$files" --rkme "$market/user_rkme.json"
expect 0 "(fuzzy name match)" -- "$LW" search --dock "$url" --files-root "$files" --name "bolb_3"
expect 0 "00000002  deleted" -- "$LW" dock delete --dock "$url" --files-root "$files" 00000002
expect 0 "5 learnwares pass the semantic filter" -- "$LW" search --dock "$url" --files-root "$files" --rkme "$market/user_rkme.json"
expect 0 "exported 5 learnwares" -- "$LW" dock export --dock "$url" --files-root "$files" -o "$WORK/export.zip"
# Into SQLite and back: the same ids on either backend.
expect 0 "imported 5 learnwares" -- "$LW" dock import --dock "$WORK/sqlite" "$WORK/export.zip"
expect 4 "00000002" -- "$LW" dock show --dock "$WORK/sqlite" 00000002
expect 0 "blob_5" -- "$LW" dock show --dock "$WORK/sqlite" 00000006

psql -q "$admin" -c "DROP DATABASE $db" >/dev/null 2>&1
finish
