#!/usr/bin/env bash
# Build (once) and print the CPython interpreter an inmanta-core line needs.
#
#   scripts/inmanta/python.sh 3.13   -> prints the path of bin/python3.13 on the last stdout line
#
# Debian 12 ships no Python 3.13 (inmanta-core >= 18.1 declares Requires-Python >= 3.13). The upstream
# source tarball is taken from Debian's own source package of trixie (`python3.13_<v>.orig.tar.xz`,
# fetched with `apt-get source --download-only` through a deb-src entry in a list of its own), built
# without Debian's patches and installed into ~/.cache/upgrade-as-code/python-<minor>.
# Each part is skipped when present; a failure names the step and leaves no half-built interpreter.
set -euo pipefail

MINOR="${1:-3.13}"
[[ "$MINOR" =~ ^3\.[0-9]+$ ]] || { echo "[python] usage: $0 3.13" >&2; exit 2; }
CACHE="${UPGRADE_CACHE:-$HOME/.cache/upgrade-as-code}"
PREFIX="$CACHE/python-$MINOR"
PY="$PREFIX/bin/python$MINOR"
STAMP="$PREFIX/.upgrade-as-code-stamp"
SUITE="${UPGRADE_PYTHON_DEB_SUITE:-trixie}"
log() { echo "[python $MINOR] $*" >&2; }
fail() { log "FAILED at step '$1'${2:+: $2} (log: ${3:-see above})"; exit 1; }

ready() { [[ -x "$PY" && -f "$STAMP" ]] && "$PY" -c 'import ssl, sqlite3, ctypes, venv, ensurepip' >/dev/null 2>&1; }
if ready; then log "reusing $PY ($("$PY" --version))"; echo "$PY"; exit 0; fi

mkdir -p "$CACHE"
exec 8>"$PREFIX.lock"
log "waiting for the build lock $PREFIX.lock"
flock 8
if ready; then log "reusing $PY, built meanwhile"; echo "$PY"; exit 0; fi

[[ "$(id -u)" == 0 ]] || fail "prerequisites" "building CPython needs root for apt-get (deb-src list and build dependencies)"
export DEBIAN_FRONTEND=noninteractive
# outside sources.list.d: only the calls below read it
SRC_LIST=/etc/apt/upgrade-as-code-src-$SUITE.list
APT_OPTS=(-o "Dir::Etc::sourcelist=$SRC_LIST" -o "Dir::Etc::sourceparts=-" -o "APT::Get::List-Cleanup=0")
if [[ ! -f "$SRC_LIST" ]]; then
  log "step 'deb-src list': $SRC_LIST"
  echo "deb-src [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] http://deb.debian.org/debian $SUITE main" >"$SRC_LIST" \
    || fail "deb-src list"
fi
WORK="$CACHE/python-$MINOR.build"
rm -rf "$WORK"; mkdir -p "$WORK"
BUILD_LOG="$WORK/build.log"
trap 'rm -rf "$PREFIX.staging"' EXIT

log "step 'build dependencies'"
DEPS=(build-essential pkg-config xz-utils libssl-dev zlib1g-dev libbz2-dev libreadline-dev libsqlite3-dev libffi-dev
      liblzma-dev libncurses-dev uuid-dev libexpat1-dev tk-dev libgdbm-dev)
missing=()
for p in "${DEPS[@]}"; do dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p"); done
if [[ ${#missing[@]} -gt 0 ]]; then
  log "installing ${missing[*]}"
  { apt-get update -qq && apt-get install -y -qq --no-install-recommends "${missing[@]}"; } >>"$BUILD_LOG" 2>&1 \
    || fail "build dependencies" "apt-get install ${missing[*]}" "$BUILD_LOG"
fi
# right before the download: a plain `apt-get update` elsewhere drops the deb-src index again
log "step 'apt-get update (deb-src $SUITE)'"
apt-get "${APT_OPTS[@]}" update -qq >>"$BUILD_LOG" 2>&1 || fail "apt-get update (deb-src $SUITE)" "" "$BUILD_LOG"
log "step 'apt-get source --download-only python$MINOR'"
(cd "$WORK" && apt-get "${APT_OPTS[@]}" source --download-only "python$MINOR") >>"$BUILD_LOG" 2>&1 \
  || fail "apt-get source --download-only python$MINOR" "" "$BUILD_LOG"
TARBALL="$(ls "$WORK"/python"$MINOR"_*.orig.tar.xz 2>/dev/null | head -n1)"
[[ -n "$TARBALL" ]] || fail "apt-get source --download-only python$MINOR" "no python${MINOR}_*.orig.tar.xz downloaded" "$BUILD_LOG"
log "step 'unpack $(basename "$TARBALL")'"
tar -xJf "$TARBALL" -C "$WORK" >>"$BUILD_LOG" 2>&1 || fail "unpack" "$TARBALL" "$BUILD_LOG"
SRC="$(find "$WORK" -maxdepth 1 -type d -name 'Python-*' | head -n1)"
[[ -n "$SRC" ]] || fail "unpack" "no Python-* folder in $TARBALL" "$BUILD_LOG"
log "step 'configure' ($(basename "$SRC"), log $BUILD_LOG)"
(cd "$SRC" && nice -n 10 ./configure --prefix="$PREFIX" --with-ensurepip=install) >>"$BUILD_LOG" 2>&1 \
  || fail "configure" "" "$BUILD_LOG"
log "step 'make -j2'"
(cd "$SRC" && nice -n 10 make -j2) >>"$BUILD_LOG" 2>&1 || fail "make -j2" "" "$BUILD_LOG"
# Installed into a staging root first, then moved into place: a killed build leaves no interpreter that looks complete.
log "step 'make install'"
rm -rf "$PREFIX.staging" "$PREFIX"
(cd "$SRC" && nice -n 10 make install DESTDIR="$PREFIX.staging") >>"$BUILD_LOG" 2>&1 || fail "make install" "" "$BUILD_LOG"
mv "$PREFIX.staging$PREFIX" "$PREFIX" || fail "make install" "moving the staged tree into $PREFIX"
"$PY" -c 'import ssl, sqlite3, ctypes, venv, ensurepip' >>"$BUILD_LOG" 2>&1 || fail "check" "$PY lacks ssl/sqlite3/ctypes" "$BUILD_LOG"
basename "$TARBALL" >"$STAMP"
rm -rf "$WORK"
log "ready: $("$PY" --version)"
echo "$PY"
