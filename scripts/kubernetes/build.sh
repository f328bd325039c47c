#!/usr/bin/env bash
# Build (once) the lab's Kubernetes control plane and the real Pulumi Kubernetes provider from Go modules.
#
#   scripts/kubernetes/build.sh   -> last stdout line: the bin folder
#
# A build that has to make the provider also prints the folder as soon as the control plane is in it (first
# line), so that what needs only the control plane can start while the provider builds.
#
# bin/ holds etcd (v3.6.5), kube-apiserver, kube-controller-manager, kube-scheduler (k8s.io/kubernetes v1.35.4,
# lab/kubernetes/), kwok (v0.8.0, nodes and pods without a kubelet) and pulumi-resource-kubernetes (provider v4
# at the pseudo-version of tag v4.25.0: the proxy refuses the tags). Into
# ~/.cache/upgrade-as-code/kubernetes/<hash of lab/kubernetes, this script and the Go version>/; each binary is
# built in a temporary folder and moved in when it runs, so a killed build leaves nothing that looks complete.
# Go's build cache for these (several GB) is a temporary folder, removed after. A failure names its step.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
SRC="$ROOT/lab/kubernetes"
K8S_VERSION=v1.35.4
KWOK_VERSION=v0.8.0
PROVIDER_MODULE=github.com/pulumi/pulumi-kubernetes/provider/v4
PROVIDER_PSEUDO=v4.0.0-20260115033456-f47bc2d6f199
PROVIDER_VERSION=4.25.0

log() { echo "[kubernetes] $*" >&2; }
fail() { log "FAILED at step '$1'${2:+: $2}"; exit 1; }
command -v go >/dev/null 2>&1 || PATH="/usr/local/go/bin:$PATH"
command -v go >/dev/null 2>&1 || fail toolchain "go not found"

key=$( { (cd "$SRC" && find . -type f \( -name '*.go' -o -name go.mod -o -name go.sum \) ! -name '*_test.go' -print \
          | LC_ALL=C sort | while read -r f; do printf '%s\n' "$f"; cat "$f"; done)
        cat "${BASH_SOURCE[0]}"; go env GOVERSION; } | sha256sum | cut -c1-12)
CACHE="${UPGRADE_CACHE:-$HOME/.cache/upgrade-as-code}/kubernetes"
DIR="$CACHE/$key"
BIN="$DIR/bin"
BINARIES=(etcd kube-apiserver kube-controller-manager kube-scheduler kwok pulumi-resource-kubernetes)

complete() { local b; for b in "${BINARIES[@]}"; do [ -x "$BIN/$b" ] || return 1; done; }
if complete; then echo "$BIN"; exit 0; fi

mkdir -p "$CACHE"
exec 9>"$CACHE/.lock"
flock 9
if complete; then echo "$BIN"; exit 0; fi
mkdir -p "$BIN"
WORK=$(mktemp -d "$CACHE/.build.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
export GOCACHE="$WORK/gocache" CGO_ENABLED=0 GOFLAGS=-buildvcs=false
started=$SECONDS

# Moves a built binary in once it runs (`--help` or `--version` answers).
install_bin() { local name=$1 probe=$2; "$WORK/out/$name" $probe >/dev/null 2>&1 || fail "check $name" "$WORK/out/$name $probe"
                mv "$WORK/out/$name" "$BIN/$name"; log "$name built ($((SECONDS - started)) s so far)"; }
mkdir -p "$WORK/out"

if [ ! -x "$BIN/etcd" ]; then
  log "step 'build etcd'"
  (cd "$SRC/etcd" && go build -trimpath -ldflags '-s -w' -o "$WORK/out/etcd" .) >&2 || fail "build etcd"
  install_bin etcd --version
fi
version_flags="-s -w -X k8s.io/component-base/version.gitVersion=$K8S_VERSION -X k8s.io/component-base/version.gitMajor=1 -X k8s.io/component-base/version.gitMinor=35"
for b in kube-apiserver kube-controller-manager kube-scheduler; do
  [ -x "$BIN/$b" ] && continue
  log "step 'build $b'"
  (cd "$SRC/controlplane" && go build -trimpath -ldflags "$version_flags" -o "$WORK/out/$b" "./cmd/$b") >&2 || fail "build $b"
  install_bin "$b" --version
done
if [ ! -x "$BIN/kwok" ]; then
  log "step 'build kwok $KWOK_VERSION'"
  GOBIN="$WORK/out" go install -trimpath -ldflags '-s -w' "sigs.k8s.io/kwok/cmd/kwok@$KWOK_VERSION" >&2 || fail "build kwok"
  install_bin kwok --help
fi
[ -x "$BIN/pulumi-resource-kubernetes" ] || echo "$BIN"
if [ ! -x "$BIN/pulumi-resource-kubernetes" ]; then
  # The module as published points its SDK at ../sdk (a replace that only works in upstream's repository) and
  # embeds a schema its own generate step writes: a writable copy, the SDK at the same tag, then the generate.
  log "step 'download $PROVIDER_MODULE@$PROVIDER_PSEUDO' (tag v$PROVIDER_VERSION)"
  moddir=$(go mod download -json "$PROVIDER_MODULE@$PROVIDER_PSEUDO" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$/\1/p')
  [ -d "$moddir" ] || fail "download the provider" "$PROVIDER_MODULE@$PROVIDER_PSEUDO"
  cp -r "$moddir" "$WORK/provider" && chmod -R u+w "$WORK/provider"
  (cd "$WORK/provider" \
    && go mod edit -dropreplace github.com/pulumi/pulumi-kubernetes/sdk/v4 \
    && go mod edit -require "github.com/pulumi/pulumi-kubernetes/sdk/v4@v$PROVIDER_VERSION" \
    && go mod tidy) >&2 || fail "prepare the provider module"
  log "step 'generate the provider's embedded schema'"
  (cd "$WORK/provider/cmd/pulumi-resource-kubernetes" && VERSION=$PROVIDER_VERSION go generate ./main.go) >&2 \
    || fail "generate the provider's schema"
  log "step 'build pulumi-resource-kubernetes'"
  (cd "$WORK/provider" && go build -trimpath \
      -ldflags "-s -w -X $PROVIDER_MODULE/pkg/version.Version=v$PROVIDER_VERSION" \
      -o "$WORK/out/pulumi-resource-kubernetes" ./cmd/pulumi-resource-kubernetes) >&2 || fail "build the provider"
  [ -s "$WORK/out/pulumi-resource-kubernetes" ] || fail "build the provider" "no binary"
  mv "$WORK/out/pulumi-resource-kubernetes" "$BIN/"; log "pulumi-resource-kubernetes built ($((SECONDS - started)) s so far)"
fi
echo "$PROVIDER_VERSION" >"$DIR/provider-version"
log "done in $((SECONDS - started)) s"
echo "$BIN"
