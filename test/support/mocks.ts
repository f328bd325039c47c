import { paramsFromEnvironment, STEP_ENV } from "../../components/core/step-env";
import * as pulumi from "@pulumi/pulumi";
import { RunbookConfig } from "../../components/config";
import { recordedSteps, resetRegistry, StepRecord } from "../../components/core";

export interface Registration {
    type: string;
    name: string;
    inputs: Record<string, unknown>;
}

export interface MockRun {
    registrations: Registration[];
    invokes: string[];
    /** Each invoke's inputs, in the order of `invokes`. */
    invokeInputs: Record<string, unknown>[];
    steps: StepRecord[];
}

/**
 * Install Pulumi's mocks and record every resource registration, in the order the SDK sends them
 * (which respects dependsOn and data dependencies). `results` gives a step's runner result, as if
 * the step had run (keyed by step id); in preview mode nothing has a result.
 */
export async function installMocks(opts: { preview: boolean; stack?: string; results?: Record<string, unknown> }): Promise<MockRun> {
    resetRegistry();
    const run: MockRun = { registrations: [], invokes: [], invokeInputs: [], steps: [] };
    await pulumi.runtime.setMocks({
        newResource: (args: pulumi.runtime.MockResourceArgs) => {
            run.registrations.push({ type: args.type, name: args.name, inputs: args.inputs });
            const state: Record<string, unknown> = {};
            if (!opts.preview && args.type.startsWith("command:")) {
                const result = opts.results?.[args.name];
                state.stdout = result === undefined ? "{}" : JSON.stringify(result);
                state.stderr = "";
            }
            return { id: `${args.name}-id`, state: { ...args.inputs, ...state } };
        },
        call: (args: pulumi.runtime.MockCallArgs) => {
            run.invokes.push(args.token);
            run.invokeInputs.push(args.inputs as Record<string, unknown>);
            return {};
        },
    }, "upgrade", opts.stack ?? "test", opts.preview);
    return run;
}

/** Wait until every mocked registration has been sent, then collect the recorded steps. */
export async function settle(run: MockRun): Promise<MockRun> {
    await (pulumi.runtime as unknown as { waitForRPCs(): Promise<void> }).waitForRPCs();
    run.steps = recordedSteps();
    return run;
}

/** Build a procedure from config under mocks. */
export async function buildUnderMocks(config: RunbookConfig, opts: { preview: boolean; results?: Record<string, unknown> } = { preview: true }): Promise<MockRun> {
    const run = await installMocks(opts);
    const { buildRunbook } = await import("../../components/program");
    buildRunbook(config);
    return settle(run);
}

/** Is there a path from `from` to `to` following dependsOn edges (to depends on from, transitively)? */
export function precedes(steps: StepRecord[], from: string, to: string): boolean {
    const byId = new Map(steps.map(s => [s.id, s]));
    if (!byId.has(from)) throw new Error(`no step ${from}`);
    if (!byId.has(to)) throw new Error(`no step ${to}`);
    const seen = new Set<string>();
    const stack = [to];
    while (stack.length) {
        const id = stack.pop()!;
        for (const d of byId.get(id)!.dependsOn) {
            if (d === from) return true;
            if (!seen.has(d)) {
                seen.add(d);
                stack.push(d);
            }
        }
    }
    return false;
}

export const promiseOf = <T>(o: pulumi.Output<T>): Promise<T> => new Promise(resolve => o.apply(v => { resolve(v); return v; }));

const SECRET = "4dabf18193072939515e22adb298388d";
const unwrap = (v: unknown): unknown => (v && typeof v === "object" && SECRET in v ? (v as unknown as { value: unknown }).value : v);

/** What a runner step's command hands the step runner (its id, kind and params), read from a mock registration. */
export function runnerSpecOf(run: MockRun, name: string): { id: string; kind: string; params: Record<string, unknown> } {
    const cmd = run.registrations.find(r => r.type === "command:local:Command" && r.name === name);
    if (!cmd) throw new Error(`no local command ${name}`);
    const env = unwrap(cmd.inputs.environment) as Record<string, unknown>;
    const plain = Object.fromEntries(Object.entries(env).map(([k, v]) => [k, unwrap(v)]));
    const [kind, id] = String(plain[STEP_ENV]).split(" ");
    return { id, kind, params: paramsFromEnvironment(plain) };
}
