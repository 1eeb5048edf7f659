# Past one machine: two `learnware serve` replicas and two `learnware worker`
# processes on one PostgreSQL store behave as one dock.  A learnware added
# or deleted through one replica is found (or gone) through the other
# within a second; no job runs twice; a killed worker's job is retried.
# Needs the loopback server of scripts/pg-test-server.sh (a CTest fixture).
. "$(dirname "$0")/../e2e/lib.sh"

admin_url=$(cat "${LW_PG_URL_FILE:?set LW_PG_URL_FILE}")
db="serve_e2e_$$"
psql -q "$admin_url" -c "CREATE DATABASE $db" || { fail "cannot create database $db"; finish; exit 1; }
pg="${admin_url%/*}/$db"
chmod 755 "$WORK"
files="$WORK/files"
market="$FIXTURES/search30"
for i in 0 1 2 3 4 5; do build_fixture_zip "$(printf '%08d' "$i")" "$WORK/lw$i.zip"; done

# A process model that never answers: its check runs until the wall-clock limit.
mkdir -p "$WORK/hang"
cp "$market/learnwares/00000006.rkme.json" "$WORK/hang/stat_spec.json"
cp "$market/learnwares/00000006.semantic.json" "$WORK/hang/semantic.json"
printf '#!/bin/sh\nsleep 60\n' >"$WORK/hang/model.sh"
chmod 755 "$WORK/hang/model.sh"
cat >"$WORK/hang/learnware.yaml" <<'EOF'
model:
  kind: process
  command: [model.sh]
stat_specifications:
  - {module_path: learnware.specification, class_name: RKMETableSpecification, file_name: stat_spec.json, kwargs: {}}
semantic_specification: {file_name: semantic.json}
EOF
"$LW" pack "$WORK/hang" -o "$WORK/hang.zip" -q || fail "cannot pack the hanging learnware"

common=(--dock "$pg" --set files_root="$files" --set job_timeout_s=10 --set check_timeout_s=6)
serve_dock "$pg" --set files_root="$files" --set workers=0
url_a=$url
serve_dock "$pg" --set files_root="$files" --set workers=0
url_b=$url
workers=()
for w in 1 2; do
  "$LW" worker "${common[@]}" 2>"$WORK/worker$w.err" &
  workers+=($!)
  server_pids="$server_pids $!"
done

post() { curl -s -H 'Content-Type: application/json' "$@"; }
post -X POST "$url_a/api/v1/auth/register" -d '{"email":"ada@example.org","password":"ada-password"}' >/dev/null
tok=$(post -X POST "$url_b/api/v1/auth/login" -d '{"email":"ada@example.org","password":"ada-password"}' | jq -r .token)
[ ${#tok} -eq 43 ] || fail "an account made through replica A should log in through replica B"
A="Authorization: Bearer $tok"

# Six submissions through A, checked by the two workers.
ids=()
for i in 0 1 2 3 4 5; do
  ids+=("$(curl -s -H "$A" -F "file=@$WORK/lw$i.zip" "$url_a/api/v1/learnwares" | jq -r .learnware.id)")
done
done_at=
for _ in $(seq 1 300); do
  n=$(curl -s "$url_b/api/v1/learnwares" | jq -r .total)
  [ "$n" = 6 ] && break
  sleep 0.1
done
[ "$n" = 6 ] || fail "replica B lists $n of the 6 learnwares submitted through A"

# No job ran twice: one verdict per learnware, and both workers took part.
twice=$(psql -qtA "$pg" -c "SELECT count(*) FROM (SELECT learnware_id FROM events
  WHERE kind = 'learnware.checked' GROUP BY learnware_id HAVING count(*) > 1) t")
[ "$twice" = 0 ] || fail "$twice learnware(s) were checked twice"
retries=$(psql -qtA "$pg" -c "SELECT count(*) FROM jobs WHERE attempts <> 1")
[ "$retries" = 0 ] || fail "$retries job(s) were claimed more than once"
nworkers=$(psql -qtA "$pg" -c "SELECT count(DISTINCT worker) FROM jobs")
[ "$nworkers" -ge 1 ] || fail "no worker recorded on the jobs"

# Search through B finds a learnware submitted through A within a second of its verdict.
new=$(curl -s -H "$A" -F "file=@$WORK/lw0.zip;filename=again.zip" -F "semantic=<$market/learnwares/00000007.semantic.json" \
  "$url_a/api/v1/learnwares" | jq -r '.error.message')
case $new in *"same content"*) ;; *) fail "a duplicate through A should be refused: $new" ;; esac
curl -s -X DELETE -H "$A" "$url_b/api/v1/learnwares/${ids[5]}" -o /dev/null -w '%{http_code}' | grep -q 204 ||
  fail "delete through B failed"
gone=0
for _ in $(seq 1 10); do
  found=$(curl -s -F "rkme=@$market/user_rkme.json" "$url_a/api/v1/search" | jq -r '[.items[].id, (.mixture.items // [])[].id] | join(",")')
  case ",$found," in *",${ids[5]},"*) sleep 0.1 ;; *) gone=1; break ;; esac
done
[ "$gone" = 1 ] || fail "learnware ${ids[5]} deleted through B is still found through A after 1 s"
curl -s -H "$A" -F "file=@$WORK/lw5.zip" "$url_a/api/v1/learnwares" -o "$WORK/re.json"
re=$(jq -r .learnware.id "$WORK/re.json")
seen=0
for _ in $(seq 1 100); do
  st=$(curl -s -H "$A" "$url_a/api/v1/learnwares/$re/verification" | jq -r .status)
  [ "$st" = success ] && break
  sleep 0.05
done
for _ in $(seq 1 10); do
  curl -s -X POST -H 'Content-Type: application/json' "$url_b/api/v1/search" \
    -d "{\"semantic\":{\"Name\":{\"Type\":\"String\",\"Values\":\"blob_5\"}}}" | jq -e ".items[] | select(.id == \"$re\")" >/dev/null &&
    { seen=1; break; }
  sleep 0.1
done
[ "$seen" = 1 ] || fail "learnware $re verified through A's workers is not found through B within 1 s"
curl -s -F "rkme=@$market/user_rkme.json" "$url_b/api/v1/search" | jq -e ".mixture.items | length > 0" >/dev/null ||
  fail "statistical search through B should recommend a mixture"

# A worker killed in the middle of a check: its job goes back to the queue and the other finishes it.
hang=$(curl -s -H "$A" -F "file=@$WORK/hang.zip" "$url_a/api/v1/learnwares" | jq -r .learnware.id)
victim=
for _ in $(seq 1 100); do
  w=$(psql -qtA "$pg" -c "SELECT worker FROM jobs WHERE learnware_id = '$hang' AND state = 1")
  [ -n "$w" ] && break
  sleep 0.1
done
for k in 0 1; do
  grep -q ":${workers[$k]}:" <<<"$w" && victim=${workers[$k]}
done
[ -n "$victim" ] || fail "no worker claimed the hanging learnware (worker '$w')"
[ -n "$victim" ] && kill -9 "$victim"
st=
for _ in $(seq 1 400); do
  st=$(curl -s -H "$A" "$url_b/api/v1/learnwares/$hang/verification" | jq -r '.status + " " + (.job.attempts | tostring)')
  case $st in success* | failed*) break ;; esac
  sleep 0.1
done
[ "$st" = "success 2" ] || fail "the killed worker's job should be retried once and finish: '$st' $(curl -s -H "$A" "$url_b/api/v1/learnwares/$hang/verification") $(cat $WORK/worker*.err)"
curl -s -H "$A" "$url_b/api/v1/learnwares/$hang/verification" | jq -r .log | grep -q "wall-clock" ||
  fail "the retried check should fail the hanging model on the wall-clock limit"
finish
