import { StepRecord } from "../../components/core/registry";
import { isAlive } from "../alive";
import { readSignal, waitingFile, WaitingSignal, goCommand } from "../gates/signals";
import { JournalEntry } from "../journal/journal";
import { EventStep } from "./events";
import { StackState } from "./state";

export type StepStatus = "done" | "running" | "failed" | "pending";

export interface StepLine {
    id: string;
    kind: string;
    title: string;
    status: StepStatus;
    startedAt?: string;
    finishedAt?: string;
    durationSeconds?: number;
    error?: string;
    /** An operator gate waiting for a go: the command that lets it through. */
    waitingFor?: string;
    /** Who ran it (the step runner's user). */
    by?: string;
    /** The step's JSON result, for the report (runner steps). */
    result?: Record<string, unknown>;
}

export interface Checklist {
    stack: string;
    procedure: string;
    runKey: string;
    /** An update is running (the state has pending operations or a step runner is alive). */
    updating: boolean;
    steps: StepLine[];
    /** Where the procedure stopped and resumes, after a failed update. */
    resumesAt?: string[];
}

function seconds(from?: string, to?: string): number | undefined {
    if (!from || !to) return undefined;
    return Math.max(0, Math.round((Date.parse(to) - Date.parse(from)) / 100) / 10);
}

function parseResult(stdout: string | undefined): Record<string, unknown> | undefined {
    if (!stdout) return undefined;
    try {
        const v = JSON.parse(stdout.trim());
        return v && typeof v === "object" && !Array.isArray(v) ? v : undefined;
    } catch {
        return undefined;
    }
}

export interface Sources {
    stack: string;
    procedure: string;
    runKey: string;
    /** The plan: the steps in execution order. */
    steps: StepRecord[];
    state: StackState;
    journal: JournalEntry[];
    events: Map<string, EventStep>;
    env?: NodeJS.ProcessEnv;
    cwd?: string;
    now?: Date;
}

/**
 * The checklist of `plan`, each step marked from what the update left: the state (done for this run
 * key; running while the engine holds it as a pending operation), the step journal (start times, who,
 * why it failed) and the engine's events when an event log is given (shell steps' times and errors).
 */
export function collect(src: Sources): Checklist {
    const now = (src.now ?? new Date()).toISOString();
    const lastRun = new Map<string, JournalEntry[]>();
    for (const e of src.journal) {
        if (e.event === "start") lastRun.set(e.step, [e]);
        else lastRun.get(e.step)?.push(e);
    }
    let updating = src.state.pending.size > 0;
    const steps: StepLine[] = src.steps.map(s => {
        const line: StepLine = { id: s.id, kind: s.kind, title: s.title, status: "pending" };
        const inState = src.state.commands.get(s.id);
        const journal = lastRun.get(s.id) ?? [];
        const start = journal[0];
        const end = journal.find(e => e.event !== "start");
        const ev = src.events.get(s.id);
        const doneNow = !!inState && inState.runKey === src.runKey && !src.state.pending.has(s.id);
        if (doneNow) {
            line.status = "done";
            line.finishedAt = end?.event === "done" ? end.at : ev?.finishedAt ?? inState!.modified ?? inState!.created;
            line.startedAt = start && (!line.finishedAt || start.at <= line.finishedAt) ? start.at : ev?.startedAt;
            line.result = parseResult(inState!.stdout);
        } else if (src.state.pending.has(s.id) || (start && !end && isAlive(start.pid))) {
            line.status = "running";
            updating = true;
            line.startedAt = start?.at ?? ev?.startedAt;
            const waiting = readSignal<WaitingSignal>(waitingFile(src.stack, s.id, src.env, src.cwd));
            if (waiting && waiting.runKey === src.runKey && isAlive(waiting.pid)) line.waitingFor = goCommand(src.stack, s.id);
        } else if (end?.event === "failed" || ev?.failed) {
            line.status = "failed";
            line.startedAt = start?.at ?? ev?.startedAt;
            line.finishedAt = end?.at ?? ev?.finishedAt;
            line.error = end?.error ?? ev?.error ?? "failed (see the update's log)";
        } else if (start && !end) {
            line.status = "failed";
            line.startedAt = start.at;
            line.error = "stopped without a result (the update was interrupted)";
        }
        if (start) line.by = start.user;
        line.durationSeconds = seconds(line.startedAt, line.status === "running" ? now : line.finishedAt);
        return line;
    });
    const byId = new Map(steps.map(l => [l.id, l]));
    const started = steps.some(l => l.status !== "pending");
    const resumesAt = !updating && started && steps.some(l => l.status !== "done")
        ? steps.filter(l => l.status !== "done" && src.steps.find(s => s.id === l.id)!.dependsOn.every(d => byId.get(d)?.status === "done")).map(l => l.id)
        : undefined;
    return { stack: src.stack, procedure: src.procedure, runKey: src.runKey, updating, steps, ...(resumesAt ? { resumesAt } : {}) };
}
