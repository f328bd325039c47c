import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import { commandOps, EngineStack, requireEngine, TempProject } from "../support/engine";

/**
 * Preview is the dry run, for the project's own steps: when one step's params change, `pulumi preview --diff`
 * shows that step and every step whose params read its result as changing, and `up` changes exactly those.
 *
 * Upstream rule: pulumi-go-provider infer/resource.go (markComputed: in the preview of an update whose inputs
 * changed, every output that does not mirror an input is unknown), which pulumi-command v1.2.1 uses for
 * command:local:Command (provider/pkg/provider/local/commandController.go). A step's result is parsed from its
 * command's stdout (components/core/step.ts), so a reader's param, one UPGRADE_PARAM_<name> variable of its
 * environment, is unknown in the preview.
 *
 * The program is made of the project's Step component and its real step runner (bin/step.js, kind
 * project-check with the "frozen" check, which needs no server): `first` reports the module versions frozen in
 * its project folder, `second` and `third` take first's std version as a param, `apart` reads nothing.
 */
const PROGRAM = `
import * as pulumi from "@pulumi/pulumi";
import { Step } from "./components/core/step";
const cfg = new pulumi.Config("upgrade");
const check = (id: string, projectDir: string, extra: Record<string, pulumi.Input<unknown>> = {}, after: Step[] = []) =>
    new Step(id, { kind: "project-check", title: "Check " + id, runKey: "run-1", runner: {},
        params: { projectDir, check: "frozen", ...extra } }, { after });
const first = check("first", cfg.require("firstDir"));
const second = check("second", cfg.require("otherDir"), { seenStd: first.output("frozen.std") }, [first]);
const third = check("third", cfg.require("otherDir"), { seenStd: first.output("frozen.std") }, [second]);
check("apart", cfg.require("otherDir"));
export const seenByThird = third.result;
`;

describe("engine: a changed step param shows every reader of its result as changing in preview --diff", function () {
    this.timeout(240000);
    let project: TempProject;
    let stack: EngineStack;
    const dir = (name: string, std: string) => {
        const d = path.join(project.work, name);
        fs.mkdirSync(d, { recursive: true });
        fs.writeFileSync(path.join(d, "project.yml"), `name: ${name}\nrequires:\n  - std==${std}\n`);
        return d;
    };
    let dirs: Record<string, string>;

    before(async () => {
        requireEngine();
        project = TempProject.create({ prefix: "step-preview-", write: { "index.ts": PROGRAM } });
        dirs = { a: dir("a", "1.0.0"), b: dir("b", "2.0.0"), other: dir("other", "9.0.0") };
        stack = await EngineStack.create(project, { firstDir: dirs.a, otherDir: dirs.other });
    });
    after(() => project?.cleanup());

    it("after one up, a new projectDir of first plans first, second and third as updates, and up changes those", async () => {
        const created = await stack.up();
        assert.deepEqual(commandOps(created, ["create"]).map(s => s.name).sort(), ["apart", "first", "second", "third"]);

        await stack.setConfig({ firstDir: dirs.b, otherDir: dirs.other });
        const diffText = await stack.pulumi(["preview", "--diff", "--stack", stack.name]);
        // Each planned change of a command: its heading, then its [urn=...::<step id>] line.
        const planned = [...diffText.matchAll(/([~+-]) command:local:Command: \((\w+)\)\n(?:[^\n]*\n){0,2}?\s*\[urn=[^\]]*::([\w-]+)\]/g)]
            .map(m => `${m[2]} ${m[3]}`).sort();
        assert.deepEqual(planned, ["update first", "update second", "update third"],
            `preview --diff plans first and the readers of its result:\n${diffText}`);
        assert.doesNotMatch(diffText, /::apart\]/, "apart reads nothing and is not listed");
        // The changed param, and the readers' param that is unknown until first runs again.
        assert.match(diffText, new RegExp(`~ UPGRADE_PARAM_projectDir: "${dirs.a}" => "${dirs.b}"`), diffText);
        assert.equal([...diffText.matchAll(/~ UPGRADE_PARAM_seenStd: "1\.0\.0" => \[unknown\]/g)].length, 2,
            `second and third read an unknown seenStd:\n${diffText}`);

        const updated = await stack.up();
        const changed = commandOps(updated).filter(s => s.op !== "same").map(s => `${s.op} ${s.name}`).sort();
        assert.deepEqual(changed, planned, "up changes exactly what the preview listed");
        const state = await stack.stateResources("command:local:Command");
        const seen = (name: string) => (state.find(r => r.urn.endsWith(`::${name}`))?.inputs?.environment as Record<string, unknown>)?.UPGRADE_PARAM_seenStd;
        assert.deepEqual([seen("second"), seen("third")], ["2.0.0", "2.0.0"], "the readers ran with first's new result");
    });
});
