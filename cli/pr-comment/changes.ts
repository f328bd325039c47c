import { StepRecord } from "../../components/core/registry";
import { StackState } from "../status/state";

export interface ParamChange {
    step: string;
    path: string;
    from: unknown;
    to: unknown;
}

export interface Changes {
    /** The stack has run before (its state holds steps). */
    ranBefore: boolean;
    /** The run key of the last run, when it differs from this one: every step runs again. */
    newRunKey?: { from: string; to: string };
    added: string[];
    removed: string[];
    params: ParamChange[];
}

/** A value computed by an earlier step: the plan cannot know it, so it is not compared. */
function computed(v: unknown): boolean {
    return v === "<computed>" || (!!v && typeof v === "object" && !Array.isArray(v) && Object.keys(v).length === 1 && "from" in v);
}

function diff(step: string, path: string, from: unknown, to: unknown, out: ParamChange[]): void {
    if (computed(to)) return;
    if (from && to && typeof from === "object" && typeof to === "object" && !Array.isArray(from) && !Array.isArray(to)) {
        const keys = [...new Set([...Object.keys(from), ...Object.keys(to)])].sort();
        for (const k of keys) diff(step, path ? `${path}.${k}` : k, (from as Record<string, unknown>)[k], (to as Record<string, unknown>)[k], out);
        return;
    }
    if (JSON.stringify(from) !== JSON.stringify(to)) out.push({ step, path, from, to });
}

/**
 * What changed since the stack's last run: the steps of the plan against the steps in the state
 * (each command resource keeps what it ran with in `triggers`): added, removed, params changed.
 */
export function changesSinceLastRun(plan: StepRecord[], state: StackState, runKey: string): Changes {
    const ran = [...state.commands.values()];
    const inState = new Map(ran.map(c => [c.name, c]));
    const inPlan = new Set(plan.map(s => s.id));
    const params: ParamChange[] = [];
    for (const s of plan) {
        const before = inState.get(s.id);
        if (before?.params) diff(s.id, "", before.params, s.params, params);
    }
    const keys = [...new Set(ran.map(c => c.runKey).filter((k): k is string => !!k))];
    const last = keys.length === 1 ? keys[0] : keys.find(k => k !== runKey);
    return {
        ranBefore: ran.length > 0,
        ...(last && last !== runKey ? { newRunKey: { from: last, to: runKey } } : {}),
        added: plan.filter(s => !inState.has(s.id)).map(s => s.id),
        removed: ran.filter(c => !inPlan.has(c.name)).map(c => c.name),
        params,
    };
}
