#!/usr/bin/env bash
# Source this file: selects the inmanta-core line of INMANTA_VERSION (default 20.1.0, the current
# release; 14.0.0 is the newest release on Debian 12's own Python 3.11 and PostgreSQL 15) and exports
# what scripts/inmanta/{venv,pg,server}.sh need for it, building the line's parts once (cached):
#   20.1.0  CPython 3.13 (python.sh), PostgreSQL 16 (pg16.sh), venv with inmanta-core==20.1.0
#   14.0.0  Debian's python3.11 and PostgreSQL 15, venv with inmanta-core==14.0.0
# A failed part stops here with the step that failed (set -e in the caller, or the return code).
_line_here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
INMANTA_VERSION="${INMANTA_VERSION:-20.1.0}"
case "$INMANTA_VERSION" in
  14.0.0)
    unset UPGRADE_INMANTA_PYTHON UPGRADE_PG_BINDIR UPGRADE_PG_CLIENT_BINDIR
    ;;
  20.1.0)
    UPGRADE_INMANTA_PYTHON="$(bash "$_line_here/python.sh" 3.13 | tail -n1)" || { echo "[inmanta $INMANTA_VERSION] Python 3.13 build failed (see above)" >&2; return 1 2>/dev/null || exit 1; }
    _line_pg="$(bash "$_line_here/pg16.sh" | tail -n2)" || { echo "[inmanta $INMANTA_VERSION] PostgreSQL 16 install failed (see above)" >&2; return 1 2>/dev/null || exit 1; }
    UPGRADE_PG_BINDIR="$(echo "$_line_pg" | sed -n 1p)"
    UPGRADE_PG_CLIENT_BINDIR="$(echo "$_line_pg" | sed -n 2p)"
    export UPGRADE_INMANTA_PYTHON UPGRADE_PG_BINDIR UPGRADE_PG_CLIENT_BINDIR
    # the steps' pg_dump/pg_restore/psql must be of the server's major (pg_dump refuses a newer server)
    case ":$PATH:" in *":$UPGRADE_PG_CLIENT_BINDIR:"*) ;; *) export PATH="$UPGRADE_PG_CLIENT_BINDIR:$PATH";; esac
    unset _line_pg
    ;;
  *)
    echo "[inmanta] INMANTA_VERSION=$INMANTA_VERSION: supported lines are 20.1.0 and 14.0.0" >&2
    return 2 2>/dev/null || exit 2
    ;;
esac
export INMANTA_VERSION UPGRADE_INMANTA_VERSION="$INMANTA_VERSION"
unset UPGRADE_INMANTA_VENV
unset _line_here
