import { strict as assert } from "assert";
import * as fs from "fs";
import { commandOps, commandsDone, diagnostics, EngineRun, EngineStack, requireEngine } from "../support/engine";
import {
    actionsSince, createStack, Lab, LSM_UPGRADE_ACTIONS, LSM_UPGRADE_STEPS, lsmUpgrade, readLines, startLab, stopLab,
} from "./fixture";

/**
 * One LSM upgrade stack through its life on the real engine: preview, up, up again, new target.
 * The tests run in order and build on each other (each one says what it needs from the previous).
 */
describe("engine: an LSM upgrade stack from preview to a second target", function () {
    this.timeout(120000);
    let lab: Lab;
    let stack: EngineStack;
    let firstUp: EngineRun | undefined;

    before(async () => {
        requireEngine();
        lab = await startLab({ settings: { protected_environment: false } });
        stack = await createStack(lab, lsmUpgrade(lab));
    });
    after(async () => stopLab(lab));

    it("preview lists every step as a create and performs none of them", async () => {
        const run = await stack.preview();
        assert.deepEqual(commandOps(run).map(s => `${s.op} ${s.name}`), LSM_UPGRADE_STEPS.map(id => `create ${id}`),
            "the preview plans each step, once, in execution order");
        assert.equal(lab.fake.requestsTo("POST").length, 0, `no POST during preview: ${lab.fake.callSequence().join(", ")}`);
        assert.equal(lab.fake.requests.filter(r => r.path.startsWith("/mark/")).length, 0, "no shell step ran");
        assert.equal(fs.existsSync(lab.northboundFile), false, "the north-bound commands did not run");
        assert.equal(fs.existsSync(lab.inmantaLog), false, "the export did not run");
        for (const id of LSM_UPGRADE_STEPS) assert.ok(run.log.includes(id), `the preview's log names ${id}`);
    });

    it("up performs the steps in order, one after the other", async () => {
        const before = lab.fake.requests.length;
        firstUp = await stack.up();
        const run = firstUp;
        assert.deepEqual(actionsSince(lab, before), LSM_UPGRADE_ACTIONS);
        // Each step starts only after the previous one has finished.
        const started = commandOps(run, ["create"]);
        const done = commandsDone(run, ["create"]);
        assert.deepEqual(started.map(s => s.name), LSM_UPGRADE_STEPS);
        assert.deepEqual(done.map(s => s.name), LSM_UPGRADE_STEPS);
        for (let i = 1; i < LSM_UPGRADE_STEPS.length; i++) {
            assert.ok(started[i].sequence > done[i - 1].sequence,
                `${LSM_UPGRADE_STEPS[i]} started (event ${started[i].sequence}) after ${LSM_UPGRADE_STEPS[i - 1]} finished (event ${done[i - 1].sequence})`);
        }
        // The runner's log lines reach the engine log, attributed to their step, in step order.
        const firstLog = new Map<string, number>();
        diagnostics(run).forEach((d, i) => { if (d.name && !firstLog.has(d.name)) firstLog.set(d.name, i); });
        const logged = [...firstLog.entries()].sort((a, b) => a[1] - b[1]).map(([n]) => n).filter(n => LSM_UPGRADE_STEPS.includes(n));
        assert.deepEqual(logged, LSM_UPGRADE_STEPS.filter(id => logged.includes(id)));
        assert.ok(logged.includes("upgrade-deploy") && logged.includes("pre-recompile"), `step logs seen: ${logged.join(", ")}`);

        assert.deepEqual(readLines(lab.northboundFile), ["block", "unblock"]);
        assert.equal(readLines(lab.inmantaLog).length, 1);
        assert.match(readLines(lab.inmantaLog)[0], /export .*-e 6f1c0e2a-3b4d-4c5e-8f60-718293a4b5c6 -f loader.cf --export-plugin service_entities_exporter_strict$/);
        const outputs = await stack.outputs();
        assert.deepEqual(outputs.steps, LSM_UPGRADE_STEPS);
        assert.equal(outputs.procedure, "lsm-upgrade");
        assert.equal(outputs.runKey, "2.0.0");
        assert.equal(run.outputs?.steps.value?.length, LSM_UPGRADE_STEPS.length);
        // The orchestrator ends where the procedure says.
        const deployed = lab.fake.activeVersion()!;
        assert.equal(deployed.result, "success");
        assert.equal(lab.fake.settingValue("auto_deploy"), true);
        assert.equal(lab.fake.settingValue("protected_environment"), true);
        for (const agent of lab.fake.agentNames()) assert.equal(lab.fake.isAgentPaused(agent), false, agent);
    });

    it("a second up changes nothing and calls nothing", async () => {
        assert.ok(firstUp?.ok, "needs the first up");
        const before = lab.fake.requests.length;
        const run = await stack.up();
        assert.deepEqual(Object.keys(run.changes).filter(op => op !== "same"), [], `changes: ${JSON.stringify(run.changes)}`);
        assert.deepEqual(commandOps(run).filter(s => s.op !== "same"), []);
        assert.equal(commandOps(run, ["same"]).length, LSM_UPGRADE_STEPS.length);
        assert.deepEqual(actionsSince(lab, before), [], "no new action on the orchestrator");
        assert.equal(lab.fake.requests.length, before, "not even a GET");
        assert.deepEqual(readLines(lab.northboundFile), ["block", "unblock"]);
    });

    it("a new upgrade:target runs the whole chain again, in order", async () => {
        assert.ok(firstUp?.ok, "needs the first up");
        await stack.setConfig(lsmUpgrade(lab, { target: "2.1.0" }));
        const preview = await stack.preview();
        assert.deepEqual(commandOps(preview).filter(s => s.op === "replace").map(s => s.name), LSM_UPGRADE_STEPS,
            "the preview shows every step replaced");
        assert.equal(preview.changes.replace, LSM_UPGRADE_STEPS.length);

        const before = lab.fake.requests.length;
        const run = await stack.up();
        assert.equal(run.changes.replace, LSM_UPGRADE_STEPS.length, JSON.stringify(run.changes));
        assert.deepEqual(commandsDone(run, ["create-replacement"]).map(s => s.name), LSM_UPGRADE_STEPS);
        assert.deepEqual(actionsSince(lab, before), LSM_UPGRADE_ACTIONS);
        assert.deepEqual(readLines(lab.northboundFile), ["block", "unblock", "block", "unblock"]);
        assert.equal(readLines(lab.inmantaLog).length, 2);
        assert.equal((await stack.outputs()).runKey, "2.1.0");
    });
});
