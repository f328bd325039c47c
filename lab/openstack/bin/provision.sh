#!/bin/bash
# provision.sh <part> <install-server dir> [work dir]: refresh one part of the lab's install-server from
# this repository (lab/openstack/install-server), as Spinal Stack's provisioning does from its repositories.
#   puppet-modules   the Puppet manifests (syntax-checked with puppet parser validate when puppet is here)
#   serverspec       the serverspec checks
#   edeploy-roles    the role trees and their upgrade metadata (exclude, add_only; the roles' pre/post in their /var/lib/edeploy/<to>/)
#   ansible-playbooks drop the playbooks generated for the last upgrade: the step runner writes new ones
set -euo pipefail
part=${1:?part}; dest=${2:?install-server dir}; work=${3:-}
src=$(cd "$(dirname "$0")/../install-server" && pwd)
mkdir -p "$dest"
case "$part" in
    puppet-modules)
        rsync -a --delete "$src/puppet/" "$dest/puppet/"
        if command -v puppet > /dev/null; then puppet parser validate "$dest"/puppet/*.pp; fi
        echo "puppet manifests: $(ls "$dest/puppet" | tr '\n' ' ')";;
    serverspec)
        rsync -a --delete "$src/serverspec/" "$dest/serverspec/"
        bash -n "$dest/serverspec/check.sh"
        echo "serverspec: $(ls "$dest/serverspec" | tr '\n' ' ')";;
    edeploy-roles)
        rsync -a --delete "$src/roles/" "$dest/roles/"
        rsync -a --delete "$src/metadata/" "$dest/metadata/"
        bash "$(dirname "$0")/build-roles.sh" "$dest"
        echo "eDeploy roles: $(cd "$dest/roles" && ls -d */* | tr '\n' ' ')";;
    ansible-playbooks)
        [ -n "$work" ] && rm -rf "$work/ansible"
        version=$(ansible-playbook --version)
        echo "${version%%$'\n'*}";;
    *) echo "unknown part $part" >&2; exit 64;;
esac
