import { paramsFromEnvironment, STEP_ENV, stepName } from "../../components/core/step-env";

/** What the step runner knows about the step it runs. */
export interface StepContext {
    id: string;
    kind: string;
    params: Record<string, unknown>;
    stack?: string;
    env: NodeJS.ProcessEnv;
    /** Standard input, read only by the steps that take one. */
    stdin: () => Promise<string>;
    log: (line: string) => void;
}

export class StepFailure extends Error {
    constructor(message: string) {
        super(message);
        this.name = "StepFailure";
    }
}

export function readContext(kind: string, id: string, env: NodeJS.ProcessEnv, stdin: NodeJS.ReadableStream,
    log: (line: string) => void, paramEnv: NodeJS.ProcessEnv = env): StepContext {
    const raw = env[STEP_ENV];
    if (!raw) throw new StepFailure(`${STEP_ENV} is not set: the step runner is started by the step resources of the program`);
    if (raw !== stepName(kind, id)) {
        throw new StepFailure(`the command line names step ${id} (${kind}) but ${STEP_ENV} is "${raw}"`);
    }
    return {
        id, kind, params: paramsFromEnvironment(paramEnv), stack: env.UPGRADE_STACK, env, log,
        stdin: () => new Promise((resolve, reject) => {
            let data = "";
            stdin.setEncoding("utf8");
            stdin.on("data", (chunk: string) => (data += chunk));
            stdin.on("end", () => resolve(data));
            stdin.on("error", reject);
        }),
    };
}

export function param<T>(ctx: StepContext, name: string, check: (v: unknown) => v is T, what: string): T {
    const value = ctx.params[name];
    if (!check(value)) throw new StepFailure(`step ${ctx.id}: parameter "${name}" must be ${what} (got ${JSON.stringify(value)})`);
    return value;
}

export const isString = (v: unknown): v is string => typeof v === "string" && v.length > 0;
export const isNumber = (v: unknown): v is number => typeof v === "number" && Number.isFinite(v);
export const isBoolean = (v: unknown): v is boolean => typeof v === "boolean";
export const isStringArray = (v: unknown): v is string[] => Array.isArray(v) && v.every(x => typeof x === "string");
