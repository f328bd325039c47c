import { strict as assert } from "assert";
import { StepRecord } from "../components/core";
import { buildUnderMocks, MockRun, precedes, runnerSpecOf } from "./support/mocks";
import { careful, load, lsmAbort, lsmInstall, lsmUpgrade, plainUpgrade, RawConfig, release } from "./support/configs";

/** Every pair of the seed's order must hold on the graph, and in the order resources are registered. */
function assertSeedOrder(run: MockRun, order: string[]): void {
    const commands = run.registrations.filter(r => r.type.startsWith("command:")).map(r => r.name);
    for (let i = 0; i < order.length; i++) {
        for (let j = i + 1; j < order.length; j++) {
            assert.ok(precedes(run.steps, order[i], order[j]), `${order[i]} must come before ${order[j]}`);
            assert.ok(!precedes(run.steps, order[j], order[i]), `${order[j]} must not come before ${order[i]}`);
            assert.ok(commands.indexOf(order[i]) < commands.indexOf(order[j]),
                `${order[i]} must be registered before ${order[j]} (registered: ${commands.join(", ")})`);
        }
    }
}

const ids = (steps: StepRecord[]) => steps.map(s => s.id);
const step = (run: MockRun, id: string) => {
    const s = run.steps.find(x => x.id === id);
    assert.ok(s, `no step ${id} in ${ids(run.steps).join(", ")}`);
    return s!;
};
const build = (raw: RawConfig, results?: Record<string, unknown>) =>
    buildUnderMocks(load(raw), results ? { preview: false, results } : { preview: true });

describe("LSM service-model upgrade", () => {
    const SEED = [
        "pre-protected-environment", "pre-auto-deploy-off", "pre-recompile", "pre-health-check", "pre-dryrun",
        "pre-northbound-block", "pre-agents-pause", "pre-db-backup",
        "upgrade-update-compile", "upgrade-export", "upgrade-recompile", "upgrade-agents-resume", "upgrade-dryrun",
        "upgrade-approval", "upgrade-deploy",
        "post-auto-deploy-on", "post-northbound-unblock",
    ];

    it("follows the seed's order, pre-upgrade, upgrade, post-upgrade", async () => {
        const run = await build(lsmUpgrade());
        assert.deepEqual(ids(run.steps), SEED);
        assertSeedOrder(run, SEED);
    });

    it("runs the non-strict exporter only after a verified backup, which it depends on directly", async () => {
        const run = await build(lsmUpgrade());
        const exp = step(run, "upgrade-export");
        assert.equal(exp.params.plugin, "service_entities_exporter");
        assert.equal(exp.params.strict, false);
        assert.ok(exp.dependsOn.includes("pre-db-backup"));
        assert.deepEqual(step(run, "pre-db-backup").params.tables, ["lsm_serviceentity", "lsm_serviceinstance"]);
    });

    it("uses the strict exporter and takes no backup when no instance updates are expected", async () => {
        const run = await build(lsmUpgrade({ lsm: { instanceUpdatesExpected: false }, database: undefined }));
        assert.equal(step(run, "upgrade-export").params.plugin, "service_entities_exporter_strict");
        assert.ok(!ids(run.steps).includes("pre-db-backup"));
    });

    it("still backs up before a strict export when the stack asks for it", async () => {
        const run = await build(lsmUpgrade({ lsm: { instanceUpdatesExpected: false, backup: true } }));
        assert.equal(step(run, "upgrade-export").params.plugin, "service_entities_exporter_strict");
        assert.ok(precedes(run.steps, "pre-db-backup", "upgrade-export"));
    });

    it("leaves the optional pre-upgrade dry run out when asked", async () => {
        const run = await build(lsmUpgrade({ preUpgradeDryrun: false }));
        assert.ok(!ids(run.steps).includes("pre-dryrun"));
        assert.ok(precedes(run.steps, "pre-health-check", "pre-northbound-block"));
    });

    it("dry-runs and deploys the version the last compile produced", async () => {
        const run = await build(lsmUpgrade(), {
            "pre-recompile": { version: 7 }, "pre-dryrun": { version: 7, changes: [], digest: "sha256:x" },
            "upgrade-update-compile": { version: 8 }, "upgrade-recompile": { version: 9 },
            "upgrade-dryrun": { version: 9, changes: [], digest: "sha256:y" },
        });
        const env = (name: string) => runnerSpecOf(run, name);
        assert.equal(env("upgrade-dryrun").params.version, 9);
        assert.equal(env("upgrade-deploy").params.version, 9);
        assert.equal(env("pre-dryrun").params.version, 7);
    });
});

describe("plain service-model upgrade", () => {
    it("follows the .rst seed: pre-upgrade, update & recompile, dry run, approval, deploy, auto_deploy on", async () => {
        const run = await build(plainUpgrade());
        const order = ["pre-protected-environment", "pre-auto-deploy-off", "pre-recompile", "pre-health-check", "pre-dryrun",
            "upgrade-update-compile", "upgrade-dryrun", "upgrade-approval", "upgrade-deploy", "post-auto-deploy-on"];
        assert.deepEqual(ids(run.steps), order);
        assertSeedOrder(run, order);
        assert.equal(step(run, "upgrade-update-compile").params.update, true);
        assert.equal(step(run, "pre-recompile").params.update, false);
        assert.ok(!run.steps.some(s => ["export", "agents-pause", "northbound-block", "db-backup"].includes(s.kind)));
    });
});

describe("first deployment of a service model", () => {
    it("installs, exports strictly, verifies the first version, deploys, turns automation on, tests the API", async () => {
        const run = await build(lsmInstall());
        const order = ["install-settings-check", "install-protected-environment", "install-auto-deploy-off", "install-compile",
            "install-export", "install-recompile", "install-dryrun", "install-approval", "install-look-first-version", "install-deploy",
            "install-agent-trigger-method-on-auto-deploy", "install-auto-deploy", "install-push-on-auto-deploy",
            "install-server-compile", "install-api-tests"];
        assert.deepEqual(ids(run.steps), order);
        assertSeedOrder(run, order);
        assert.equal(step(run, "install-export").params.plugin, "service_entities_exporter_strict");
        const automation = run.steps.filter(s => s.id.startsWith("install-") && s.kind === "setting" && precedes(run.steps, "install-deploy", s.id));
        assert.deepEqual(automation.map(s => [s.params.name, s.params.value, s.params.optional]), [
            ["agent_trigger_method_on_auto_deploy", "push_incremental_deploy", true],
            ["auto_deploy", true, false],
            ["push_on_auto_deploy", true, true],
            ["server_compile", true, false],
        ]);
    });

    it("has no export without LSM", async () => {
        const run = await build(lsmInstall({ procedure: "install", lsm: undefined }));
        assert.ok(!ids(run.steps).includes("install-export"));
        assert.ok(precedes(run.steps, "install-compile", "install-dryrun"));
    });
});

describe("extra careful deploy", () => {
    const ORDER = ["careful-protected-environment", "careful-record-intervals",
        "careful-autostart-agent-deploy-interval-off", "careful-autostart-agent-repair-interval-off",
        "careful-auto-deploy-on", "careful-push-on-auto-deploy-off", "careful-candidate-auto-deploy-off", "careful-compile",
        "careful-deploy-internal", "careful-dryrun", "careful-approval", "careful-release-held", "careful-deploy-internal-after-release",
        "careful-deploy-a1", "careful-deploy-a2", "careful-deploy-a3"];

    it("notes the intervals, disables spontaneous deployment, deploys internal first, then agent by agent", async () => {
        const run = await build(careful());
        assertSeedOrder(run, ORDER);
        for (const a of ["internal", "a1", "a2", "a3"]) {
            assert.deepEqual([step(run, `careful-deploy-${a}`).params.agent, step(run, `careful-deploy-${a}`).params.repair], [a, true]);
        }
        for (const restore of run.steps.filter(s => s.id.startsWith("careful-restore-"))) {
            assert.ok(precedes(run.steps, "careful-deploy-a3", restore.id), `${restore.id} comes after the last agent`);
        }
    });

    it("is the same steps on both lines, each saying what it does on 14.x and on 15+ (the runner picks by the server)", async () => {
        const run = await build(careful());
        const lines = (id: string) => step(run, id).params.lines as { legacy?: { skip?: string; params?: Record<string, unknown> };
            scheduler?: { skip?: string; params?: Record<string, unknown> } } | undefined;
        // 14.x: the seed's hold (auto_deploy on, push off); the 15+ steps skipped, saying why
        assert.deepEqual(step(run, "careful-auto-deploy-on").params.value, true);
        assert.match(lines("careful-auto-deploy-on")!.scheduler!.skip!, /deploys at once \(push_on_auto_deploy is gone/);
        assert.deepEqual([step(run, "careful-candidate-auto-deploy-off").params.name, step(run, "careful-candidate-auto-deploy-off").params.value],
            ["auto_deploy", false]);
        assert.match(lines("careful-candidate-auto-deploy-off")!.legacy!.skip!, /holds the version back/);
        assert.equal(lines("careful-candidate-auto-deploy-off")!.scheduler, undefined);
        // the compile: released by auto_deploy on 14.x, a candidate on 15+
        assert.equal(step(run, "careful-compile").params.expectNoDeploy, false);
        assert.deepEqual(lines("careful-compile")!.scheduler!.params, { expectNoDeploy: true });
        // the internal agent: before the dry run on 14.x, first after the held release on 15+
        assert.match(lines("careful-deploy-internal")!.scheduler!.skip!, /careful-deploy-internal-after-release/);
        assert.match(lines("careful-deploy-internal-after-release")!.legacy!.skip!, /before the dry run/);
        assert.deepEqual(lines("careful-deploy-internal-after-release")!.scheduler!.params, { unpause: true, ifPresent: true });
        assert.equal(step(run, "careful-release-held").kind, "release-held");
        assert.deepEqual(step(run, "careful-release-held").params.agents, ["internal", "a1", "a2", "a3"]);
        assert.match(lines("careful-release-held")!.legacy!.skip!, /careful-compile released the version/);
        for (const a of ["a1", "a2", "a3"]) {
            assert.equal(lines(`careful-deploy-${a}`)!.legacy, undefined, a);
            assert.deepEqual(lines(`careful-deploy-${a}`)!.scheduler!.params, { unpause: true }, a);
        }
        // no step depends on push_on_auto_deploy any more (it is optional: skipped where the server lacks it)
        assert.equal(step(run, "careful-protected-environment").params.requireSettings, undefined);
        assert.equal(step(run, "careful-push-on-auto-deploy-off").params.optional, true);
    });

    it("restores every setting it changed, the intervals to the values noted in step 1", async () => {
        const run = await build(careful(), {
            "careful-record-intervals": { values: { autostart_agent_deploy_interval: "300", autostart_agent_repair_interval: "*/5 * * * *" } },
            "careful-compile": { version: 4 },
            "careful-dryrun": { version: 4, changes: [], digest: "sha256:z" },
        });
        const changed = new Set(run.steps.filter(s => s.kind === "setting" && !s.id.startsWith("careful-restore-") && s.params.name !== "protected_environment").map(s => s.params.name));
        const restored = new Set(run.steps.filter(s => s.id.startsWith("careful-restore-")).map(s => s.params.name));
        for (const name of changed) assert.ok(restored.has(name), `${name} is restored`);
        const value = (name: string) => runnerSpecOf(run, name).params.value;
        assert.equal(value("careful-restore-autostart-agent-deploy-interval"), "300");
        assert.equal(value("careful-restore-autostart-agent-repair-interval"), "*/5 * * * *");
        assert.equal(value("careful-autostart-agent-deploy-interval-off"), "0");
    });
});

describe("abort / revert", () => {
    it("deletes the bad version, goes through the upgrade again, restores the tables last when asked", async () => {
        const run = await build(lsmAbort({ abort: { restoreTables: true, backupFile: "/b/pre.dump", backupSha256: "a".repeat(64), revertCommand: "git revert --no-edit HEAD && git push" } }));
        const order = ["abort-protected-environment", "abort-auto-deploy-off", "abort-northbound-block", "abort-agents-pause",
            "abort-db-backup", "abort-version-delete", "abort-revert-commit", "abort-update-compile", "abort-export",
            "abort-recompile", "abort-agents-resume", "abort-dryrun", "abort-approval", "abort-deploy", "abort-db-restore",
            "abort-auto-deploy-on", "abort-northbound-unblock"];
        assert.deepEqual(ids(run.steps), order);
        assertSeedOrder(run, order);
        assert.deepEqual(step(run, "abort-db-restore").params.tables, ["lsm_serviceentity", "lsm_serviceinstance"]);
        assert.equal(step(run, "abort-db-restore").params.file, "/b/pre.dump");
    });

    it("restores nothing unless the stack says the API change is irreversible", async () => {
        const run = await build(lsmAbort({ abort: { restoreTables: false } }));
        assert.ok(!run.steps.some(s => s.kind === "db-restore"));
    });

    it("compares the revert's dry run with the pre-upgrade one before the approval", async () => {
        const digest = "sha256:" + "a".repeat(64);
        const run = await build(lsmAbort({ abort: { baselineDigest: digest } }));
        assert.equal(step(run, "abort-dryrun-compare").params.baseline, digest);
        assert.ok(precedes(run.steps, "abort-dryrun", "abort-dryrun-compare"));
        assert.ok(precedes(run.steps, "abort-dryrun-compare", "abort-approval"));
    });
});

describe("release for production", () => {
    it("checks the install mode, freezes, verifies, commits and pushes", async () => {
        const run = await build(release());
        const order = ["release-install-mode", "release-freeze", "release-verify-frozen", "release-commit", "release-push"];
        assert.deepEqual(ids(run.steps), order);
        assertSeedOrder(run, order);
        const freeze = run.registrations.find(r => r.name === "release-freeze" && r.type === "command:local:Command")!;
        assert.equal(freeze.inputs.create, `cd /srv/project && inmanta -vv -X project freeze --recursive --operator "=="`);
    });
});

describe("every procedure", () => {
    const all = { lsmUpgrade, plainUpgrade, lsmInstall, careful, lsmAbort, release };

    for (const [name, make] of Object.entries(all)) {
        it(`${name}: sets protected_environment before any other step touches the environment`, async () => {
            const run = await build(make());
            const guard = run.steps.find(s => s.kind === "setting" && s.params.name === "protected_environment");
            if (name === "release") {
                assert.equal(guard, undefined);
                return;
            }
            for (const s of run.steps) {
                if (s !== guard && s.kind !== "settings-check") assert.ok(precedes(run.steps, guard!.id, s.id), `${s.id} after ${guard!.id}`);
            }
        });

        it(`${name}: runs nothing during preview (only command resources, no invokes) and keys every step by the run`, async () => {
            const run = await build(make());
            assert.deepEqual(run.invokes, []);
            const commands = run.registrations.filter(r => r.type.startsWith("command:"));
            assert.equal(commands.length, run.steps.length);
            for (const c of commands) {
                const triggers = c.inputs.triggers as unknown[];
                assert.equal(triggers[0], load(make()).target, `${c.name} is keyed by the run`);
            }
        });
    }

    it("a new target or a bumped rerun changes every step's run key", async () => {
        const keys = async (raw: RawConfig) => (await build(raw)).registrations
            .filter(r => r.type.startsWith("command:")).map(r => (r.inputs.triggers as unknown[])[0]);
        assert.ok((await keys(lsmUpgrade({ target: "2.0.1" }))).every(k => k === "2.0.1"));
        assert.ok((await keys(lsmUpgrade({ target: "2.0.1", rerun: 2 }))).every(k => k === "2.0.1#2"));
    });
});

describe("safety switch", () => {
    it("leaves out the protected_environment step only when a stack turns the guard off", async () => {
        const guarded = await build(plainUpgrade());
        assert.equal(guarded.steps[0].id, "pre-protected-environment");
        const unguarded = await build(plainUpgrade({ safety: { protectedEnvironment: false } }));
        assert.ok(!unguarded.steps.some(s => s.params.name === "protected_environment"));
        assert.equal(unguarded.steps[0].id, "pre-auto-deploy-off");
    });
});

describe("secrets", () => {
    it("hands the token and the database password to the steps as secrets only", async () => {
        const run = await buildUnderMocks(load(lsmUpgrade({ inmantaToken: "t0ken-value", databasePassword: "pg-pass" }),
            ["inmantaToken", "databasePassword"]));
        const SECRET_SIG = "4dabf18193072939515e22adb298388d";
        let carried = 0;
        for (const r of run.registrations) {
            const env = r.inputs.environment as Record<string, unknown> | undefined;
            // Everything but the (secret-wrapped) environment must be free of the secrets.
            const rest = JSON.stringify({ ...r.inputs, environment: undefined });
            assert.ok(!rest.includes("t0ken-value") && !rest.includes("pg-pass"), `${r.name} shows a secret outside its environment`);
            if (env && JSON.stringify(env).match(/t0ken-value|pg-pass/)) {
                assert.ok(SECRET_SIG in env, `${r.name}: the environment holding a secret must be a secret`);
                carried++;
            }
        }
        assert.ok(carried >= 10, `the API steps carry the token (${carried})`);
        const backup = run.registrations.find(r => r.name === "pre-db-backup" && r.type.startsWith("command:"))!;
        assert.match(JSON.stringify(backup.inputs.environment), /PGPASSWORD/);
    });
});
