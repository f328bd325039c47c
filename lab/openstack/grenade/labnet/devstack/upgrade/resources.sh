#!/bin/bash
#
# Resource survival script of the lab cloud's network, a grenade plugin. Like neutron's, it makes the
# network in early_create and keeps its id in the "network" section of the save database, where
# other projects' create looks for it (resource_get network net_id).

set -o errexit

source $GRENADE_DIR/grenaderc
source $GRENADE_DIR/functions

source $TOP_DIR/openrc admin admin

set -o xtrace

LABNET_NAME=labnet_grenade

function early_create {
    local net_id
    net_id=$(labcloud network create $LABNET_NAME)
    resource_save network net_id $net_id
}

function verify {
    local net_id
    net_id=$(resource_get network net_id)
    [ -n "$net_id" ] || die $LINENO "no saved network id"
    labcloud network show $net_id > /dev/null || die $LINENO "network $net_id is gone"
}

function verify_noapi {
    :
}

function destroy {
    # Called after every project that uses the network was destroyed: it refuses while a server is on it.
    labcloud network delete $(resource_get network net_id)
}

# Dispatcher
case $1 in
    "early_create")
        early_create
        ;;
    "create")
        ;;
    "verify_noapi")
        verify_noapi $2
        ;;
    "verify")
        verify $2
        ;;
    "destroy")
        destroy
        ;;
    "force_destroy")
        set +o errexit
        destroy
        ;;
esac
