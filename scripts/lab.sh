#!/usr/bin/env bash
# `npm run lab`: the upgrade, for real, on this machine.
#   1. installs what is missing (npm packages, the engine, the orchestrator line of INMANTA_VERSION:
#      20.1.0 by default, or 14.0.0; its interpreter, PostgreSQL and virtualenv);
#   2. starts PostgreSQL and the Inmanta server (state in .lab/), production on release A;
#   3. publishes the target release and runs `pulumi up --yes` on stack `lab` (or --stack NAME);
#   4. prints what ran, then stops the services (--keep-running leaves them up to look around;
#      scripts/inmanta/lab.sh down .lab/inmanta stops them).
# Running it again changes nothing. A new run: change upgrade:target or bump upgrade:rerun
# (npm run lab -- --rerun does the latter).
#
# Options:
#   --stack NAME   another stack of the lab (stacks/Pulumi.NAME.yaml; default lab). Its environment is
#                  named after the stack, on the same server. First deployments (procedures install,
#                  lsm-install, careful-deploy) start from an empty environment: no release-A baseline.
#   --setup-only   steps 1 and 2 and the publish of step 3, no `pulumi up`; the services keep running.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$(pwd)
stack=lab
rerun=false
keep=false
setup_only=false
usage() { echo "usage: npm run lab [-- --rerun] [--keep-running] [--stack NAME] [--setup-only]" >&2; exit 2; }
while [ $# -gt 0 ]; do
  case "$1" in
    --rerun) rerun=true ;;
    --keep-running) keep=true ;;
    --setup-only) setup_only=true; keep=true ;;
    --stack) [ $# -ge 2 ] || usage; stack="$2"; shift ;;
    --stack=*) stack="${1#--stack=}" ;;
    *) usage ;;
  esac
  shift
done
[[ "$stack" =~ ^[A-Za-z0-9_.-]+$ && -f "stacks/Pulumi.$stack.yaml" ]] || { echo "lab: no stack file stacks/Pulumi.$stack.yaml" >&2; exit 2; }

source scripts/setup.sh
# INMANTA_VERSION (default 20.1.0) picks the orchestrator line
source scripts/inmanta/line.sh
bash scripts/inmanta/venv.sh >/dev/null

eval "$(node bin/lab.js info --stack "$stack")"
export UPGRADE_LAB_DIR="$root/.lab"
mkdir -p "$UPGRADE_LAB_DIR" && chmod 755 "$UPGRADE_LAB_DIR"
# A lab set up for another inmanta-core line starts over (its database and its engine state belong to that line).
if [ -f "$UPGRADE_LAB_DIR/inmanta/lab.env" ] && [ "$(. "$UPGRADE_LAB_DIR/inmanta/lab.env"; echo "${INMANTA_VERSION:-14.0.0}")" != "$INMANTA_VERSION" ]; then
  echo "== the lab in $UPGRADE_LAB_DIR was set up for another inmanta-core line: starting over on $INMANTA_VERSION" >&2
  bash scripts/inmanta/lab.sh down "$UPGRADE_LAB_DIR/inmanta" >/dev/null 2>&1 || true
  rm -rf "$UPGRADE_LAB_DIR/inmanta" "$UPGRADE_LAB_DIR/outputs.json" "$root/.pulumi-state"
fi
export UPGRADE_INMANTA_PG_PORT="$LAB_PG_PORT" UPGRADE_INMANTA_PORT="$LAB_HTTP_PORT" UPGRADE_INMANTA_ENV_ID="$LAB_ENV_ID"

stop() { $keep || bash scripts/inmanta/lab.sh down "$UPGRADE_LAB_DIR/inmanta" >/dev/null 2>&1 || true; }
trap stop EXIT
echo "== starting PostgreSQL (port ${LAB_PG_PORT:-free}) and the orchestrator ($LAB_URL)" >&2
bash scripts/inmanta/lab.sh up "$UPGRADE_LAB_DIR/inmanta" "$LAB_ENV_NAME" >/dev/null
if [ "$LAB_BASELINE" = true ]; then
  node bin/lab.js baseline --stack "$stack"
else
  echo "== first deployment (procedure $LAB_PROCEDURE): no baseline, the environment starts empty" >&2
fi
bash scripts/inmanta/model-repo.sh "$UPGRADE_LAB_DIR/inmanta/repo" "$LAB_RELEASE" >/dev/null

export PULUMI_BACKEND_URL="file://$root/.pulumi-state"
mkdir -p "$root/.pulumi-state"
pulumi stack select --create "$stack" --non-interactive >/dev/null
if $setup_only; then
  echo "== set up (stack $stack, environment $LAB_ENV_ID on $LAB_URL); no pulumi up" >&2
  exit 0
fi
if $rerun; then
  next=$(( $(node -e 'const y=require("yaml");const c=y.parse(require("fs").readFileSync(process.argv[1],"utf8")).config;console.log(c["upgrade:rerun"]||0)' "stacks/Pulumi.$stack.yaml") + 1 ))
  pulumi config set --stack "$stack" upgrade:rerun "$next" --type int
  echo "== new run: upgrade:rerun = $next" >&2
fi
echo "== pulumi up (stack $stack, target $LAB_TARGET)" >&2
pulumi up --yes --non-interactive --stack "$stack" --skip-preview
pulumi stack output --stack "$stack" --json > "$UPGRADE_LAB_DIR/outputs.json"
echo "== summary" >&2
node bin/lab.js summary --stack "$stack" --files "$UPGRADE_LAB_DIR/inmanta/server/files" --outputs "$UPGRADE_LAB_DIR/outputs.json"
