#!/usr/bin/env bash
# The web UI's browser tests: headless Chromium (playwright-core) against a
# `learnware serve` the tests start themselves.
#
# Usage: LW=build/learnware tests/browser/run.sh
#   LW                the learnware binary (default: build/learnware)
#   CHROMIUM          the browser (default: /usr/bin/chromium)
#   LW_BROWSER_SHOTS  keep the screenshots in this folder
#   LW_BROWSER_KEEP   keep the test's temporary folder (dock, logs, screenshots)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
export LW=${LW:-"$repo/build/learnware"}
LW=$(cd "$(dirname "$LW")" && pwd)/$(basename "$LW")

command -v node >/dev/null || { echo "run.sh: node is not installed (apt-get install nodejs npm)" >&2; exit 1; }
[ -x "${CHROMIUM:-/usr/bin/chromium}" ] ||
  { echo "run.sh: ${CHROMIUM:-/usr/bin/chromium} is missing (apt-get install chromium)" >&2; exit 1; }
[ -x "$LW" ] || { echo "run.sh: no learnware binary at $LW (set LW)" >&2; exit 1; }
if [ ! -d "$here/node_modules/playwright-core" ]; then
  npm ci --prefix "$here" --no-audit --no-fund
fi
cd "$here"
exec node --test --test-reporter=spec ./*.test.mjs
