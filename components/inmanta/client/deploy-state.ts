/**
 * Deploy state on servers with the resource scheduler (inmanta-core 15.0 and later), where
 * `GET /api/v1/version/<id>` no longer carries `deployed`, `done` or `result` and its resources no status.
 *
 * - `GET /api/v2/scheduler_status`: while the scheduler has not read the latest released version, its maps
 *   are empty and `discrepancies` is a list holding `{rid: null, field: "model_version", expected, actual}`
 *   (`actual`: the version the scheduler has); once it has, `discrepancies` is a dict.
 * - `GET /api/v2/resource?deploy_summary=true`: one row per resource of the latest released version with
 *   its `status`. The rows carry the new version as soon as the release is committed, before the scheduler
 *   read it, with the old status: only trusted after the scheduler took the version.
 *   Finished: no row `deploying` or `available` (intent not deployed yet); orphans are not counted.
 * Observed on inmanta-core 20.1.0 (shared/notes/inmanta-20.md); source: inmanta-core
 * src/inmanta/server/services/resourceservice.py and src/inmanta/deploy/scheduler.py.
 */

/** Row statuses that end a deploy without the intent in place: the deploy step fails naming these. */
export const SCHEDULER_FAILED_STATES: readonly string[] = ["failed", "unavailable", "skipped"];
/** Row statuses of work still to do. */
const SCHEDULER_BUSY_STATES = new Set(["deploying", "available"]);

export interface ResourceRowDto {
    resource_id: string;
    resource_version_id?: string;
    status: string;
    id_details?: { agent?: string };
}

export interface SchedulerStatusDto {
    scheduler_state?: Record<string, unknown>;
    discrepancies?: unknown;
}

/**
 * The version the scheduler works on relative to `released`: "taken" when it has read that version (or a
 * later one), else the version it still has (null when it reports none).
 */
export function schedulerProgress(status: SchedulerStatusDto | undefined, released: number): { taken: true } | { taken: false; has: number | null } {
    const d = status?.discrepancies;
    if (!Array.isArray(d)) return { taken: true };
    const entry = d.find((x) => x && typeof x === "object" && (x as { field?: unknown }).field === "model_version") as
        | { actual?: unknown }
        | undefined;
    if (!entry) return { taken: true };
    const has = entry.actual === null || entry.actual === undefined ? null : Number(entry.actual);
    if (has !== null && Number.isFinite(has) && has >= released) return { taken: true };
    return { taken: false, has: has !== null && Number.isFinite(has) ? has : null };
}

/** The version a row belongs to (",v=N" of its resource_version_id), if any. */
export function rowVersion(row: ResourceRowDto): number | undefined {
    const m = /,v=(\d+)$/.exec(row.resource_version_id ?? "");
    return m ? Number(m[1]) : undefined;
}

export interface RowSummary {
    /** Non-orphaned rows. */
    total: number;
    /** Rows in a final state. */
    done: number;
    busy: number;
    failed: string[];
    byStatus: Record<string, number>;
}

/** Count the rows of the latest released version (orphans left out of the counts, as the server does). */
export function summarizeRows(rows: ResourceRowDto[], stripVersion: (id: string) => string): RowSummary {
    const byStatus: Record<string, number> = {};
    const failed: string[] = [];
    let total = 0;
    let busy = 0;
    for (const r of rows) {
        const status = r.status ?? "unknown";
        byStatus[status] = (byStatus[status] ?? 0) + 1;
        if (status === "orphaned") continue;
        total += 1;
        if (SCHEDULER_BUSY_STATES.has(status)) busy += 1;
        if (SCHEDULER_FAILED_STATES.includes(status)) failed.push(stripVersion(r.resource_id));
    }
    failed.sort();
    return { total, done: total - busy, busy, failed, byStatus };
}
