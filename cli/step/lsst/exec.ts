import { spawn } from "child_process";
import { track } from "../children";

export interface ExecResult {
    code: number;
    stdout: string;
    stderr: string;
    /** The command was killed at its time limit. */
    timedOut: boolean;
}

export interface ExecOptions {
    env?: NodeJS.ProcessEnv;
    /** Killed (with its children) after this long. */
    timeoutMs?: number;
    input?: string;
}

/**
 * Run a program (no shell) or, with `shell: true`, a bash line. The child gets its own process group,
 * so a time limit ends the whole pipeline (an `ssh host docker logs …` that hangs included).
 */
export function exec(argv: string[], opts: ExecOptions = {}): Promise<ExecResult> {
    return new Promise(resolve => {
        const [program, ...args] = argv;
        const child = track(spawn(program, args, { env: opts.env ?? process.env, stdio: ["pipe", "pipe", "pipe"], detached: true }));
        let stdout = "";
        let stderr = "";
        let timedOut = false;
        let done = false;
        const timer = opts.timeoutMs !== undefined ? setTimeout(() => {
            timedOut = true;
            try {
                process.kill(-child.pid!, "SIGKILL");
            } catch {
                // already gone
            }
        }, opts.timeoutMs) : undefined;
        const finish = (r: ExecResult) => {
            if (done) return;
            done = true;
            if (timer) clearTimeout(timer);
            resolve(r);
        };
        child.stdout.on("data", d => (stdout += d));
        child.stderr.on("data", d => (stderr += d));
        child.on("error", err => finish({ code: 127, stdout, stderr: `cannot run ${program}: ${(err as NodeJS.ErrnoException).code ?? err.message}`, timedOut }));
        child.on("close", code => finish({ code: timedOut ? 124 : code ?? 1, stdout, stderr, timedOut }));
        child.stdin.on("error", () => undefined);
        child.stdin.end(opts.input ?? "");
    });
}

/** A bash line (as the shell steps run them). */
export function sh(command: string, opts: ExecOptions = {}): Promise<ExecResult> {
    return exec(["/bin/bash", "-c", command], opts);
}

/**
 * The last non-empty line of a text, shortened, for messages. Long enough for the API server's
 * refusals (an RBAC one names user, verb, resource, group and namespace in about 230 characters).
 */
export function lastLine(text: string, max = 500): string {
    const lines = text.split("\n").map(l => l.trim()).filter(Boolean);
    const line = lines.length ? lines[lines.length - 1] : "";
    return line.length > max ? `${line.slice(0, max)}…` : line;
}

/** Why a command failed, in one line. */
export function failure(command: string, r: ExecResult): string {
    if (r.timedOut) return `\`${command}\` did not finish in time`;
    const why = lastLine(r.stderr) || lastLine(r.stdout);
    return `\`${command}\` exited ${r.code}${why ? `: ${why}` : ""}`;
}
