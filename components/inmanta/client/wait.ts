/**
 * Polling with exponential backoff: probe at once, then after ~100 ms, 200 ms, 400 ms, ... capped at
 * `maxDelayMs` (1 s by default), so the end of a server-side operation is noticed within `maxDelayMs`
 * (plus one request) of it happening, without hammering the server during long operations.
 */
import { WaitTimeoutError } from "./errors";
import { sleep } from "./http";

export interface PollOptions {
    /** What is being waited for, used in timeout errors and progress lines ("compile", "dry run 3f2e..."). */
    what: string;
    /** Overall timeout in ms. */
    timeoutMs: number;
    /** First delay between probes (default 100 ms). */
    initialDelayMs?: number;
    /** Maximum delay between probes (default 1000 ms). */
    maxDelayMs?: number;
    /** Receives a progress line whenever the observed state changes. */
    log?: (line: string) => void;
    /** Base URL, for the timeout error. */
    url?: string;
}

export interface ProbeResult<T> {
    /** Set when the wait is over. */
    done?: T;
    /** Human readable state, reported on change and in the timeout error. */
    state?: string;
}

export async function pollUntil<T>(probe: () => Promise<ProbeResult<T>>, options: PollOptions): Promise<T> {
    const started = Date.now();
    const maxDelay = Math.max(10, options.maxDelayMs ?? 1000);
    let delay = Math.min(options.initialDelayMs ?? 100, maxDelay);
    let lastState: string | undefined;
    for (;;) {
        const result = await probe();
        if (result.state !== undefined && result.state !== lastState) {
            lastState = result.state;
            options.log?.(`${options.what}: ${result.state}`);
        }
        if (result.done !== undefined) return result.done;

        const remaining = options.timeoutMs - (Date.now() - started);
        if (remaining <= 0) {
            throw new WaitTimeoutError(options.what, options.timeoutMs, lastState, options.url);
        }
        await sleep(Math.min(delay, remaining));
        delay = Math.min(delay * 2, maxDelay);
    }
}
