import * as fs from "fs";
import * as path from "path";
import { gateDir } from "../journal/paths";

/**
 * How `npm run go` and a waiting operator gate meet: files in `.upgrade/gates/<stack>/`.
 * - `<step>.go.json`: a go for one run key (written by `npm run go`, read by the gate);
 * - `<step>.waiting.json`: the gate is waiting (written by the gate, removed when it ends; read by `status`).
 * Both are written to a temporary name and renamed, so a reader never sees half a file.
 */
export interface GoSignal {
    runKey: string;
    by: string;
    at: string;
}

export interface WaitingSignal {
    runKey: string;
    what: string;
    since: string;
    until: string;
    command: string;
    pid: number;
}

export function goFile(stack: string, step: string, env?: NodeJS.ProcessEnv, cwd?: string): string {
    return path.join(gateDir(stack, env, cwd), `${step}.go.json`);
}

export function waitingFile(stack: string, step: string, env?: NodeJS.ProcessEnv, cwd?: string): string {
    return path.join(gateDir(stack, env, cwd), `${step}.waiting.json`);
}

export function writeAtomic(file: string, value: unknown): void {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    const tmp = `${file}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, JSON.stringify(value, null, 2) + "\n");
    fs.renameSync(tmp, file);
}

export function readSignal<T>(file: string): T | undefined {
    try {
        return JSON.parse(fs.readFileSync(file, "utf8")) as T;
    } catch {
        return undefined;
    }
}

/** The command an operator types to let a gate through. */
export function goCommand(stack: string, step: string): string {
    return `npm run go -- --stack ${stack} ${step}`;
}
