import { Checklist, StepLine } from "../status/collect";

/** One bar of the timeline: a step that started, with its (possibly inferred) start and its end. */
export interface Bar {
    index: number;
    id: string;
    title: string;
    status: StepLine["status"];
    start: number;
    end: number;
    /** The start was not recorded: the step started when the last step it waits for ended. */
    inferredStart: boolean;
}

/**
 * The bars of the steps that ran (or run), in the plan's order. A step the journal and the event log
 * did not see (a shell step) started when its last dependency ended: the engine starts a step as soon
 * as every step it waits for is done.
 */
export function timelineBars(c: Checklist, dependsOn: Map<string, string[]>, now = Date.now()): Bar[] {
    const ends = new Map<string, number>();
    const bars: Bar[] = [];
    c.steps.forEach((l, index) => {
        if (l.status === "pending") return;
        let start = l.startedAt ? Date.parse(l.startedAt) : NaN;
        const end = l.finishedAt ? Date.parse(l.finishedAt) : l.status === "running" ? now : NaN;
        let inferredStart = false;
        if (Number.isNaN(start)) {
            const deps = (dependsOn.get(l.id) ?? []).map(d => ends.get(d)).filter((x): x is number => x !== undefined);
            start = deps.length ? Math.max(...deps) : Number.isNaN(end) ? NaN : end;
            inferredStart = true;
        }
        if (Number.isNaN(start)) return;
        const e = Number.isNaN(end) ? start : Math.max(end, start);
        ends.set(l.id, e);
        bars.push({ index, id: l.id, title: l.title, status: l.status, start, end: e, inferredStart });
    });
    return bars;
}

/** A colour per bar, distinct for neighbours (golden-angle hues), as exact RGB so a screenshot can find each bar. */
export function barColor(i: number): [number, number, number] {
    const h = (i * 137.508) % 360;
    const s = 0.65;
    const l = 0.45;
    const k = (n: number) => (n + h / 30) % 12;
    const a = s * Math.min(l, 1 - l);
    const f = (n: number) => l - a * Math.max(-1, Math.min(k(n) - 3, Math.min(9 - k(n), 1)));
    return [Math.round(f(0) * 255), Math.round(f(8) * 255), Math.round(f(4) * 255)];
}

function mermaidTime(t: number): string {
    return new Date(t).toISOString().slice(0, 19).replace("T", " ");
}

/** The same timeline as a mermaid gantt (rendered by GitHub and GitLab in markdown). */
export function mermaidGantt(c: Checklist, bars: Bar[]): string {
    const lines = ["```mermaid", "gantt", `    title ${c.procedure} (run ${c.runKey.replace(/[:#;]/g, " ")})`,
        "    dateFormat YYYY-MM-DD HH:mm:ss", "    axisFormat %H:%M:%S", `    section ${c.stack}`];
    for (const b of bars) {
        const tag = b.status === "failed" ? "crit, " : b.status === "running" ? "active, " : "done, ";
        // A task needs some length to be drawn; a step of less than a second gets one second.
        const end = Math.max(b.end, b.start + 1000);
        lines.push(`    ${b.id} :${tag}s${b.index + 1}, ${mermaidTime(b.start)}, ${mermaidTime(end)}`);
    }
    lines.push("```");
    return lines.join("\n");
}
