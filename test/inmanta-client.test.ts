import { strict as assert } from "node:assert";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as http from "node:http";
import type { AddressInfo } from "node:net";
import * as os from "node:os";
import * as path from "node:path";

import {
    CompileFailedError,
    DRYRUN_REPORT_POLL_MAX,
    InmantaClient,
    InmantaError,
    InvalidSettingValueError,
    UnknownSettingError,
    WaitTimeoutError,
} from "../components/inmanta/client";
import type { ClientOptions, InmantaConnection } from "../components/inmanta/client";
import { FakeInmanta, FakeInmantaOptions } from "./support/fake-inmanta";

const FILE = "std::File[agent1,path=/etc/app/app.conf]";
const SERVICE = "std::Service[agent1,name=app]";
const MOTD = "std::File[agent2,path=/etc/motd]";
const AGENT_CONFIG = "std::AgentConfig[internal,agentname=agent1]";

/** Detection must happen within one poll interval (1 s) plus this much request/scheduling slack. */

interface Harness {
    fake: FakeInmanta;
    client: InmantaClient;
    logs: string[];
}

const cleanups: Array<() => Promise<void> | void> = [];

async function setup(
    fakeOptions: FakeInmantaOptions = {},
    conn: Partial<InmantaConnection> = {},
    clientOptions: ClientOptions = {},
): Promise<Harness> {
    const fake = new FakeInmanta(fakeOptions);
    const url = await fake.start();
    const logs: string[] = [];
    const client = new InmantaClient(
        { url, environment: fake.environment, retryBaseMs: 20, ...conn },
        { log: (line) => logs.push(line), ...clientOptions },
    );
    cleanups.push(async () => {
        client.close();
        await fake.stop();
    });
    return { fake, client, logs };
}

async function rejection(promise: Promise<unknown>): Promise<Error> {
    try {
        await promise;
    } catch (err) {
        return err as Error;
    }
    assert.fail("expected the call to fail");
}

function randomBetween(min: number, max: number): number {
    return Math.round(min + Math.random() * (max - min));
}

afterEach(async () => {
    while (cleanups.length > 0) {
        await cleanups.pop()!();
    }
});

describe("InmantaClient: environment settings", () => {
    it("reads stored values and falls back to the definition's default", async () => {
        const { client, fake } = await setup({ settings: { server_compile: false } });
        assert.equal(await client.getSetting("server_compile"), false); // stored
        assert.equal(await client.getSetting("auto_deploy"), true); // default
        assert.equal(await client.getSetting("autostart_agent_repair_interval"), "86400");
        assert.ok(!("auto_deploy" in fake.storedSettings));

        const defs = await client.settingDefinitions();
        assert.equal(defs.push_on_auto_deploy.type, "bool");
        assert.deepEqual(defs.agent_trigger_method_on_auto_deploy.allowed_values, ["push_full_deploy", "push_incremental_deploy"]);
    });

    it("sets a setting and reports the previous effective value, then resets it", async () => {
        const { client, fake } = await setup();
        const result = await client.setSetting("auto_deploy", false);
        assert.deepEqual(result, { name: "auto_deploy", previous: true, value: false });
        assert.equal(fake.settingValue("auto_deploy"), false);
        const post = fake.requestsTo("POST", "/api/v2/environment_settings/auto_deploy");
        assert.equal(post.length, 1);
        assert.deepEqual(post[0].body, { value: false });
        assert.equal(post[0].tid, fake.environment);

        await client.resetSetting("auto_deploy");
        assert.equal(fake.requestsTo("DELETE", "/api/v2/environment_settings/auto_deploy").length, 1);
        assert.equal(await client.getSetting("auto_deploy"), true);
    });

    it("refuses an unknown setting with UnknownSettingError and sends no POST", async () => {
        const { client, fake } = await setup();
        const err = await rejection(client.setSetting("auto_deploy_typo", true));
        assert.ok(err instanceof UnknownSettingError, String(err));
        assert.ok(err instanceof InmantaError);
        assert.equal(err.call, "POST /api/v2/environment_settings/auto_deploy_typo");
        assert.match(err.message, /auto_deploy_typo/);
        assert.match(err.message, /agent_trigger_method_on_auto_deploy/); // lists names the server does have
        assert.equal(fake.requestsTo("POST").length, 0);
        await assert.rejects(client.getSetting("nope"), UnknownSettingError);
    });

    it("rejects a value of the wrong type before sending anything", async () => {
        const { client, fake } = await setup();
        const bool = await rejection(client.setSetting("auto_deploy", "false"));
        assert.ok(bool instanceof InvalidSettingValueError, String(bool));
        assert.match(bool.message, /expected a boolean/);

        const enumErr = await rejection(client.setSetting("agent_trigger_method_on_auto_deploy", "push_everything"));
        assert.ok(enumErr instanceof InvalidSettingValueError);
        assert.match(enumErr.message, /push_full_deploy, push_incremental_deploy/);

        await assert.rejects(client.setSetting("available_versions_to_keep", 2.5), InvalidSettingValueError);
        await assert.rejects(client.setSetting("autostart_agent_repair_interval", 0), InvalidSettingValueError);
        await assert.rejects(client.setSetting("autostart_agent_map", "internal"), InvalidSettingValueError);
        assert.equal(fake.requestsTo("POST").length, 0);

        // Right types go through.
        await client.setSetting("autostart_agent_repair_interval", "0");
        await client.setSetting("agent_trigger_method_on_auto_deploy", "push_full_deploy");
        assert.equal(fake.requestsTo("POST").length, 2);
    });

    it("treats push_on_auto_deploy as absent on a 15.x-like server", async () => {
        const v14 = await setup();
        assert.equal(await v14.client.hasSetting("push_on_auto_deploy"), true);

        const v15 = await setup({ flavor: "15" });
        assert.equal(await v15.client.hasSetting("push_on_auto_deploy"), false);
        assert.equal(await v15.client.hasSetting("agent_trigger_method_on_auto_deploy"), false);
        assert.equal(await v15.client.hasSetting("auto_deploy"), true);
        await assert.rejects(v15.client.setSetting("push_on_auto_deploy", false), UnknownSettingError);
        assert.equal(v15.fake.requestsTo("POST").length, 0);
    });

    it("refuses to change a setting protected by project.yml", async () => {
        const { client, fake } = await setup({ protectedSettings: ["auto_deploy"] });
        await assert.rejects(client.setSetting("auto_deploy", false), /protected/);
        assert.equal(fake.requestsTo("POST").length, 0);
    });
});

describe("InmantaClient: agents and halt", () => {
    it("pauses one agent or all agents", async () => {
        const { client, fake } = await setup();
        await client.pauseAgents("agent1");
        assert.equal(fake.isAgentPaused("agent1"), true);
        assert.equal(fake.isAgentPaused("agent2"), false);
        assert.deepEqual(fake.callSequence(), ["POST /api/v2/agent/agent1/pause"]);

        await client.pauseAgents();
        assert.ok(fake.agentNames().every((a) => fake.isAgentPaused(a)));
        await client.unpauseAgents();
        assert.ok(fake.agentNames().every((a) => !fake.isAgentPaused(a)));
        assert.deepEqual(fake.callSequence().slice(1), ["POST /api/v2/agents/pause", "POST /api/v2/agents/unpause"]);
    });

    it("halts and resumes; pausing while halted is refused with the server's reason", async () => {
        const { client, fake } = await setup();
        await client.halt();
        assert.equal(fake.isHalted, true);
        const err = await rejection(client.pauseAgents("agent1"));
        assert.ok(err instanceof InmantaError);
        assert.equal(err.status, 403);
        assert.match(err.message, /POST \/api\/v2\/agent\/agent1\/pause/);
        assert.match(err.message, /halted/);
        assert.equal(fake.requestsTo("POST", "/api/v2/agent/agent1/pause").length, 1);
        await client.resume();
        assert.equal(fake.isHalted, false);
        assert.equal(fake.isAgentPaused("agent1"), false);
    });
});

describe("InmantaClient: compile, versions, dry run", () => {
    it("compiles, waits, and returns the new candidate version when auto_deploy is off", async () => {
        const { client, fake } = await setup({ compile: { durationMs: 300 } });
        await client.setSetting("auto_deploy", false);
        fake.clearRequests();

        const result = await client.compile({ update: true, message: "upgrade to 2.0" });
        assert.equal(result.success, true);
        assert.equal(result.version, 2);
        assert.equal(result.update, true);
        assert.equal(result.message, "upgrade to 2.0");
        assert.equal(fake.compiles.length, 1);
        assert.equal(fake.compiles[0].force_update, true);
        assert.deepEqual(fake.requestsTo("POST")[0].body, { update: true, metadata: { type: "api", message: "upgrade to 2.0" } });

        const seq = fake.callSequence();
        assert.equal(seq[0], "GET /api/v2/compilereport");
        assert.equal(seq[1], `POST /api/v1/notify/${fake.environment}`);
        assert.equal(seq[seq.length - 1], `HEAD /api/v1/notify/${fake.environment}`);

        const latest = await client.latestVersion();
        assert.deepEqual(
            { version: latest?.version, status: latest?.status, released: latest?.released },
            { version: 2, status: "candidate", released: false },
        );
        const versions = await client.versions(5);
        assert.deepEqual(versions.map((v) => [v.version, v.status, v.released]), [
            [2, "candidate", false],
            [1, "active", true],
        ]);
        assert.equal(await client.isCompiling(), false);
    });

    it("auto-deploys the compiled version when auto_deploy is on", async () => {
        const { client, fake } = await setup({ compile: { durationMs: 50 } });
        const result = await client.compile({ update: false });
        assert.equal(fake.compiles[0].force_update, false);
        assert.equal(fake.version(result.version!)?.released, true);
    });

    it("raises CompileFailedError with the compiler's error when the compile fails", async () => {
        const { client } = await setup({ compile: { durationMs: 100, success: false, error: "Could not find type std::Missing in namespace __config__" } });
        const err = await rejection(client.compile({ update: true }));
        assert.ok(err instanceof CompileFailedError, String(err));
        assert.ok(err instanceof InmantaError);
        assert.match(err.message, /Could not find type std::Missing/);
        assert.ok(err.errors.some((e) => e.includes("std::Missing")));
    });

    it("fails fast when the server refuses to compile (server_compile off)", async () => {
        const { client } = await setup({ settings: { server_compile: false } });
        await assert.rejects(client.compile({ update: false, timeoutMs: 60_000 }), /server compile not enabled/);
    });

    it("runs a dry run and reports changes without unmodified resources and without ,v=N", async () => {
        const { client, fake } = await setup({
            dryrun: {
                durationMs: 250,
                versionedIds: true,
                changes: [
                    { resourceId: FILE, status: "modified", attributes: { content: { from: "port=8080\n", to: "port=9090\n" } } },
                    { resourceId: "std::File[agent2,path=/etc/new]", status: "added", attributes: { content: { from: null, to: "x" } } },
                ],
            },
        });
        const report = await client.dryrun(1);
        assert.equal(report.version, 1);
        assert.deepEqual(
            report.changes.map((c) => [c.resourceId, c.status]),
            [
                [FILE, "modified"],
                ["std::File[agent2,path=/etc/new]", "added"],
            ].sort((a, b) => a[0].localeCompare(b[0])),
        );
        assert.deepEqual(report.changes.find((c) => c.resourceId === FILE)?.attributes, {
            content: { from: "port=8080\n", to: "port=9090\n" },
        });
        assert.equal(report.summary.byStatus.unmodified, 3);
        assert.ok(report.changes.every((c) => !/,v=\d+$/.test(c.resourceId)));
        assert.equal(fake.dryruns.length, 1);
    });

    it("dry run of a new model shows what the compile changed; paused agents show up as agent_down", async () => {
        const { client, fake } = await setup({ compile: { durationMs: 50 }, dryrun: { durationMs: 50 } });
        await client.setSetting("auto_deploy", false);
        fake.compileBehavior.resources = [
            { id: AGENT_CONFIG, attributes: { autostart: true, uri: "local:" } },
            { id: FILE, attributes: { content: "port=9090\n", mode: 644, purged: false } },
            { id: SERVICE, attributes: { state: "running", onboot: true } },
            { id: MOTD, attributes: { content: "welcome\n", mode: 644, purged: false } },
        ];
        const { version } = await client.compile({ update: true });
        await client.pauseAgents("agent2");
        const report = await client.dryrun(version!);
        assert.deepEqual(report.changes.map((c) => [c.resourceId, c.status]), [
            [FILE, "modified"],
            [MOTD, "agent_down"],
        ]);
    });

    it("gives up waiting with WaitTimeoutError when the dry run does not finish in time", async () => {
        const { client } = await setup({ dryrun: { durationMs: 5_000 } });
        const started = Date.now();
        const err = await rejection(client.dryrun(1, { timeoutMs: 400 }));
        assert.ok(err instanceof WaitTimeoutError, String(err));
        assert.match(err.message, /timed out after 400 ms waiting for dry run .* of version 1; last state: 4 of 4 resources to go/);
        assert.ok(Date.now() - started < 1500);
    });

    it("deletes a candidate version but not the active one", async () => {
        const { client, fake } = await setup({ compile: { durationMs: 20 } });
        await client.setSetting("auto_deploy", false);
        const { version } = await client.compile({ update: false });
        await client.deleteVersion(version!);
        assert.equal(fake.version(version!), undefined);
        const err = await rejection(client.deleteVersion(1));
        assert.ok(err instanceof InmantaError);
        assert.equal(err.status, 400);
        assert.match(err.message, /DELETE \/api\/v1\/version\/1/);
    });
});

describe("InmantaClient: release, deploy, health", () => {
    it("releases a version and reports the failed resources of its deploy", async () => {
        const { client, fake } = await setup({ compile: { durationMs: 20 }, deploy: { durationMs: 300, failures: [SERVICE] } });
        await client.setSetting("auto_deploy", false);
        fake.compileBehavior.resources = [
            { id: AGENT_CONFIG, attributes: { autostart: true, uri: "local:" } },
            { id: FILE, attributes: { content: "port=9090\n" } },
            { id: SERVICE, attributes: { state: "restarted" } },
            { id: MOTD, attributes: { content: "welcome\n", mode: 644, purged: false } },
        ];
        const { version } = await client.compile({ update: true });
        assert.equal(fake.version(version!)?.released, false);

        await client.release(version!, { agentTriggerMethod: "push_incremental_deploy" });
        const post = fake.requestsTo("POST", `/api/v1/version/${version}`);
        assert.deepEqual(post[0].body, { push: true, agent_trigger_method: "push_incremental_deploy" });

        const result = await client.waitForDeploy(version!, { timeoutMs: 10_000 });
        assert.equal(result.version, version);
        assert.equal(result.result, "failed");
        assert.equal(result.done, result.total);
        assert.equal(result.total, 4);
        assert.deepEqual(result.failed, [SERVICE]);
        assert.equal(result.byStatus.deployed, 3);

        const health = await client.health();
        assert.equal(health.version, version);
        assert.equal(health.healthy, false);
        assert.deepEqual(health.failed, [SERVICE]);
    });

    it("reports a healthy active version", async () => {
        const { client } = await setup();
        const health = await client.health();
        assert.deepEqual({ version: health.version, healthy: health.healthy, failed: health.failed }, { version: 1, healthy: true, failed: [] });
    });

    it("refuses to wait for the deploy of a version that is not released", async () => {
        const { client } = await setup({ compile: { durationMs: 20 } });
        await client.setSetting("auto_deploy", false);
        const { version } = await client.compile({ update: false });
        await assert.rejects(client.waitForDeploy(version!), /not released/);
    });

    it("force-repairs one agent and waits until its resources have been redeployed", async () => {
        const { client, fake } = await setup({ deploy: { durationMs: 300 } });
        const result = await client.deployAgent("agent1", { repair: true, wait: true, timeoutMs: 10_000 });
        const post = fake.requestsTo("POST", "/api/v1/deploy");
        assert.equal(post.length, 1);
        assert.deepEqual(post[0].body, { agent_trigger_method: "push_full_deploy", agents: ["agent1"] });
        assert.deepEqual(result.triggered, ["agent1"]);
        assert.deepEqual(result.settled?.resources, [FILE, SERVICE].sort());
        assert.deepEqual(result.settled?.deployed, [FILE, SERVICE].sort());
        assert.deepEqual(result.settled?.failed, []);
        // agent2 was not touched
        const agent2Actions = fake.resourceActions.filter((a) => a.agent === "agent2");
        assert.equal(agent2Actions.length, 1);
    });

    it("an incremental deploy on an agent with nothing to do settles at once", async () => {
        const { client, fake } = await setup();
        const result = await client.deployAgent("agent2", { repair: false, wait: true, timeoutMs: 5_000 });
        assert.deepEqual(fake.requestsTo("POST", "/api/v1/deploy")[0].body, { agent_trigger_method: "push_incremental_deploy", agents: ["agent2"] });
        assert.deepEqual(result.settled?.resources, [MOTD]);
        assert.deepEqual(result.settled?.failed, []);
    });
});

/*
 * inmanta-core 15.0 and later (20.1.0 here): the fake follows what a real 20.1.0 server answered
 * (shared/notes/inmanta-20.md). Deploy state rules: inmanta-core src/inmanta/deploy/scheduler.py
 * (the scheduler reads a released version some time after the release) and
 * src/inmanta/server/services/resourceservice.py (GET /api/v2/resource rows, deploy_summary).
 */
describe("InmantaClient: both server lines (14.0.0 and 20.1.0)", () => {
    const B = [
        { id: FILE, attributes: { content: "port=9090\n" } },
        { id: SERVICE, attributes: { state: "restarted" } },
        { id: MOTD, attributes: { content: "welcome\n", mode: 644, purged: false } },
    ];

    it("reads the server's version once, from GET /api/v1/serverstatus", async () => {
        for (const [flavor, version, scheduler] of [["14", "14.0.0", false], ["20", "20.1.0", true]] as const) {
            const { client, fake } = await setup({ flavor });
            assert.deepEqual(await client.serverVersion(), { version, major: Number(version.split(".")[0]), scheduler });
            await client.health();
            await client.health();
            assert.equal(fake.requestsTo("GET", "/api/v1/serverstatus").length, 1, flavor);
        }
    });

    it("20.x: waits until the scheduler took the version, then reports the failed resource", async () => {
        const { client, fake } = await setup({ flavor: "20", schedulerLagMs: 600, compile: { durationMs: 20 }, deploy: { durationMs: 300, failures: [SERVICE] } });
        await client.setSetting("auto_deploy", false);
        fake.compileBehavior.resources = B;
        const { version } = await client.compile({ update: true });
        // push: false is ignored by 20.x: the release deploys anyway
        await client.release(version!, { push: false });
        // the trap: right after the release the rows carry the new version with the old states
        const early = (await (await fetch(`${fake.url}/api/v2/resource?deploy_summary=true`, { headers: { "X-Inmanta-tid": fake.environment } })).json()) as
            { data: Array<{ resource_version_id: string; status: string }> };
        assert.deepEqual(early.data.map((r) => [r.resource_version_id.endsWith(`,v=${version}`), r.status]), [[true, "deployed"], [true, "deployed"], [true, "deployed"]]);
        const v1 = (await (await fetch(`${fake.url}/api/v1/version/${version}`, { headers: { "X-Inmanta-tid": fake.environment } })).json()) as { model: Record<string, unknown> };
        assert.equal("deployed" in v1.model || "done" in v1.model || "result" in v1.model, false);

        fake.clearRequests();
        const result = await client.waitForDeploy(version!, { timeoutMs: 10_000 });
        assert.deepEqual({ result: result.result, failed: result.failed, done: result.done, total: result.total, deployed: result.byStatus.deployed },
            { result: "failed", failed: [SERVICE], done: 3, total: 3, deployed: 2 });
        // no resource row was read before the scheduler had the version
        const calls = fake.callSequence().filter((c) => c === "GET /api/v2/scheduler_status" || c === "GET /api/v2/resource");
        const firstRows = calls.indexOf("GET /api/v2/resource");
        assert.ok(firstRows > 1, `scheduler_status polled until taken before the rows: ${calls.join(", ")}`);
        assert.ok(calls.slice(0, firstRows).every((c) => c === "GET /api/v2/scheduler_status"));
        assert.equal(fake.schedulerVersion, version);

        const health = await client.health();
        assert.deepEqual({ version: health.version, healthy: health.healthy, failed: health.failed, deploying: health.deploying },
            { version, healthy: false, failed: [SERVICE], deploying: false });
        assert.equal((await client.latestVersion())?.result, "failed");
    });

    it("20.x: a deploy without failures ends successful; health reports deploying while the scheduler catches up", async () => {
        const { client, fake } = await setup({ flavor: "20", schedulerLagMs: 500, compile: { durationMs: 20 }, deploy: { durationMs: 100 } });
        await client.setSetting("auto_deploy", false);
        fake.compileBehavior.resources = B;
        const { version } = await client.compile({ update: false });
        await client.release(version!);
        const during = await client.health();
        assert.deepEqual({ deploying: during.deploying, healthy: during.healthy }, { deploying: true, healthy: false });
        const result = await client.waitForDeploy(version!, { timeoutMs: 10_000 });
        assert.deepEqual({ result: result.result, failed: result.failed, done: result.done }, { result: "success", failed: [], done: 3 });
        assert.equal((await client.health()).healthy, true);
    });

    it("14.0.0: the deploy state still comes from GET /api/v1/version/<id> (no scheduler call)", async () => {
        const { client, fake } = await setup({ flavor: "14", compile: { durationMs: 20 }, deploy: { durationMs: 100, failures: [SERVICE] } });
        await client.setSetting("auto_deploy", false);
        fake.compileBehavior.resources = B;
        const { version } = await client.compile({ update: false });
        await client.release(version!);
        const result = await client.waitForDeploy(version!, { timeoutMs: 10_000 });
        assert.deepEqual({ result: result.result, failed: result.failed }, { result: "failed", failed: [SERVICE] });
        assert.equal(fake.requestsTo("GET", "/api/v2/scheduler_status").length, 0);
    });

    it("20.x: the removed settings are unknown (no request sent), the new ones are there", async () => {
        const { client, fake } = await setup({ flavor: "20" });
        for (const gone of ["push_on_auto_deploy", "agent_trigger_method_on_auto_deploy", "environment_agent_trigger_method", "autostart_agent_map"]) {
            assert.equal(await client.hasSetting(gone), false, gone);
            const err = await rejection(client.setSetting(gone, false));
            assert.ok(err instanceof UnknownSettingError, gone);
        }
        assert.equal(fake.requestsTo("POST").length, 0);
        assert.equal(await client.getSetting("redeploy_failed_on_export"), false);
    });

    it("a dry run while halted: 20.x answers 409 (named in the error), 14.0.0 runs it with every resource agent_down", async () => {
        const v20 = await setup({ flavor: "20" });
        await v20.client.halt();
        const err = await rejection(v20.client.dryrun(1, { timeoutMs: 5_000 }));
        assert.ok(err instanceof InmantaError);
        assert.equal(err.status, 409);
        assert.match(err.message, /POST \/api\/v2\/dryrun\/1/);
        assert.match(err.message, /is halted/);

        const v14 = await setup({ flavor: "14" });
        await v14.client.halt();
        const report = await v14.client.dryrun(1, { timeoutMs: 5_000 });
        assert.deepEqual(report.summary.byStatus, { agent_down: 4 });
    });

    it("20.x: there is no internal agent: a deploy on it is refused naming the call and the server's message", async () => {
        const { client } = await setup({ flavor: "20" });
        const err = await rejection(client.deployAgent("internal", { repair: true }));
        assert.ok(err instanceof InmantaError);
        assert.equal(err.status, 404);
        assert.match(err.message, /POST \/api\/v1\/deploy/);
        assert.match(err.message, /No agent could be reached/);
    });

    it("20.x: a failing scheduler_status call names the call, the status and the server's message", async () => {
        const { client, fake } = await setup({ flavor: "20", compile: { durationMs: 20 } });
        await client.setSetting("auto_deploy", false);
        fake.compileBehavior.resources = B;
        const { version } = await client.compile({ update: false });
        await client.release(version!);
        fake.injectFault({ path: "/api/v2/scheduler_status", fault: { kind: "status", status: 403, message: "Access denied: no scheduler for you" } });
        const err = await rejection(client.waitForDeploy(version!, { timeoutMs: 5_000 }));
        assert.ok(err instanceof InmantaError);
        assert.equal(err.status, 403);
        assert.match(err.message, /GET \/api\/v2\/scheduler_status/);
        assert.match(err.message, /no scheduler for you/);
    });

    it("20.1.0: a paused agent still runs the first task queued after the pause (as the real server does)", async () => {
        const { client, fake } = await setup({ flavor: "20", schedulerLagMs: 10, compile: { durationMs: 20 }, deploy: { durationMs: 50 } });
        await client.setSetting("auto_deploy", false);
        fake.compileBehavior.resources = [
            { id: FILE, attributes: { content: "port=9090\n" } },
            { id: SERVICE, attributes: { state: "restarted" } },
            { id: MOTD, attributes: { content: "welcome\n", mode: 644, purged: false } },
        ];
        const { version } = await client.compile({ update: false });
        await client.pauseAgents();
        await client.release(version!);
        await new Promise((r) => setTimeout(r, 400));
        const deployed = fake.resourceActions.filter((a) => a.version === version).map((a) => a.resource_version_ids[0]);
        assert.deepEqual(deployed, [`${FILE},v=${version}`], "one task of the paused agent1 ran; agent2 had nothing to deploy");
    });

    // The careful deploy's hold on 15+ (cli/step/inmanta.ts releaseHeld): halt, keep the agents paused on resume,
    // resume, release; inmanta-core src/inmanta/server/services/environmentservice.py (halt, resume), src/inmanta/server/agentmanager.py (resume_agents, keep_paused_on_resume only while halted).
    it("20.x: held by a halt with the agents kept paused on resume, a release deploys nothing until an agent is unpaused", async () => {
        const { client, fake } = await setup({ flavor: "20", schedulerLagMs: 10, compile: { durationMs: 20 }, deploy: { durationMs: 50 } });
        await client.setSetting("auto_deploy", false);
        // every resource changed, agent2's too: each agent has work waiting
        fake.compileBehavior.resources = [...B.slice(0, 2), { id: MOTD, attributes: { content: "hello\n", mode: 644, purged: false } }];
        const { version } = await client.compile({ update: false });
        assert.deepEqual(await client.versionAgents(version!), ["agent1", "agent2"]);
        // only while halted (the server answers 403 otherwise)
        const early = await rejection(client.keepPausedOnResume());
        assert.ok(early instanceof InmantaError && early.status === 403, String(early));
        assert.equal(await client.isHalted(), false);
        await client.halt();
        assert.equal(await client.isHalted(), true);
        await client.keepPausedOnResume();
        assert.deepEqual((await client.agents()).map((a) => [a.name, a.paused, a.unpauseOnResume]), [["agent1", true, false], ["agent2", true, false]]);
        await client.resume();
        assert.deepEqual((await client.agents()).map((a) => [a.name, a.paused]), [["agent1", true], ["agent2", true]]);
        await client.release(version!, { push: false });
        await client.waitForScheduler(version!, { timeoutMs: 5_000 });
        await new Promise((r) => setTimeout(r, 300));
        assert.deepEqual(await client.deployActions(version!), [], "nothing deployed while every agent is held");
        assert.deepEqual(await client.resourceStates(), { [FILE]: "available", [MOTD]: "available", [SERVICE]: "available" });
        const r = await client.deployAgent("agent1", { repair: true, wait: true, unpause: true, timeoutMs: 5_000 });
        assert.deepEqual(r.settled!.deployed, [FILE, SERVICE].sort());
        assert.deepEqual((await client.deployActions(version!)).flatMap((a) => a.resources).sort(), [FILE, SERVICE].sort(), "agent2 still held");
        assert.deepEqual((await client.agents()).map((a) => [a.name, a.paused]), [["agent1", false], ["agent2", true]]);
        assert.equal((await client.resourceStates())[MOTD], "available");
    });
});

describe("InmantaClient: transport", () => {
    it("retries a 500 twice and succeeds on the third request", async () => {
        const { client, fake, logs } = await setup();
        fake.injectFault({ path: "/api/v2/environment_settings", method: "GET", count: 2, fault: { kind: "status", status: 500 } });
        assert.equal(await client.getSetting("auto_deploy"), true);
        const gets = fake.requestsTo("GET", "/api/v2/environment_settings");
        assert.equal(gets.length, 3);
        assert.deepEqual(gets.map((r) => r.status), [500, 500, 200]);
        assert.equal(logs.filter((l) => /retry/.test(l)).length, 2);
    });

    it("does not retry a 404 and names the call, the status and the server's message", async () => {
        const { client, fake } = await setup();
        fake.injectFault({
            path: "/api/v2/environment_settings/auto_deploy",
            method: "POST",
            fault: { kind: "status", status: 404, message: "The given environment id does not exist!" },
        });
        const err = await rejection(client.setSetting("auto_deploy", false));
        assert.ok(err instanceof InmantaError);
        assert.equal(err.status, 404);
        assert.equal(err.call, "POST /api/v2/environment_settings/auto_deploy");
        assert.equal(err.serverMessage, "The given environment id does not exist!");
        assert.match(err.message, /POST \/api\/v2\/environment_settings\/auto_deploy/);
        assert.match(err.message, /HTTP 404/);
        assert.match(err.message, /The given environment id does not exist!/);
        assert.equal(fake.requestsTo("POST").length, 1);
    });

    it("does not retry a 400", async () => {
        const { client, fake } = await setup();
        fake.injectFault({ path: "/api/v2/agents/pause", fault: { kind: "status", status: 400, message: "Invalid request: bad action" } });
        const err = await rejection(client.pauseAgents());
        assert.ok(err instanceof InmantaError);
        assert.match(err.message, /POST \/api\/v2\/agents\/pause .*HTTP 400: Invalid request: bad action/);
        assert.equal(fake.requestsTo("POST", "/api/v2/agents/pause").length, 1);
    });

    it("times out a hanging request, retries it, then fails with a clear error", async () => {
        const { client, fake } = await setup({}, { timeoutMs: 300, retries: 1 });
        fake.injectFault({ path: "/api/v2/environment_settings", count: 2, fault: { kind: "hang" } });
        const started = Date.now();
        const err = await rejection(client.getSetting("auto_deploy"));
        const elapsed = Date.now() - started;
        assert.ok(err instanceof InmantaError, String(err));
        assert.equal(err.code, "ETIMEDOUT");
        assert.match(err.message, /GET \/api\/v2\/environment_settings/);
        assert.match(err.message, /ETIMEDOUT: request timed out \(after 2 attempts\)/);
        assert.equal(fake.requestsTo("GET", "/api/v2/environment_settings").length, 2);
        assert.ok(elapsed >= 600, `gave up after ${elapsed} ms, before two 300 ms timeouts had passed`);
    });

    it("retries a reset connection", async () => {
        const { client, fake } = await setup();
        fake.injectFault({ path: "/api/v2/environment_settings", fault: { kind: "reset" } });
        assert.equal(await client.getSetting("auto_deploy"), true);
        assert.equal(fake.requestsTo("GET", "/api/v2/environment_settings").length, 2);
    });

    it("reports a refused connection with the call and the server URL", async () => {
        const probe = http.createServer();
        await new Promise<void>((resolve) => probe.listen(0, "127.0.0.1", () => resolve()));
        const port = (probe.address() as AddressInfo).port;
        await new Promise<void>((resolve) => probe.close(() => resolve()));

        const client = new InmantaClient({ url: `http://127.0.0.1:${port}`, environment: "env", retries: 2, retryBaseMs: 10 });
        cleanups.push(() => client.close());
        const err = await rejection(client.getSetting("auto_deploy"));
        assert.ok(err instanceof InmantaError);
        assert.equal(err.code, "ECONNREFUSED");
        assert.equal(err.attempts, 3);
        assert.match(err.message, new RegExp(`GET /api/v2/environment_settings on http://127\\.0\\.0\\.1:${port} failed`));
        assert.match(err.message, /ECONNREFUSED: connection refused/);
    });

    it("sends the bearer token and never puts it in an error message", async () => {
        const token = "tok-3f9a1c7e5b2d4a6f8e0c";
        const { client, fake } = await setup({ token }, { token });
        assert.equal(await client.getSetting("auto_deploy"), true);
        assert.equal(fake.requests[0].authorization, `Bearer ${token}`);

        // A server message that echoes the token is redacted.
        fake.injectFault({ path: "/api/v2/environment_settings", fault: { kind: "status", status: 403, message: `token ${token} lacks permission` } });
        const echoed = await rejection(client.getSetting("auto_deploy"));
        assert.ok(!echoed.message.includes(token), echoed.message);
        assert.match(echoed.message, /token \*\*\* lacks permission/);

        const wrong = "tok-wrong-0000000000";
        const other = new InmantaClient({ url: fake.url, environment: fake.environment, token: wrong });
        cleanups.push(() => other.close());
        const err = await rejection(other.getSetting("auto_deploy"));
        assert.ok(err instanceof InmantaError);
        assert.equal(err.status, 401);
        assert.ok(!err.message.includes(wrong) && !err.message.includes(token), err.message);
        assert.ok(!JSON.stringify(err).includes(wrong));
    });

    it("trusts a private CA given as caCert and rejects the server without it", async () => {
        // openssl is part of Debian's base system; without it this test fails rather than skips.
        const pem = selfSignedCertificate();
        const { fake } = await setup({ tls: pem }, {});
        const withCa = new InmantaClient({ url: fake.url, environment: fake.environment, caCert: pem.cert });
        const withoutCa = new InmantaClient({ url: fake.url, environment: fake.environment, retryBaseMs: 10 });
        cleanups.push(() => withCa.close(), () => withoutCa.close());

        assert.ok(fake.url.startsWith("https://"));
        assert.equal(await withCa.getSetting("auto_deploy"), true);

        const err = await rejection(withoutCa.getSetting("auto_deploy"));
        assert.ok(err instanceof InmantaError);
        assert.match(err.message, /TLS certificate verification failed/);
        assert.match(err.message, /caCert/);
        assert.equal(err.attempts, 1, "TLS verification failures are not retried");
        assert.equal(fake.requests.length, 1, "only the request with the CA reached the server");
    });
});

// How soon the end is noticed is a figure of `npm run bench -- inmanta`; the polling schedule itself is
// test/backoff.test.ts. Here: each wait returns once the work ended, never before, after polling it.
describe("InmantaClient: waits end with the work", function () {
    this.timeout(30_000);

    it("a compile wait returns after the compile ended, having polled it", async () => {
        const duration = randomBetween(1200, 3200);
        const { client, fake } = await setup({ compile: { durationMs: duration } });
        await client.setSetting("auto_deploy", false);
        await client.compile({ update: false });
        assert.ok(fake.completions.compile! <= Date.now(), "returned before the compile ended");
        const polls = fake.callSequence().filter(c => /notify|compilereport/.test(c) && !c.startsWith("POST"));
        assert.ok(polls.length >= 2, `polled the compile: ${polls.join(", ")}`);
    });

    it("a dry-run wait returns after the dry run ended", async () => {
        const duration = randomBetween(1200, 3200);
        const { client, fake } = await setup({ dryrun: { durationMs: duration } });
        await client.dryrun(1);
        assert.ok(fake.completions.dryrun! <= Date.now(), "returned before the dry run ended");
    });

    // The report carries the list's summary (inmanta-core src/inmanta/data/model.py `DryRunReport`: `summary: DryRun`
    // with `todo`, and `diff`), but the server diffs every resource of it on each request (server/services/
    // dryrunservice.py `dryrun_diff`): a small dry run is polled by its report, a large one by the list.
    it("a small dry run is polled by its report: the answer that says it is done holds the diff, and nothing is asked after it", async () => {
        const { client, fake } = await setup({ dryrun: { durationMs: 600, changes: [{ resourceId: FILE, status: "modified", attributes: { content: { from: "a", to: "b" } } }] } });
        fake.clearRequests();
        const report = await client.dryrun(1);
        assert.deepEqual(report.changes.map(c => [c.resourceId, c.status]), [[FILE, "modified"]]);
        const calls = fake.callSequence().map(c => c.replace(/\/[0-9a-f-]{36}$/, "/<id>"));
        // One list read learns its size; then only its report, polled until done.
        assert.deepEqual(calls.slice(0, 2), ["POST /api/v2/dryrun/1", "GET /api/v2/dryrun/1"]);
        assert.ok(calls.length >= 4, calls.join(", "));
        assert.deepEqual(new Set(calls.slice(2)), new Set(["GET /api/v2/dryrun/1/<id>"]), calls.join(", "));
    });

    it("a dry run of more resources than DRYRUN_REPORT_POLL_MAX is polled by the list, and its report read once at the end", async () => {
        const { client, fake } = await setup({ compile: { durationMs: 10 }, dryrun: { durationMs: 600 } });
        await client.setSetting("auto_deploy", false);
        fake.compileBehavior.resources = Array.from({ length: DRYRUN_REPORT_POLL_MAX + 1 }, (_, i) =>
            ({ id: `std::File[agent1,path=/etc/app/f${i}]`, attributes: { content: "x", mode: 644, purged: false } }));
        const { version } = await client.compile({ update: false });
        fake.clearRequests();
        const report = await client.dryrun(version!);
        assert.equal(report.summary.total, DRYRUN_REPORT_POLL_MAX + 1);
        const calls = fake.callSequence().map(c => c.replace(/\/[0-9a-f-]{36}$/, "/<id>"));
        const lists = calls.filter(c => c === `GET /api/v2/dryrun/${version}`).length;
        assert.ok(lists >= 2, calls.join(", "));
        assert.deepEqual(calls, [`POST /api/v2/dryrun/${version}`, ...Array(lists).fill(`GET /api/v2/dryrun/${version}`), `GET /api/v2/dryrun/${version}/<id>`]);
    });

    it("a deploy wait returns after the deploy ended", async () => {
        const duration = randomBetween(1200, 3200);
        const { client, fake } = await setup({ compile: { durationMs: 10 }, deploy: { durationMs: duration } });
        await client.setSetting("auto_deploy", false);
        fake.compileBehavior.resources = [{ id: FILE, attributes: { content: "changed" } }];
        const { version } = await client.compile({ update: false });
        await client.release(version!);
        const result = await client.waitForDeploy(version!);
        assert.ok(fake.completions.deploy! <= Date.now(), "returned before the deploy ended");
        assert.equal(result.done, result.total);
    });
});

/** A self-signed certificate for 127.0.0.1, made with the openssl CLI (throws when openssl is missing). */
function selfSignedCertificate(): { key: string; cert: string } {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "fake-inmanta-tls-"));
    try {
        const key = path.join(dir, "key.pem");
        const cert = path.join(dir, "cert.pem");
        execFileSync(
            "openssl",
            ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert, "-days", "1",
                "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"],
            { stdio: "ignore" },
        );
        return { key: fs.readFileSync(key, "utf8"), cert: fs.readFileSync(cert, "utf8") };
    } finally {
        fs.rmSync(dir, { recursive: true, force: true });
    }
}
