#!/usr/bin/env bash
# The lab's post-upgrade API tests: the services the agent deployed are there with the target
# release's content, and the north-bound API is open again.
set -euo pipefail
lab="${UPGRADE_LAB_DIR:-.lab}"
release="$(cat "$lab/inmanta/repo/RELEASE")"
files="$lab/inmanta/server/files"
want="release ${release^^}"
grep -qx "$want" "$files/service-a.conf" || { echo "service-a.conf does not hold '$want': $(cat "$files/service-a.conf" 2>/dev/null)" >&2; exit 1; }
if [ "$release" = b ]; then
  [ -f "$files/service-b.conf" ] || { echo "service-b.conf of release B is missing" >&2; exit 1; }
fi
[ "$(cat "$lab/northbound.state")" = unblock ] || { echo "the north-bound API is still blocked" >&2; exit 1; }
echo "api tests passed for release ${release^^}"
