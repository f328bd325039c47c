import { spawn } from "child_process";
import { track } from "../children";

export interface ExecResult {
    /** Exit code; 127 when the program does not exist (as a shell reports it). */
    code: number;
    stdout: string;
    stderr: string;
    /** An error starting the program, if any. */
    error?: string;
}

export interface ExecOptions {
    env?: NodeJS.ProcessEnv;
    cwd?: string;
    /** Where output lines go as they come (the step's log, on stderr). */
    log?: (line: string) => void;
    /** Put before every logged line. */
    prefix?: string;
    /** Log standard output lines too (default true). */
    logStdout?: boolean;
}

/**
 * Run a program (no shell) and stream its output into the step's log line by line, so a long
 * ansible-playbook or puppet run shows progress in the Pulumi log. A missing program is exit 127.
 */
export function exec(program: string, args: string[], opts: ExecOptions = {}): Promise<ExecResult> {
    return new Promise(resolve => {
        // A group of its own: the runner forwards SIGTERM to it and waits (cli/step/children.ts).
        const child = track(spawn(program, args, { env: opts.env ?? process.env, cwd: opts.cwd, stdio: ["ignore", "pipe", "pipe"], detached: true }));
        let stdout = "";
        let stderr = "";
        const lines = (logIt: boolean) => {
            let pending = "";
            return {
                push(chunk: string) {
                    if (!logIt || !opts.log) return;
                    pending += chunk;
                    let i: number;
                    while ((i = pending.indexOf("\n")) >= 0) {
                        const line = pending.slice(0, i);
                        pending = pending.slice(i + 1);
                        if (line.trim()) opts.log(`${opts.prefix ?? ""}${line}`);
                    }
                },
                flush() {
                    if (logIt && opts.log && pending.trim()) opts.log(`${opts.prefix ?? ""}${pending}`);
                    pending = "";
                },
            };
        };
        const out = lines(opts.logStdout !== false);
        const err = lines(true);
        child.stdout.setEncoding("utf8");
        child.stderr.setEncoding("utf8");
        child.stdout.on("data", (d: string) => { stdout += d; out.push(d); });
        child.stderr.on("data", (d: string) => { stderr += d; err.push(d); });
        let failed: string | undefined;
        child.on("error", e => { failed = (e as NodeJS.ErrnoException).code ?? e.message; });
        child.on("close", code => {
            out.flush();
            err.flush();
            if (failed) resolve({ code: failed === "ENOENT" ? 127 : 126, stdout, stderr, error: `cannot run ${program}: ${failed}` });
            else resolve({ code: code ?? 1, stdout, stderr });
        });
    });
}

/** A line of bash from configuration. */
export function bash(line: string, opts: ExecOptions = {}): Promise<ExecResult> {
    return exec("/bin/bash", ["-c", line], opts);
}

/** The last lines of a program's output, for an error message. */
export function lastLines(text: string, n = 15): string {
    const lines = text.trimEnd().split("\n");
    return lines.slice(-n).join("\n");
}

/** Run `work` for every item with at most `limit` at once; results in item order. */
export async function pool<T, R>(items: T[], limit: number, work: (item: T) => Promise<R>): Promise<R[]> {
    const results: R[] = new Array(items.length);
    let next = 0;
    const worker = async () => {
        while (next < items.length) {
            const i = next++;
            results[i] = await work(items[i]);
        }
    };
    await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
    return results;
}
