#!/usr/bin/env bash
# The operator's Kubernetes lab: the tests' control plane (test/support/kube-lab.ts), left running.
#
#   scripts/kubernetes/lab.sh start DIR   -> prints KUBECONFIG=DIR/kubeconfig (context "lab"); logs in DIR/logs
#   scripts/kubernetes/lab.sh stop DIR    -> ends every server listed in DIR/pids, removes DIR
#
# UPGRADE_KUBE_BIN names the binaries' folder; by default scripts/kubernetes/build.sh builds them (once).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
[ $# -eq 2 ] && { [ "$1" = start ] || [ "$1" = stop ]; } || { echo "usage: $0 start|stop DIR" >&2; exit 2; }
exec node "$ROOT/bin/run-ts.js" test/support/kube-lab.ts "$1" "$2"
