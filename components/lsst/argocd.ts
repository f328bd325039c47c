/**
 * Syncing one Argo CD Application from a client: set its `operation` (what `argocd app sync` and the
 * UI's Sync button do), then read `status` until the operation we started has finished and the
 * application is Synced and Healthy. Pure functions, shared by the step runner and the tests.
 */

export interface SyncPatchOptions {
    /** Recorded in `operation.initiatedBy.username` (the Argo CD UI shows it). */
    initiatedBy: string;
    /** Why, recorded in `operation.info` (stack, run key, step). */
    reason?: string;
    /** A revision to sync to; the application's targetRevision when absent. */
    revision?: string;
    prune?: boolean;
}

/** The merge patch that asks Argo CD to sync an Application: `kubectl patch application <app> --type merge -p <this>`. */
export function syncPatch(o: SyncPatchOptions): { operation: Record<string, unknown> } {
    const sync: Record<string, unknown> = { syncStrategy: { hook: {} } };
    if (o.revision) sync.revision = o.revision;
    if (o.prune) sync.prune = true;
    return {
        operation: {
            initiatedBy: { username: o.initiatedBy },
            ...(o.reason ? { info: [{ name: "reason", value: o.reason }] } : {}),
            sync,
        },
    };
}

/** What matters of an Application's state for a sync. */
export interface AppState {
    name: string;
    /** An operation is set and not yet finished (requested or running). */
    operationPending: boolean;
    /** status.operationState: the last (or current) operation. */
    phase?: string;
    startedAt?: string;
    message?: string;
    /** status.sync.status: Synced, OutOfSync, Unknown. */
    sync: string;
    /** status.health.status: Healthy, Progressing, Degraded, Suspended, Missing, Unknown. */
    health: string;
    healthMessage?: string;
    revision?: string;
    /** The `reason` recorded by whoever started the last operation (operationState.operation.info). */
    reason?: string;
}

type Doc = Record<string, any>;

export const TERMINAL_PHASES = ["Succeeded", "Failed", "Error"];

export function appState(doc: Doc): AppState {
    const status: Doc = doc.status ?? {};
    const op: Doc = status.operationState ?? {};
    const phase = typeof op.phase === "string" ? op.phase : undefined;
    return {
        name: String(doc.metadata?.name ?? "?"),
        operationPending: doc.operation != null || phase === "Running" || phase === "Terminating",
        phase,
        startedAt: typeof op.startedAt === "string" ? op.startedAt : undefined,
        message: typeof op.message === "string" ? op.message : undefined,
        sync: String(status.sync?.status ?? "Unknown"),
        health: String(status.health?.status ?? "Unknown"),
        healthMessage: typeof status.health?.message === "string" ? status.health.message : undefined,
        revision: typeof status.sync?.revision === "string" ? status.sync.revision : undefined,
        reason: Array.isArray(op.operation?.info)
            ? (op.operation.info as { name?: string; value?: string }[]).find(i => i.name === "reason")?.value
            : undefined,
    };
}

export type SyncProgress =
    | { done: true; state: AppState }
    | { done: false; failed?: string; state: AppState; describe: string };

/**
 * Where a sync stands. An earlier operation is never taken for ours: ours carries our `reason`
 * (unique per request); where Argo CD kept no reason, ours is one that started after the one that
 * was there before we asked.
 */
export function syncProgress(s: AppState, ours: { reason: string; previousStartedAt?: string }, needsHealthy = true): SyncProgress {
    const mine = s.reason !== undefined
        ? s.reason === ours.reason
        : s.startedAt !== undefined && s.startedAt !== ours.previousStartedAt;
    if (!mine) return syncNotStarted(s);
    return syncOutcome(s, needsHealthy);
}

function syncNotStarted(s: AppState): SyncProgress {
    return { done: false, state: s, describe: `sync requested, not started yet; sync=${s.sync} health=${s.health}` };
}

function syncOutcome(s: AppState, needsHealthy: boolean): SyncProgress {
    const status = `sync=${s.sync} health=${s.health}${s.healthMessage ? ` (${s.healthMessage})` : ""}`;
    if (s.operationPending || !s.phase || !TERMINAL_PHASES.includes(s.phase)) {
        return { done: false, state: s, describe: `operation ${s.phase ?? "pending"}${s.message ? `: ${s.message}` : ""}; ${status}` };
    }
    if (s.phase !== "Succeeded") {
        return { done: false, failed: `sync ${s.phase}${s.message ? `: ${s.message}` : ""}`, state: s, describe: status };
    }
    if (s.sync === "Synced" && (!needsHealthy || s.health === "Healthy")) return { done: true, state: s };
    return { done: false, state: s, describe: `operation Succeeded; ${status}` };
}

/**
 * The verdict on the state the Kubernetes provider's await ended on (components/kubernetes/argocd-sync.ts):
 * the operation of this run (`run`, its first `info` entry) succeeded and the app is what it needs, or
 * the reason it is not, with Argo CD's own message.
 */
export function syncVerdict(app: string, observed: unknown, run: string, needsHealthy: boolean): { ok: true; state: AppState } | { ok: false; problem: string; state: AppState } {
    const status = observed && typeof observed === "object" ? observed as Doc : {};
    const s = appState({ metadata: { name: app }, status });
    const info = status.operationState?.operation?.info;
    const marker = Array.isArray(info) ? info[0]?.value : undefined;
    if (marker !== run) {
        return { ok: false, problem: `${app}: the state seen is not of this run's sync (operation ${marker ?? "none"}, expected ${run})`, state: s };
    }
    const where = `sync=${s.sync} health=${s.health}${s.healthMessage ? ` (${s.healthMessage})` : ""}`;
    if (s.phase !== "Succeeded") {
        return { ok: false, problem: `${app}: sync ${s.phase ?? "not finished"}${s.message ? `: ${s.message}` : ""} (${where})`, state: s };
    }
    if (s.sync !== "Synced" || (needsHealthy && s.health !== "Healthy")) {
        return { ok: false, problem: `${app}: the sync succeeded but the app is not ${needsHealthy ? "Synced and Healthy" : "Synced"} (${where})`, state: s };
    }
    return { ok: true, state: s };
}
