# The client verbs against a real `learnware serve` on loopback: register,
# login, submit (one request and the resumable upload), status, search,
# download, tokens and logout, with the server's refusals as exit codes.
. "$(dirname "$0")/lib.sh"

market="$FIXTURES/search30"
py=/usr/bin/python3
# The sandboxed checker's uid must reach the dock's files.
chmod 755 "$WORK"
export XDG_CONFIG_HOME="$WORK/config"
unset LEARNWARE_SERVER LEARNWARE_TOKEN LEARNWARE_DOCK
cred="$XDG_CONFIG_HOME/learnware/credentials.json"

for i in 0 1 2; do build_fixture_zip "0000000$i" "$WORK/lw$i.zip"; done
# An invalid one: a model file without layers.
build_fixture_zip 00000003 "$WORK/lw3.zip"
printf '{"kind":"linear"}' >"$WORK/src/00000003/model.json"
"$LW" pack "$WORK/src/00000003" -o "$WORK/broken.zip" -q --kind linear --model-file model.json \
  --input-shape 10 --output-shape 1 --semantic semantic_specification.json
printf 'not a zip' >"$WORK/junk.zip"

# Before any server: no server known, or nobody listening.
expect 2 "no server" -- "$LW" submit "$WORK/lw0.zip"
# shellcheck disable=SC2016 # the backquotes are the message's
expect 1 'is `learnware serve` running?' -- "$LW" status 1 --server http://127.0.0.1:1
expect 2 "not an http:// or https:// URL" -- "$LW" status 1 --server ftp://example.org

# The server, on a free loopback port, with a first admin (lib.sh).
serve_dock "$WORK/dock"

# with_input TEXT CMD...: CMD with TEXT on its standard input.
with_input() {
  local text=$1
  shift
  "$@" <<<"$text"
}

# Accounts.
expect 0 "registered ada@example.org" -- with_input "ada-password-1" \
  "$LW" register --server "$url" --email ada@example.org --name Ada --password-stdin
expect 3 "(409 conflict)" -- with_input "ada-password-1" \
  "$LW" register --server "$url" --email ada@example.org --password-stdin
expect 3 "(400 bad_request)" -- with_input "short" \
  "$LW" register --server "$url" --email bob@example.org --password-stdin
expect 2 "--password-stdin needs --email" -- with_input "x" "$LW" login --server "$url" --password-stdin
expect 1 "unauthorized" -- with_input "wrong-password" \
  "$LW" login --server "$url" --email ada@example.org --password-stdin
checks=$((checks + 1))
[ ! -e "$cred" ] || fail "a failed login saved credentials"
expect 0 "logged in to $url as ada@example.org" -- with_input "ada-password-1" \
  "$LW" login --server "$url/" --email ada@example.org --password-stdin --token-name e2e
checks=$((checks + 1))
[ "$(stat -c %a "$cred" 2>/dev/null)" = 600 ] || fail "credentials are not mode 600: $(stat -c %a "$cred" 2>&1)"
saved_token=$($py -c 'import json,sys; print(json.load(open(sys.argv[1]))["token"])' "$cred")
checks=$((checks + 1))
if grep -q "ada-password-1" "$cred" || [ "${#saved_token}" -lt 20 ]; then
  fail "the credentials hold the password or no token: $(cat "$cred")"
fi
# Only the API token stays: the login's session was closed.
expect 0 "e2e" -- "$LW" tokens list
checks=$((checks + 1))
[ "$("$LW" tokens list | grep -c session)" -eq 0 ] || fail "the login left a session token: $("$LW" tokens list)"

# Submit: one request, then the resumable upload in 1 KiB chunks.
"$LW" submit "$WORK/lw0.zip" --wait -q >"$WORK/submit0.out" 2>&1 || fail "submit lw0 failed: $(cat "$WORK/submit0.out")"
id0=$(awk '{print $1; exit}' "$WORK/submit0.out")
checks=$((checks + 1))
grep -q "^$id0  usable  $WORK/lw0.zip\$" "$WORK/submit0.out" || fail "submit --wait output: $(cat "$WORK/submit0.out")"
expect 3 "(409 conflict)" -- "$LW" submit "$WORK/lw0.zip"
sed 's/"blob_1"/"renamed blob"/' "$market/learnwares/00000001.semantic.json" >"$WORK/renamed.json"
expect 0 "  usable  $WORK/lw1.zip" -- "$LW" submit "$WORK/lw1.zip" --resumable --chunk-size 1024 \
  --semantic "$WORK/renamed.json" --wait -q
"$LW" submit "$WORK/lw2.zip" -q >"$WORK/submit2.out" 2>&1 || fail "submit lw2 failed: $(cat "$WORK/submit2.out")"
id2=$(awk '{print $1; exit}' "$WORK/submit2.out")
checks=$((checks + 1))
grep -Eq "^$id2  (waiting|queued|processing|success)  $WORK/lw2.zip\$" "$WORK/submit2.out" ||
  fail "submit output: $(cat "$WORK/submit2.out")"
for _ in $(seq 1 300); do
  "$LW" status "$id2" | grep -q "success" && break
  sleep 0.2
done
expect 0 "$id2  success     usable" -- "$LW" status "$id2"
expect 0 "check log:" -- "$LW" status "$id2" --log
expect 3 "invalid" -- "$LW" submit "$WORK/broken.zip" --wait -q
expect 3 "junk.zip: refused by the server (422" -- "$LW" submit "$WORK/junk.zip"
expect 4 "none.zip" -- "$LW" submit "$WORK/none.zip"
expect 4 "(404 not_found)" -- "$LW" status 99999999
expect 2 "not a learnware id" -- "$LW" status ../etc

# Search: the saved login's server (no dock given), the table and the JSON shape.
expect 0 "RANK  ID        SCORE  MMD^2" -- "$LW" search --rkme "$market/user_rkme.json"
expect 0 "$id0" -- "$LW" search --server "$url" --rkme "$market/user_rkme.json" --semantic "$market/user_semantic.json"
expect 0 "renamed blob" -- "$LW" search --name renamed
"$LW" search --rkme "$market/user_rkme.json" --json >"$WORK/search.json" || fail "search --json failed"
checks=$((checks + 1))
$py - "$WORK/search.json" "$id0" <<'PY' || fail "remote search JSON: $(cat "$WORK/search.json")"
import json, sys
r = json.load(open(sys.argv[1]))
assert r["kind"] == "statistical", r
assert {"semantic_matches", "fuzzy", "index", "single", "mixture", "candidates"} <= set(r), r
assert sys.argv[2] in [h["id"] for h in r["single"]], r
assert all("mmd2" in h and "score" in h for h in r["single"]), r
PY
expect 2 "searches a local dock only" -- "$LW" search --server "$url" --exact
expect 2 "exclude each other" -- "$LW" search --server "$url" --dock "$WORK/dock"

# Download: the very bytes, one file or several into a folder; nothing left on failure.
expect 0 "learnware-$id0.zip" -- env -C "$WORK" "$LW" download "$id0" -q
checks=$((checks + 1))
cmp -s "$WORK/learnware-$id0.zip" "$WORK/lw0.zip" || fail "the downloaded package differs"
expect 0 "" -- "$LW" download "$id0" "$id2" -o "$WORK/down" -q
checks=$((checks + 1))
cmp -s "$WORK/down/learnware-$id2.zip" "$WORK/lw2.zip" || fail "the second downloaded package differs"
expect 4 "(404 not_found)" -- "$LW" download 99999999 -o "$WORK/gone.zip"
checks=$((checks + 1))
left=$(find "$WORK" -maxdepth 1 -name 'gone*')
[ -z "$left" ] || fail "a failed download left $left"

# Tokens: a script's token works until revoked; a wrong one is refused.
"$LW" tokens create ci --days 1 >"$WORK/ci.token" 2>"$WORK/ci.err" || fail "tokens create failed: $(cat "$WORK/ci.err")"
ci_token=$(cat "$WORK/ci.token")
ci_id=$(sed -n 's/^API token \([0-9]*\) .*/\1/p' "$WORK/ci.err")
expect 0 "ci" -- "$LW" tokens list
expect 0 "$id0" -- env LEARNWARE_TOKEN="$ci_token" "$LW" status "$id0" --log
expect 0 "token $ci_id revoked" -- "$LW" tokens delete "$ci_id"
expect 1 "unauthorized" -- env LEARNWARE_TOKEN="$ci_token" "$LW" tokens list
expect 1 "unauthorized" -- env LEARNWARE_TOKEN=not-a-token "$LW" submit "$WORK/lw2.zip"
expect 4 "(404 not_found)" -- "$LW" tokens delete 999999
expect 2 "unknown command" -- "$LW" tokens frobnicate

# The token is never printed, whatever goes wrong.
checks=$((checks + 1))
if { "$LW" tokens list; "$LW" status 99999999; "$LW" submit "$WORK/lw0.zip"; "$LW" search --name x; } 2>&1 |
  grep -qF "$saved_token"; then
  fail "the saved token was printed"
fi

# Logout revokes the saved token and removes the file.
expect 0 "logged out of $url" -- "$LW" logout
checks=$((checks + 1))
[ ! -e "$cred" ] || fail "logout left $cred"
expect 1 "unauthorized" -- env LEARNWARE_TOKEN="$saved_token" "$LW" tokens list --server "$url"
expect 0 "not logged in" -- "$LW" logout
expect 1 "not logged in to $url" -- "$LW" submit "$WORK/lw2.zip" --server "$url"
finish
