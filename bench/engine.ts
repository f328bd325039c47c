/**
 * `npm run bench -- engine`: what the engine costs around the steps.
 *
 * 1. Trivial steps: a generated stack of N `command.local.Command` resources running `true` (the engine's
 *    own cost) and `sleep 0.1` (a step that takes time), once as a chain (each dependsOn the previous)
 *    and once all independent, side by side in one run (a fresh stack per measurement, alternating).
 *    Reports seconds per step and the parallel speed-up (chain time / independent time). An empty stack
 *    of the same program gives the fixed cost.
 * 2. A real upgrade: the plain-upgrade procedure against the fake Inmanta server with configured
 *    durations. Each step records when its process started and ended; the critical path is the sum of
 *    the step durations along the longest dependency chain of the exported state. Reports the
 *    wall-clock of `pulumi up` against that critical path (goal: within 1.2x).
 *
 * Options: --sizes 50,200  --reps 2  --parallel <n> (engine default when absent)  --commands "true;sleep 0.1"
 *          --compile-ms 300 --dryrun-ms 200 --deploy-ms 300  --only trivial|upgrade
 * Results: a table on stdout and bench/results/engine.json. Figures are ratios on this machine, not claims.
 */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { parseArgs } from "../cli/args";
import { EngineStack, requireEngine, StateResource, TempProject } from "../test/support/engine";
import { plainUpgrade, startLab, stopLab } from "../test/engine/fixture";
import { machine, median, round, say, table, writeResults } from "./support/report";
import { runnerLoadSeconds } from "./support/runner-start";

/** The runner behind the timing wrapper of recordStepTimes (its load alone, without the record). */
const stepTimed = (project: TempProject) => path.join(project.dir, "bin", "step.timed.js");

const USAGE = "usage: npm run bench -- engine [--sizes 50,200] [--reps 2] [--parallel N] [--commands \"true;sleep 0.1\"] " +
    "[--compile-ms 300] [--dryrun-ms 200] [--deploy-ms 300] [--only trivial|upgrade]";

const PROJECT = "engine-bench";

/** The generated program: N commands, chained or not. Plain JavaScript, so no compile time is measured. */
const PROGRAM = `
const pulumi = require("@pulumi/pulumi");
const command = require("@pulumi/command");
const cfg = new pulumi.Config();
const n = cfg.requireNumber("n");
const chain = cfg.require("mode") === "chain";
const line = cfg.get("command") || "true";
let previous;
for (let i = 0; i < n; i++) {
    const c = new command.local.Command("s" + String(i).padStart(4, "0"), { create: line },
        chain && previous ? { dependsOn: [previous] } : {});
    previous = c;
}
exports.count = n;
`;

interface TimedUp {
    ms: number;
    startedAt: number;
    endedAt: number;
}

async function timedUp(stack: EngineStack, parallel?: number): Promise<TimedUp> {
    const args = ["up", "--yes", "--skip-preview", "--stack", stack.name];
    if (parallel) args.push("--parallel", String(parallel));
    const startedAt = Date.now();
    await stack.pulumi(args);
    const endedAt = Date.now();
    return { ms: endedAt - startedAt, startedAt, endedAt };
}

// ---------------------------------------------------------------------------------------------------------------
// 1. Trivial steps

interface TrivialRow {
    command: string;
    n: number;
    mode: "chain" | "independent" | "empty";
    samplesS: number[];
    medianS: number;
    perStepS?: number;
    /** (median - empty stack) / n: the engine's cost per step without the fixed start-up. */
    marginalPerStepS?: number;
}

interface Speedup {
    command: string;
    n: number;
    chainS: number;
    independentS: number;
    speedup: number;
}

async function trivial(sizes: number[], reps: number, parallel: number | undefined, lines: string[]): Promise<{ rows: TrivialRow[]; speedup: Speedup[] }> {
    const project = TempProject.create({
        prefix: "bench-engine-trivial-", files: [],
        write: {
            "Pulumi.yaml": `name: ${PROJECT}\nruntime:\n  name: nodejs\n  options:\n    typescript: false\n`,
            "package.json": JSON.stringify({ name: PROJECT, version: "0.0.0", private: true, main: "index.js",
                dependencies: { "@pulumi/pulumi": "*", "@pulumi/command": "*" } }, null, 2),
            "index.js": PROGRAM,
        },
    });
    const rows: TrivialRow[] = [];
    const speedup: Speedup[] = [];
    try {
        let counter = 0;
        const measure = async (n: number, mode: "chain" | "independent", line: string): Promise<number> => {
            const stack = await EngineStack.create(project, {
                [`${PROJECT}:n`]: String(n), [`${PROJECT}:mode`]: mode, [`${PROJECT}:command`]: line,
            }, { name: `${mode}-${n}-${++counter}` });
            const t = await timedUp(stack, parallel);
            return t.ms / 1000;
        };
        const empty: number[] = [];
        for (let r = 0; r < reps; r++) empty.push(await measure(0, "chain", "true"));
        const emptyS = median(empty);
        rows.push({ command: "-", n: 0, mode: "empty", samplesS: empty.map(x => round(x)), medianS: round(emptyS) });
        for (const line of lines) {
            for (const n of sizes) {
                const samples: Record<"chain" | "independent", number[]> = { chain: [], independent: [] };
                for (let r = 0; r < reps; r++) {
                    // Side by side: alternate the order, so a slow moment of the machine hits both.
                    const order: ("chain" | "independent")[] = r % 2 ? ["independent", "chain"] : ["chain", "independent"];
                    for (const mode of order) {
                        const s = await measure(n, mode, line);
                        samples[mode].push(s);
                        process.stderr.write(`  \`${line}\` n=${n} ${mode}: ${s.toFixed(2)} s\n`);
                    }
                }
                for (const mode of ["chain", "independent"] as const) {
                    const m = median(samples[mode]);
                    rows.push({
                        command: line, n, mode, samplesS: samples[mode].map(x => round(x)), medianS: round(m),
                        perStepS: round(m / n, 4), marginalPerStepS: round((m - emptyS) / n, 4),
                    });
                }
                const chainS = median(samples.chain);
                const independentS = median(samples.independent);
                speedup.push({ command: line, n, chainS: round(chainS), independentS: round(independentS), speedup: round(chainS / independentS, 2) });
            }
        }
    } finally {
        project.cleanup();
    }
    return { rows, speedup };
}

// ---------------------------------------------------------------------------------------------------------------
// 2. A real upgrade against the fake orchestrator

interface StepTime {
    id: string;
    kind: string;
    start: number;
    end: number;
    code: number;
}

/** Replace the copy's bin/step.js by a wrapper that records the step process's start and end. */
function recordStepTimes(project: TempProject, file: string): void {
    const bin = path.join(project.dir, "bin");
    fs.renameSync(path.join(bin, "step.js"), path.join(bin, "step.timed.js"));
    fs.writeFileSync(path.join(bin, "step.js"), [
        "#!/usr/bin/env node",
        "// Benchmark wrapper: the step's process start (performance.timeOrigin) and end, one JSON line per step.",
        "const fs = require(\"fs\");",
        "process.on(\"exit\", code => fs.appendFileSync(" + JSON.stringify(file) + ", JSON.stringify({",
        "    kind: process.argv[2], id: process.argv[3], start: performance.timeOrigin,",
        "    end: performance.timeOrigin + performance.now(), code }) + \"\\n\"));",
        "require(\"./step.timed.js\");",
        "",
    ].join("\n"), { mode: 0o755 });
}

function readStepTimes(file: string): StepTime[] {
    if (!fs.existsSync(file)) return [];
    return fs.readFileSync(file, "utf8").trim().split("\n").filter(Boolean).map(l => JSON.parse(l) as StepTime);
}

/**
 * The longest chain of steps by the sum of their durations, following the dependencies recorded in the
 * state. A dependency on a component (a step, a procedure) stands for every command below it.
 */
export function criticalPath(resources: StateResource[], durationMs: Map<string, number>): { ms: number; path: string[] } {
    const commands = resources.filter(r => r.type.startsWith("command:") && r.custom !== false);
    const byUrn = new Map(resources.map(r => [r.urn, r]));
    const name = (urn: string) => urn.slice(urn.lastIndexOf("::") + 2);
    const below = (urn: string): string[] => {
        const r = byUrn.get(urn);
        if (r && r.type.startsWith("command:")) return [urn];
        return commands.filter(c => {
            for (let p = c.parent; p; p = byUrn.get(p)?.parent) if (p === urn) return true;
            return false;
        }).map(c => c.urn);
    };
    const memo = new Map<string, { ms: number; path: string[] }>();
    const finish = (urn: string, seen: Set<string>): { ms: number; path: string[] } => {
        const known = memo.get(urn);
        if (known) return known;
        if (seen.has(urn)) throw new Error(`dependency cycle at ${urn}`);
        seen.add(urn);
        const deps = [...new Set((byUrn.get(urn)?.dependencies ?? []).flatMap(below))].filter(d => d !== urn);
        let best = { ms: 0, path: [] as string[] };
        for (const d of deps) {
            const f = finish(d, seen);
            if (f.ms > best.ms) best = f;
        }
        const own = durationMs.get(name(urn)) ?? 0;
        const out = { ms: best.ms + own, path: [...best.path, name(urn)] };
        memo.set(urn, out);
        seen.delete(urn);
        return out;
    };
    let top = { ms: 0, path: [] as string[] };
    for (const c of commands) {
        const f = finish(c.urn, new Set());
        if (f.ms > top.ms) top = f;
    }
    return top;
}

interface UpgradeRun {
    label: string;
    /** How the program is started: ts-node with a type check (the Node.js runtime's default) or the project's cached transpile. */
    program: "ts-node, type-checked" | "cached transpile";
    steps: number;
    wallS: number;
    criticalPathS: number;
    ratio: number;
    /** From the start of `pulumi up` to the start of the first step. */
    startupS: number;
    /** From the end of the last step to the end of `pulumi up`. */
    tailS: number;
    /** Median time between one step's end and the next step's start (the engine's hand-over). */
    medianGapS: number;
    /** Median step duration (process start to exit). */
    medianStepS: number;
}

interface UpgradeResult {
    program: UpgradeRun["program"];
    runs: UpgradeRun[];
    noopUpS: number;
    runnerLoadS: number;
    steps: { id: string; seconds: number }[];
    criticalPath: string[];
}

async function upgrade(reps: number, durations: { compile: number; dryrun: number; deploy: number }, typeCheck: boolean,
    parallel?: number): Promise<UpgradeResult> {
    const program = typeCheck ? "ts-node, type-checked" : "cached transpile";
    const lab = await startLab({
        settings: { protected_environment: false },
        compile: { durationMs: durations.compile }, dryrun: { durationMs: durations.dryrun }, deploy: { durationMs: durations.deploy },
    }, { prefix: "bench-engine-upgrade-", typeCheck });
    const timesFile = path.join(lab.project.work, "step-times.jsonl");
    recordStepTimes(lab.project, timesFile);
    const runs: UpgradeRun[] = [];
    let lastSteps: { id: string; seconds: number }[] = [];
    let lastPath: string[] = [];
    let noopUpS = NaN;
    let runnerLoadS = NaN;
    try {
        const stack = await EngineStack.create(lab.project, plainUpgrade(lab, { target: "bench-1", preUpgradeDryrun: true }), { name: "upgrade" });
        for (let r = 1; r <= reps; r++) {
            if (r > 1) await stack.setConfig(plainUpgrade(lab, { target: `bench-${r}`, preUpgradeDryrun: true }));
            fs.rmSync(timesFile, { force: true });
            const up = await timedUp(stack, parallel);
            const times = readStepTimes(timesFile).sort((a, b) => a.start - b.start);
            const failed = times.filter(t => t.code !== 0);
            if (failed.length) throw new Error(`steps failed during the benchmark: ${failed.map(f => f.id).join(", ")}`);
            const dur = new Map(times.map(t => [t.id, t.end - t.start]));
            const cp = criticalPath(await stack.stateResources(), dur);
            const gaps = times.slice(1).map((t, i) => t.start - times[i].end);
            const wallS = up.ms / 1000;
            runs.push({
                label: r === 1 ? "first up (create)" : `new target #${r} (replace)`, program,
                steps: times.length, wallS: round(wallS), criticalPathS: round(cp.ms / 1000), ratio: round(up.ms / cp.ms, 2),
                startupS: round((times[0].start - up.startedAt) / 1000), tailS: round((up.endedAt - times[times.length - 1].end) / 1000),
                medianGapS: round(median(gaps) / 1000), medianStepS: round(median([...dur.values()]) / 1000),
            });
            process.stderr.write(`  upgrade ${program}, ${runs.at(-1)!.label}: ${wallS.toFixed(2)} s, critical path ${(cp.ms / 1000).toFixed(2)} s\n`);
            lastSteps = times.map(t => ({ id: t.id, seconds: round((t.end - t.start) / 1000) }));
            lastPath = cp.path;
        }
        noopUpS = round((await timedUp(stack, parallel)).ms / 1000);
        runnerLoadS = round(median([runnerLoadSeconds(stepTimed(lab.project), lab.project.dir), runnerLoadSeconds(stepTimed(lab.project), lab.project.dir), runnerLoadSeconds(stepTimed(lab.project), lab.project.dir)]));
    } finally {
        await stopLab(lab);
    }
    return { program, runs, noopUpS, runnerLoadS, steps: lastSteps, criticalPath: lastPath };
}

// ---------------------------------------------------------------------------------------------------------------

export async function main(argv: string[]): Promise<number> {
    const o = parseArgs(argv, {
        sizes: "string", reps: "string", parallel: "string", commands: "string",
        "compile-ms": "string", "dryrun-ms": "string", "deploy-ms": "string", only: "string",
    }, USAGE);
    const num = (v: string | undefined, d: number, what: string) => {
        const x = v === undefined ? d : Number(v);
        if (!Number.isFinite(x) || x < 0) throw new Error(`--${what} must be a number\n${USAGE}`);
        return x;
    };
    const sizes = (o.sizes ?? "50,200").split(",").map(s => num(s, 0, "sizes")).filter(n => n > 0);
    const reps = Math.max(1, num(o.reps, 2, "reps"));
    const parallel = o.parallel === undefined ? undefined : num(o.parallel, 0, "parallel");
    const commands = (o.commands ?? "true;sleep 0.1").split(";").map(c => c.trim()).filter(Boolean);
    const durations = { compile: num(o["compile-ms"], 300, "compile-ms"), dryrun: num(o["dryrun-ms"], 200, "dryrun-ms"), deploy: num(o["deploy-ms"], 300, "deploy-ms") };
    if (o.only && o.only !== "trivial" && o.only !== "upgrade") throw new Error(`--only is trivial or upgrade\n${USAGE}`);
    const engine = requireEngine();
    const started = Date.now();
    const failures: string[] = [];
    const results: Record<string, unknown> = {
        name: "engine", date: new Date().toISOString(),
        machine: machine({ pulumi: engine.version }),
        settings: { sizes, reps, parallel: parallel ?? "engine default", commands, durationsMs: durations },
    };

    if (o.only !== "upgrade") {
        process.stderr.write("trivial steps...\n");
        const t = await trivial(sizes, reps, parallel, commands);
        results.trivial = t.rows;
        results.speedup = t.speedup;
        say(`Trivial steps: median of ${reps}, parallel ${parallel ?? "engine default"}`);
        say(table(["command", "steps", "shape", "wall s", "s/step", "s/step beyond empty"],
            t.rows.map(r => [r.command, r.n, r.mode, r.medianS.toFixed(2), r.perStepS?.toFixed(3), r.marginalPerStepS?.toFixed(3)])));
        say();
        say(table(["command", "steps", "chain s", "independent s", "speed-up (chain / independent)"],
            t.speedup.map(x => [x.command, x.n, x.chainS.toFixed(2), x.independentS.toFixed(2), `${x.speedup.toFixed(2)}x`])));
        say();
    }

    if (o.only !== "trivial") {
        const goal = 1.2;
        const variants: UpgradeResult[] = [];
        for (const typeCheck of [true, false]) {
            const program = typeCheck ? "ts-node, type-checked" : "cached transpile";
            process.stderr.write(`real upgrade against the fake orchestrator (${program} program)...\n`);
            try {
                variants.push(await upgrade(reps, durations, typeCheck, parallel));
            } catch (err) {
                // Keep the other variant's figures; the run still ends with an error.
                failures.push(`upgrade (${program} program): ${(err as Error).message}`);
            }
        }
        if (variants.length === 0) throw new Error(failures.join("\n"));
        const runs = variants.flatMap(v => v.runs);
        results.upgrade = { variants, goalRatio: goal, goalMet: runs.every(r => r.ratio <= goal) };
        say(`Plain upgrade against the fake orchestrator (compile ${durations.compile} ms, dry run ${durations.dryrun} ms, deploy ${durations.deploy} ms)`);
        say(table(["program", "run", "steps", "wall s", "critical path s", "wall / critical", "start-up s", "hand-over s (median)", "step s (median)", "tail s"],
            runs.map(r => [r.program, r.label, r.steps, r.wallS.toFixed(2), r.criticalPathS.toFixed(2), `${r.ratio.toFixed(2)}x`,
                r.startupS.toFixed(2), r.medianGapS.toFixed(3), r.medianStepS.toFixed(2), r.tailS.toFixed(2)])));
        for (const v of variants) say(`${v.program}: up with nothing to do ${v.noopUpS.toFixed(2)} s; step runner load alone ${v.runnerLoadS.toFixed(2)} s`);
        say(`critical path: ${variants[0].criticalPath.join(" -> ")}`);
        say(`goal: wall-clock within ${goal}x of the critical path: ${runs.every(r => r.ratio <= goal) ? "met" : "NOT met"} ` +
            `(${runs.map(r => `${r.ratio.toFixed(2)}x`).join(", ")})`);
        say();
    }
    results.benchSeconds = round((Date.now() - started) / 1000, 1);
    const load = [(results.machine as { loadavg1: number }).loadavg1, round(os.loadavg()[0], 2)];
    results.loadavg1AtEnd = load[1];
    if (Math.max(...load) > os.cpus().length) {
        say(`note: the machine was busy (load average ${load.join(" -> ")} on ${os.cpus().length} CPUs): absolute times are inflated; compare ratios of one run`);
    }
    if (failures.length) results.failures = failures;
    say(`results: ${path.relative(process.cwd(), writeResults("engine", results))}`);
    for (const f of failures) process.stderr.write(`error: ${f}\n`);
    return failures.length ? 1 : 0;
}
