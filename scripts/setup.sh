#!/usr/bin/env bash
# Install the Debian 12 packages the build and tests need (only the missing
# ones), then configure and build.  Usage: scripts/setup.sh [build-dir] [cmake args...]
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)

packages=(build-essential cmake pkg-config libopenblas-openmp-dev liblapacke-dev
          libjansson-dev libcmocka-dev libzip-dev libfyaml-dev libxgboost-dev libsqlite3-dev libpq-dev postgresql-15
          bubblewrap python3 python3-numpy python3-sklearn
          libmicrohttpd-dev libsodium-dev libcurl4-openssl-dev curl jq unzip chromium
          libpng-dev libjpeg-dev zlib1g-dev dataset-fashion-mnist
          libexttextcat-dev)
# The browser tests run on Node.js; keep a Node that is there already (NodeSource's
# nodejs bundles npm, and Debian's npm would conflict with it).
command -v node >/dev/null && command -v npm >/dev/null || packages+=(nodejs npm)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  sudo_cmd=""
  [ "$(id -u)" -ne 0 ] && sudo_cmd="sudo"
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

build=${1:-"$here/build"}
shift || true
echo "setup: building in $build"
log="$build.log"
if ! { cmake -S "$here" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo \
         ${LW_SHARED_DIR:+-DLW_SHARED_DIR="$LW_SHARED_DIR"} "$@" &&
       cmake --build "$build" -j"$(nproc)"; } >"$log" 2>&1; then
  tail -40 "$log"
  echo "setup: build failed; full log in $log" >&2
  exit 1
fi
