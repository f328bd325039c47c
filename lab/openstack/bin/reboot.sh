#!/bin/bash
# reboot.sh <root>: the lab's reboot of a node tree: the newest kernel is booted.
# reboot.sh --up <root>: exit 0 once the node is back (it runs its newest kernel).
set -euo pipefail
if [ "${1:-}" = --up ]; then
    root=${2:?root}
    newest=$(ls "$root/boot" | sed -n 's/^vmlinuz-//p' | sort -V | tail -n 1)
    [ "$(cat "$root/run/booted-kernel" 2>/dev/null)" = "$newest" ] || { echo "$root: not up on $newest yet" >&2; exit 1; }
    exit 0
fi
root=${1:?root}
newest=$(ls "$root/boot" | sed -n 's/^vmlinuz-//p' | sort -V | tail -n 1)
mkdir -p "$root/run" "$root/var/log"
echo "$newest" > "$root/run/booted-kernel"
echo "$(date -u +%FT%TZ) rebooted into $newest" >> "$root/var/log/reboot.log"
