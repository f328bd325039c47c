#!/usr/bin/env bash
# Build (once) and run actionlint on the shipped GitHub workflow(s).
#   bash scripts/tools/actionlint.sh [files...]     (default: .github/workflows/*.yml)
# The binary is built from the Go module proxy into ~/.cache/upgrade-as-code/tools and reused.
set -euo pipefail
cd "$(dirname "$0")/../.."
VERSION=v1.7.12
TOOLS="${UPGRADE_TOOLS_HOME:-$HOME/.cache/upgrade-as-code/tools}/actionlint-$VERSION"
if [ ! -x "$TOOLS/actionlint" ]; then
    command -v go >/dev/null 2>&1 || PATH="/usr/local/go/bin:$PATH"
    echo "[actionlint] building $VERSION into $TOOLS" >&2
    mkdir -p "$TOOLS"
    GOBIN="$TOOLS" GOFLAGS=-mod=mod go install "github.com/rhysd/actionlint/cmd/actionlint@$VERSION" >&2 \
        || { echo "[actionlint] ERROR: go install github.com/rhysd/actionlint/cmd/actionlint@$VERSION failed" >&2; exit 1; }
fi
if [ $# -eq 0 ]; then set -- .github/workflows/*.yml; fi
exec "$TOOLS/actionlint" -no-color "$@"
