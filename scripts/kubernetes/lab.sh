#!/usr/bin/env bash
# The operator's Kubernetes lab: the tests' control plane (test/support/kube-lab.ts), left running.
#
#   scripts/kubernetes/lab.sh start DIR [SOURCE_ROOT]  -> prints KUBECONFIG=DIR/kubeconfig (context "lab"); logs in DIR/logs;
#                                                        with SOURCE_ROOT also the lab Argo CD controller (lab/argocd/controller.ts)
#   scripts/kubernetes/lab.sh stop DIR                 -> ends every process listed in DIR/pids, removes DIR
#
# UPGRADE_KUBE_BIN names the binaries' folder; by default scripts/kubernetes/build.sh builds them (once).
set -euo pipefail
ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
{ [ "${1:-}" = start ] && { [ $# -eq 2 ] || [ $# -eq 3 ]; }; } || { [ "${1:-}" = stop ] && [ $# -eq 2 ]; } \
  || { echo "usage: $0 start DIR [SOURCE_ROOT] | stop DIR" >&2; exit 2; }
args=("$1")
for p in "${@:2}"; do args+=("$(realpath -m -- "$p")"); done   # the folders as given, before the cd
cd "$ROOT"
# With -e, node puts the arguments at argv[1]: "lab.sh" takes the place of the script the entry point skips.
exec node -e 'require("./bin/run-ts")("test/support/kube-lab.ts")' -- lab.sh "${args[@]}"
