import { StepRecord } from "../../components/core";

export interface Plan {
    stack: string;
    procedure: string;
    steps: { id: string; kind: string; title: string; params: Record<string, unknown>; dependsOn: string[] }[];
}

export function toPlan(stack: string, procedure: string, steps: StepRecord[]): Plan {
    return {
        stack,
        procedure,
        steps: steps.map(s => ({ id: s.id, kind: s.kind, title: s.title, params: s.params, dependsOn: s.dependsOn })),
    };
}

function paramText(params: Record<string, unknown>): string {
    const parts = Object.entries(params)
        .filter(([k]) => k !== "environment")
        .map(([k, v]) => {
            if (v && typeof v === "object" && "from" in (v as object) && Object.keys(v as object).length === 1) {
                return `${k} from \`${(v as { from: string }).from}\``;
            }
            return `${k}=${typeof v === "string" ? v : JSON.stringify(v)}`;
        });
    return parts.length ? ` (${parts.join(", ")})` : "";
}

/** An operator gate says how a person lets it through: the command, or the stack file's pre-approval. */
function goText(stack: string, s: Plan["steps"][number]): string {
    if (s.kind !== "operator-gate") return "";
    return s.params.preApproved === true
        ? " — pre-approved in the stack file for this run"
        : ` — a person looks, then: \`npm run go -- --stack ${stack} ${s.id}\``;
}

/** A ticket checklist, in the spirit of the seeds' issue templates. */
export function toMarkdown(plan: Plan, runKey: string): string {
    const lines = [
        `# ${plan.procedure} — stack \`${plan.stack}\``,
        "",
        `Run key: \`${runKey}\`. Generated from the program: \`pulumi up\` runs exactly these steps, in this order.`,
        "",
    ];
    plan.steps.forEach((s, i) => {
        const after = s.dependsOn.length ? ` — after ${s.dependsOn.map(d => `\`${d}\``).join(", ")}` : "";
        lines.push(`${i + 1}. [ ] ${s.title} — \`${s.id}\` *${s.kind}*${paramText(s.params)}${after}${goText(plan.stack, s)}`);
    });
    return lines.join("\n") + "\n";
}

export function toMermaid(plan: Plan): string {
    const node = (id: string) => `s_${id.replace(/[^A-Za-z0-9_]/g, "_")}`;
    const lines = ["flowchart TD"];
    for (const s of plan.steps) {
        const label = `${s.id}<br/>${s.kind}`.replace(/"/g, "'");
        lines.push(`  ${node(s.id)}["${label}"]`);
    }
    for (const s of plan.steps) {
        for (const d of s.dependsOn) lines.push(`  ${node(d)} --> ${node(s.id)}`);
    }
    return lines.join("\n") + "\n";
}
