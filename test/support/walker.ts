import { Readable } from "stream";
import { RunbookConfig } from "../../components/config";
import { runnerEnvironment } from "../../components/core/step-env";
import { orderSteps } from "../../cli/plan/evaluate";
import { runStep } from "../../cli/step/main";
import { run as runProgram } from "../../cli/step/process";
import { buildUnderMocks } from "./mocks";

export interface WalkResult {
    /** Step ids in the order they ran. */
    ran: string[];
    results: Record<string, Record<string, unknown>>;
    /** The step that failed, and its error. */
    failed?: { id: string; error: Error };
    logs: string[];
}

function resolve(value: unknown, results: Record<string, Record<string, unknown>>): unknown {
    if (value && typeof value === "object" && !Array.isArray(value)) {
        const v = value as Record<string, unknown>;
        if (Object.keys(v).length === 1 && typeof v.from === "string") {
            const [step, ...keys] = v.from.split(".");
            let out: unknown = results[step];
            for (const k of keys) out = (out as Record<string, unknown>)[k];
            return out;
        }
        return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, resolve(x, results)]));
    }
    if (Array.isArray(value)) return value.map(x => resolve(x, results));
    return value;
}

/**
 * Run a procedure's steps one by one, in plan order, the way `pulumi up` would: the step runner
 * for API steps, the configured shell line for shell steps. Stops at the first failure.
 * Used to test the steps' behaviour against a fake orchestrator without the engine.
 */
export async function walk(config: RunbookConfig, env: NodeJS.ProcessEnv): Promise<WalkResult> {
    const run = await buildUnderMocks(config);
    const commands = new Map(run.registrations.filter(r => r.type.startsWith("command:")).map(r => [r.name, r.inputs]));
    const out: WalkResult = { ran: [], results: {}, logs: [] };
    for (const step of orderSteps(run.steps)) {
        const params = resolve(step.params, out.results) as Record<string, unknown>;
        const inputs = commands.get(step.id)!;
        try {
            if (String(inputs.create).startsWith("node bin/step.js")) {
                const stdin = step.kind === "approval-gate"
                    ? JSON.stringify(out.results[(step.params.version as { from: string }).from.split(".")[0]]) : "";
                // The environment the command resource was given (secret maps arrive wrapped under `value`).
                const declared = inputs.environment as Record<string, unknown>;
                const stepEnv = ((declared && "value" in declared ? declared.value : declared) ?? {}) as Record<string, string>;
                out.results[step.id] = await runStep([step.kind, step.id],
                    { ...process.env, ...stepEnv, ...env, ...runnerEnvironment({ id: step.id, kind: step.kind, params }), UPGRADE_STACK: "test" },
                    Readable.from([stdin]), line => out.logs.push(line));
            } else {
                // Asynchronous: the orchestrator may be served from this very process.
                const r = await runProgram("sh", ["-c", String(inputs.create)], { env: { ...process.env, ...env } });
                if (r.code !== 0) throw new Error(`exit ${r.code}: ${r.stderr}`);
                out.results[step.id] = {};
            }
            out.ran.push(step.id);
        } catch (err) {
            out.failed = { id: step.id, error: err as Error };
            break;
        }
    }
    return out;
}
