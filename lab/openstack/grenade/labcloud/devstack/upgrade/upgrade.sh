#!/bin/bash
# upgrade.sh of the lab cloud, called by grenade after the upgrade with TOP_DIR the target devstack.
# The code is upgraded by the Spinal Stack runbook (eDeploy, Ansible, Puppet); this checks what it left.
set -o errexit
source $GRENADE_DIR/grenaderc
source $GRENADE_DIR/functions
source $TOP_DIR/openrc admin admin
release=$(labcloud --version | awk '{print $2}')
[ "$release" == "$TARGET_RELEASE" ] || die $LINENO "labcloud runs $release after the upgrade, not $TARGET_RELEASE"
echo "labcloud: upgraded to $release"
