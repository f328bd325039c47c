import { strict as assert } from "assert";
import { commandOps, diagnostics, EngineStack, requireEngine, TempProject } from "../support/engine";

/**
 * Preview is the dry run: when a command's inputs change, everything that reads its output shows as
 * changing in `pulumi preview --diff`, and `up` then changes exactly what the preview listed.
 *
 * Upstream rule: pulumi-go-provider infer/resource.go (markComputed: in a preview, outputs of a resource whose
 * inputs changed are unknown), which pulumi-command v1.2.1 uses for command:local:Command
 * (provider/pkg/provider/local/commandController.go: Update returns the old outputs during preview and the
 * library makes them unknown). Output lines are status messages (provider/pkg/provider/util/util.go,
 * LogOutput: InfoStatus), so they are not repeated under "Diagnostics:".
 *
 * The program is a chain of plain commands, the shape of a runbook's steps: `first` is updated (its create
 * command changes, no trigger), `second` reads first's stdout, `third` reads second's, `apart` reads nothing.
 */
const PROGRAM = `
const pulumi = require("@pulumi/pulumi");
const command = require("@pulumi/command");
const cfg = new pulumi.Config("upgrade");
const first = new command.local.Command("first", { create: "echo first-" + cfg.require("round") });
const second = new command.local.Command("second", { create: pulumi.interpolate\`echo "second after \${first.stdout}"\` });
const third = new command.local.Command("third", { create: pulumi.interpolate\`echo "third after \${second.stdout}"\` });
const apart = new command.local.Command("apart", { create: "echo apart" });
exports.third = third.stdout;
`;

const PACKAGE = JSON.stringify({
    name: "command-preview-check", main: "index.js",
    dependencies: { "@pulumi/pulumi": "*", "@pulumi/command": "*" },
}, null, 2);

describe("engine: the command provider's preview shows what up will change", function () {
    this.timeout(240000);
    let project: TempProject;
    let stack: EngineStack;

    before(async () => {
        requireEngine();
        project = TempProject.create({
            prefix: "command-preview-", files: [],
            write: { "Pulumi.yaml": "name: command-preview-check\nruntime: nodejs\nmain: index.js\n", "index.js": PROGRAM, "package.json": PACKAGE },
        });
        stack = await EngineStack.create(project, { round: "1" });
    });
    after(() => project?.cleanup());

    it("the first up streams each output line as a status message, not repeated under Diagnostics", async () => {
        const created = await stack.up();
        assert.deepEqual(commandOps(created, ["create"]).map(s => s.name).sort(), ["apart", "first", "second", "third"]);
        const out = created.log;
        assert.ok(!/Diagnostics:[\s\S]*second after first-1/.test(out),
            `output lines are status messages, not diagnostics at the end:\n${out}`);
        assert.ok(diagnostics(created).some(d => d.name === "second" && d.message.includes("second after first-1")),
            "the output line still streams as an event of its resource");
    });

    it("a changed command makes every reader of its output change in preview --diff, and up changes those", async () => {
        assert.equal(stack.runs.length, 1, "needs the first up");

        await stack.setConfig({ round: "2" });
        const diffText = await stack.pulumi(["preview", "--diff", "--stack", stack.name]);
        const preview = await stack.preview();
        const planned = commandOps(preview).filter(s => s.op !== "same").map(s => `${s.op} ${s.name}`).sort();
        assert.deepEqual(planned, ["update first", "update second", "update third"],
            `preview plans the readers of first's stdout too:\n${diffText}`);
        for (const name of ["first", "second", "third"]) {
            assert.match(diffText, new RegExp(`~ command:local:Command: \\(update\\)[\\s\\S]*?\\[urn=[^\\]]*::${name}\\]`),
                `preview --diff shows ${name} as an update:\n${diffText}`);
        }
        // The readers' commands are built from an output that is unknown until first runs again.
        assert.match(diffText, /~ create: "echo \\"second after first-1\\"" => \[unknown\]/, `second reads an unknown stdout:\n${diffText}`);
        assert.match(diffText, /~ create: "echo \\"third after second after first-1\\"" => \[unknown\]/, `third too:\n${diffText}`);
        assert.doesNotMatch(diffText, /::apart\]/, "apart is unchanged and not listed");

        const updated = await stack.up();
        const changed = commandOps(updated).filter(s => s.op !== "same").map(s => `${s.op} ${s.name}`).sort();
        assert.deepEqual(changed, planned, "up changes exactly what the preview listed");
        assert.equal((await stack.outputs()).third, "third after second after first-2");
    });
});
