#!/usr/bin/env bash
# `npm run lab`: the upgrade, for real, on this machine.
#   1. installs what is missing (npm packages, the engine, the orchestrator's virtualenv, PostgreSQL);
#   2. starts PostgreSQL and the Inmanta server (state in .lab/), production on release A;
#   3. publishes the target release and runs `pulumi up --yes` on stack `lab`;
#   4. prints what ran, then stops the services (--keep-running leaves them up to look around;
#      scripts/inmanta/lab.sh down .lab/inmanta stops them).
# Running it again changes nothing. A new run: change upgrade:target or bump upgrade:rerun
# (npm run lab -- --rerun does the latter).
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
stack=lab
rerun=false
keep=false
for arg in "$@"; do
  case "$arg" in
    --rerun) rerun=true ;;
    --keep-running) keep=true ;;
    *) echo "usage: npm run lab [-- --rerun] [--keep-running]" >&2; exit 2 ;;
  esac
done

source scripts/setup.sh
bash scripts/inmanta/venv.sh >/dev/null

eval "$(node bin/lab.js info --stack "$stack")"
export UPGRADE_LAB_DIR="$root/.lab"
mkdir -p "$UPGRADE_LAB_DIR" && chmod 755 "$UPGRADE_LAB_DIR"
export UPGRADE_INMANTA_PG_PORT="$LAB_PG_PORT" UPGRADE_INMANTA_PORT="$LAB_HTTP_PORT" UPGRADE_INMANTA_ENV_ID="$LAB_ENV_ID"

stop() { $keep || bash scripts/inmanta/lab.sh down "$UPGRADE_LAB_DIR/inmanta" >/dev/null 2>&1 || true; }
trap stop EXIT
echo "== starting PostgreSQL (port $LAB_PG_PORT) and the orchestrator ($LAB_URL)" >&2
bash scripts/inmanta/lab.sh up "$UPGRADE_LAB_DIR/inmanta" lab >/dev/null
node bin/lab.js baseline --stack "$stack"
bash scripts/inmanta/model-repo.sh "$UPGRADE_LAB_DIR/inmanta/repo" "$LAB_RELEASE" >/dev/null

export PULUMI_BACKEND_URL="file://$root/.pulumi-state"
mkdir -p "$root/.pulumi-state"
pulumi stack select --create "$stack" --non-interactive >/dev/null
if $rerun; then
  next=$(( $(node -e 'const y=require("yaml");const c=y.parse(require("fs").readFileSync("stacks/Pulumi.lab.yaml","utf8")).config;console.log(c["upgrade:rerun"]||0)') + 1 ))
  pulumi config set --stack "$stack" upgrade:rerun "$next" --type int
  echo "== new run: upgrade:rerun = $next" >&2
fi
echo "== pulumi up (stack $stack, target $LAB_TARGET)" >&2
pulumi up --yes --non-interactive --stack "$stack" --skip-preview
pulumi stack output --stack "$stack" --json > "$UPGRADE_LAB_DIR/outputs.json"
echo "== summary" >&2
node bin/lab.js summary --stack "$stack" --files "$UPGRADE_LAB_DIR/inmanta/server/files" --outputs "$UPGRADE_LAB_DIR/outputs.json"
