#!/usr/bin/env bash
# The test command (`npm test`): installs what is missing, then runs every test
# (`npm test -- test/lab/*.test.ts`: only those files).
# Heavy parts (the engine build, the orchestrator's virtualenv) are cached outside the
# checkout and skipped when present.
set -euo pipefail
cd "$(dirname "$0")/.."
# The whole suite: on a cold machine the Kubernetes build (the longest) may still run when the rest is set
# up; the tests that need no cluster start then, the others once it is done.
[ $# -eq 0 ] && export UPGRADE_KUBE_LATER=1
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
logs=()
# Also stops a Kubernetes build still running (setup.sh's own trap, replaced here).
trap 'rm -f "${logs[@]}"; if [ -n "${kube_build_pid:-}" ]; then kill -- "-$kube_build_pid" 2>/dev/null || true; fi' EXIT
status=0
# One mocha run over the given files (all of them when none); its output is kept for the closing line.
run_mocha() {
    local log
    log=$(mktemp)
    logs+=("$log")
    UPGRADE_TEST_FILES="$*" npx mocha 2>&1 | tee "$log" || status=$?
}
if [ "${UPGRADE_KUBE_PENDING:-}" = 1 ]; then
    # Every file that speaks of Kubernetes, Argo CD or LSST waits for the build (a file too many only waits).
    mapfile -t later < <(grep -rliE 'kube|argocd|lsst' test --include='*.test.ts' | sort)
    mapfile -t first < <(find test -name '*.test.ts' | sort | grep -vxF -f <(printf '%s\n' "${later[@]}"))
    echo "== tests without a cluster (${#first[@]} files), beside the Kubernetes build" >&2
    run_mocha "${first[@]}"
    echo "== waiting for the Kubernetes build" >&2
    kubernetes_ready
    echo "== tests with the cluster and the Kubernetes provider (${#later[@]} files)" >&2
    run_mocha "${later[@]}"
else
    # Arguments name test files (all of them when none).
    run_mocha "$@"
fi
# One plain closing line for CI readers: "tests: N passed, N failed, N skipped".
count() {
    local n total=0
    for log in "${logs[@]}"; do
        n=$(grep -oE "^ +[0-9]+ $1" "$log" | tail -1 | grep -oE '[0-9]+' || echo 0)
        total=$((total + n))
    done
    echo "$total"
}
echo "tests: $(count passing) passed, $(count failing) failed, $(count pending) skipped"
exit "$status"
