import { Checklist, StepLine, StepStatus } from "./collect";

const MARK: Record<StepStatus, string> = { done: "[x]", running: "[~]", failed: "[!]", pending: "[ ]" };

function clock(iso?: string): string {
    return iso ? iso.slice(11, 19) : "";
}

function duration(s?: number): string {
    if (s === undefined) return "";
    if (s < 60) return `${s.toFixed(1)} s`;
    const m = Math.floor(s / 60);
    return m < 60 ? `${m} min ${Math.round(s - m * 60)} s` : `${Math.floor(m / 60)} h ${m % 60} min`;
}

function lineOf(i: number, l: StepLine): string {
    const when = l.startedAt ? ` — ${l.status} — started ${clock(l.startedAt)} UTC, ${duration(l.durationSeconds)}` : l.status === "pending" ? "" : ` — ${l.status}`;
    let out = `${i + 1}. ${MARK[l.status]} ${l.title} — \`${l.id}\` *${l.kind}*${when}`;
    if (l.waitingFor) out += `\n   waiting for a go: \`${l.waitingFor}\``;
    if (l.error) out += `\n   error: ${l.error.split("\n").slice(0, 6).join("\n   ")}`;
    return out;
}

/** The plan's ticket checklist with each step's mark, start time and duration. */
export function checklistMarkdown(c: Checklist): string {
    const counts = (s: StepStatus) => c.steps.filter(l => l.status === s).length;
    const lines = [
        `# ${c.procedure} — stack \`${c.stack}\`, run \`${c.runKey}\``,
        "",
        `${c.updating ? "An update is running. " : ""}${counts("done")} done, ${counts("running")} running, ${counts("failed")} failed, ` +
        `${counts("pending")} pending (of ${c.steps.length}). Marks: [x] done, [~] running, [!] failed, [ ] pending.`,
        "",
        ...c.steps.map((l, i) => lineOf(i, l)),
    ];
    if (c.resumesAt?.length) lines.push("", `The update stopped; \`pulumi up\` again resumes at ${c.resumesAt.map(id => `\`${id}\``).join(", ")}.`);
    return lines.join("\n") + "\n";
}
