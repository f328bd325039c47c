// test-needs: kubernetes-provider
/**
 * The policy pack on the real engine: `pulumi preview --policy-pack policy` on a temporary copy of the
 * program (file backend, its own PULUMI_HOME with the engine's plugins linked in). Preview runs no
 * step, so no orchestrator is needed. Needs the repo's engine (`requireEngine` puts it on PATH)
 * and the pack's packages (`npm ci --prefix policy`).
 */
import { strict as assert } from "assert";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { parse, stringify } from "yaml";
import { requireEngine } from "../support/engine";

const ROOT = path.join(__dirname, "..", "..");
const POLICY = path.join(ROOT, "policy");
const PROGRAM = ["Pulumi.yaml", "index.ts", "components", "cli", "bin", "tsconfig.json", "package.json", "stacks"];

interface Preview {
    status: number | null;
    output: string;
    /** "[mandatory] name: message" / "[advisory] name: message" lines of the Policies section. */
    violations: string[];
}

/** The Policies section of the preview output, one entry per violation. */
function violationsOf(output: string): string[] {
    const lines = output.split("\n");
    const out: string[] = [];
    for (let i = 0; i < lines.length; i++) {
        const m = /^\s+- \[(mandatory|advisory)\]\s+(\S+)/.exec(lines[i]);
        // The next line is the policy's description, the one after it the message.
        if (m) out.push(`[${m[1]}] ${m[2]}: ${(lines[i + 2] ?? "").trim()}`);
    }
    return out;
}

/** Remove every `ssh` key: the local command provider has no remote commands. */
function withoutSsh(value: unknown): unknown {
    if (Array.isArray(value)) return value.map(withoutSsh);
    if (value && typeof value === "object") {
        return Object.fromEntries(Object.entries(value).filter(([k]) => k !== "ssh").map(([k, v]) => [k, withoutSsh(v)]));
    }
    return value;
}

describe("engine: policy pack on preview", function () {
    this.timeout(600000);
    let root: string;
    let project: string;
    let env: NodeJS.ProcessEnv;

    before(() => {
        requireEngine();
        if (!fs.existsSync(path.join(POLICY, "node_modules", "@pulumi", "policy"))) {
            throw new Error("the policy pack's packages are missing: run `npm ci --prefix policy` first");
        }
        root = fs.mkdtempSync(path.join(os.tmpdir(), "upgrade-policy-e2e-"));
        project = path.join(root, "project");
        const home = path.join(root, "home");
        for (const d of [project, home, path.join(root, "state")]) fs.mkdirSync(d, { recursive: true });
        for (const f of PROGRAM) fs.cpSync(path.join(ROOT, f), path.join(project, f), { recursive: true });
        fs.symlinkSync(path.join(ROOT, "node_modules"), path.join(project, "node_modules"), "dir");
        // lsm-upgrade runs its export and north-bound commands over SSH; also the same stack with local commands.
        const lsm = parse(fs.readFileSync(path.join(ROOT, "stacks", "Pulumi.lsm-upgrade.yaml"), "utf8")) as unknown;
        fs.writeFileSync(path.join(project, "stacks", "Pulumi.lsm-upgrade-local.yaml"), stringify(withoutSsh(lsm)));
        // Plugins come from the engine's home; stack selection and the like stay in the temp dir.
        const engineHome = process.env.PULUMI_HOME;
        if (engineHome && fs.existsSync(path.join(engineHome, "plugins"))) {
            fs.symlinkSync(path.join(engineHome, "plugins"), path.join(home, "plugins"), "dir");
        }
        env = {
            ...process.env,
            PULUMI_HOME: home,
            PULUMI_BACKEND_URL: `file://${path.join(root, "state")}`,
            PULUMI_CONFIG_PASSPHRASE: "policy-test",
            PULUMI_SKIP_UPDATE_CHECK: "true",
            PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true",
        };
    });

    after(() => {
        if (root && !process.env.UPGRADE_KEEP_ENGINE_TMP) fs.rmSync(root, { recursive: true, force: true });
    });

    // The lab's stack file carries the salt of the lab's passphrase (npm run lab), the others none yet.
    const passphraseOf = (stack: string) => (stack === "lab" ? "upgrade-lab" : "policy-test");

    function pulumi(args: string[], stack?: string): { status: number | null; output: string } {
        const r = spawnSync("pulumi", [...args, "--non-interactive"], {
            cwd: project, env: { ...env, PULUMI_CONFIG_PASSPHRASE: passphraseOf(stack ?? "") }, encoding: "utf8", maxBuffer: 64 * 1024 * 1024,
        });
        return { status: r.status, output: `${r.stdout}\n${r.stderr}` };
    }

    function preview(stack: string, extra: string[] = []): Preview {
        const init = pulumi(["stack", "init", stack], stack);
        assert.ok(init.status === 0 || /already exists/.test(init.output), init.output);
        const r = pulumi(["preview", "--stack", stack, "--policy-pack", POLICY, ...extra], stack);
        return { ...r, violations: violationsOf(r.output) };
    }

    function assertPasses(p: Preview): void {
        assert.match(p.output, /Policies:\s*\n\s*✅ upgrade-safety@v0\.1\.0/, p.output);
        assert.deepEqual(p.violations, []);
        assert.equal(p.status, 0, p.output);
    }

    for (const stack of ["lab", "lsm-upgrade", "plain-upgrade", "lsm-install", "careful-deploy", "release", "lsm-upgrade-local",
        "spinalstack", "lsst-summit", "lsst-tts"]) {
        it(`${stack}: preview passes every policy`, () => assertPasses(preview(stack)));
    }

    it("unsafe-unprotected: preview fails on protected-environment-first", () => {
        const p = preview("unsafe-unprotected");
        assert.notEqual(p.status, 0, p.output);
        assert.deepEqual(p.violations, [
            "[mandatory] protected-environment-first: Environment 2d4e6f80-1a3c-4b5d-8e7f-9a0b1c2d3e4f: no step sets "
            + "protected_environment = true. Add a `setting` step protected_environment = true that every other step acting "
            + "on this environment waits for.",
        ]);
        assert.match(p.output, /command:local:Command: pre-auto-deploy-off/);
    });

    it("reads the policy config file: required settings and production stacks", () => {
        const config = path.join(root, "policy-config.json");
        fs.writeFileSync(config, JSON.stringify({
            "required-settings": { settings: [{ name: "server_compile", value: true }] },
            "restore-path-in-production": { productionStacks: ["plain-*"] },
        }));
        const p = preview("plain-upgrade", ["--policy-pack-config", config]);
        assert.notEqual(p.status, 0, p.output);
        assert.deepEqual(p.violations.map(v => v.split(": ")[0]), ["[mandatory] required-settings", "[advisory] restore-path-in-production"]);
        assert.match(p.violations[0], /no step sets server_compile = true/);
        assert.match(p.violations[1], /Production stack plain-upgrade has no restore path/);
    });

    it("refuses a policy config that does not match the schema", () => {
        const config = path.join(root, "bad-config.json");
        fs.writeFileSync(config, JSON.stringify({ "required-settings": { settings: "server_compile" } }));
        const p = preview("plain-upgrade", ["--policy-pack-config", config]);
        assert.notEqual(p.status, 0);
        assert.match(p.output, /required-settings: settings: Invalid type\. Expected: array, given: string/);
    });
});
