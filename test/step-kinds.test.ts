import { strict as assert } from "assert";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { runnerEnvironment } from "../components/core/step-env";
import { GROUP_NAMES, GROUPS, handlersOf } from "../cli/step/kinds";

const ROOT = path.join(__dirname, "..");

/** The modules a runner process loaded, by package (project files by folder), once it exits. */
function loadedBy(kind: string, extraEnv: Record<string, string> = {}): { status: number | null; stderr: string; packages: string[] } {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "step-kinds-"));
    const probe = path.join(dir, "probe.js");
    const out = path.join(dir, "loaded.json");
    fs.writeFileSync(probe, `process.on("exit", () => require("fs").writeFileSync(${JSON.stringify(out)}, JSON.stringify(Object.keys(require.cache))));\n`);
    const r = spawnSync(process.execPath, ["--require", probe, "bin/step.js", kind, `k-${kind}`], {
        cwd: ROOT, encoding: "utf8", env: { ...process.env, ...runnerEnvironment({ id: `k-${kind}`, kind, params: {} }), ...extraEnv },
    });
    const files = JSON.parse(fs.readFileSync(out, "utf8")) as string[];
    fs.rmSync(dir, { recursive: true, force: true });
    const packages = [...new Set(files.filter(f => f.includes("/node_modules/")).map(f => {
        const rest = f.split("/node_modules/").pop()!.split("/");
        return rest[0].startsWith("@") ? `${rest[0]}/${rest[1]}` : rest[0];
    }))].sort();
    return { status: r.status, stderr: r.stderr, packages };
}

describe("step runner: each kind loads only its own module", function () {
    this.timeout(60000);

    it("the kind table names exactly the kinds each module handles", async () => {
        for (const g of GROUP_NAMES) {
            assert.deepEqual(Object.keys(await handlersOf(g)).sort(), [...GROUPS[g]].sort(), g);
        }
    });

    it("a setting step loads neither the stack schema (zod) nor a YAML parser", () => {
        const r = loadedBy("setting", {
            INMANTA_URL: "http://127.0.0.1:9", INMANTA_ENVIRONMENT: "00000000-0000-4000-8000-000000000000", UPGRADE_STEP_KEEP: "INMANTA_URL,INMANTA_ENVIRONMENT",
        });
        // It fails (no params, no server): what matters is what it loaded on the way.
        assert.notEqual(r.status, 0);
        assert.match(r.stderr, /parameter "name"/);
        assert.deepEqual(r.packages.filter(p => p === "zod" || p === "yaml"), [], r.packages.join(", "));
    });

    it("an Ansible step loads the YAML parser it needs", () => {
        const r = loadedBy("ansible-step");
        assert.notEqual(r.status, 0);
        assert.ok(r.packages.includes("yaml"), r.packages.join(", "));
    });

    it("an unknown kind is refused naming every known one", () => {
        const r = loadedBy("nonsense");
        assert.equal(r.status, 1);
        assert.match(r.stderr, /unknown step kind "nonsense" \(known: setting, .*survival\)/);
    });
});
