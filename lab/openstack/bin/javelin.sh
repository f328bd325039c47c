#!/bin/bash
# javelin.sh check: resources created in a previous release are still alive (ACTIVE: their disk is there).
set -euo pipefail
source "$(dirname "$0")/../devstack/openrc" javelin javelin
current=$(labcloud --version | awk '{print $2}')
old=0
for id in $(labcloud server list); do
    release=$(labcloud server show "$id" -c release)
    [ "$release" = "$current" ] && continue
    old=$((old + 1))
    status=$(labcloud server show "$id" -c status)
    [ "$status" = ACTIVE ] || { echo "javelin: server $id (created on $release) is $status" >&2; exit 1; }
    echo "javelin: server $id created on $release is ACTIVE on $current"
done
[ "$old" -gt 0 ] || { echo "javelin: no resource from a previous release to check" >&2; exit 1; }
