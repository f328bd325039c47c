/**
 * Operator gates without the engine: the step runner's `operator-gate` (in this process, as its command
 * resource runs it), the pre-approvals of the stack file, the plan's checklist line.
 */
import { strict as assert } from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { Readable } from "stream";
import { runnerEnvironment } from "../../components/core/step-env";
import { RUN_KEY_ENV } from "../../components/gates/operator-gate";
import { runStep } from "../../cli/step/main";
import { goFile, waitingFile, writeAtomic } from "../../cli/gates/signals";
import { toMarkdown, toPlan } from "../../cli/plan/format";
import { load, lsmInstall } from "../support/configs";
import { buildUnderMocks } from "../support/mocks";

function gateRun(dir: string, params: Record<string, unknown>, runKey = "1.0.0") {
    const logs: string[] = [];
    const env = {
        ...process.env, UPGRADE_STATE_DIR: dir, UPGRADE_STACK: "s1", [RUN_KEY_ENV]: runKey,
        ...runnerEnvironment({ id: "look", kind: "operator-gate", params }),
    };
    return { logs, env, result: runStep(["operator-gate", "look"], env, Readable.from([""]), l => logs.push(l)) };
}

describe("operator gate: the step runner", function () {
    this.timeout(30000);
    let dir: string;
    beforeEach(() => (dir = fs.mkdtempSync(path.join(os.tmpdir(), "gate-"))));
    afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

    it("waits, prints what to look at and the exact command, and goes on at a go for its run key only", async () => {
        const r = gateRun(dir, { what: "the first version", look: ["the web console"], show: { version: 7 }, timeoutSeconds: 30, preApproved: false });
        const env = { UPGRADE_STATE_DIR: dir };
        const waiting = waitingFile("s1", "look", env);
        while (!fs.existsSync(waiting)) await new Promise(res => setTimeout(res, 20));
        assert.deepEqual(r.logs.slice(0, 5), [
            "[look] OPERATOR GATE: look at the first version",
            "[look]   - the web console",
            "[look]   version: 7",
            "[look] then say go, from another terminal in the project: npm run go -- --stack s1 look",
            "[look] (unattended runs: add {\"runKey\": \"1.0.0\", \"step\": \"look\"} to upgrade:gates.approved in stacks/Pulumi.s1.yaml)",
        ]);
        // A go for another run does not count.
        writeAtomic(goFile("s1", "look", env), { runKey: "0.9.0", by: "ops", at: "2026-01-01T00:00:00Z" });
        await new Promise(res => setTimeout(res, 600));
        assert.ok(fs.existsSync(waiting), "still waiting after a go for run 0.9.0");
        writeAtomic(goFile("s1", "look", env), { runKey: "1.0.0", by: "ops", at: "2026-01-01T00:00:01Z" });
        const result = await r.result;
        assert.equal(result.go, "operator");
        assert.equal(result.by, "ops");
        assert.equal(result.runKey, "1.0.0");
        assert.ok(!fs.existsSync(waiting), "the waiting signal is gone");
    });

    it("lets a pre-approved gate through at once", async () => {
        const r = gateRun(dir, { what: "x", timeoutSeconds: 30, preApproved: true });
        assert.deepEqual(await r.result, { what: "x", runKey: "1.0.0", go: "pre-approved", by: "stack file", waitedSeconds: 0 });
        assert.ok(!fs.existsSync(waitingFile("s1", "look", { UPGRADE_STATE_DIR: dir })));
    });

    it("fails at the timeout naming the gate and the command", async () => {
        const r = gateRun(dir, { what: "the obssys containers", timeoutSeconds: 1, preApproved: false });
        await assert.rejects(r.result, (err: Error) => {
            assert.equal(err.message, "operator gate look timed out after 1 s without a go (the obssys containers). The update stops here; " +
                "run pulumi up again to wait at this gate again, and say go with: npm run go -- --stack s1 look");
            return true;
        });
        assert.ok(!fs.existsSync(waitingFile("s1", "look", { UPGRADE_STATE_DIR: dir })));
    });

    it("runs its automatic check first, and fails when the check does not pass", async () => {
        const r = gateRun(dir, { what: "the daemon", timeoutSeconds: 1, preApproved: true, probe: { type: "exit", command: "exit 3", exitCode: 0 } });
        await assert.rejects(r.result, /the daemon/);
        const ok = gateRun(dir, { what: "the daemon", timeoutSeconds: 5, preApproved: true, probe: { type: "exit", command: "true", exitCode: 0 } });
        const result = await ok.result;
        assert.equal(result.go, "pre-approved");
        assert.ok(result.check, "the check's observation is in the result");
    });
});

describe("operator gate: the program and the plan", function () {
    this.timeout(60000);

    it("a pre-approval counts for its run key only", async () => {
        const approved = { gates: { approved: [{ runKey: "1.0.0", step: "install-look-first-version" }] } };
        const now = await buildUnderMocks(load(lsmInstall(approved)));
        assert.equal(now.steps.find(s => s.id === "install-look-first-version")!.params.preApproved, true);
        const later = await buildUnderMocks(load(lsmInstall({ ...approved, rerun: 1 })));
        assert.equal(later.steps.find(s => s.id === "install-look-first-version")!.params.preApproved, false);
    });

    it("refuses a pre-approval that names no operator gate of the procedure, with its config path", async () => {
        const config = load(lsmInstall({ gates: { approved: [{ runKey: "1.0.0", step: "install-deploy" }] } }));
        await assert.rejects(buildUnderMocks(config), (err: Error) => {
            assert.match(err.message, /upgrade:gates\.approved\[0\]\.step: "install-deploy" is not an operator gate of this procedure \(gates: install-look-first-version\)/);
            return true;
        });
    });

    it("the checklist says how to let a gate through", async () => {
        const run = await buildUnderMocks(load(lsmInstall()));
        const md = toMarkdown(toPlan("lsm-install", "lsm-install", run.steps), "service-model-1.0.0");
        const line = md.split("\n").find(l => l.includes("`install-look-first-version`"))!;
        assert.match(line, /^9\. \[ \] Verify that the resources in this first version are as expected — `install-look-first-version` \*operator-gate\*/);
        assert.match(line, /— a person looks, then: `npm run go -- --stack lsm-install install-look-first-version`$/);
    });
});
