import { stepEnvironment } from "../../components/core/step-env";
import { appendJournal } from "../journal/journal";
import { handleStopSignals } from "./children";
import { readContext, StepFailure } from "./context";
import { handlerOf, STEP_KINDS } from "./kinds";

export { STEP_KINDS };

/**
 * The step runner: `node bin/step.js <kind> <id>`, started by a step's command resource.
 * Logs go to stderr (and so to the Pulumi log); the JSON result is the only thing on stdout.
 */
/** `paramEnv`: where the step's params are (its own environment, before the allow-list took them out). */
export async function runStep(argv: string[], env: NodeJS.ProcessEnv, stdin: NodeJS.ReadableStream,
    log: (line: string) => void, paramEnv: NodeJS.ProcessEnv = env): Promise<Record<string, unknown>> {
    const [kind, id] = argv;
    if (!kind || !id) throw new StepFailure("usage: step <kind> <id>");
    const ctx = readContext(kind, id, env, stdin, line => log(`[${id}] ${line}`), paramEnv);
    const handler = await handlerOf(kind);
    if (!handler) throw new StepFailure(`unknown step kind "${kind}" (known: ${STEP_KINDS.join(", ")})`);
    if (!handler.inmanta) return handler.run(ctx);
    const { clientFromEnv } = await import("./inmanta");
    const client = clientFromEnv(env, ctx.log);
    try {
        return await handler.run(ctx, client);
    } finally {
        client.close();
    }
}

export async function main(argv: string[]): Promise<number> {
    // The runner and every program it starts see only the step's allow-listed environment; the
    // step's params are read before they go.
    const own = { ...process.env };
    const allowed = stepEnvironment(process.env);
    for (const name of Object.keys(process.env)) if (!(name in allowed)) delete process.env[name];
    handleStopSignals();
    const [kind, id] = argv;
    const stack = process.env.UPGRADE_STACK;
    const journal = (event: "start" | "done" | "failed", error?: string) => {
        if (stack && kind && id) appendJournal(stack, { step: id, kind, event, ...(error ? { error } : {}) });
    };
    journal("start");
    let result: Record<string, unknown>;
    try {
        result = await runStep(argv, process.env, process.stdin, line => process.stderr.write(line + "\n"), own);
    } catch (err) {
        journal("failed", err instanceof Error ? err.message : String(err));
        throw err;
    }
    journal("done");
    process.stdout.write(JSON.stringify(result) + "\n");
    return 0;
}
