#!/usr/bin/env bash
# A throwaway PostgreSQL 15 cluster on loopback for the store's tests.
#
#   scripts/pg-test-server.sh start STATE_DIR   start one; print its URL (also in STATE_DIR/url)
#   scripts/pg-test-server.sh stop STATE_DIR    stop it and delete its files
#
# The cluster lives in a fresh directory under $TMPDIR, listens on a free
# port of 127.0.0.1 and on a unix socket in that directory, trusts every
# local connection and skips fsync (the tests kill clients, not the server).
# PostgreSQL refuses to run as root, so as root the cluster belongs to the
# `postgres` system user that Debian's postgresql-15 package creates.
set -euo pipefail
usage="usage: pg-test-server.sh start|stop STATE_DIR"
cmd=${1:?$usage}
state=${2:?$usage}
bindir=${LW_PG_BINDIR:-/usr/lib/postgresql/15/bin}

as_owner() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

stop() {
  [ -f "$state/cluster" ] || return 0
  local cluster
  cluster=$(cat "$state/cluster")
  if [ -d "$cluster/data" ]; then
    as_owner "$bindir/pg_ctl" -D "$cluster/data" -m immediate -w stop >/dev/null 2>&1 || true
  fi
  rm -rf "$cluster"
  rm -f "$state/cluster" "$state/url"
}

# A port nothing listens on; the start below retries if another process takes it first.
pick_port() {
  local port
  for _ in $(seq 50); do
    port=$((20000 + RANDOM % 40000))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
      echo "$port"
      return 0
    fi
  done
  echo "pg-test-server: no free port found" >&2
  return 1
}

start() {
  local cluster port opts
  if [ ! -x "$bindir/initdb" ]; then
    echo "pg-test-server: $bindir/initdb not found: apt-get install postgresql-15" >&2
    exit 1
  fi
  stop
  mkdir -p "$state"
  cluster=$(mktemp -d "${TMPDIR:-/tmp}/lw-pg.XXXXXX")
  echo "$cluster" >"$state/cluster"
  [ "$(id -u)" -eq 0 ] && chown postgres: "$cluster"
  if ! as_owner "$bindir/initdb" -D "$cluster/data" -A trust -U postgres -E UTF8 --locale=C \
         --no-sync >"$cluster/initdb.log" 2>&1; then
    cat "$cluster/initdb.log" >&2
    exit 1
  fi
  # One line: pg_ctl hands these to a shell.
  opts="-c listen_addresses=127.0.0.1 -c unix_socket_directories=$cluster -c fsync=off"
  opts+=" -c full_page_writes=off -c synchronous_commit=off -c max_connections=60"
  for _ in 1 2 3 4 5; do
    port=$(pick_port)
    if as_owner "$bindir/pg_ctl" -D "$cluster/data" -l "$cluster/server.log" -w -t 60 \
         -o "$opts -c port=$port" start >/dev/null; then
      "$bindir/createdb" -h 127.0.0.1 -p "$port" -U postgres lwtest
      echo "postgresql://postgres@127.0.0.1:$port/lwtest" >"$state/url"
      cat "$state/url"
      return 0
    fi
  done
  tail -20 "$cluster/server.log" >&2 || true
  echo "pg-test-server: the server did not start" >&2
  exit 1
}

case "$cmd" in
  start) start ;;
  stop) stop ;;
  *) echo "$usage" >&2; exit 2 ;;
esac
