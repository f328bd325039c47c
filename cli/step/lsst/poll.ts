/**
 * Gates poll a probe: at once, then after 100 ms, 200 ms, 400 ms, ... capped at 1 s, so that a
 * condition is noticed within about a second of becoming true, however long the gate waits.
 */

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

const sleep = (ms: number) => new Promise(resolve => setTimeout(resolve, ms));

/**
 * Probe until ready or the time is up; never throws for a closed gate (the caller decides what a
 * timeout means). `probe` gets the time left, to bound the command it runs.
 */
export async function pollUntilReady(probe: (remainingMs: number) => Promise<Observation>, o: PollOptions): Promise<PollResult> {
    const started = Date.now();
    const maxDelay = Math.min(MAX_POLL_DELAY_MS, Math.max(10, o.maxDelayMs ?? MAX_POLL_DELAY_MS));
    let delay = Math.min(o.initialDelayMs ?? 100, maxDelay);
    let lastState: string | undefined;
    let warned = false;
    let attempts = 0;
    for (;;) {
        attempts++;
        const obs = await probe(Math.max(0, o.timeoutMs - (Date.now() - started)));
        const elapsed = Date.now() - started;
        if (obs.state !== lastState) {
            lastState = obs.state;
            o.log(`${o.what}: ${obs.state}`);
        }
        if (obs.ready) return { ready: true, last: obs, elapsedMs: elapsed, attempts };
        if (!warned && o.warnAfterMs !== undefined && elapsed >= o.warnAfterMs) {
            warned = true;
            o.log(`${o.what}: still not ready after ${o.warnAfterMs / 1000} s (${obs.state}); waiting up to ${o.timeoutMs / 1000} s`);
        }
        const remaining = o.timeoutMs - elapsed;
        if (remaining <= 0) return { ready: false, last: obs, elapsedMs: elapsed, attempts };
        await sleep(Math.min(delay, remaining));
        delay = Math.min(delay * 2, maxDelay);
    }
}

/** A probe command's own time limit: what is left of the gate, between 1 s and 30 s. */
export function attemptTimeout(remainingMs: number): number {
    return Math.max(1000, Math.min(30000, remainingMs));
}
