#!/usr/bin/env bash
# Upstream grenade plugins that the survival tests run unchanged: an OpenStack project's source release
# on PyPI (its sdist) holds the project's devstack/upgrade/ folder, the plugin grenade runs. Fetched once
# with pip (`pip download`, the registry's own client; the sdist's hash pinned below) into
# ~/.cache/upgrade-as-code/grenade-plugins/<project>-<version>/devstack/; never part of the checkout.
#
#   scripts/openstack/grenade-plugins.sh barbican   -> the plugin's folder (holds devstack/upgrade/), last stdout line
#
# A failure names its step and leaves no half-extracted folder under the final name.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
CACHE="${UPGRADE_CACHE:-$HOME/.cache/upgrade-as-code}"
log() { echo "[grenade-plugins] $*" >&2; }

project="${1:?usage: $0 barbican}"
case "$project" in
    # barbican 23.0.0 (openstack/barbican, devstack/upgrade/{settings,resources.sh,shutdown.sh,upgrade.sh})
    barbican) version=23.0.0; sha256=7be81c61d4aa02b4b411b3cdbc5dff7c6fcbee54053069e0c1fd9bfe45b8a780;;
    *) log "no pinned release of $project"; exit 2;;
esac
dest="$CACHE/grenade-plugins/$project-$version"
ready() { [ -f "$dest/devstack/upgrade/resources.sh" ] && [ -f "$dest/devstack/upgrade/settings" ]; }
if ready; then log "reusing $dest"; echo "$dest"; exit 0; fi

mkdir -p "$CACHE/grenade-plugins"
exec 8>"$dest.lock"
flock 8
if ready; then log "reusing $dest, fetched meanwhile"; echo "$dest"; exit 0; fi

# The project's own interpreter (built once by scripts/inmanta/python.sh) has pip.
py=$(bash "$root/scripts/inmanta/python.sh" 3.13 | tail -n 1)
work=$(mktemp -d "$CACHE/grenade-plugins/.$project.XXXXXX")
trap 'rm -rf "$work"' EXIT
echo "$project==$version --hash=sha256:$sha256" > "$work/requirements.txt"
log "pip download $project==$version (sdist) from PyPI"
if ! "$py" -m pip download --quiet --disable-pip-version-check --no-deps --no-binary :all: --require-hashes \
        -r "$work/requirements.txt" -d "$work" >&2; then
    log "FAILED at step 'pip download $project==$version'"
    exit 1
fi
tarball="$work/$project-$version.tar.gz"
[ -f "$tarball" ] || { log "FAILED at step 'find the sdist': no $tarball"; exit 1; }
mkdir -p "$work/out"
if ! tar --no-same-owner -xzf "$tarball" -C "$work/out" --strip-components=1 "$project-$version/devstack"; then
    log "FAILED at step 'extract devstack/ from $tarball'"
    exit 1
fi
[ -f "$work/out/devstack/upgrade/resources.sh" ] || { log "FAILED: $tarball has no devstack/upgrade/resources.sh"; exit 1; }
rm -rf "$dest"
mv "$work/out" "$dest"
log "$project $version's grenade plugin in $dest"
echo "$dest"
