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
