// test-needs: kubernetes-provider
/**
 * The pull-request comment rendered from a real `pulumi preview --diff --policy-pack policy` of each
 * example stack (file backend, temporary copy of the program), as the workflow renders it: the ordered
 * checklist of the plan, the changes since the last run, the pack's verdict, the preview folded away
 * (shortened: each step's params once) and raw.
 *
 * Upstream formats relied on: the diff view prints each resource as "+ <type>: (create)" followed by its
 * "[urn=...]" line, each violation as "<pack>@v<version> [mandatory]  <policy>  (<type>: <name>)"
 * and a "Policy Packs run:" table at the end (pulumi/pulumi pkg/backend/display/diff.go, object_diff.go).
 */
import { strict as assert } from "assert";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { requireEngine } from "../support/engine";

const ROOT = path.join(__dirname, "..", "..");
const POLICY = path.join(ROOT, "policy");
const PROGRAM = ["Pulumi.yaml", "index.ts", "components", "cli", "bin", "tsconfig.json", "package.json", "stacks"];
const EXAMPLES = ["lsm-upgrade", "plain-upgrade", "lsm-install", "careful-deploy", "release", "spinalstack", "lsst-summit", "lsst-tts"];

describe("engine: the pull-request comment of each example stack", function () {
    this.timeout(900000);
    let root: string;
    let project: string;
    let env: NodeJS.ProcessEnv;

    before(() => {
        requireEngine();
        root = fs.mkdtempSync(path.join(os.tmpdir(), "upgrade-pr-comment-"));
        project = path.join(root, "project");
        const home = path.join(root, "home");
        for (const d of [project, home, path.join(root, "state")]) fs.mkdirSync(d, { recursive: true });
        for (const f of PROGRAM) fs.cpSync(path.join(ROOT, f), path.join(project, f), { recursive: true });
        fs.symlinkSync(path.join(ROOT, "node_modules"), path.join(project, "node_modules"), "dir");
        const engineHome = process.env.PULUMI_HOME;
        if (engineHome && fs.existsSync(path.join(engineHome, "plugins"))) fs.symlinkSync(path.join(engineHome, "plugins"), path.join(home, "plugins"), "dir");
        env = {
            ...process.env, PULUMI_HOME: home, PULUMI_BACKEND_URL: `file://${path.join(root, "state")}`, PULUMI_CONFIG_PASSPHRASE: "pr-comment-test",
            PULUMI_SKIP_UPDATE_CHECK: "true", PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true",
        };
    });
    after(() => {
        if (root && !process.env.UPGRADE_KEEP_ENGINE_TMP) fs.rmSync(root, { recursive: true, force: true });
    });

    function run(cmd: string, args: string[]): { status: number | null; stdout: string; stderr: string } {
        const r = spawnSync(cmd, args, { cwd: project, env, encoding: "utf8", maxBuffer: 64 * 1024 * 1024 });
        return { status: r.status, stdout: r.stdout, stderr: r.stderr };
    }

    function comment(stack: string): { text: string; preview: string } {
        const init = run("pulumi", ["stack", "init", stack, "--non-interactive"]);
        assert.ok(init.status === 0 || /already exists/.test(init.stderr), init.stderr);
        const p = run("pulumi", ["preview", "--diff", "--stack", stack, "--policy-pack", POLICY, "--non-interactive"]);
        const preview = `${p.stdout}\n${p.stderr}`;
        const file = path.join(root, `${stack}.preview.txt`);
        fs.writeFileSync(file, preview);
        const c = run(process.execPath, ["bin/pr-comment.js", "--stack", stack, "--preview", file]);
        assert.equal(c.status, 0, c.stderr);
        return { text: c.stdout, preview };
    }

    function plan(stack: string): { id: string; kind: string }[] {
        const r = run(process.execPath, ["bin/plan.js", "--stack", stack, "--format", "json"]);
        assert.equal(r.status, 0, r.stderr);
        return JSON.parse(r.stdout).steps;
    }

    for (const stack of EXAMPLES) {
        it(`${stack}: checklist in the plan's order, no earlier run, verdict passed, short and raw preview folded`, () => {
            const { text, preview } = comment(stack);
            const steps = plan(stack);
            const headings = text.split("\n").filter(l => /^#{2,3} /.test(l));
            assert.deepEqual(headings.map(h => h.replace(/`[^`]*`/g, "`…`").replace(/: .*/, "")), [
                "## Stack `…`", "### What would run", "### Changed since the last run", "### Policy pack",
            ]);
            assert.match(text, new RegExp(`^Policy pack: ✅ passed.* ${steps.length} steps would run, in this order\\.$`, "m"));
            const checklist = text.split("\n").filter(l => /^\d+\. \[ \] /.test(l));
            assert.deepEqual(checklist.map(l => /— `([^`]+)` \*/.exec(l)![1]), steps.map(s => s.id), "the checklist is the plan, in order");
            assert.match(text, /^The stack has not run before: every step is new\.$/m);
            const details = [...text.matchAll(/<details><summary>([^<]+)<\/summary>/g)].map(m => m[1]);
            assert.equal(details.length, 2);
            assert.match(details[0], /^Preview, each step's params once \(\d+ lines\)$/);
            assert.match(details[1], /^Raw preview \(\d+ lines\)$/);
            const short = Number(/\((\d+) lines\)/.exec(details[0])![1]);
            const raw = Number(/\((\d+) lines\)/.exec(details[1])![1]);
            assert.ok(short < raw, `${short} < ${raw}`);
            const shortBody = text.slice(text.indexOf(details[0]), text.indexOf(details[1]));
            assert.doesNotMatch(shortBody, /\[provider=urn:pulumi:/);
            // Each step's params once: a runner step names itself in one line and keeps its params in its
            // environment, with no params in its triggers; a shell step keeps them in triggers only.
            const blocks = preview.split(/^(?=\s*\+ command:(?:local|remote):Command: )/m).slice(1);
            assert.equal(blocks.length, steps.length, "one command per step in the preview");
            for (const b of blocks) {
                const id = /::([^\]:]+)\]/.exec(b)![1];
                const step = steps.find(x => x.id === id)!;
                const inEnv = /^\s*UPGRADE_PARAM_\w+\s*:/m.test(b);
                // triggers is the last input the diff prints (sorted by name)
                const triggersAt = b.search(/^\s*triggers\s*: \[/m);
                const inTriggers = triggersAt >= 0 && /^\s*params\s*: \{/m.test(b.slice(triggersAt));
                assert.ok(!(inEnv && inTriggers), `${id}: params in its environment and in its triggers`);
                const named = /^\s*UPGRADE_STEP\s*: (.*)$/m.exec(b);
                if (named) assert.equal(named[1], `"${step.kind} ${id}"`, `${id}: the runner's name of the step, one line`);
            }
        });
    }

    it("unsafe-unprotected: the verdict says refused and the violation is shown", () => {
        const { text } = comment("unsafe-unprotected");
        assert.match(text, /^Policy pack: ❌ \*\*refused\*\*: 1 mandatory violation\. /m);
        const section = text.slice(text.indexOf("### Policy pack"), text.indexOf("<details>"));
        assert.match(section, /upgrade-safety@v0\.1\.0 \[mandatory\]\s+protected-environment-first\s+\(command:local:Command: pre-auto-deploy-off\)/);
        assert.match(section, /no step sets protected_environment = true/);
    });
});
