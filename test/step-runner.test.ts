import { strict as assert } from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { Readable } from "stream";
import { changesDigest } from "../components/inmanta/approval";
import { runnerEnvironment } from "../components/core/step-env";
import { runStep } from "../cli/step/main";
import { emergency } from "../cli/emergency";
import { FakeInmanta, FakeInmantaOptions } from "./support/fake-inmanta";
import { careful, load, lsmUpgrade, plainUpgrade, RawConfig } from "./support/configs";
import { walk } from "./support/walker";

let fake: FakeInmanta;
let url: string;
let tmp: string;

async function startFake(opts: FakeInmantaOptions = {}) {
    fake = new FakeInmanta({ environment: "6f1c0e2a-3b4d-4c5e-8f60-718293a4b5c6", ...opts });
    url = await fake.start();
}

const orchestrator = (over: RawConfig = {}) => ({
    url, environment: fake.environment, timeoutSeconds: 30,
    shell: { projectDir: tmp, inmanta: path.join(tmp, "inmanta") }, ...over,
});

/** Runs one step through the runner, as its command resource would. */
function step(kind: string, params: Record<string, unknown>, stdin = "") {
    const logs: string[] = [];
    const env = { INMANTA_URL: url, INMANTA_ENVIRONMENT: fake.environment, INMANTA_TIMEOUT_SECONDS: "30",
        ...runnerEnvironment({ id: `t-${kind}`, kind, params }) };
    return { logs, result: runStep([kind, `t-${kind}`], env, Readable.from([stdin]), l => logs.push(l)) };
}

/** POSTs to settings, in order, as "name=value". */
function settingPosts(): string[] {
    return fake.requestsTo("POST", /environment_settings\//)
        .map(r => `${r.path.split("/").pop()}=${JSON.stringify((r.body as { value: unknown }).value)}`);
}

beforeEach(() => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), "steps-"));
    // A stand-in for the orchestrator's inmanta CLI: records its arguments, and marks the moment in the fake's request log.
    fs.writeFileSync(path.join(tmp, "inmanta"), `#!/bin/sh\necho "$@" >> ${tmp}/inmanta.log\ncurl -s "$MARK_URL/mark/export" > /dev/null\n`, { mode: 0o755 });
});
afterEach(async () => {
    await fake?.stop();
});

describe("step runner against an Inmanta API server", function () {
    this.timeout(30000);

    it("walks the LSM upgrade: safety first, agents paused around the export, dry run, deploy, automation back on", async () => {
        await startFake({ settings: { protected_environment: false } });
        const nb = path.join(tmp, "northbound.log");
        const c = load(lsmUpgrade({
            orchestrator: orchestrator(), lsm: { instanceUpdatesExpected: false }, database: undefined,
            northbound: { block: { command: `echo block >> ${nb}` }, unblock: { command: `echo unblock >> ${nb}` } },
        }));
        const w = await walk(c, { MARK_URL: url });
        assert.equal(w.failed, undefined, w.failed?.error.message);
        assert.deepEqual(settingPosts(), ["protected_environment=true", "auto_deploy=false", "auto_deploy=true"]);
        const calls = fake.callSequence().filter(c => c.startsWith("POST") || c.includes("/mark/"));
        const at = (re: RegExp) => calls.findIndex(c => re.test(c));
        const last = (re: RegExp) => calls.length - 1 - [...calls].reverse().findIndex(c => re.test(c));
        assert.ok(at(/agents\/pause/) >= 0 && at(/agents\/pause/) < at(/mark\/export/), calls.join("\n"));
        assert.ok(at(/mark\/export/) < at(/agents\/unpause/));
        assert.ok(at(/agents\/unpause/) < last(/POST \/api\/v2\/dryrun\/\d+$/), "the upgrade's dry run runs with the agents back");
        assert.ok(last(/POST \/api\/v2\/dryrun\/\d+$/) < at(/POST \/api\/v1\/version\/\d+$/));
        const updates = fake.compiles.map(x => x.force_update);
        assert.deepEqual(updates, [false, true, false], "recompile, update & recompile, recompile after the export");
        const deployed = w.results["upgrade-deploy"].version as number;
        assert.equal(deployed, w.results["upgrade-recompile"].version);
        assert.equal(fake.version(deployed)!.result, "success");
        assert.equal(fake.settingValue("auto_deploy"), true);
        assert.deepEqual(fs.readFileSync(nb, "utf8").trim().split("\n"), ["block", "unblock"]);
        assert.match(fs.readFileSync(path.join(tmp, "inmanta.log"), "utf8"),
            new RegExp(`^-vvv -X export -j /dev/null -e ${fake.environment} -f loader.cf --export-plugin service_entities_exporter_strict$`, "m"));
        for (const agent of fake.agentNames()) assert.equal(fake.isAgentPaused(agent), false);
    });

    it("stops at a failed compile: nothing after it runs, auto_deploy stays off", async () => {
        await startFake();
        fake.compileBehavior.success = false;
        const w = await walk(load(plainUpgrade({ orchestrator: orchestrator() })), {});
        assert.equal(w.failed?.id, "pre-recompile");
        assert.match(w.failed!.error.message, /Could not find type std::Missing/);
        assert.deepEqual(w.ran, ["pre-protected-environment", "pre-auto-deploy-off"]);
        assert.equal(fake.settingValue("auto_deploy"), false);
        assert.equal(fake.requestsTo("POST", /\/api\/v1\/version\//).length, 0);
    });

    it("holds the deploy at the approval gate until the dry run's digest is approved", async () => {
        await startFake();
        const change = { resourceId: "std::File[agent1,path=/etc/app/app.conf]", status: "modified" as const,
            attributes: { content: { from: "port=8080\n", to: "port=9090\n" } } };
        fake.dryrunBehavior.changes = [change];
        const first = await walk(load(plainUpgrade({ orchestrator: orchestrator(), preUpgradeDryrun: false })), {});
        assert.equal(first.failed?.id, "upgrade-approval");
        const digest = changesDigest([change]);
        assert.ok(first.failed!.error.message.includes(digest), first.failed!.error.message);
        assert.ok(first.failed!.error.message.includes("std::File[agent1,path=/etc/app/app.conf]"));
        assert.equal(fake.requestsTo("POST", /\/api\/v1\/version\//).length, 0, "no deploy");
        assert.equal(fake.settingValue("auto_deploy"), false);

        const second = await walk(load(plainUpgrade({ orchestrator: orchestrator(), preUpgradeDryrun: false, approval: { digests: [digest] } })), {});
        assert.equal(second.failed, undefined, second.failed?.error.message);
        assert.equal(second.results["upgrade-approval"].reason, "digest");
        assert.equal(fake.requestsTo("POST", /\/api\/v1\/version\//).length, 1);
    });

    it("restores the careful deploy's settings to what they were, agent by agent in between", async () => {
        await startFake({ settings: { autostart_agent_deploy_interval: "300", autostart_agent_repair_interval: "*/10 * * * *", auto_deploy: false } });
        const w = await walk(load(careful({
            orchestrator: orchestrator({ agents: ["internal", "agent1", "agent2"] }),
            careful: { internalAgent: "internal", agents: ["agent1", "agent2"] },
        })), {});
        assert.equal(w.failed, undefined, w.failed?.error.message);
        assert.deepEqual(settingPosts(), [
            "protected_environment=true",
            "autostart_agent_deploy_interval=\"0\"", "autostart_agent_repair_interval=\"0\"",
            "auto_deploy=true", "push_on_auto_deploy=false",
            "agent_trigger_method_on_auto_deploy=\"push_incremental_deploy\"", "auto_deploy=true", "push_on_auto_deploy=true",
            "server_compile=true",
            "autostart_agent_deploy_interval=\"300\"", "autostart_agent_repair_interval=\"*/10 * * * *\"",
        ]);
        const deploys = fake.requestsTo("POST", "/api/v1/deploy").map(r => (r.body as { agents: string[]; agent_trigger_method: string }));
        assert.deepEqual(deploys.map(d => d.agents), [["internal"], ["agent1"], ["agent2"]]);
        assert.ok(deploys.every(d => d.agent_trigger_method === "push_full_deploy"), "force repair");
        // the 15+ steps have no meaning on 14.x: each ran, said why, and changed nothing (no halt, no unpause)
        for (const id of ["careful-candidate-auto-deploy-off", "careful-release-held", "careful-deploy-internal-after-release"]) {
            assert.deepEqual([w.results[id].skipped, w.results[id].server], [true, "14.0.0"], id);
        }
        assert.deepEqual(fake.requestsTo("POST", /halt|resume|keep_paused|unpause/), []);
    });

    it("skips a setting this server does not have, and says so", async () => {
        await startFake({ flavor: "15" });
        const s = step("setting", { name: "push_on_auto_deploy", value: true, optional: true });
        assert.deepEqual(await s.result, { name: "push_on_auto_deploy", applied: false, reason: "not defined by this server" });
        assert.ok(s.logs.some(l => /no such setting/.test(l)));
        assert.equal(fake.requestsTo("POST").length, 0);
        const required = step("setting", { name: "push_on_auto_deploy", value: true, optional: false });
        await assert.rejects(required.result, /push_on_auto_deploy/);
    });

    // A setting fixed in project.yml is refused by the server (403; inmanta-core
    // src/inmanta/server/services/environmentservice.py): the procedure's first step refuses to start.
    it("refuses to start when a setting the procedure changes is fixed in project.yml, before anything changed", async () => {
        for (const flavor of ["14", "20"] as const) {
            await fake?.stop();
            await startFake({ flavor, protectedSettings: ["auto_deploy"], settings: { protected_environment: false } });
            const s = step("setting", { name: "protected_environment", value: true, optional: false, refuseProtected: ["protected_environment", "auto_deploy"] });
            await assert.rejects(s.result, /this procedure must change auto_deploy \(protected by project\.yml\), which the environment_settings of project\.yml fix.*nothing was changed/s);
            assert.deepEqual(fake.requestsTo("POST"), [], flavor);
            assert.equal(fake.settingValue("protected_environment"), false);
        }
    });

    it("a setting the procedure depends on that the server lacks stops the first step, before anything changed", async () => {
        await startFake({ flavor: "20", settings: { protected_environment: false } });
        const s = step("setting", { name: "protected_environment", value: true, optional: false,
            requireSettings: { push_on_auto_deploy: "holds the version back" }, refuseProtected: ["protected_environment"] });
        await assert.rejects(s.result, /depends on push_on_auto_deploy \(holds the version back\), which inmanta-core 20\.1\.0 does not have \(removed in 15\.0\); nothing was changed/);
        assert.deepEqual(fake.requestsTo("POST"), []);
        await fake.stop();
        await startFake({ flavor: "14", settings: { protected_environment: false } });
        const ok = step("setting", { name: "protected_environment", value: true, optional: false, requireSettings: { push_on_auto_deploy: "x" } });
        assert.equal((await ok.result).applied, true);
    });

    // 15+ has no push_on_auto_deploy and a release deploys at once; a paused agent of 20.1.0 still runs one task
    // queued after its pause (shared/notes/inmanta-20.md). The careful deploy keeps the version a candidate, and
    // after the approval halts, keeps every agent paused on resume, resumes, releases, then unpauses agent by agent.
    it("the careful deploy on 20.x: a candidate until the approval, released held, each agent unpaused in its turn", async () => {
        await startFake({ flavor: "20", initialVersion: false,
            settings: { autostart_agent_deploy_interval: "300", autostart_agent_repair_interval: "*/10 * * * *", protected_environment: false } });
        const w = await walk(load(careful({
            orchestrator: orchestrator({ agents: ["internal", "agent1", "agent2"] }),
            careful: { internalAgent: "internal", agents: ["agent1", "agent2"] },
            approval: { allow: [{ resource: "std::*", status: ["added"] }] },
        })), {});
        assert.equal(w.failed, undefined, w.failed?.error.message);
        assert.deepEqual(settingPosts(), [
            "protected_environment=true",
            "autostart_agent_deploy_interval=\"0\"", "autostart_agent_repair_interval=\"0\"",
            "auto_deploy=false",
            "auto_deploy=true", "server_compile=true",
            "autostart_agent_deploy_interval=\"300\"", "autostart_agent_repair_interval=\"*/10 * * * *\"",
        ]);
        const version = w.results["careful-compile"].version as number;
        // what changed the server's state after the compile, in order: the dry run, then the hold, the release, the turns
        const calls = fake.requests.filter(r => r.method === "POST" && !/environment_settings|notify/.test(r.path)).map(r => r.path);
        assert.deepEqual(calls, [
            `/api/v2/dryrun/${version}`,
            "/api/v2/actions/environment/halt", "/api/v2/agents/keep_paused_on_resume", "/api/v2/actions/environment/resume",
            `/api/v1/version/${version}`,
            "/api/v2/agent/agent1/unpause", "/api/v1/deploy",
            "/api/v2/agent/agent2/unpause", "/api/v1/deploy",
        ]);
        for (const id of ["careful-auto-deploy-on", "careful-deploy-internal"]) {
            assert.deepEqual([w.results[id].skipped, w.results[id].server], [true, "20.1.0"], id);
        }
        // 20.x has no internal agent (the fake, as the notes: std::AgentConfig is not exported)
        assert.equal(w.results["careful-deploy-internal-after-release"].skipped, true);
        assert.match(w.results["careful-deploy-internal-after-release"].reason as string, /no agent internal/);
        assert.deepEqual(w.results["careful-release-held"].held, [{ name: "agent1", paused: true }, { name: "agent2", paused: true }]);
        // no deploy of an agent before its unpause: every deploy action started after that agent's turn began
        const turns: Record<string, number> = {
            agent1: Date.parse(w.results["careful-deploy-agent1"].unpausedAt as string),
            agent2: Date.parse(w.results["careful-deploy-agent2"].unpausedAt as string),
        };
        assert.ok(turns.agent1 < turns.agent2);
        const deploys = fake.resourceActions.filter(a => a.action === "deploy");
        assert.deepEqual([...new Set(deploys.map(a => a.agent))], ["agent1", "agent2"]);
        for (const a of deploys) assert.ok(Date.parse(a.started) >= turns[a.agent], `${a.agent} deployed before its turn`);
        assert.ok(deploys.filter(a => a.agent === "agent1").every(a => Date.parse(a.finished!) <= turns.agent2), "agent1 finished before agent2's turn");
        assert.equal(fake.isHalted, false);
        assert.deepEqual(fake.agentNames().map(a => [a, fake.isAgentPaused(a)]), [["agent1", false], ["agent2", false]]);
        assert.equal(fake.desiredStateStatus(version), "active");
    });

    it("the careful deploy on 20.x refuses to release a version with an agent it does not list, before the hold", async () => {
        await startFake({ flavor: "20", initialVersion: false });
        const w = await walk(load(careful({
            orchestrator: orchestrator({ agents: ["internal", "agent1", "agent2"] }),
            careful: { internalAgent: "internal", agents: ["agent1"] },
            approval: { allow: [{ resource: "std::*", status: ["added"] }] },
        })), {});
        assert.equal(w.failed?.id, "careful-release-held");
        assert.match(w.failed!.error.message, /has resources of agent\(s\) agent2 that the careful deploy does not list .*nothing was changed/);
        assert.deepEqual(fake.requestsTo("POST", /halt|resume|keep_paused|\/api\/v1\/version\/|unpause|\/api\/v1\/deploy/), []);
        assert.equal(fake.isHalted, false);
    });

    it("a careful deploy's agent turn run again (after a failed repair) finds its agent unpaused: it says so and repairs", async () => {
        await startFake({ flavor: "20" });
        fake.clearRequests();
        const s = step("deploy", { agent: "agent1", repair: true, version: 1, unpause: true });
        const r = await s.result;
        assert.equal(r.unpausedAt, undefined);
        assert.ok(s.logs.some(l => /agent agent1 is not paused any more \(an earlier attempt of this step, or by hand\): force repair only/.test(l)), s.logs.join("\n"));
        assert.deepEqual(fake.requestsTo("POST").map(q => q.path), ["/api/v1/deploy"]);
        assert.deepEqual((r.deployed as string[]).sort(), ["std::File[agent1,path=/etc/app/app.conf]", "std::Service[agent1,name=app]"]);
    });

    it("the careful deploy's held release refuses to resume an emergency stop: a halted environment stays halted, nothing released", async () => {
        await startFake({ flavor: "20", settings: { auto_deploy: false } });
        const { version } = await step("compile", { update: false, expectNoDeploy: true }).result as { version: number };
        await (await fetch(`${url}/api/v2/actions/environment/halt`, { method: "POST", headers: { "X-Inmanta-tid": fake.environment } })).text();
        fake.clearRequests();
        await assert.rejects(step("release-held", { version, agents: ["agent1", "agent2"] }).result,
            /the environment is halted \(emergency stop\): resume it \(npm run resume\) first; nothing was changed/);
        assert.deepEqual(fake.requestsTo("POST"), []);
        assert.equal(fake.isHalted, true);
        assert.equal(fake.desiredStateStatus(version), "candidate");
    });

    it("on 20.x a dry run of a halted environment fails its step saying so (the server answers 409)", async () => {
        await startFake({ flavor: "20" });
        await step("agents-pause", {}).result;
        fake.clearRequests();
        await (await fetch(`${url}/api/v2/actions/environment/halt`, { method: "POST", headers: { "X-Inmanta-tid": fake.environment } })).text();
        await assert.rejects(step("dryrun", { version: 1 }).result,
            /the environment is halted \(emergency stop\): resume it \(npm run resume\) before the dry run; POST \/api\/v2\/dryrun\/1.*409.*is halted/s);
    });

    it("on 20.x a deploy in which a resource fails fails its step naming the resource", async () => {
        await startFake({ flavor: "20", settings: { auto_deploy: false }, schedulerLagMs: 300 });
        fake.deployBehavior.failures = ["std::File[agent2,path=/etc/motd]"];
        fake.compileBehavior.resources = [{ id: "std::File[agent2,path=/etc/motd]", attributes: { content: "changed\n" } }];
        const version = (await step("compile", { update: false, expectNoDeploy: true }).result).version as number;
        await assert.rejects(step("deploy", { version }).result, /1 failed resource\(s\): std::File\[agent2,path=\/etc\/motd\]/);
        await assert.rejects(step("health-check", {}).result, /not healthy: 1 resource\(s\) failed: std::File\[agent2,path=\/etc\/motd\]/);
    });

    it("fails a compile that would start a deploy on its own (auto_deploy still on)", async () => {
        await startFake({ settings: { auto_deploy: true } });
        await assert.rejects(step("compile", { update: false, expectNoDeploy: true }).result, /started to deploy on its own/);
    });

    it("fails the health check when the deployed version has failed resources, naming them", async () => {
        await startFake({ settings: { auto_deploy: false } });
        fake.deployBehavior.failures = ["std::File[agent2,path=/etc/motd]"];
        // The new version changes the file, so the incremental deploy touches it (and fails on it).
        fake.compileBehavior.resources = [{ id: "std::File[agent2,path=/etc/motd]", attributes: { content: "changed\n" } }];
        const version = (await step("compile", { update: false, expectNoDeploy: true }).result).version as number;
        await assert.rejects(step("deploy", { version }).result, /1 failed resource\(s\): std::File\[agent2,path=\/etc\/motd\]/);
        await assert.rejects(step("health-check", {}).result, /not healthy: 1 resource\(s\) failed: std::File\[agent2,path=\/etc\/motd\]/);
    });

    it("halts the environment when the revert's dry run differs from the one before the upgrade", async () => {
        await startFake();
        await assert.rejects(step("dryrun-compare", { digest: "sha256:" + "1".repeat(64), baseline: "sha256:" + "2".repeat(64) }).result, /halted/);
        assert.equal(fake.isHalted, true);
    });

    it("records setting values for a later restore", async () => {
        await startFake({ settings: { autostart_agent_deploy_interval: "120" } });
        const r = await step("settings-record", { names: ["autostart_agent_deploy_interval", "autostart_agent_repair_interval"] }).result;
        assert.deepEqual(r, { values: { autostart_agent_deploy_interval: "120", autostart_agent_repair_interval: "86400" } });
    });

    it("refuses to run with a spec that does not match its command line", async () => {
        await startFake();
        const env = { INMANTA_URL: url, INMANTA_ENVIRONMENT: fake.environment, ...runnerEnvironment({ id: "a", kind: "compile", params: {} }) };
        await assert.rejects(runStep(["deploy", "a"], env, Readable.from([""]), () => undefined), /names step a \(deploy\) but UPGRADE_STEP is "compile a"/);
    });
});

describe("emergency stop", function () {
    this.timeout(20000);

    it("halts and resumes the stack's environment without the engine", async () => {
        await startFake();
        fs.mkdirSync(path.join(tmp, "stacks"));
        fs.writeFileSync(path.join(tmp, "stacks", "Pulumi.site.yaml"),
            `config:\n  upgrade:procedure: upgrade\n  upgrade:target: x\n  upgrade:orchestrator: { url: "${url}", environment: ${fake.environment} }\n`);
        const logs: string[] = [];
        const started = Date.now();
        await emergency("halt", ["--stack", "site", "--root", tmp], {}, l => logs.push(l));
        assert.ok(Date.now() - started < 2000);
        assert.equal(fake.isHalted, true);
        await emergency("resume", ["--stack", "site", "--root", tmp], {}, l => logs.push(l));
        assert.equal(fake.isHalted, false);
        assert.match(logs.join("\n"), /halted environment .* \(stack site\)/);
    });

    it("asks for the token when the stack's token is a secret it cannot decrypt", async () => {
        await startFake({ token: "t0ken" });
        fs.mkdirSync(path.join(tmp, "stacks"));
        fs.writeFileSync(path.join(tmp, "stacks", "Pulumi.site.yaml"),
            `config:\n  upgrade:procedure: upgrade\n  upgrade:target: x\n  upgrade:orchestrator: { url: "${url}", environment: ${fake.environment} }\n  upgrade:inmantaToken:\n    secure: v1:abc:def\n`);
        await assert.rejects(emergency("halt", ["--stack", "site", "--root", tmp], {}, () => undefined), /set INMANTA_TOKEN/);
        await emergency("halt", ["--stack", "site", "--root", tmp], { INMANTA_TOKEN: "t0ken" }, () => undefined);
        assert.equal(fake.isHalted, true);
    });
});
