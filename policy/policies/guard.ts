import type { ReportViolation } from "@pulumi/policy";
import { list, param, show, StepGraph, StepNode, touches, UNKNOWN } from "../graph";

export interface GuardSetting {
    name: string;
    value: unknown;
}

export interface GuardOptions {
    /** Kinds that may run before the guard: read-only checks. */
    allowBefore: string[];
    /** Other guard settings: their steps need not wait for this one. */
    otherGuards?: GuardSetting[];
    /** Only these procedures (all when absent or empty). */
    procedures?: string[];
}

function sameValue(a: unknown, b: unknown): boolean {
    return JSON.stringify(a) === JSON.stringify(b);
}

export function isGuardStep(step: StepNode, guard: GuardSetting): boolean {
    return step.kind === "setting" && param(step, "name") === guard.name && sameValue(param(step, "value"), guard.value);
}

/**
 * In every environment the stack acts on: a `setting` step sets `guard.name` to `guard.value`, and
 * every other step acting on that environment waits for it (except read-only checks and other guards).
 */
export function checkGuard(g: StepGraph, guard: GuardSetting, opts: GuardOptions, report: ReportViolation): void {
    const inScope = (s: StepNode) => !opts.procedures?.length || (s.procedure !== undefined && opts.procedures.includes(s.procedure.name));
    const want = `${guard.name} = ${JSON.stringify(guard.value)}`;
    for (const env of g.environments()) {
        const steps = g.steps.filter(s => touches(s, env) && inScope(s));
        if (steps.length === 0) continue;
        for (const s of steps) {
            const value = param(s, "value");
            if (s.kind === "setting" && param(s, "name") === guard.name && value !== UNKNOWN && !sameValue(value, guard.value)) {
                report(`Step \`${s.id}\` sets ${guard.name} = ${show(value)} in environment ${env}; it must stay ${JSON.stringify(guard.value)}.`, s.urn);
            }
        }
        const guards = steps.filter(s => s.environment === env && isGuardStep(s, guard));
        if (guards.length === 0) {
            const first = g.earliest(steps)[0] ?? steps[0];
            report(`Environment ${env}: no step sets ${want}. Add a \`setting\` step ${want} that every other step `
                + `acting on this environment waits for.`, first.urn);
            continue;
        }
        const exempt = (s: StepNode) => guards.includes(s) || opts.allowBefore.includes(s.kind)
            || (opts.otherGuards ?? []).some(o => isGuardStep(s, o));
        const unguarded = steps.filter(s => !exempt(s) && !guards.some(gd => g.dependsOn(s, gd)));
        if (unguarded.length > 0) {
            report(`Environment ${env}: ${unguarded.length === 1 ? "step" : "steps"} ${list(unguarded.map(s => s.id))} `
                + `${unguarded.length === 1 ? "does" : "do"} not wait for ${list(guards.map(s => s.id))} (${want}); `
                + `every step acting on the environment must come after it.`, unguarded[0].urn);
        }
    }
}
