import { z } from "zod";

/** Step ids name resources: letters, digits and dashes. */
const STEP_ID = /^[a-z0-9][a-z0-9-]*$/;

export const gateApprovalSchema = z.strictObject({
    /** The run the approval is for (`upgrade:target`, with `#<rerun>` when the rerun counter was bumped). */
    runKey: z.union([z.string().trim().min(1, "must not be empty"), z.number()]).transform(String),
    /** The id of the operator gate (as `npm run -s plan` shows it). */
    step: z.string().regex(STEP_ID, "must be a step id (lower-case letters, digits and dashes)"),
    /** Who looked, for the report. */
    by: z.string().trim().min(1).optional(),
});

/** `upgrade:gates`: how long an operator gate waits for a go, and the gates pre-approved for a run. */
export const gatesSchema = z.strictObject({
    timeoutSeconds: z.number().int().positive().max(7 * 24 * 3600, "must be at most a week (604800 s)").default(3600),
    approved: z.array(gateApprovalSchema).default([]),
});

export type GatesConfig = z.output<typeof gatesSchema>;
export const DEFAULT_GATES: GatesConfig = { timeoutSeconds: 3600, approved: [] };
