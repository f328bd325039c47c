import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { ConfigError } from "../../components/config";

export const ROOT = path.resolve(__dirname, "..", "..");

/** A folder for markers: a payload that runs leaves a file here. */
export function markerDir(): string {
    return fs.mkdtempSync(path.join(os.tmpdir(), "hostile-"));
}

export function markers(dir: string): string[] {
    return fs.readdirSync(dir).filter(f => f.startsWith("marker"));
}

/** Run one line with bash, the way a local shell step or a remote login shell runs it. */
export function bash(line: string, opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): { code: number; stdout: string; stderr: string } {
    const r = spawnSync("/bin/bash", ["-c", line], { cwd: opts.cwd, env: opts.env ?? process.env, encoding: "utf8", timeout: 20000 });
    return { code: r.status ?? 1, stdout: r.stdout ?? "", stderr: r.stderr ?? "" };
}

/** The problems of a refused configuration, as `path: message` lines. */
export function refusal(fn: () => unknown): string[] {
    try {
        fn();
    } catch (err) {
        if (err instanceof ConfigError) return err.problems.map(p => `${p.path}: ${p.message}`);
        throw err;
    }
    return [];
}
