#!/usr/bin/env bash
# Debian's chromium, for the test that opens the upgrade report's HTML page headless and screenshots it.
# A no-op once present; prints the browser's path.
set -euo pipefail
for b in chromium chromium-browser; do
    if command -v "$b" >/dev/null 2>&1; then command -v "$b"; exit 0; fi
done
echo "== installing chromium from Debian" >&2
apt-get update -qq >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium fonts-dejavu-core >&2
command -v chromium
