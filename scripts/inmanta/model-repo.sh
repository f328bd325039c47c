#!/usr/bin/env bash
# Publish a release of the lab service model (lab/inmanta/model) into a local git repository
# that the orchestrator clones and pulls ("Update project & recompile").
#
#   scripts/inmanta/model-repo.sh REPO_DIR a|b|broken [BRANCH]   -> prints the repository URL (file://...)
#
# The tree of the release is common/ with release-<name>/ laid over it. Release "broken" is release B
# with a main.cf that does not compile (for the compile-failure tests). Every publish is a new
# commit on BRANCH (default "release") whose tree is that release, so the history only moves
# forward and the server's `git pull` always fast-forwards: publishing A after B is the
# "revert commit" of the abort procedure.
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
MODEL="$(cd "$HERE/../../lab/inmanta/model" && pwd)"
log() { echo "[model-repo] $*" >&2; }

REPO="${1:-}"
RELEASE="${2:-}"
BRANCH="${3:-release}"
[[ -n "$REPO" && "$RELEASE" =~ ^[A-Za-z0-9-]+$ ]] || { log "usage: $0 REPO_DIR a|b|broken [BRANCH]"; exit 1; }
RELEASE="${RELEASE,,}"
RELDIR="$MODEL/release-$RELEASE"
[[ -d "$RELDIR" ]] || { log "no $RELDIR"; exit 1; }

git_() { git -C "$REPO" -c user.name="upgrade-lab" -c user.email="upgrade-lab@localhost" -c commit.gpgsign=false "$@"; }

mkdir -p "$REPO"
REPO="$(cd "$REPO" && pwd)"
if [[ ! -d "$REPO/.git" ]]; then
  git init -q -b "$BRANCH" "$REPO"
fi
if [[ "$(git_ symbolic-ref --short HEAD)" != "$BRANCH" ]]; then
  if git_ rev-parse -q --verify "refs/heads/$BRANCH" >/dev/null; then
    git_ checkout -q "$BRANCH"
  else
    git_ checkout -q -b "$BRANCH"
  fi
fi

# replace the work tree with the release
find "$REPO" -mindepth 1 -maxdepth 1 ! -name .git -exec rm -rf {} +
cp -a "$MODEL/common/." "$REPO/"
cp -a "$RELDIR/." "$REPO/"
echo "$RELEASE" >"$REPO/RELEASE"
git_ add -A
if git_ diff --cached --quiet && git_ rev-parse -q --verify HEAD >/dev/null; then
  log "release $RELEASE already at the head of $BRANCH ($(git_ rev-parse --short HEAD))"
else
  git_ commit -q -m "upgrade-lab release ${RELEASE^^}"
  log "published release ${RELEASE^^} on $BRANCH: $(git_ rev-parse --short HEAD)"
fi
echo "file://$REPO"
