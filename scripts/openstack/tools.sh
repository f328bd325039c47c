#!/usr/bin/env bash
# The programs the OpenStack (Spinal Stack / Grenade) steps run, from Debian: ansible-core
# (ansible-playbook), rsync, puppet; ping (grenade's ping_check_public), ssh-keygen (plugins keep keys in
# SAVE_DIR) and a static busybox (the shell of the lab's node trees, where eDeploy's scripts run in a chroot). Installs only what is missing; a no-op once they are there.
# Sourced or run by the OpenStack tests, the benchmark and scripts/openstack/lab.sh.
set -euo pipefail
_need=()
command -v ansible-playbook > /dev/null 2>&1 || _need+=(ansible-core)
command -v rsync > /dev/null 2>&1 || _need+=(rsync)
command -v puppet > /dev/null 2>&1 || _need+=(puppet)
command -v ping > /dev/null 2>&1 || _need+=(iputils-ping)
command -v ssh-keygen > /dev/null 2>&1 || _need+=(openssh-client)
[ -x /usr/bin/busybox ] || _need+=(busybox-static)
if [ "${#_need[@]}" -gt 0 ]; then
    if [ "$(id -u)" != 0 ]; then
        echo "scripts/openstack/tools.sh: ${_need[*]} missing; install them as root: apt-get install ${_need[*]}" >&2
        exit 1
    fi
    echo "== installing ${_need[*]} from Debian" >&2
    apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${_need[@]}" >&2
fi
