import type { StackValidationPolicy } from "@pulumi/policy";
import { readConfig, stringList } from "../config";
import { buildGraph, list, param, StepNode, touches } from "../graph";
import { isUpgradeExport, LSM_UPGRADE_PROCEDURES } from "./scope";

export interface AgentsPausedConfig {
    /** Procedures whose exports are always checked, besides exports that follow an update compile. */
    procedures: string[];
}

export const AGENTS_PAUSED_DEFAULTS: AgentsPausedConfig = { procedures: LSM_UPGRADE_PROCEDURES };

/** Pauses or resumes all agents (no `agent` param). */
const allAgents = (s: StepNode) => param(s, "agent") === undefined;

/**
 * LSM upgrades: while the new service definition is exported, no agent may make a state transition.
 * Every upgrade export (see {@link isUpgradeExport}) waits for an `agents-pause` of all agents of its
 * environment, with no `agents-resume` in between; an `agents-resume` of all agents follows the export,
 * and every dry run after the export waits for it.
 */
export const agentsPausedDuringExport: StackValidationPolicy = {
    name: "agents-paused-during-export",
    description: "LSM upgrades: agents are paused before the export and resumed before the dry run.",
    enforcementLevel: "mandatory",
    configSchema: {
        properties: {
            procedures: stringList("Procedures whose exports are always checked (exports after an `update: true` compile are checked anyway).",
                AGENTS_PAUSED_DEFAULTS.procedures),
        },
    },
    validateStack: (args, report) => {
        const cfg = readConfig(args, AGENTS_PAUSED_DEFAULTS);
        const g = buildGraph(args.resources);
        const upgradeExports = g.ofKind("export").filter(s => isUpgradeExport(g, s, cfg.procedures));
        if (upgradeExports.length === 0) args.notApplicable("the stack has no LSM upgrade export");
        for (const e of upgradeExports) {
            const env = typeof e.environment === "string" ? e.environment : undefined;
            const sameEnv = (s: StepNode) => env === undefined || touches(s, env);
            const before = [...g.ancestors(e.id)].map(id => g.get(id)!);
            const pauses = g.latest(before.filter(s => (s.kind === "agents-pause" || s.kind === "agents-resume") && sameEnv(s) && allAgents(s)));
            if (!pauses.some(s => s.kind === "agents-pause") || pauses.some(s => s.kind === "agents-resume")) {
                report(`Export step \`${e.id}\` does not run with all agents paused: add an \`agents-pause\` step (all agents) `
                    + `before it, with no \`agents-resume\` in between.`, e.urn);
            }
            const after = [...g.descendants(e.id)].map(id => g.get(id)!);
            const resumes = after.filter(s => s.kind === "agents-resume" && sameEnv(s) && allAgents(s));
            if (resumes.length === 0) {
                report(`Export step \`${e.id}\`: no \`agents-resume\` step (all agents) follows it; the agents stay paused.`, e.urn);
                continue;
            }
            const dryruns = after.filter(s => s.kind === "dryrun" && sameEnv(s));
            const early = dryruns.filter(d => !resumes.some(r => g.dependsOn(d, r)));
            if (early.length > 0) {
                report(`Dry run ${list(early.map(d => d.id))} after export \`${e.id}\` does not wait for the agents to be `
                    + `resumed (${list(resumes.map(r => r.id))}); resume them before the dry run.`, early[0].urn);
            }
        }
    },
};
