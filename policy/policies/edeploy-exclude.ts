import type { StackValidationPolicy } from "@pulumi/policy";
import { buildGraph, param, show, StepNode, UNKNOWN } from "../graph";

/** The param of an `edeploy-upgrade` step naming its exclude file (eDeploy's rsync `--exclude-from`). */
export const EXCLUDE_PARAM = "excludeFile";

/** eDeploy's metadata layout: the exclude file is `<metadataDir>/<from>/<role>/<to>/exclude`. */
export const LAYOUT_PARAMS = ["metadataDir", "from", "role", "to"];

const given = (v: unknown) => v === UNKNOWN || (typeof v === "string" && v.trim() !== "");

/** The exclude file the step uses: its `excludeFile` param, else the one eDeploy's layout names; undefined when neither is given. */
export function excludeFileOf(s: StepNode): string | undefined {
    const v = param(s, EXCLUDE_PARAM);
    if (typeof v === "string" && v.trim() !== "") return v;
    if (v === UNKNOWN && s.paramsKnown) return "<computed>";
    const layout = LAYOUT_PARAMS.map(k => param(s, k));
    if (s.paramsKnown && layout.every(given)) {
        return layout.map(x => (x === UNKNOWN ? "<computed>" : String(x).replace(/\/+$/, ""))).join("/") + "/exclude";
    }
    return undefined;
}

/**
 * eDeploy upgrades rsync a new role tree over a running node; the exclude file lists what must be
 * kept (configuration, data, keys). Every `edeploy-upgrade` step names it: the `excludeFile` param
 * (a non-empty path, or one computed by an earlier step), or else eDeploy's layout params
 * `metadataDir`, `from`, `role` and `to` (the file is then `<metadataDir>/<from>/<role>/<to>/exclude`).
 */
export const edeployExcludeFile: StackValidationPolicy = {
    name: "edeploy-exclude-file",
    description: "Every eDeploy upgrade (edeploy-upgrade step) has an exclude file (param excludeFile).",
    enforcementLevel: "mandatory",
    validateStack: (args, report) => {
        const g = buildGraph(args.resources);
        const upgrades = g.ofKind("edeploy-upgrade");
        if (upgrades.length === 0) args.notApplicable("the stack has no edeploy-upgrade step");
        for (const s of upgrades) {
            if (excludeFileOf(s) !== undefined) continue;
            if (!s.paramsKnown) {
                report(`eDeploy upgrade step \`${s.id}\`: its params are unknown during preview, so its \`${EXCLUDE_PARAM}\` `
                    + `cannot be checked; keep the step's params known (computed values only as leaves).`, s.urn);
                continue;
            }
            report(`eDeploy upgrade step \`${s.id}\` has no exclude file: set its \`${EXCLUDE_PARAM}\` param to the path of `
                + `the file listing what the upgrade must keep (found ${show(param(s, EXCLUDE_PARAM))}), or give eDeploy's `
                + `layout (${LAYOUT_PARAMS.join(", ")}).`, s.urn);
        }
    },
};
