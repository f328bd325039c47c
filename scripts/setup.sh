#!/usr/bin/env bash
# Sourced by the lab and the tests: everything a fresh clone needs, each part skipped when present.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
need_apt=()
for tool in git curl; do command -v "$tool" >/dev/null 2>&1 || need_apt+=("$tool"); done
if [ "${#need_apt[@]}" -gt 0 ]; then
    echo "== installing ${need_apt[*]} from Debian" >&2
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}" >&2
fi
if [ ! -d "$root/node_modules/@pulumi/pulumi" ] || [ "$root/package-lock.json" -nt "$root/node_modules/.package-lock.json" ]; then
    echo "== npm ci" >&2
    (cd "$root" && npm ci --no-audit --no-fund >&2)
fi
if [ -f "$root/policy/package.json" ] && { [ ! -d "$root/policy/node_modules/@pulumi/policy" ] || [ "$root/policy/package-lock.json" -nt "$root/policy/node_modules/.package-lock.json" ]; }; then
    echo "== npm ci (policy pack)" >&2
    (cd "$root/policy" && npm ci --no-audit --no-fund >&2)
fi
# The Kubernetes control plane (etcd, kube-apiserver, controller-manager, scheduler, kwok) and the real
# Pulumi Kubernetes provider, built once from Go modules into ~/.cache/upgrade-as-code/kubernetes: the
# longest build, so it runs beside the rest of the set-up (much of which waits on downloads).
if [ -z "${UPGRADE_KUBE_BIN:-}" ]; then
    echo "== Kubernetes control plane and provider (beside the rest; its log follows when done)" >&2
    kube_build_log=$(mktemp)
    setsid bash "$root/scripts/kubernetes/build.sh" >"$kube_build_log.out" 2>"$kube_build_log" &
    kube_build_pid=$!
    # A set-up that fails before the build is done stops the build too.
    trap 'if [ -n "${kube_build_pid:-}" ]; then kill -- "-$kube_build_pid" 2>/dev/null || true; fi' EXIT
fi
# Programs the steps and the tests run: ansible-playbook, rsync, puppet (OpenStack steps) and kubectl
# (LSST's Argo CD patches, checked locally). Debian's packages; each a no-op once present.
bash "$root/scripts/openstack/tools.sh"
if ! command -v kubectl >/dev/null 2>&1; then
    echo "== installing kubectl (kubernetes-client) from Debian" >&2
    apt-get update -qq >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends kubernetes-client >&2
fi
# The LSST bare-metal lab's Docker engine: docker.io, docker-compose and busybox-static from Debian.
bash "$root/scripts/docker/install.sh"
# sshd (openssh-server) for the command provider's tests against a real OpenSSH server.
bash "$root/scripts/engine/openssh.sh"
# A headless browser for the upgrade report's timeline test (Debian's chromium).
bash "$root/scripts/tools/chromium.sh" >/dev/null
# The orchestrator lines the lab tests run against (inmanta-core 14.0.0 and 20.1.0: interpreter, PostgreSQL,
# virtualenv), built once into ~/.cache/upgrade-as-code; a failed part fails the setup naming its step.
# Checked once per run: the lab copies the tests start inherit the mark.
if [ "${UPGRADE_INMANTA_LINES_READY:-}" != 1 ]; then
    echo "== inmanta-core lines" >&2
    bash "$root/scripts/inmanta/install.sh"
    export UPGRADE_INMANTA_LINES_READY=1
fi
echo "== engine" >&2
# shellcheck source=engine/env.sh
source "$root/scripts/engine/env.sh"
command -v pulumi >/dev/null 2>&1 || { echo "setup: no Pulumi engine (see the build log above)" >&2; exit 1; }

# Waits for the Kubernetes build (a no-op once done) and registers its provider with the engine.
kubernetes_ready() {
    if [ -n "${kube_build_pid:-}" ]; then
        wait "$kube_build_pid" || { kube_build_pid=; cat "$kube_build_log" >&2; echo "setup: the Kubernetes build failed (its log above)" >&2; return 1; }
        cat "$kube_build_log" >&2
        UPGRADE_KUBE_BIN=$(tail -n 1 "$kube_build_log.out")
        rm -f "$kube_build_log" "$kube_build_log.out"
        export UPGRADE_KUBE_BIN
        kube_build_pid=
    fi
    unset UPGRADE_KUBE_PENDING
    bash "$root/scripts/kubernetes/register.sh" "$UPGRADE_KUBE_BIN"
}
# The control plane's folder as soon as the build has it (the provider may still be building; its first line).
kubernetes_control_plane_ready() {
    if [ -n "${kube_build_pid:-}" ]; then
        while ! grep -q . "$kube_build_log.out" 2>/dev/null && kill -0 "$kube_build_pid" 2>/dev/null; do sleep 5; done
        # A build that ended without it failed: kubernetes_ready says so.
        grep -q . "$kube_build_log.out" 2>/dev/null || { kubernetes_ready; return; }
        UPGRADE_KUBE_BIN=$(head -n 1 "$kube_build_log.out")
        export UPGRADE_KUBE_BIN
    fi
}
# The whole test run (scripts/test.sh) starts the tests that need no cluster while a cold build goes on.
if [ "${UPGRADE_KUBE_LATER:-}" = 1 ] && [ -n "${kube_build_pid:-}" ] && kill -0 "$kube_build_pid" 2>/dev/null; then
    echo "== Kubernetes build still running: the tests that need it run once it is done" >&2
    export UPGRADE_KUBE_PENDING=1
else
    kubernetes_ready
fi
export PULUMI_CONFIG_PASSPHRASE="${PULUMI_CONFIG_PASSPHRASE-upgrade-lab}"
