import type { StackValidationPolicy } from "@pulumi/policy";
import { readConfig, stringList } from "../config";
import { buildGraph, isSettingOf, list, param, StepNode, touches } from "../graph";

export interface SettingsRestoredConfig {
    /** Settings that are meant to stay as set. */
    keep: string[];
    /** Only these procedures (all when empty). */
    procedures: string[];
}

export const SETTINGS_RESTORED_DEFAULTS: SettingsRestoredConfig = { keep: ["protected_environment"], procedures: [] };

/**
 * A procedure that changes settings for its deploys sets them again after its last deploy: the extra
 * careful deploy disengages spontaneous deploys and restores every setting at the end (the autostart
 * intervals to the values it noted first); an upgrade turns auto_deploy off and on again. For every
 * `setting` step some deploy waits for, a `setting` step of the same name follows it and every deploy.
 */
export const settingsRestored: StackValidationPolicy = {
    name: "settings-restored",
    description: "A procedure (the careful deploy) restores every setting it changed before its deploys.",
    enforcementLevel: "advisory",
    configSchema: {
        properties: {
            keep: stringList("Settings meant to stay as set.", SETTINGS_RESTORED_DEFAULTS.keep),
            procedures: stringList("Only these procedures (all when empty).", SETTINGS_RESTORED_DEFAULTS.procedures),
        },
    },
    validateStack: (args, report) => {
        const cfg = readConfig(args, SETTINGS_RESTORED_DEFAULTS);
        const g = buildGraph(args.resources);
        if (g.ofKind("deploy").length === 0) args.notApplicable("the stack has no deploy step");
        for (const [procedure, steps] of g.procedures()) {
            if (cfg.procedures.length > 0 && !cfg.procedures.includes(procedure)) continue;
            for (const env of g.environments()) {
                const deploys = steps.filter(s => s.kind === "deploy" && touches(s, env));
                if (deploys.length === 0) continue;
                const settings = steps.filter(s => s.kind === "setting" && s.environment === env);
                const changed = settings.filter(s => typeof param(s, "name") === "string" && !cfg.keep.includes(param(s, "name") as string)
                    && deploys.some(d => g.dependsOn(d, s)));
                const afterAll = (s: StepNode) => deploys.every(d => g.dependsOn(s, d));
                const unreadable = settings.filter(s => typeof param(s, "name") !== "string" && afterAll(s));
                const missing = new Map<string, StepNode>();
                for (const c of changed) {
                    const name = param(c, "name") as string;
                    if (!settings.some(r => r !== c && isSettingOf(r, name) && g.dependsOn(r, c) && afterAll(r))) missing.set(name, c);
                }
                if (missing.size === 0) continue;
                const first = [...missing.values()][0];
                const note = unreadable.length > 0
                    ? ` (${list(unreadable.map(s => s.id))} may restore some: their params are unknown during preview)` : "";
                report(`Procedure ${procedure || "(none)"}, environment ${env}: ${[...missing.entries()]
                    .map(([n, s]) => `${n} (changed by \`${s.id}\`)`).join(", ")} ${missing.size === 1 ? "is" : "are"} not set again `
                    + `after the last deploy ${list(g.latest(deploys).map(d => d.id))}${note}.`, first.urn);
            }
        }
    },
};
