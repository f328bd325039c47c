import { strict as assert } from "assert";
import { CompileBehavior } from "../support/fake-inmanta";
import { commandOps, commandsDone, commandsFailed, EngineRunError, EngineStack, requireEngine } from "../support/engine";
import { actionsSince, createStack, Lab, PLAIN_UPGRADE_ACTIONS, PLAIN_UPGRADE_STEPS, plainUpgrade, startLab, stopLab } from "./fixture";

/** Compiles that update the project fail (a broken new release); plain recompiles succeed. */
function failUpdateCompiles(lab: Lab): void {
    const fake = lab.fake;
    const base = { ...fake.compileBehavior, error: "Could not find type std::Missing in namespace std" };
    const behavior = { ...base } as CompileBehavior;
    // The fake copies its compile behaviour when a compile starts; the compile that starts is the newest one.
    Object.defineProperty(behavior, "success", { enumerable: true, get: () => fake.compiles.at(-1)?.force_update !== true });
    fake.compileBehavior = behavior;
}

describe("engine: an update stopped by a failing step resumes at that step", function () {
    this.timeout(120000);
    let lab: Lab;
    let stack: EngineStack;

    before(async () => {
        requireEngine();
        lab = await startLab({ settings: { protected_environment: false } });
        stack = await createStack(lab, plainUpgrade(lab, { preUpgradeDryrun: false }));
    });
    after(async () => stopLab(lab));

    it("stops at the failed update compile, then goes on from it after the fix without repeating earlier steps", async () => {
        const failAt = PLAIN_UPGRADE_STEPS.indexOf("upgrade-update-compile");
        failUpdateCompiles(lab);

        const first = await stack.tryUp();
        assert.equal(first.ok, false, "the first up fails");
        assert.deepEqual(commandsFailed(first).map(s => s.name), ["upgrade-update-compile"]);
        assert.deepEqual(commandsDone(first, ["create"]).map(s => s.name), PLAIN_UPGRADE_STEPS.slice(0, failAt),
            "the steps before it ran, none after it");
        const error = new EngineRunError(first, stack.name, first.error!).message;
        assert.match(error, /upgrade-update-compile/, error);
        assert.match(error, /Could not find type std::Missing in namespace std/, error);
        assert.deepEqual(actionsSince(lab, 0), PLAIN_UPGRADE_ACTIONS.slice(0, 4), "nothing after the failed compile reached the orchestrator");
        assert.equal(lab.fake.settingValue("auto_deploy"), false, "auto_deploy stays off while the upgrade is stopped");
        const state = (await stack.stateResources("command:local:Command")).map(r => r.urn.split("::").pop());
        assert.deepEqual(state, PLAIN_UPGRADE_STEPS.slice(0, failAt), "the state records exactly the steps that ran");

        // The fix: the release compiles again.
        lab.fake.compileBehavior = { ...lab.fake.compileBehavior, success: true };
        const mark = lab.fake.requests.length;
        const second = await stack.up();
        assert.deepEqual(commandOps(second, ["same"]).map(s => s.name), PLAIN_UPGRADE_STEPS.slice(0, failAt), "earlier steps are kept");
        assert.deepEqual(commandsDone(second, ["create"]).map(s => s.name), PLAIN_UPGRADE_STEPS.slice(failAt),
            "the update runs from the failed step on, in order");
        const resumed = actionsSince(lab, mark);
        assert.deepEqual(resumed, [
            "compile upgrade-update-compile update=true", "dryrun", "release", "setting auto_deploy=true",
        ]);
        assert.ok(!resumed.some(a => /protected_environment|auto_deploy=false|pre-recompile/.test(a)), resumed.join(", "));
        assert.deepEqual(lab.fake.compiles.map(c => [c.force_update, c.success]), [[false, true], [true, false], [true, true]],
            "one recompile, the failed update compile, the update compile that worked");
        assert.equal(lab.fake.activeVersion()!.version, lab.fake.compiles.at(-1)!.version, "the new version is deployed");
        assert.equal(lab.fake.activeVersion()!.result, "success");
        assert.equal(lab.fake.settingValue("auto_deploy"), true);
    });
});
