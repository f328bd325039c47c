import { strict as assert } from "assert";
import { execFileSync } from "child_process";
import { createHash } from "crypto";
import * as fs from "fs";
import * as path from "path";
import { InmantaClient } from "../../components/inmanta/client";
import { INMANTA_LINES, LabCopy, makeLabCopy } from "../support/lab-copy";
import { resourceActions } from "./server-checks";

/**
 * End to end on the real parts: the real engine runs the lab stack's LSM upgrade against a real
 * Inmanta server on real PostgreSQL, from release A to release B (`npm run lab`, in a copy), on each
 * inmanta-core line. On 20.x the agents are still paused for the export, as the seed says: the export
 * stores a candidate (auto_deploy is off), so no task is queued while they are paused and 20.1.0's
 * paused agent that runs one more queued task (inmanta-core src/inmanta/deploy/scheduler.py, TaskRunner;
 * shared/notes/inmanta-20.md) finds nothing to run: the test checks on the server that no resource was
 * deployed between the pause and the unpause, and on disk that the files did not change.
 */
for (const line of INMANTA_LINES) describe(`lab (inmanta-core ${line}): LSM upgrade of a real orchestrator from release A to B`, function () {
    this.timeout(25 * 60 * 1000);
    let lab: LabCopy;
    let firstRun = "";
    let client: InmantaClient;

    before(async () => {
        lab = await makeLabCopy(yaml => yaml.replace(/prelude: .*/,
            // Records the agents' state, the time and the agent's files at the moment the export starts.
            `prelude: '. .lab/inmanta/server/env.sh && curl -s -H "X-Inmanta-tid: {environment}" "$INMANTA_LAB_URL/api/v2/agents" > .lab/agents-at-export.json && date +%s%3N > .lab/export-at && cp -r .lab/inmanta/server/files .lab/files-at-export && inmanta-workon {environment}'`),
        { inmantaVersion: line });
        firstRun = lab.lab(["--keep-running"]);
        client = new InmantaClient({ url: lab.url, environment: lab.environment });
    });
    after(() => {
        client?.close();
        lab?.remove();
    });

    const labFile = (...p: string[]) => path.join(lab.dir, ".lab", ...p);
    const outputs = () => JSON.parse(fs.readFileSync(labFile("outputs.json"), "utf8"));

    it("ran every step of the procedure, in the seed's order", () => {
        assert.deepEqual(outputs().steps, [
            "pre-protected-environment", "pre-auto-deploy-off", "pre-recompile", "pre-health-check", "pre-dryrun",
            "pre-northbound-block", "pre-agents-pause", "pre-db-backup", "upgrade-update-compile", "upgrade-export",
            "upgrade-recompile", "upgrade-agents-resume", "upgrade-dryrun", "upgrade-approval", "upgrade-deploy",
            "post-auto-deploy-on", "post-northbound-unblock", "post-api-tests",
        ]);
        const created = [...firstRun.matchAll(/command:local:Command (\S+) created/g)].map(m => m[1]);
        assert.deepEqual(created, outputs().steps, "the engine created the steps one after the other, in order");
    });

    it("leaves protected_environment on and auto_deploy back on; auto_deploy was off during the run", async () => {
        assert.equal(await client.getSetting("protected_environment"), true);
        assert.equal(await client.getSetting("auto_deploy"), true);
        assert.match(firstRun, /\[post-auto-deploy-on\] auto_deploy: false -> true/);
    });

    it("paused every agent for the export and unpaused them before the dry run", async () => {
        const agents = JSON.parse(fs.readFileSync(labFile("agents-at-export.json"), "utf8")).data as { name: string; paused: boolean }[];
        // both lines list the lab agent and an "internal" row (on 20.1.0 too, though it runs nothing there)
        assert.deepEqual(agents.map(a => a.name).sort(), ["internal", "lab"], JSON.stringify(agents));
        assert.ok(agents.every(a => a.paused), `paused during the export: ${JSON.stringify(agents)}`);
        // nothing changed while they were paused: the files of release A at the export, and no deploy of the
        // agent between the export and the dry run after the unpause
        assert.equal(fs.readFileSync(labFile("files-at-export", "service-a.conf"), "utf8"), "release A\n");
        assert.ok(!fs.existsSync(labFile("files-at-export", "service-b.conf")));
        const exportAt = Number(fs.readFileSync(labFile("export-at"), "utf8").trim());
        const recompiled = lab.stepResult("lab", "upgrade-recompile")!.version as number;
        const early = (await resourceActions(lab.url, lab.environment, { action: "deploy" }))
            .filter(a => a.started >= exportAt && a.version < recompiled);
        assert.deepEqual(early, [], "no deploy between the export and the release of the new version");
        const version = (await client.health()).version!;
        const report = await client.dryrun(version);
        // A dry run on paused agents reports agent_down; the upgrade's own dry run found real changes.
        assert.ok(report.changes.every(c => c.status !== "agent_down"));
        // The step's result as the engine recorded it (the progress line shows whichever line came last).
        const dryrun = lab.stepResult("lab", "upgrade-dryrun") as { changes: { status: string }[] };
        assert.ok(dryrun.changes.some(c => c.status === "modified"), JSON.stringify(dryrun));
    });

    it("compiled with update, released the new version, deployed it without failures, files of release B on disk", async () => {
        const health = await client.health();
        assert.equal(health.healthy, true);
        const recompiled = lab.stepResult("lab", "upgrade-recompile")!;
        assert.equal(health.version, recompiled.version);
        const update = lab.stepResult("lab", "upgrade-update-compile")!;
        assert.equal(update.update, true);
        const files = labFile("inmanta", "server", "files");
        assert.equal(fs.readFileSync(path.join(files, "service-a.conf"), "utf8"), "release B\n");
        assert.ok(fs.existsSync(path.join(files, "service-b.conf")));
    });

    it("blocked the north-bound API before the export and unblocked it at the end", () => {
        const log = fs.readFileSync(labFile("northbound.log"), "utf8").trim().split("\n").map(l => l.split(" ")[1]);
        assert.deepEqual(log, ["block", "unblock"]);
    });

    it("took a verified backup of both inventory tables before the non-strict export", () => {
        const o = outputs();
        assert.ok(fs.existsSync(o.backupFile));
        assert.equal(createHash("sha256").update(fs.readFileSync(o.backupFile)).digest("hex"), o.backupSha256);
        const bin = execFileSync("bash", [path.join(lab.dir, "scripts", "inmanta", "pg.sh"), "bindir"], { encoding: "utf8", env: lab.env }).trim();
        const list = execFileSync(path.join(bin, "pg_restore"), ["--list", o.backupFile], { encoding: "utf8" });
        assert.match(list, /TABLE DATA public lsm_serviceentity /);
        assert.match(list, /TABLE DATA public lsm_serviceinstance /);
        const exportAt = firstRun.indexOf("upgrade-export created");
        assert.ok(firstRun.indexOf("pre-db-backup created") < exportAt);
        assert.match(firstRun, /INFO\s+service_entities_exporter: \d+ service entities exported/, "the non-strict exporter ran");
    });

    it("runs again without changing anything", () => {
        const again = lab.lab(["--keep-running"]);
        assert.match(again, /\b38 unchanged\b/);
        assert.doesNotMatch(again, /created|updated|replaced/);
    });
});
