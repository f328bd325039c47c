import { AppState, appState, syncPatch, syncProgress, syncVerdict } from "../../../components/lsst/argocd";
import { isBoolean, isNumber, isString, param, StepContext, StepFailure } from "../context";
import { Kubectl, KubectlError } from "./kubectl";
import { pollUntilReady } from "./poll";

/** The Argo CD Application resource, spelt out so that no other `application` kind is meant. */
export const APPLICATION = "applications.argoproj.io";

interface SyncOptions {
    namespace: string;
    revision?: string;
    prune: boolean;
    /** Unique per request: recorded in the operation so that ours is told from any earlier one. */
    reason: string;
    /** Healthy too, or Synced is enough (CSC apps: their Jobs keep running, and so Progressing). */
    needsHealthy: boolean;
    deadline: number;
    log: (line: string) => void;
}

async function getApp(k: Kubectl, name: string, namespace: string): Promise<AppState> {
    try {
        return appState(await k.json(["get", APPLICATION, name, "-n", namespace]));
    } catch (err) {
        if (err instanceof KubectlError && err.notFound) throw new StepFailure(`no Argo CD application ${name} in namespace ${namespace}`);
        throw err;
    }
}

const seconds = (ms: number) => Math.max(0, Math.round(ms / 1000));

/** Sync one application (`operation.sync` by merge patch) and wait until our sync is done and it is Synced and Healthy. */
export async function syncApplication(k: Kubectl, name: string, o: SyncOptions): Promise<AppState> {
    let s = await getApp(k, name, o.namespace);
    if (s.operationPending) {
        o.log(`${name}: an operation is already under way (${s.phase ?? "requested"}); waiting for it to finish first`);
        const r = await pollUntilReady(async () => {
            s = await getApp(k, name, o.namespace);
            return { ready: !s.operationPending, state: `operation ${s.phase ?? "requested"}` };
        }, { timeoutMs: o.deadline - Date.now(), what: name, log: o.log });
        if (!r.ready) throw new StepFailure(`${name}: the operation that was under way did not finish in time (${r.last.state})`);
    }
    const previousStartedAt = s.startedAt;
    const patch = JSON.stringify(syncPatch({ initiatedBy: "upgrade-as-code", reason: o.reason, revision: o.revision, prune: o.prune }));
    await k.ok(["patch", APPLICATION, name, "-n", o.namespace, "--type", "merge", "-p", patch]);
    o.log(`${name}: sync requested (${k.line(["patch", APPLICATION, name, "-n", o.namespace, "--type", "merge", "-p", patch])})`);
    const started = Date.now();
    const goal = o.needsHealthy ? "Synced and Healthy" : "Synced";
    const r = await pollUntilReady(async () => {
        try {
            s = await getApp(k, name, o.namespace);
        } catch (err) {
            if (err instanceof StepFailure) throw err;
            return { ready: false, state: `cannot read the application: ${(err as Error).message}` };
        }
        const p = syncProgress(s, { reason: o.reason, previousStartedAt }, o.needsHealthy);
        if (!p.done && p.failed) throw new StepFailure(`${name}: ${p.failed} (${p.describe})`);
        return { ready: p.done, state: p.done ? `${goal}${s.revision ? ` at ${s.revision.slice(0, 12)}` : ""}` : p.describe };
    }, { timeoutMs: Math.max(0, o.deadline - Date.now()), what: name, log: o.log });
    if (!r.ready) throw new StepFailure(`${name} is not ${goal} after ${seconds(Date.now() - started)} s: ${r.last.state}`);
    return s;
}

/**
 * `argocd-sync`: sync an application and wait for Synced and Healthy; for an app of apps, then each
 * child application (labelled `<instanceLabel>=<app>`) the same way, side by side: Argo CD does not
 * wait for the children's health itself. With `parentSynced`, an earlier step synced the app: only its
 * children are synced (sync_apps.py syncs the last wave's apps one by one, then all their children).
 */
export async function argocdSync(ctx: StepContext): Promise<Record<string, unknown>> {
    const app = param(ctx, "app", isString, "an application name");
    const wave = param(ctx, "wave", isNumber, "a wave number");
    const namespace = param(ctx, "namespace", isString, "a namespace");
    const timeoutSeconds = param(ctx, "timeoutSeconds", isNumber, "a number of seconds");
    const children = ctx.params.children === undefined ? false : param(ctx, "children", isBoolean, "true or false");
    const parentSynced = ctx.params.parentSynced === undefined ? false : param(ctx, "parentSynced", isBoolean, "true or false");
    if (parentSynced && !children) throw new StepFailure(`${app}: parentSynced leaves nothing to sync unless children is true`);
    const instanceLabel = typeof ctx.params.instanceLabel === "string" ? ctx.params.instanceLabel : "argocd.argoproj.io/instance";
    const k = new Kubectl(param(ctx, "kubectl", isString, "a kubectl command line"), ctx.env);
    const o: SyncOptions = {
        namespace,
        revision: typeof ctx.params.revision === "string" ? ctx.params.revision : undefined,
        prune: ctx.params.prune === true,
        needsHealthy: ctx.params.waitFor !== "synced",
        reason: `${ctx.stack ?? "upgrade"}/${ctx.id} ${new Date().toISOString()} ${process.pid}`,
        deadline: Date.now() + timeoutSeconds * 1000,
        log: ctx.log,
    };
    ctx.log(`wave ${wave}: ${parentSynced ? `the child applications of ${app}` : `${app}${children ? " and its child applications" : ""}`}`);
    let parent: AppState;
    if (parentSynced) {
        parent = await getApp(k, app, namespace);
    } else if (ctx.params.observed !== undefined) {
        // The sync was the step's Kubernetes patch, awaited by the provider: judge where its await ended.
        const run = param(ctx, "run", isString, "the run id of the sync");
        const v = syncVerdict(app, ctx.params.observed, run, o.needsHealthy);
        if (!v.ok) throw new StepFailure(v.problem);
        parent = v.state;
        ctx.log(`${app}: sync Succeeded; sync=${parent.sync} health=${parent.health}`);
    } else {
        parent = await syncApplication(k, app, o);
    }
    const synced = parentSynced ? [] : [app];
    if (children) {
        const items = await k.list(APPLICATION, namespace, `${instanceLabel}=${app}`);
        const names = items.map(i => String(i.metadata?.name)).filter(n => n !== app).sort();
        if (names.length === 0) {
            throw new StepFailure(`${app} is an app of apps, but no application in ${namespace} is labelled ${instanceLabel}=${app}`);
        }
        ctx.log(`${app}: child applications ${names.join(", ")}`);
        const results = await Promise.allSettled(names.map(n => syncApplication(k, n, o)));
        const failed = results.map((r, i) => (r.status === "rejected" ? `${names[i]}: ${(r.reason as Error).message}` : undefined))
            .filter((x): x is string => x !== undefined);
        if (failed.length) throw new StepFailure(`${failed.length} of ${names.length} child applications of ${app} are not ${o.needsHealthy ? "Synced and Healthy" : "Synced"}:\n  ${failed.join("\n  ")}`);
        synced.push(...names);
    }
    return { app, wave, synced, revision: parent.revision ?? null };
}
