#!/usr/bin/env bash
# End-to-end check of the engine in a scratch directory (nothing is written inside the repo):
#   - a TypeScript project using @pulumi/command local.Command that writes a file:
#       preview must not write it, `up` writes it, a second `up` reports no changes;
#   - a pulumi.dynamic.Resource (needs pulumi-resource-pulumi-nodejs);
#   - a policy pack (@pulumi/policy, installed from npm into the scratch dir): advisory passes,
#     a mandatory violation fails the preview.
#
#   bash scripts/engine/smoke.sh            # all checks (the policy pack needs the npm registry)
#   SMOKE_SKIP_POLICY=1 bash scripts/engine/smoke.sh
#
# Uses the repo's node_modules (run npm install first). Prints "N passed, N failed" at the end.
set -uo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
POLICY_VERSION=${SMOKE_POLICY_VERSION:-1.21.0}
[ -d "$ROOT/node_modules/@pulumi/pulumi" ] || { echo "run npm install in $ROOT first" >&2; exit 1; }

# shellcheck disable=SC1091
source "$ROOT/scripts/engine/env.sh" || exit 1
command -v pulumi >/dev/null || { echo "no pulumi after sourcing env.sh" >&2; exit 1; }

WORK=$(mktemp -d "${TMPDIR:-/tmp}/engine-smoke.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
PROJ="$WORK/proj" OUT="$WORK/out" STATE="$WORK/state"
mkdir -p "$PROJ" "$STATE"
ln -s "$ROOT/node_modules" "$PROJ/node_modules"

export PULUMI_CONFIG_PASSPHRASE=smoke
export PULUMI_BACKEND_URL="file://$STATE"

cat >"$PROJ/Pulumi.yaml" <<'EOF'
name: engine-smoke
runtime: nodejs
EOF
cat >"$PROJ/package.json" <<'EOF'
{ "name": "engine-smoke", "version": "0.0.0", "private": true, "main": "index.ts",
  "dependencies": { "@pulumi/pulumi": "*", "@pulumi/command": "*" } }
EOF
cat >"$PROJ/tsconfig.json" <<'EOF'
{ "compilerOptions": { "strict": true, "target": "es2020", "module": "commonjs", "moduleResolution": "node",
  "esModuleInterop": true, "skipLibCheck": true }, "files": ["index.ts"] }
EOF
cat >"$PROJ/index.ts" <<EOF
import * as pulumi from "@pulumi/pulumi";
import * as command from "@pulumi/command";

const cfg = new pulumi.Config();
const marker = cfg.get("marker") ?? "ok";
const writer = new command.local.Command("writer", {
    create: \`mkdir -p $OUT && echo "\${marker}" > $OUT/command.txt && echo wrote\`,
    delete: "rm -f $OUT/command.txt",
});

const provider: pulumi.dynamic.ResourceProvider = {
    async create(inputs: any) {
        const fs = require("fs");
        fs.mkdirSync("$OUT", { recursive: true });
        fs.writeFileSync("$OUT/dynamic.txt", inputs.content);
        return { id: "dynamic", outs: inputs };
    },
    async delete() { require("fs").rmSync("$OUT/dynamic.txt", { force: true }); },
};
class DynFile extends pulumi.dynamic.Resource {
    constructor(name: string, args: { content: pulumi.Input<string> }) { super(provider, name, args, {}); }
}
new DynFile("dyn", { content: writer.stdout });
export const stdout = writer.stdout;
EOF

pass=0 fail=0
check() { # description, command...
  local d=$1; shift
  if "$@"; then pass=$((pass + 1)); echo "ok   - $d"; else fail=$((fail + 1)); echo "FAIL - $d"; fi
}
run() { (cd "$PROJ" && pulumi "$@" --non-interactive) >"$WORK/last.log" 2>&1; }
show_on_fail() { [ "$1" = 0 ] || sed 's/^/    | /' "$WORK/last.log" | tail -30; return "$1"; }

run stack init dev; show_on_fail $? >/dev/null
check "pulumi version is $(pulumi version)" test -n "$(pulumi version)"
run preview; rc=$?
check "preview succeeds" show_on_fail $rc
check "preview does not run the command" test ! -e "$OUT/command.txt"
run up --yes; rc=$?
check "up succeeds" show_on_fail $rc
check "up runs the command" grep -qx ok "$OUT/command.txt"
check "dynamic resource created" grep -qx wrote "$OUT/dynamic.txt"
run preview --expect-no-changes; rc=$?
check "second preview: no changes" show_on_fail $rc
run up --yes --expect-no-changes; rc=$?
check "second up: no changes" show_on_fail $rc

if [ -z "${SMOKE_SKIP_POLICY:-}" ]; then
  POL="$WORK/policy"
  mkdir -p "$POL"
  cat >"$POL/PulumiPolicy.yaml" <<'EOF'
runtime: nodejs
EOF
  PULUMI_SDK_VERSION=$(node -p "require('$ROOT/node_modules/@pulumi/pulumi/package.json').version")
  cat >"$POL/package.json" <<EOF
{ "name": "smoke-policy", "version": "0.0.1", "private": true, "main": "index.ts",
  "dependencies": { "@pulumi/policy": "$POLICY_VERSION", "@pulumi/pulumi": "$PULUMI_SDK_VERSION" } }
EOF
  cat >"$POL/index.ts" <<'EOF'
import { PolicyPack } from "@pulumi/policy";
new PolicyPack("smoke-policy", {
    policies: [{
        name: "no-forbidden-commands",
        description: "create must not contain FORBIDDEN",
        enforcementLevel: "mandatory",
        validateResource: (args, report) => {
            if (args.type === "command:local:Command" && String(args.props.create ?? "").includes("FORBIDDEN")) {
                report("create contains FORBIDDEN");
            }
        },
    }],
});
EOF
  # ts-node/typescript come from the repo's node_modules via NODE_PATH-free resolution: link them in.
  if (cd "$POL" && npm install --no-audit --no-fund --loglevel=error >"$WORK/npm.log" 2>&1); then
    for m in typescript ts-node; do
      [ -e "$POL/node_modules/$m" ] || ln -s "$ROOT/node_modules/$m" "$POL/node_modules/$m"
    done
    run preview --policy-pack "$POL"; rc=$?
    check "policy pack: compliant preview passes" show_on_fail $rc
    (cd "$PROJ" && pulumi config set marker FORBIDDEN) >/dev/null 2>&1
    run preview --policy-pack "$POL"; rc=$?
    check "policy pack: mandatory violation fails the preview" test "$rc" -ne 0
    check "policy pack: violation is reported" grep -q "create contains FORBIDDEN" "$WORK/last.log"
    (cd "$PROJ" && pulumi config rm marker) >/dev/null 2>&1
  else
    fail=$((fail + 1)); echo "FAIL - npm install @pulumi/policy@$POLICY_VERSION (see below)"; tail -20 "$WORK/npm.log"
  fi
fi

run destroy --yes; rc=$?
check "destroy succeeds" show_on_fail $rc
check "destroy runs the delete command" test ! -e "$OUT/command.txt"

echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
