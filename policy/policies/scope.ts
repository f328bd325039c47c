import { param, StepGraph, StepNode } from "../graph";

/** Procedures treated as LSM upgrades even when their step graph does not show it. */
export const LSM_UPGRADE_PROCEDURES = ["lsm-upgrade", "lsm-abort"];

/**
 * An export of a service definition into an environment that already runs one: it comes after an
 * "Update project & recompile" (a `compile` step with `update: true`) of the same environment, or its
 * procedure is one of `procedures`. A first deployment (lsm-install) exports into an environment with
 * no instances and no running agents, so it is not one.
 */
export function isUpgradeExport(g: StepGraph, step: StepNode, procedures: string[]): boolean {
    if (step.kind !== "export") return false;
    if (step.procedure && procedures.includes(step.procedure.name)) return true;
    return [...g.ancestors(step.id)].some(id => {
        const a = g.get(id)!;
        return a.kind === "compile" && a.environment === step.environment && param(a, "update") === true;
    });
}

/** The steps of each procedure that holds an upgrade export (or is named in `procedures`). */
export function lsmUpgradeProcedures(g: StepGraph, procedures: string[]): Map<string, StepNode[]> {
    const out = new Map<string, StepNode[]>();
    for (const [name, steps] of g.procedures()) {
        if (procedures.includes(name) || steps.some(s => isUpgradeExport(g, s, procedures))) out.set(name, steps);
    }
    return out;
}
