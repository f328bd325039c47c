#!/usr/bin/env bash
# The test command (`npm test`): installs what is missing, then runs every test
# (`npm test -- test/lab/*.test.ts`: only those files).
# Heavy parts (the engine build, the orchestrator's virtualenv) are cached outside the
# checkout and skipped when present.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/setup.sh
echo "== type check" >&2
npx tsc --noEmit -p tsconfig.json
if [ $# -eq 0 ]; then
    # The command provider's own tests (remote commands against an SSH server started in the test).
    echo "== go test (engine/provider-command)" >&2
    command -v go >/dev/null 2>&1 || PATH="/usr/local/go/bin:$PATH"
    (cd engine/provider-command && go test -count=1 ./...)
fi
echo "== tests" >&2
log=$(mktemp)
trap 'rm -f "$log"' EXIT
status=0
# Arguments name test files (all of them when none).
UPGRADE_TEST_FILES="$*" npx mocha 2>&1 | tee "$log" || status=$?
# One plain closing line for CI readers: "tests: N passed, N failed, N skipped".
count() { grep -oE "^ +[0-9]+ $1" "$log" | tail -1 | grep -oE '[0-9]+' || echo 0; }
echo "tests: $(count passing) passed, $(count failing) failed, $(count pending) skipped"
exit "$status"
