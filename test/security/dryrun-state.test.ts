import { strict as assert } from "assert";
import { randomBytes } from "crypto";
import { EngineStack, requireEngine } from "../support/engine";
import { createStack, Lab, plainUpgrade, startLab, stopLab } from "../engine/fixture";

/**
 * Finding 10: a dry run's report holds attribute values of the managed resources (file contents,
 * passwords of a config file...). Its step has no secret input, so its stdout used to be stored in
 * plain text in state; now the dry-run step's outputs are secrets (additionalSecretOutputs).
 */
describe("security (engine): dry-run attribute values are secrets in state (finding 10)", function () {
    this.timeout(240000);
    const value = `attr-${randomBytes(10).toString("hex")}`;
    let lab: Lab;
    let stack: EngineStack;

    before(async () => {
        requireEngine();
        lab = await startLab({
            dryrun: { changes: [{ resourceId: "std::File[internal,path=/etc/app.conf]", status: "modified", attributes: { content: { from: "old", to: value } } }] },
        });
        stack = await createStack(lab, plainUpgrade(lab, { approval: { allow: [{ resource: "std::File[internal,path=*]" }] } }));
        await stack.up();
    });
    after(async () => stopLab(lab));

    it("the dry-run steps ran, and their report is stored encrypted, nowhere in plain text", async () => {
        const { text, deployment } = await stack.exportState();
        const dryruns = (deployment.resources ?? []).filter(r => r.type === "command:local:Command" && /dryrun/.test(r.urn) && !/compare/.test(r.urn));
        assert.ok(dryruns.length >= 1, `dry-run commands in state: ${dryruns.map(r => r.urn).join(", ")}`);
        for (const r of dryruns) {
            const stdout = r.outputs?.stdout as Record<string, unknown> | undefined;
            assert.equal(stdout?.["4dabf18193072939515e22adb298388d"], "1b47061264138c4ac30d75fd1eb44270", `${r.urn}: stdout is a secret`);
        }
        assert.ok(!text.includes(value), "the attribute value appears in plain text in the exported state");
    });
});
