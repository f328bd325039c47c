#!/usr/bin/env bash
# Create (or reuse) a cached virtualenv with a pinned inmanta-core.
#
#   scripts/inmanta/venv.sh            -> prints the venv path on the last stdout line
#
# Environment:
#   UPGRADE_INMANTA_VERSION  inmanta-core version (default 14.0.0: newest release that
#                            supports Python 3.11; 15.x needs Python >= 3.12)
#   UPGRADE_INMANTA_VENV     venv path (default ~/.cache/upgrade-as-code/inmanta-venv-<version>)
#   UPGRADE_INMANTA_PYTHON   python interpreter to build the venv with (default python3.11, python3;
#                            scripts/inmanta/line.sh sets the self-built 3.13 for the 20.x line)
set -euo pipefail

VERSION="${UPGRADE_INMANTA_VERSION:-14.0.0}"
VENV="${UPGRADE_INMANTA_VENV:-$HOME/.cache/upgrade-as-code/inmanta-venv-$VERSION}"
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# constraints for the dependencies of this inmanta-core version (optional file)
CONSTRAINTS="$HERE/constraints-$VERSION.txt"
STAMP="$VENV/.upgrade-as-code-stamp"
stamp() { echo "inmanta-core==$VERSION $( [[ -f "$CONSTRAINTS" ]] && sha256sum <"$CONSTRAINTS" | cut -c1-16 )"; }

log() { echo "[inmanta-venv] $*" >&2; }

pick_python() {
  if [[ -n "${UPGRADE_INMANTA_PYTHON:-}" ]]; then echo "$UPGRADE_INMANTA_PYTHON"; return; fi
  local c
  for c in python3.11 python3; do
    if command -v "$c" >/dev/null 2>&1 && "$c" -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 11) else 1)' 2>/dev/null; then
      echo "$c"; return
    fi
  done
  command -v python3 || { log "no python3 found"; exit 1; }
}

venv_ok() {
  [[ -x "$VENV/bin/python" && -x "$VENV/bin/inmanta" ]] || return 1
  [[ "$(cat "$STAMP" 2>/dev/null)" == "$(stamp)" ]] || return 1
  "$VENV/bin/python" - "$VERSION" <<'EOF' >/dev/null 2>&1
import sys
from importlib.metadata import version
import inmanta.server.server, inmanta.compiler, inmanta.export  # noqa: F401  importable
sys.exit(0 if version("inmanta-core") == sys.argv[1] else 1)
EOF
}

if venv_ok; then
  log "reusing $VENV (inmanta-core $VERSION)"
  echo "$VENV"
  exit 0
fi

# Serialize concurrent builds (the lab and the tests may ask at once); the winner's venv is reused.
mkdir -p "$(dirname "$VENV")"
exec 9>"$VENV.lock"
flock 9
if venv_ok; then
  log "reusing $VENV (inmanta-core $VERSION), built meanwhile"
  echo "$VENV"
  exit 0
fi

PY="$(pick_python)"
log "creating $VENV with $PY ($("$PY" --version 2>&1)), inmanta-core==$VERSION"
rm -rf "$VENV"
mkdir -p "$(dirname "$VENV")"
# remove a half-built venv when the install fails
trap 'rm -rf "$VENV"' ERR
"$PY" -m venv "$VENV"
PIP_ARGS=(--quiet "inmanta-core==$VERSION")
# inmanta-core 14.0.0 imports importlib_metadata without declaring it as a dependency (20.x needs nothing extra)
[[ "$VERSION" == 14.* ]] && PIP_ARGS+=("importlib_metadata")
[[ -f "$CONSTRAINTS" ]] && PIP_ARGS+=(--constraint "$CONSTRAINTS")
"$VENV/bin/python" -m pip install "${PIP_ARGS[@]}" >&2
trap - ERR
stamp >"$STAMP"

if ! venv_ok; then
  log "venv at $VENV does not import inmanta-core $VERSION"
  exit 1
fi
log "ready: $("$VENV/bin/inmanta" --version 2>/dev/null || true)"
echo "$VENV"
