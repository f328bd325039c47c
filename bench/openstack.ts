/**
 * `npm run bench -- openstack`: the eDeploy + Ansible part of the Spinal Stack upgrade on 20 local
 * node trees (2 load balancers, 4 controllers, 14 computes), run for real.
 *
 * The steps are the program's (built under Pulumi's mocks, as `plan` does) and run as the engine runs
 * them: every step as soon as the steps it depends on are done, each one `node bin/step.js <kind> <id>`
 * in its own process (with --inprocess: in this process, which leaves the runner's start-up out).
 * Reported: wall-clock against the serial sum of the step durations (the parallel speed-up) and against
 * the critical path (the longest chain of step durations through the dependencies).
 *
 * Then the same procedure through the real engine (`pulumi up` on a third fresh lab): its wall-clock
 * against the same serial sum and critical path (--no-engine leaves it out).
 *
 * Options: --nodes 20  --inprocess  --no-engine  --keep (keep the lab)
 * Results: a table on stdout and bench/results/openstack.json.
 */
import { execFileSync, spawn } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { Readable } from "stream";
import { StepRecord } from "../components/core";
import { runnerEnvironment } from "../components/core/step-env";
import { parseArgs } from "../cli/args";
import { orderSteps } from "../cli/plan/evaluate";
import { runStep } from "../cli/step/main";
import { load } from "../test/support/configs";
import { buildUnderMocks } from "../test/support/mocks";
import { EngineStack, TempProject } from "../test/support/engine";
import { machine, round, say, table, writeResults } from "./support/report";

const ROOT = path.join(__dirname, "..");
const USAGE = "usage: npm run bench -- openstack [--nodes 20] [--inprocess] [--no-engine] [--keep]";

interface Timed {
    id: string;
    kind: string;
    start: number;
    end: number;
}

function nodesFor(n: number): { name: string; profile: string; role: string }[] {
    const lbs = Math.max(1, Math.round(n / 10));
    const ctls = Math.max(1, Math.round(n / 5));
    const out: { name: string; profile: string; role: string }[] = [];
    for (let i = 1; i <= lbs; i++) out.push({ name: `lb${i}`, profile: "load-balancer", role: "lb" });
    for (let i = 1; i <= ctls; i++) out.push({ name: `ctl${i}`, profile: "controller", role: "openstack-full" });
    for (let i = 1; i <= n - lbs - ctls; i++) out.push({ name: `cpt${i}`, profile: "compute", role: "openstack-full" });
    return out;
}

function stackConfig(lab: string, nodes: { name: string; profile: string }[]): Record<string, unknown> {
    const is = path.join(lab, "install-server");
    const log = (what: string) => `echo "${what} {{ node_name }}" >> {{ node_root }}/var/log/upgrade-steps.log`;
    return {
        procedure: "spinalstack-upgrade",
        target: "J.1.1.0",
        openstack: {
            workDir: path.join(lab, "work"),
            orderedProfiles: ["load-balancer", "controller", "compute"],
            profiles: {
                "load-balancer": { role: "lb", classes: ["cloud::loadbalancer"], serial: 1 },
                controller: { role: "openstack-full", classes: ["cloud::identity", "cloud::compute::api"], serial: 1 },
                compute: { role: "openstack-full", classes: ["cloud::compute::hypervisor", "cloud::telemetry::agent"], serial: 5, maxFailPercentage: 20 },
            },
            hosts: Object.fromEntries(nodes.map(n => [n.name, { profile: n.profile, root: path.join(lab, "nodes", n.name) }])),
            edeploy: {
                rolesDir: path.join(is, "roles"), metadataDir: path.join(is, "metadata"), from: "J.1.0.0", to: "J.1.1.0",
            },
            ansible: {
                snippets: {
                    "cloud::loadbalancer": [{ name: "reload haproxy", shell: log("reload-haproxy"), tags: 2 }],
                    "cloud::identity": [{ name: "keystone db_sync", shell: log("keystone-db-sync"), tags: 3 }],
                    "cloud::compute::api": [{ name: "nova db sync", shell: log("nova-db-sync"), tags: 3 }, { name: "restart nova-api", shell: log("restart-nova-api"), tags: 6 }],
                    "cloud::compute::hypervisor": [{ name: "restart nova-compute", shell: log("restart-nova-compute"), tags: 5 }],
                    "cloud::telemetry::agent": [{ name: "restart ceilometer-agent", shell: log("restart-ceilometer-agent"), tags: 7 }],
                },
            },
        },
    };
}

function runnerProcess(s: StepRecord, params: Record<string, unknown>): Promise<void> {
    return new Promise((resolve, reject) => {
        const child = spawn(process.execPath, [path.join(ROOT, "bin", "step.js"), s.kind, s.id], {
            cwd: ROOT, env: { ...process.env, ...runnerEnvironment({ id: s.id, kind: s.kind, params }) }, stdio: ["ignore", "pipe", "pipe"],
        });
        let out = "";
        let err = "";
        child.stdout.on("data", d => (out += d));
        child.stderr.on("data", d => (err += d));
        child.on("close", code => (code === 0 ? resolve() : reject(new Error(`${s.id} exited ${code}: ${err.slice(-2000)}`))));
        void out;
    });
}

/** Run the steps as the engine schedules them: each as soon as its dependencies are done (or one at a time). */
async function execute(steps: StepRecord[], inProcess: boolean, serial: boolean): Promise<Timed[]> {
    const done = new Map<string, Promise<void>>();
    const timed: Timed[] = [];
    const t0 = Date.now();
    let previous: Promise<void> = Promise.resolve();
    for (const s of orderSteps(steps)) {
        const deps = [...s.dependsOn.map(d => done.get(d)!), ...(serial ? [previous] : [])];
        previous = Promise.all(deps).then(async () => {
            const start = Date.now() - t0;
            if (inProcess) {
                await runStep([s.kind, s.id], { ...process.env, ...runnerEnvironment({ id: s.id, kind: s.kind, params: s.params }) },
                    Readable.from([""]), () => undefined);
            } else {
                await runnerProcess(s, s.params);
            }
            timed.push({ id: s.id, kind: s.kind, start, end: Date.now() - t0 });
        });
        done.set(s.id, previous);
    }
    await Promise.all(done.values());
    return timed;
}

/** The longest chain of step durations through the dependencies. */
export function criticalPath(steps: StepRecord[], durations: Map<string, number>): { ms: number; path: string[] } {
    const best = new Map<string, { ms: number; path: string[] }>();
    for (const s of orderSteps(steps)) {
        const before = s.dependsOn.map(d => best.get(d)!).sort((a, b) => b.ms - a.ms)[0] ?? { ms: 0, path: [] };
        best.set(s.id, { ms: before.ms + (durations.get(s.id) ?? 0), path: [...before.path, s.id] });
    }
    return [...best.values()].sort((a, b) => b.ms - a.ms)[0] ?? { ms: 0, path: [] };
}

export async function main(argv: string[]): Promise<number> {
    const args = parseArgs(argv, { nodes: "string", inprocess: "boolean", "no-engine": "boolean", keep: "boolean" }, USAGE);
    const n = Number(args.nodes ?? 20);
    if (!Number.isInteger(n) || n < 3) throw new Error(`--nodes must be an integer >= 3\n${USAGE}`);
    execFileSync("bash", [path.join(ROOT, "scripts", "openstack", "tools.sh")], { stdio: "inherit" });
    const labs: string[] = [];
    const prepare = async () => {
        const lab = fs.mkdtempSync(path.join(os.tmpdir(), "bench-openstack-"));
        labs.push(lab);
        execFileSync("bash", [path.join(ROOT, "scripts", "openstack", "lab.sh"), "--dir", lab, ...nodes.map(x => `${x.name}=${x.profile}:${x.role}`)], { stdio: "ignore" });
        return { lab, steps: (await buildUnderMocks(load(stackConfig(lab, nodes)))).steps };
    };
    const check = (lab: string) => {
        for (const x of nodes) {
            const conf = fs.readFileSync(path.join(lab, "nodes", x.name, "var/lib/edeploy/conf"), "utf8");
            if (!/^VERS=J\.1\.1\.0$/m.test(conf)) throw new Error(`${x.name} was not upgraded`);
        }
    };
    const nodes = nodesFor(n);
    const inProcess = args.inprocess === true;
    try {
        // 1. One step at a time on a fresh lab: what each step costs alone, and the serial wall-clock.
        const one = await prepare();
        let t = Date.now();
        const alone = await execute(one.steps, inProcess, true);
        const serialWallMs = Date.now() - t;
        check(one.lab);
        // 2. As the engine schedules them, on another fresh lab.
        const two = await prepare();
        t = Date.now();
        const parallel = await execute(two.steps, inProcess, false);
        const wallMs = Date.now() - t;
        check(two.lab);
        const steps = two.steps;

        // 3. The same procedure through the real engine, on a third fresh lab.
        let engineWallMs: number | undefined;
        if (args["no-engine"] !== true) {
            const three = await prepare();
            const project = TempProject.create({ prefix: "bench-openstack-engine-" });
            try {
                const stack = await EngineStack.create(project, stackConfig(three.lab, nodes), { name: "bench" });
                engineWallMs = (await stack.up()).durationMs;
                check(three.lab);
            } finally {
                project.cleanup();
            }
        }

        const durations = new Map(alone.map(x => [x.id, x.end - x.start]));
        const serialMs = [...durations.values()].reduce((a, b) => a + b, 0);
        const critical = criticalPath(steps, durations);
        const kinds = ["edeploy-upgrade", "ansible-step"];
        const stats = (list: Timed[], k: string) => {
            const d = list.filter(x => x.kind === k).map(x => x.end - x.start);
            return [(d.reduce((a, b) => a + b, 0) / d.length / 1000).toFixed(2), (Math.max(...d) / 1000).toFixed(2)];
        };
        say(`eDeploy + Ansible upgrade of ${n} local nodes (${nodes.filter(x => x.profile === "compute").length} computes): ${steps.length} steps, ` +
            `${inProcess ? "run in this process" : "each step its own step-runner process, as the engine runs them"}; ${os.cpus().length} CPUs`);
        say(table(["kind", "steps", "alone mean s", "alone max s", "in parallel mean s", "in parallel max s"], kinds.map(k =>
            [k, alone.filter(x => x.kind === k).length, ...stats(alone, k), ...stats(parallel, k)])));
        say("");
        say(table(["measure", "seconds"], [
            ["wall-clock, steps as the graph allows", (wallMs / 1000).toFixed(2)],
            ["serial sum of the steps (each alone)", (serialMs / 1000).toFixed(2)],
            ["wall-clock, one step at a time", (serialWallMs / 1000).toFixed(2)],
            ["critical path (durations alone)", (critical.ms / 1000).toFixed(2)],
            ...(engineWallMs === undefined ? [] : [["wall-clock, pulumi up (the real engine)", (engineWallMs / 1000).toFixed(2)]]),
        ]));
        say(`parallel speed-up (serial sum / wall-clock): ${(serialMs / wallMs).toFixed(2)}x`);
        say(`wall-clock / critical path: ${(wallMs / critical.ms).toFixed(2)}x (1.00x would be unlimited CPUs)`);
        if (engineWallMs !== undefined) {
            say(`pulumi up (the whole update, with the program's start): ${(engineWallMs / wallMs).toFixed(2)}x the scheduled wall-clock, ` +
                `${(engineWallMs / serialMs).toFixed(2)}x the serial sum, ${(engineWallMs / critical.ms).toFixed(2)}x the critical path`);
        }
        say(`critical path: ${critical.path.join(" -> ")}`);
        const file = writeResults("openstack", {
            nodes: n, steps: steps.length, inProcess, wallS: round(wallMs / 1000), serialSumS: round(serialMs / 1000),
            serialWallS: round(serialWallMs / 1000), criticalPathS: round(critical.ms / 1000), speedup: round(serialMs / wallMs),
            wallOverCritical: round(wallMs / critical.ms), criticalPath: critical.path,
            ...(engineWallMs === undefined ? {} : { engineWallS: round(engineWallMs / 1000), engineOverCritical: round(engineWallMs / critical.ms) }),
            alone: alone.map(x => ({ id: x.id, s: round((x.end - x.start) / 1000) })),
            parallel: parallel.sort((a, b) => a.start - b.start), machine: machine(),
        });
        say(`results: ${path.relative(ROOT, file)}`);
        return 0;
    } finally {
        if (args.keep) say(`kept ${labs.join(", ")}`);
        else for (const lab of labs) fs.rmSync(lab, { recursive: true, force: true });
    }
}
