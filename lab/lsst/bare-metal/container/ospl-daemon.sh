#!/bin/sh
# The main OSPL daemon of the lab (container ospl-daemon): start-up lines, then "daemon ready" after
# OSPL_READY_AFTER seconds, as the real daemon writes it late. Its durability.log (working directory /ospl)
# gets one "Number of connected federations: N" line each time N changes: N counts the other daemons
# registered in /federations (the volume ospl-federations) whose heartbeat is fresh (OSPL_STALE_AFTER s).
log() { echo "$(date -u +%Y-%m-%dT%H:%M:%SZ) ospl: $*"; }
trap 'log "stopping the OpenSplice daemon"; exit 0' TERM INT
log "starting the OpenSplice daemon (domain ${OSPL_DOMAIN_ID:-0})"
log "loading ospl.xml"
echo "$(date -u +%Y-%m-%dT%H:%M:%SZ) durability: service started" > durability.log
mkdir -p /federations
sleep "${OSPL_READY_AFTER:-2}" & wait $!
log "daemon ready"
last=""
while :; do
    now=$(date +%s)
    n=0
    for f in /federations/*; do
        [ -f "$f" ] || continue
        [ $((now - $(stat -c %Y "$f"))) -le "${OSPL_STALE_AFTER:-10}" ] && n=$((n + 1))
    done
    if [ "$n" != "$last" ]; then
        echo "$(date -u +%Y-%m-%dT%H:%M:%SZ) durability: Number of connected federations: $n" >> durability.log
        last=$n
    fi
    sleep 0.5 & wait $!
done
