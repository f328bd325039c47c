import * as pulumi from "@pulumi/pulumi";
import { StepDef } from "../core/sequence";

/** The step kind (plan-format.md: `operator-gate` {what, probe?, timeoutSeconds}). */
export const OPERATOR_GATE = "operator-gate";

/** Environment variable that carries the run key to an operator gate (a go is given for one run). */
export const RUN_KEY_ENV = "UPGRADE_RUN_KEY";

/** What every procedure needs to place operator gates, from `upgrade:gates` (see {@link gateSettings}). */
export interface GateSettings {
    /** The run the gates belong to: a go or a pre-approval is for one run key. */
    runKey: pulumi.Input<string>;
    /** How long a gate waits for a go before it stops the update. */
    timeoutSeconds: number;
    /** Ids of the gates the stack file pre-approves for this run key. */
    preApproved: string[];
}

export interface OperatorGateArgs {
    title: string;
    /** What the person looks at before saying go (one sentence, shown in the plan and while waiting). */
    what: string;
    /** Where to look: consoles, commands. */
    look?: string[];
    /** Values from earlier steps the person needs (a version, a digest), printed while the gate waits. */
    show?: Record<string, pulumi.Input<unknown>>;
    /** An automatic check that runs first (the LSST probe shapes of components/lsst/probes.ts). */
    probe?: Record<string, pulumi.Input<unknown>>;
    /** Overrides `upgrade:gates.timeoutSeconds` for this gate. */
    timeoutSeconds?: number;
}

/**
 * A person looks and says go: `npm run go -- --stack <stack> <id>` while `pulumi up` waits here, or a
 * pre-approval in the stack file for an unattended run. At the timeout the step fails, naming the gate,
 * so the update stops there; `pulumi up` again waits at the same gate.
 */
export function operatorGate(id: string, s: GateSettings, a: OperatorGateArgs): [string, StepDef] {
    return [id, {
        kind: OPERATOR_GATE,
        title: a.title,
        params: {
            what: a.what,
            ...(a.look && a.look.length ? { look: a.look } : {}),
            ...(a.show ? { show: a.show } : {}),
            ...(a.probe ? { probe: a.probe } : {}),
            timeoutSeconds: a.timeoutSeconds ?? s.timeoutSeconds,
            preApproved: s.preApproved.includes(id),
        },
        runner: { environment: { [RUN_KEY_ENV]: s.runKey } },
    }];
}
