/**
 * Argo CD's health rules, as the lab's Argo CD controller applies them to live objects. Pure: objects in,
 * a health status out. The rules follow gitops-engine `pkg/health/` (one function per upstream file) and the
 * Application's total follows argo-cd v3 `controller/health.go` (`setApplicationHealth`).
 */

export type HealthStatusCode = "Healthy" | "Suspended" | "Progressing" | "Missing" | "Degraded" | "Unknown";

export interface HealthStatus {
    status: HealthStatusCode;
    message?: string;
}

/** A Kubernetes object as the API returns it (only what the rules read is typed). */
export interface KubeObject {
    apiVersion?: string;
    kind?: string;
    metadata?: {
        name?: string;
        namespace?: string;
        generation?: number;
        deletionTimestamp?: string;
        finalizers?: string[];
        annotations?: Record<string, string>;
        labels?: Record<string, string>;
        [key: string]: unknown;
    };
    spec?: any;
    status?: any;
    [key: string]: unknown;
}

/** From most to least healthy (gitops-engine pkg/health/health.go, healthOrder). */
export const HEALTH_ORDER: readonly HealthStatusCode[] = ["Healthy", "Suspended", "Progressing", "Missing", "Degraded", "Unknown"];

/** Whether `next` is a worse condition than `current` (gitops-engine pkg/health/health.go, IsWorse). */
export function isWorse(current: HealthStatusCode, next: HealthStatusCode): boolean {
    return HEALTH_ORDER.indexOf(next) > HEALTH_ORDER.indexOf(current);
}

export function groupOf(obj: KubeObject): string {
    const apiVersion = obj.apiVersion ?? "";
    return apiVersion.includes("/") ? apiVersion.slice(0, apiVersion.indexOf("/")) : "";
}

function versionOf(obj: KubeObject): string {
    const apiVersion = obj.apiVersion ?? "";
    return apiVersion.includes("/") ? apiVersion.slice(apiVersion.indexOf("/") + 1) : apiVersion;
}

const HOOK = "argocd.argoproj.io/hook";
const HOOK_FINALIZER = "argocd.argoproj.io/hook-finalizer";
const IGNORE_HEALTHCHECK = "argocd.argoproj.io/ignore-healthcheck";

function hookTypes(obj: KubeObject): string[] {
    const annotations = obj.metadata?.annotations ?? {};
    const csv = annotations[HOOK] ?? (annotations["helm.sh/hook"] !== undefined && annotations["helm.sh/hook"] !== "crd-install" ? annotations["helm.sh/hook"] : undefined);
    return csv === undefined ? [] : csv.split(",").map(s => s.trim()).filter(Boolean);
}

/** A resource marked `argocd.argoproj.io/hook: Skip` alone is not applied (gitops-engine pkg/sync/hook/hook.go, Skip). */
export function isSkipped(obj: KubeObject): boolean {
    const types = hookTypes(obj);
    return types.length === 1 && types[0] === "Skip";
}

/** Argo CD or Helm hooks take no part in an Application's health (gitops-engine pkg/sync/hook/hook.go, IsHook). */
export function isHook(obj: KubeObject): boolean {
    const annotations = obj.metadata?.annotations ?? {};
    if (annotations[HOOK] !== undefined) return !isSkipped(obj);
    return annotations["helm.sh/hook"] !== undefined && annotations["helm.sh/hook"] !== "crd-install";
}

type Check = (obj: KubeObject) => HealthStatus;

const unsupported = (kind: string, obj: KubeObject): HealthStatus =>
    ({ status: "Unknown", message: `unsupported ${kind} GVK: ${groupOf(obj)}/${versionOf(obj)}, Kind=${obj.kind}` });

const condition = (status: any, type: string): any =>
    (status?.conditions ?? []).find((c: { type?: string }) => c.type === type);

/** gitops-engine pkg/health/health_deployment.go */
const deploymentHealth: Check = obj => {
    if (versionOf(obj) !== "v1") return unsupported("Deployment", obj);
    const spec = obj.spec ?? {}, status = obj.status ?? {};
    const name = obj.metadata?.name;
    if (spec.paused) return { status: "Suspended", message: "Deployment is paused" };
    if ((obj.metadata?.generation ?? 0) > (status.observedGeneration ?? 0)) {
        return { status: "Progressing", message: "Waiting for rollout to finish: observed deployment generation less than desired generation" };
    }
    const progressing = condition(status, "Progressing");
    const replicas = spec.replicas;
    const updated = status.updatedReplicas ?? 0, current = status.replicas ?? 0, available = status.availableReplicas ?? 0;
    if (progressing?.reason === "ProgressDeadlineExceeded") return { status: "Degraded", message: `Deployment "${name}" exceeded its progress deadline` };
    if (replicas !== undefined && updated < replicas) {
        return { status: "Progressing", message: `Waiting for rollout to finish: ${updated} out of ${replicas} new replicas have been updated...` };
    }
    if (current > updated) return { status: "Progressing", message: `Waiting for rollout to finish: ${current - updated} old replicas are pending termination...` };
    if (available < updated) return { status: "Progressing", message: `Waiting for rollout to finish: ${available} of ${updated} updated replicas are available...` };
    return { status: "Healthy" };
};

/** gitops-engine pkg/health/health_daemonset.go */
const daemonSetHealth: Check = obj => {
    if (versionOf(obj) !== "v1") return unsupported("DaemonSet", obj);
    const spec = obj.spec ?? {}, status = obj.status ?? {};
    const name = obj.metadata?.name;
    if ((obj.metadata?.generation ?? 0) > (status.observedGeneration ?? 0)) {
        return { status: "Progressing", message: "Waiting for rollout to finish: observed daemon set generation less than desired generation" };
    }
    const updated = status.updatedNumberScheduled ?? 0, desired = status.desiredNumberScheduled ?? 0, available = status.numberAvailable ?? 0;
    if (spec.updateStrategy?.type === "OnDelete") return { status: "Healthy", message: `daemon set ${updated} out of ${desired} new pods have been updated` };
    if (updated < desired) return { status: "Progressing", message: `Waiting for daemon set "${name}" rollout to finish: ${updated} out of ${desired} new pods have been updated...` };
    if (available < desired) return { status: "Progressing", message: `Waiting for daemon set "${name}" rollout to finish: ${available} of ${desired} updated pods are available...` };
    return { status: "Healthy" };
};

/** gitops-engine pkg/health/health_statefulset.go */
const statefulSetHealth: Check = obj => {
    if (versionOf(obj) !== "v1") return unsupported("StatefulSet", obj);
    const spec = obj.spec ?? {}, status = obj.status ?? {};
    const observed = status.observedGeneration ?? 0;
    if (observed === 0 || (obj.metadata?.generation ?? 0) > observed) return { status: "Progressing", message: "Waiting for statefulset spec update to be observed..." };
    const ready = status.readyReplicas ?? 0, updated = status.updatedReplicas ?? 0;
    if (spec.replicas !== undefined && ready < spec.replicas) return { status: "Progressing", message: `Waiting for ${spec.replicas - ready} pods to be ready...` };
    const strategy = spec.updateStrategy ?? {};
    if (strategy.type === "RollingUpdate" && strategy.rollingUpdate) {
        const partition = strategy.rollingUpdate.partition;
        if (spec.replicas !== undefined && partition !== undefined && updated < spec.replicas - partition) {
            return { status: "Progressing", message: `Waiting for partitioned roll out to finish: ${updated} out of ${spec.replicas - partition} new pods have been updated...` };
        }
        return { status: "Healthy", message: `partitioned roll out complete: ${updated} new pods have been updated...` };
    }
    if (strategy.type === "OnDelete") return { status: "Healthy", message: `statefulset has ${ready} ready pods` };
    if (status.updateRevision !== status.currentRevision) {
        return { status: "Progressing", message: `waiting for statefulset rolling update to complete ${updated} pods at revision ${status.updateRevision}...` };
    }
    return { status: "Healthy", message: `statefulset rolling update complete ${status.currentReplicas ?? 0} pods at revision ${status.currentRevision}...` };
};

/** gitops-engine pkg/health/health_replicaset.go */
const replicaSetHealth: Check = obj => {
    if (versionOf(obj) !== "v1") return unsupported("ReplicaSet", obj);
    const spec = obj.spec ?? {}, status = obj.status ?? {};
    if ((obj.metadata?.generation ?? 0) > (status.observedGeneration ?? 0)) {
        return { status: "Progressing", message: "Waiting for rollout to finish: observed replica set generation less than desired generation" };
    }
    const failure = condition(status, "ReplicaFailure");
    if (failure?.status === "True") return { status: "Degraded", message: failure.message };
    const available = status.availableReplicas ?? 0;
    if (spec.replicas !== undefined && available < spec.replicas) {
        return { status: "Progressing", message: `Waiting for rollout to finish: ${available} out of ${spec.replicas} new replicas are available...` };
    }
    return { status: "Healthy" };
};

/**
 * gitops-engine pkg/health/health_job.go: a Job that is neither complete, failed nor suspended is
 * Progressing (so a CSC's long-running Job never turns Healthy).
 */
const jobHealth: Check = obj => {
    if (versionOf(obj) !== "v1") return unsupported("Job", obj);
    let failed = false, complete = false, suspended = false;
    let failMessage: string | undefined, message: string | undefined;
    for (const c of (obj.status?.conditions ?? []) as { type?: string; status?: string; message?: string }[]) {
        if (c.type === "Failed") { failed = true; complete = true; failMessage = c.message; }
        else if (c.type === "Complete") { complete = true; message = c.message; }
        else if (c.type === "Suspended") { complete = true; message = c.message; if (c.status === "True") suspended = true; }
    }
    if (!complete) return { status: "Progressing", message };
    if (failed) return { status: "Degraded", message: failMessage };
    if (suspended) return { status: "Suspended", message: failMessage };
    return { status: "Healthy", message };
};

/** gitops-engine pkg/health/health_pod.go */
const podHealth: Check = obj => {
    if (versionOf(obj) !== "v1") return unsupported("Pod", obj);
    const spec = obj.spec ?? {}, status = obj.status ?? {};
    const restartPolicy = spec.restartPolicy ?? "Always";
    const containers = (status.containerStatuses ?? []) as any[];
    if (restartPolicy === "Always") {
        const messages: string[] = [];
        for (const c of containers) {
            const reason: string | undefined = c.state?.waiting?.reason;
            if (reason !== undefined && (reason.startsWith("Err") || reason.endsWith("Error") || reason.endsWith("BackOff"))) messages.push(c.state.waiting.message ?? "");
        }
        if (messages.length) return { status: "Degraded", message: messages.join(", ") };
    }
    const failMessage = (c: any): string => {
        const t = c.state?.terminated;
        if (!t) return "";
        if (t.message) return t.message;
        if (t.reason === "OOMKilled") return t.reason;
        if (t.exitCode) return `container "${c.name}" failed with exit code ${t.exitCode}`;
        return "";
    };
    switch (status.phase) {
        case "Pending": return { status: "Progressing", message: status.message };
        case "Succeeded": return { status: "Healthy", message: status.message };
        case "Failed": {
            if (status.message) return { status: "Degraded", message: status.message };
            for (const c of [...(status.initContainerStatuses ?? []), ...containers]) {
                const m = failMessage(c);
                if (m) return { status: "Degraded", message: m };
            }
            return { status: "Degraded", message: "" };
        }
        case "Running":
            if (restartPolicy === "Always") {
                const ready = condition(status, "Ready")?.status === "True";
                if (ready) return { status: "Healthy", message: status.message };
                if (containers.some(c => c.lastState?.terminated)) return { status: "Degraded", message: status.message };
                return { status: "Progressing", message: status.message };
            }
            // OnFailure / Never: a pod with a finite life (typically a hook) is Progressing while it runs.
            return { status: "Progressing", message: status.message };
    }
    return { status: "Unknown", message: status.message };
};

/** gitops-engine pkg/health/health_pvc.go */
const pvcHealth: Check = obj => {
    if (versionOf(obj) !== "v1") return unsupported("PersistentVolumeClaim", obj);
    const phase = obj.status?.phase;
    return { status: phase === "Lost" ? "Degraded" : phase === "Pending" ? "Progressing" : phase === "Bound" ? "Healthy" : "Unknown" };
};

/** gitops-engine pkg/health/health_service.go: only a LoadBalancer waits for its ingress. */
const serviceHealth: Check = obj => {
    if (versionOf(obj) !== "v1") return unsupported("Service", obj);
    if (obj.spec?.type === "LoadBalancer") return { status: (obj.status?.loadBalancer?.ingress ?? []).length ? "Healthy" : "Progressing" };
    return { status: "Healthy" };
};

/** gitops-engine pkg/health/health_ingress.go */
const ingressHealth: Check = obj => ({ status: (obj.status?.loadBalancer?.ingress ?? []).length ? "Healthy" : "Progressing" });

/**
 * The built-in check for an object's group and kind, or undefined when there is none (gitops-engine
 * pkg/health/health.go, GetHealthCheckFunc). There is none for argoproj.io/Application: argo-cd removed it
 * in 1.8 (argo-cd docs/operator-manual/health.md, "Argocd App"), so by default a child Application does
 * not count in its parent's health.
 */
export function healthCheckFor(group: string, kind: string): Check | undefined {
    switch (group) {
        case "apps":
            return ({ Deployment: deploymentHealth, StatefulSet: statefulSetHealth, ReplicaSet: replicaSetHealth, DaemonSet: daemonSetHealth } as Record<string, Check>)[kind];
        case "extensions":
        case "networking.k8s.io":
            return kind === "Ingress" ? ingressHealth : undefined;
        case "":
            return ({ Service: serviceHealth, PersistentVolumeClaim: pvcHealth, Pod: podHealth } as Record<string, Check>)[kind];
        case "batch":
            return kind === "Job" ? jobHealth : undefined;
    }
    return undefined;
}

/** One object's health, or undefined when Argo CD has no rule for its kind (gitops-engine pkg/health/health.go, GetResourceHealth). */
export function resourceHealth(obj: KubeObject): HealthStatus | undefined {
    if (obj.metadata?.deletionTimestamp && !(obj.metadata.finalizers ?? []).includes(HOOK_FINALIZER)) {
        return { status: "Progressing", message: "Pending deletion" };
    }
    const check = healthCheckFor(groupOf(obj), obj.kind ?? "");
    return check ? check(obj) : undefined;
}

/** A resource of an Application: what its source wants and what is live (either may be absent). */
export interface ManagedResource {
    target?: KubeObject;
    live?: KubeObject;
}

/**
 * The Application's health from its resources (argo-cd v3 controller/health.go, setApplicationHealth): the
 * worst of its resources' health; Skip-hooks and hooks do not count, nor objects annotated
 * `argocd.argoproj.io/ignore-healthcheck: "true"`, nor the Application itself, nor kinds without a rule; a
 * missing resource does not count (the sync status says it is missing) unless none of them is live, which
 * makes the Application Missing; a child Application that is Missing or Unknown does not count.
 */
export function applicationHealth(resources: ManagedResource[], app?: { name: string; namespace: string }): HealthStatusCode {
    let health: HealthStatusCode = "Healthy";
    let containsResources = false, containsLive = false;
    for (const { target, live } of resources) {
        if (target && isSkipped(target)) continue;
        if (live && isHook(live)) continue;
        containsResources = true;
        if (!live) continue; // Missing: left to the sync status
        containsLive = true;
        if (live.metadata?.annotations?.[IGNORE_HEALTHCHECK] === "true") continue;
        const isApplication = groupOf(live) === "argoproj.io" && live.kind === "Application";
        if (isApplication && app && live.metadata?.name === app.name && live.metadata?.namespace === app.namespace) continue;
        const h = resourceHealth(live);
        if (!h) continue;
        if (isApplication && (h.status === "Missing" || h.status === "Unknown")) continue;
        if (isWorse(health, h.status)) health = h.status;
    }
    if (containsResources && !containsLive && isWorse(health, "Missing")) health = "Missing";
    return health;
}
