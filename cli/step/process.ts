import { spawn } from "child_process";
import { track } from "./children";

export interface RunResult {
    code: number;
    stdout: string;
    stderr: string;
}

/** Run a program (no shell) and collect its output; a missing program is a clear error. */
export function run(program: string, args: string[], opts: { env?: NodeJS.ProcessEnv; input?: string; cwd?: string } = {}): Promise<RunResult> {
    return new Promise((resolve, reject) => {
        // A group of its own: the runner forwards SIGTERM to it and waits (cli/step/children.ts).
        const child = track(spawn(program, args, { env: opts.env ?? process.env, cwd: opts.cwd, stdio: ["pipe", "pipe", "pipe"], detached: true }));
        let stdout = "";
        let stderr = "";
        child.stdout.on("data", d => (stdout += d));
        child.stderr.on("data", d => (stderr += d));
        child.on("error", err => reject(new Error(`cannot run ${program}: ${(err as NodeJS.ErrnoException).code ?? err.message}`)));
        child.on("close", code => resolve({ code: code ?? 1, stdout, stderr }));
        // A program that exits without reading its input must not fail the step with EPIPE.
        child.stdin.on("error", () => undefined);
        child.stdin.end(opts.input ?? "");
    });
}
