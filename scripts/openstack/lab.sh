#!/usr/bin/env bash
# The lab of the Spinal Stack upgrade: an install-server and node trees on this machine.
#
#   bash scripts/openstack/lab.sh [--dir DIR] [--from RELEASE] [--reset] [name=profile:role ...]
#
# DIR (default .lab/openstack) gets:
#   install-server/  provisioned from lab/openstack/install-server (role trees, metadata, Puppet, serverspec)
#   nodes/<name>/    one tree per node, installed from the role tree of RELEASE (default J.1.0.0), with the
#                    node's own data: hostname, SSH host key, a database, logs, services running
# Default nodes: the five of stacks/Pulumi.spinalstack.yaml. Existing node trees are kept unless --reset.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
dir="$root/.lab/openstack"; from=J.1.0.0; reset=0; nodes=()
while [ $# -gt 0 ]; do
    case "$1" in
        --dir) dir=$2; shift 2;;
        --from) from=$2; shift 2;;
        --reset) reset=1; shift;;
        *=*:*) nodes+=("$1"); shift;;
        *) echo "usage: $0 [--dir DIR] [--from RELEASE] [--reset] [name=profile:role ...]" >&2; exit 64;;
    esac
done
[ "${#nodes[@]}" -gt 0 ] || nodes=(lb1=load-balancer:lb ctl1=controller:openstack-full ctl2=controller:openstack-full
    cpt1=compute:openstack-full cpt2=compute:openstack-full)
bash "$root/scripts/openstack/tools.sh"
mkdir -p "$dir/nodes"
dir=$(cd "$dir" && pwd)
if [ "$reset" = 1 ]; then rm -rf "$dir/nodes" "$dir/install-server" "$dir/work"; mkdir -p "$dir/nodes"; fi
rsync -a "$root/lab/openstack/install-server/" "$dir/install-server/"
bash "$root/lab/openstack/bin/build-roles.sh" "$dir/install-server"
for spec in "${nodes[@]}"; do
    name=${spec%%=*}; rest=${spec#*=}; profile=${rest%%:*}; role=${rest#*:}
    node="$dir/nodes/$name"
    if [ -d "$node" ]; then echo "node $name: kept ($node)"; continue; fi
    tree="$dir/install-server/roles/$from/$role"
    [ -d "$tree" ] || { echo "no role tree $tree" >&2; exit 1; }
    mkdir -p "$node"
    rsync -aH --numeric-ids "$tree/" "$node/"
    echo "$name" > "$node/etc/hostname"
    echo "$profile" > "$node/etc/lab-profile"
    mkdir -p "$node/etc/ssh" "$node/var/log" "$node/run" "$node/root"
    # What a booted node has in /dev for the scripts run on it (the exclude files keep /dev).
    mkdir -p "$node/dev" && mknod -m 666 "$node/dev/null" c 1 3
    head -c 64 /dev/urandom | od -An -tx1 | tr -d ' \n' > "$node/etc/ssh/ssh_host_ed25519_key"
    echo "$(date -u +%FT%TZ) $name installed with eDeploy role $role $from" > "$node/var/log/messages"
    if [ "$profile" = controller ]; then
        mkdir -p "$node/var/lib/mysql/nova"
        head -c 65536 /dev/urandom > "$node/var/lib/mysql/ibdata1"
        printf 'CREATE TABLE instances (id INT);\n' > "$node/var/lib/mysql/nova/instances.frm"
    fi
    [ "$profile" = compute ] && mkdir -p "$node/var/lib/nova/instances"
    ls "$node/boot" | sed -n 's/^vmlinuz-//p' | sort -V | tail -n 1 > "$node/run/booted-kernel"
    echo "node $name: $profile, role $role $from ($node)"
done
bash "$root/lab/openstack/bin/services.sh" start api "$dir/nodes" > /dev/null
bash "$root/lab/openstack/bin/services.sh" start compute "$dir/nodes" > /dev/null
echo "install-server: $dir/install-server"
