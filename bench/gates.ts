import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { Readable } from "stream";
import { runnerEnvironment } from "../components/core/step-env";
import { RUN_KEY_ENV } from "../components/gates/operator-gate";
import { goFile, waitingFile, writeAtomic } from "../cli/gates/signals";
import { runStep } from "../cli/step/main";
import { machine, median, round, table, writeResults } from "./support/report";

const ROOT = path.join(__dirname, "..");

/**
 * `npm run bench -- gates`: how long an update held at an operator gate takes to go on after a go.
 * Side by side in one run: the gate's reaction (go signal written -> the step's result; the runner
 * polls every 200 ms) and the `npm run go` command itself (it evaluates the plan to check the step).
 */
async function reaction(dir: string, i: number): Promise<number> {
    const env = { ...process.env, UPGRADE_STATE_DIR: dir, UPGRADE_STACK: "bench", [RUN_KEY_ENV]: "k",
        ...runnerEnvironment({ id: `g${i}`, kind: "operator-gate", params: { what: "bench", timeoutSeconds: 60, preApproved: false } }) };
    const result = runStep(["operator-gate", `g${i}`], env, Readable.from([""]), () => undefined);
    while (!fs.existsSync(waitingFile("bench", `g${i}`, env))) await new Promise(r => setTimeout(r, 5));
    const t = process.hrtime.bigint();
    writeAtomic(goFile("bench", `g${i}`, env), { runKey: "k", by: "bench", at: new Date().toISOString() });
    await result;
    return Number(process.hrtime.bigint() - t) / 1e6;
}

function goCommand(): number {
    const t = process.hrtime.bigint();
    const r = spawnSync(process.execPath, [path.join(ROOT, "bin", "go.js"), "--stack", "lsm-install", "install-look-first-version"], {
        cwd: ROOT, env: { ...process.env, UPGRADE_STATE_DIR: fs.mkdtempSync(path.join(os.tmpdir(), "bench-go-")) }, encoding: "utf8",
    });
    if (r.status !== 0) throw new Error(`npm run go failed: ${r.stderr}`);
    return Number(process.hrtime.bigint() - t) / 1e6;
}

export async function main(argv: string[]): Promise<number> {
    const n = Number(argv[0] ?? 5);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "bench-gates-"));
    const gate: number[] = [];
    const go: number[] = [];
    for (let i = 0; i < n; i++) {
        gate.push(await reaction(dir, i));
        go.push(goCommand());
    }
    fs.rmSync(dir, { recursive: true, force: true });
    const g = median(gate), c = median(go);
    process.stdout.write(`operator gate: from a go to the update going on (median of ${n})\n`);
    process.stdout.write(table(["what", "median ms"], [["gate reacts to the go signal", round(g, 1)], ["npm run go (plan check + signal)", round(c, 0)],
        ["total, go typed -> gate passes", round(g + c, 0)]]) + "\n");
    process.stdout.write(`ratio: the gate's reaction is ${round(g / c, 3)}x of the go command's own time\n`);
    writeResults("gates", { machine: machine(), runs: n, gateReactionMs: gate, goCommandMs: go });
    return 0;
}
