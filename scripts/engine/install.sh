#!/usr/bin/env bash
# Build (or reuse) the Pulumi engine used by this repo, from Go modules.
#
#   ENGINE_BIN=$(bash scripts/engine/install.sh | tail -1)
#
# - If a `pulumi` that is not one of our builds is already on PATH, it is used as is: nothing is built
#   and its directory is printed (set UPGRADE_ENGINE_IGNORE_PATH=1 to build ours anyway).
# - Otherwise builds into
#     ${UPGRADE_ENGINE_HOME:-$HOME/.cache/upgrade-as-code/engine}/<PULUMI_VERSION>-<COMMAND_VERSION>-<hash>/
#       bin/   pulumi, pulumi-language-nodejs, pulumi-resource-command, pulumi-resource-pulumi-nodejs
#       home/  PULUMI_HOME with the command provider registered as plugin resource-command-v<COMMAND_VERSION>
#   <hash> covers engine/ (versions.env, go.mod, go.sum, *.go but not *_test.go) and the Go version, so any pin or
#   source change rebuilds (a test does not change the binaries).
#   A finished build is marked by a stamp file; later runs skip all work.
# - Logs go to stderr; the last line on stdout is the bin dir.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
ENGINE_SRC="$ROOT/engine"

log() { printf '[engine] %s\n' "$*" >&2; }
die() { printf '[engine] ERROR: %s\n' "$*" >&2; exit 1; }

[ -f "$ENGINE_SRC/versions.env" ] || die "missing $ENGINE_SRC/versions.env"
# shellcheck disable=SC1091
. "$ENGINE_SRC/versions.env"
: "${PULUMI_VERSION:?versions.env must set PULUMI_VERSION}"
: "${COMMAND_VERSION:?versions.env must set COMMAND_VERSION}"
: "${GO_BUILD_TAGS:=osusergo,grpcnotrace}"

ENGINE_HOME=${UPGRADE_ENGINE_HOME:-$HOME/.cache/upgrade-as-code/engine}

# --- 1. An existing pulumi on PATH wins (unless it is one of ours). -----------------------------------------------
if [ -z "${UPGRADE_ENGINE_IGNORE_PATH:-}" ] && existing=$(command -v pulumi 2>/dev/null); then
  real=$(readlink -f "$existing" 2>/dev/null || echo "$existing")
  engine_home_real=$(readlink -f "$ENGINE_HOME" 2>/dev/null || echo "$ENGINE_HOME")
  case "$real" in
    "$engine_home_real"/*) : ;; # one of our builds: fall through to the normal (cached) path
    *)
      ver=$("$existing" version 2>/dev/null || echo unknown)
      log "using pulumi already on PATH: $existing ($ver); building nothing"
      [ "${ver#v}" = "$PULUMI_VERSION" ] || log "warning: it is $ver, the repo pins v$PULUMI_VERSION"
      dirname "$existing"
      exit 0
      ;;
  esac
fi

# --- 2. Cache key. -------------------------------------------------------------------------------------------------
command -v go >/dev/null 2>&1 || [ -x /usr/local/go/bin/go ] || die "step 'toolchain': go not found (need Go >= 1.25)"
command -v go >/dev/null 2>&1 || PATH="/usr/local/go/bin:$PATH"
GOVERSION=$(go env GOVERSION)

hash_inputs() {
  (cd "$ENGINE_SRC" && find . -type f \( -name '*.go' -o -name 'go.mod' -o -name 'go.sum' -o -name 'versions.env' \) \
      ! -name '*_test.go' -print | LC_ALL=C sort | while read -r f; do printf '%s\n' "$f"; cat "$f"; done)
  printf 'go=%s\n' "$GOVERSION"
}
HASH=$(hash_inputs | sha256sum | cut -c1-12)
DIR="$ENGINE_HOME/${PULUMI_VERSION}-${COMMAND_VERSION}-${HASH}"
BIN="$DIR/bin"
STAMP="$DIR/.installed"
BINARIES="pulumi pulumi-language-nodejs pulumi-resource-command pulumi-resource-pulumi-nodejs"

is_complete() {
  [ -f "$STAMP" ] || return 1
  for b in $BINARIES; do [ -x "$BIN/$b" ] || return 1; done
  [ -x "$DIR/home/plugins/resource-command-v${COMMAND_VERSION}/pulumi-resource-command" ] || return 1
}

if is_complete; then
  log "engine v$PULUMI_VERSION (command $COMMAND_VERSION) already built: $BIN"
  echo "$BIN"
  exit 0
fi

mkdir -p "$DIR"
# Serialize concurrent installs of the same build.
if command -v flock >/dev/null 2>&1; then
  exec 9>"$DIR/.lock"
  flock 9
  if is_complete; then
    log "engine built by a concurrent run: $BIN"
    echo "$BIN"
    exit 0
  fi
fi

# --- 3. Pins in go.mod must agree with versions.env. ---------------------------------------------------------------
check_pin() { # file module version
  grep -Eq "^[[:space:]]*(require[[:space:]]+)?$2 $3([[:space:]]|$)" "$1" ||
    die "step 'check pins': $1 does not require $2 $3 (versions.env); update it with: (cd $(dirname "$1") && go get $2@$3 && go mod tidy)"
}
check_pin "$ENGINE_SRC/cli/go.mod" github.com/pulumi/pulumi/pkg/v3 "v$PULUMI_VERSION"
check_pin "$ENGINE_SRC/cli/go.mod" github.com/pulumi/pulumi/sdk/v3 "v$PULUMI_VERSION"
check_pin "$ENGINE_SRC/language-nodejs/go.mod" github.com/pulumi/pulumi/sdk/v3 "v$PULUMI_VERSION"
check_pin "$ENGINE_SRC/provider-command/go.mod" github.com/pulumi/pulumi/sdk/v3 "v$PULUMI_VERSION"
if [ -n "${CLIPBOARD_REPLACE:-}" ]; then
  grep -q "=> ${CLIPBOARD_REPLACE%@*} ${CLIPBOARD_REPLACE#*@}" "$ENGINE_SRC/cli/go.mod" ||
    die "step 'check pins': engine/cli/go.mod lacks replace github.com/atotto/clipboard => ${CLIPBOARD_REPLACE/@/ }"
fi

# --- 4. Build. -----------------------------------------------------------------------------------------------------
TMP="$DIR/bin.tmp.$$"
rm -rf "$TMP"
mkdir -p "$TMP"
trap 'rm -rf "$TMP"' EXIT

export CGO_ENABLED="${CGO_ENABLED:-0}"
export GOTOOLCHAIN=local
# go.sum files are committed: never edit them during a build. This proxy's checksum database does not know
# recent pulumi releases, so skip it for those (go.sum still pins every hash).
export GOFLAGS="-mod=readonly -buildvcs=false"
export GONOSUMDB="${GONOSUMDB:+$GONOSUMDB,}github.com/pulumi"

timed_build() { # step-name module-dir output package ldflags
  local step=$1 moddir=$2 out=$3 pkg=$4 ldflags=$5 start end
  log "step '$step': go build $pkg (in engine/${moddir#"$ENGINE_SRC"/})"
  start=$(date +%s)
  if ! (cd "$moddir" && go build -trimpath -tags "$GO_BUILD_TAGS" -ldflags "$ldflags" -o "$out" "$pkg") >&2; then
    die "step '$step' failed (go build $pkg in $moddir); see the compiler output above"
  fi
  end=$(date +%s)
  log "step '$step': done in $((end - start))s"
}

VERSION_VAR=github.com/pulumi/pulumi/sdk/v3/go/common/version.Version
timed_build "build pulumi CLI v$PULUMI_VERSION" "$ENGINE_SRC/cli" "$TMP/pulumi" \
  github.com/pulumi/pulumi/pkg/v3/cmd/pulumi "-s -w -X $VERSION_VAR=v$PULUMI_VERSION"
timed_build "build pulumi-language-nodejs" "$ENGINE_SRC/language-nodejs" "$TMP/pulumi-language-nodejs" \
  . "-s -w -X $VERSION_VAR=v$PULUMI_VERSION"
timed_build "build pulumi-resource-command v$COMMAND_VERSION" "$ENGINE_SRC/provider-command" \
  "$TMP/pulumi-resource-command" . "-s -w -X main.Version=$COMMAND_VERSION"

# Dynamic providers (pulumi.dynamic.Resource): the engine starts `pulumi-resource-pulumi-nodejs` from beside the
# CLI. Same behaviour as the script shipped in @pulumi/pulumi: run the SDK's dynamic provider entry point, resolved
# from the current directory's node_modules (the engine starts it in the project directory).
log "step 'write pulumi-resource-pulumi-nodejs'"
cat >"$TMP/pulumi-resource-pulumi-nodejs" <<'EOF'
#!/bin/sh
PULUMI_DYNAMIC_PROVIDER_SCRIPT_PATH=$(node -e "console.log(require.resolve('@pulumi/pulumi/cmd/dynamic-provider'))")
if [ -n "$PULUMI_DYNAMIC_PROVIDER_SCRIPT_PATH" ]; then
    exec node "$PULUMI_DYNAMIC_PROVIDER_SCRIPT_PATH" "$@"
fi
echo "pulumi-resource-pulumi-nodejs: cannot resolve @pulumi/pulumi/cmd/dynamic-provider from $(pwd); run npm install" >&2
exit 1
EOF
chmod +x "$TMP/pulumi-resource-pulumi-nodejs"

# Smoke-test the binaries before publishing them.
log "step 'check binaries'"
got=$("$TMP/pulumi" version 2>/dev/null) || die "step 'check binaries': $TMP/pulumi version failed"
[ "$got" = "v$PULUMI_VERSION" ] || die "step 'check binaries': pulumi reports $got, expected v$PULUMI_VERSION"

# Register the command provider as an installed plugin of this engine's PULUMI_HOME, so the engine never tries to
# download it (scripts/engine/env.sh exports PULUMI_HOME=$DIR/home).
log "step 'register command provider v$COMMAND_VERSION in $DIR/home'"
mkdir -p "$DIR/home"
if ! PULUMI_HOME="$DIR/home" PULUMI_SKIP_UPDATE_CHECK=true PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION=true \
    "$TMP/pulumi" plugin install resource command "$COMMAND_VERSION" --file "$TMP/pulumi-resource-command" \
    --reinstall >&2; then
  die "step 'register command provider' failed"
fi

rm -rf "$BIN"
mv "$TMP" "$BIN"
trap - EXIT
{
  echo "pulumi=v$PULUMI_VERSION"
  echo "command=$COMMAND_VERSION"
  echo "hash=$HASH"
  echo "go=$GOVERSION"
  echo "built=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
} >"$STAMP"
log "engine ready: $BIN"
echo "$BIN"
