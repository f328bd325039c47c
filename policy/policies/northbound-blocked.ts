import type { StackValidationPolicy } from "@pulumi/policy";
import { readConfig, stringList } from "../config";
import { buildGraph, list } from "../graph";
import { LSM_UPGRADE_PROCEDURES, lsmUpgradeProcedures } from "./scope";

export interface NorthboundConfig {
    /** Procedures always checked, besides those holding an upgrade export. */
    procedures: string[];
    /** Step kinds that change service instances. */
    instanceChangingKinds: string[];
}

export const NORTHBOUND_DEFAULTS: NorthboundConfig = {
    procedures: LSM_UPGRADE_PROCEDURES,
    instanceChangingKinds: ["export", "deploy", "db-restore"],
};

/**
 * LSM upgrades: no instance may change through the north-bound API while the service definition and the
 * inventory change. Every instance-changing step waits for a `northbound-block` step (with no
 * `northbound-unblock` in between), and a `northbound-unblock` step follows it.
 */
export const northboundBlockedDuringChanges: StackValidationPolicy = {
    name: "northbound-blocked-during-changes",
    description: "LSM upgrades: the north-bound API is blocked during instance-changing steps (block before export/deploy, unblock after).",
    enforcementLevel: "advisory",
    configSchema: {
        properties: {
            procedures: stringList("Procedures always checked (procedures with an upgrade export are checked anyway).",
                NORTHBOUND_DEFAULTS.procedures),
            instanceChangingKinds: stringList("Step kinds that change service instances.", NORTHBOUND_DEFAULTS.instanceChangingKinds),
        },
    },
    validateStack: (args, report) => {
        const cfg = readConfig(args, NORTHBOUND_DEFAULTS);
        const g = buildGraph(args.resources);
        const scoped = lsmUpgradeProcedures(g, cfg.procedures);
        if (scoped.size === 0) args.notApplicable("the stack runs no LSM upgrade");
        for (const [, steps] of scoped) {
            for (const s of steps.filter(x => cfg.instanceChangingKinds.includes(x.kind))) {
                const before = g.latest([...g.ancestors(s.id)].map(id => g.get(id)!)
                    .filter(x => x.kind === "northbound-block" || x.kind === "northbound-unblock"));
                if (!before.some(x => x.kind === "northbound-block") || before.some(x => x.kind === "northbound-unblock")) {
                    report(`Step \`${s.id}\` (${s.kind}) changes service instances while the north-bound API may be open: `
                        + `add a \`northbound-block\` step before it.`, s.urn);
                    continue;
                }
                const unblocks = [...g.descendants(s.id)].map(id => g.get(id)!).filter(x => x.kind === "northbound-unblock");
                if (unblocks.length === 0) {
                    report(`Step \`${s.id}\` (${s.kind}): the north-bound API stays blocked after it (blocked by `
                        + `${list(before.map(b => b.id))}); add a \`northbound-unblock\` step at the end.`, s.urn);
                }
            }
        }
    },
};
