import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { journalFile } from "./paths";

/**
 * The step journal: one JSON line per start, end and failure of a step run by the step runner.
 * The state says which steps are done; the journal adds when they started, who ran them and why one failed.
 * Lines are appended with O_APPEND in one write each, so steps that run side by side never mix them.
 */
export interface JournalEntry {
    step: string;
    kind: string;
    event: "start" | "done" | "failed";
    /** ISO time. */
    at: string;
    user: string;
    pid: number;
    error?: string;
}

export function currentUser(env: NodeJS.ProcessEnv = process.env): string {
    try {
        return env.UPGRADE_OPERATOR || os.userInfo().username;
    } catch {
        return env.USER || "unknown";
    }
}

export function appendJournal(stack: string, e: Omit<JournalEntry, "at" | "user" | "pid">, env: NodeJS.ProcessEnv = process.env, cwd?: string): void {
    const file = journalFile(stack, env, cwd);
    const entry: JournalEntry = { ...e, at: new Date().toISOString(), user: currentUser(env), pid: process.pid };
    try {
        fs.mkdirSync(path.dirname(file), { recursive: true });
        fs.appendFileSync(file, JSON.stringify(entry) + "\n");
    } catch {
        // The journal is for the operator's checklist; a read-only checkout still runs its steps.
    }
}

export function readJournal(stack: string, env: NodeJS.ProcessEnv = process.env, cwd?: string): JournalEntry[] {
    const file = journalFile(stack, env, cwd);
    if (!fs.existsSync(file)) return [];
    const out: JournalEntry[] = [];
    for (const line of fs.readFileSync(file, "utf8").split("\n")) {
        if (!line.trim()) continue;
        try {
            out.push(JSON.parse(line) as JournalEntry);
        } catch {
            // a line cut by a killed process
        }
    }
    return out;
}
