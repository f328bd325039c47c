import type { StackValidationPolicy } from "@pulumi/policy";
import { readConfig, stringList } from "../config";
import { buildGraph, list, param, StepNode, touches, UNKNOWN } from "../graph";

export interface ApprovalConfig {
    /**
     * Agents whose deploy needs no approval: the careful deploy deploys the `internal` agent (which only
     * brings the other agents online) before its dry run, because the dry run needs the agents.
     */
    exemptAgents: string[];
}

export const APPROVAL_DEFAULTS: ApprovalConfig = { exemptAgents: ["internal"] };

/**
 * Every `deploy` step waits for an `approval-gate` step that itself waits for a `dryrun` step, and that
 * dry run comes after every compile the deploy waits for: what was approved is the version deployed.
 * The deploy of an exempt agent (`agent` param in `exemptAgents`) needs no gate; when the deploy's
 * params are unknown during preview the agent cannot be read and the deploy is checked like any other.
 */
export const approvalBeforeDeploy: StackValidationPolicy = {
    name: "approval-before-deploy",
    description: "Every deploy depends on an approval gate that follows a dry run.",
    enforcementLevel: "mandatory",
    configSchema: {
        properties: {
            exemptAgents: stringList("Agents whose deploy needs no approval gate.", APPROVAL_DEFAULTS.exemptAgents),
        },
    },
    validateStack: (args, report) => {
        const cfg = readConfig(args, APPROVAL_DEFAULTS);
        const g = buildGraph(args.resources);
        const deploys = g.ofKind("deploy");
        if (deploys.length === 0) args.notApplicable("the stack has no deploy step");
        for (const d of deploys) {
            const agent = param(d, "agent");
            if (typeof agent === "string" && cfg.exemptAgents.includes(agent)) continue;
            const note = agent === UNKNOWN ? " (its params, and so its agent, are unknown during preview)" : "";
            const env = typeof d.environment === "string" ? d.environment : undefined;
            const sameEnv = (s: StepNode) => env === undefined || touches(s, env);
            const before = [...g.ancestors(d.id)].map(id => g.get(id)!);
            const gates = before.filter(s => s.kind === "approval-gate" && sameEnv(s));
            if (gates.length === 0) {
                report(`Deploy step \`${d.id}\`${note} does not depend on an approval gate: add an \`approval-gate\` step `
                    + `that follows a dry run before it.`, d.urn);
                continue;
            }
            const withDryrun = gates.filter(gt => [...g.ancestors(gt.id)].some(id => g.get(id)!.kind === "dryrun" && sameEnv(g.get(id)!)));
            if (withDryrun.length === 0) {
                report(`Deploy step \`${d.id}\`${note} depends on approval gate ${list(gates.map(s => s.id))}, but no dry run `
                    + `comes before the gate.`, d.urn);
                continue;
            }
            // The approved dry run must come after every compile the deploy waits for.
            const compiles = before.filter(s => s.kind === "compile" && sameEnv(s));
            const fresh = withDryrun.some(gt => [...g.ancestors(gt.id)].map(id => g.get(id)!)
                .some(r => r.kind === "dryrun" && sameEnv(r) && compiles.every(c => g.dependsOn(r, c))));
            if (!fresh) {
                const last = g.latest(compiles);
                report(`Deploy step \`${d.id}\`${note}: the dry run before approval gate ${list(withDryrun.map(s => s.id))} does `
                    + `not follow compile ${list(last.map(s => s.id))}, so what was approved is not the version deployed.`, d.urn);
            }
        }
    },
};
