import { spawn } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { reportDir } from "../journal/paths";

/** Linux: the parent of a process, from /proc. */
function parentOf(pid: number): number | undefined {
    try {
        const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
        return Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
    } catch {
        return undefined;
    }
}

/**
 * Called by the program at the start of `pulumi up`: start `bin/report.js --after-update <engine pid>`
 * on its own, so the report is written once the engine has ended (after success, failure or an
 * interrupt alike). The program runs under the language host, whose parent is the engine. The reporter
 * exits by itself once it has written the report: nothing is left running.
 */
export function reportAfterUpdate(stack: string, cwd = process.cwd(), env: NodeJS.ProcessEnv = process.env): void {
    if (env.UPGRADE_REPORT_AFTER_UP === "0") return;
    const host = process.ppid;
    const engine = parentOf(host);
    if (!engine || engine <= 1) return;
    let pulumi: string | undefined;
    try {
        pulumi = fs.readlinkSync(`/proc/${engine}/exe`);
    } catch {
        pulumi = undefined;
    }
    const dir = reportDir(stack, env, cwd);
    fs.mkdirSync(dir, { recursive: true });
    const log = fs.openSync(path.join(dir, "after-update.log"), "a");
    // The engine's own binary first on PATH, so the reporter's `pulumi stack export` is the same engine.
    const PATH = pulumi && path.basename(pulumi) === "pulumi" ? `${path.dirname(pulumi)}${path.delimiter}${env.PATH ?? ""}` : env.PATH;
    const child = spawn(process.execPath, [path.join(cwd, "bin", "report.js"), "--stack", stack, "--after-update", String(engine)], {
        cwd, env: { ...env, PATH }, detached: true, stdio: ["ignore", log, log],
    });
    child.unref();
    fs.closeSync(log);
}
