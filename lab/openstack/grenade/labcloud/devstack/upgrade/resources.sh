#!/bin/bash
#
# Resource survival script of the lab cloud, a grenade plugin (devstack/upgrade/resources.sh).
# It is called as grenade calls it: create, verify pre-upgrade, verify_noapi pre-upgrade,
# verify post-upgrade, destroy.

set -o errexit

source $GRENADE_DIR/grenaderc
source $GRENADE_DIR/functions

source $TOP_DIR/openrc admin admin

set -o xtrace

LABCLOUD_USER=labcloud_grenade
LABCLOUD_PROJECT=labcloud_grenade

function _labcloud_set_user {
    OS_USERNAME=$LABCLOUD_USER
    OS_PROJECT_NAME=$LABCLOUD_PROJECT
}

function create {
    _labcloud_set_user
    local id
    id=$(labcloud server create grenade-survivor)
    resource_save labcloud labcloud_server_id $id
    local host
    host=$(labcloud server show $id -c host)
    resource_save labcloud labcloud_server_host $host
    # remember what the disk holds: it must come back unchanged
    local sum
    sum=$(sha256sum $LABCLOUD_NODES/$host/var/lib/nova/instances/$id/disk | cut -d' ' -f1)
    resource_save labcloud labcloud_disk_sha256 $sum
    resource_save labcloud labcloud_created_on $(labcloud --version | awk '{print $2}')
}

function verify {
    local side="$1"
    local id
    id=$(resource_get labcloud labcloud_server_id)
    [ -n "$id" ] || die "no saved server id"
    local status
    status=$(labcloud server show $id -c status)
    if [ "$status" != "ACTIVE" ]; then
        die "server $id is $status ($side)"
    fi
    if [ "$side" == "post-upgrade" ]; then
        local release
        release=$(labcloud --version | awk '{print $2}')
        [ "$release" == "$TARGET_RELEASE" ] || die "the controller runs $release, not $TARGET_RELEASE"
    fi
}

function verify_noapi {
    local side="$1"
    # The APIs are down: look at the hypervisor itself, as a libvirt check would.
    local id host sum
    id=$(resource_get labcloud labcloud_server_id)
    host=$(resource_get labcloud labcloud_server_host)
    sum=$(resource_get labcloud labcloud_disk_sha256)
    local disk=$LABCLOUD_NODES/$host/var/lib/nova/instances/$id/disk
    [ -f "$disk" ] || die "the disk of server $id is gone from $host ($side)"
    echo "$sum  $disk" | sha256sum -c - || die "the disk of server $id changed ($side)"
}

function destroy {
    _labcloud_set_user
    local id
    id=$(resource_get labcloud labcloud_server_id)
    labcloud server delete $id
}

# Dispatcher
case $1 in
    "create")
        create
        ;;
    "verify_noapi")
        # Optional argument: "pre-upgrade" or "post-upgrade"
        verify_noapi $2
        ;;
    "verify")
        # Optional argument: "pre-upgrade" or "post-upgrade"
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
