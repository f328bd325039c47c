import * as fs from "fs";
import { isAlive } from "../alive";
import { parseArgs } from "../args";
import { buildReport } from "./write";

const USAGE = "usage: npm run -s report -- --stack <name> [--format markdown|html] [--out <dir>] [--event-log <file>]\n" +
    "       (after every pulumi up the program writes it by itself: .upgrade/reports/<stack>/report.md and report.html)";

/** Linux: is the process still running (not gone, not a zombie waiting to be reaped)? */
function running(pid: number): boolean {
    try {
        const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
        return stat.slice(stat.lastIndexOf(")") + 2).split(" ")[0] !== "Z";
    } catch {
        return false;
    }
}

/** The reporter never outlives a stuck engine by more than this. */
const MAX_WAIT_MS = 7 * 24 * 3600 * 1000;

/**
 * `npm run -s report -- --stack <s>`: the upgrade report of the stack's last update, printed and written.
 * With `--after-update <pid>` (started by the program at the start of every `pulumi up`): wait until
 * that engine process has ended, so the state is final, then write the report.
 */
export async function main(argv: string[]): Promise<number> {
    const args = parseArgs(argv, { stack: "string", format: "string", out: "string", "event-log": "string", "after-update": "string" }, USAGE);
    if (!args.stack) throw new Error(`--stack is required\n${USAGE}`);
    const format = args.format ?? "markdown";
    if (!["markdown", "html"].includes(format)) throw new Error(`unknown --format "${format}"\n${USAGE}`);
    if (args["after-update"]) {
        const engine = Number(args["after-update"]);
        if (!Number.isInteger(engine) || engine <= 1) throw new Error(`--after-update needs the engine's process id\n${USAGE}`);
        const started = Date.now();
        while (isAlive(engine) && running(engine) && Date.now() - started < MAX_WAIT_MS) await new Promise(r => setTimeout(r, 250));
        const r = await buildReport(args.stack, "after pulumi up", { outDir: args.out });
        process.stderr.write(`report written: ${r.files.slice(0, 2).join(", ")}\n`);
        return 0;
    }
    const r = await buildReport(args.stack, "on demand (npm run -s report)", { outDir: args.out, eventLog: args["event-log"] });
    process.stdout.write(format === "html" ? r.html : r.markdown);
    process.stderr.write(`report written: ${r.files.slice(0, 2).join(", ")}\n`);
    return 0;
}
