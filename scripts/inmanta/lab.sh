#!/usr/bin/env bash
# The whole local Inmanta lab in one folder: PostgreSQL, the orchestrator, the model repository
# with release A published, an environment compiling that repository, the service inventory
# fixtures.
#
#   scripts/inmanta/lab.sh up     DIR [ENV_NAME]   -> KEY=VALUE lines (also written to DIR/lab.env)
#   scripts/inmanta/lab.sh down   DIR
#   scripts/inmanta/lab.sh status DIR
#
# Layout: DIR/pg (pg.sh), DIR/server (server.sh; files written by the agent in DIR/server/files),
# DIR/repo (model-repo.sh, branch "release"), DIR/lab.env.
# Ports: $UPGRADE_INMANTA_PG_PORT / $UPGRADE_INMANTA_PORT, else free ports.
# The environment is left as created (auto_deploy on, no compile yet): the caller drives the runbook.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
log() { echo "[lab] $*" >&2; }

ACTION="${1:-}"
DIR="${2:-}"
[[ -n "$ACTION" && -n "$DIR" ]] || { log "usage: $0 up|down|status DIR [ENV_NAME]"; exit 1; }
mkdir -p "$DIR"
DIR="$(cd "$DIR" && pwd)"

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'; }

case "$ACTION" in
  up)
    NAME="${3:-lab}"
    if [[ -f "$DIR/lab.env" ]]; then
      # shellcheck disable=SC1091
      PG_PORT="$(. "$DIR/lab.env"; echo "$PG_PORT")"
    else
      PG_PORT="${UPGRADE_INMANTA_PG_PORT:-$(free_port)}"
    fi
    bash "$HERE/pg.sh" start "$DIR/pg" "$PG_PORT" >/dev/null
    URL="$(bash "$HERE/server.sh" start "$DIR/server" "$PG_PORT" "${UPGRADE_INMANTA_PORT:-}" | tail -n1)"
    if [[ -d "$DIR/repo/.git" ]]; then
      REPO_URL="file://$DIR/repo"
    else
      REPO_URL="$(bash "$HERE/model-repo.sh" "$DIR/repo" a | tail -n1)"
    fi
    ENV_ID="$(bash "$HERE/setup-env.sh" "$URL" "$NAME" "$REPO_URL" release | tail -n1)"
    bash "$HERE/pg.sh" psql "$DIR/pg" "$PG_PORT" -q -v env_id="$ENV_ID" -f "$ROOT/lab/inmanta/fixtures.sql" >/dev/null
    # inmanta-core 15+ keeps the project folder in state/server/<env>/compiler, 14.x in
    # state/server/environments/<env>: the 14.x path (the one the lab stacks name) points there.
    STATE="$DIR/server/state/server"
    if [[ "${UPGRADE_INMANTA_VERSION:-14.0.0}" != 14.* && ! -e "$STATE/environments/$ENV_ID" ]]; then
      mkdir -p "$STATE/environments"
      ln -sfn "../$ENV_ID/compiler" "$STATE/environments/$ENV_ID"
    fi
    cat >"$DIR/lab.env" <<EOF
URL=$URL
ENV_ID=$ENV_ID
PG_PORT=$PG_PORT
REPO_DIR=$DIR/repo
REPO_URL=$REPO_URL
SERVER_DIR=$DIR/server
FILES_DIR=$DIR/server/files
PROJECT_DIR=$DIR/server/state/server/environments/$ENV_ID
INMANTA_VERSION=${UPGRADE_INMANTA_VERSION:-14.0.0}
EOF
    cat "$DIR/lab.env"
    ;;
  down)
    bash "$HERE/server.sh" stop "$DIR/server" || true
    bash "$HERE/pg.sh" stop "$DIR/pg" || true
    ;;
  status)
    rc=0
    bash "$HERE/pg.sh" status "$DIR/pg" >/dev/null || rc=$?
    echo "postgres: $([[ $rc == 0 ]] && echo running || echo stopped)"
    src=0
    bash "$HERE/server.sh" status "$DIR/server" >/dev/null || src=$?
    echo "server: $([[ $src == 0 ]] && cat "$DIR/server/url" || echo stopped)"
    [[ $rc == 0 && $src == 0 ]]
    ;;
  *) log "unknown action $ACTION (up|down|status)"; exit 1;;
esac
