#!/usr/bin/env bash
# Create (or find) a project and an environment on an Inmanta server.
#
#   scripts/inmanta/setup-env.sh URL NAME [REPO_URL [BRANCH]]   -> prints the environment id (last stdout line)
#
# URL       server, e.g. http://127.0.0.1:8888
# NAME      environment name; an existing environment with that name in the project is reused
#           (its repository/branch are updated when given)
# REPO_URL  git repository of the project (e.g. the file:// URL printed by model-repo.sh)
# BRANCH    branch to compile (default "release" when REPO_URL is given)
# Environment: UPGRADE_INMANTA_PROJECT project name (default "upgrade-lab");
#              UPGRADE_INMANTA_ENV_ID the id a new environment gets (a UUID; default: chosen by the server).
set -euo pipefail

log() { echo "[setup-env] $*" >&2; }
URL="${1:-}"
NAME="${2:-}"
REPO_URL="${3:-}"
BRANCH="${4:-}"
[[ -n "$URL" && -n "$NAME" ]] || { log "usage: $0 URL NAME [REPO_URL [BRANCH]]"; exit 1; }
[[ -n "$REPO_URL" && -z "$BRANCH" ]] && BRANCH=release
PROJECT="${UPGRADE_INMANTA_PROJECT:-upgrade-lab}"
URL="${URL%/}"

# api METHOD PATH [JSON]: prints the body, fails on a non-2xx answer
api() {
  local out code
  out="$(mktemp)"
  code="$(curl -sS -o "$out" -w '%{http_code}' -X "$1" -H 'Content-Type: application/json' "$URL$2" ${3:+--data "$3"})"
  if [[ "$code" != 2* ]]; then
    log "$1 $2 -> HTTP $code: $(cat "$out")"
    rm -f "$out"
    return 1
  fi
  cat "$out"; rm -f "$out"
}
json() { python3 -c "import json,sys; d=json.load(sys.stdin); $1"; }

PROJECT_ID="$(api GET /api/v2/project | json "
m=[p['id'] for p in d['data'] if p['name']=='$PROJECT']
print(m[0] if m else '')")"
if [[ -z "$PROJECT_ID" ]]; then
  PROJECT_ID="$(api PUT /api/v2/project "{\"name\": \"$PROJECT\"}" | json "print(d['data']['id'])")"
  log "created project $PROJECT ($PROJECT_ID)"
fi

ENV_ID="$(api GET /api/v2/environment | json "
m=[e['id'] for e in d['data'] if e['name']=='$NAME' and e['project_id']=='$PROJECT_ID']
print(m[0] if m else '')")"
BODY="$(python3 -c 'import json,sys; print(json.dumps({k: v for k, v in {"project_id": sys.argv[1], "name": sys.argv[2], "repository": sys.argv[3], "branch": sys.argv[4]}.items() if v}))' "$PROJECT_ID" "$NAME" "$REPO_URL" "$BRANCH")"
if [[ -z "$ENV_ID" ]]; then
  CREATE="$(python3 -c 'import json,sys; b=json.loads(sys.argv[1]); b.update({"environment_id": sys.argv[2]} if sys.argv[2] else {}); print(json.dumps(b))' "$BODY" "${UPGRADE_INMANTA_ENV_ID:-}")"
  ENV_ID="$(api PUT /api/v2/environment "$CREATE" | json "print(d['data']['id'])")"
  log "created environment $NAME ($ENV_ID) repository=${REPO_URL:-none} branch=${BRANCH:-none}"
elif [[ -n "$REPO_URL" ]]; then
  api POST "/api/v2/environment/$ENV_ID" "$BODY" >/dev/null
  log "reusing environment $NAME ($ENV_ID), repository=$REPO_URL branch=$BRANCH"
else
  log "reusing environment $NAME ($ENV_ID)"
fi
echo "$ENV_ID"
