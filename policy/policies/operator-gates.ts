import type { StackValidationPolicy } from "@pulumi/policy";
import { buildGraph, param, show, UNKNOWN } from "../graph";

/** The longest wait the stack file may give a gate (components/config/gates.ts allows at most a week). */
export const MAX_GATE_SECONDS = 7 * 24 * 3600;

/**
 * An operator gate (`operator-gate`) waits for a person's go. It says what to look at (`what`, a
 * non-empty text) and waits a bounded time (`timeoutSeconds`, 1 s to a week): an update never hangs
 * without saying which gate holds it and why. It is not the last step of its procedure: a go with
 * nothing after it decides nothing.
 */
export const operatorGatesBounded: StackValidationPolicy = {
    name: "operator-gates-bounded",
    description: "Every operator gate says what to look at, has a timeout of at most a week, and guards a later step.",
    enforcementLevel: "mandatory",
    validateStack: (args, report) => {
        const g = buildGraph(args.resources);
        const gates = g.ofKind("operator-gate");
        if (gates.length === 0) args.notApplicable("the stack has no operator-gate step");
        for (const s of gates) {
            if (!s.paramsKnown) continue;
            const what = param(s, "what");
            if (what !== UNKNOWN && (typeof what !== "string" || what.trim() === "")) {
                report(`Operator gate \`${s.id}\` does not say what to look at (param \`what\` is ${show(what)}).`, s.urn);
            }
            const t = param(s, "timeoutSeconds");
            if (t !== UNKNOWN && !(typeof t === "number" && Number.isFinite(t) && t >= 1 && t <= MAX_GATE_SECONDS)) {
                report(`Operator gate \`${s.id}\` has no timeout between 1 s and ${MAX_GATE_SECONDS} s (param \`timeoutSeconds\` is ${show(t)}).`, s.urn);
            }
            if (g.descendants(s.id).size === 0) {
                report(`Operator gate \`${s.id}\` guards nothing: no step waits for it.`, s.urn);
            }
        }
    },
};
