/**
 * `operator-gate`: the automatic check (if any) runs first, then the step waits for a person's go:
 * `npm run go -- --stack <stack> <step>` from another terminal, or a pre-approval in the stack file
 * (params.preApproved, decided by the program from `upgrade:gates.approved` for this run key).
 * At the timeout it fails naming the gate, so the update stops there and `pulumi up` again waits here.
 */
import * as fs from "fs";
import { RUN_KEY_ENV } from "../../../components/gates/operator-gate";
import { describeProbe } from "../../../components/lsst/probes";
import { GoSignal, goCommand, goFile, readSignal, waitingFile, WaitingSignal, writeAtomic } from "../../gates/signals";
import { isNumber, isString, param, StepContext, StepFailure } from "../context";
import { pollUntilReady } from "../lsst/poll";
import { notReadyMessage, observe, probeFrom } from "../lsst/probes";

/** How often the gate looks for a go: a file check, cheap. */
export const GO_POLL_MS = 200;

function sleep(ms: number): Promise<void> {
    return new Promise(resolve => setTimeout(resolve, ms));
}

export async function operatorGate(ctx: StepContext): Promise<Record<string, unknown>> {
    const what = param(ctx, "what", isString, "what the operator looks at");
    const timeoutSeconds = param(ctx, "timeoutSeconds", isNumber, "a number of seconds");
    const runKey = ctx.env[RUN_KEY_ENV];
    if (!runKey) throw new StepFailure(`step ${ctx.id}: ${RUN_KEY_ENV} is not set (the program sets it on every operator gate)`);
    const stack = ctx.stack;
    if (!stack) throw new StepFailure(`step ${ctx.id}: UPGRADE_STACK is not set`);
    const look = Array.isArray(ctx.params.look) ? ctx.params.look.map(v => (typeof v === "string" ? v : JSON.stringify(v))) : [];
    const shown = ctx.params.show && typeof ctx.params.show === "object" ? ctx.params.show as Record<string, unknown> : {};
    const started = Date.now();

    let check: Record<string, unknown> | undefined;
    if (ctx.params.probe !== undefined) {
        const probe = probeFrom(ctx.params.probe, ctx.id);
        ctx.log(`automatic check first: ${describeProbe(probe)}`);
        const r = await pollUntilReady(remaining => observe(probe, ctx.env, remaining),
            { timeoutMs: timeoutSeconds * 1000, what: ctx.id, log: ctx.log });
        if (!r.ready) throw new StepFailure(notReadyMessage(what, probe, r.elapsedMs, r.last));
        check = { state: r.last.state, ...(r.last.values ?? {}) };
    }
    const base = { what, runKey, ...(check ? { check } : {}) };
    if (ctx.params.preApproved === true) {
        ctx.log(`pre-approved in stacks/Pulumi.${stack}.yaml for run ${runKey}: going on`);
        return { ...base, go: "pre-approved", by: "stack file", waitedSeconds: 0 };
    }

    const goPath = goFile(stack, ctx.id, ctx.env);
    const given = () => {
        const g = readSignal<GoSignal>(goPath);
        return g && g.runKey === runKey ? g : undefined;
    };
    let go = given();
    if (!go) {
        const command = goCommand(stack, ctx.id);
        const deadline = started + timeoutSeconds * 1000;
        const waiting: WaitingSignal = {
            runKey, what, since: new Date(started).toISOString(), until: new Date(deadline).toISOString(), command, pid: process.pid,
        };
        const waitPath = waitingFile(stack, ctx.id, ctx.env);
        writeAtomic(waitPath, waiting);
        const cleanup = () => fs.rmSync(waitPath, { force: true });
        const onSignal = (sig: NodeJS.Signals) => {
            cleanup();
            process.kill(process.pid, sig);
        };
        process.once("SIGINT", onSignal);
        process.once("SIGTERM", onSignal);
        ctx.log(`OPERATOR GATE: look at ${what}`);
        for (const l of look) ctx.log(`  - ${l}`);
        for (const [k, v] of Object.entries(shown)) ctx.log(`  ${k}: ${typeof v === "string" ? v : JSON.stringify(v)}`);
        ctx.log(`then say go, from another terminal in the project: ${command}`);
        ctx.log(`(unattended runs: add {"runKey": "${runKey}", "step": "${ctx.id}"} to upgrade:gates.approved in stacks/Pulumi.${stack}.yaml)`);
        ctx.log(`waiting up to ${timeoutSeconds} s, until ${waiting.until}`);
        try {
            while (!(go = given())) {
                if (Date.now() >= deadline) {
                    throw new StepFailure(`operator gate ${ctx.id} timed out after ${timeoutSeconds} s without a go (${what}). ` +
                        `The update stops here; run pulumi up again to wait at this gate again, and say go with: ${command}`);
                }
                await sleep(Math.min(GO_POLL_MS, Math.max(1, deadline - Date.now())));
            }
        } finally {
            process.removeListener("SIGINT", onSignal);
            process.removeListener("SIGTERM", onSignal);
            cleanup();
        }
    }
    ctx.log(`go from ${go.by} at ${go.at}: going on`);
    return { ...base, go: "operator", by: go.by, at: go.at, waitedSeconds: Math.round((Date.now() - started) / 100) / 10 };
}
