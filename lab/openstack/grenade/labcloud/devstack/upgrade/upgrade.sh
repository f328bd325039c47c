#!/bin/bash
# The upgrade of the lab cloud is done by the Spinal Stack runbook (eDeploy, Ansible, Puppet);
# grenade's own upgrade.sh is not used by it. Kept for the plugin's layout.
echo "labcloud: upgraded by the Spinal Stack runbook"
