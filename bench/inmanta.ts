/**
 * `npm run bench -- inmanta`: the step runner against the real orchestrator of the lab.
 *
 * 1. The lab's LSM upgrade (A -> B, `pulumi up` of stack `lab` in a lab copy): its wall-clock against
 *    the server's own work in that window, from the server's reports: compiles (report `started` ->
 *    `completed`), dry runs (dry run `date` -> the last `dryrun` resource action `finished`) and deploys
 *    (first -> last `deploy` resource action of the version). Also each step's time as the engine
 *    reported it. The ratio says how much of the upgrade is our own overhead.
 * 2. Notice delay: how long after the server finished a compile, a dry run or a deploy the client
 *    (the code the steps run) noticed it: the server's completion time from its reports (compile
 *    `completed`, the last `dryrun` / `deploy` resource action's `finished`) against the moment the
 *    client's wait returned. `--rounds` of each (default 10) for each poll cap (the former 1 s and the
 *    client's 0.1 s, alternating), the median against the goal of 0.1 s; the requests each cap sent per
 *    second of waiting, and what 10 s of polling every 100 ms cost the server's CPU against 10 s idle.
 *    Each round changes one resource in the environment's project folder, compiles (no update),
 *    dry-runs and deploys that version (incremental, so only the changed resource is deployed).
 *
 * 3. Time to halt (emergency stop), on both inmanta-core lines side by side (14.0.0 and 20.1.0): from the
 *    halt request until the server says halted, and the same for resume; the lab test only asserts that
 *    the halt happened.
 * The line of parts 1 and 2: INMANTA_VERSION (default 20.1.0).
 *
 * Options: --rounds N   --only upgrade|notice|halt   --keep (leave the lab copy and its services)
 * Results: a table on stdout and bench/results/inmanta.json.
 */
import * as fs from "fs";
import * as path from "path";
import { parseArgs } from "../cli/args";
import { InmantaClient } from "../components/inmanta/client";
import { environmentHalted, get, resourceActions } from "../test/lab/server-checks";
import { INMANTA_LINES, LabCopy, makeLabCopy } from "../test/support/lab-copy";
import { machine, median, round, say, table, writeResults } from "./support/report";

const USAGE = "usage: npm run bench -- inmanta [--rounds 10] [--only upgrade|notice|halt] [--keep]";
const GOAL_NOTICE_S = 0.1;

interface CompileReport {
    id: string;
    requested: string;
    started: string | null;
    completed: string | null;
    force_update: boolean;
    metadata?: { message?: string };
}

const ms = (iso: string) => Date.parse(iso);
const sec = (x: number) => round(x / 1000, 3);

/** The server's own work between two instants, from its reports. */
async function serverWork(lab: LabCopy, from: number, to: number) {
    const env = lab.environment;
    const compiles = (await get<{ data: CompileReport[] }>(lab.url, env, "/api/v2/compilereport?limit=1000&sort=requested.asc")).data
        .filter(c => ms(c.requested) >= from && ms(c.requested) <= to && c.started && c.completed)
        .map(c => ({ what: c.metadata?.message ?? c.id, seconds: sec(ms(c.completed!) - ms(c.started!)), update: c.force_update }));
    const actions = (await resourceActions(lab.url, env)).filter(a => a.started >= from && a.started <= to && a.finished !== null);
    const versions = [...new Set(actions.map(a => a.version))];
    const dryruns: { version: number; seconds: number }[] = [];
    const deploys: { version: number; seconds: number }[] = [];
    for (const v of versions) {
        const runs = (await get<{ data: { id: string; date: string }[] }>(lab.url, env, `/api/v2/dryrun/${v}`)).data
            .map(d => ms(d.date)).filter(d => d >= from && d <= to).sort((a, b) => a - b);
        runs.forEach((start, i) => {
            const end = runs[i + 1] ?? Infinity;
            const own = actions.filter(a => a.version === v && a.action === "dryrun" && a.started >= start && a.started < end);
            if (own.length) dryruns.push({ version: v, seconds: sec(Math.max(...own.map(a => a.finished!)) - start) });
        });
        const dep = actions.filter(a => a.version === v && a.action === "deploy");
        if (dep.length) deploys.push({ version: v, seconds: sec(Math.max(...dep.map(a => a.finished!)) - Math.min(...dep.map(a => a.started))) });
    }
    const sum = (xs: { seconds: number }[]) => round(xs.reduce((s, x) => s + x.seconds, 0), 3);
    return { compiles, dryruns, deploys, seconds: { compile: sum(compiles), dryrun: sum(dryruns), deploy: sum(deploys) } };
}

async function benchUpgrade(lab: LabCopy) {
    say("== the lab upgrade A -> B (pulumi up of stack lab)");
    lab.publish("b");
    const started = Date.now();
    const run = await lab.up("lab");
    const ended = Date.now();
    if (run.status !== 0) throw new Error(`the lab upgrade failed:\n${run.output.slice(-4000)}`);
    const wall = sec(ended - started);
    const work = await serverWork(lab, started, ended);
    const serverTotal = round(work.seconds.compile + work.seconds.dryrun + work.seconds.deploy, 3);
    const steps = [...run.output.matchAll(/command:local:Command (\S+) created \(([\d.]+)(m?s)\)/g)]
        .map(m => ({ step: m[1], seconds: m[3] === "ms" ? Number(m[2]) / 1000 : Number(m[2]) }));
    const exportSeconds = Number(/The entire export command took ([\d.]+) seconds/.exec(run.output)?.[1] ?? NaN);
    say(table(["step", "engine s"], steps.map(s => [s.step, s.seconds.toFixed(1)])));
    say();
    say(table(["server work", "count", "seconds"], [
        ["compiles (started -> completed)", work.compiles.length, work.seconds.compile.toFixed(1)],
        ["dry runs (date -> last dryrun action)", work.dryruns.length, work.seconds.dryrun.toFixed(1)],
        ["deploys (first -> last deploy action)", work.deploys.length, work.seconds.deploy.toFixed(1)],
        ["total", undefined, serverTotal.toFixed(1)],
    ]));
    say(`pulumi up wall-clock ${wall.toFixed(1)} s, server work ${serverTotal.toFixed(1)} s: ratio ${(wall / serverTotal).toFixed(2)}x` +
        ` (${steps.length} steps, ${((wall - serverTotal) / Math.max(1, steps.length)).toFixed(2)} s of overhead per step; ` +
        `the export CLI itself: ${exportSeconds} s)`);
    // The procedure is one chain (each step waits for the one before it): its critical path is the sum
    // of the step durations the engine reported (rounded by the engine to 0.01 s below 1 s, to 1 s above).
    const criticalPath = round(steps.reduce((t, x) => t + x.seconds, 0), 2);
    say(`against the critical path of its steps: ${wall.toFixed(1)} s / ${criticalPath.toFixed(1)} s = ${(wall / criticalPath).toFixed(2)}x (goal 1.2x: ${wall / criticalPath <= 1.2 ? "met" : "NOT met"})`);
    return {
        wallSeconds: wall, serverSeconds: serverTotal, ratio: round(wall / serverTotal, 2), criticalPathSeconds: criticalPath,
        criticalRatio: round(wall / criticalPath, 2), server: work, steps, exportSeconds,
    };
}

/**
 * Give the next compile something to deploy: a new content of service-a.conf in the environment's
 * project folder on the server (a compile without update uses the folder as it is). Without a change
 * the server counts unchanged resources as deployed at release, before any agent works on them.
 */
function changeModel(lab: LabCopy, round: number): void {
    const main = path.join(lab.inmantaDir, "server", "state", "server", "environments", lab.environment, "main.cf");
    const text = fs.readFileSync(main, "utf8");
    const changed = text.replace(/(ConfigFile\(path="\{\{ files \}\}\/service-a\.conf", content=")[^"]*(")/, `$1bench round ${round}\\n$2`);
    if (changed === text) throw new Error(`${main}: no service-a.conf resource to change`);
    fs.writeFileSync(main, changed);
}

/** Poll caps measured side by side: the former default (1 s) and the client's default now (0.1 s). */
const POLL_CAPS_MS = [1000, 100] as const;
type Wait = "compile" | "dryrun" | "deploy";

/** Counts the requests a client sends (the transport is private: the benchmark wraps it). */
function countRequests(client: InmantaClient): { count: () => number } {
    const http = (client as unknown as { http: { request: (...a: unknown[]) => Promise<unknown> } }).http;
    const request = http.request.bind(http);
    let n = 0;
    http.request = (...a: unknown[]) => {
        n++;
        return request(...a);
    };
    return { count: () => n };
}

/** CPU seconds the server process has used (utime + stime of /proc/<pid>/stat). */
function serverCpuSeconds(lab: LabCopy): number {
    const pid = fs.readFileSync(path.join(lab.inmantaDir, "server", "server.pid"), "utf8").trim();
    const fields = fs.readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1].split(" ");
    return (Number(fields[11]) + Number(fields[12])) / 100;
}

/**
 * What polling costs the server: its CPU over `seconds` with nobody polling, then over the same time
 * with the compile wait's probe (the newest compile report, then whether a compile runs) every 100 ms.
 */
async function benchPollCost(lab: LabCopy, seconds: number) {
    const client = new InmantaClient({ url: lab.url, environment: lab.environment });
    try {
        const idle0 = serverCpuSeconds(lab);
        await new Promise(r => setTimeout(r, seconds * 1000));
        const idle = serverCpuSeconds(lab) - idle0;
        let requests = 0;
        const busy0 = serverCpuSeconds(lab);
        const until = Date.now() + seconds * 1000;
        while (Date.now() < until) {
            await get(lab.url, lab.environment, "/api/v2/compilereport?limit=1&sort=requested.desc");
            await client.isCompiling();
            requests += 2;
            await new Promise(r => setTimeout(r, 100));
        }
        const busy = serverCpuSeconds(lab) - busy0;
        const row = {
            seconds, requestsPerSecond: round(requests / seconds, 1),
            idleCpuShare: round(idle / seconds, 3), pollingCpuShare: round(busy / seconds, 3),
            cpuMsPerRequest: round(((busy - idle) / requests) * 1000, 2),
        };
        say(`polling cost: ${row.requestsPerSecond} requests/s for ${seconds} s took ${(row.pollingCpuShare * 100).toFixed(1)}% ` +
            `of one CPU on the server (idle: ${(row.idleCpuShare * 100).toFixed(1)}%), ${row.cpuMsPerRequest} ms of server CPU a request`);
        return row;
    } finally {
        client.close();
    }
}

async function benchNotice(lab: LabCopy, rounds: number) {
    say(`== notice delay: ${rounds} compiles, dry runs and deploys for each poll cap (${POLL_CAPS_MS.join(" ms, ")} ms), alternating`);
    const clients = POLL_CAPS_MS.map(cap => {
        const client = new InmantaClient({ url: lab.url, environment: lab.environment }, { waitTimeoutMs: 600_000, pollMaxMs: cap });
        return { cap, client, counter: countRequests(client) };
    });
    const empty = () => ({ compile: [] as number[], dryrun: [] as number[], deploy: [] as number[] });
    const delays = new Map(POLL_CAPS_MS.map(c => [c as number, empty()]));
    const durations = new Map(POLL_CAPS_MS.map(c => [c as number, empty()]));
    /** Requests and seconds spent in each kind of wait. */
    const load = new Map(POLL_CAPS_MS.map(c => [c as number, { requests: 0, seconds: 0 }]));
    const waited = async <T>(cap: number, counter: { count: () => number }, body: () => Promise<T>): Promise<T> => {
        const n0 = counter.count();
        const t0 = Date.now();
        const r = await body();
        const l = load.get(cap)!;
        l.requests += counter.count() - n0;
        l.seconds += (Date.now() - t0) / 1000;
        return r;
    };
    try {
        await clients[0].client.setSetting("auto_deploy", false);
        for (let i = 0; i < rounds * clients.length; i++) {
            const { cap, client, counter } = clients[i % clients.length];
            const d = delays.get(cap)!;
            const w = durations.get(cap)!;
            changeModel(lab, i + 1);
            const compiled = await waited(cap, counter, () => client.compile({ update: false, message: `bench round ${i + 1}` }));
            const noticedCompile = Date.now();
            const version = compiled.version!;
            d.compile.push(noticedCompile - ms(compiled.completed));
            const report = (await get<{ data: CompileReport }>(lab.url, lab.environment, `/api/v2/compilereport/${compiled.id}`)).data;
            w.compile.push(ms(report.completed!) - ms(report.started!));

            const dry = await waited(cap, counter, () => client.dryrun(version));
            const noticedDry = Date.now();
            const dryStart = ms((await get<{ data: { id: string; date: string }[] }>(lab.url, lab.environment, `/api/v2/dryrun/${version}`))
                .data.find(x => x.id === dry.id)!.date);
            const dryActions = (await resourceActions(lab.url, lab.environment, { action: "dryrun" }))
                .filter(a => a.version === version && a.started >= dryStart && a.finished !== null);
            if (!dryActions.length) throw new Error(`no dryrun actions for the dry run of version ${version}`);
            const dryEnd = Math.max(...dryActions.map(a => a.finished!));
            d.dryrun.push(noticedDry - dryEnd);
            w.dryrun.push(dryEnd - dryStart);

            if (!dry.changes.some(c => c.status === "modified")) throw new Error(`the dry run of version ${version} found no change`);
            const releasedAt = Date.now();
            await client.release(version, { agentTriggerMethod: "push_incremental_deploy" });
            const deployed = await waited(cap, counter, () => client.waitForDeploy(version));
            const noticedDeploy = Date.now();
            if (deployed.failed.length) throw new Error(`the deploy of version ${version} failed: ${deployed.failed.join(", ")}`);
            const depActions = (await resourceActions(lab.url, lab.environment, { action: "deploy" }))
                .filter(a => a.version === version && a.finished !== null);
            if (!depActions.length) throw new Error(`version ${version}: no deploy action`);
            const depEnd = Math.max(...depActions.map(a => a.finished!));
            d.deploy.push(noticedDeploy - depEnd);
            w.deploy.push(depEnd - releasedAt);
            say(`  round ${i + 1} (poll cap ${cap} ms): version ${version}, noticed compile +${noticedCompile - ms(compiled.completed)} ms, ` +
                `dry run +${noticedDry - dryEnd} ms, deploy +${noticedDeploy - depEnd} ms`);
        }
    } finally {
        for (const c of clients) c.client.close();
    }
    const rows = POLL_CAPS_MS.flatMap(cap => (["compile", "dryrun", "deploy"] as Wait[]).map(k => {
        const d = delays.get(cap)![k];
        return {
            pollCapMs: cap, what: k, medianS: sec(median(d)), maxS: sec(Math.max(...d)), minS: sec(Math.min(...d)),
            medianServerS: sec(median(durations.get(cap)![k])), met: median(d) / 1000 <= GOAL_NOTICE_S,
        };
    }));
    say(table(["poll cap ms", "wait", "median notice s", "min s", "max s", "median server s", `goal <= ${GOAL_NOTICE_S} s`],
        rows.map(r => [r.pollCapMs, r.what, r.medianS.toFixed(3), r.minS.toFixed(3), r.maxS.toFixed(3), r.medianServerS.toFixed(3), r.met ? "met" : "NOT met"])));
    const rates = POLL_CAPS_MS.map(cap => {
        const l = load.get(cap)!;
        return { pollCapMs: cap, requests: l.requests, waitSeconds: round(l.seconds, 1), requestsPerSecond: round(l.requests / l.seconds, 1) };
    });
    for (const r of rates) say(`poll cap ${r.pollCapMs} ms: ${r.requests} requests in ${r.waitSeconds} s of waiting, ${r.requestsPerSecond} a second`);
    const pollCost = await benchPollCost(lab, 10);
    return { rounds, goalSeconds: GOAL_NOTICE_S, rows, rates, pollCost,
        delaysMs: Object.fromEntries(delays), serverMs: Object.fromEntries(durations) };
}

/** Halt and resume `rounds` times: request -> the server says halted (resumed), in ms. */
async function benchHalt(lab: LabCopy, rounds: number) {
    const client = new InmantaClient({ url: lab.url, environment: lab.environment }, { waitTimeoutMs: 600_000 });
    const until = async (halted: boolean, from: number) => {
        while ((await environmentHalted(lab.url, lab.environment)) !== halted) {
            if (Date.now() - from > 120_000) throw new Error(`the server did not say halted=${halted} within 120 s`);
            await new Promise(r => setTimeout(r, 25));
        }
        return Date.now() - from;
    };
    const halt: number[] = [];
    const resume: number[] = [];
    try {
        for (let i = 0; i < rounds; i++) {
            let t = Date.now();
            await client.halt();
            halt.push(await until(true, t));
            t = Date.now();
            await client.resume();
            resume.push(await until(false, t));
        }
    } finally {
        client.close();
    }
    return { line: lab.inmantaVersion, rounds, haltMs: halt, resumeMs: resume, medianHaltS: sec(median(halt)), medianResumeS: sec(median(resume)) };
}

/** Part 3 on every line: the main copy for its own line, one more copy (set up, no upgrade) for each other. */
async function benchHaltLines(main: LabCopy, rounds: number) {
    say(`== time to halt and resume: ${rounds} rounds on each line`);
    const rows = [];
    for (const line of INMANTA_LINES) {
        let lab = main;
        if (line !== main.inmantaVersion) {
            lab = await makeLabCopy(undefined, { inmantaVersion: line });
            const setup = lab.tryLab(["--setup-only"]);
            if (setup.status !== 0) {
                lab.remove();
                throw new Error(`lab setup (${line}) failed:\n${setup.output.slice(-4000)}`);
            }
        }
        try {
            rows.push(await benchHalt(lab, rounds));
        } finally {
            if (lab !== main) lab.remove();
        }
    }
    say(table(["inmanta-core", "median halt s", "max halt s", "median resume s", "max resume s"],
        rows.map(r => [r.line, r.medianHaltS.toFixed(3), sec(Math.max(...r.haltMs)).toFixed(3), r.medianResumeS.toFixed(3), sec(Math.max(...r.resumeMs)).toFixed(3)])));
    return rows;
}

export async function main(argv: string[]): Promise<number> {
    const args = parseArgs(argv, { rounds: "string", only: "string", keep: "boolean" }, USAGE);
    const rounds = Number(args.rounds ?? 10);
    if (!Number.isInteger(rounds) || rounds < 1) throw new Error(`--rounds must be a positive integer\n${USAGE}`);
    if (args.only && !["upgrade", "notice", "halt"].includes(args.only)) throw new Error(USAGE);
    say("setting up a lab copy (PostgreSQL, Inmanta server, release A deployed) ...");
    const lab = await makeLabCopy();
    const results: Record<string, unknown> = { machine: machine({ inmantaCore: lab.inmantaVersion }) };
    try {
        const setup = lab.tryLab(["--setup-only"]);
        if (setup.status !== 0) throw new Error(`lab setup failed:\n${setup.output.slice(-4000)}`);
        say(`lab set up in ${setup.seconds.toFixed(1)} s (${lab.dir})`);
        if (!args.only || args.only === "upgrade") results.upgrade = await benchUpgrade(lab);
        if (!args.only || args.only === "notice") results.notice = await benchNotice(lab, rounds);
        if (!args.only || args.only === "halt") results.halt = await benchHaltLines(lab, Math.min(rounds, 5));
    } finally {
        if (args.keep) {
            say(`lab copy kept: ${lab.dir} (stop it: scripts/inmanta/lab.sh down ${lab.inmantaDir})`);
        } else {
            lab.remove();
        }
    }
    const file = writeResults("inmanta", { date: new Date().toISOString(), ...results });
    say(`results: ${file}`);
    return 0;
}
