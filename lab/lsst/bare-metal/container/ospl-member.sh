#!/bin/sh
# A per-machine OSPL daemon (DM, Camera, LOVE machines): joins the main daemon's federations by a
# heartbeat file /federations/$OSPL_FEDERATION (the volume ospl-federations) and leaves when stopped.
log() { echo "$(date -u +%Y-%m-%dT%H:%M:%SZ) ospl: $*"; }
member="/federations/${OSPL_FEDERATION:?OSPL_FEDERATION names this daemon}"
trap 'rm -f "$member"; log "left the federations"; exit 0' TERM INT
log "starting the OpenSplice daemon on ${OSPL_FEDERATION}"
sleep "${OSPL_READY_AFTER:-1}" & wait $!
mkdir -p /federations
touch "$member"
log "daemon ready"
while :; do
    touch "$member"
    sleep 1 & wait $!
done
