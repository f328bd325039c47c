import { strict as assert } from "assert";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { runnerEnvironment } from "../../components/core/step-env";
import { buildUnderMocks } from "../support/mocks";
import { load, lsmUpgrade } from "../support/configs";
import { markerDir, ROOT } from "./support";

/**
 * Finding 4: the command provider passes its whole environment to every command, as upstream
 * pulumi-command does (pulumi/pulumi-command provider/pkg/provider/local/commandOutputs.go:
 * `cmd.Env = os.Environ()` plus the `environment` input). So the allow-list is applied by what the
 * step's command goes through: the shell-step launcher (bin/step-shell.js) and the step runner.
 */
const ENGINE_SECRETS = {
    PULUMI_CONFIG_PASSPHRASE: "passphrase-value", PULUMI_ACCESS_TOKEN: "pul-token", PULUMI_BACKEND_URL: "file:///state",
    GITHUB_TOKEN: "ghs_token", ACTIONS_RUNTIME_TOKEN: "actions-token", SOME_OTHER_VAR: "other",
};

function envLines(text: string): Record<string, string> {
    return Object.fromEntries(text.split("\0").filter(Boolean).map(l => [l.slice(0, l.indexOf("=")), l.slice(l.indexOf("=") + 1)]));
}

describe("security: a step's environment is an allow-list (finding 4)", () => {
    it("a local shell step's command sees the basics and its own variables, not the engine's secrets", () => {
        const r = spawnSync("node", ["bin/step-shell.js", "env -0"], {
            cwd: ROOT, encoding: "utf8",
            env: { ...process.env, ...ENGINE_SECRETS, UPGRADE_STEP_KEEP: "MY_STEP_SECRET,PULUMI_ACCESS_TOKEN", MY_STEP_SECRET: "s3cret" },
        });
        assert.equal(r.status, 0, r.stderr);
        const env = envLines(r.stdout);
        for (const name of Object.keys(ENGINE_SECRETS)) assert.equal(env[name], undefined, `${name} reached the step`);
        assert.equal(env.MY_STEP_SECRET, "s3cret");
        assert.ok(env.PATH.includes(`${ROOT}/node_modules/.bin`), env.PATH);
        assert.ok(!Object.values(env).some(v => v.includes("passphrase-value") || v.includes("pul-token")));
    });

    it("the exit status of the command is the launcher's", () => {
        const r = spawnSync("node", ["bin/step-shell.js", "exit 7"], { cwd: ROOT, encoding: "utf8" });
        assert.equal(r.status, 7);
    });

    it("the programs the step runner starts (pg_dump here) see no PULUMI_* nor CI token", () => {
        const dir = markerDir();
        const bin = path.join(dir, "bin");
        fs.mkdirSync(bin);
        // A stand-in pg_dump that records its environment, then fails (the step fails; we only look).
        fs.writeFileSync(path.join(bin, "pg_dump"), `#!/bin/sh\nenv -0 > ${dir}/pg_dump.env\nexit 3\n`, { mode: 0o755 });
        const params = { host: "127.0.0.1", port: 5432, database: "inmanta", user: "postgres", tables: ["t"], dir: path.join(dir, "b") };
        const r = spawnSync("node", ["bin/step.js", "db-backup", "b1"], {
            cwd: ROOT, encoding: "utf8",
            env: {
                ...process.env, ...ENGINE_SECRETS, PATH: `${bin}:${process.env.PATH}`, PGPASSWORD: "db-secret",
                UPGRADE_STEP_KEEP: "PGPASSWORD,UPGRADE_STEP", ...runnerEnvironment({ id: "b1", kind: "db-backup", params }),
            },
        });
        assert.notEqual(r.status, 0);
        const env = envLines(fs.readFileSync(path.join(dir, "pg_dump.env"), "utf8"));
        for (const name of Object.keys(ENGINE_SECRETS)) assert.equal(env[name], undefined, `${name} reached pg_dump`);
        assert.equal(env.PGPASSWORD, "db-secret");
        // The step's params are the runner's: what it starts sees none of them, but the step did read them.
        assert.deepEqual(Object.keys(env).filter(n => n.startsWith("UPGRADE_PARAM_")), []);
        assert.equal(env.PGHOST ?? "127.0.0.1", "127.0.0.1");
        assert.match(r.stderr, /pg_dump/);
    });

    it("every local command of a procedure goes through the launcher or the runner and names its own variables", async () => {
        const run = await buildUnderMocks(load(lsmUpgrade({ inmantaToken: "tok" }), ["inmantaToken"]), { preview: true });
        const local = run.registrations.filter(r => r.type === "command:local:Command");
        assert.ok(local.length > 5);
        for (const c of local) {
            const runner = String(c.inputs.create).startsWith("node bin/step.js ");
            if (!runner) assert.deepEqual(c.inputs.interpreter, ["node", "bin/step-shell.js"], c.name);
            const declared = c.inputs.environment as Record<string, unknown>;
            const env = (declared && "value" in declared ? declared.value : declared) as Record<string, string>;
            const keep = String(env.UPGRADE_STEP_KEEP).split(",");
            // The params are the runner's own (never handed on), so they are not among the names kept.
            assert.deepEqual(keep, Object.keys(env).filter(k => k !== "UPGRADE_STEP_KEEP" && !k.startsWith("UPGRADE_PARAM_")).sort(), c.name);
        }
    });
});
