/**
 * The one polling loop of the project (the orchestrator client's waits and the step runner's gates):
 * try at once, then after ~100 ms, 200 ms, 400 ms, ... capped at `maxDelayMs` (1 s by default), so a
 * change is noticed within about `maxDelayMs` of happening without hammering what is polled during
 * long waits. No imports: the step runner loads it without the Pulumi SDK.
 */

export interface BackoffOptions {
    /** Longest wait in ms. */
    timeoutMs: number;
    /** First delay between attempts (default 100 ms). */
    initialDelayMs?: number;
    /** Longest delay between attempts (default 1000 ms). */
    maxDelayMs?: number;
}

/**
 * Call `attempt` (with the time left) until it returns true, or the time is up: resolves true when an
 * attempt succeeded, false at the timeout. The last attempt starts at the latest at the deadline.
 */
export async function retryWithBackoff(attempt: (remainingMs: number) => Promise<boolean>, o: BackoffOptions): Promise<boolean> {
    const started = Date.now();
    const maxDelay = Math.max(10, o.maxDelayMs ?? 1000);
    let delay = Math.min(o.initialDelayMs ?? 100, maxDelay);
    for (;;) {
        if (await attempt(Math.max(0, o.timeoutMs - (Date.now() - started)))) return true;
        const remaining = o.timeoutMs - (Date.now() - started);
        if (remaining <= 0) return false;
        await new Promise(resolve => setTimeout(resolve, Math.min(delay, remaining)));
        delay = Math.min(delay * 2, maxDelay);
    }
}
