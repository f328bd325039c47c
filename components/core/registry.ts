/**
 * The step registry: every step records what it is when it is constructed, so the
 * `plan` command can print the procedure from the very resources `pulumi up` registers.
 */

export interface StepRecord {
    /** Unique step id; also the Pulumi resource name of the step. */
    id: string;
    /** Shared vocabulary of plan-format.md (setting, compile, dryrun, …). */
    kind: string;
    title: string;
    params: Record<string, unknown>;
    /** Ids of the direct predecessors. */
    dependsOn: string[];
    /** The procedure component this step belongs to. */
    procedure?: string;
}

const records: StepRecord[] = [];
const ids = new Set<string>();

export function recordStep(record: StepRecord): void {
    if (ids.has(record.id)) {
        throw new Error(`duplicate step id "${record.id}": step ids name resources and must be unique in a stack`);
    }
    ids.add(record.id);
    records.push(record);
}

/** The steps recorded so far, in registration order. */
export function recordedSteps(): StepRecord[] {
    return records.map(r => ({ ...r, dependsOn: [...r.dependsOn] }));
}

/** Forget every recorded step (a new program evaluation starts). */
export function resetRegistry(): void {
    records.length = 0;
    ids.clear();
}
