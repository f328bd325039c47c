import { strict as assert } from "assert";
import { northboundBlockedDuringChanges } from "../../policy/policies/northbound-blocked";
import { ABORT_STACK_TAG, restorePathInProduction } from "../../policy/policies/restore-path";
import { settingsRestored } from "../../policy/policies/settings-restored";
import { carefulDeploy, lsmInstall, lsmUpgrade, plainUpgrade } from "./fixtures";
import { ENV, assertNoViolations, assertViolation, edit, insertAfter, runPolicy, without } from "./util";

describe("policy northbound-blocked-during-changes (advisory)", () => {
    const p = northboundBlockedDuringChanges;

    it("is advisory", () => assert.equal(p.enforcementLevel, "advisory"));

    it("passes the LSM upgrade", () => assertNoViolations(p, lsmUpgrade()));

    it("does not apply to a plain upgrade or a first deployment", async () => {
        assert.match((await runPolicy(p, plainUpgrade(), { procedure: "upgrade" })).notApplicable ?? "", /no LSM upgrade/);
        assert.match((await runPolicy(p, lsmInstall(), { procedure: "lsm-install" })).notApplicable ?? "", /no LSM upgrade/);
    });

    it("warns when the north-bound API is not blocked before the export", async () => {
        const run = await runPolicy(p, without(lsmUpgrade(), "pre-northbound-block"));
        assert.deepEqual(run.violations.map(v => v.message), [
            "Step `upgrade-export` (export) changes service instances while the north-bound API may be open: add a `northbound-block` step before it.",
            "Step `upgrade-deploy` (deploy) changes service instances while the north-bound API may be open: add a `northbound-block` step before it.",
        ]);
    });

    it("warns when the north-bound API is unblocked before the deploy", () =>
        assertViolation(p, insertAfter(lsmUpgrade(), "upgrade-approval", { id: "early-unblock", kind: "northbound-unblock", params: { command: "x" }, shell: true }),
            "Step `upgrade-deploy` (deploy) changes service instances while the north-bound API may be open"));

    it("warns when the north-bound API stays blocked", async () => {
        const run = await runPolicy(p, without(lsmUpgrade(), "post-northbound-unblock"));
        assert.deepEqual(run.violations.map(v => v.message.split(":")[0]), ["Step `upgrade-export` (export)", "Step `upgrade-deploy` (deploy)"]);
        assert.ok(run.violations.every(v => v.message.includes("the north-bound API stays blocked after it (blocked by `pre-northbound-block`)")));
    });
});

describe("policy restore-path-in-production (advisory)", () => {
    const p = restorePathInProduction;
    const prod = { stack: "network-prod" };

    it("is advisory", () => assert.equal(p.enforcementLevel, "advisory"));

    it("does not apply to stacks that are not production", async () => {
        assert.match((await runPolicy(p, plainUpgrade(), { stack: "plain-upgrade" })).notApplicable ?? "", /not a production stack/);
    });

    it("passes a production LSM upgrade: it backs up the database", () => assertNoViolations(p, lsmUpgrade(), prod));

    it("warns a production upgrade with no backup and no abort procedure", () =>
        assertViolation(p, plainUpgrade(), "Production stack network-prod has no restore path", { ...prod, step: "upgrade-deploy" }));

    it("passes with an abort stack named by stack tag or config", async () => {
        await assertNoViolations(p, plainUpgrade(), { ...prod, stackTags: { [ABORT_STACK_TAG]: "network-prod-abort" } });
        await assertNoViolations(p, plainUpgrade(), { ...prod, config: { abortStacks: { "network-prod": "network-prod-abort" } } });
    });

    it("production stacks come from names, wildcards or a pattern", async () => {
        const cfg = { productionStacks: ["customer-?-live", "edge"], productionStackPattern: "" };
        for (const stack of ["customer-a-live", "edge"]) {
            await assertViolation(p, plainUpgrade(), `Production stack ${stack} has no restore path`, { stack, config: cfg });
        }
        assert.ok((await runPolicy(p, plainUpgrade(), { stack: "network-prod", config: cfg })).notApplicable);
        for (const stack of ["prod", "production-eu", "eu.prod"]) {
            await assertViolation(p, plainUpgrade(), `Production stack ${stack} has no restore path`, { stack });
        }
        assert.ok((await runPolicy(p, plainUpgrade(), { stack: "products" })).notApplicable);
    });
});

describe("policy settings-restored (advisory)", () => {
    const p = settingsRestored;

    it("is advisory", () => assert.equal(p.enforcementLevel, "advisory"));

    it("passes the careful deploy: every setting it changed is set again after the last deploy", () =>
        assertNoViolations(p, carefulDeploy(), { procedure: "careful-deploy" }));

    it("passes the upgrades: auto_deploy is on again at the end", async () => {
        await assertNoViolations(p, plainUpgrade());
        await assertNoViolations(p, lsmUpgrade());
        await assertNoViolations(p, lsmInstall());
    });

    it("warns when the careful deploy does not restore an interval", () =>
        assertViolation(p, without(carefulDeploy(), "careful-restore-autostart-agent-repair-interval"),
            "Procedure careful-deploy, environment " + ENV + ": autostart_agent_repair_interval (changed by "
            + "`careful-autostart-agent-repair-interval-off`) is not set again after the last deploy `careful-deploy-edge-router-2`.",
            { procedure: "careful-deploy", step: "careful-autostart-agent-repair-interval-off" }));

    it("warns when a restore runs before the last deploy", () =>
        assertViolation(p, edit(edit(carefulDeploy(), "careful-restore-push-on-auto-deploy", { after: ["careful-approval"] }),
            "careful-restore-server-compile", { after: ["careful-restore-auto-deploy"] }),
            "push_on_auto_deploy (changed by `careful-push-on-auto-deploy-off`) is not set again", { procedure: "careful-deploy" }));

    it("names the steps it could not read during preview", () =>
        assertViolation(p, edit(without(carefulDeploy(), "careful-restore-autostart-agent-repair-interval"),
            "careful-restore-autostart-agent-deploy-interval", { specUnknown: true }),
        "(`careful-restore-autostart-agent-deploy-interval` may restore some: their params are unknown during preview)", { procedure: "careful-deploy" }));

    it("leaves settings in `keep` alone", () =>
        assertNoViolations(p, without(carefulDeploy(), "careful-restore-autostart-agent-repair-interval"),
            { procedure: "careful-deploy", config: { keep: ["protected_environment", "autostart_agent_repair_interval"] } }));
});
