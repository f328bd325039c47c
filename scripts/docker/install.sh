#!/usr/bin/env bash
# Debian's Docker engine for the LSST bare-metal lab: docker.io (dockerd, and containerd and runc, which
# it depends on), docker-compose (1.29, what the lab's launch_*/shutdown_* scripts run) and busybox-static
# (the one binary of the lab's image, built FROM scratch: no registry is reachable).
# The tests start their own dockerd (test/support/docker-lab.ts), never the system service.
# Installs only what is missing; a no-op once the three packages are there.
set -euo pipefail
step() { echo "scripts/docker/install.sh: $1 failed" >&2; exit 1; }
installed() { [ "$(dpkg-query -W -f='${Status}' "$1" 2>/dev/null)" = "install ok installed" ]; }
need=()
for pkg in docker.io docker-compose busybox-static; do installed "$pkg" || need+=("$pkg"); done
if [ "${#need[@]}" -gt 0 ]; then
    if [ "$(id -u)" != 0 ]; then
        echo "scripts/docker/install.sh: ${need[*]} missing; install them as root: apt-get install ${need[*]}" >&2
        exit 1
    fi
    echo "== installing ${need[*]} from Debian" >&2
    apt-get update -qq >&2 || step "apt-get update"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${need[@]}" >&2 \
        || step "apt-get install ${need[*]}"
fi
# /usr/local/bin/docker may be another client: the lab runs Debian's own binaries by their paths.
for bin in /usr/sbin/dockerd /usr/bin/docker /usr/bin/containerd /usr/sbin/runc /usr/bin/docker-compose /bin/busybox; do
    [ -x "$bin" ] || step "checking $bin (installed by Debian's packages)"
done
