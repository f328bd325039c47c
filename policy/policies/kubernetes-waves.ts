import type { StackValidationPolicy } from "@pulumi/policy";
import { buildGraph, list, param, show, StepNode } from "../graph";

function waveOf(s: StepNode): number | undefined {
    const w = param(s, "wave");
    if (typeof w === "number" && Number.isFinite(w)) return w;
    if (typeof w === "string" && /^-?\d+$/.test(w.trim())) return Number(w);
    return undefined;
}

/**
 * Kubernetes (Argo CD) waves: within a procedure, the `argocd-sync` steps are grouped by their `wave`
 * param (a number; lower waves first). Every sync of a wave waits for a `probe-gate` step that waits for
 * every sync of the previous wave: a wave starts only once the one before it is synced and found healthy.
 */
export const kubernetesWavesGated: StackValidationPolicy = {
    name: "kubernetes-waves-gated",
    description: "Each Kubernetes wave (argocd-sync steps) depends on a probe gate after the previous wave.",
    enforcementLevel: "mandatory",
    validateStack: (args, report) => {
        const g = buildGraph(args.resources);
        if (g.ofKind("argocd-sync").length === 0) args.notApplicable("the stack has no argocd-sync step");
        for (const [, steps] of g.procedures()) {
            const syncs = steps.filter(s => s.kind === "argocd-sync");
            const byWave = new Map<number, StepNode[]>();
            for (const s of syncs) {
                const w = waveOf(s);
                if (w === undefined) {
                    report(`Sync step \`${s.id}\` has no numeric \`wave\` param (found ${show(param(s, "wave"))}).`, s.urn);
                    continue;
                }
                if (!byWave.has(w)) byWave.set(w, []);
                byWave.get(w)!.push(s);
            }
            const waves = [...byWave.keys()].sort((a, b) => a - b);
            for (let i = 1; i < waves.length; i++) {
                const previous = byWave.get(waves[i - 1])!;
                for (const s of byWave.get(waves[i])!) {
                    const gated = [...g.ancestors(s.id)].map(id => g.get(id)!)
                        .some(gt => gt.kind === "probe-gate" && previous.every(p => g.dependsOn(gt, p)));
                    if (!gated) {
                        report(`Sync step \`${s.id}\` (wave ${waves[i]}) does not wait for a \`probe-gate\` step after wave `
                            + `${waves[i - 1]} (${list(previous.map(p => p.id))}).`, s.urn);
                    }
                }
            }
        }
    },
};
