/** The checklist's marks from the state, the journal and the event log, without the engine. */
import { strict as assert } from "assert";
import { collect } from "../../cli/status/collect";
import { checklistMarkdown } from "../../cli/status/format";
import { parseExport } from "../../cli/status/state";
import { JournalEntry } from "../../cli/journal/journal";
import { StepRecord } from "../../components/core/registry";

const steps: StepRecord[] = ["a", "b", "c", "d"].map((id, i) => ({ id, kind: "setting", title: `Step ${id}`, params: {}, dependsOn: i ? [["a", "b", "c", "d"][i - 1]] : [] }));
const urn = (id: string) => `urn:pulumi:s::upgrade::upgrade:step:Setting$command:local:Command::${id}`;
const j = (step: string, event: JournalEntry["event"], at: string, extra: Partial<JournalEntry> = {}): JournalEntry =>
    ({ step, kind: "setting", event, at: `2026-12-01T09:00:${at}.000Z`, user: "ops", pid: 999999999, ...extra });

function stateOf(done: [string, string][], pending: string[] = []) {
    return parseExport(JSON.stringify({ deployment: {
        resources: done.map(([id, runKey]) => ({ urn: urn(id), type: "command:local:Command", inputs: { triggers: [runKey, {}] }, outputs: { stdout: "{\"ok\":true}" } })),
        pending_operations: pending.map(id => ({ resource: { urn: urn(id), type: "command:local:Command" }, type: "creating" })),
    } }));
}

describe("status: marks", () => {
    it("done only for this run key; running while pending; failed with the journal's error; where it resumes", () => {
        const c = collect({
            stack: "s", procedure: "p", runKey: "2", steps, events: new Map(),
            state: stateOf([["a", "2"], ["b", "1"]]),
            journal: [j("a", "start", "00"), j("a", "done", "02"), j("b", "start", "03"), j("b", "failed", "05", { error: "boom\nsecond line" })],
            now: new Date("2026-12-01T09:00:10Z"),
        });
        assert.deepEqual(c.steps.map(l => [l.id, l.status, l.durationSeconds]), [["a", "done", 2], ["b", "failed", 2], ["c", "pending", undefined], ["d", "pending", undefined]]);
        assert.equal(c.steps[1].error, "boom\nsecond line");
        assert.deepEqual(c.steps[0].result, { ok: true });
        assert.equal(c.updating, false);
        assert.deepEqual(c.resumesAt, ["b"]);
        const md = checklistMarkdown(c);
        assert.match(md, /^1\. \[x\] Step a — `a` \*setting\* — done — started 09:00:00 UTC, 2\.0 s$/m);
        assert.match(md, /^2\. \[!\] Step b — `b` \*setting\* — failed — started 09:00:03 UTC, 2\.0 s\n {3}error: boom\n {3}second line$/m);
        assert.match(md, /^3\. \[ \] Step c — `c` \*setting\*$/m);
        assert.match(md, /^The update stopped; `pulumi up` again resumes at `b`\.$/m);
    });

    it("a step the engine runs is running, with its time so far; a runner that died without a result is failed", () => {
        const running = collect({
            stack: "s", procedure: "p", runKey: "2", steps, events: new Map(),
            state: stateOf([["a", "2"]], ["b"]), journal: [j("b", "start", "04")], now: new Date("2026-12-01T09:00:10Z"),
        });
        assert.deepEqual(running.steps.map(l => l.status), ["done", "running", "pending", "pending"]);
        assert.equal(running.steps[1].durationSeconds, 6);
        assert.equal(running.updating, true);
        assert.equal(running.resumesAt, undefined);
        const died = collect({ stack: "s", procedure: "p", runKey: "2", steps, events: new Map(), state: stateOf([["a", "2"]]), journal: [j("b", "start", "04")] });
        assert.equal(died.steps[1].status, "failed");
        assert.equal(died.steps[1].error, "stopped without a result (the update was interrupted)");
    });

    it("the event log gives a shell step's failure and error", () => {
        const c = collect({
            stack: "s", procedure: "p", runKey: "2", steps, journal: [], state: stateOf([["a", "2"]]),
            events: new Map([["b", { startedAt: "2026-12-01T09:00:01.000Z", failed: true, error: "exit status 3: 500 Internal Server Error" }]]),
        });
        assert.deepEqual(c.steps.map(l => l.status), ["done", "failed", "pending", "pending"]);
        assert.equal(c.steps[1].error, "exit status 3: 500 Internal Server Error");
    });
});
