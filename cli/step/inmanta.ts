import { decideApproval, Change } from "../../components/inmanta/approval";
import { InmantaClient, InmantaError, SettingValue } from "../../components/inmanta/client";
import { isBoolean, isNumber, isString, isStringArray, param, StepContext, StepFailure } from "./context";

/** The client for the environment a step works on, from the runner's environment variables. */
export function clientFromEnv(env: NodeJS.ProcessEnv, log: (line: string) => void): InmantaClient {
    const url = env.INMANTA_URL;
    const environment = env.INMANTA_ENVIRONMENT;
    if (!url || !environment) throw new StepFailure("INMANTA_URL and INMANTA_ENVIRONMENT must be set");
    const timeoutSeconds = Number(env.INMANTA_TIMEOUT_SECONDS ?? "1800");
    return new InmantaClient(
        { url, environment, token: env.INMANTA_TOKEN || undefined, caCert: env.INMANTA_CA_CERT || undefined },
        { log, waitTimeoutMs: timeoutSeconds * 1000 },
    );
}

type Handler = (ctx: StepContext, client: InmantaClient) => Promise<Record<string, unknown>>;

const isSettingValue = (v: unknown): v is SettingValue =>
    ["boolean", "number", "string"].includes(typeof v) || (!!v && typeof v === "object" && !Array.isArray(v));

/**
 * The first step of a procedure: a setting the procedure changes that the server reports as fixed in
 * project.yml (`protected`, `protected_by`) would be refused with 403 halfway through; refuse it here,
 * before anything changed. inmanta-core src/inmanta/server/services/environmentservice.py refuses the
 * update of a protected setting; a real 20.1.0 server: shared/notes/inmanta-20.md.
 */
async function refuseProtected(ctx: StepContext, client: InmantaClient): Promise<void> {
    await requireSettings(ctx, client);
    if (ctx.params.refuseProtected === undefined) return;
    const names = param(ctx, "refuseProtected", isStringArray, "a list of setting names");
    const defs = await client.settingDefinitions();
    const fixed = names.filter((n) => defs[n]?.protected === true);
    if (fixed.length === 0) return;
    const list = fixed.map((n) => `${n} (protected by ${defs[n].protected_by ?? "project.yml"})`).join(", ");
    throw new StepFailure(`this procedure must change ${list}, which the environment_settings of project.yml fix: ` +
        "the server refuses to change a setting set there (403). Remove it from project.yml (or the procedure's need for it) " +
        "and recompile; nothing was changed");
}

/** The first step of a procedure that depends on settings: one the server lacks stops it before anything changed. */
async function requireSettings(ctx: StepContext, client: InmantaClient): Promise<void> {
    const needed = ctx.params.requireSettings as Record<string, string> | undefined;
    if (!needed || typeof needed !== "object") return;
    const defs = await client.settingDefinitions();
    const missing = Object.keys(needed).filter((n) => !(n in defs));
    if (missing.length === 0) return;
    const server = await client.serverVersion().then((v) => `inmanta-core ${v.version}`, () => "this server");
    throw new StepFailure(`this procedure depends on ${missing.map((n) => `${n} (${needed[n]})`).join(", ")}, ` +
        `which ${server} does not have (removed in 15.0); nothing was changed`);
}

async function setting(ctx: StepContext, client: InmantaClient) {
    await refuseProtected(ctx, client);
    const name = param(ctx, "name", isString, "a setting name");
    const value = param(ctx, "value", isSettingValue, "a setting value");
    if (ctx.params.optional === true && !(await client.hasSetting(name))) {
        ctx.log(`${name}: this server has no such setting, not applicable here`);
        return { name, applied: false, reason: "not defined by this server" };
    }
    const r = await client.setSetting(name, value);
    ctx.log(`${name}: ${JSON.stringify(r.previous)} -> ${JSON.stringify(r.value)}`);
    return { name, applied: true, previous: r.previous, value: r.value };
}

async function settingsRecord(ctx: StepContext, client: InmantaClient) {
    await refuseProtected(ctx, client);
    const names = param(ctx, "names", isStringArray, "a list of setting names");
    const values: Record<string, unknown> = {};
    for (const name of names) {
        values[name] = await client.getSetting(name);
        ctx.log(`noted ${name} = ${JSON.stringify(values[name])}`);
    }
    return { values };
}

async function settingsCheck(ctx: StepContext, client: InmantaClient) {
    await refuseProtected(ctx, client);
    const expected = (ctx.params.expected ?? {}) as Record<string, unknown>;
    const definitions = await client.settingDefinitions();
    const settings: Record<string, unknown> = {};
    for (const name of Object.keys(definitions).sort()) {
        settings[name] = await client.getSetting(name);
        ctx.log(`${name} = ${JSON.stringify(settings[name])}`);
    }
    const problems = Object.entries(expected)
        .filter(([name, value]) => !(name in definitions) || JSON.stringify(settings[name]) !== JSON.stringify(value))
        .map(([name, value]) => name in definitions
            ? `${name} is ${JSON.stringify(settings[name])}, agreed ${JSON.stringify(value)}`
            : `${name} is not a setting of this server`);
    if (problems.length) throw new StepFailure(`the environment settings differ from what was agreed:\n  ${problems.join("\n  ")}`);
    return { settings };
}

async function compile(ctx: StepContext, client: InmantaClient) {
    const update = param(ctx, "update", isBoolean, "true or false");
    const result = await client.compile({ update, message: `${ctx.id} (${ctx.stack ?? "upgrade"})` });
    if (result.version === undefined) throw new StepFailure(`compile ${result.id} succeeded but produced no new version`);
    ctx.log(`compile ${result.id} produced version ${result.version}`);
    if (ctx.params.expectNoDeploy === true) {
        const latest = (await client.versions(5)).find(v => v.version === result.version);
        if (latest?.released) {
            throw new StepFailure(`version ${result.version} started to deploy on its own: is auto_deploy still on? Stopping here.`);
        }
    }
    return { version: result.version, compileId: result.id, update };
}

async function healthCheck(ctx: StepContext, client: InmantaClient) {
    const h = await client.health();
    if (h.version === null) {
        ctx.log("no version has been deployed yet");
        return { version: null, healthy: true };
    }
    if (!h.healthy) {
        const why = h.deploying ? "it is still deploying" : `${h.failed.length} resource(s) failed: ${h.failed.join(", ")}`;
        throw new StepFailure(`the latest deployed version ${h.version} is not healthy: ${why}`);
    }
    ctx.log(`version ${h.version} is deployed without failures (${h.summary.done}/${h.summary.total})`);
    return { version: h.version, healthy: true, summary: h.summary };
}

async function dryrun(ctx: StepContext, client: InmantaClient) {
    const version = param(ctx, "version", isNumber, "a version number");
    let report;
    try {
        report = await client.dryrun(version);
    } catch (err) {
        // 20.x refuses a dry run of a halted environment (409; 14.x ran it with every resource agent_down)
        if (err instanceof InmantaError && err.status === 409 && /halted/i.test(err.message)) {
            throw new StepFailure(`the environment is halted (emergency stop): resume it (npm run resume) before the dry run; ${err.message}`);
        }
        throw err;
    }
    const decision = decideApproval(report.changes, { digests: [], allow: [], allowEmpty: true });
    ctx.log(`dry run ${report.id} of version ${version}: ${report.changes.length} change(s), digest ${decision.digest}`);
    for (const c of report.changes) ctx.log(`  ${c.status} ${c.resourceId}`);
    return { version, dryrunId: report.id, changes: report.changes, summary: report.summary, digest: decision.digest };
}

async function approvalGate(ctx: StepContext) {
    const text = await ctx.stdin();
    let report: { version?: number; changes?: Change[] };
    try {
        report = JSON.parse(text);
    } catch {
        throw new StepFailure("the approval gate needs the dry run's report on standard input");
    }
    if (!Array.isArray(report.changes)) throw new StepFailure("the dry-run report has no list of changes");
    const decision = decideApproval(report.changes, {
        digests: (ctx.params.digests as string[]) ?? [],
        allow: (ctx.params.allow as { resource: string }[]) ?? [],
        allowEmpty: ctx.params.allowEmpty !== false,
    }, { stack: ctx.stack });
    if (!decision.approved) throw new StepFailure(`approval gate: ${decision.message}`);
    ctx.log(`approved (${decision.reason}): ${report.changes.length} change(s), digest ${decision.digest}`);
    return { approved: true, reason: decision.reason, digest: decision.digest, version: report.version };
}

async function agents(ctx: StepContext, client: InmantaClient, pause: boolean) {
    const agent = ctx.params.agent === undefined ? undefined : param(ctx, "agent", isString, "an agent name");
    if (pause) await client.pauseAgents(agent);
    else await client.unpauseAgents(agent);
    ctx.log(`${pause ? "paused" : "unpaused"} ${agent ? `agent ${agent}` : "all agents"}`);
    return { agent: agent ?? "*", paused: pause };
}

async function deploy(ctx: StepContext, client: InmantaClient) {
    const version = param(ctx, "version", isNumber, "a version number");
    if (ctx.params.agent !== undefined) {
        const agent = param(ctx, "agent", isString, "an agent name");
        const repair = ctx.params.repair === true;
        const unpause = ctx.params.unpause === true;
        let unpausedAt: string | undefined;
        if (unpause) {
            // 15+ careful deploy: the agent was held paused since careful-release-held; an agent the model does not
            // have (15+ has no internal agent of its own) is skipped when the step allows it
            const known = (await client.agents()).find((a) => a.name === agent);
            if (!known) {
                if (ctx.params.ifPresent === true) {
                    const reason = `the environment has no agent ${agent} (inmanta-core 15+ has no internal agent; only the model's agents exist)`;
                    ctx.log(`skipped: ${reason}`);
                    return { version, agent, skipped: true, reason };
                }
                throw new StepFailure(`deploy on agent ${agent}: the environment has no such agent`);
            }
            if (known.paused) {
                unpausedAt = new Date().toISOString();
            } else {
                // an earlier attempt of this step (a failed deploy, run again) or a person unpaused it: only the repair is left
                ctx.log(`agent ${agent} is not paused any more (an earlier attempt of this step, or by hand): force repair only`);
            }
        }
        const r = await client.deployAgent(agent, { repair, wait: true, unpause: unpausedAt !== undefined });
        const failed = r.settled?.failed ?? [];
        if (failed.length) throw new StepFailure(`deploy on agent ${agent}: ${failed.length} resource(s) failed: ${failed.join(", ")}`);
        ctx.log(`agent ${agent}: ${unpause ? "unpaused, " : ""}${r.settled?.deployed.length ?? 0} resource(s) deployed${repair ? " (repair)" : ""}`);
        return { version, agent, repair, deployed: r.settled?.deployed ?? [], ...(unpausedAt ? { unpausedAt } : {}) };
    }
    try {
        await client.release(version, { agentTriggerMethod: "push_incremental_deploy" });
    } catch (err) {
        // Resuming after an interruption: the version may already be released; then only wait.
        if (!(err instanceof InmantaError && err.status === 409)) throw err;
        ctx.log(`version ${version} was already released: waiting for its deploy`);
    }
    const r = await client.waitForDeploy(version);
    if (r.failed.length) {
        throw new StepFailure(`the deploy of version ${version} finished with ${r.failed.length} failed resource(s): ${r.failed.join(", ")}`);
    }
    ctx.log(`version ${version} deployed: ${r.done}/${r.total}, ${r.result}`);
    return { version, done: r.done, total: r.total, result: r.result };
}

/**
 * 15+ careful deploy: release an approved candidate without letting any agent deploy. A release deploys at once
 * whatever `push` says, and a paused agent of 20.1.0 still runs the first task queued after its pause, so a pause
 * alone is no hold: halt (stops the scheduler), keep every agent paused on resume, resume (the scheduler starts
 * with them paused), release. Then wait for the scheduler to take the version and check that nothing of it
 * deployed. inmanta-core src/inmanta/server/services/environmentservice.py (halt, resume) and
 * src/inmanta/server/agentmanager.py (keep_paused_on_resume); seen on 20.1.0: shared/notes/inmanta-20.md.
 */
async function releaseHeld(ctx: StepContext, client: InmantaClient) {
    const version = param(ctx, "version", isNumber, "a version number");
    const listed = param(ctx, "agents", isStringArray, "a list of agent names");
    const present = await client.versionAgents(version);
    const unlisted = present.filter((a) => !listed.includes(a));
    if (unlisted.length) {
        throw new StepFailure(`version ${version} has resources of agent(s) ${unlisted.join(", ")} that the careful deploy does not list ` +
            "(upgrade:careful.agents): they would stay paused; nothing was changed");
    }
    const released = (await client.versions(10)).find((v) => v.version === version)?.released === true;
    if (released) {
        // resuming after an interruption: the hold and the release were done
        ctx.log(`version ${version} was already released: waiting for the scheduler to take it`);
    } else {
        if (await client.isHalted()) {
            throw new StepFailure("the environment is halted (emergency stop): resume it (npm run resume) first; nothing was changed");
        }
        await client.halt();
        await client.keepPausedOnResume();
        await client.resume();
        const running = (await client.agents()).filter((a) => !a.paused).map((a) => a.name);
        if (running.length) throw new StepFailure(`after the resume agent(s) ${running.join(", ")} are not paused; version ${version} not released`);
        ctx.log(`halted, every agent kept paused on resume, resumed: ${(await client.agents()).map((a) => a.name).join(", ")} paused`);
        await client.release(version, { push: false });
    }
    await client.waitForScheduler(version);
    const early = await client.deployActions(version);
    if (early.length) {
        await client.halt();
        throw new StepFailure(`version ${version} started to deploy with every agent paused (${early.flatMap((a) => a.resources).join(", ")}): ` +
            "the environment was halted (emergency stop)");
    }
    const states = await client.resourceStates();
    ctx.log(`version ${version} released and taken by the scheduler; nothing deployed, the agents wait for their turn`);
    for (const [rid, status] of Object.entries(states)) ctx.log(`  ${status} ${rid}`);
    return { version, released: true, held: (await client.agents()).map((a) => ({ name: a.name, paused: a.paused })), states };
}

async function versionDelete(ctx: StepContext, client: InmantaClient) {
    let version = ctx.params.version === undefined ? undefined : param(ctx, "version", isNumber, "a version number");
    if (version === undefined) {
        const latest = await client.latestVersion();
        if (!latest) throw new StepFailure("there is no version to delete");
        version = latest.version;
    }
    await client.deleteVersion(version);
    ctx.log(`deleted version ${version}`);
    return { deleted: version };
}

async function dryrunCompare(ctx: StepContext, client: InmantaClient) {
    const digest = param(ctx, "digest", isString, "a digest");
    const baseline = param(ctx, "baseline", isString, "a digest");
    if (digest !== baseline) {
        await client.halt();
        throw new StepFailure(`the dry run after the revert (${digest}) differs from the one before the upgrade (${baseline}): ` +
            "the environment was halted (emergency stop); investigate and contact support");
    }
    ctx.log("the dry run is identical to the one before the upgrade");
    return { identical: true, digest };
}

interface LineVariant {
    skip?: string;
    params?: Record<string, unknown>;
    note?: string;
}

/**
 * A step with `lines` (components/inmanta/steps.ts byLine) does what the server's line asks: `legacy` on 14.x
 * and older, `scheduler` on 15+ (GET /api/v1/serverstatus). A skipped step says why and records it.
 */
function byLine(handler: Handler): Handler {
    return async (ctx, client) => {
        const lines = ctx.params.lines as { legacy?: LineVariant; scheduler?: LineVariant } | undefined;
        if (!lines || typeof lines !== "object") return handler(ctx, client);
        const server = await client.serverVersion();
        const variant = server.scheduler ? lines.scheduler : lines.legacy;
        if (variant?.skip) {
            ctx.log(`not applicable on inmanta-core ${server.version}: ${variant.skip}`);
            return { skipped: true, server: server.version, reason: variant.skip };
        }
        const params = { ...ctx.params, ...(variant?.params ?? {}) };
        delete params.lines;
        if (variant?.note) ctx.log(variant.note);
        return handler({ ...ctx, params }, client);
    };
}

const HANDLERS: Record<string, Handler> = {
    "setting": setting,
    "settings-record": settingsRecord,
    "settings-check": settingsCheck,
    "compile": compile,
    "health-check": healthCheck,
    "dryrun": dryrun,
    "approval-gate": ctx => approvalGate(ctx),
    "agents-pause": (ctx, c) => agents(ctx, c, true),
    "agents-resume": (ctx, c) => agents(ctx, c, false),
    "deploy": deploy,
    "version-delete": versionDelete,
    "dryrun-compare": dryrunCompare,
    "release-held": releaseHeld,
};

export const INMANTA_HANDLERS: Record<string, Handler> =
    Object.fromEntries(Object.entries(HANDLERS).map(([kind, h]) => [kind, byLine(h)]));
