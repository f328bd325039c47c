import * as path from "path";

/**
 * Where the project keeps what an update leaves on this machine, beside the program: the step
 * journal, the operator gates' signals, the reports. `UPGRADE_STATE_DIR` moves it (CI, tests).
 */
export function localStateDir(env: NodeJS.ProcessEnv = process.env, cwd = process.cwd()): string {
    return env.UPGRADE_STATE_DIR ? path.resolve(cwd, env.UPGRADE_STATE_DIR) : path.join(cwd, ".upgrade");
}

function checkStack(stack: string): string {
    if (!/^[A-Za-z0-9_.-]+$/.test(stack)) throw new Error(`"${stack}" is not a stack name`);
    return stack;
}

export function journalFile(stack: string, env?: NodeJS.ProcessEnv, cwd?: string): string {
    return path.join(localStateDir(env, cwd), "journal", `${checkStack(stack)}.jsonl`);
}

export function gateDir(stack: string, env?: NodeJS.ProcessEnv, cwd?: string): string {
    return path.join(localStateDir(env, cwd), "gates", checkStack(stack));
}

export function reportDir(stack: string, env?: NodeJS.ProcessEnv, cwd?: string): string {
    return path.join(localStateDir(env, cwd), "reports", checkStack(stack));
}
