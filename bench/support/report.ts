/** Shared helpers of the benchmarks: tables, statistics, the results file, machine facts. */
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

export const BENCH_ROOT = path.join(__dirname, "..");
export const RESULTS_DIR = path.join(BENCH_ROOT, "results");

export type Cell = string | number | undefined;

/** A plain-text table: numbers right-aligned, text left-aligned. */
export function table(headers: string[], rows: Cell[][]): string {
    const text = rows.map(r => r.map(c => (c === undefined ? "" : String(c))));
    const widths = headers.map((h, i) => Math.max(h.length, ...text.map(r => (r[i] ?? "").length)));
    const numeric = headers.map((_, i) => rows.every(r => r[i] === undefined || typeof r[i] === "number" || /^[\d.]+(x|%| s)?$/.test(String(r[i]))));
    const line = (cells: string[]) => cells.map((c, i) => (numeric[i] ? c.padStart(widths[i]) : c.padEnd(widths[i]))).join("  ").trimEnd();
    return [line(headers), widths.map(w => "-".repeat(w)).join("  "), ...text.map(line)].join("\n");
}

export function median(values: number[]): number {
    if (values.length === 0) return NaN;
    const s = [...values].sort((a, b) => a - b);
    const mid = Math.floor(s.length / 2);
    return s.length % 2 ? s[mid] : (s[mid - 1] + s[mid]) / 2;
}

export const round = (x: number, digits = 3): number => Number(x.toFixed(digits));

/** Facts that make ratios comparable between runs. */
export function machine(extra: Record<string, unknown> = {}): Record<string, unknown> {
    const cpus = os.cpus();
    return {
        cpus: cpus.length, cpuModel: cpus[0]?.model, memoryGiB: round(os.totalmem() / 2 ** 30, 1),
        platform: `${os.platform()} ${os.release()}`, node: process.version, loadavg1: round(os.loadavg()[0], 2), ...extra,
    };
}

/** Write bench/results/<name>.json (the folder is not tracked). Returns the path. */
export function writeResults(name: string, data: unknown): string {
    fs.mkdirSync(RESULTS_DIR, { recursive: true });
    const file = path.join(RESULTS_DIR, `${name}.json`);
    fs.writeFileSync(file, JSON.stringify(data, null, 2) + "\n");
    return file;
}

export function say(line = ""): void {
    process.stdout.write(line + "\n");
}
