/**
 * `npm run -s status` on the real engine, from another process, as an operator runs it: while the first
 * deployment waits at its operator gate (a step that sleeps), after a failed update and after a
 * successful one. Exact marks, in the plan's order.
 *
 * Upstream behaviour relied on: the engine writes a checkpoint of the state whenever a step begins or
 * ends, with the steps it is running as `pending_operations` (pulumi/pulumi pkg/backend/snapshot.go,
 * `SnapshotManager.BeginMutation`), and `pulumi stack export` prints that checkpoint; the event log
 * (`pulumi up --event-log`) holds one JSON engine event a line (pulumi/pulumi pkg/backend/display/display.go).
 */
import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import { EngineRun, requireEngine } from "../support/engine";
import { createStack, Lab, startLab, stopLab } from "../engine/fixture";
import { exists, runCli, waitFor, waitingSignal } from "../gates/support";

const ORDER = [
    "install-settings-check", "install-protected-environment", "install-auto-deploy-off", "install-compile", "install-dryrun",
    "install-approval", "install-look-first-version", "install-deploy", "install-agent-trigger-method-on-auto-deploy",
    "install-auto-deploy", "install-push-on-auto-deploy", "install-server-compile", "install-api-tests",
];

interface Line { id: string; status: string; startedAt?: string; durationSeconds?: number; error?: string; waitingFor?: string }

/** Write the events an Automation API run saw as the engine's event log does: one JSON event a line. */
function writeEventLog(run: EngineRun, file: string): void {
    fs.writeFileSync(file, run.events.map(e => JSON.stringify(e)).join("\n") + "\n");
}

describe("engine: npm run -s status", function () {
    this.timeout(400000);
    let lab: Lab;
    before(async () => {
        requireEngine();
        lab = await startLab({ settings: { protected_environment: false } });
    });
    after(async () => stopLab(lab));

    it("shows done, running (waiting for a go) and pending during an update, failed with its error after, all done at the end", async () => {
        const config = (apiTests: string) => ({
            procedure: "install", target: "1.0.0",
            orchestrator: { url: lab.url, environment: lab.fake.environment, timeoutSeconds: 30, shell: { projectDir: lab.project.work, inmanta: lab.inmantaScript } },
            apiTests: { command: apiTests },
        });
        const stack = await createStack(lab, config("echo 'service-a: 500 Internal Server Error' >&2; exit 3"), { name: "status" });
        const status = async (...extra: string[]) => {
            const r = await runCli(stack, "status", ["--stack", "status", "--format", "json", ...extra]);
            assert.equal(r.code, 0, r.stderr);
            return JSON.parse(r.stdout) as { updating: boolean; runKey: string; steps: Line[]; resumesAt?: string[] };
        };

        const before = await status();
        assert.deepEqual(before.steps.map(l => [l.id, l.status]), ORDER.map(id => [id, "pending"]), "nothing ran yet");

        const up = stack.tryUp();
        await waitFor("the gate to wait", () => exists(waitingSignal(stack, "install-look-first-version")));
        const during = await status();
        assert.equal(during.updating, true);
        const gateAt = ORDER.indexOf("install-look-first-version");
        assert.deepEqual(during.steps.map(l => [l.id, l.status]),
            ORDER.map((id, i) => [id, i < gateAt ? "done" : i === gateAt ? "running" : "pending"]));
        const gate = during.steps[gateAt];
        assert.equal(gate.waitingFor, "npm run go -- --stack status install-look-first-version");
        assert.ok(gate.startedAt && gate.durationSeconds !== undefined, JSON.stringify(gate));
        for (const l of during.steps.slice(0, gateAt)) assert.ok(l.startedAt && l.durationSeconds !== undefined, `${l.id} has a start time and a duration`);
        const md = await runCli(stack, "status", ["--stack", "status"]);
        assert.match(md.stdout, /^7\. \[~\] Verify that the resources in this first version are as expected — `install-look-first-version` \*operator-gate\* — running — started \d\d:\d\d:\d\d UTC, /m);
        assert.match(md.stdout, /^ {3}waiting for a go: `npm run go -- --stack status install-look-first-version`$/m);
        assert.match(md.stdout, /^1\. \[x\] /m);
        assert.match(md.stdout, /^8\. \[ \] Deploy/m);

        assert.equal((await runCli(stack, "go", ["--stack", "status", "install-look-first-version"])).code, 0);
        const failed = await up;
        assert.equal(failed.ok, false, "the API tests fail");
        const events = path.join(stack.project.work, "events.jsonl");
        writeEventLog(failed, events);
        const after = await status("--event-log", events);
        assert.equal(after.updating, false);
        assert.deepEqual(after.steps.map(l => [l.id, l.status]), ORDER.map((id, i) => [id, i < ORDER.length - 1 ? "done" : "failed"]));
        assert.match(after.steps.at(-1)!.error!, /service-a: 500 Internal Server Error/);
        assert.deepEqual(after.resumesAt, ["install-api-tests"]);
        // The program started the reporter at the start of the update: once the engine ended, the report is written.
        const report = path.join(stack.project.dir, ".upgrade", "reports", "status", "report.md");
        await waitFor("the report after the failed update", () => exists(report) && /Outcome: \*\*/.test(fs.readFileSync(report, "utf8")));
        const failedReport = fs.readFileSync(report, "utf8");
        assert.match(failedReport, /^- Run key: `1\.0\.0`$/m);
        assert.match(failedReport, /^- Outcome: \*\*stopped\*\* \(12 of 13 steps done\)$/m);
        assert.match(failedReport, /^- `pulumi up` again resumes at `install-api-tests`/m);
        assert.match(failedReport, /^ {4}install-look-first-version :done, s7, /m);
        assert.ok(exists(path.join(stack.project.dir, ".upgrade", "reports", "status", "report.html")));
        fs.rmSync(report);
        // Without the event log a shell step's failure is not known; the checklist still says where it resumes.
        const plain = await status();
        assert.deepEqual(plain.steps.at(-1)!.status, "pending");
        assert.deepEqual(plain.resumesAt, ["install-api-tests"]);

        await stack.setConfig(config("echo 'all services answer'"));
        await stack.up();
        const done = await status();
        assert.deepEqual(done.steps.map(l => [l.id, l.status]), ORDER.map(id => [id, "done"]));
        assert.equal(done.resumesAt, undefined);
        await waitFor("the report after the successful update", () => exists(report) && /Outcome: \*\*/.test(fs.readFileSync(report, "utf8")));
        assert.match(fs.readFileSync(report, "utf8"), /^- Outcome: \*\*succeeded\*\* \(13 of 13 steps done\)$/m);
        assert.match(fs.readFileSync(report, "utf8"), /^\| 7 \| Verify that the resources in this first version are as expected \(`install-look-first-version`\) \| operator-gate \| done \| .* \| go: `operator`, by: `[^`]+`/m);
    });
});
