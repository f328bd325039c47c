import { approvalBeforeDeploy } from "../../policy/policies/approval-before-deploy";
import { carefulDeploy, lsmInstall, lsmUpgrade, plainUpgrade } from "./fixtures";
import { ENV, assertNoViolations, assertViolation, edit, insertAfter, without } from "./util";

describe("policy approval-before-deploy (mandatory)", () => {
    const p = approvalBeforeDeploy;

    it("passes the plain upgrade, the LSM upgrade and the first deployment", async () => {
        await assertNoViolations(p, plainUpgrade());
        await assertNoViolations(p, lsmUpgrade());
        await assertNoViolations(p, lsmInstall());
    });

    it("passes the careful deploy: the internal agent is deployed before the dry run, the others after the gate", () =>
        assertNoViolations(p, carefulDeploy()));

    it("fails a deploy without an approval gate", () =>
        assertViolation(p, without(plainUpgrade(), "upgrade-approval"),
            "Deploy step `upgrade-deploy` does not depend on an approval gate", { step: "upgrade-deploy" }));

    it("fails a gate that does not follow a dry run", () =>
        assertViolation(p, without(without(plainUpgrade(), "upgrade-dryrun"), "pre-dryrun"),
            "Deploy step `upgrade-deploy` depends on approval gate `upgrade-approval`, but no dry run comes before the gate."));

    it("fails when the approved dry run is older than the version deployed", () =>
        assertViolation(p, edit(without(plainUpgrade(), "upgrade-dryrun"), "upgrade-approval", { dataFrom: ["pre-dryrun"] }),
            "Deploy step `upgrade-deploy`: the dry run before approval gate `upgrade-approval` does not follow compile `upgrade-update-compile`"));

    it("fails a careful deploy agent that is not exempt", () =>
        assertViolation(p, carefulDeploy(), "Deploy step `careful-deploy-internal` does not depend on an approval gate",
            { config: { exemptAgents: [] } }));

    it("cannot exempt an agent it cannot read: whole params unknown during preview", () =>
        assertViolation(p, edit(carefulDeploy(), "careful-deploy-internal", { specUnknown: true }),
            "Deploy step `careful-deploy-internal` (its params, and so its agent, are unknown during preview) does not depend on an approval gate"));

    it("checks deploys added anywhere", () =>
        assertViolation(p, insertAfter(plainUpgrade(), "pre-health-check",
            { id: "sneaky-deploy", kind: "deploy", params: { environment: ENV, version: 3 } }),
        "Deploy step `sneaky-deploy` does not depend on an approval gate"));
});
