#!/usr/bin/env bash
# Set up, build and run every test: once in a normal build, once under
# AddressSanitizer + UndefinedBehaviorSanitizer.  Exit status is non-zero if
# any test fails.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
. "$here/scripts/shared.sh"
LW_SHARED_DIR=$(lw_find_shared "$here")
export LW_SHARED_DIR

"$here/scripts/setup.sh" "$here/build"
"$here/scripts/setup.sh" "$here/build-asan" -DLW_SANITIZE=ON

status=0
echo "== tests (release build)"
(cd "$here/build" && ctest -j2 --output-on-failure) || status=1
echo "== tests (AddressSanitizer + UndefinedBehaviorSanitizer)"
(cd "$here/build-asan" && ASAN_OPTIONS=detect_leaks=1 ctest -j2 --output-on-failure) || status=1
exit $status
