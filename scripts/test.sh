#!/usr/bin/env bash
# The test command (`npm test`): installs what is missing, then runs every test.
# Heavy parts (the engine build, the orchestrator's virtualenv) are cached outside the
# checkout and skipped when present.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh
echo "== type check" >&2
npx tsc --noEmit -p tsconfig.json
echo "== tests" >&2
npx mocha "$@"
