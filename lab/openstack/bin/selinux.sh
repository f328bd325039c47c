#!/bin/bash
# selinux.sh probe|setfiles <root>: SELinux of a node tree. probe prints Enforcing/Permissive/Disabled from
# the node's etc/selinux/config (getenforce on a real node); setfiles records the relabel of the tree.
set -euo pipefail
root=${2:?root}
case "${1:?probe|setfiles}" in
    probe)
        mode=$(sed -n 's/^SELINUX=//p' "$root/etc/selinux/config" 2>/dev/null || true)
        case "$mode" in enforcing) echo Enforcing;; permissive) echo Permissive;; *) echo Disabled;; esac;;
    setfiles)
        mkdir -p "$root/var/log"
        echo "$(date -u +%FT%TZ) setfiles -r $root file_contexts $root: $(find "$root" -xdev | wc -l) paths relabelled" >> "$root/var/log/setfiles.log";;
esac
