#!/usr/bin/env bash
# The test command (`npm test`): installs what is missing, then runs every test
# (`npm test -- test/lab/*.test.ts`: only those files).
# Heavy parts (the engine build, the orchestrator's virtualenv) are cached outside the
# checkout and skipped when present.
set -euo pipefail
cd "$(dirname "$0")/.."
# The whole suite: on a cold machine the Kubernetes build (the longest) may still run when the rest is set
# up; the tests that need no cluster start then, the others as soon as the part they need is built.
[ $# -eq 0 ] && export UPGRADE_KUBE_LATER=1
source scripts/setup.sh
echo "== type check" >&2
npx tsc --noEmit -p tsconfig.json
if [ $# -eq 0 ]; then
    # The command provider's own tests (remote commands against an SSH server started in the test).
    echo "== go test (engine/provider-command)" >&2
    command -v go >/dev/null 2>&1 || PATH="/usr/local/go/bin:$PATH"
    # The engine's build flags, so that a cold run reuses the packages scripts/engine/install.sh compiled.
    (cd engine/provider-command && CGO_ENABLED=0 GOFLAGS=-buildvcs=false go test -trimpath -count=1 ./...)
fi
echo "== tests" >&2
logs=()
# Also stops a Kubernetes build still running and the test runs started beside it.
group_pids=()
trap 'rm -f "${logs[@]}"; for p in "${group_pids[@]}"; do pkill -TERM -P "$p" 2>/dev/null || true; done
      if [ -n "${kube_build_pid:-}" ]; then kill -- "-$kube_build_pid" 2>/dev/null || true; fi' EXIT
status=0
# One mocha run over the given files (all of them when none); its output is kept for the closing line.
run_mocha() {
    local log
    log=$(mktemp)
    logs+=("$log")
    UPGRADE_TEST_FILES="$*" npx mocha 2>&1 | tee "$log" || status=$?
}
# The same in the background, each line of its output marked with the group's name; with --jobs N, N of
# its files at a time (mocha --parallel: each file in a worker, its output printed once it is done).
start_group() {
    local name=$1 log jobs=()
    shift
    if [ "${1:-}" = --jobs ]; then jobs=(--parallel --jobs "$2"); shift 2; fi
    log=$(mktemp)
    logs+=("$log")
    [ $# -gt 0 ] || return 0
    echo "== [$name] $# files, from ${SECONDS} s" >&2
    (rc=0; UPGRADE_TEST_FILES="$*" npx mocha "${jobs[@]}" 2>&1 | tee "$log" | sed -u "s/^/[$name] /" || rc=$?
     echo "== [$name] done at ${SECONDS} s" >&2; exit "$rc") &
    group_pids+=($!)
}
if [ "${UPGRADE_KUBE_PENDING:-}" = 1 ]; then
    # A file says what of the Kubernetes build it needs on a line of its own (test/ci/needs.test.ts checks them);
    # each group starts as soon as that part is built, beside the others.
    mapfile -t provider < <(grep -rlx '// test-needs: kubernetes-provider' test --include='*.test.ts' | sort)
    mapfile -t plane < <(grep -rlx '// test-needs: kubernetes-control-plane' test --include='*.test.ts' | sort)
    mapfile -t rest < <(find test -name '*.test.ts' | sort | grep -vxF -f <(printf '%s\n' "${provider[@]}" "${plane[@]}"))
    echo "== the Kubernetes build goes on: ${#rest[@]} test files start now, ${#plane[@]} once the control plane is built, ${#provider[@]} once the provider is" >&2
    # The files that need no cluster are the longest part (48 of the 78 min of a cold run, one after the other):
    # two at a time, as their tests mostly wait on servers and processes of their own (warm: 24 min).
    start_group tests --jobs 2 "${rest[@]}"
    if kubernetes_control_plane_ready; then
        start_group control-plane "${plane[@]}"
        if kubernetes_ready; then start_group provider "${provider[@]}"; else status=1; fi
    else
        status=1
    fi
    for p in "${group_pids[@]}"; do wait "$p" || status=1; done
    group_pids=()
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
