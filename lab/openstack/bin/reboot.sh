#!/bin/bash
# reboot.sh <root>: the lab's reboot of a node tree: services stop, the newest kernel is booted.
set -euo pipefail
root=${1:?root}
newest=$(ls "$root/boot" | sed -n 's/^vmlinuz-//p' | sort -V | tail -n 1)
mkdir -p "$root/run" "$root/var/log"
echo "$newest" > "$root/run/booted-kernel"
echo "$(date -u +%FT%TZ) rebooted into $newest" >> "$root/var/log/reboot.log"
