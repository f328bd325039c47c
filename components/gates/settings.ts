import { ConfigError } from "../config/errors";
import { GatesConfig } from "../config/gates";
import { GateSettings, OPERATOR_GATE } from "./operator-gate";

/** The gate settings of one run: the pre-approvals given for other run keys do not count. */
export function gateSettings(gates: GatesConfig, runKey: string): GateSettings {
    return {
        runKey,
        timeoutSeconds: gates.timeoutSeconds,
        preApproved: gates.approved.filter(a => a.runKey === runKey).map(a => a.step),
    };
}

/**
 * A pre-approval for this run that names no operator gate of the procedure is a mistake (a typo would
 * leave an unattended run waiting): report it with its config path.
 */
export function checkPreApprovals(gates: GatesConfig, runKey: string, steps: { id: string; kind: string }[], source: string): void {
    const gateIds = new Set(steps.filter(s => s.kind === OPERATOR_GATE).map(s => s.id));
    const problems = gates.approved.flatMap((a, i) => a.runKey !== runKey || gateIds.has(a.step) ? [] : [{
        path: `upgrade:gates.approved[${i}].step`,
        message: `"${a.step}" is not an operator gate of this procedure (gates: ${[...gateIds].join(", ") || "none"})`,
    }]);
    if (problems.length) throw new ConfigError(source, problems);
}
