#!/bin/bash
# build-roles.sh <install-server dir>: the part of the role build the lab adds to the role trees: a shell of
# their own (a static busybox and its applets), because edeploy upgrade runs the roles' pre/post,
# selinuxenabled and setfiles on the node (a chroot of its tree).
set -euo pipefail
dest=${1:?install-server dir}
busybox=$(command -v busybox)
for tree in "$dest"/roles/*/*/; do
    mkdir -p "$tree/bin"
    cp "$busybox" "$tree/bin/busybox"
    for applet in sh cat cut date echo find grep head ls mkdir printf rm sed sort tail touch tr wc; do
        ln -sf busybox "$tree/bin/$applet"
    done
done
