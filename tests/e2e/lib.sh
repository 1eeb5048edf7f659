# Helpers for the end-to-end tests: each test script sources this file,
# runs the real `learnware` binary ($LW) and calls `finish` at the end.
set -u
: "${LW:?set LW to the learnware binary}"
: "${LW_SHARED_DIR:?set LW_SHARED_DIR to the shared folder}"
FIXTURES="$LW_SHARED_DIR/reference/fixtures"
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
failures=0
checks=0

fail() {
  echo "FAIL: $*" >&2
  failures=$((failures + 1))
}

# expect CODE FRAGMENT -- cmd args...: exit code and a fragment of stdout+stderr
# ("" for none).
expect() {
  local code=$1 fragment=$2
  shift 3
  checks=$((checks + 1))
  local out rc
  out=$("$@" 2>&1)
  rc=$?
  if [ "$rc" -ne "$code" ]; then
    fail "'$*' exited $rc, expected $code; output: $out"
  elif [ -n "$fragment" ] && ! grep -qF -- "$fragment" <<<"$out"; then
    fail "'$*' output lacks '$fragment': $out"
  fi
}

# near A B TOL: |A - B| <= TOL
near() {
  checks=$((checks + 1))
  awk -v a="$1" -v b="$2" -v t="$3" 'BEGIN { d = a - b; if (d < 0) d = -d; exit !(d <= t) }' ||
    fail "$1 is not within $3 of $2"
}

finish() {
  echo "$checks checks, $failures failed"
  [ "$failures" -eq 0 ]
}

# build_fixture_zip ID OUT: a linear learnware (the model sums its 10 inputs)
# with the reference's search30 fixture specification ID.
build_fixture_zip() {
  local dir="$WORK/src/$1" market="$FIXTURES/search30"
  mkdir -p "$dir"
  cp "$market/learnwares/$1.rkme.json" "$dir/stat_spec.json"
  cp "$market/learnwares/$1.semantic.json" "$dir/semantic_specification.json"
  cat >"$dir/model.json" <<'JSON'
{"format":"learnware-model","version":1,"kind":"linear","task":"regression","input_dim":10,"output_dim":1,
 "layers":[{"weights":[[1,1,1,1,1,1,1,1,1,1]],"bias":[0],"activation":"identity"}]}
JSON
  "$LW" pack "$dir" -o "$2" -q --kind linear --model-file model.json --input-shape 10 --output-shape 1 \
    --semantic semantic_specification.json || fail "cannot pack fixture learnware $1"
}

# serve_dock DOCK [serve options...]: start `learnware serve` on a free loopback
# port with a first admin (admin@example.org / admin-password-1); sets $url
# and $server_pid, and stops the server when the test exits.
serve_dock() {
  local dock=$1 log="$WORK/serve.$RANDOM"
  shift
  LEARNWARE_ADMIN_EMAIL=admin@example.org LEARNWARE_ADMIN_PASSWORD=admin-password-1 \
    "$LW" serve --dock "$dock" --listen 127.0.0.1:0 "$@" >"$log.out" 2>"$log.err" &
  server_pid=$!
  server_pids="${server_pids:-} $server_pid"
  trap 'kill $server_pids 2>/dev/null; wait 2>/dev/null; rm -rf "$WORK"' EXIT
  url=
  for _ in $(seq 1 600); do
    url=$(sed -n 's/^listening on //p' "$log.out")
    [ -n "$url" ] && return 0
    kill -0 "$server_pid" 2>/dev/null || break
    sleep 0.1
  done
  echo "learnware serve did not start: $(cat "$log.err")" >&2
  exit 1
}
