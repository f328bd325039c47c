/**
 * Step kinds of the LSST site upgrade (components/lsst): CSC states, gates, Argo CD syncs, the
 * Kubernetes cleanup, the cachemachine restart and notifications.
 */
import { describeProbe } from "../../components/lsst/probes";
import { isNumber, isString, isStringArray, param, StepContext, StepFailure } from "./context";
import { argocdSync } from "./lsst/argocd";
import { failure, sh } from "./lsst/exec";
import { k8sCleanup, podRestart } from "./lsst/k8s";
import { notify } from "./lsst/notify";
import { pollUntilReady } from "./lsst/poll";
import { notReadyMessage, observe, probeFrom, readState } from "./lsst/probes";

type Handler = (ctx: StepContext) => Promise<Record<string, unknown>>;

/**
 * `probe-gate`: wait until the probe passes (polling with backoff capped at 1 s). At the timeout the
 * step fails with what was not ready, or, with onTimeout "report", reports it and lets the procedure go on.
 */
async function probeGate(ctx: StepContext): Promise<Record<string, unknown>> {
    const probe = probeFrom(ctx.params.probe, ctx.id);
    const what = isString(ctx.params.what) ? ctx.params.what : describeProbe(probe);
    const timeoutSeconds = param(ctx, "timeoutSeconds", isNumber, "a number of seconds");
    const warnAfter = isNumber(ctx.params.warnAfterSeconds) ? ctx.params.warnAfterSeconds * 1000 : undefined;
    const onTimeout = ctx.params.onTimeout === "report" ? "report" : "fail";
    ctx.log(`waiting up to ${timeoutSeconds} s until ${what}: ${describeProbe(probe)}`);
    const r = await pollUntilReady(remaining => observe(probe, ctx.env, remaining),
        { timeoutMs: timeoutSeconds * 1000, warnAfterMs: warnAfter, what: ctx.id, log: ctx.log });
    const base = { what, state: r.last.state, elapsedSeconds: Math.round(r.elapsedMs / 100) / 10, ...(r.last.values ?? {}) };
    if (r.ready) return { ready: true, notReady: [], ...base };
    const message = notReadyMessage(what, probe, r.elapsedMs, r.last);
    if (onTimeout === "report") {
        ctx.log(`${message}\n  going on as configured (monitor.onTimeout: report)`);
        return { ready: false, notReady: r.last.notReady ?? [r.last.state], ...base };
    }
    throw new StepFailure(message);
}

/** `probe`: read a probe's value (e.g. a count) to compare with later; waits only until it can be read. */
async function probeRead(ctx: StepContext): Promise<Record<string, unknown>> {
    const probe = probeFrom(ctx.params.probe, ctx.id);
    const what = isString(ctx.params.what) ? ctx.params.what : describeProbe(probe);
    const timeoutSeconds = isNumber(ctx.params.timeoutSeconds) ? ctx.params.timeoutSeconds : 30;
    const r = await pollUntilReady(remaining => observe(probe, ctx.env, remaining),
        { timeoutMs: timeoutSeconds * 1000, what: ctx.id, log: ctx.log });
    if (!r.ready) throw new StepFailure(`cannot read ${what} within ${timeoutSeconds} s: ${r.last.state}`);
    return { what, state: r.last.state, ...(r.last.values ?? {}) };
}

/**
 * `csc-state`: send a CSC to a state with the configured command, then wait until it reports one of
 * the accepted states. A CSC already there is left alone (a resumed run does not send it again).
 */
async function cscState(ctx: StepContext): Promise<Record<string, unknown>> {
    const csc = param(ctx, "csc", isString, "a CSC name");
    const target = param(ctx, "target", isString, "a summary state");
    const accept = param(ctx, "accept", isStringArray, "a list of summary states");
    const command = param(ctx, "command", isString, "a command");
    const probe = param(ctx, "probe", isString, "a command that prints the summary state");
    const timeoutSeconds = param(ctx, "timeoutSeconds", isNumber, "a number of seconds");
    const before = await readState(probe, csc, ctx.env, 30000);
    if (before.state && accept.includes(before.state)) {
        ctx.log(`${csc} already reports ${before.state}`);
        return { csc, target, state: before.state, sent: false };
    }
    ctx.log(`${csc} reports ${before.state ?? `nothing (${before.problem})`}: sending it to ${target}`);
    const sent = await sh(command, { env: ctx.env, timeoutMs: Math.min(timeoutSeconds, 300) * 1000 });
    if (sent.code !== 0) throw new StepFailure(`cannot send ${csc} to ${target}: ${failure(command, sent)}`);
    const r = await pollUntilReady(async remaining => {
        const s = await readState(probe, csc, ctx.env, Math.max(1000, Math.min(30000, remaining)));
        return { ready: !!s.state && accept.includes(s.state), state: s.state ? `reports ${s.state}` : s.problem! };
    }, { timeoutMs: timeoutSeconds * 1000, what: csc, log: ctx.log });
    if (!r.ready) {
        throw new StepFailure(`${csc} did not reach ${accept.join(" or ")} within ${timeoutSeconds} s after \`${command}\`: it ${r.last.state}`);
    }
    return { csc, target, state: r.last.state.replace(/^reports /, ""), sent: true, elapsedSeconds: Math.round(r.elapsedMs / 100) / 10 };
}

export const LSST_HANDLERS: Record<string, Handler> = {
    "csc-state": cscState,
    "probe": probeRead,
    "probe-gate": probeGate,
    "argocd-sync": argocdSync,
    "k8s-cleanup": k8sCleanup,
    "k8s-pod-restart": podRestart,
    "notify": notify,
};
