#!/bin/bash
# shutdown.sh of the lab cloud, called by grenade before verify_noapi with TOP_DIR the base devstack:
# the controller's API stops answering.
set -o errexit
source $GRENADE_DIR/grenaderc
source $GRENADE_DIR/functions
source $TOP_DIR/openrc admin admin
rm -f $LABCLOUD_NODES/$LABCLOUD_CONTROLLER/run/api.running
echo "labcloud: API of $LABCLOUD_CONTROLLER stopped"
