#!/bin/bash
# tempest.sh api|cli: the lab's Tempest. api: a server can be created, shown and deleted through the
# API; cli: the command line answers and lists servers.
set -euo pipefail
source "$(dirname "$0")/../devstack/openrc" tempest tempest
case "${1:?api|cli}" in
    api)
        id=$(labcloud server create tempest-smoke)
        [ "$(labcloud server show "$id" -c status)" = ACTIVE ] || { echo "tempest api: server $id not ACTIVE" >&2; exit 1; }
        labcloud server delete "$id"
        echo "tempest api: create/show/delete passed";;
    cli)
        labcloud --version
        labcloud server list > /dev/null
        echo "tempest cli: passed";;
esac
