#!/usr/bin/env bash
# The lab's north-bound API switch: a stand-in for the load balancer or firewall rule of a real
# site. It records the state and every change, so the order of block and unblock can be checked.
set -euo pipefail
state_dir="${UPGRADE_LAB_DIR:-.lab}"
mkdir -p "$state_dir"
case "${1:-}" in
  block|unblock)
    echo "$1" > "$state_dir/northbound.state"
    echo "$(date -u +%Y-%m-%dT%H:%M:%S.%NZ) $1" >> "$state_dir/northbound.log"
    echo "north-bound API ${1}ed" ;;
  *) echo "usage: $0 block|unblock" >&2; exit 2 ;;
esac
