#!/usr/bin/env bash
# Build (once, cached in ~/.cache/upgrade-as-code) every inmanta-core line the lab tests run against:
#   scripts/inmanta/install.sh [VERSION...]   (default: 14.0.0 20.1.0)
# Each part is skipped when present; the first failure stops with the line and the step that failed.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
[[ $# -gt 0 ]] || set -- 14.0.0 20.1.0
for v in "$@"; do
  (
    export INMANTA_VERSION="$v"
    # shellcheck source=line.sh
    source "$HERE/line.sh"
    bash "$HERE/venv.sh" >/dev/null
  ) || { echo "[inmanta] setting up inmanta-core $v failed (see above)" >&2; exit 1; }
done
