import { Checklist } from "../status/collect";
import { keyResults, overallOf, ReportInput } from "./markdown";
import { Bar, barColor } from "./timeline";

function esc(s: string): string {
    return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}

/** Geometry of the timeline picture: one row per bar, in the plan's order. */
export const TIMELINE = { left: 280, width: 880, top: 30, row: 24, bar: 16 };

function svg(c: Checklist, bars: Bar[]): string {
    const t = TIMELINE;
    const height = t.top + bars.length * t.row + 10;
    if (!bars.length) return `<p>No step ran yet.</p>`;
    const t0 = Math.min(...bars.map(b => b.start));
    const t1 = Math.max(...bars.map(b => b.end), t0 + 1000);
    const x = (ms: number) => t.left + ((ms - t0) / (t1 - t0)) * (t.width - t.left - 10);
    const parts: string[] = [];
    // Time axis: five ticks.
    for (let i = 0; i <= 4; i++) {
        const ms = t0 + ((t1 - t0) * i) / 4;
        parts.push(`<line x1="${x(ms).toFixed(1)}" y1="${t.top - 6}" x2="${x(ms).toFixed(1)}" y2="${height - 6}" stroke="#ddd"/>`,
            `<text x="${x(ms).toFixed(1)}" y="${t.top - 10}" font-size="11" text-anchor="middle" fill="#555">${new Date(ms).toISOString().slice(11, 19)}</text>`);
    }
    bars.forEach((b, row) => {
        const y = t.top + row * t.row;
        const [r, g, bl] = barColor(b.index);
        const x0 = x(b.start);
        const w = Math.max(4, x(b.end) - x0);
        parts.push(`<text x="${t.left - 8}" y="${y + t.bar - 3}" font-size="12" text-anchor="end">${esc(b.id)}</text>`,
            `<rect class="bar ${b.status}" data-step="${esc(b.id)}" data-index="${b.index}" x="${x0.toFixed(1)}" y="${y}" width="${w.toFixed(1)}" height="${t.bar}" ` +
            `fill="rgb(${r},${g},${bl})" shape-rendering="crispEdges"><title>${esc(b.title)} (${b.status})</title></rect>`);
        if (b.status === "failed") parts.push(`<text x="${(x0 + w + 4).toFixed(1)}" y="${y + t.bar - 3}" font-size="12" fill="#b00">failed</text>`);
    });
    return `<svg xmlns="http://www.w3.org/2000/svg" id="timeline" width="${t.width}" height="${height}" viewBox="0 0 ${t.width} ${height}" font-family="DejaVu Sans, sans-serif">${parts.join("")}</svg>`;
}

/** The report as one HTML page: the timeline drawn as inline SVG, no script, no network. */
export function reportHtml(r: ReportInput): string {
    const c = r.checklist;
    const rows = c.steps.map((l, i) => `<tr class="${l.status}"><td>${i + 1}</td><td>${esc(l.title)}<br><code>${esc(l.id)}</code></td>` +
        `<td>${esc(l.kind)}</td><td>${l.status}</td><td>${l.startedAt ? esc(l.startedAt.replace("T", " ").slice(0, 19)) : ""}</td>` +
        `<td>${l.durationSeconds !== undefined ? `${l.durationSeconds} s` : ""}</td><td>${esc(keyResults(l).replace(/`/g, ""))}` +
        `${l.error ? `<br><span class="error">${esc(l.error.split("\n")[0])}</span>` : ""}</td></tr>`).join("\n");
    return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>Upgrade report: ${esc(c.procedure)} ${esc(c.stack)} ${esc(c.runKey)}</title>
<style>
body { font-family: "DejaVu Sans", sans-serif; margin: 16px; color: #222; }
h1 { font-size: 20px; margin: 0 0 8px; } h2 { font-size: 16px; margin: 18px 0 6px; }
table { border-collapse: collapse; font-size: 12px; } td, th { border: 1px solid #ccc; padding: 3px 6px; vertical-align: top; text-align: left; }
tr.failed td { background: #fee; } .error { color: #b00; } code { font-size: 11px; }
</style></head>
<body>
<h1>Upgrade report: ${esc(c.procedure)}, stack <code>${esc(c.stack)}</code></h1>
<p>Run key <code>${esc(c.runKey)}</code>; outcome <b>${overallOf(c)}</b>; written ${esc(r.writtenAt.replace("T", " ").slice(0, 19))} UTC, ${esc(r.occasion)}.</p>
<h2>Timeline</h2>
${svg(c, r.bars)}
<h2>Steps</h2>
<table><tr><th>#</th><th>step</th><th>kind</th><th>status</th><th>started (UTC)</th><th>duration</th><th>key results</th></tr>
${rows}
</table>
</body></html>
`;
}
