import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { StepDef } from "../core";
import { argoSyncResource, syncRunId } from "../kubernetes/argocd-sync";
import { rolloutRestartResource } from "../kubernetes/rollout-restart";
import { ServerDryRun } from "../kubernetes/server-dry-run";
import { shellQuote } from "../core/shell-quote";
import { kubeContext, LsstCleanupCover, LsstConfig, LsstGateConfig, SyncWait } from "../config/lsst";
import { cscCommand, describeProbe, fill, Probe } from "./probes";

/**
 * The LSST runbook steps. Steps that only run a configured command are shell steps (bash -c on
 * the deployment host); steps that wait, sync or decide (states, gates, Argo CD, cleanup with a
 * fall back, notifications) run the project's step runner (cli/step/lsst.ts).
 */

export type AppRef = { app: string; children: boolean; waitFor: SyncWait };

/** The site's cluster, as the Kubernetes steps reach it: its provider, and what marks this run's operations. */
export interface SiteCluster {
    provider: k8s.Provider;
    runKey: string;
    stack: string;
    /** Collects the site's patches for the API server's check during `pulumi preview`. */
    dryRun?: ServerDryRun;
}

function runner(kind: string, title: string, params: Record<string, pulumi.Input<unknown>>,
    environment?: Record<string, pulumi.Input<string>>): StepDef {
    return { kind, title, params, runner: { environment } };
}

function shell(kind: string, title: string, command: string, params: Record<string, unknown> = {}): StepDef {
    return { kind, title, params: { ...params, command }, shell: { command } };
}

/** Placeholders every LSST command may use; {kubectl} is the operator's command line prefix (shell text). */
export function siteCommand(c: LsstConfig, template: string, values: Record<string, string> = {}): string {
    return fill(template, { ...values, kubectl: c.kubectl }, ["kubectl"]);
}

export interface GateOptions {
    timeoutSeconds: number;
    warnAfterSeconds?: number;
    /** At the timeout: fail the step (default) or report what was not ready and go on. */
    onTimeout?: "fail" | "report";
}

/** A gate: the procedure goes no further until the probe passes; at the timeout it names what was not ready. */
export function gate(title: string, probe: Probe | Record<string, pulumi.Input<unknown>>, what: string, o: GateOptions): StepDef {
    return runner("probe-gate", title, {
        what,
        probe,
        timeoutSeconds: o.timeoutSeconds,
        ...(o.warnAfterSeconds !== undefined ? { warnAfterSeconds: o.warnAfterSeconds } : {}),
        ...(o.onTimeout ? { onTimeout: o.onTimeout } : {}),
    });
}

/** Read a probe once (a number to compare with later); the result holds `count` for a count probe. */
export function probeRead(title: string, probe: Probe | Record<string, pulumi.Input<unknown>>, what: string, timeoutSeconds = 30): StepDef {
    return runner("probe", title, { what, probe, timeoutSeconds });
}

/** A gate from configuration (`lsst.gates.*`). */
export function configuredGate(c: LsstConfig, title: string, what: string, g: LsstGateConfig): StepDef {
    let probe: Probe;
    switch (g.type) {
        case "exit":
            probe = { type: "exit", command: siteCommand(c, g.command), exitCode: g.exitCode };
            break;
        case "log":
            probe = { type: "log", command: siteCommand(c, g.command), pattern: g.pattern, ...(g.tail ? { tail: g.tail } : {}) };
            break;
        case "k8s":
            probe = {
                type: "k8s", kubectl: c.kubectl, resource: g.resource, namespace: g.namespace,
                ...(g.selector ? { selector: g.selector } : {}),
                ...(g.field ? { field: g.field } : { condition: g.condition }),
                equals: g.equals ?? "True",
            };
            break;
        case "k8s-logs":
            probe = {
                type: "k8s-logs", kubectl: c.kubectl, namespace: g.namespace, selector: g.selector, pattern: g.pattern,
                ...(g.tail ? { tail: g.tail } : {}),
            };
            break;
    }
    return gate(`${title}: ${describeProbe(probe)}`, probe, what, { timeoutSeconds: g.timeoutSeconds, warnAfterSeconds: g.warnAfterSeconds });
}

/** Send one CSC to a state and wait until it reports it (or one of `accept`). */
export function cscState(c: LsstConfig, csc: string, target: "OFFLINE" | "ENABLED", accept: string[], title: string): StepDef {
    return runner("csc-state", title, {
        csc,
        target,
        accept,
        command: cscCommand(siteCommand(c, c.csc.stateCommand), csc, { state: target }),
        probe: cscCommand(siteCommand(c, c.csc.stateProbe), csc),
        timeoutSeconds: c.csc.timeoutSeconds,
    });
}

/** A bare-metal service started or stopped with its configured command. */
export function bareMetal(c: LsstConfig, s: { host: string; service: string; start: string; stop: string },
    action: "start" | "stop", title: string): StepDef {
    const command = siteCommand(c, action === "start" ? s.start : s.stop, { host: s.host });
    return shell("baremetal-service", title, command, { host: s.host, service: s.service, action });
}

export function daemonCleanup(c: LsstConfig, host: string, command: string): StepDef {
    return shell("daemon-cleanup", `Clean up the CSCs and daemons on ${host}`, siteCommand(c, command, { host }), { host });
}

export function k8sCleanupShell(c: LsstConfig, title: string, command: string, what: string): StepDef {
    return shell("k8s-cleanup", title, siteCommand(c, command), { what });
}

/** k8s-admin's scripts ask `y to proceed, any other key to exit` and have no --yes: the runner answers. */
export const CLEANUP_ANSWER = "y";

/**
 * A k8s-admin cleanup script (`cleanup_all -d`, `cleanup_love`) run with a kubeconfig holding the
 * site's context only, its prompt answered. Its exit status proves nothing (it ignores kubectl's), so
 * the runner then checks that none of `covers` is left; when the script fails or something is left,
 * it deletes `covers` itself (workloads, never an Application) and checks again.
 */
export function k8sCleanup(c: LsstConfig, title: string, command: string, covers: LsstCleanupCover[]): StepDef {
    return runner("k8s-cleanup", title, {
        command: siteCommand(c, command),
        kubectl: c.kubectl,
        context: kubeContext(c)!,
        answer: CLEANUP_ANSWER,
        covers: covers.map(x => ({ namespace: x.namespace, kinds: [...x.kinds], ...(x.selector ? { selector: x.selector } : {}) })),
    });
}

/**
 * A gate on the containers of a bare-metal script: docker-compose-admin's scripts exit 0 whatever
 * docker did, so their effect is read from the containers' state (lsst.bareMetal.probe). The probe
 * counts the containers whose state line matches `running` (or `stopped`) and waits for all of them.
 */
export function containerGate(c: LsstConfig, host: string, what: string, containers: string[], state: "running" | "stopped"): StepDef {
    const p = c.bareMetal.probe;
    const reads = containers.map(container => siteCommand(c, p.command, { host, container })).join("; ");
    const pattern = state === "running" ? p.running : p.stopped;
    const probe: Probe = {
        type: "count", command: `{ ${reads}; } 2>&1 | grep -cE ${shellQuote(pattern)}`, pattern: "(\\d+)",
        counts: `containers of ${what} on ${host} ${state}`, equals: containers.length,
    };
    return gate(`Check that ${what} on ${host} is ${state === "running" ? "up" : "down"}: ${containers.join(", ")} ${state}`, probe,
        `${what} on ${host} is ${state === "running" ? "up" : "down"} (${containers.join(", ")} ${state})`, { timeoutSeconds: p.timeoutSeconds });
}

export function configUpdate(c: LsstConfig, title: string, command: string, params: Record<string, unknown>): StepDef {
    return shell("config-update", title, siteCommand(c, command, params.host ? { host: String(params.host) } : {}), params);
}

/** What the step runner of an `argocd-sync` step reads: the app, and how the site syncs and waits. */
function syncParams(c: LsstConfig, a: AppRef, wave: number): Record<string, unknown> {
    return {
        app: a.app,
        wave,
        children: a.children,
        waitFor: a.waitFor,
        namespace: c.argocd.namespace,
        instanceLabel: c.argocd.instanceLabel,
        kubectl: c.kubectl,
        timeoutSeconds: c.argocd.timeoutSeconds,
        prune: c.argocd.prune,
        ...(c.argocd.revision ? { revision: c.argocd.revision } : {}),
    };
}

/**
 * Sync one Argo CD application: the step's Kubernetes patch sets the sync operation and the provider
 * awaits its end (components/kubernetes/argocd-sync.ts); the step runner then judges where the await
 * ended (Argo CD's message when the sync failed) and syncs the children of an app of apps, which exist
 * only once their parent is synced.
 */
export function argocdSync(c: LsstConfig, a: AppRef, wave: number, cluster: SiteCluster): StepDef {
    const children = a.children ? " and its child applications" : "";
    const until = a.waitFor === "synced" ? "its sync succeeded (its CSC Jobs keep running)" : "Synced and Healthy";
    const run = syncRunId([cluster.stack, cluster.runKey, a.app]);
    return {
        kind: "argocd-sync",
        title: `Sync ${a.app}${children} (wave ${wave}) and wait until ${until}`,
        params: syncParams(c, a, wave),
        resource: argoSyncResource({
            app: a.app, namespace: c.argocd.namespace, run, initiatedBy: "upgrade-as-code",
            reason: `${cluster.stack} ${cluster.runKey} ${a.app}`, needs: a.waitFor,
            timeoutSeconds: c.argocd.timeoutSeconds, revision: c.argocd.revision, prune: c.argocd.prune, provider: cluster.provider,
            dryRun: cluster.dryRun,
        }),
        runner: {},
    };
}

/**
 * Sync the child applications of an app of apps that an earlier step synced (no patch of its own: the
 * children are known only once their parent is synced), side by side, as sync_apps.py's last wave does.
 */
export function argocdSyncChildren(c: LsstConfig, a: AppRef, wave: number): StepDef {
    const until = a.waitFor === "synced" ? "their syncs succeeded (their CSC Jobs keep running)" : "Synced and Healthy";
    return runner("argocd-sync", `Sync the child applications of ${a.app} (wave ${wave}) and wait until ${until}`,
        { ...syncParams(c, { ...a, children: true }, wave), parentSynced: true });
}

/**
 * Restart a Deployment's pods so that the new ones pull the images: `kubectl rollout restart` as a
 * Kubernetes patch, which the provider awaits until the new pods are ready.
 */
export function rolloutRestart(c: LsstConfig, title: string, cluster: SiteCluster): StepDef {
    const n = c.nublado;
    return {
        kind: "k8s-pod-restart",
        title,
        params: { namespace: n.namespace, deployment: n.deployment, timeoutSeconds: n.timeoutSeconds },
        resource: rolloutRestartResource({
            deployment: n.deployment, namespace: n.namespace, timeoutSeconds: n.timeoutSeconds, provider: cluster.provider,
            marker: `${cluster.stack}/${cluster.runKey}`, dryRun: cluster.dryRun,
        }),
        runner: {},
    };
}

/** A message to the site's Slack channel (through the webhook when one is configured). */
export function notify(c: LsstConfig, title: string, message: string, webhook: pulumi.Input<string> | undefined,
    extra: Record<string, pulumi.Input<unknown>> = {}): StepDef {
    return runner("notify", title, { channel: c.slack.channel, message, ...extra },
        webhook ? { SLACK_WEBHOOK_URL: webhook } : undefined);
}
