import { Checklist, StepLine } from "../status/collect";
import { Bar, mermaidGantt } from "./timeline";

export interface ReportInput {
    checklist: Checklist;
    bars: Bar[];
    /** When the report was written, and why ("after pulumi up", "on demand"). */
    writtenAt: string;
    occasion: string;
}

/** The results a change ticket wants, by kind; other kinds show their small scalar results. */
const KEY_RESULTS: Record<string, string[]> = {
    "compile": ["version", "update"],
    "dryrun": ["version", "digest", "summary"],
    "approval-gate": ["approved", "reason", "digest"],
    "db-backup": ["path", "sha256", "size", "tables"],
    "db-restore": ["file", "restored"],
    "setting": ["name", "previous", "value"],
    "deploy": ["version", "result", "done", "total"],
    "operator-gate": ["go", "by", "at", "waitedSeconds"],
    "health-check": ["version", "healthy"],
    "export": ["plugin"],
};

function short(v: unknown): string {
    const text = typeof v === "string" ? v : JSON.stringify(v);
    return text === undefined ? "" : text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

export function keyResults(l: StepLine): string {
    const r = l.result;
    if (!r) return "";
    const keys = KEY_RESULTS[l.kind] ?? Object.keys(r).filter(k => ["string", "number", "boolean"].includes(typeof r[k])).slice(0, 4);
    return keys.filter(k => r[k] !== undefined && r[k] !== null).map(k => `${k}: \`${short(r[k]).replace(/`/g, "'")}\``).join(", ");
}

function clock(iso?: string): string {
    return iso ? iso.replace("T", " ").slice(0, 19) : "";
}

function cell(text: string): string {
    return text.replace(/\|/g, "\\|").replace(/\n/g, " ");
}

export function overallOf(c: Checklist): "running" | "failed" | "stopped" | "succeeded" | "not started" {
    if (c.updating) return "running";
    if (c.steps.some(l => l.status === "failed")) return "failed";
    if (c.steps.every(l => l.status === "done")) return "succeeded";
    return c.steps.some(l => l.status !== "pending") ? "stopped" : "not started";
}

/** The upgrade report for the change ticket. */
export function reportMarkdown(r: ReportInput): string {
    const c = r.checklist;
    const users = [...new Set(c.steps.map(l => l.by).filter(Boolean))];
    const starts = r.bars.map(b => b.start);
    const ends = r.bars.map(b => b.end);
    const span = starts.length ? `${clock(new Date(Math.min(...starts)).toISOString())} to ${clock(new Date(Math.max(...ends)).toISOString())} UTC` : "no step ran";
    const lines = [
        `# Upgrade report: ${c.procedure}, stack \`${c.stack}\``,
        "",
        `- Run key: \`${c.runKey}\``,
        `- Ran by: ${users.length ? users.join(", ") : "unknown (no step runner journal)"}`,
        `- Outcome: **${overallOf(c)}** (${c.steps.filter(l => l.status === "done").length} of ${c.steps.length} steps done)`,
        `- Time: ${span}`,
        `- Written ${clock(r.writtenAt)} UTC, ${r.occasion}`,
        "",
        "## Steps",
        "",
        "| # | step | kind | status | started (UTC) | duration | key results |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ];
    c.steps.forEach((l, i) => {
        const bar = r.bars.find(b => b.id === l.id);
        const started = l.startedAt ? clock(l.startedAt) : bar ? `${clock(new Date(bar.start).toISOString())} (after its dependencies)` : "";
        const duration = l.durationSeconds !== undefined ? `${l.durationSeconds} s` : bar ? `${Math.round((bar.end - bar.start) / 100) / 10} s` : "";
        lines.push(`| ${i + 1} | ${cell(l.title)} (\`${l.id}\`) | ${l.kind} | ${l.status} | ${started} | ${duration} | ${cell(keyResults(l))} |`);
    });
    const settings = c.steps.filter(l => l.kind === "setting" && l.result && "previous" in l.result);
    if (settings.length) {
        lines.push("", "## Settings before and after", "", "| setting | before | after | step |", "| --- | --- | --- | --- |");
        for (const l of settings) {
            lines.push(`| ${cell(String(l.result!.name))} | \`${short(l.result!.previous)}\` | \`${short(l.result!.value)}\` | \`${l.id}\` |`);
        }
    }
    const failed = c.steps.filter(l => l.status === "failed");
    if (failed.length || c.resumesAt?.length) {
        lines.push("", "## What failed, and where it resumes", "");
        for (const l of failed) lines.push(`- \`${l.id}\` (${l.kind}) failed: ${(l.error ?? "").split("\n").slice(0, 8).join(" / ")}`);
        if (c.resumesAt?.length) lines.push(`- \`pulumi up\` again resumes at ${c.resumesAt.map(id => `\`${id}\``).join(", ")}; the steps before it stay done.`);
    }
    lines.push("", "## Timeline", "", mermaidGantt(c, r.bars), "",
        "The same timeline is in `report.html` beside this file (no network needed to view it).");
    return lines.join("\n") + "\n";
}
