#!/usr/bin/env bash
# `npm run bench [-- NAME [options]]`: installs what is missing (as npm test does), then runs the
# benchmark bench/NAME.ts (default: plan).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh >&2
exec node bin/bench.js "$@"
