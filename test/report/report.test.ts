/**
 * The upgrade report, from a checklist as `status` collects it: the markdown's content (run key, who,
 * each step's times and key results, settings before and after, what failed and where it resumes, the
 * mermaid gantt), and the HTML page opened in headless Chromium (Debian's `chromium`, installed by
 * scripts/setup.sh): the screenshot shows every bar that ran, one row each, in the plan's order, each
 * starting where the step started.
 */
import { strict as assert } from "assert";
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { Checklist, StepLine } from "../../cli/status/collect";
import { reportHtml } from "../../cli/report/html";
import { reportMarkdown } from "../../cli/report/markdown";
import { barColor, timelineBars } from "../../cli/report/timeline";
import { findColor, readPng } from "../support/png";

const T0 = Date.parse("2026-12-01T09:00:00.000Z");
const at = (s: number) => new Date(T0 + s * 1000).toISOString();

function line(id: string, kind: string, status: StepLine["status"], from?: number, to?: number, extra: Partial<StepLine> = {}): StepLine {
    return {
        id, kind, title: `Title of ${id}`, status,
        ...(from !== undefined ? { startedAt: at(from) } : {}), ...(to !== undefined ? { finishedAt: at(to) } : {}),
        ...(from !== undefined && to !== undefined ? { durationSeconds: to - from } : {}), by: from !== undefined ? "operator1" : undefined, ...extra,
    };
}

function checklist(): { c: Checklist; deps: Map<string, string[]> } {
    const steps: StepLine[] = [
        line("pre-auto-deploy-off", "setting", "done", 0, 2, { result: { name: "auto_deploy", previous: true, value: false, applied: true } }),
        line("pre-backup", "db-backup", "done", 2, 12, { result: { path: "backups/lsm-2026.sql", sha256: "ab".repeat(32), size: 2048 } }),
        line("upgrade-update-compile", "compile", "done", 12, 40, { result: { version: 7, update: true } }),
        // A shell step: no recorded start, it started when its dependency ended.
        line("upgrade-export", "export", "done", undefined, 55, { result: {} }),
        line("upgrade-dryrun", "dryrun", "done", 55, 70, { result: { version: 7, digest: "sha256:" + "cd".repeat(32) } }),
        line("upgrade-deploy", "deploy", "failed", 70, 90, { error: "deploy of version 7 failed: 2 resources failed\nmore detail" }),
        line("post-auto-deploy-on", "setting", "pending"),
    ];
    const ids = steps.map(s => s.id);
    const deps = new Map(ids.map((id, i) => [id, i ? [ids[i - 1]] : []]));
    return { c: { stack: "lsm-upgrade", procedure: "lsm-upgrade", runKey: "service-model-2.4.0", updating: false, steps, resumesAt: ["upgrade-deploy"] }, deps };
}

function chromium(): string {
    for (const b of ["/usr/bin/chromium", "/usr/bin/chromium-browser"]) if (fs.existsSync(b)) return b;
    assert.fail("chromium is needed (scripts/setup.sh installs Debian's chromium): the test screenshots the report's timeline");
}

describe("upgrade report", function () {
    this.timeout(180000);

    it("markdown: run key, who, each step with times and key results, settings, the failure and where it resumes, a gantt", () => {
        const { c, deps } = checklist();
        const bars = timelineBars(c, deps);
        const md = reportMarkdown({ checklist: c, bars, writtenAt: at(100), occasion: "after pulumi up" });
        assert.match(md, /^# Upgrade report: lsm-upgrade, stack `lsm-upgrade`$/m);
        assert.match(md, /^- Run key: `service-model-2\.4\.0`$/m);
        assert.match(md, /^- Ran by: operator1$/m);
        assert.match(md, /^- Outcome: \*\*failed\*\* \(5 of 7 steps done\)$/m);
        assert.match(md, /^- Time: 2026-12-01 09:00:00 to 2026-12-01 09:01:30 UTC$/m);
        const rows = md.split("\n").filter(l => /^\| \d+ \|/.test(l));
        assert.deepEqual(rows.map(r => r.split(" | ")[0].slice(2)), ["1", "2", "3", "4", "5", "6", "7"]);
        assert.equal(rows[1], `| 2 | Title of pre-backup (\`pre-backup\`) | db-backup | done | 2026-12-01 09:00:02 | 10 s | path: \`backups/lsm-2026.sql\`, sha256: \`${"ab".repeat(32)}\`, size: \`2048\` |`);
        assert.match(rows[2], /\| version: `7`, update: `true` \|$/);
        assert.match(rows[3], /\| 2026-12-01 09:00:40 \(after its dependencies\) \| 15 s \|/);
        assert.match(rows[4], new RegExp(`digest: \`sha256:${"cd".repeat(32)}\``));
        assert.equal(rows[6], "| 7 | Title of post-auto-deploy-on (`post-auto-deploy-on`) | setting | pending |  |  |  |");
        assert.match(md, /^\| auto_deploy \| `true` \| `false` \| `pre-auto-deploy-off` \|$/m);
        assert.match(md, /^- `upgrade-deploy` \(deploy\) failed: deploy of version 7 failed: 2 resources failed \/ more detail$/m);
        assert.match(md, /^- `pulumi up` again resumes at `upgrade-deploy`; the steps before it stay done\.$/m);
        const gantt = md.slice(md.indexOf("```mermaid"), md.lastIndexOf("```"));
        assert.deepEqual(gantt.split("\n").filter(l => /^ {4}[a-z-]+ :/.test(l)), [
            "    pre-auto-deploy-off :done, s1, 2026-12-01 09:00:00, 2026-12-01 09:00:02",
            "    pre-backup :done, s2, 2026-12-01 09:00:02, 2026-12-01 09:00:12",
            "    upgrade-update-compile :done, s3, 2026-12-01 09:00:12, 2026-12-01 09:00:40",
            "    upgrade-export :done, s4, 2026-12-01 09:00:40, 2026-12-01 09:00:55",
            "    upgrade-dryrun :done, s5, 2026-12-01 09:00:55, 2026-12-01 09:01:10",
            "    upgrade-deploy :crit, s6, 2026-12-01 09:01:10, 2026-12-01 09:01:30",
        ]);
        assert.match(gantt, /gantt\n {4}title lsm-upgrade \(run service-model-2\.4\.0\)\n {4}dateFormat YYYY-MM-DD HH:mm:ss/);
    });

    it("HTML: headless Chromium draws the timeline: one bar per step that ran, in order, each where it started", () => {
        const { c, deps } = checklist();
        const bars = timelineBars(c, deps);
        const html = reportHtml({ checklist: c, bars, writtenAt: at(100), occasion: "after pulumi up" });
        assert.doesNotMatch(html, /<script|https?:\/\/(?!www\.w3\.org\/2000\/svg)/, "the page needs no script and no network");
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "report-html-"));
        try {
            const page = path.join(dir, "report.html");
            const shot = path.join(dir, "shot.png");
            fs.writeFileSync(page, html);
            execFileSync(chromium(), ["--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars", "--no-first-run",
                `--user-data-dir=${path.join(dir, "profile")}`, "--window-size=1200,900", `--screenshot=${shot}`, `file://${page}`],
            { stdio: "pipe", timeout: 150000 });
            const img = readPng(fs.readFileSync(shot));
            const boxes = bars.map(b => ({ id: b.id, box: findColor(img, barColor(b.index)) }));
            for (const b of boxes) assert.ok(b.box && b.box.count > 20, `the bar of ${b.id} is drawn`);
            assert.equal(boxes.length, 6, "the pending step has no bar");
            for (let i = 1; i < boxes.length; i++) {
                const prev = boxes[i - 1].box!, cur = boxes[i].box!;
                assert.ok(cur.y0 > prev.y1, `${boxes[i].id} is drawn below ${boxes[i - 1].id}`);
                assert.ok(cur.x0 >= prev.x1 - 2, `${boxes[i].id} starts where ${boxes[i - 1].id} ended (${cur.x0} vs ${prev.x1})`);
            }
            // Widths follow durations: the compile (28 s) is wider than the backup (10 s).
            const w = (id: string) => { const b = boxes.find(x => x.id === id)!.box!; return b.x1 - b.x0; };
            assert.ok(w("upgrade-update-compile") > 2 * w("pre-backup"), `${w("upgrade-update-compile")} vs ${w("pre-backup")}`);
        } finally {
            fs.rmSync(dir, { recursive: true, force: true });
        }
    });
});
