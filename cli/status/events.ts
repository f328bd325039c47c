import * as fs from "fs";

/** A step as the engine's event log tells it (`pulumi up --event-log <file>`, one JSON event a line). */
export interface EventStep {
    startedAt?: string;
    finishedAt?: string;
    failed?: boolean;
    error?: string;
}

const COMMAND_TYPES = new Set(["command:local:Command", "command:remote:Command"]);

function nameOf(urn: string): string {
    return urn.slice(urn.lastIndexOf("::") + 2);
}

/** Per step id, what the last update's events say; a missing or partly written file gives what it has. */
export function readEventLog(file: string | undefined): Map<string, EventStep> {
    const out = new Map<string, EventStep>();
    if (!file || !fs.existsSync(file)) return out;
    const get = (id: string) => out.get(id) ?? (out.set(id, {}), out.get(id)!);
    for (const line of fs.readFileSync(file, "utf8").split("\n")) {
        if (!line.trim()) continue;
        let e: Record<string, any>;
        try {
            e = JSON.parse(line);
        } catch {
            continue;
        }
        const at = typeof e.timestamp === "number" ? new Date(e.timestamp * 1000).toISOString() : undefined;
        const meta = (e.resourcePreEvent ?? e.resOutputsEvent ?? e.resOpFailedEvent)?.metadata;
        if (meta && COMMAND_TYPES.has(meta.type) && meta.op !== "same") {
            const s = get(nameOf(meta.urn));
            if (e.resourcePreEvent) Object.assign(s, { startedAt: at, finishedAt: undefined, failed: false, error: undefined });
            else if (e.resOutputsEvent) s.finishedAt = at;
            else s.failed = true;
        }
        const d = e.diagnosticEvent;
        if (d && d.severity === "error" && d.urn && COMMAND_TYPES.has(String(d.urn).split("::")[2]?.split("$").pop() ?? "")) {
            const s = get(nameOf(d.urn));
            s.error = String(d.message).trim();
        }
    }
    return out;
}
