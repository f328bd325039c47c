import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { createHash } from "crypto";
import { ResourceExec } from "../core/step";
import { ServerDryRun } from "./server-dry-run";

/**
 * One Argo CD sync as a resource of the Kubernetes provider: the sync `operation` applied to the
 * Application by server-side apply (what `argocd app sync` and the UI's Sync button set), awaited by
 * the provider's own `pulumi.com/waitFor`. A new run key is a new operation, so `pulumi up` syncs
 * again; `pulumi preview` sends the patch as a server-side dry run only.
 */

/**
 * What the application must reach before the step is done. A CSC chart's workload is a Job that runs
 * as long as the CSC does, which Argo CD reports as Progressing while it runs: its sync operation
 * succeeding and the app being Synced is all that can be waited for ("synced"); every other app
 * must also turn Healthy ("healthy").
 */
export type SyncNeeds = "synced" | "healthy";

/** Marks the operation of one run, so that an earlier operation (done long ago) is never taken for it. */
export function syncRunId(parts: string[]): string {
    return createHash("sha256").update(parts.join("\u0000")).digest("hex").slice(0, 16);
}

/** `a && b && c` as the provider's JSONPath parser accepts it: one operator per parenthesised pair. */
const chain = (op: "&&" | "||") => (xs: string[]): string =>
    xs.length === 1 ? xs[0] : `(${xs[0]} ${op} ${chain(op)(xs.slice(1))})`;

/**
 * The provider's await expression: the operation carrying `run` has ended, in failure (the verdict
 * that follows reports Argo CD's message at once), or in success with the sync (and health) the
 * app needs. One RFC 9535 filter over the Application's top-level members, so that every part is
 * read from the same observed object. The provider (pkg/jsonpath, github.com/theory/jsonpath
 * v0.9.0) splits the annotation at a single "=", takes the path up to the first "}", and parses
 * only two operands per `&&` or `||`: hence only "==", no brace, and every pair in parentheses.
 */
export function syncWaitFor(run: string, needs: SyncNeeds): string {
    if (!/^[0-9a-f]+$/.test(run)) throw new Error(`syncWaitFor: the run id must be hex, got ${JSON.stringify(run)}`);
    const ok = chain("&&")(["@.operationState.phase=='Succeeded'", "@.sync.status=='Synced'",
        ...(needs === "healthy" ? ["@.health.status=='Healthy'"] : [])]);
    const ended = chain("||")(["@.operationState.phase=='Failed'", "@.operationState.phase=='Error'", ok]);
    return `jsonpath={$[?${chain("&&")([`@.operationState.operation.info[0].value=='${run}'`, ended])}]}`;
}

export interface ArgoSyncArgs {
    app: string;
    namespace: string;
    /** Marks this run's operation (syncRunId). */
    run: string;
    /** Shown in Argo CD's UI: who asked (operation.initiatedBy.username). */
    initiatedBy: string;
    /** Shown in Argo CD's UI: why (operation.info "reason"). */
    reason: pulumi.Input<string>;
    needs: SyncNeeds;
    timeoutSeconds: number;
    revision?: string;
    prune?: boolean;
    provider: k8s.Provider;
    /** Checks the patch with the API server during `pulumi preview` (the provider does not). */
    dryRun?: ServerDryRun;
}

/** The Application patch: metadata, the waitFor annotations and the operation. */
export function applicationSyncPatch(a: Omit<ArgoSyncArgs, "provider" | "dryRun">): k8s.apiextensions.CustomResourcePatchArgs {
    const sync: Record<string, unknown> = { syncStrategy: { hook: {} } };
    if (a.revision) sync.revision = a.revision;
    if (a.prune) sync.prune = true;
    return {
        apiVersion: "argoproj.io/v1alpha1",
        kind: "Application",
        metadata: {
            name: a.app,
            namespace: a.namespace,
            annotations: {
                "pulumi.com/waitFor": syncWaitFor(a.run, a.needs),
                "pulumi.com/timeoutSeconds": String(a.timeoutSeconds),
                // Argo CD's controller writes `operation` too (it clears it when done): ours wins.
                "pulumi.com/patchForce": "true",
            },
        },
        operation: {
            initiatedBy: { username: a.initiatedBy },
            info: [{ name: "run", value: a.run }, { name: "reason", value: a.reason }],
            sync,
        },
    };
}

/**
 * The step's resource: the patch, and the state the provider's await ended on for the verdict.
 *
 * One resource per run (its name carries the run id): Argo CD clears `operation` once the sync is done,
 * so the provider, which diffs the new inputs against the object it last saw, would find `operation`
 * missing on every later preview and apply it again, a new sync each time. The operation is set when
 * the run's resource is created and never updated (`ignoreChanges`); a new run key creates a new
 * resource (a new sync) and deletes the last run's, which only gives up its field manager's fields.
 */
export function argoSyncResource(a: ArgoSyncArgs): ResourceExec {
    const { provider, dryRun, ...patch } = a;
    return {
        create: (name, opts) => {
            const manifest = applicationSyncPatch(patch);
            if (dryRun && opts.parent) {
                dryRun.add({ resource: "applications.argoproj.io", name: a.app, namespace: a.namespace, manifest, step: opts.parent });
            }
            return new k8s.apiextensions.CustomResourcePatch(`${name}-${a.run.slice(0, 8)}`,
                // `status` is read back, never sent: an undefined input is an output of the resource.
                { ...manifest, status: undefined },
                { ...opts, provider, ignoreChanges: ["operation"] });
        },
        params: r => ({ observed: (r as unknown as { status: pulumi.Output<unknown> }).status, run: a.run }),
    };
}
