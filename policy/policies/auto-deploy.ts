import type { StackValidationPolicy } from "@pulumi/policy";
import { readConfig, stringList } from "../config";
import { buildGraph, isSettingOf, list, param, show, StepGraph, StepNode, touches, UNKNOWN } from "../graph";

export interface AutoDeployConfig {
    /** Procedures left out of this rule (by name). */
    exemptProcedures: string[];
}

export const AUTO_DEPLOY_DEFAULTS: AutoDeployConfig = { exemptProcedures: [] };

const INTERVALS = ["autostart_agent_deploy_interval", "autostart_agent_repair_interval"];

/**
 * The values `name` has when `step` starts: those set by the last `setting` steps for `name` it waits for
 * (several when they run side by side). A setting step whose name is unknown during preview counts as a
 * possible one, with an unknown value.
 */
export function settingBefore(g: StepGraph, step: StepNode, env: string, name: string): { steps: StepNode[]; values: unknown[] } {
    const candidates = [...g.ancestors(step.id)].map(id => g.get(id)!)
        .filter(s => touches(s, env) && isSettingOf(s, name, true));
    const steps = g.latest(candidates);
    return { steps, values: steps.map(s => (param(s, "name") === name ? param(s, "value") : UNKNOWN)) };
}

const all = (values: unknown[], ok: (v: unknown) => boolean) => values.length > 0 && values.every(ok);
const isZero = (v: unknown) => v === 0 || v === "0";

/**
 * No compile may start a deploy on its own. Before every compile of an environment, either
 * auto_deploy = false (the upgrade and install procedures), or spontaneous deploys are disengaged the
 * way the extra careful deploy does it: auto_deploy = true with push_on_auto_deploy = false and both
 * autostart_agent_deploy_interval and autostart_agent_repair_interval = 0.
 * Where auto_deploy was turned off, a `setting` step turns it on again after the last compile and deploy
 * of the procedure. (The careful deploy's restoring is checked by `settings-restored`.)
 */
export const autoDeployOffDuringUpgrade: StackValidationPolicy = {
    name: "auto-deploy-off-during-upgrade",
    description: "auto_deploy is off before the first compile of an upgrade and on again at its end.",
    enforcementLevel: "mandatory",
    configSchema: {
        properties: {
            exemptProcedures: stringList("Procedures this rule does not apply to.", AUTO_DEPLOY_DEFAULTS.exemptProcedures),
        },
    },
    validateStack: (args, report) => {
        const cfg = readConfig(args, AUTO_DEPLOY_DEFAULTS);
        const g = buildGraph(args.resources);
        if (g.ofKind("compile").length === 0) args.notApplicable("the stack has no compile step");
        for (const [procedure, steps] of g.procedures()) {
            if (cfg.exemptProcedures.includes(procedure)) continue;
            for (const env of g.environments()) {
                const compiles = steps.filter(s => s.kind === "compile" && touches(s, env));
                if (compiles.length === 0) continue;
                let turnedOff = false;
                const unsafe: { compile: StepNode; found: string }[] = [];
                for (const c of compiles) {
                    const autoDeploy = settingBefore(g, c, env, "auto_deploy");
                    if (all(autoDeploy.values, v => v === false)) { turnedOff = true; continue; }
                    const careful = all(autoDeploy.values, v => v === true)
                        && all(settingBefore(g, c, env, "push_on_auto_deploy").values, v => v === false)
                        && INTERVALS.every(n => all(settingBefore(g, c, env, n).values, isZero));
                    if (careful) continue;
                    const found = autoDeploy.steps.length === 0 ? "no step sets auto_deploy before it"
                        : `auto_deploy is ${autoDeploy.values.map(show).join(" or ")} from ${list(autoDeploy.steps.map(s => s.id))}`;
                    unsafe.push({ compile: c, found });
                }
                // Only the first unsafe compiles: the later ones are unsafe for the same reason.
                const first = g.earliest(unsafe.map(u => u.compile));
                for (const { compile: c, found } of unsafe.filter(u => first.includes(u.compile))) {
                    report(`Compile step \`${c.id}\` (environment ${env}) may start a deploy on its own: ${found}. `
                        + `Set auto_deploy = false before the first compile (or disengage spontaneous deploys as the careful `
                        + `deploy does: auto_deploy = true, push_on_auto_deploy = false, both autostart intervals 0).`, c.urn);
                }
                if (!turnedOff) continue;
                const work = steps.filter(s => (s.kind === "compile" || s.kind === "deploy") && touches(s, env));
                const onAgain = steps.filter(s => s.environment === env && isSettingOf(s, "auto_deploy") && param(s, "value") === true
                    && work.every(w => g.dependsOn(s, w)));
                if (onAgain.length === 0) {
                    const last = g.latest(work);
                    report(`Procedure ${procedure || "(none)"}, environment ${env}: auto_deploy is turned off but not on again `
                        + `at the end. Add a \`setting\` step auto_deploy = true after ${list(last.map(s => s.id))}.`, last[0]?.urn);
                }
            }
        }
    },
};
