import { strict as assert } from "assert";
import { autoDeployOffDuringUpgrade } from "../../policy/policies/auto-deploy";
import { carefulDeploy, lsmInstall, lsmUpgrade, plainUpgrade, release } from "./fixtures";
import { ENV, assertNoViolations, assertViolation, edit, insertAfter, runPolicy, without } from "./util";

describe("policy auto-deploy-off-during-upgrade (mandatory)", () => {
    const p = autoDeployOffDuringUpgrade;

    it("passes the plain upgrade, the LSM upgrade and the first deployment", async () => {
        await assertNoViolations(p, plainUpgrade(), { procedure: "upgrade" });
        await assertNoViolations(p, lsmUpgrade());
        await assertNoViolations(p, lsmInstall(), { procedure: "lsm-install" });
    });

    it("passes the careful deploy: auto_deploy on, but push_on_auto_deploy off and both intervals 0", () =>
        assertNoViolations(p, carefulDeploy(), { procedure: "careful-deploy" }));

    it("is not applicable without compile steps", async () => {
        assert.match((await runPolicy(p, release())).notApplicable ?? "", /no compile/);
    });

    it("fails when auto_deploy is not turned off before the first compile", () =>
        assertViolation(p, without(plainUpgrade(), "pre-auto-deploy-off"),
            "Compile step `pre-recompile` (environment " + ENV + ") may start a deploy on its own: no step sets auto_deploy before it.",
            { step: "pre-recompile" }));

    it("fails when auto_deploy is turned on again before a later compile", () =>
        assertViolation(p, insertAfter(plainUpgrade(), "pre-dryrun",
            { id: "too-early-on", kind: "setting", params: { environment: ENV, name: "auto_deploy", value: true, optional: false } }),
        "Compile step `upgrade-update-compile` (environment " + ENV + ") may start a deploy on its own: auto_deploy is true from `too-early-on`"));

    it("fails when auto_deploy is not on again at the end", () =>
        assertViolation(p, without(plainUpgrade(), "post-auto-deploy-on"),
            "environment " + ENV + ": auto_deploy is turned off but not on again at the end. Add a `setting` step auto_deploy = true after `upgrade-deploy`."));

    it("fails the careful deploy when push_on_auto_deploy stays on", () =>
        assertViolation(p, without(carefulDeploy(), "careful-push-on-auto-deploy-off"),
            "Compile step `careful-compile` (environment " + ENV + ") may start a deploy on its own: auto_deploy is true from `careful-auto-deploy-on`",
            { procedure: "careful-deploy" }));

    it("fails the careful deploy when an interval is not 0", () =>
        assertViolation(p, edit(carefulDeploy(), "careful-autostart-agent-repair-interval-off", { params: { value: "600" } }),
            "Compile step `careful-compile`", { procedure: "careful-deploy" }));

    it("can leave a procedure out by config", () =>
        assertNoViolations(p, without(plainUpgrade(), "pre-auto-deploy-off"), { procedure: "upgrade", config: { exemptProcedures: ["upgrade"] } }));
});
