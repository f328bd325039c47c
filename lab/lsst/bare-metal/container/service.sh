#!/bin/sh
# A bare-metal service of the lab (LOVE, a CSC): runs until stopped, saying so in its log.
log() { echo "$(date -u +%Y-%m-%dT%H:%M:%SZ) ${SERVICE:-service}: $*"; }
trap 'log "stopped"; exit 0' TERM INT
log "running"
while :; do sleep 1 & wait $!; done
