import { strict as assert } from "assert";
import { execFileSync, spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { readStackFile } from "../cli/stack-config";
import { installMocks, settle } from "./support/mocks";

const ROOT = path.join(__dirname, "..");
const EXAMPLES = ["lsm-upgrade", "plain-upgrade", "lsm-install", "careful-deploy", "release", "spinalstack", "lsst-summit", "lsst-tts"];

function plan(args: string[], cwd = ROOT) {
    return spawnSync(process.execPath, [path.join(ROOT, "bin/plan.js"), ...args], { cwd, encoding: "utf8" });
}

interface PlanJson {
    stack: string;
    procedure: string;
    steps: { id: string; kind: string; title: string; params: Record<string, unknown>; dependsOn: string[] }[];
}

describe("plan", function () {
    this.timeout(60000);

    for (const stack of EXAMPLES) {
        it(`${stack}: prints the procedure as JSON, in a valid execution order, the same steps the program registers`, async () => {
            const r = plan(["--stack", stack, "--format", "json"]);
            assert.equal(r.status, 0, r.stderr);
            const p = JSON.parse(r.stdout) as PlanJson;
            assert.equal(p.stack, stack);
            assert.ok(p.steps.length >= 5);
            const seen = new Set<string>();
            for (const s of p.steps) {
                assert.deepEqual(Object.keys(s), ["id", "kind", "title", "params", "dependsOn"]);
                for (const d of s.dependsOn) assert.ok(seen.has(d), `${s.id} depends on ${d}, which must come first`);
                seen.add(s.id);
            }
            // The real entry point, under mocks with this stack's configuration, registers exactly these steps.
            const file = readStackFile(stack, ROOT);
            const run = await installMocks({ preview: true, stack });
            pulumi.runtime.setAllConfig(file.config, file.secretKeys);
            const entry = require.resolve("../index");
            delete require.cache[entry];
            require(entry);
            await settle(run);
            const registered = run.registrations.filter(x => x.type.startsWith("command:")).map(x => x.name);
            assert.deepEqual([...registered].sort(), p.steps.map(s => s.id).sort());
        });
    }

    it("prints a markdown checklist and a mermaid graph", () => {
        const md = plan(["--stack", "careful-deploy"]);
        assert.equal(md.status, 0, md.stderr);
        assert.match(md.stdout, /^# careful-deploy — stack `careful-deploy`/);
        assert.match(md.stdout, /\n1\. \[ \] Verify that environment safety settings are on/);
        assert.match(md.stdout, /`careful-deploy-core-switch` \*deploy\*/);
        const mm = plan(["--stack", "careful-deploy", "--format", "mermaid"]);
        assert.equal(mm.status, 0, mm.stderr);
        assert.match(mm.stdout, /^flowchart TD\n/);
        assert.match(mm.stdout, /s_careful_compile --> s_careful_deploy_internal/);
    });

    it("exits non-zero and lists every problem with its path for a bad stack", () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "plan-"));
        fs.mkdirSync(path.join(dir, "stacks"));
        fs.writeFileSync(path.join(dir, "stacks", "Pulumi.bad.yaml"), [
            "config:",
            "  upgrade:procedure: lsm-upgrade",
            "  upgrade:target: x",
            "  upgrade:orchestrator: { url: 'http://h:8888', environment: not-a-uuid }",
            "  upgrade:lsm: { instanceUpdatesExpected: true, backup: false }",
            "",
        ].join("\n"));
        const r = plan(["--stack", "bad"], dir);
        assert.equal(r.status, 2);
        assert.match(r.stderr, /stacks\/Pulumi\.bad\.yaml: \d+ configuration problems/);
        assert.match(r.stderr, /upgrade:orchestrator\.environment: must be an environment id \(a UUID\)/);
        assert.match(r.stderr, /upgrade:lsm\.backup: cannot be false/);
        assert.match(r.stderr, /upgrade:northbound: is required/);
        assert.equal(r.stdout, "");
        const missing = plan(["--stack", "nope"]);
        assert.equal(missing.status, 1);
        assert.match(missing.stderr, /no stack "nope".*stacks: .*lsm-upgrade/);
    });

    it("prints a large plan whole through a pipe (careful deploy with 300 agents)", () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "plan-"));
        fs.mkdirSync(path.join(dir, "stacks"));
        const agents = Array.from({ length: 300 }, (_, i) => `agent-${i}`);
        fs.writeFileSync(path.join(dir, "stacks", "Pulumi.big.yaml"), [
            "config:", "  upgrade:procedure: careful-deploy", "  upgrade:target: x",
            "  upgrade:orchestrator: { url: 'http://h:8888', environment: 9d8c7b6a-5f4e-4d3c-8b2a-1f0e9d8c7b6a }",
            `  upgrade:careful: { agents: [${agents.join(", ")}] }`, "",
        ].join("\n"));
        const r = plan(["--stack", "big", "--format", "json"], dir);
        assert.equal(r.status, 0, r.stderr);
        const p = JSON.parse(r.stdout) as PlanJson;
        const deploys = p.steps.filter(s => s.kind === "deploy").map(s => s.params.agent);
        // the internal agent twice: before the dry run (14.x) and first after the held release (15+); each line skips the other
        assert.deepEqual(deploys, ["internal", "internal", ...agents]);
        assert.deepEqual(p.steps.filter(s => s.kind === "deploy").slice(0, 2).map(s => s.id), ["careful-deploy-internal", "careful-deploy-internal-after-release"]);
    });

    it("does not touch anything: no file appears in the project", () => {
        const before = execFileSync("git", ["status", "--porcelain", "--ignored"], { cwd: ROOT, encoding: "utf8" });
        plan(["--stack", "lsm-upgrade", "--format", "json"]);
        const after = execFileSync("git", ["status", "--porcelain", "--ignored"], { cwd: ROOT, encoding: "utf8" });
        assert.equal(after, before);
    });
});
