import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

/**
 * `npm run bench` (plan): `plan` on a generated careful-deploy stack with many agents, in a
 * child process so wall time and peak memory are its own. Goal: under 10 s and 1 GiB for 500.
 */
const ROOT = path.join(__dirname, "..");

function stackFile(agents: number): string {
    const names = Array.from({ length: agents }, (_, i) => `agent-${String(i + 1).padStart(3, "0")}`);
    return [
        "config:",
        "  upgrade:procedure: careful-deploy",
        "  upgrade:target: bench",
        "  upgrade:orchestrator:",
        "    url: http://127.0.0.1:8888",
        "    environment: 9d8c7b6a-5f4e-4d3c-8b2a-1f0e9d8c7b6a",
        "  upgrade:careful:",
        "    internalAgent: internal",
        `    agents: [${names.join(", ")}]`,
        "",
    ].join("\n");
}

function runPlan(agents: number): { seconds: number; peakMiB: number; steps: number } {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "bench-plan-"));
    fs.mkdirSync(path.join(dir, "stacks"));
    fs.writeFileSync(path.join(dir, "stacks", "Pulumi.bench.yaml"), stackFile(agents));
    const out = path.join(dir, "plan.json");
    // The child reports its own peak resident memory when it exits.
    const probe = `process.on("exit",()=>require("fs").writeFileSync(${JSON.stringify(out + ".rss")},String(process.resourceUsage().maxRSS)));` +
        `process.argv=[process.argv[0],"plan","--stack","bench","--format","json"];require(${JSON.stringify(path.join(ROOT, "bin", "plan.js"))});`;
    const started = process.hrtime.bigint();
    const r = spawnSync(process.execPath, ["-e", probe], { cwd: dir, encoding: "utf8", maxBuffer: 256 * 1024 * 1024 });
    const seconds = Number(process.hrtime.bigint() - started) / 1e9;
    if (r.status !== 0) throw new Error(`plan failed: ${r.stderr}`);
    const steps = (JSON.parse(r.stdout) as { steps: unknown[] }).steps.length;
    const peakMiB = Number(fs.readFileSync(out + ".rss", "utf8")) / 1024;
    fs.rmSync(dir, { recursive: true, force: true });
    return { seconds, peakMiB, steps };
}

export async function main(argv: string[]): Promise<number> {
    const sizes = argv.length ? argv.map(Number) : [5, 500];
    const rows = sizes.map(n => ({ agents: n, ...runPlan(n) }));
    process.stdout.write("plan on a careful-deploy stack\n");
    process.stdout.write("agents  steps  seconds  peak MiB\n");
    for (const r of rows) {
        process.stdout.write(`${String(r.agents).padStart(6)}  ${String(r.steps).padStart(5)}  ${r.seconds.toFixed(2).padStart(7)}  ${r.peakMiB.toFixed(0).padStart(8)}\n`);
    }
    const big = rows[rows.length - 1];
    const small = rows[0];
    process.stdout.write(`ratio ${big.agents}/${small.agents} agents: ${(big.seconds / small.seconds).toFixed(2)}x time, ` +
        `${(big.peakMiB / small.peakMiB).toFixed(2)}x memory (goal for 500: < 10 s, < 1024 MiB: ` +
        `${big.seconds < 10 && big.peakMiB < 1024 ? "met" : "NOT met"})\n`);
    const dir = path.join(ROOT, "bench", "results");
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, "plan.json"), JSON.stringify(rows, null, 2) + "\n");
    return 0;
}
