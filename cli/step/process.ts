import { spawn } from "child_process";

export interface RunResult {
    code: number;
    stdout: string;
    stderr: string;
}

/** Run a program (no shell) and collect its output; a missing program is a clear error. */
export function run(program: string, args: string[], opts: { env?: NodeJS.ProcessEnv; input?: string; cwd?: string } = {}): Promise<RunResult> {
    return new Promise((resolve, reject) => {
        const child = spawn(program, args, { env: opts.env ?? process.env, cwd: opts.cwd, stdio: ["pipe", "pipe", "pipe"] });
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
