import { strict as assert } from "assert";
import { execFileSync, spawn } from "child_process";
import { randomUUID } from "crypto";
import * as fs from "fs";
import * as path from "path";
import { Readable } from "stream";
import { runStep } from "../../cli/step/main";
import { runnerEnvironment } from "../../components/core/step-env";
import { InvalidSettingValueError, UnknownSettingError } from "../../components/inmanta/client";
import { INMANTA_LINES, LabCopy, makeLabCopy } from "../support/lab-copy";
import { environmentHalted, get, labStackBase, removeAfter, resourceActions, settings, sleep } from "./server-checks";

/**
 * The emergency stop and the environment settings against the real Inmanta server of a lab copy
 * (an empty environment: nothing needs to be deployed for these), on each inmanta-core line.
 * The settings removed in 15.0 (push_on_auto_deploy, agent_trigger_method_on_auto_deploy, ...): inmanta-core
 * src/inmanta/data/__init__.py (Environment._settings), as a real 20.1.0 server lists them in
 * shared/notes/inmanta-20.md. How long the halt takes is a benchmark figure (`npm run bench -- inmanta`).
 */

/** A setting that only servers with the commercial LSM extension define: this server lacks it. */
const MISSING = "lsm_partial_compile";

for (const line of INMANTA_LINES) describe(`lab (inmanta-core ${line}): emergency stop and setting definitions on the real server`, function () {
    this.timeout(20 * 60 * 1000);
    const v14 = line.startsWith("14.");
    let lab: LabCopy;
    let env: string;

    before(async () => {
        lab = await makeLabCopy(undefined, { inmantaVersion: line });
        env = randomUUID();
        lab.writeStack("server", { procedure: "lsm-install", target: "release-a", ...labStackBase(lab, env),
            lsm: { instanceUpdatesExpected: false } });
        const setup = lab.tryLab(["--stack", "server", "--setup-only"]);
        assert.equal(setup.status, 0, setup.output);
    });
    removeAfter(() => lab);

    /** `node bin/emergency.js <action> --stack server` in the copy; resolves when it exited and the server shows the change. */
    async function emergency(action: "halt" | "resume"): Promise<{ seen: boolean; code: number; output: string }> {
        const child = spawn("node", [path.join("bin", "emergency.js"), action, "--stack", "server"], { cwd: lab.dir, env: lab.env });
        let output = "";
        child.stdout.on("data", d => (output += d));
        child.stderr.on("data", d => (output += d));
        const code = await new Promise<number>(resolve => child.on("close", c => resolve(c ?? 1)));
        // generous: a loaded machine must not fail this (the time is the benchmark's business)
        let seen = false;
        for (const until = Date.now() + 120_000; !seen && Date.now() < until; await sleep(100)) {
            seen = (await environmentHalted(lab.url, env)) === (action === "halt");
        }
        return { seen, code, output };
    }

    it("npm run halt halts the real environment (the server says halted, every agent paused, no deploy after it); resume resumes it", async () => {
        assert.equal(await environmentHalted(lab.url, env), false);
        const halt = await emergency("halt");
        assert.equal(halt.code, 0, halt.output);
        assert.equal(halt.seen, true, `the server does not say halted\n${halt.output}`);
        assert.match(halt.output, new RegExp(`halted environment ${env} on ${lab.url} \\(stack server\\)`));
        const haltedAt = Date.now();
        const agents = await get<{ data: { name: string; paused: boolean }[] }>(lab.url, env, "/api/v2/agents");
        assert.ok(agents.data.every(a => a.paused), `every agent paused while halted: ${JSON.stringify(agents.data)}`);
        // a deploy request is refused (20.x: 409 "is halted"; 14.x: no agent can be reached) and no agent deploys
        const deploy = await fetch(`${lab.url}/api/v1/deploy`, { method: "POST", headers: { "X-Inmanta-tid": env, "Content-Type": "application/json" },
            body: JSON.stringify({ agent_trigger_method: "push_full_deploy" }) });
        assert.notEqual(deploy.status, 200, await deploy.text());
        await sleep(2000);
        assert.deepEqual((await resourceActions(lab.url, env, { action: "deploy" })).filter(a => a.started >= haltedAt), []);
        const resume = await emergency("resume");
        assert.equal(resume.code, 0, resume.output);
        assert.equal(resume.seen, true, `the server still says halted\n${resume.output}`);
        assert.equal(await environmentHalted(lab.url, env), false);
    });

    /** One step through the step runner, as its command resource runs it, against the lab's server. */
    async function step(kind: string, params: Record<string, unknown>) {
        const logs: string[] = [];
        const stepEnv = { INMANTA_URL: lab.url, INMANTA_ENVIRONMENT: env, INMANTA_TIMEOUT_SECONDS: "60",
            ...runnerEnvironment({ id: `lab-${kind}`, kind, params }) };
        const result = await runStep([kind, `lab-${kind}`], stepEnv, Readable.from([""]), l => logs.push(l));
        return { result, logs };
    }

    if (v14) it("this 14.0.0 server defines push_on_auto_deploy: the optional setting is applied", async () => {
        const defs = await get<{ data: { definition: Record<string, { type: string }> } }>(lab.url, env, "/api/v2/environment_settings");
        assert.equal(defs.data.definition.push_on_auto_deploy.type, "bool");
        assert.ok(!(MISSING in defs.data.definition));
        const { result } = await step("setting", { name: "push_on_auto_deploy", value: false, optional: true });
        assert.deepEqual(result, { name: "push_on_auto_deploy", applied: true, previous: true, value: false });
        assert.equal((await settings(lab.url, env)).push_on_auto_deploy, false);
        await step("setting", { name: "push_on_auto_deploy", value: true, optional: true });
    });

    if (!v14) it("this 20.x server has none of the settings removed in 15.0: each optional step is skipped with the reason", async () => {
        const defs = await get<{ data: { definition: Record<string, unknown> } }>(lab.url, env, "/api/v2/environment_settings");
        for (const gone of ["push_on_auto_deploy", "agent_trigger_method_on_auto_deploy", "environment_agent_trigger_method", "autostart_agent_map"]) {
            assert.ok(!(gone in defs.data.definition), gone);
            const before = await settings(lab.url, env);
            const { result, logs } = await step("setting", { name: gone, value: gone === "push_on_auto_deploy" ? false : "push_full_deploy", optional: true });
            assert.deepEqual(result, { name: gone, applied: false, reason: "not defined by this server" });
            assert.ok(logs.some(l => l.includes(`${gone}: this server has no such setting, not applicable here`)), logs.join("\n"));
            assert.deepEqual(await settings(lab.url, env), before);
        }
        // the server itself answers 404 for them
        const res = await fetch(`${lab.url}/api/v2/environment_settings/push_on_auto_deploy`, { headers: { "X-Inmanta-tid": env } });
        assert.equal(res.status, 404);
    });

    it("an optional setting the server does not define is skipped, with the reason", async () => {
        const before = await settings(lab.url, env);
        const { result, logs } = await step("setting", { name: MISSING, value: true, optional: true });
        assert.deepEqual(result, { name: MISSING, applied: false, reason: "not defined by this server" });
        assert.ok(logs.some(l => l.includes(`${MISSING}: this server has no such setting, not applicable here`)), logs.join("\n"));
        assert.deepEqual(await settings(lab.url, env), before);
    });

    it("a required setting the server does not define fails the step with UnknownSettingError naming it", async () => {
        const before = await settings(lab.url, env);
        await assert.rejects(step("setting", { name: MISSING, value: true, optional: false }), (err: unknown) => {
            assert.ok(err instanceof UnknownSettingError, String(err));
            assert.equal(err.setting, MISSING);
            assert.match(err.message, new RegExp(`POST /api/v2/environment_settings/${MISSING}: environment setting "${MISSING}" is not defined by this Inmanta server`));
            assert.ok(err.knownSettings.includes("auto_deploy") && err.knownSettings.includes("protected_environment"), "the server's own list");
            assert.equal(err.knownSettings.includes("push_on_auto_deploy"), v14, "the server's own list");
            return true;
        });
        // The careful deploy notes settings before changing them: the same error, nothing changed.
        await assert.rejects(step("settings-record", { names: ["autostart_agent_deploy_interval", MISSING] }),
            (err: unknown) => err instanceof UnknownSettingError && err.setting === MISSING);
        // The cross-check of a first deployment names it too.
        await assert.rejects(step("settings-check", { expected: { server_compile: true, [MISSING]: true } }),
            new RegExp(`${MISSING} is not a setting of this server`));
        assert.deepEqual(await settings(lab.url, env), before);
    });

    it("values are checked against the server's definitions before anything is sent", async () => {
        await assert.rejects(step("setting", { name: "auto_deploy", value: "yes" }),
            (err: unknown) => err instanceof InvalidSettingValueError && /expected a boolean/.test(err.message));
        if (!v14) return;
        await assert.rejects(step("setting", { name: "agent_trigger_method_on_auto_deploy", value: "push_everything" }),
            (err: unknown) => err instanceof InvalidSettingValueError
                && /expected one of \[.*push_incremental_deploy.*\], got "push_everything"/.test(err.message) && /push_full_deploy/.test(err.message));
        assert.equal((await settings(lab.url, env)).agent_trigger_method_on_auto_deploy, "push_incremental_deploy");
    });

    // 20.x only: 14.0.0 has no environment_settings in project.yml (its module.py ProjectMetadata lacks the
    // key) and no protected_by in the definitions. 20.1.0: inmanta-core src/inmanta/module.py
    // (ProjectMetadata.environment_settings), answered as in shared/notes/inmanta-20.md (403, protected_by).
    if (!v14) it("a setting fixed in project.yml is protected by the server; the procedure's first step refuses before anything changed", async () => {
        const repo = path.join(lab.inmantaDir, "repo");
        fs.appendFileSync(path.join(repo, "project.yml"), "environment_settings:\n  auto_deploy: false\n");
        execFileSync("git", ["-C", repo, "-c", "user.name=lab", "-c", "user.email=lab@localhost", "-c", "commit.gpgsign=false",
            "commit", "-qam", "auto_deploy fixed in project.yml"]);
        const client = lab.client(env);
        try {
            await client.compile({ update: true, timeoutMs: 10 * 60 * 1000 });
        } finally {
            client.close();
        }
        const defs = await get<{ data: { definition: Record<string, { protected: boolean; protected_by: string | null }> } }>(
            lab.url, env, "/api/v2/environment_settings");
        assert.deepEqual([defs.data.definition.auto_deploy.protected, defs.data.definition.auto_deploy.protected_by], [true, "project.yml"]);
        assert.equal(defs.data.definition.protected_environment.protected, false);
        const before = await settings(lab.url, env);
        // The LSM upgrade's first step, as the procedure builds it: it would set protected_environment, but
        // the procedure also has to turn auto_deploy off and on, which the server would refuse halfway.
        await assert.rejects(step("setting", { name: "protected_environment", value: true, refuseProtected: ["protected_environment", "auto_deploy"] }),
            /this procedure must change auto_deploy \(protected by project\.yml\), which the environment_settings of project\.yml fix: .*nothing was changed/);
        assert.deepEqual(await settings(lab.url, env), before, "nothing changed: protected_environment is still what it was");
        // The server itself answers 403 to the change the procedure would have made later.
        const res = await fetch(`${lab.url}/api/v2/environment_settings/auto_deploy`, { method: "POST",
            headers: { "X-Inmanta-tid": env, "Content-Type": "application/json" }, body: JSON.stringify({ value: true }) });
        assert.equal(res.status, 403, await res.text());
    });
});
