#!/usr/bin/env bash
# A throw-away PostgreSQL cluster for the Inmanta lab and tests.
#
#   scripts/inmanta/pg.sh start  DIR PORT   initdb (once) + start + create database "inmanta"
#   scripts/inmanta/pg.sh stop   DIR        stop (fast shutdown); PORT is accepted and ignored
#   scripts/inmanta/pg.sh status DIR        exit 0 when running
#   scripts/inmanta/pg.sh psql   DIR PORT [PSQL ARGS...]   psql on database "inmanta" as postgres
#   scripts/inmanta/pg.sh bindir            print the PostgreSQL client bin folder (pg_dump, pg_restore, psql)
#
# Layout: DIR/data (PGDATA), DIR/run (unix socket), DIR/postgres.log (or the same in DIR/cluster-dir's folder).
# Listens on 127.0.0.1:PORT only, superuser "postgres", trust auth (local tests only).
#
# PostgreSQL refuses to run as root. When this script runs as root it runs the server as
# the system user ${UPGRADE_PG_USER:-postgres} (created by the Debian package; created here
# when missing) and chowns DIR to it: DIR and its parents must be traversable by that user
# (so not under /root; /tmp or the work tree are fine). When it cannot reach DIR (a clone inside a
# folder only root may enter, such as one made by `mktemp -d`), the cluster lives in a folder of its
# own under /tmp, named in DIR/cluster-dir: removing DIR still starts the cluster over.
# Binaries: ${UPGRADE_PG_BINDIR} (server) and ${UPGRADE_PG_CLIENT_BINDIR} (psql, createdb, pg_dump; default:
# the server's folder), else the newest /usr/lib/postgresql/*/bin, else
# `apt-get install -y postgresql` (root only).
set -euo pipefail

log() { echo "[pg] $*" >&2; }
die() { log "$*"; exit 1; }

ACTION="${1:-}"
DIR="${2:-}"
PORT="${3:-}"
[[ "$ACTION" == bindir ]] && DIR="${DIR:-/tmp}"
[[ -n "$ACTION" && -n "$DIR" ]] || die "usage: $0 start|stop|status|psql DIR [PORT] | bindir"
mkdir -p "$DIR"
DIR="$(cd "$DIR" && pwd)"
DATA="$DIR/data"
SOCK="$DIR/run"
LOGFILE="$DIR/postgres.log"
PG_USER="${UPGRADE_PG_USER:-postgres}"

find_bindir() {
  if [[ -n "${UPGRADE_PG_BINDIR:-}" ]]; then echo "$UPGRADE_PG_BINDIR"; return 0; fi
  local d
  d="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n1 || true)"
  if [[ -n "$d" && -x "$d/pg_ctl" ]]; then echo "$d"; return 0; fi
  return 1
}

BIN="$(find_bindir || true)"
if [[ -z "$BIN" ]]; then
  [[ "$(id -u)" == 0 ]] || die "PostgreSQL server binaries not found and not root: install the postgresql package"
  log "PostgreSQL not installed: apt-get install -y postgresql"
  export DEBIAN_FRONTEND=noninteractive
  apt-get update >&2
  apt-get install -y --no-install-recommends postgresql >&2
  BIN="$(find_bindir)" || die "postgresql installed but no /usr/lib/postgresql/*/bin/pg_ctl"
fi

CLIENT="${UPGRADE_PG_CLIENT_BINDIR:-$BIN}"

# as_pg CMD...: run CMD as the cluster owner
if [[ "$(id -u)" == 0 ]]; then
  if ! id -u "$PG_USER" >/dev/null 2>&1; then
    log "creating system user $PG_USER"
    useradd --system --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin "$PG_USER"
  fi
  as_pg() { runuser -u "$PG_USER" -- "$@"; }
else
  as_pg() { "$@"; }
fi

CLUSTER="$DIR"
if [[ "$(id -u)" == 0 ]] && ! as_pg test -x "$DIR"; then
  if [[ -f "$DIR/cluster-dir" ]]; then
    CLUSTER="$(cat "$DIR/cluster-dir")"
  elif [[ "$ACTION" == start ]]; then
    # One folder per DIR: a DIR removed and made again starts from an empty one, nothing piles up.
    CLUSTER="/tmp/upgrade-as-code-pg-$(printf '%s' "$DIR" | sha256sum | cut -c1-16)"
    rm -rf "$CLUSTER" && mkdir -p "$CLUSTER"
    echo "$CLUSTER" > "$DIR/cluster-dir"
    log "$PG_USER cannot reach $DIR: the cluster lives in $CLUSTER"
  fi
  DATA="$CLUSTER/data"; SOCK="$CLUSTER/run"; LOGFILE="$CLUSTER/postgres.log"
fi

pg_running() {
  [[ -f "$DATA/PG_VERSION" ]] && as_pg "$BIN/pg_ctl" status -D "$DATA" >/dev/null 2>&1
}

case "$ACTION" in
  start)
    [[ -n "$PORT" ]] || die "usage: $0 start DIR PORT"
    if [[ "$(id -u)" == 0 ]]; then
      chown "$PG_USER" "$CLUSTER"
      as_pg test -x "$CLUSTER" || die "$PG_USER cannot reach $CLUSTER (a parent directory is not traversable); use a directory under /tmp"
    fi
    if [[ ! -f "$DATA/PG_VERSION" ]]; then
      log "initdb $DATA"
      mkdir -p "$DATA" "$SOCK"
      [[ "$(id -u)" == 0 ]] && chown -R "$PG_USER" "$DATA" "$SOCK"
      chmod 700 "$DATA"
      as_pg "$BIN/initdb" -D "$DATA" -U postgres --auth=trust --encoding=UTF8 --locale=C.UTF-8 >"$DIR/initdb.log" 2>&1 \
        || { cat "$DIR/initdb.log" >&2; die "initdb failed"; }
    fi
    # a data folder of another major version (a lab switched between inmanta-core lines) will not start
    have="$(cat "$DATA/PG_VERSION")"; want="$("$BIN/postgres" --version | sed -E 's/.* ([0-9]+)\..*/\1/')"
    [[ "$have" == "$want" ]] || die "$DATA holds a PostgreSQL $have cluster, the binaries in $BIN are $want: remove $DIR or pick the matching INMANTA_VERSION"
    mkdir -p "$SOCK"
    [[ "$(id -u)" == 0 ]] && { chown "$PG_USER" "$SOCK"; touch "$LOGFILE"; chown "$PG_USER" "$LOGFILE"; }
    if pg_running; then
      log "already running ($DATA)"
    else
      as_pg "$BIN/pg_ctl" start -D "$DATA" -l "$LOGFILE" -w -t 60 \
        -o "-c listen_addresses=127.0.0.1 -p $PORT -c unix_socket_directories=$SOCK -c fsync=off -c max_connections=200" >&2 \
        || { tail -n 30 "$LOGFILE" >&2; die "pg_ctl start failed"; }
    fi
    if ! "$CLIENT/psql" -h 127.0.0.1 -p "$PORT" -U postgres -d postgres -tAc "SELECT 1 FROM pg_database WHERE datname='inmanta'" | grep -q 1; then
      "$CLIENT/createdb" -h 127.0.0.1 -p "$PORT" -U postgres inmanta
      log "created database inmanta"
    fi
    echo "postgresql://postgres@127.0.0.1:$PORT/inmanta"
    ;;
  stop)
    if pg_running; then
      as_pg "$BIN/pg_ctl" stop -D "$DATA" -m fast -w -t 60 >&2
    else
      log "not running ($DATA)"
    fi
    ;;
  status)
    if pg_running; then
      as_pg "$BIN/pg_ctl" status -D "$DATA"
    else
      echo "not running ($DATA)"; exit 3
    fi
    ;;
  psql)
    [[ -n "$PORT" ]] || die "usage: $0 psql DIR PORT [PSQL ARGS...]"
    shift 3
    exec "$CLIENT/psql" -h 127.0.0.1 -p "$PORT" -U postgres -d inmanta -v ON_ERROR_STOP=1 "$@"
    ;;
  bindir)
    echo "$CLIENT"
    ;;
  *) die "unknown action $ACTION (start|stop|status|psql|bindir)";;
esac
