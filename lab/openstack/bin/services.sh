#!/bin/bash
# services.sh stop|start <group> <nodes dir>: the lab's services are run/<service>.running in the node trees.
#   group api:     openstack APIs and mysql on controllers (api, mysql), haproxy on load balancers
#   group compute: nova-compute on computes
set -euo pipefail
action=${1:?stop|start}; group=${2:?api|compute}; nodes=${3:?nodes dir}
for root in "$nodes"/*/; do
    role=$(sed -n 's/^ROLE=//p' "$root/var/lib/edeploy/conf" 2>/dev/null || true)
    profile=$(cat "$root/etc/lab-profile" 2>/dev/null || true)
    case "$group:$profile" in
        api:controller) services="api mysql";;
        api:load-balancer) services="haproxy";;
        compute:compute) services="nova-compute";;
        *) continue;;
    esac
    mkdir -p "$root/run"
    for s in $services; do
        if [ "$action" = stop ]; then rm -f "$root/run/$s.running"
        else echo "started $(date -u +%FT%TZ) role $role" > "$root/run/$s.running"; fi
    done
    echo "$action $services on $(basename "$root")"
done
