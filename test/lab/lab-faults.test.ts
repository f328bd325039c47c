import { strict as assert } from "assert";
import { execFileSync } from "child_process";
import { createHash, randomUUID } from "crypto";
import * as fs from "fs";
import * as path from "path";
import { createdSteps, INMANTA_LINES, LabCopy, makeLabCopy, RunResult, StackConfig, stepOutput } from "../support/lab-copy";
import { deployState, desiredStates, get, removeAfter, resourceActions, settings, sleep, tableRows, versionModel } from "./server-checks";

/**
 * Faults of the lab's LSM upgrade (A -> B) on the real parts: the real engine, a real Inmanta
 * server and PostgreSQL. Each describe is one lab copy whose stack goes through several updates in
 * a row, the way an operator meets them: each test is one fault, what the runbook did about it,
 * and how the next `pulumi up` goes on once the cause is fixed. The tests of a describe build on
 * one another and run in order.
 */

const UPGRADE_STEPS = [
    "pre-protected-environment", "pre-auto-deploy-off", "pre-recompile", "pre-health-check", "pre-dryrun",
    "pre-northbound-block", "pre-agents-pause", "pre-db-backup", "upgrade-update-compile", "upgrade-export",
    "upgrade-recompile", "upgrade-agents-resume", "upgrade-dryrun", "upgrade-approval", "upgrade-deploy",
    "post-auto-deploy-on", "post-northbound-unblock", "post-api-tests",
];
const stepsAfter = (step: string) => UPGRADE_STEPS.slice(UPGRADE_STEPS.indexOf(step) + 1);

/** The lab stack without its allow-list: every dry-run change needs a reviewer's digest. */
function withoutAllowList(config: StackConfig): void {
    delete config.approval;
}

const inventory = (lab: LabCopy) => ({
    entities: tableRows(lab, "lsm_serviceentity", lab.environment, "name"),
    instances: tableRows(lab, "lsm_serviceinstance", lab.environment, "id"),
});

function assertStoppedAt(run: RunResult, step: string): void {
    assert.notEqual(run.status, 0, run.output);
    assert.match(run.output, new RegExp(`command:local:Command ${step} \\**creating failed`), `the update should stop at ${step}`);
    const created = createdSteps(run.output);
    for (const later of [step, ...stepsAfter(step)]) assert.ok(!created.includes(later), `${later} must not run:\n${created.join("\n")}`);
}

async function newestCompile(lab: LabCopy): Promise<{ force_update: boolean; started: string | null; completed: string | null } | undefined> {
    const body = await get<{ data: { force_update: boolean; started: string | null; completed: string | null }[] }>(
        lab.url, lab.environment, "/api/v2/compilereport?limit=1&sort=requested.desc");
    return body.data[0];
}

for (const line of INMANTA_LINES) describe(`lab faults (inmanta-core ${line}): backup, orchestrator down, dry-run approval`, function () {
    this.timeout(20 * 60 * 1000);
    const v14 = line.startsWith("14.");
    let lab: LabCopy;
    let before0: { entities: string; instances: string };
    let atGate: RunResult;

    before(async () => {
        lab = await makeLabCopy(undefined, { inmantaVersion: line });
        lab.editStack("lab", withoutAllowList);
        const setup = lab.tryLab(["--setup-only"]);
        assert.equal(setup.status, 0, setup.output);
        before0 = inventory(lab);
    });
    removeAfter(() => lab);

    it("the backup cannot be written: the update stops at the backup, the non-strict export never runs", async () => {
        // A folder under a regular file can be neither created nor written.
        fs.writeFileSync(path.join(lab.dir, ".lab", "not-a-folder"), "");
        lab.editStack("lab", c => ((c.database as Record<string, unknown>).backupDir = ".lab/not-a-folder/backups"));
        const run = await lab.up();
        assertStoppedAt(run, "pre-db-backup");
        assert.match(run.output, /ENOTDIR: not a directory, mkdir '.*not-a-folder\/backups'/);
        assert.doesNotMatch(run.output, /service_entities_exporter/);
        assert.deepEqual(inventory(lab), before0, "the inventory tables are untouched");
        assert.equal((await settings(lab.url, lab.environment)).auto_deploy, false, "auto_deploy stays off until the upgrade is through");
    });

    it("the orchestrator stops while the update compile runs: the step fails naming the call; after a restart the update resumes there", async () => {
        lab.editStack("lab", c => ((c.database as Record<string, unknown>).backupDir = ".lab/backups"));
        const running = lab.up();
        // Wait for the update compile to run on the server, then stop the server under it.
        let compiling = false;
        for (let i = 0; i < 600 && !compiling; i++) {
            await sleep(200);
            const c = await newestCompile(lab).catch(() => undefined);
            compiling = !!c && c.force_update && !!c.started && !c.completed;
        }
        assert.ok(compiling, "the update compile did not start");
        lab.server("stop");
        const stopped = await running;
        assert.deepEqual(createdSteps(stopped.output), ["pre-db-backup"]);
        assertStoppedAt(stopped, "upgrade-update-compile");
        // Mostly the polling meets a closed port; if it reads the report first, the server has marked the
        // compile it stopped as failed. Either way the error names the call.
        const call = new RegExp(`(GET|HEAD|POST) /api/v[12]/\\S+ on ${lab.url.replace(/\./g, "\\.")} failed with (connection error E[A-Z]+|HTTP 5\\d\\d)` +
            `|POST /api/v1/notify/${lab.environment}: compile \\S+ failed`);
        assert.match(stopped.output, call);

        lab.server("start");
        const resumed = atGate = await lab.up();
        // The steps before the failed one are done; the update goes on from the failed step.
        assert.deepEqual(createdSteps(resumed.output), ["upgrade-update-compile", "upgrade-export", "upgrade-recompile",
            "upgrade-agents-resume", "upgrade-dryrun"], resumed.output);
        assert.equal(stepOutput(resumed, "upgrade-update-compile").update, true);
        // This copy's stack approves no change: the update waits at the gate (next test).
        assertStoppedAt(resumed, "upgrade-approval");
    });

    let digest = "";
    it("the dry run has unapproved changes: no deploy, the gate prints the changes and the digest", async () => {
        const run = atGate.output;
        assert.match(run, /the dry run has 2 change\(s\), 2 of them not approved/);
        assert.match(run, /modified\s+upgradelab::ConfigFile\[lab,path=\S+\/service-a\.conf\]\s+content: release A\n\s*-> release B/);
        assert.match(run, /added\s+upgradelab::ConfigFile\[lab,path=\S+\/service-b\.conf\]/);
        digest = /Digest of the whole change set: (sha256:[0-9a-f]{64})/.exec(run)![1];
        assert.match(run, new RegExp(`add the digest to upgrade:approval\\.digests in stacks/Pulumi\\.lab\\.yaml`));
        const version = stepOutput(atGate, "upgrade-recompile").version as number;
        assert.equal((await versionModel(lab.url, lab.environment, version)).released, false, "the new version is not released");
        assert.deepEqual((await resourceActions(lab.url, lab.environment, { action: "deploy" })).filter(a => a.version === version), [],
            "nothing of the new version deployed");
        assert.equal(fs.readFileSync(path.join(lab.inmantaDir, "server", "files", "service-a.conf"), "utf8"), "release A\n");
        assert.ok(!fs.existsSync(path.join(lab.inmantaDir, "server", "files", "service-b.conf")));
        assert.equal((await settings(lab.url, lab.environment)).auto_deploy, false);
    });

    it("approving the printed digest in the stack file: the next run goes on from the gate and deploys", async () => {
        lab.editStack("lab", c => (c.approval = { digests: [digest] }));
        const run = await lab.up();
        assert.equal(run.status, 0, run.output);
        assert.deepEqual(createdSteps(run.output), ["upgrade-approval", "upgrade-deploy", "post-auto-deploy-on",
            "post-northbound-unblock", "post-api-tests"]);
        assert.match(run.output, new RegExp(`approved \\(digest\\): 2 change\\(s\\), digest ${digest}`));
        const deployed = stepOutput(run, "upgrade-deploy").version as number;
        const v = await deployState(lab.url, lab.environment, deployed, v14);
        assert.deepEqual(v, { released: true, deployed: true, result: "success" });
        assert.equal(fs.readFileSync(path.join(lab.inmantaDir, "server", "files", "service-a.conf"), "utf8"), "release B\n");
        assert.equal((await settings(lab.url, lab.environment)).auto_deploy, true);
        assert.match(run.output, /api tests passed for release B/);
    });
});

for (const line of INMANTA_LINES) describe(`lab faults (inmanta-core ${line}): compile, export, then the abort with the table restore`, function () {
    this.timeout(20 * 60 * 1000);
    const v14 = line.startsWith("14.");
    let lab: LabCopy;
    let before0: { entities: string; instances: string };
    let baseline: number;
    // Another environment's service inventory in the same tables: the abort must leave it alone.
    const other = randomUUID();

    before(async () => {
        lab = await makeLabCopy(undefined, { inmantaVersion: line });
        lab.editStack("lab", withoutAllowList);
        const setup = lab.tryLab(["--setup-only"]);
        assert.equal(setup.status, 0, setup.output);
        execFileSync("bash", [path.join(lab.dir, "scripts", "inmanta", "pg.sh"), "psql", path.join(lab.inmantaDir, "pg"), String(lab.pgPort),
            "-q", "-v", `env_id=${other}`, "-f", path.join(lab.dir, "lab", "inmanta", "fixtures.sql")], { stdio: "ignore", env: lab.env });
        before0 = inventory(lab);
        baseline = (await desiredStates(lab.url, lab.environment)).find(s => s.status === "active")!.version;
    });
    removeAfter(() => lab);

    it("the compile fails (a broken release): nothing after it runs, auto_deploy stays off", async () => {
        lab.publish("broken");
        const run = await lab.up();
        assertStoppedAt(run, "upgrade-update-compile");
        assert.deepEqual(createdSteps(run.output), UPGRADE_STEPS.slice(0, UPGRADE_STEPS.indexOf("upgrade-update-compile")));
        assert.match(run.output, /POST \/api\/v1\/notify\/[0-9a-f-]+: compile [0-9a-f-]+ failed: .*owner/);
        assert.equal((await settings(lab.url, lab.environment)).auto_deploy, false);
        const states = await desiredStates(lab.url, lab.environment);
        assert.deepEqual(states.filter(s => s.status === "active").map(s => s.version), [baseline], "release A stays deployed");
        assert.deepEqual(inventory(lab), before0);
    });

    it("the export fails (strict exporter, release B changes instances): the update stops there", async () => {
        lab.publish("b");
        lab.editStack("lab", c => (c.lsm = { ...(c.lsm as object), instanceUpdatesExpected: false, backup: true }));
        const run = await lab.up();
        assertStoppedAt(run, "upgrade-export");
        assert.deepEqual(createdSteps(run.output), ["upgrade-update-compile"]);
        assert.match(run.output, /service_entities_exporter_strict: the new definition would change existing service instances/);
        assert.deepEqual(inventory(lab), before0, "the strict exporter wrote nothing");
        assert.equal((await settings(lab.url, lab.environment)).auto_deploy, false);
    });

    let badVersion = 0;
    it("with the non-strict exporter the update reaches the gate, which approves nothing: B is not deployed", async () => {
        lab.editStack("lab", c => (c.lsm = { ...(c.lsm as object), instanceUpdatesExpected: true }));
        const run = await lab.up();
        assertStoppedAt(run, "upgrade-approval");
        assert.deepEqual(createdSteps(run.output), ["upgrade-export", "upgrade-recompile", "upgrade-agents-resume", "upgrade-dryrun"]);
        badVersion = stepOutput(run, "upgrade-recompile").version as number;
        assert.equal((await versionModel(lab.url, lab.environment, badVersion)).released, false);
        assert.deepEqual((await resourceActions(lab.url, lab.environment, { action: "deploy" })).filter(a => a.version === badVersion), []);
        assert.equal(fs.readFileSync(path.join(lab.inmantaDir, "server", "files", "service-a.conf"), "utf8"), "release A\n");
        assert.ok(!fs.existsSync(path.join(lab.inmantaDir, "server", "files", "service-b.conf")));
        assert.notDeepEqual(inventory(lab).instances, before0.instances, "the non-strict export migrated the instances");
    });

    it("abort (lsm-abort, restoreTables): the bad version is deleted, the revert deployed, both tables equal the backup row for row", async () => {
        const backup = lab.stepResult("lab", "pre-db-backup") as { path: string; sha256: string };
        assert.equal(createHash("sha256").update(fs.readFileSync(backup.path)).digest("hex"), backup.sha256);
        // Meanwhile the other environment's north-bound API changed one of its services.
        lab.psql(`UPDATE lsm_serviceinstance SET active_attributes = '{"name": "svc-1", "content": "changed after the backup"}', ` +
            `version = version + 1 WHERE environment = '${other}' AND active_attributes->>'name' = 'svc-1'`);
        const otherRows = { entities: tableRows(lab, "lsm_serviceentity", other, "name"), instances: tableRows(lab, "lsm_serviceinstance", other, "id") };
        assert.match(otherRows.instances, /changed after the backup/);
        lab.editStack("lab", c => {
            c.procedure = "lsm-abort";
            c.target = "release-a";
            c.abort = {
                revertCommand: "bash scripts/inmanta/model-repo.sh .lab/inmanta/repo a",
                restoreTables: true, backupFile: backup.path, backupSha256: backup.sha256,
            };
            delete c.apiTests;
        });
        const run = await lab.up();
        assert.equal(run.status, 0, run.output);
        assert.deepEqual(createdSteps(run.output), [
            "abort-protected-environment", "abort-auto-deploy-off", "abort-northbound-block", "abort-agents-pause",
            "abort-db-backup", "abort-version-delete", "abort-revert-commit", "abort-update-compile", "abort-export",
            "abort-recompile", "abort-agents-resume", "abort-dryrun", "abort-approval", "abort-deploy", "abort-db-restore",
            "abort-auto-deploy-on", "abort-northbound-unblock",
        ]);
        assert.equal(stepOutput(run, "abort-version-delete").deleted, badVersion);
        await assert.rejects(get(lab.url, lab.environment, `/api/v1/version/${badVersion}`), /HTTP 404/);
        // The revert is release A again: the dry run against the deployed release A is empty.
        assert.deepEqual(stepOutput(run, "abort-dryrun").changes, []);
        const reverted = stepOutput(run, "abort-deploy").version as number;
        assert.deepEqual(await deployState(lab.url, lab.environment, reverted, v14), { released: true, deployed: true, result: "success" });
        assert.equal(fs.readFileSync(path.join(lab.inmantaDir, "server", "files", "service-a.conf"), "utf8"), "release A\n");
        assert.equal(stepOutput(run, "abort-db-restore").file, backup.path);
        assert.deepEqual(inventory(lab), before0, "every row of both tables as before the upgrade");
        assert.deepEqual({ entities: tableRows(lab, "lsm_serviceentity", other, "name"), instances: tableRows(lab, "lsm_serviceinstance", other, "id") },
            otherRows, "the other environment's rows are as they were before the abort");
        assert.deepEqual(stepOutput(run, "abort-db-restore").rows, { lsm_serviceentity: 1, lsm_serviceinstance: 3 });
        assert.equal((await settings(lab.url, lab.environment)).auto_deploy, true);
    });
});
