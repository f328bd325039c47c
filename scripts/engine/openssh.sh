#!/usr/bin/env bash
# OpenSSH's server (Debian's openssh-server) for the command provider's tests: they start their own
# sshd on a loopback port with host keys and configs of their own, never the system service.
# Installs only when missing; a no-op once /usr/sbin/sshd is there.
set -euo pipefail
if [ ! -x /usr/sbin/sshd ] || ! command -v ssh-keygen >/dev/null 2>&1; then
    if [ "$(id -u)" != 0 ]; then
        echo "scripts/engine/openssh.sh: sshd missing; install it as root: apt-get install openssh-server" >&2
        exit 1
    fi
    echo "== installing openssh-server from Debian" >&2
    apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends openssh-server openssh-sftp-server >&2
fi
