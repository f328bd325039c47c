/**
 * The pack against the example stacks, through the plan (`bin/plan.js --format json`: the steps the
 * program registers, with their direct predecessors), turned into the resources the engine would
 * show the policies. The engine tests (test/engine/policy.test.ts) run the real preview; this also
 * covers the abort procedures, which no example stack runs, and the older trigger shape.
 */
import { strict as assert } from "assert";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { stringify } from "yaml";
import { policies } from "../../policy/policies";
import type { StackValidationPolicy } from "../../policy/types";
import { lsmAbort } from "../support/configs";
import { computedParams, FakeStep, runPolicy } from "./util";

const ROOT = path.join(__dirname, "..", "..");

interface PlanJson {
    procedure: string;
    steps: { id: string; kind: string; params: Record<string, unknown>; dependsOn: string[] }[];
}

const plans = new Map<string, PlanJson>();

/** The plan of a stack of the repository, or of `config` (`upgrade:` keys) written to a temporary stack file. */
function plan(stack: string, config?: Record<string, unknown>): PlanJson {
    const cached = plans.get(stack);
    if (cached) return cached;
    let cwd = ROOT;
    if (config) {
        cwd = fs.mkdtempSync(path.join(os.tmpdir(), "policy-plan-"));
        fs.mkdirSync(path.join(cwd, "stacks"));
        const keyed = Object.fromEntries(Object.entries(config).map(([k, v]) => [`upgrade:${k}`, v]));
        fs.writeFileSync(path.join(cwd, "stacks", `Pulumi.${stack}.yaml`), stringify({ config: keyed }));
    }
    const r = spawnSync(process.execPath, [path.join(ROOT, "bin/plan.js"), "--stack", stack, "--format", "json"], { cwd, encoding: "utf8" });
    if (config) fs.rmSync(cwd, { recursive: true, force: true });
    assert.equal(r.status, 0, r.stderr);
    const p = JSON.parse(r.stdout) as PlanJson;
    plans.set(stack, p);
    return p;
}

function steps(p: PlanJson, specUnknown: boolean): FakeStep[] {
    return p.steps.map(s => ({ id: s.id, kind: s.kind, params: computedParams(s.params) as Record<string, unknown>, after: s.dependsOn, specUnknown }));
}

async function findings(stack: string, specUnknown: boolean, config?: Record<string, unknown>): Promise<string[]> {
    const p = plan(stack, config);
    const out: string[] = [];
    for (const policy of policies as StackValidationPolicy[]) {
        const run = await runPolicy(policy, steps(p, specUnknown), { stack, procedure: p.procedure });
        for (const v of run.violations) out.push(`${policy.enforcementLevel} ${policy.name}: ${v.message}`);
    }
    return out;
}

const EXAMPLES = ["lsm-upgrade", "plain-upgrade", "lsm-install", "careful-deploy", "release", "spinalstack", "lsst-summit", "lsst-tts"];

describe("policy pack on the example stacks (from the plan)", function () {
    this.timeout(60000);

    for (const stack of EXAMPLES) {
        it(`${stack}: no violation when computed params are unknown leaves`, async () => {
            assert.deepEqual(await findings(stack, false), []);
        });
    }

    // No example stack runs the abort procedures: the configurations of the procedure tests.
    const plainAbort = {
        ...lsmAbort(), procedure: "abort", lsm: undefined, northbound: undefined, database: undefined,
        abort: { revertCommand: "git revert --no-edit HEAD && git push" },
    };
    for (const [stack, config] of [["lsm-abort", lsmAbort()], ["abort", plainAbort]] as const) {
        it(`${stack} (test configuration): no violation`, async () => {
            // JSON drops the keys set to undefined.
            assert.deepEqual(await findings(`policy-${stack}`, false, JSON.parse(JSON.stringify(config)) as Record<string, unknown>), []);
        });
    }

    it("unsafe-unprotected: refused for protected_environment only", async () => {
        const found = await findings("unsafe-unprotected", false);
        assert.deepEqual(found, [
            "mandatory protected-environment-first: Environment 2d4e6f80-1a3c-4b5d-8e7f-9a0b1c2d3e4f: no step sets protected_environment = true. "
            + "Add a `setting` step protected_environment = true that every other step acting on this environment waits for.",
        ]);
    });

    // A program that builds triggers[1] with pulumi.output() (as this one once did) has all params of a
    // step with one computed param unknown during preview. Only the careful deploy's exemption needs one.
    it("with whole params unknown (an older trigger shape) only the careful deploy's internal agent deploy is refused", async () => {
        for (const stack of EXAMPLES.filter(s => s !== "careful-deploy")) {
            assert.deepEqual((await findings(stack, true)).filter(f => f.startsWith("mandatory")), [], stack);
        }
        const careful = await findings("careful-deploy", true);
        assert.deepEqual(careful.map(f => f.split(":")[0]), ["mandatory approval-before-deploy", "advisory settings-restored"]);
        assert.match(careful[0], /Deploy step `careful-deploy-internal` \(its params, and so its agent, are unknown during preview\)/);
    });
});
