/**
 * Waiting for the server with the project's backoff (components/core/backoff.ts): the end of a
 * server-side operation is noticed within `maxDelayMs` (plus one request) of it happening.
 */
import { retryWithBackoff } from "../../core/backoff";
import { WaitTimeoutError } from "./errors";

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
    let lastState: string | undefined;
    let result: T | undefined;
    const done = await retryWithBackoff(async () => {
        const r = await probe();
        if (r.state !== undefined && r.state !== lastState) {
            lastState = r.state;
            options.log?.(`${options.what}: ${r.state}`);
        }
        result = r.done;
        return r.done !== undefined;
    }, options);
    if (!done) throw new WaitTimeoutError(options.what, options.timeoutMs, lastState, options.url);
    return result as T;
}
