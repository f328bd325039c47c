#!/usr/bin/env bash
# Register the Kubernetes provider built by build.sh with the engine (its PULUMI_HOME), at the version
# npm's @pulumi/kubernetes asks for; a no-op once registered.
#
#   scripts/kubernetes/register.sh <bin folder of build.sh>
set -euo pipefail
bin="${1:?usage: register.sh <bin folder>}"
version=$(cat "$bin/../provider-version")
home="${PULUMI_HOME:-$HOME/.pulumi}"
plugin="$home/plugins/resource-kubernetes-v$version/pulumi-resource-kubernetes"
if ! cmp -s "$bin/pulumi-resource-kubernetes" "$plugin" 2>/dev/null; then
    echo "[kubernetes] registering pulumi-resource-kubernetes $version in $home" >&2
    pulumi plugin install resource kubernetes "$version" --file "$bin/pulumi-resource-kubernetes" >&2 \
        || { echo "[kubernetes] FAILED at step 'register the provider'" >&2; exit 1; }
fi
