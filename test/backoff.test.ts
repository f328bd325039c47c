import * as assert from "assert";
import { retryWithBackoff } from "../components/core/backoff";

/**
 * The polling schedule on a fake clock: the delays the loop asks for, not how long they took, so a
 * busy machine cannot fail it.
 */
describe("retryWithBackoff: the polling schedule", () => {
    const realNow = Date.now;
    const realSetTimeout = global.setTimeout;
    let now = 0;
    let delays: number[] = [];

    beforeEach(() => {
        now = 1_000_000;
        delays = [];
        Date.now = () => now;
        (global as { setTimeout: unknown }).setTimeout = ((fn: () => void, ms: number) => {
            delays.push(ms);
            now += ms;
            return realSetTimeout(fn, 0);
        }) as unknown as typeof setTimeout;
    });
    afterEach(() => {
        Date.now = realNow;
        global.setTimeout = realSetTimeout;
    });

    it("tries at once, then doubles the delay from 100 ms up to the 1 s cap, and cuts the last one to the deadline", async () => {
        const attempts: number[] = [];
        const ok = await retryWithBackoff(async remaining => { attempts.push(remaining); return false; }, { timeoutMs: 5000 });
        assert.equal(ok, false);
        assert.deepEqual(delays, [100, 200, 400, 800, 1000, 1000, 1000, 500]);
        assert.deepEqual(attempts, [5000, 4900, 4700, 4300, 3500, 2500, 1500, 500, 0]);
    });

    it("stops at the first attempt that succeeds", async () => {
        let n = 0;
        const ok = await retryWithBackoff(async () => ++n === 3, { timeoutMs: 60000, initialDelayMs: 50, maxDelayMs: 80 });
        assert.equal(ok, true);
        assert.equal(n, 3);
        assert.deepEqual(delays, [50, 80]);
    });
});
