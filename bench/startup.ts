/**
 * `npm run bench -- startup`: where the fixed time of a `pulumi up` goes, and what the program's
 * start-up hooks (bin/code-cache.js, bin/defer-sdk.js, loaded by Pulumi.yaml's nodeargs) save.
 *
 * 1. Phases: `pulumi up` of a program with no steps (the SDK and @pulumi/command loaded, as every
 *    runbook does), its engine log (-v=7, timestamped) cut at the engine's own events: the CLI and
 *    its language host start, the stack and its secrets manager are loaded, plugins are gathered,
 *    node starts and loads the SDK (until the program registers its stack), the program runs, the
 *    engine ends and saves the checkpoint. Once with the hooks off, once on, side by side.
 * 2. Totals: the same `pulumi up` without logging, hooks off and on alternating, median of --reps.
 * 3. The step runner's start (`node bin/step.js` of a setting step, up to its first check) against a
 *    bare `node -e ""`, hooks off and on: what every step pays before its work.
 *
 * Options: --reps 5  Results: a table on stdout and bench/results/startup.json.
 */
import { execFile, spawnSync } from "child_process";
import * as path from "path";
import { parseArgs } from "../cli/args";
import { EngineStack, requireEngine, TempProject } from "../test/support/engine";
import { machine, median, round, say, table, writeResults } from "./support/report";
import { runnerLoadSeconds } from "./support/runner-start";

const USAGE = "usage: npm run bench -- startup [--reps 5]";
const PROJECT = "startup-bench";
const PASSPHRASE = "startup-bench";
const OFF = { UPGRADE_CODE_CACHE: "off", UPGRADE_DEFER_SDK: "off" };

const PROGRAM = `
const pulumi = require("@pulumi/pulumi");
require("@pulumi/command");
exports.started = new pulumi.Config().get("label") || "-";
`;

type Variant = "hooks off" | "hooks on";
const VARIANTS: Variant[] = ["hooks off", "hooks on"];
const envOf = (v: Variant): Record<string, string> => (v === "hooks off" ? OFF : {});

/** The engine events that end each phase, in order (messages of the -v=7 log). */
const MARKS: { phase: string; until: RegExp }[] = [
    { phase: "CLI and language host start", until: /langhost\[nodejs\]\.About\(\) success/ },
    { phase: "stack, secrets manager, config", until: /\*\*\* Starting Update/ },
    { phase: "plugins gathered, program launched", until: /langhost\[nodejs\]\.Run\(.*executing/ },
    { phase: "node start, SDK loaded (stack registered)", until: /RegisterResource received: t=pulumi:pulumi:Stack/ },
    { phase: "program ran (its modules, its resources)", until: /RegisterResourceOutputs received: urn=\S*pulumi:pulumi:Stack/ },
    { phase: "update finished", until: /\*\*\* Update\(preview=false\) complete \*\*\*/ },
];

function run(project: TempProject, args: string[], env: Record<string, string>): Promise<{ ms: number; startedAt: number; stderr: string }> {
    const engine = requireEngine();
    const startedAt = Date.now();
    return new Promise((resolve, reject) => {
        execFile(engine.pulumi, [...args, "--non-interactive"], {
            cwd: project.dir, env: { ...process.env, ...project.env(PASSPHRASE), ...env }, maxBuffer: 256 * 1024 * 1024,
        }, (err, _stdout, stderr) => {
            if (err) reject(new Error(`pulumi ${args.join(" ")} failed: ${stderr.slice(-2000) || err.message}`));
            else resolve({ ms: Date.now() - startedAt, startedAt, stderr });
        });
    });
}

/** Seconds from the start of the command to each mark, then to its exit. */
function phases(startedAt: number, endedAt: number, log: string): { phase: string; seconds: number }[] {
    const events = log.split("\n").map(line => {
        const m = /"time":"([^"]+)".*?"msg":"(.*?)","v"/.exec(line);
        return m ? { at: Date.parse(m[1]), msg: m[2] } : undefined;
    }).filter((e): e is { at: number; msg: string } => !!e);
    const out: { phase: string; seconds: number }[] = [];
    let from = startedAt;
    for (const mark of MARKS) {
        const e = events.find(ev => ev.at >= from - 5 && mark.until.test(ev.msg));
        if (!e) throw new Error(`the engine log has no event for "${mark.phase}" (${mark.until})`);
        out.push({ phase: mark.phase, seconds: round((e.at - from) / 1000) });
        from = e.at;
    }
    out.push({ phase: "checkpoint saved, CLI exited", seconds: round((endedAt - from) / 1000) });
    return out;
}

function bareNode(): number {
    const started = Date.now();
    spawnSync(process.execPath, ["-e", ""]);
    return (Date.now() - started) / 1000;
}

export async function main(argv: string[]): Promise<number> {
    const args = parseArgs(argv, { reps: "string" }, USAGE);
    const reps = Number(args.reps ?? 5);
    if (!Number.isInteger(reps) || reps < 1) throw new Error(`--reps must be a whole number of at least 1 (got ${args.reps})\n${USAGE}`);
    const load0 = machine();
    const project = TempProject.create({
        prefix: "bench-startup-", files: ["bin", "cli", "components", "tsconfig.json"],
        write: {
            "Pulumi.yaml": `name: ${PROJECT}\nruntime:\n  name: nodejs\n  options:\n    typescript: false\n` +
                `    nodeargs: "--require ./bin/register-ts.js"\n`,
            "package.json": JSON.stringify({ name: PROJECT, version: "0.0.0", private: true, main: "index.js",
                dependencies: { "@pulumi/pulumi": "*", "@pulumi/command": "*" } }, null, 2),
            "index.js": PROGRAM,
        },
    });
    try {
        const stack = await EngineStack.create(project, {}, { name: "bench", passphrase: PASSPHRASE });
        const up = ["up", "--yes", "--skip-preview", "--stack", stack.name];
        // Warm both: the first start fills the transpile and code caches.
        for (const v of VARIANTS) await run(project, up, envOf(v));

        const phaseRows: Record<Variant, { phase: string; seconds: number }[]> = { "hooks off": [], "hooks on": [] };
        for (const v of VARIANTS) {
            const r = await run(project, [...up, "-v=7", "--logtostderr", "--logflow"], envOf(v));
            phaseRows[v] = phases(r.startedAt, r.startedAt + r.ms, r.stderr);
        }
        const totals: Record<Variant, number[]> = { "hooks off": [], "hooks on": [] };
        for (let i = 0; i < reps; i++) {
            for (const v of i % 2 ? [...VARIANTS].reverse() : VARIANTS) {
                const r = await run(project, up, envOf(v));
                totals[v].push(r.ms / 1000);
                process.stderr.write(`  up, ${v}: ${(r.ms / 1000).toFixed(2)} s\n`);
            }
        }
        const runner: Record<Variant | "bare node", number[]> = { "hooks off": [], "hooks on": [], "bare node": [] };
        for (let i = 0; i < Math.max(reps, 5) * 2; i++) {
            runner["bare node"].push(bareNode());
            for (const v of VARIANTS) runner[v].push(runnerLoadSeconds(path.join(project.dir, "bin", "step.js"), project.dir, envOf(v)));
        }

        say(`Phases of \`pulumi up\` with no steps (one run each, seconds):`);
        say(table(["phase", "hooks off", "hooks on"], phaseRows["hooks off"].map((p, i) =>
            [p.phase, p.seconds.toFixed(2), phaseRows["hooks on"][i].seconds.toFixed(2)])));
        const sum = (v: Variant) => phaseRows[v].reduce((a, p) => a + p.seconds, 0);
        say(table(["total (verbose log)", "hooks off", "hooks on"], [["", sum("hooks off").toFixed(2), sum("hooks on").toFixed(2)]]));
        say();
        const off = median(totals["hooks off"]);
        const on = median(totals["hooks on"]);
        say(`\`pulumi up\` with no steps, median of ${reps}: hooks off ${off.toFixed(2)} s, on ${on.toFixed(2)} s: ${(on / off).toFixed(2)}x`);
        const bare = median(runner["bare node"]);
        say(`step runner start, median of ${runner["bare node"].length}: bare node ${bare.toFixed(3)} s, ` +
            `runner hooks off ${median(runner["hooks off"]).toFixed(3)} s, on ${median(runner["hooks on"]).toFixed(3)} s ` +
            `(runner beyond bare node: ${(median(runner["hooks on"]) - bare).toFixed(3)} s)`);
        const load1 = machine();
        say(`load average ${load0.loadavg1} -> ${load1.loadavg1} on ${load1.cpus} CPUs: compare ratios of one run`);
        const file = writeResults("startup", {
            machine: load1, reps, phases: phaseRows,
            totals: { off: totals["hooks off"].map(x => round(x)), on: totals["hooks on"].map(x => round(x)), ratio: round(on / off, 2) },
            runner: Object.fromEntries(Object.entries(runner).map(([k, v]) => [k, round(median(v))])),
        });
        say(`results: ${path.relative(process.cwd(), file)}`);
    } finally {
        project.cleanup();
    }
    return 0;
}
