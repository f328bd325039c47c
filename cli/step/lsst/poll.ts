/**
 * Gates poll a probe with the project's backoff (components/core/backoff.ts), capped at 1 s, so that a
 * condition is noticed within about a second of becoming true, however long the gate waits.
 */
import { retryWithBackoff } from "../../../components/core/backoff";

export interface Observation {
    ready: boolean;
    /** What was seen, in one line (logged when it changes, and in the timeout message). */
    state: string;
    /** What is not ready yet (pods, systems), named in the timeout message. */
    notReady?: string[];
    /** Values the step reports (e.g. a count). */
    values?: Record<string, unknown>;
}

export interface PollOptions {
    /** Longest wait. */
    timeoutMs: number;
    /** Log a warning once when still not ready after this long. */
    warnAfterMs?: number;
    initialDelayMs?: number;
    /** At most 1000 ms. */
    maxDelayMs?: number;
    log: (line: string) => void;
    /** Prefix of the log lines. */
    what: string;
}

export interface PollResult {
    ready: boolean;
    last: Observation;
    elapsedMs: number;
    attempts: number;
}

export const MAX_POLL_DELAY_MS = 1000;

/**
 * Probe until ready or the time is up; never throws for a closed gate (the caller decides what a
 * timeout means). `probe` gets the time left, to bound the command it runs.
 */
export async function pollUntilReady(probe: (remainingMs: number) => Promise<Observation>, o: PollOptions): Promise<PollResult> {
    const started = Date.now();
    let last: Observation | undefined;
    let elapsed = 0;
    let attempts = 0;
    let warned = false;
    const ready = await retryWithBackoff(async remaining => {
        attempts++;
        const obs = await probe(remaining);
        elapsed = Date.now() - started;
        if (obs.state !== last?.state) o.log(`${o.what}: ${obs.state}`);
        last = obs;
        if (obs.ready) return true;
        if (!warned && o.warnAfterMs !== undefined && elapsed >= o.warnAfterMs) {
            warned = true;
            o.log(`${o.what}: still not ready after ${o.warnAfterMs / 1000} s (${obs.state}); waiting up to ${o.timeoutMs / 1000} s`);
        }
        return false;
    }, { timeoutMs: o.timeoutMs, initialDelayMs: o.initialDelayMs, maxDelayMs: Math.min(MAX_POLL_DELAY_MS, o.maxDelayMs ?? MAX_POLL_DELAY_MS) });
    return { ready, last: last!, elapsedMs: elapsed, attempts };
}

/** A probe command's own time limit: what is left of the gate, between 1 s and 30 s. */
export function attemptTimeout(remainingMs: number): number {
    return Math.max(1000, Math.min(30000, remainingMs));
}
