import { execFile } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { EngineStack } from "../support/engine";

/** Run one of the project's commands (`node bin/<name>.js ...`) in the stack's program copy, as an operator would. */
export function runCli(stack: EngineStack, bin: string, args: string[], env: Record<string, string> = {}):
    Promise<{ code: number; stdout: string; stderr: string }> {
    return new Promise(resolve => {
        execFile(process.execPath, [path.join("bin", `${bin}.js`), ...args], {
            cwd: stack.project.dir, env: { ...process.env, ...stack.project.env("engine-test-passphrase"), ...env }, maxBuffer: 16 * 1024 * 1024,
        }, (err, stdout, stderr) => resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr }));
    });
}

/** Wait until `check` is true (polling every 100 ms), or fail after `timeoutMs` saying what was awaited. */
export async function waitFor(what: string, check: () => boolean | Promise<boolean>, timeoutMs = 300000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!(await check())) {
        if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
        await new Promise(r => setTimeout(r, 100));
    }
}

/** The operator gate's "waiting" signal in a program copy. */
export function waitingSignal(stack: EngineStack, step: string): string {
    return path.join(stack.project.dir, ".upgrade", "gates", stack.name, `${step}.waiting.json`);
}

export function exists(file: string): boolean {
    return fs.existsSync(file);
}
