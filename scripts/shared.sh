# Sourced by the scripts: find the team's shared folder (data sets and the
# reference engine's fixtures).  $LW_SHARED_DIR wins; otherwise the folder
# beside the checkout, then the workspace's.
lw_find_shared() {
  local here=$1 c
  for c in "${LW_SHARED_DIR:-}" "$here/../shared" /work/shared; do
    if [ -n "$c" ] && [ -d "$c/data" ]; then
      (cd "$c" && pwd)
      return 0
    fi
  done
  echo "cannot find the shared folder (data/ and reference/): set LW_SHARED_DIR" >&2
  return 1
}
