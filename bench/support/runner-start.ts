/** The step runner's start alone, as the benchmarks measure it. */
import { spawnSync } from "child_process";
import { runnerEnvironment } from "../../components/core/step-env";

/**
 * Seconds `node <script> setting load-only` takes: the runner loads a setting step's module and stops
 * right after, for want of its params (the step never reaches a server).
 */
export function runnerLoadSeconds(script: string, cwd: string, env: Record<string, string> = {}): number {
    const started = Date.now();
    const r = spawnSync(process.execPath, [script, "setting", "load-only"], {
        cwd, encoding: "utf8", env: {
            ...process.env, ...env, ...runnerEnvironment({ id: "load-only", kind: "setting", params: {} }),
            INMANTA_URL: "http://127.0.0.1:9", INMANTA_ENVIRONMENT: "00000000-0000-4000-8000-000000000000",
            UPGRADE_STEP_KEEP: "INMANTA_URL,INMANTA_ENVIRONMENT",
        },
    });
    if (!/parameter "name"/.test(r.stderr)) throw new Error(`unexpected answer of the step runner: ${r.stderr}`);
    return (Date.now() - started) / 1000;
}
