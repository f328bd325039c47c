#!/bin/bash
# Serverspec-style checks of the lab's node trees: check.sh <step|all>.
# Environment from the runner: NODE_ROOT, NODE_NAME, NODE_PROFILE.
set -uo pipefail
root=${NODE_ROOT:?}; node=${NODE_NAME:?}; profile=${NODE_PROFILE:?}
failures=0
describe() { # describe <what> <test...>
    local what=$1; shift
    if "$@" > /dev/null 2>&1; then echo "  ok   $what"; else echo "  FAIL $what"; failures=$((failures + 1)); fi
}
check_step0() {
    describe "file /etc/motd is managed by Puppet" grep -q "is managed by Puppet" "$root/etc/motd"
    case "$profile" in
        controller|compute) describe "nova.conf has host = $node" grep -qx "host = $node" "$root/etc/nova/nova.conf";;
        load-balancer) describe "haproxy.cfg has maxconn" grep -q "maxconn 4096" "$root/etc/haproxy/haproxy.cfg";;
    esac
}
check_step5() {
    describe "step 5 applied" test -f "$root/var/lib/puppet-steps/5"
    if [ "$profile" = controller ]; then
        describe "ceilometer-collector is enabled" test -f "$root/var/lib/puppet-steps/ceilometer-collector"
    fi
}
echo "$node ($profile):"
case "${1:?step number or all}" in
    0) check_step0;;
    5) check_step5;;
    all)
        check_step0; check_step5
        describe "runs the target release" grep -qx "VERS=${TARGET_RELEASE:-J.1.1.0}" "$root/var/lib/edeploy/conf";;
    *) echo "no checks for step $1"; exit 2;;
esac
exit $((failures > 0))
