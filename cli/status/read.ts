import * as path from "path";
import { StepRecord } from "../../components/core/registry";
import { runKeyOf } from "../../components/program";
import { evaluateSteps } from "../plan/evaluate";
import { readJournal } from "../journal/journal";
import { loadStack } from "../stack-config";
import { Checklist, collect } from "./collect";
import { readEventLog } from "./events";
import { readStackState } from "./state";

// The plan is evaluated once per process (under the SDK's mocks); `--watch` only reads the rest again.
const plans = new Map<string, Promise<StepRecord[]>>();

/** The plan's steps (evaluated once per process and stack). */
export function planSteps(stack: string, cwd = process.cwd()): Promise<StepRecord[]> {
    if (!plans.has(stack)) plans.set(stack, evaluateSteps(loadStack(stack, cwd).config, stack));
    return plans.get(stack)!;
}

/** Everything `status` and `report` read, for one stack, from the current directory (the project). */
export async function readChecklist(stack: string, opts: { eventLog?: string; cwd?: string; env?: NodeJS.ProcessEnv } = {}): Promise<Checklist> {
    const cwd = opts.cwd ?? process.cwd();
    const env = opts.env ?? process.env;
    const { config } = loadStack(stack, cwd);
    const steps = await planSteps(stack, cwd);
    const [state] = await Promise.all([readStackState(stack, cwd, env)]);
    return collect({
        stack, procedure: config.procedure, runKey: runKeyOf(config), steps, state,
        journal: readJournal(stack, env, cwd), events: readEventLog(opts.eventLog ? path.resolve(cwd, opts.eventLog) : undefined), env, cwd,
    });
}
