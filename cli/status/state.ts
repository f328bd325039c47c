import { execFile } from "child_process";
import { paramsFromEnvironment, STEP_ENV } from "../../components/core/step-env";

/** What `pulumi stack export` shows of one step's command resource. */
export interface StateCommand {
    name: string;
    /** The run key the step last ran for (`triggers[0]`). */
    runKey?: string;
    /** What the step ran with: its kind (`triggers[1]`) and params (its environment, or `triggers[1]`). */
    kind?: string;
    params?: Record<string, unknown>;
    stdout?: string;
    created?: string;
    modified?: string;
}

export interface StackState {
    /** False when the stack has no state yet (never updated, or not created). */
    exists: boolean;
    commands: Map<string, StateCommand>;
    /** Step ids whose command the engine is creating or updating right now (an update is running). */
    pending: Map<string, string>;
}

const COMMAND_TYPES = new Set(["command:local:Command", "command:remote:Command"]);

function nameOf(urn: string): string {
    return urn.slice(urn.lastIndexOf("::") + 2);
}

interface ExportedResource {
    urn: string;
    type: string;
    inputs?: { triggers?: unknown[]; environment?: Record<string, unknown> };
    outputs?: { stdout?: unknown };
    created?: string;
    modified?: string;
}

/** The state as `pulumi stack export` prints it (secrets stay encrypted: a step's stdout may then be unreadable). */
export function parseExport(text: string): StackState {
    const doc = JSON.parse(text) as { deployment?: { resources?: ExportedResource[]; pending_operations?: { resource: { urn: string; type: string }; type: string }[] } };
    const commands = new Map<string, StateCommand>();
    for (const r of doc.deployment?.resources ?? []) {
        if (!COMMAND_TYPES.has(r.type)) continue;
        const trigger = r.inputs?.triggers?.[0];
        const spec = r.inputs?.triggers?.[1] as { kind?: unknown; params?: unknown } | undefined;
        // A runner step's params are in its environment; a shell step's in triggers[1].
        const env = r.inputs?.environment;
        const params = spec && spec.params && typeof spec.params === "object" ? spec.params as Record<string, unknown>
            : env && typeof env === "object" && STEP_ENV in env ? paramsFromEnvironment(env) : undefined;
        commands.set(nameOf(r.urn), {
            name: nameOf(r.urn),
            runKey: typeof trigger === "string" ? trigger : undefined,
            kind: spec && typeof spec.kind === "string" ? spec.kind : undefined,
            params,
            stdout: typeof r.outputs?.stdout === "string" ? r.outputs.stdout : undefined,
            created: r.created,
            modified: r.modified,
        });
    }
    const pending = new Map<string, string>();
    for (const op of doc.deployment?.pending_operations ?? []) {
        if (COMMAND_TYPES.has(op.resource.type)) pending.set(nameOf(op.resource.urn), op.type);
    }
    return { exists: true, commands, pending };
}

/**
 * Read the stack's state with the engine (`pulumi stack export`): any backend, also while an update
 * runs (the engine writes a checkpoint at every step, with the steps it is running as pending operations).
 */
export function readStackState(stack: string, cwd = process.cwd(), env: NodeJS.ProcessEnv = process.env): Promise<StackState> {
    return new Promise((resolve, reject) => {
        execFile("pulumi", ["stack", "export", "--stack", stack, "--non-interactive"], { cwd, env, maxBuffer: 256 * 1024 * 1024 },
            (err, stdout, stderr) => {
                if (err) {
                    if ((err as NodeJS.ErrnoException).code === "ENOENT") {
                        reject(new Error("the pulumi CLI is not on PATH (in this checkout: source scripts/engine/env.sh): it reads the stack's state"));
                        return;
                    }
                    if (/no stack named|not found|does not exist/i.test(stderr)) {
                        resolve({ exists: false, commands: new Map(), pending: new Map() });
                    } else {
                        reject(new Error(`pulumi stack export --stack ${stack} failed: ${(stderr || err.message).trim()}`));
                    }
                    return;
                }
                try {
                    resolve(parseExport(stdout));
                } catch (e) {
                    reject(new Error(`pulumi stack export --stack ${stack} printed something that is not a state: ${(e as Error).message}`));
                }
            });
    });
}
