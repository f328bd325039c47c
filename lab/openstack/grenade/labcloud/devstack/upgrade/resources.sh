#!/bin/bash
#
# Resource survival script of the lab cloud, a grenade plugin (devstack/upgrade/resources.sh) in the
# manner of nova's: a server on the network another plugin made, with a floating IP that must answer a
# ping, and a key kept in SAVE_DIR between phases (as cinder keeps its key file there).

set -o errexit

source $GRENADE_DIR/grenaderc
source $GRENADE_DIR/functions

source $TOP_DIR/openrc admin admin

set -o xtrace

LABCLOUD_USER=labcloud_grenade
LABCLOUD_PROJECT=labcloud_grenade
LABCLOUD_SERVER=labcloud_server1
LABCLOUD_KEY_FILE=$SAVE_DIR/labcloud_key
INSTANCE_WAIT=${INSTANCE_WAIT:-10}

function _labcloud_set_user {
    OS_PROJECT_NAME=$LABCLOUD_PROJECT
    OS_USERNAME=$LABCLOUD_USER
}

function _disk {
    echo $LABCLOUD_NODES/$(resource_get labcloud labcloud_server_host)/var/lib/nova/instances/$(resource_get labcloud labcloud_server_id)/disk
}

function create {
    _labcloud_set_user

    # a key for the server, kept in SAVE_DIR for the later phases
    rm -f $LABCLOUD_KEY_FILE $LABCLOUD_KEY_FILE.pub
    ssh-keygen -q -f $LABCLOUD_KEY_FILE -N '' -t ed25519

    # work around for networks: use the one the network plugin made, if any
    local net_id=$(resource_get network net_id)
    if [[ -n "$net_id" ]]; then
        local net="--nic net-id=$net_id"
    fi

    local id
    id=$(labcloud server create $LABCLOUD_SERVER $net)
    resource_save labcloud labcloud_server_id $id
    resource_save labcloud labcloud_server_host $(labcloud server show $id -c host)

    eval $(labcloud floating ip create -f shell)
    resource_save labcloud labcloud_server_ip $floating_ip_address
    resource_save labcloud labcloud_server_float $id
    labcloud server add floating ip $(resource_get labcloud labcloud_server_id) $floating_ip_address

    # ping check on the way up to ensure we're really running
    ping_check_public $floating_ip_address $INSTANCE_WAIT

    source_quiet $TOP_DIR/openrc admin admin
    resource_save labcloud labcloud_disk_sha256 $(sha256sum $(_disk) | cut -d' ' -f1)
    resource_save labcloud labcloud_key_sha256 $(sha256sum $LABCLOUD_KEY_FILE.pub | cut -d' ' -f1)
    resource_save labcloud labcloud_created_on $(labcloud --version | awk '{print $2}')

    # for debugging when things go wrong, so we have a before and an after
    worlddump labcloud_resources_created
}

function verify {
    local side="$1"
    local id
    id=$(resource_get labcloud labcloud_server_id)
    [ -n "$id" ] || die $LINENO "no saved server id"
    local status
    status=$(labcloud server show $id -c status)
    if [ "$status" != "ACTIVE" ]; then
        die $LINENO "server $id is $status ($side)"
    fi
    if [ "$side" == "post-upgrade" ]; then
        local release
        release=$(labcloud --version | awk '{print $2}')
        [ "$release" == "$TARGET_RELEASE" ] || die $LINENO "the controller runs $release, not $TARGET_RELEASE"
    fi
    verify_noapi $side
}

function verify_noapi {
    local side="$1"
    # The APIs are down: ping the server and look at the hypervisor itself, as a libvirt check would.
    ping_check_public $(resource_get labcloud labcloud_server_ip) $INSTANCE_WAIT
    local disk=$(_disk)
    [ -f "$disk" ] || die $LINENO "the disk of server $(resource_get labcloud labcloud_server_id) is gone ($side)"
    echo "$(resource_get labcloud labcloud_disk_sha256)  $disk" | sha256sum -c - || die $LINENO "the disk changed ($side)"
    [ -f $LABCLOUD_KEY_FILE ] || die $LINENO "the key $LABCLOUD_KEY_FILE is gone from SAVE_DIR ($side)"
    echo "$(resource_get labcloud labcloud_key_sha256)  $LABCLOUD_KEY_FILE.pub" | sha256sum -c - || die $LINENO "the key changed ($side)"
}

function destroy {
    _labcloud_set_user
    labcloud server delete $(resource_get labcloud labcloud_server_id)
    labcloud floating ip delete $(resource_get labcloud labcloud_server_float)
    rm -f $LABCLOUD_KEY_FILE $LABCLOUD_KEY_FILE.pub
}

# Dispatcher
case $1 in
    "create")
        create
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
