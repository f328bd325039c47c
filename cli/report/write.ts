import * as fs from "fs";
import * as path from "path";
import { reportDir } from "../journal/paths";
import { planSteps, readChecklist } from "../status/read";
import { reportHtml } from "./html";
import { reportMarkdown, ReportInput } from "./markdown";
import { timelineBars } from "./timeline";

function writeAtomic(file: string, text: string): void {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    const tmp = `${file}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, text);
    fs.renameSync(tmp, file);
}

export interface WrittenReport {
    input: ReportInput;
    markdown: string;
    html: string;
    files: string[];
}

/**
 * Build the report of a stack's last update and write it to `.upgrade/reports/<stack>/`: report.md and
 * report.html (the latest), and a copy of both named by run key and time. Files are written under a
 * temporary name and renamed: a reader never sees half a report.
 */
export async function buildReport(stack: string, occasion: string, opts: { eventLog?: string; cwd?: string; env?: NodeJS.ProcessEnv; outDir?: string } = {}): Promise<WrittenReport> {
    const cwd = opts.cwd ?? process.cwd();
    const checklist = await readChecklist(stack, { eventLog: opts.eventLog, cwd, env: opts.env });
    const plan = await planSteps(stack, cwd);
    const bars = timelineBars(checklist, new Map(plan.map(s => [s.id, s.dependsOn])));
    const input: ReportInput = { checklist, bars, writtenAt: new Date().toISOString(), occasion };
    const markdown = reportMarkdown(input);
    const html = reportHtml(input);
    const dir = opts.outDir ? path.resolve(cwd, opts.outDir) : reportDir(stack, opts.env, cwd);
    // A project removed meanwhile (a test's temporary copy) gets no report: never recreate its folders.
    if (!fs.existsSync(path.join(cwd, "Pulumi.yaml"))) throw new Error(`${cwd} is no longer a Pulumi project: no report written`);
    const stamp = `${checklist.runKey.replace(/[^A-Za-z0-9_.-]/g, "_")}-${input.writtenAt.replace(/[:.]/g, "-")}`;
    const files = [path.join(dir, "report.md"), path.join(dir, "report.html"), path.join(dir, `${stamp}.md`), path.join(dir, `${stamp}.html`)];
    writeAtomic(files[0], markdown);
    writeAtomic(files[1], html);
    writeAtomic(files[2], markdown);
    writeAtomic(files[3], html);
    return { input, markdown, html, files };
}
