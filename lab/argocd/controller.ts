/**
 * The lab's Argo CD application controller: what argo-cd's controller does for the Applications in one
 * namespace, against a real API server with the real kubectl (Argo CD itself cannot be built here).
 *
 *   node lab/argocd/start-controller.js --kubeconfig F --context C --source-root DIR [--namespace argocd] [--interval-ms 500]
 *
 * For an Application with an `operation` (a sync) it records `status.operationState` (Running), applies the
 * app's manifests from `<source-root>/<spec.source.path>` (source.ts) by server-side apply with the field
 * manager `argocd-controller`, after a server-side dry run as gitops-engine does, labelling every object
 * `argocd.argoproj.io/instance=<app>`; then the phase is Succeeded, or Failed with kubectl's message, and
 * `operation` is cleared. For every Application it keeps `status.sync` (Synced when every object exists and
 * the last successful sync was at the source's current revision) and `status.health` (health.ts, from the
 * live objects). Manifests that are Applications are child Applications (apps of apps), applied like any object.
 * Deleting an Application that has the resources finalizer deletes its objects, then lifts the finalizer.
 *
 * Not done (the lab does not need them): sync waves and hooks (a Skip hook is not applied; other hooks are
 * applied as plain objects), pruning, automated sync, retries, diffs of live fields (a changed object is
 * only out of sync once the source changes).
 * The CRD of argo-cd v3.5.1 has no status subresource, so status is written on the main resource: JSON
 * patches that test the resourceVersion, so a write based on a stale read is refused and redone.
 */
import { isDeepStrictEqual } from "util";
import { stringify } from "yaml";
import { Discovery, Kubectl, KubectlError, kubectlFor } from "./cluster";
import { applicationHealth, groupOf, HealthStatusCode, isSkipped, KubeObject } from "./health";
import { AppSpec, loadSource, Source } from "./source";

export const INSTANCE_LABEL = "argocd.argoproj.io/instance";
export const TRACKING_ID = "argocd.argoproj.io/tracking-id";
export const FIELD_MANAGER = "argocd-controller";
/** With it (or its /background, /foreground forms) deleting an Application deletes its objects first. */
export const RESOURCES_FINALIZER = "resources-finalizer.argocd.argoproj.io";

/** The order gitops-engine applies kinds in within a wave (pkg/sync/sync_tasks.go, kindOrder); others after. */
const KIND_ORDER = ["Namespace", "NetworkPolicy", "ResourceQuota", "LimitRange", "PodSecurityPolicy", "PodDisruptionBudget", "ServiceAccount",
    "Secret", "SecretList", "ConfigMap", "StorageClass", "PersistentVolume", "PersistentVolumeClaim", "CustomResourceDefinition", "ClusterRole",
    "ClusterRoleList", "ClusterRoleBinding", "ClusterRoleBindingList", "Role", "RoleList", "RoleBinding", "RoleBindingList", "Service", "DaemonSet",
    "Pod", "ReplicationController", "ReplicaSet", "Deployment", "HorizontalPodAutoscaler", "StatefulSet", "Job", "CronJob", "IngressClass", "Ingress", "APIService"];

interface Operation {
    sync?: { revision?: string; [k: string]: unknown };
    info?: { name: string; value: string }[];
    initiatedBy?: { username?: string; automated?: boolean };
    [k: string]: unknown;
}

interface ResourceResult {
    group: string; version: string; kind: string; namespace: string; name: string;
    status: "Synced" | "SyncFailed"; message: string; syncPhase: "Sync";
}

interface OperationState {
    operation: Operation;
    phase: "Running" | "Succeeded" | "Failed" | "Error";
    message: string;
    startedAt: string;
    finishedAt?: string;
    syncResult?: { revision: string; resources: ResourceResult[]; source?: unknown };
}

interface AppStatus {
    operationState?: OperationState;
    sync?: { status: "Synced" | "OutOfSync" | "Unknown"; revision?: string; comparedTo?: unknown };
    health?: { status: HealthStatusCode; lastTransitionTime?: string };
    resources?: unknown[];
    conditions?: { type: string; message: string; lastTransitionTime?: string }[];
    history?: { id: number; revision: string; deployedAt: string; deployStartedAt: string; source?: unknown; initiatedBy?: unknown }[];
    reconciledAt?: string;
    sourceType?: string;
    [k: string]: unknown;
}

interface Application {
    metadata: { name: string; namespace: string; resourceVersion: string; deletionTimestamp?: string; finalizers?: string[] };
    spec: AppSpec & { source?: AppSpec["source"] & { repoURL?: string } };
    operation?: Operation;
    status?: AppStatus;
}

/** An RFC 3339 time to the second, as Kubernetes writes metav1.Time. */
const now = (): string => new Date().toISOString().replace(/\.\d{3}Z$/, "Z");

const versionOf = (o: KubeObject): string => { const v = o.apiVersion ?? ""; return v.includes("/") ? v.slice(v.indexOf("/") + 1) : v; };
const keyOf = (o: KubeObject): string => `${groupOf(o)}/${o.kind}/${o.metadata?.namespace ?? ""}/${o.metadata?.name}`;

/** The app's objects as they are applied: labelled, tracked, namespaced; Skip hooks left out. */
interface Desired {
    source?: Source;
    error?: string;
    objects: KubeObject[];
}

export interface ControllerOptions {
    kubeconfig: string;
    context: string;
    sourceRoot: string;
    namespace?: string;
    intervalMs?: number;
    log?: (line: string) => void;
}

export class ArgoController {
    private readonly kubectl: Kubectl;
    private readonly discovery: Discovery;
    private readonly namespace: string;
    private readonly inFlight = new Map<string, Promise<void>>();
    private readonly log: (line: string) => void;

    constructor(private readonly opts: ControllerOptions) {
        this.kubectl = kubectlFor(opts.kubeconfig, opts.context);
        this.discovery = new Discovery(this.kubectl);
        this.namespace = opts.namespace ?? "argocd";
        this.log = opts.log ?? (line => process.stdout.write(`${now()} ${line}\n`));
    }

    private async listApps(): Promise<Application[]> {
        return (JSON.parse(await this.kubectl(["get", "applications.argoproj.io", "-n", this.namespace, "-o", "json"])) as { items: Application[] }).items;
    }

    private async getApp(name: string): Promise<Application | undefined> {
        try {
            return JSON.parse(await this.kubectl(["get", "applications.argoproj.io", name, "-n", this.namespace, "-o", "json"])) as Application;
        } catch (err) {
            if (err instanceof KubectlError && /NotFound/.test(err.message)) return undefined;
            throw err;
        }
    }

    /** Reads the app's source and prepares its objects; a source that cannot be read is kept as the error. */
    private async desired(app: Application): Promise<Desired> {
        let source: Source;
        try {
            source = loadSource(this.opts.sourceRoot, app.spec);
        } catch (err) {
            return { error: err instanceof Error ? err.message : String(err), objects: [] };
        }
        const destination = app.spec.destination?.namespace || "default";
        const objects: KubeObject[] = [];
        for (const original of source.objects) {
            if (isSkipped(original)) continue;
            const obj = JSON.parse(JSON.stringify(original)) as KubeObject;
            const meta = obj.metadata!;
            const info = await this.discovery.lookup(groupOf(obj), obj.kind!);
            // A kind the API server does not serve keeps its namespace: the dry run reports it.
            if (info?.namespaced && !meta.namespace) meta.namespace = destination;
            if (info && !info.namespaced) delete meta.namespace;
            meta.labels = { ...(meta.labels ?? {}), [INSTANCE_LABEL]: app.metadata.name };
            meta.annotations = { ...(meta.annotations ?? {}), [TRACKING_ID]: `${app.metadata.name}:${groupOf(obj)}/${obj.kind}:${meta.namespace ?? ""}/${meta.name}` };
            objects.push(obj);
        }
        const rank = (o: KubeObject) => { const i = KIND_ORDER.indexOf(o.kind!); return i < 0 ? KIND_ORDER.length : i; };
        objects.sort((a, b) => rank(a) - rank(b));
        return { source, objects };
    }

    /** The live objects labelled as tracked, of the kinds the given apps want, by key. */
    private async liveObjects(desired: Desired[]): Promise<Map<string, KubeObject>> {
        const resources = new Set<string>();
        for (const d of desired) {
            for (const o of d.objects) {
                const info = await this.discovery.lookup(groupOf(o), o.kind!);
                if (info) resources.add(info.resource);
            }
        }
        const live = new Map<string, KubeObject>();
        if (!resources.size) return live;
        const out = await this.kubectl(["get", [...resources].sort().join(","), "-A", "-l", INSTANCE_LABEL, "-o", "json"]);
        for (const item of (JSON.parse(out) as { items: KubeObject[] }).items) live.set(keyOf(item), item);
        return live;
    }

    /** status.sync, status.health and status.resources of an app from its source and the live objects. */
    private compare(app: Application, d: Desired, live: Map<string, KubeObject>, status: AppStatus): AppStatus {
        const at = now();
        const syncedRevision = status.history?.length ? status.history[status.history.length - 1].revision : undefined;
        const atRevision = d.source !== undefined && syncedRevision === d.source.revision;
        // Only an object labelled with this app is its own (another app's object of the same name is not).
        const own = (o: KubeObject | undefined) => (o?.metadata?.labels?.[INSTANCE_LABEL] === app.metadata.name ? o : undefined);
        const managed = d.objects.map(target => ({ target, live: own(live.get(keyOf(target))) }));
        const resources = managed.map(({ target, live: l }) => ({
            group: groupOf(target), version: versionOf(target), kind: target.kind, namespace: target.metadata?.namespace ?? "", name: target.metadata?.name,
            status: l && atRevision ? "Synced" : "OutOfSync",
        }));
        const syncStatus = d.error !== undefined ? "Unknown" : resources.every(r => r.status === "Synced") && atRevision ? "Synced" : "OutOfSync";
        const health = d.error !== undefined ? (status.health?.status ?? "Unknown") : applicationHealth(managed, app.metadata);
        const next: AppStatus = {
            ...status,
            sync: {
                status: syncStatus,
                ...(d.source ? { revision: d.source.revision } : {}),
                comparedTo: { destination: app.spec.destination ?? {}, ...(app.spec.source ? { source: app.spec.source } : {}) },
            },
            health: { status: health, lastTransitionTime: status.health?.status === health ? status.health.lastTransitionTime ?? at : at },
            resources,
            sourceType: "Directory",
        };
        const previous = (status.conditions ?? []).find(c => c.type === "ComparisonError");
        if (d.error !== undefined) next.conditions = [{ type: "ComparisonError", message: d.error, lastTransitionTime: previous?.message === d.error ? previous.lastTransitionTime : at }];
        else delete next.conditions;
        return next;
    }

    /** Replaces the app's status (and removes its operation) if nobody wrote the app since `app` was read. */
    private async writeStatus(app: Application, status: AppStatus, removeOperation = false): Promise<void> {
        const patch: unknown[] = [
            { op: "test", path: "/metadata/resourceVersion", value: app.metadata.resourceVersion },
            { op: "add", path: "/status", value: status },
        ];
        if (removeOperation) patch.push({ op: "remove", path: "/operation" });
        await this.kubectl(["patch", "applications.argoproj.io", app.metadata.name, "-n", this.namespace, "--type", "json", "-p", JSON.stringify(patch)]);
    }

    /**
     * With the sync option CreateNamespace=true, the destination namespace is made before the dry run, as
     * gitops-engine does (pkg/sync/sync_context.go); a failure ends the sync.
     */
    private async createNamespace(app: Application): Promise<{ ok: false; message: string; results: ResourceResult[] } | undefined> {
        const namespace = app.spec.destination?.namespace;
        if (!namespace || !(app.spec.syncPolicy?.syncOptions ?? []).includes("CreateNamespace=true")) return undefined;
        try {
            await this.kubectl(["apply", "--server-side", `--field-manager=${FIELD_MANAGER}`, "-f", "-"], stringify({ apiVersion: "v1", kind: "Namespace", metadata: { name: namespace } }));
            return undefined;
        } catch (err) {
            return { ok: false, message: `namespace auto creation failed: ${err instanceof Error ? err.message : String(err)}`, results: [] };
        }
    }

    /** Applies the objects: a server-side dry run of all, then the apply (gitops-engine pkg/sync/sync_context.go). */
    private async apply(d: Desired): Promise<{ ok: boolean; message: string; results: ResourceResult[] }> {
        const result = (o: KubeObject, status: ResourceResult["status"], message: string): ResourceResult => ({
            group: groupOf(o), version: versionOf(o), kind: o.kind!, namespace: o.metadata?.namespace ?? "", name: o.metadata!.name!,
            status, message, syncPhase: "Sync",
        });
        if (d.error !== undefined) return { ok: false, message: d.error, results: [] };
        if (!d.objects.length) return { ok: true, message: "successfully synced (all tasks run)", results: [] };
        const stream = d.objects.map(o => stringify(o)).join("---\n");
        const args = ["apply", "--server-side", `--field-manager=${FIELD_MANAGER}`, "--force-conflicts", "-f", "-"];
        try {
            await this.kubectl([...args, "--dry-run=server"], stream);
        } catch (err) {
            const reason = err instanceof Error ? err.message : String(err);
            return { ok: false, message: `one or more objects failed to apply (dry run), reason: ${reason}`, results: d.objects.map(o => result(o, "SyncFailed", reason)) };
        }
        let out = "";
        let failure: string | undefined;
        try {
            out = await this.kubectl(args, stream);
        } catch (err) {
            failure = err instanceof Error ? err.message : String(err);
            out = err instanceof KubectlError ? err.stdout ?? "" : "";
        }
        const lines = out.split("\n");
        const results = d.objects.map(o => {
            const prefix = `${o.kind!.toLowerCase()}${groupOf(o) ? `.${groupOf(o)}` : ""}/${o.metadata!.name} `;
            const line = lines.find(l => l.startsWith(prefix));
            return line ? result(o, "Synced", line.trim()) : result(o, "SyncFailed", failure ?? "not applied");
        });
        if (failure !== undefined) return { ok: false, message: `one or more objects failed to apply, reason: ${failure}`, results };
        return { ok: true, message: "successfully synced (all tasks run)", results };
    }

    /** Runs the app's operation: Running, the apply, then Succeeded or Failed with `operation` cleared. */
    private async operate(first: Application): Promise<void> {
        const name = first.metadata.name;
        const operation = first.operation!;
        const previous = first.status?.operationState;
        // A Running state for this very operation is one this controller began before it restarted: resumed.
        const startedAt = previous?.phase === "Running" && isDeepStrictEqual(previous.operation, operation) ? previous.startedAt : now();
        const running: OperationState = { operation, phase: "Running", message: "one or more tasks are running", startedAt };
        let app: Application | undefined = first;
        for (let attempt = 0; ; attempt++) {
            try {
                await this.writeStatus(app, { ...(app.status ?? {}), operationState: running });
                break;
            } catch (err) {
                app = await this.getApp(name);
                if (!app?.operation || !isDeepStrictEqual(app.operation, operation) || attempt >= 5) return; // gone, or replaced: the next look starts it
            }
        }
        this.log(`${name}: sync started`);
        const d = await this.desired(app);
        const outcome = await this.createNamespace(app) ?? await this.apply(d);
        const finishedAt = now();
        const revision = d.source?.revision ?? "";
        const state: OperationState = {
            operation, phase: outcome.ok ? "Succeeded" : "Failed", message: outcome.message, startedAt, finishedAt,
            syncResult: { revision, resources: outcome.results, ...(app.spec.source ? { source: app.spec.source } : {}) },
        };
        for (let attempt = 0; attempt < 10; attempt++) {
            app = await this.getApp(name);
            if (!app) return;
            const status: AppStatus = { ...(app.status ?? {}), operationState: state };
            if (outcome.ok) {
                const history = [...(status.history ?? [])];
                history.push({ id: (history.length ? history[history.length - 1].id : -1) + 1, revision, deployedAt: finishedAt, deployStartedAt: startedAt,
                    ...(app.spec.source ? { source: app.spec.source } : {}), ...(operation.initiatedBy ? { initiatedBy: operation.initiatedBy } : {}) });
                status.history = history.slice(-10);
            }
            let compared = status;
            try {
                compared = this.compare(app, d, await this.liveObjects([d]), status);
            } catch (err) {
                this.log(`${name}: could not read its objects: ${err instanceof Error ? err.message : String(err)}`);
            }
            try {
                // A new operation set meanwhile stays for the next look.
                await this.writeStatus(app, compared, isDeepStrictEqual(app.operation, operation));
                this.log(`${name}: sync ${state.phase}: ${state.message}`);
                return;
            } catch {
                // written by someone else since the read: read again
            }
        }
        this.log(`${name}: could not record the end of its operation`);
    }

    /**
     * An app being deleted with argo-cd's resources finalizer (argo-cd docs/user-guide/app_deletion.md): its
     * objects are deleted (by its instance label, of the kinds its source holds), then the finalizer is removed.
     */
    private async finalize(app: Application): Promise<void> {
        const name = app.metadata.name;
        const d = await this.desired(app);
        const resources = new Set<string>();
        for (const o of d.objects) {
            const info = await this.discovery.lookup(groupOf(o), o.kind!);
            if (info) resources.add(info.resource);
        }
        if (resources.size) await this.kubectl(["delete", [...resources].sort().join(","), "-A", "-l", `${INSTANCE_LABEL}=${name}`, "--wait=false", "--ignore-not-found"]);
        for (let attempt = 0; attempt < 10; attempt++) {
            const fresh = await this.getApp(name);
            if (!fresh) return;
            const finalizers = (fresh.metadata.finalizers ?? []).filter(f => !f.startsWith(RESOURCES_FINALIZER));
            try {
                await this.kubectl(["patch", "applications.argoproj.io", name, "-n", this.namespace, "--type", "json", "-p", JSON.stringify([
                    { op: "test", path: "/metadata/resourceVersion", value: fresh.metadata.resourceVersion },
                    { op: "replace", path: "/metadata/finalizers", value: finalizers },
                ])]);
                this.log(`${name}: its objects deleted, finalizer removed`);
                return;
            } catch {
                // written since it was read: read again
            }
        }
    }

    private start(name: string, work: () => Promise<void>): void {
        if (this.inFlight.has(name)) return;
        const task = work()
            .catch(err => this.log(`${name}: ${err instanceof Error ? err.message : String(err)}`))
            .finally(() => this.inFlight.delete(name));
        this.inFlight.set(name, task);
    }

    /** One look at every Application: deletions and operations started, sync and health brought up to date. */
    async reconcile(): Promise<void> {
        const apps = await this.listApps();
        for (const app of apps) {
            const name = app.metadata.name;
            if (app.metadata.deletionTimestamp) {
                if ((app.metadata.finalizers ?? []).some(f => f.startsWith(RESOURCES_FINALIZER))) this.start(name, () => this.finalize(app));
                continue;
            }
            if (app.operation && !this.inFlight.has(name)) {
                this.start(name, () => this.operate(app));
            }
        }
        const idle = apps.filter(a => !a.operation && !a.metadata.deletionTimestamp && !this.inFlight.has(a.metadata.name));
        const desired = await Promise.all(idle.map(a => this.desired(a)));
        const live = await this.liveObjects(desired);
        await Promise.all(idle.map(async (app, i) => {
            const status = app.status ?? {};
            const next = this.compare(app, desired[i], live, status);
            const strip = (s: AppStatus) => ({ sync: s.sync, health: s.health?.status, resources: s.resources, conditions: s.conditions });
            if (isDeepStrictEqual(strip(next), strip(status))) return;
            next.reconciledAt = now();
            try {
                await this.writeStatus(app, next);
                if (status.sync?.status !== next.sync?.status || status.health?.status !== next.health?.status) {
                    this.log(`${app.metadata.name}: ${next.sync?.status} ${next.health?.status}`);
                }
            } catch {
                // written since it was read: the next look redoes it
            }
        }));
    }

    /** Looks every interval until the signal is aborted; a failed look is logged and retried. */
    async run(signal: AbortSignal): Promise<void> {
        // Status goes on the main resource, as argo-cd's CRD has no status subresource; with one, the API server would drop it.
        const crd = JSON.parse(await this.kubectl(["get", "crd", "applications.argoproj.io", "-o", "json"])) as { spec: { versions: { subresources?: { status?: unknown } }[] } };
        if (crd.spec.versions.some(v => v.subresources?.status !== undefined)) throw new Error("the Application CRD has a status subresource: this controller writes status on the main resource");
        await this.discovery.refresh();
        await this.listApps();
        this.log(`controller started: namespace ${this.namespace}, source root ${this.opts.sourceRoot}`);
        while (!signal.aborted) {
            const started = Date.now();
            try {
                await this.reconcile();
            } catch (err) {
                this.log(`reconcile failed: ${err instanceof Error ? err.message : String(err)}`);
            }
            const wait = Math.max(50, (this.opts.intervalMs ?? 500) - (Date.now() - started));
            await new Promise(resolve => setTimeout(resolve, wait));
        }
        await Promise.all(this.inFlight.values());
    }
}

function option(argv: string[], name: string): string | undefined {
    const i = argv.indexOf(`--${name}`);
    return i >= 0 ? argv[i + 1] : undefined;
}

export async function main(argv: string[]): Promise<number> {
    const kubeconfig = option(argv, "kubeconfig") ?? process.env.KUBECONFIG;
    const context = option(argv, "context");
    const sourceRoot = option(argv, "source-root");
    if (!kubeconfig || !context || !sourceRoot) {
        process.stderr.write("usage: controller.ts --kubeconfig FILE --context NAME --source-root DIR [--namespace argocd] [--interval-ms 500]\n");
        return 2;
    }
    const interval = option(argv, "interval-ms");
    const controller = new ArgoController({ kubeconfig, context, sourceRoot, namespace: option(argv, "namespace"), intervalMs: interval ? Number(interval) : undefined });
    const abort = new AbortController();
    for (const signal of ["SIGTERM", "SIGINT"] as const) process.on(signal, () => abort.abort());
    await controller.run(abort.signal);
    return 0;
}
