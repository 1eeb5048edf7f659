# The HTTP API of `learnware serve` on loopback, driven with curl: accounts,
# tokens, submission and background verification, search, download,
# admin routes, and the refusals: wrong tokens, other users' learnwares,
# path traversal, oversized, truncated and bomb uploads, injection strings
# and a flood of logins.
. "$(dirname "$0")/lib.sh"

market="$FIXTURES/search30"
chmod 755 "$WORK" # the sandboxed checker's uid reads the dock's files
for i in 0 1 2; do build_fixture_zip "0000000$i" "$WORK/lw$i.zip"; done

serve_dock "$WORK/dock" --set max_upload_mb=2 --set max_body_kb=64 --set login_attempts=5

# http CODE FRAGMENT METHOD PATH [curl args...]: the status and a fragment of the body.
# The body is left in $WORK/body.
http() {
  local code=$1 fragment=$2 method=$3 path=$4
  shift 4
  checks=$((checks + 1))
  local got
  got=$(curl -s --path-as-is -o "$WORK/body" -w '%{http_code}' -X "$method" "$url$path" "$@")
  if [ "$got" != "$code" ]; then
    fail "$method $path gave $got, expected $code: $(head -c 300 "$WORK/body")"
  elif [ -n "$fragment" ] && ! grep -qF -- "$fragment" "$WORK/body"; then
    fail "$method $path body lacks '$fragment': $(head -c 300 "$WORK/body")"
  fi
}
json() { curl -s -H 'Content-Type: application/json' "$@"; }
jbody() { jq -r "$1" "$WORK/body"; }
login() { # email password -> token
  json -X POST "$url/api/v1/auth/login" -d "{\"email\":\"$1\",\"password\":\"$2\"}" | jq -r .token
}
wait_verified() { # id token
  for _ in $(seq 1 100); do
    s=$(curl -s -H "Authorization: Bearer $2" "$url/api/v1/learnwares/$1/verification" | jq -r .status)
    case $s in success | failed) echo "$s"; return ;; esac
    sleep 0.1
  done
  echo timeout
}
J='Content-Type: application/json'

# --- service routes ---
http 200 "ok" GET /healthz
http 200 '"openapi"' GET /api/v1/openapi.json
http 200 '"Scenario"' GET /api/v1/taxonomy
http 404 "no such API route" GET /api/v1/nothing
http 405 "not allowed" DELETE /api/v1/taxonomy

# --- accounts ---
http 201 '"role":"user"' POST /api/v1/auth/register -H "$J" -d '{"email":"ada@example.org","password":"ada-password","name":"Ada"}'
http 409 "exists" POST /api/v1/auth/register -H "$J" -d '{"email":"ADA@example.org","password":"ada-password"}'
http 400 "at least 8" POST /api/v1/auth/register -H "$J" -d '{"email":"bob@example.org","password":"short"}'
http 400 "not an e-mail" POST /api/v1/auth/register -H "$J" -d '{"email":"bob","password":"bob-password"}'
http 400 "not JSON" POST /api/v1/auth/register -H "$J" -d '{"email":'
http 415 "application/json" POST /api/v1/auth/register -d 'email=x'
http 201 "" POST /api/v1/auth/register -H "$J" -d '{"email":"bob@example.org","password":"bob-password","name":"Bob"}'
# The same reply for an unknown e-mail and a wrong password: no enumeration.
http 401 "wrong e-mail or password" POST /api/v1/auth/login -H "$J" -d '{"email":"nobody@example.org","password":"whatever1"}'
http 401 "wrong e-mail or password" POST /api/v1/auth/login -H "$J" -d '{"email":"ada@example.org","password":"wrong-pass"}'
ada=$(login ada@example.org ada-password)
bob=$(login bob@example.org bob-password)
admin=$(login admin@example.org admin-password-1)
[ ${#ada} -eq 43 ] || fail "a session token is 43 characters, got '$ada'"
A="Authorization: Bearer $ada"
B="Authorization: Bearer $bob"
ADM="Authorization: Bearer $admin"
http 200 '"email":"ada@example.org"' GET /api/v1/me -H "$A"
http 200 '"name":"Ada L."' PATCH /api/v1/me -H "$A" -H "$J" -d '{"name":"Ada L."}'

# --- wrong tokens ---
http 401 "log in first" GET /api/v1/me
http 401 "wrong, expired or revoked" GET /api/v1/me -H "Authorization: Bearer not-a-token"
http 401 "Bearer" GET /api/v1/me -H "Authorization: Basic YWRhOnB3"
http 401 "wrong, expired or revoked" GET /api/v1/me -H "Authorization: Bearer ${ada}x"
http 403 "only admins" GET /api/v1/admin/summary -H "$A"

# --- API tokens; logout revokes ---
http 201 '"kind":"api"' POST /api/v1/me/tokens -H "$A" -H "$J" -d '{"name":"ci","expires_days":7}'
api_token=$(jbody .token)
api_id=$(jbody .id)
http 200 '"email":"ada@example.org"' GET /api/v1/me -H "Authorization: Bearer $api_token"
http 200 '"name":"ci"' GET /api/v1/me/tokens -H "$A"
[ "$(grep -c "$api_token" "$WORK/body")" -eq 0 ] || fail "token lists must not show tokens"
http 404 "" DELETE "/api/v1/me/tokens/$api_id" -H "$B"
http 204 "" DELETE "/api/v1/me/tokens/$api_id" -H "$A"
http 401 "" GET /api/v1/me -H "Authorization: Bearer $api_token"
spare=$(login ada@example.org ada-password)
http 204 "" POST /api/v1/auth/logout -H "Authorization: Bearer $spare"
http 401 "" GET /api/v1/me -H "Authorization: Bearer $spare"

# --- password change: other sessions end, this one goes on ---
other=$(login bob@example.org bob-password)
http 403 "old password is wrong" POST /api/v1/me/password -H "$B" -H "$J" -d '{"old_password":"nope-nope","new_password":"bob-password-2"}'
http 204 "" POST /api/v1/me/password -H "$B" -H "$J" -d '{"old_password":"bob-password","new_password":"bob-password-2"}'
http 401 "" GET /api/v1/me -H "Authorization: Bearer $other"
http 200 "" GET /api/v1/me -H "$B"
http 401 "" POST /api/v1/auth/login -H "$J" -d '{"email":"bob@example.org","password":"bob-password"}'

# --- submit, verify in the background, see it ---
http 202 '"status":"queued"' POST /api/v1/learnwares -H "$A" -F "file=@$WORK/lw0.zip"
id0=$(jbody .learnware.id)
[ "$(wait_verified "$id0" "$ada")" = success ] || fail "learnware $id0 was not verified"
http 200 '"verdict":"usable"' GET "/api/v1/learnwares/$id0"
http 200 '"dim":10' GET "/api/v1/learnwares/$id0"
http 200 '"state":"done"' GET "/api/v1/learnwares/$id0/verification" -H "$A"
http 200 "result      usable" GET "/api/v1/learnwares/$id0/verification" -H "$A"
http 403 "not yours" GET "/api/v1/learnwares/$id0/verification" -H "$B"
http 409 "same content exists: $id0" POST /api/v1/learnwares -H "$B" -F "file=@$WORK/lw0.zip"
http 200 '"z"' GET "/api/v1/learnwares/$id0/specs/RKMETableSpecification"
http 404 "has no" GET "/api/v1/learnwares/$id0/specs/Nope"
http 200 "\"total\":1" GET /api/v1/learnwares
http 200 "\"id\":\"$id0\"" GET "/api/v1/learnwares?mine=1" -H "$A"
http 200 '"total":0' GET "/api/v1/learnwares?mine=1" -H "$B"

# --- learnwares that are not usable exist only for their owner and admins ---
printf '{"kind":"linear"}' >"$WORK/src/00000002/model.json"
"$LW" pack "$WORK/src/00000002" -o "$WORK/broken.zip" -q --kind linear --model-file model.json \
  --input-shape 10 --output-shape 1 --semantic semantic_specification.json
http 202 "" POST /api/v1/learnwares -H "$A" -F "file=@$WORK/broken.zip"
idb=$(jbody .learnware.id)
[ "$(wait_verified "$idb" "$ada")" = success ] || fail "learnware $idb was not checked"
http 200 '"verdict":"invalid"' GET "/api/v1/learnwares/$idb" -H "$A"
http 200 '"verdict":"invalid"' GET "/api/v1/learnwares/$idb" -H "$ADM"
http 404 "" GET "/api/v1/learnwares/$idb" -H "$B"
http 404 "" GET "/api/v1/learnwares/$idb"
http 404 "" GET "/api/v1/learnwares/$idb/file"
http 200 "FAIL" GET "/api/v1/learnwares/$idb/verification" -H "$A"
http 204 "" DELETE "/api/v1/learnwares/$idb" -H "$A"

# --- another user's learnware ---
sem=$(jq -c '.Name.Values = "renamed"' "$market/learnwares/00000000.semantic.json")
http 403 "not yours" PATCH "/api/v1/learnwares/$id0" -H "$B" -H "$J" -d "{\"semantic\":$sem}"
http 403 "not yours" DELETE "/api/v1/learnwares/$id0" -H "$B"
http 403 "not yours" PUT "/api/v1/learnwares/$id0/file" -H "$B" -F "file=@$WORK/lw1.zip"
# A semantic-only change keeps the verdict.
http 200 '"name":"renamed"' PATCH "/api/v1/learnwares/$id0" -H "$A" -H "$J" -d "{\"semantic\":$sem}"
http 200 '"verdict":"usable"' GET "/api/v1/learnwares/$id0"
http 422 "semantic" PATCH "/api/v1/learnwares/$id0" -H "$A" -H "$J" -d '{"semantic":{"Data":{"Type":"Class","Values":["Sound"]}}}'

# --- download ---
curl -s -o "$WORK/got.zip" "$url/api/v1/learnwares/$id0/file"
cmp -s "$WORK/got.zip" "$WORK/lw0.zip" || fail "the downloaded package differs from the upload"
http 200 "" GET "/api/v1/download?ids=$id0"
unzip -l "$WORK/body" | grep -q "learnware-$id0.zip" || fail "the bundle lacks learnware-$id0.zip"
http 400 "not a learnware id" GET "/api/v1/download?ids=$id0,../../etc"
http 400 "at most 10" GET "/api/v1/download?ids=$(printf "$id0,%.0s" $(seq 1 11))$id0"

# --- resumable upload: offsets, resume, hash ---
size=$(stat -c %s "$WORK/lw1.zip")
sha=$(sha256sum "$WORK/lw1.zip" | cut -d' ' -f1)
head -c 4000 "$WORK/lw1.zip" >"$WORK/c1"
tail -c +4001 "$WORK/lw1.zip" >"$WORK/c2"
http 201 '"offset":0' POST /api/v1/uploads -H "$A" -H "$J" -d "{\"size\":$size,\"sha256\":\"$sha\"}"
up=$(jbody .id)
http 404 "" GET "/api/v1/uploads/$up" -H "$B"
http 200 '"offset":4000' PUT "/api/v1/uploads/$up" -H "$A" -H 'Upload-Offset: 0' --data-binary @"$WORK/c1"
http 409 '"offset":4000' PUT "/api/v1/uploads/$up" -H "$A" -H 'Upload-Offset: 0' --data-binary @"$WORK/c2"
http 409 "not complete" POST "/api/v1/uploads/$up/finish" -H "$A"
http 200 '"offset":4000' GET "/api/v1/uploads/$up" -H "$A"
http 200 "\"offset\":$size" PUT "/api/v1/uploads/$up" -H "$A" -H 'Upload-Offset: 4000' --data-binary @"$WORK/c2"
http 413 "past" PUT "/api/v1/uploads/$up" -H "$A" -H "Upload-Offset: $size" --data-binary @"$WORK/c2"
http 202 '"status":"queued"' POST "/api/v1/uploads/$up/finish" -H "$A"
id1=$(jbody .learnware.id)
http 404 "" GET "/api/v1/uploads/$up" -H "$A"
# A wrong hash discards the upload.
http 201 "" POST /api/v1/uploads -H "$A" -H "$J" -d "{\"size\":$size,\"sha256\":\"$(printf '0%.0s' $(seq 1 64))\"}"
bad=$(jbody .id)
http 200 "" PUT "/api/v1/uploads/$bad" -H "$A" -H 'Upload-Offset: 0' --data-binary @"$WORK/lw1.zip"
http 422 "SHA-256" POST "/api/v1/uploads/$bad/finish" -H "$A"
http 404 "" GET "/api/v1/uploads/$bad" -H "$A"

# --- search ---
[ "$(wait_verified "$id1" "$ada")" = success ] || fail "learnware $id1 was not verified"
http 200 '"kind":"statistical"' POST /api/v1/search -F "rkme=@$market/user_rkme.json" -F "semantic=<$market/user_semantic.json"
[ "$(jbody '.items[0].id')" = "$id0" ] || fail "search should rank $id0 first: $(head -c 300 "$WORK/body")"
[ "$(jbody '[.mixture.items[].id] | sort | join(",")')" = "$id0,$id1" ] ||
  fail "search should recommend both learnwares as a mixture: $(head -c 300 "$WORK/body")"
[ "$(jbody '[.mixture.items[].weight] | add | . * 1000 | round')" = 1000 ] || fail "mixture weights sum to 1"
jq -c "{rkme: ., limit: 1}" "$market/user_rkme.json" >"$WORK/q.json"
http 200 '"limit":1' POST /api/v1/search -H "$J" --data-binary @"$WORK/q.json"
[ "$(jbody '.items | length')" = 1 ] || fail "limit 1 should return one result"
http 200 '"kind":"semantic"' POST /api/v1/search -H "$J" -d '{"semantic":{"Name":{"Type":"String","Values":"renamed"}}}'
[ "$(jbody '.items[0].id')" = "$id0" ] || fail "semantic search by name should find $id0"
http 400 "rkme" POST /api/v1/search -H "$J" -d '{"rkme":{"z":"nope"}}'

# --- path traversal in ids and file names ---
http 404 "" GET "/api/v1/learnwares/..%2F..%2Fetc%2Fpasswd"
http 404 "" GET "/api/v1/learnwares/../../../etc/passwd"
http 404 "" GET "/../../../../etc/passwd"
http 404 "" GET "/%2e%2e/%2e%2e/etc/passwd"
http 404 "ids are 32 hex" GET "/api/v1/uploads/..dock.db" -H "$A"
http 404 "" GET "/api/v1/uploads/..%2F..%2Fdock.db" -H "$A"
http 404 "" PUT "/api/v1/uploads/..%2F..%2Fdock.db" -H "$A" -H 'Upload-Offset: 0' --data-binary x
http 404 "ids are 32 hex" PUT "/api/v1/uploads/..%5C..%5Cdock.db" -H "$A" -H 'Upload-Offset: 0' --data-binary x
http 404 "" GET "/api/v1/learnwares/$id0/specs/..%2F..%2F..%2Fdock.db"
http 404 "" DELETE "/api/v1/me/tokens/1%20OR%201=1" -H "$A"
http 202 "" POST /api/v1/learnwares -H "$A" -F "file=@$WORK/lw2.zip;filename=../../../../$(basename "$WORK")/evil.zip"
[ ! -e "$WORK/evil.zip" ] && [ ! -e /evil.zip ] || fail "a multipart file name escaped the upload folder"
id2=$(jbody .learnware.id)

# --- oversized, truncated and hostile uploads ---
head -c 3000000 /dev/urandom >"$WORK/big.zip"
http 413 "max_upload_mb" POST /api/v1/learnwares -H "$A" -F "file=@$WORK/big.zip"
head -c 70000 /dev/zero | tr '\0' 'a' | sed 's/^/{"email":"/; s/$/"}/' >"$WORK/big.json"
http 413 "max_body_kb" POST /api/v1/auth/login -H "$J" --data-binary @"$WORK/big.json"
http 413 "" POST /api/v1/uploads -H "$A" -H "$J" -d "{\"size\":99999999999,\"sha256\":\"$sha\"}"
printf 'not a zip' >"$WORK/junk.zip"
http 422 "junk.zip" POST /api/v1/learnwares -H "$A" -F "file=@$WORK/junk.zip"
grep -q "$WORK/dock" "$WORK/body" && fail "an error reply shows a server path: $(cat "$WORK/body")"
/usr/bin/python3 - "$WORK/bomb.zip" <<'PY'
import sys, zipfile
with zipfile.ZipFile(sys.argv[1], "w", zipfile.ZIP_DEFLATED) as z:
    z.writestr("learnware.yaml", "model:\n  class_name: Model\n")
    z.writestr("zeros.bin", b"\0" * (200 << 20))
PY
http 422 "" POST /api/v1/learnwares -H "$A" -F "file=@$WORK/bomb.zip"
# A body cut off mid-way leaves no part file behind.
port=${url##*:}
exec 3<>"/dev/tcp/127.0.0.1/$port"
printf 'POST /api/v1/learnwares HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\nContent-Type: multipart/form-data; boundary=XX\r\nContent-Length: 100000\r\n\r\n--XX\r\nContent-Disposition: form-data; name="file"; filename="a.zip"\r\n\r\nPK\003\004partial' "$ada" >&3
sleep 0.3
exec 3>&-
sleep 0.5
left=$(find "$WORK/dock/uploads" -name 'part.*' | wc -l)
[ "$left" -eq 0 ] || fail "a truncated upload left $left part file(s)"

# --- injection strings in every text field ---
inj="'; DROP TABLE users; -- <script>alert(1)</script> %_ \\\" \u00e9"
http 400 "NUL" POST /api/v1/auth/register -H "$J" -d '{"email":"nul@x.org","password":"pass\u0000word"}'
http 400 "" POST /api/v1/auth/register -H "$J" -d "{\"email\":\"$inj@x.org\",\"password\":\"password-1\",\"name\":\"$inj\"}"
http 201 "" POST /api/v1/auth/register -H "$J" -d "{\"email\":\"eve@example.org\",\"password\":\"$inj\",\"name\":\"<img src=x onerror=alert(1)>'--\"}"
eve=$(json -X POST "$url/api/v1/auth/login" -d "{\"email\":\"eve@example.org\",\"password\":\"$inj\"}" | jq -r .token)
[ ${#eve} -eq 43 ] || fail "a password with quotes and markup should work"
http 401 "" POST /api/v1/auth/login -H "$J" -d "{\"email\":\"' OR '1'='1\",\"password\":\"' OR '1'='1\"}"
http 200 '"kind":"semantic"' POST /api/v1/search -H "$J" -d "{\"semantic\":{\"Name\":{\"Type\":\"String\",\"Values\":\"%' OR 1=1 --\"}}}"
[ "$(jbody '.items | length')" = 0 ] || fail "an injection string as a name should match nothing"
http 200 "" GET "/api/v1/learnwares?page=1%3BDROP&limit=-5"
http 201 "" POST /api/v1/me/tokens -H "Authorization: Bearer $eve" -H "$J" -d "{\"name\":\"$inj\"}"
http 200 '"users":4' GET /api/v1/admin/summary -H "$ADM"

# --- admin ---
http 200 '"by_tag"' GET /api/v1/admin/summary -H "$ADM"
[ "$(jbody '.learnwares.total')" -ge 3 ] || fail "the summary should count the learnwares"
http 200 '"total":4' GET /api/v1/admin/users -H "$ADM"
bob_id=$(jq -r '.items[] | select(.email == "bob@example.org") | .id' "$WORK/body")
ada_id=$(jq -r '.items[] | select(.email == "ada@example.org") | .id' "$WORK/body")
admin_id=$(jq -r '.items[] | select(.email == "admin@example.org") | .id' "$WORK/body")
http 200 '"role":"admin"' PATCH "/api/v1/admin/users/$bob_id" -H "$ADM" -H "$J" -d '{"role":"admin"}'
http 200 '"summary"' GET /api/v1/openapi.json -H "$B"
http 200 '"by_status"' GET /api/v1/admin/summary -H "$B"
http 409 "own admin role" PATCH "/api/v1/admin/users/$admin_id" -H "$ADM" -H "$J" -d '{"role":"user"}'
http 409 "owns" DELETE "/api/v1/admin/users/$ada_id" -H "$ADM"
http 200 "\"id\":\"$id2\"" GET /api/v1/admin/learnwares -H "$ADM"
http 204 "" DELETE "/api/v1/learnwares/$id2" -H "$ADM"
http 404 "" GET "/api/v1/learnwares/$id2" -H "$ADM"
http 204 "" DELETE "/api/v1/admin/users/$bob_id" -H "$ADM"
http 401 "" GET /api/v1/me -H "$B"

# --- a new package for a learnware is checked again ---
http 202 '"status":"queued"' PUT "/api/v1/learnwares/$id1/file" -H "$A" -F "file=@$WORK/lw2.zip"
[ "$(wait_verified "$id1" "$ada")" = success ] || fail "the replaced package was not verified again"

# --- a flood of logins: throttled even with the right password ---
for _ in $(seq 1 5); do
  json -o /dev/null -X POST "$url/api/v1/auth/login" -d '{"email":"ada@example.org","password":"flood-1234"}'
done
http 429 "too many failed logins" POST /api/v1/auth/login -H "$J" -d '{"email":"ada@example.org","password":"ada-password"}'
curl -s -D - -o /dev/null -H "$J" -X POST "$url/api/v1/auth/login" -d '{"email":"ada@example.org","password":"x"}' |
  grep -qi '^Retry-After: [0-9]' || fail "a 429 reply needs Retry-After"

# --- metrics, and the server survived all of it ---
http 200 'lw_http_requests_total{route="login",code="4xx"}' GET /metrics
http 200 'lw_jobs{state="done"}' GET /metrics
http 200 "ok" GET /healthz
kill -0 "$server_pid" || fail "the server died"
finish
