import { strict as assert } from "assert";
import { changesDigest } from "../../components/inmanta/approval";
import { commandOps, commandsDone, commandsFailed, diagnostics, EngineStack, requireEngine } from "../support/engine";
import { actionsSince, createStack, Lab, PLAIN_UPGRADE_ACTIONS, PLAIN_UPGRADE_STEPS, plainUpgrade, startLab, stopLab } from "./fixture";

describe("engine: the approval gate holds the deploy until the dry run's digest is approved", function () {
    this.timeout(120000);
    let lab: Lab;
    let stack: EngineStack;
    const change = {
        resourceId: "std::File[agent1,path=/etc/app/app.conf]", status: "modified" as const,
        attributes: { content: { from: "port=8080\n", to: "port=9090\n" } },
    };
    const digest = changesDigest([change]);

    before(async () => {
        requireEngine();
        lab = await startLab({ dryrun: { changes: [change] } });
        stack = await createStack(lab, plainUpgrade(lab, { preUpgradeDryrun: false }));
    });
    after(async () => stopLab(lab));

    it("stops at the gate and shows the changes and their digest", async () => {
        const run = await stack.tryUp();
        assert.equal(run.ok, false);
        const gate = PLAIN_UPGRADE_STEPS.indexOf("upgrade-approval");
        assert.deepEqual(commandsFailed(run).map(s => s.name), ["upgrade-approval"]);
        assert.deepEqual(commandsDone(run, ["create"]).map(s => s.name), PLAIN_UPGRADE_STEPS.slice(0, gate));
        const errors = diagnostics(run, "error").filter(d => d.name === "upgrade-approval").map(d => d.message).join("\n");
        assert.ok(errors.includes(digest), `the gate's error names the digest ${digest}:\n${errors}`);
        assert.match(errors, /modified\s+std::File\[agent1,path=\/etc\/app\/app\.conf\]/);
        assert.ok(errors.includes("content: port=8080\n -> port=9090\n"), "the changed attribute, old -> new");
        assert.match(errors, /upgrade:approval\.digests in stacks\/Pulumi\.test\.yaml/);
        assert.ok(run.log.includes(digest), "the digest is in the log the operator sees");
        assert.deepEqual(actionsSince(lab, 0), PLAIN_UPGRADE_ACTIONS.filter(a => a !== "release" && a !== "setting auto_deploy=true"),
            "no release, auto_deploy still off");
        assert.equal(lab.fake.settingValue("auto_deploy"), false);
    });

    it("goes on from the gate and deploys once the digest is approved in the config", async () => {
        await stack.setConfig(plainUpgrade(lab, { preUpgradeDryrun: false, approval: { digests: [digest] } }));
        const gate = PLAIN_UPGRADE_STEPS.indexOf("upgrade-approval");
        const mark = lab.fake.requests.length;
        const run = await stack.up();
        assert.deepEqual(commandOps(run, ["same"]).map(s => s.name), PLAIN_UPGRADE_STEPS.slice(0, gate), "the dry run is not repeated");
        assert.deepEqual(commandsDone(run, ["create"]).map(s => s.name), PLAIN_UPGRADE_STEPS.slice(gate));
        assert.deepEqual(actionsSince(lab, mark), ["release", "setting auto_deploy=true"]);
        assert.ok(diagnostics(run).some(d => d.name === "upgrade-approval" && d.message.includes(`approved (digest): 1 change(s), digest ${digest}`)));
        const deployed = lab.fake.activeVersion()!;
        assert.equal(deployed.version, lab.fake.compiles.at(-1)!.version, "the upgrade's version is deployed");
        assert.equal(deployed.result, "success");
        assert.equal(deployed.resources.get(change.resourceId)?.status, "deployed");
        assert.equal(lab.fake.settingValue("auto_deploy"), true);
    });
});
