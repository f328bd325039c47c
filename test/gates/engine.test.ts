/**
 * Operator gates on the real engine: the first deployment (`install`) against the fake Inmanta API
 * waits at `install-look-first-version` until `npm run go`, passes a gate pre-approved in the stack
 * file for its run key, and stops the update at a gate that times out; `pulumi up` again resumes there.
 *
 * Upstream behaviour relied on: a resource whose create fails is not written to the state, so the
 * next update creates it again while the ones before it stay "same" (pulumi/pulumi
 * pkg/resource/deploy/step_executor.go; the checkpoint of pkg/backend/snapshot.go).
 */
import { strict as assert } from "assert";
import { commandOps, commandsDone, commandsFailed, requireEngine } from "../support/engine";
import { actionsSince, createStack, Lab, startLab, stopLab } from "../engine/fixture";
import { exists, runCli, waitFor, waitingSignal } from "./support";

const GATE = "install-look-first-version";

function install(lab: Lab, over: Record<string, unknown> = {}): Record<string, unknown> {
    return {
        procedure: "install", target: "1.0.0",
        orchestrator: { url: lab.url, environment: lab.fake.environment, timeoutSeconds: 30, shell: { projectDir: lab.project.work, inmanta: lab.inmantaScript } },
        ...over,
    };
}

describe("engine: operator gates", function () {
    this.timeout(300000);
    let lab: Lab;

    before(async () => {
        requireEngine();
        lab = await startLab({ settings: { protected_environment: false } });
    });
    after(async () => stopLab(lab));

    it("holds the update at the gate until `npm run go`, then deploys", async () => {
        const stack = await createStack(lab, install(lab), { name: "held" });
        const mark = lab.fake.requests.length;
        const up = stack.tryUp();
        await waitFor("the gate to wait", () => exists(waitingSignal(stack, GATE)));
        // Held: the approval is done, nothing is released.
        assert.ok(!actionsSince(lab, mark).includes("release"), actionsSince(lab, mark).join(", "));
        const go = await runCli(stack, "go", ["--stack", stack.name, GATE]);
        assert.equal(go.code, 0, go.stderr);
        assert.match(go.stdout, new RegExp(`go given for ${GATE} \\(stack held, run 1\\.0\\.0\\)`));
        const run = await up;
        assert.ok(run.ok, run.log);
        const done = commandsDone(run, ["create"]).map(s => s.name);
        assert.ok(done.indexOf(GATE) > done.indexOf("install-approval") && done.indexOf(GATE) < done.indexOf("install-deploy"), done.join(", "));
        const started = commandOps(run, ["create"]).map(s => s.name);
        assert.ok(started.indexOf("install-deploy") > started.indexOf(GATE));
        assert.ok(actionsSince(lab, mark).includes("release"));
        assert.match(run.log, /OPERATOR GATE: look at the resources of the first version, before it deploys/);
        assert.match(run.log, new RegExp(`npm run go -- --stack held ${GATE}`));
        assert.ok(!exists(waitingSignal(stack, GATE)), "the waiting signal is removed");
        const gate = (await stack.stateResources("command:local:Command")).find(r => r.urn.endsWith(`::${GATE}`))!;
        const result = JSON.parse(String(gate.outputs!.stdout));
        assert.equal(result.go, "operator");
        assert.equal(result.runKey, "1.0.0");
    });

    it("passes a gate pre-approved in the stack file for this run key, and waits for one approved for another", async () => {
        const approved = await createStack(lab, install(lab, { gates: { approved: [{ runKey: "1.0.0", step: GATE }] } }), { name: "approved" });
        const run = await approved.up();
        const gate = (await approved.stateResources("command:local:Command")).find(r => r.urn.endsWith(`::${GATE}`))!;
        assert.deepEqual(JSON.parse(String(gate.outputs!.stdout)).go, "pre-approved");
        assert.ok(commandsDone(run, ["create"]).some(s => s.name === "install-deploy"));

        // The same approval does not count for the next run (rerun 1 is run key 1.0.0#1): the gate times out.
        await approved.setConfig(install(lab, { rerun: 1, gates: { timeoutSeconds: 2, approved: [{ runKey: "1.0.0", step: GATE }] } }));
        const next = await approved.tryUp();
        assert.equal(next.ok, false);
        assert.deepEqual(commandsFailed(next).map(s => s.name), [GATE]);
    });

    it("stops the update at a gate that times out, naming it; pulumi up again resumes at the gate", async () => {
        const stack = await createStack(lab, install(lab, { gates: { timeoutSeconds: 2 } }), { name: "timeout" });
        const first = await stack.tryUp();
        assert.equal(first.ok, false, "the update stops at the gate");
        assert.deepEqual(commandsFailed(first).map(s => s.name), [GATE]);
        assert.match(first.log, new RegExp(`operator gate ${GATE} timed out after 2 s without a go`));
        assert.match(first.log, new RegExp(`npm run go -- --stack timeout ${GATE}`));
        const ran = commandsDone(first, ["create"]).map(s => s.name);
        assert.ok(ran.includes("install-approval") && !ran.includes("install-deploy"), ran.join(", "));

        // A go given before pulumi up reaches the gate lets it through at once.
        const go = await runCli(stack, "go", ["--stack", stack.name, GATE]);
        assert.equal(go.code, 0, go.stderr);
        assert.match(go.stdout, /the gate is not waiting now/);
        const second = await stack.up();
        assert.deepEqual(commandOps(second, ["same"]).map(s => s.name), ran, "the steps before the gate are not run again");
        assert.equal(commandsDone(second, ["create"])[0].name, GATE, "the update resumes at the gate");
        assert.ok(commandsDone(second, ["create"]).some(s => s.name === "install-deploy"));
    });

    it("`npm run go` names the operator gates when given another step", async () => {
        const stack = await createStack(lab, install(lab), { name: "wrong" });
        const r = await runCli(stack, "go", ["--stack", stack.name, "install-deploy"]);
        assert.equal(r.code, 1);
        assert.match(r.stderr, new RegExp(`step "install-deploy" is a deploy step, not an operator gate \\(operator gates: ${GATE}\\)`));
    });
});
