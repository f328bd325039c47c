import * as pulumi from "@pulumi/pulumi";
import { Sequence, Step, StepDef } from "../core";
import { GateSettings, operatorGate } from "../gates";
import {
    CLEANUP_LOVE_COVERS, containersOf, kubeContext, LsstConfig, LsstServiceConfig, LsstSystemConfig, LsstVariations, lsstVariations, lovesSynced, systemSlug,
} from "../config/lsst";
import { clusterProvider } from "../kubernetes/cluster";
import { ServerDryRun } from "../kubernetes/server-dry-run";
import { cscCommand, cscParts, Probe } from "./probes";
import * as steps from "./steps";

export const LSST_PROCEDURE = "lsst-site-upgrade";

export interface LsstSiteUpgradeArgs {
    /** The upgrade run: a new key runs the whole procedure again. */
    runKey: string;
    /** The validated `upgrade:lsst` section. */
    lsst: LsstConfig;
    /** Slack incoming webhook, a Pulumi secret; without it the messages are printed for the operator to post. */
    slackWebhook?: pulumi.Input<string>;
    /** Operator gates (sync_apps.py's "type go"): timeout and the pre-approvals of this run. */
    gates?: GateSettings;
}

const SITE_LABEL: Record<string, string> = { summit: "Summit", tts: "TTS" };

/** The Watcher and the ScriptQueues come down last ("if running from LOVE"). */
export function goesLast(csc: string): boolean {
    const { name } = cscParts(csc);
    return name === "Watcher" || name === "ScriptQueue";
}

/** Places steps, keeping its own tail: parallel chains and empty groups are handled explicitly. */
class Flow {
    tail: Step[] = [];

    constructor(private readonly seq: Sequence) {}

    add(id: string, def: StepDef): Step {
        const step = this.seq.add(id, def, this.tail);
        this.tail = [step];
        return step;
    }

    /** Steps that wait for the tail only and may run side by side; an empty list leaves the tail alone. */
    fork(defs: [string, StepDef][]): Step[] {
        if (defs.length === 0) return [];
        const start = this.tail;
        const placed = defs.map(([id, def]) => this.seq.add(id, def, start));
        this.tail = placed;
        return placed;
    }

    /** Side-by-side chains: each chain's steps one after the other, all starting from the tail. */
    chains(chains: [string, StepDef][][]): void {
        const start = this.tail;
        const ends: Step[] = [];
        for (const chain of chains) {
            let after = start;
            for (const [id, def] of chain) after = [this.seq.add(id, def, after)];
            if (chain.length) ends.push(...after);
        }
        if (ends.length) this.tail = ends;
    }
}

/**
 * "Deploying the Upgrade" at one LSST site (Summit or TTS): only the production domain is touched.
 * The Kubernetes and bare-metal parts follow today's upstream scripts: lsst-ts/argocd-csc
 * bin/sync_apps.py, lsst-ts/k8s-admin cleanup_all and cleanup_love, lsst-ts/docker-compose-admin.
 *
 * 1. Shutdown: every CSC to OFFLINE (those that stop at STANDBY confirmed by heartbeat where the site
 *    asks), the Watcher and the ScriptQueues last; DM/Camera daemons; LOVE; bare-metal services, then the
 *    machines' own OSPL daemons, each script's effect read from its containers; Kubernetes (cleanup_all -d
 *    with the site's context, checked, with a fall back over the same namespaces); Nublado namespaces;
 *    no daemon left connected; the main daemon.
 * 2. Configuration: approved pull requests merged, bare-metal checkouts updated.
 * 3. Deployment: Nublado's cachemachine; the main OSPL daemon ("daemon ready"); the Argo CD waves of
 *    sync_apps.py, a gate and the operator's go where it pauses (csc-cluster-config, ospl-config,
 *    ospl-daemon | daemons ready, go | kafka-producers | producers Running | love and its apps, or LOVE on
 *    bare metal | go | obssys | obssys running | notice to the system principals | go | the rest side by
 *    side); the machines' OSPL daemons, then the bare-metal services.
 * 4. Monitoring: every system in STANDBY or OFFLINE (or the stragglers reported after ~30 min), the
 *    site's systems to ENABLED, Nublado open again.
 */
export class LsstSiteUpgrade extends pulumi.ComponentResource {
    readonly steps: Sequence;
    readonly variations: LsstVariations;
    /** The systems the procedure touches (production domain only). */
    readonly systems: string[];

    constructor(name: string, args: LsstSiteUpgradeArgs, opts?: pulumi.ComponentResourceOptions) {
        super("upgrade:lsst:SiteUpgrade", name, {}, opts);
        const c = args.lsst;
        const v = lsstVariations(c);
        const production = c.systems.filter(s => s.domainId === c.productionDomainId);
        if (production.length === 0) throw new Error(`LsstSiteUpgrade: no system in the production domain ${c.productionDomainId}`);
        const site = SITE_LABEL[c.site] ?? c.site;
        const seq = new Sequence(this, args.runKey, LSST_PROCEDURE);
        const flow = new Flow(seq);

        shutdown(flow, c, v, production);
        configuration(flow, c);
        const clusterArgs = { context: kubeContext(c), kubeconfigPath: c.kubernetes.kubeconfig };
        const cluster: steps.SiteCluster = {
            provider: clusterProvider(`${name}-cluster`, clusterArgs, { parent: this }),
            runKey: args.runKey,
            stack: pulumi.getStack(),
            dryRun: new ServerDryRun(site, clusterArgs),
        };
        deployment(flow, c, site, args.slackWebhook, args.gates ?? { runKey: args.runKey, timeoutSeconds: 3600, preApproved: [] }, cluster);
        monitoring(flow, c, site, production, args.slackWebhook);
        cluster.dryRun?.run(this);

        this.steps = seq;
        this.variations = v;
        this.systems = production.map(s => s.name);
        this.registerOutputs({});
    }
}

function federations(c: LsstConfig, goal: { equals?: number; below?: pulumi.Input<number> }): Record<string, pulumi.Input<unknown>> {
    const d = c.mainDaemon;
    return {
        type: "count", command: steps.siteCommand(c, d.federations, { host: d.host }), pattern: d.federationsPattern,
        counts: "federations", ...goal,
    };
}

function shutdown(flow: Flow, c: LsstConfig, v: LsstVariations, production: LsstSystemConfig[]): void {
    // 2. All CSCs to OFFLINE, side by side; the Watcher and the ScriptQueues once all the others are down.
    const offline = (s: LsstSystemConfig): [string, StepDef][] => {
        const slug = systemSlug(s.name);
        const standby = s.stopsAt === "STANDBY";
        const chain: [string, StepDef][] = [[`shutdown-offline-${slug}`, steps.cscState(c, s.name, "OFFLINE",
            standby ? ["STANDBY", "OFFLINE"] : ["OFFLINE"],
            standby ? `Send ${s.name} to OFFLINE (it reports STANDBY as its last state)` : `Send ${s.name} to OFFLINE`)]];
        if (standby && v.heartbeatCheck) {
            const hb = c.csc.heartbeatProbe!;
            const probe: Probe = {
                type: "count", command: cscCommand(steps.siteCommand(c, hb.command), s.name), pattern: hb.pattern,
                counts: `heartbeats of ${s.name}`, equals: 0,
            };
            chain.push([`shutdown-heartbeat-${slug}`, steps.gate(`Check for heartbeats: ${s.name} has really stopped`, probe,
                `${s.name} has stopped sending heartbeats`, { timeoutSeconds: c.csc.timeoutSeconds })]);
        }
        return chain;
    };
    flow.chains(production.filter(s => !goesLast(s.name)).map(offline));
    flow.chains(production.filter(s => goesLast(s.name)).map(offline));

    // 4.1 (TTS) the main daemon's federations must go down once the DM and Camera daemons are shut down.
    const watch = v.federationsWatch && c.daemonCleanup.length > 0;
    const before = watch
        ? flow.add("shutdown-federations-count", steps.probeRead("Note the number of federations on the main OSPL daemon",
            federations(c, {}), "the number of federations"))
        : undefined;
    // 4.2 CSCs and daemons on the DM and Camera machines (their containers probed where listed).
    flow.chains(c.daemonCleanup.map(h => {
        const id = `shutdown-daemons-${systemSlug(h.host)}`;
        const chain: [string, StepDef][] = [[id, steps.daemonCleanup(c, h.host, h.command)]];
        if (h.containers.length) chain.push([`${id}-down`, steps.containerGate(c, h.host, "the CSCs and daemons", h.containers, "stopped")]);
        return chain;
    }));
    if (before) {
        flow.add("shutdown-federations-down", steps.gate("Give the main daemon time: the number of federations goes down",
            federations(c, { below: before.output<number>("count") }), "the number of federations went down",
            { timeoutSeconds: c.mainDaemon.patience.timeoutSeconds, warnAfterSeconds: c.mainDaemon.patience.warnSeconds }));
    }
    // 4.3 LOVE and its daemon, in the order listed; each script's effect is read from its containers.
    flow.chains([c.bareMetal.love.flatMap(s => serviceAction(c, `shutdown-${s.service}-${systemSlug(s.host)}`, s, "stop",
        `Shut down ${s.service} on ${s.host}`))]);
    // 4.4 The bare-metal deployments, then each machine's own OSPL daemon (docker-compose-admin's
    // shutdown_daemon): the federations count reaches 0 only once they are gone too.
    const [services, daemons] = byRole(c.bareMetal.services);
    flow.chains(services.map(s => serviceAction(c, `shutdown-baremetal-${s.service}-${systemSlug(s.host)}`, s, "stop",
        `Shut down and clean up ${s.service} on ${s.host}`)));
    flow.chains(daemons.map(s => serviceAction(c, `shutdown-baremetal-${s.service}-${systemSlug(s.host)}`, s, "stop",
        `Shut down the OSPL daemon ${s.service} on ${s.host}`)));
    // 4.5 Kubernetes, OSPL daemons included, with the site's context; cleanup_love where the site has it.
    flow.add("shutdown-k8s-cleanup", steps.k8sCleanup(c, "Clean up the Kubernetes deployment (cleanup_all -d: the OSPL daemons too)",
        c.kubernetes.cleanup, c.kubernetes.covers));
    if (v.cleanupLove) {
        flow.add("shutdown-k8s-cleanup-love", steps.k8sCleanup(c, "Clean up LOVE's Kubernetes leftovers (./cleanup_love)",
            c.kubernetes.cleanupLove!, CLEANUP_LOVE_COVERS));
    }
    // 4.6 Nublado namespaces.
    flow.add("shutdown-nublado-namespaces", steps.k8sCleanupShell(c, "Clean up the Nublado namespaces",
        c.kubernetes.nubladoCleanup, "nublado-namespaces"));
    // 4.7 No daemon is still connected (a rogue process must be found before going on).
    flow.add("shutdown-daemons-disconnected", steps.gate("Check that all daemons have disconnected: the number of federations is 0",
        federations(c, { equals: 0 }), "all daemons have disconnected",
        { timeoutSeconds: c.mainDaemon.patience.timeoutSeconds, warnAfterSeconds: c.mainDaemon.patience.warnSeconds }));
    // 4.8 The main daemon.
    const main: LsstServiceConfig = { ...c.mainDaemon, service: "ospl-daemon", role: "daemon" };
    flow.chains([serviceAction(c, "shutdown-main-daemon", main, "stop", `Shut down and clean up the main OSPL daemon on ${c.mainDaemon.host}`)]);
}

/** A bare-metal script, then the gate on its containers (its exit status proves nothing). */
function serviceAction(c: LsstConfig, id: string, s: LsstServiceConfig, action: "start" | "stop", title: string): [string, StepDef][] {
    return [
        [id, steps.bareMetal(c, s, action, title)],
        [`${id}-${action === "start" ? "up" : "down"}`, steps.containerGate(c, s.host, s.service, containersOf(s), action === "start" ? "running" : "stopped")],
    ];
}

/** The bare-metal services and the machines' own OSPL daemons. */
function byRole(list: LsstServiceConfig[]): [LsstServiceConfig[], LsstServiceConfig[]] {
    return [list.filter(s => s.role !== "daemon"), list.filter(s => s.role === "daemon")];
}

function configuration(flow: Flow, c: LsstConfig): void {
    // 5. Approved pull requests merged (cachemachine, the Argo CD branch), then the bare-metal checkouts.
    for (const pr of c.configUpdate.pullRequests) {
        if (pr.approved) {
            const probe: Probe = { type: "log", command: steps.siteCommand(c, pr.approved.command), pattern: pr.approved.pattern };
            flow.add(`config-approved-${systemSlug(pr.name)}`, steps.gate(`Ensure the ${pr.name} pull request is approved`, probe,
                `the ${pr.name} pull request is approved`, { timeoutSeconds: pr.approved.timeoutSeconds }));
        }
        flow.add(`config-merge-${systemSlug(pr.name)}`, steps.configUpdate(c, `Merge the ${pr.name} pull request`, pr.merge, { name: pr.name }));
    }
    flow.fork(c.configUpdate.checkouts.map(h => [`config-checkout-${systemSlug(h.host)}`,
        steps.configUpdate(c, `Update the configuration repositories on ${h.host}`, h.command, { host: h.host })]));
}

function deployment(flow: Flow, c: LsstConfig, site: string, webhook: pulumi.Input<string> | undefined, gates: GateSettings,
    cluster: steps.SiteCluster): void {
    // Where sync_apps.py pauses for a person to type go, an operator gate waits (components/gates).
    // Each follows the probe-gate that checks what the operator looks at (the gate every later wave waits for).
    const go = (id: string, title: string, what: string, look: string[]) => flow.add(...operatorGate(id, gates, { title, what, look }));
    // 6.1 Nublado: sync cachemachine, then restart its pod so that the new one pulls the images.
    let wave = 0;
    flow.add(`deploy-argocd-${c.nublado.app}`, steps.argocdSync(c, { app: c.nublado.app, children: false, waitFor: "healthy" }, wave, cluster));
    flow.add("deploy-nublado-restart", steps.rolloutRestart(c,
        `Restart the ${c.nublado.deployment} pods (kubectl rollout restart) so that new ones start and pull the images`, cluster));
    if (c.nublado.pulled) flow.add("deploy-nublado-pulled", steps.configuredGate(c, "The Nublado pull is complete", "the Nublado pull is complete", c.nublado.pulled));
    // 6.2 The main OSPL daemon on bare metal, verified by "daemon ready" in its log.
    const d = c.mainDaemon;
    // Its "daemon ready" log line is the effect of the start script (a fresh container: the shutdown removed it).
    flow.add("deploy-main-daemon-start", steps.bareMetal(c, { ...d, service: "ospl-daemon" }, "start", `Start the main OSPL daemon on ${d.host}`));
    const ready: Probe = { type: "log", command: steps.siteCommand(c, d.logs, { host: d.host }), pattern: d.readyPattern };
    flow.add("deploy-main-daemon-ready", steps.gate(`Verify that the main OSPL daemon has started: its log says "${d.readyPattern}"`, ready,
        "the main OSPL daemon is ready", { timeoutSeconds: d.readyTimeoutSeconds }));
    // 6.3 The minimal Kubernetes services: one wave, synced one after the other (sync_apps.py does not
    // pause between them). Where sync_apps.py pauses, the gate's check comes first (a probe-gate, which
    // every later wave waits for), then the operator's go.
    wave++;
    for (const a of c.argocd.minimal) flow.add(`deploy-argocd-${a.app}`, steps.argocdSync(c, a, wave, cluster));
    flow.add("deploy-daemons-ready", steps.configuredGate(c, "Check that the daemons are ready", "the OSPL daemons are ready", c.gates.daemonsReady));
    go("deploy-go-producers", "Type go in sync_apps.py to move on to syncing the kafka-producers app",
        "the logs of the OSPL daemons in the Argo CD UI: the daemons are ready", c.argocd.minimal.map(a => `Argo CD UI: ${a.app}`));
    wave++;
    flow.fork(c.argocd.producers.map(a => [`deploy-argocd-${a.app}`, steps.argocdSync(c, a, wave, cluster)]));
    flow.add("deploy-producers-running", steps.configuredGate(c, "Check that every kafka producer is Running", "every kafka producer is Running",
        c.gates.producersRunning));
    // 6.4 LOVE: on Kubernetes (sync_apps.py pauses after love), or on bare metal (--no-sync=love): its
    // daemon first, the reverse of the shutdown order, each checked by its containers.
    let obssysLook = c.argocd.producers.map(a => `Argo CD UI: ${a.app}`);
    if (lovesSynced(c)) {
        go("deploy-go-love", "Type go in sync_apps.py to move on to syncing the love apps",
            "the logs of the kafka producers say Running at the bottom", obssysLook);
        wave++;
        flow.fork(c.argocd.love.map(a => [`deploy-argocd-${a.app}`, steps.argocdSync(c, a, wave, cluster)]));
        flow.add("deploy-love-running", steps.configuredGate(c, "Check that the love apps are running", "the love apps are running",
            c.gates.loveRunning!));
        obssysLook = c.argocd.love.map(a => `Argo CD UI: ${a.app}`);
    } else {
        flow.chains([[...c.bareMetal.love].reverse().flatMap(s => serviceAction(c, `deploy-${s.service}-${systemSlug(s.host)}`, s, "start",
            `Start ${s.service} on ${s.host}`))]);
        obssysLook = [...obssysLook, ...c.bareMetal.love.map(s => `${s.service} on ${s.host}`)];
    }
    // 6.5 obssys and its children, then the gate.
    go("deploy-go-obssys", "Type go in sync_apps.py to move on to syncing the obssys apps",
        lovesSynced(c) ? "the love apps are running" : "the kafka producers are Running and LOVE on bare metal is up", obssysLook);
    wave++;
    flow.fork(c.argocd.obssys.map(a => [`deploy-argocd-${a.app}`, steps.argocdSync(c, a, wave, cluster)]));
    flow.add("deploy-obssys-running", steps.configuredGate(c, "Verify that the obssys containers are running", "the obssys containers are running",
        c.gates.obssysRunning));
    // 6.6 The minimal system is up: the system principals may start their daemons and CSCs.
    flow.add("deploy-notify-principals", steps.notify(c, "Inform the system principals that the minimal system is up",
        `[${site}] The minimal system is up (main OSPL daemon, Kubernetes OSPL daemons, kafka-producers, LOVE, obssys): ` +
        "system principals may now start their daemons and CSCs.", webhook));
    // 6.7 The rest of the applications as sync_apps.py syncs them: ASYNC_APPS and SINGLE_APPS one after the
    // other, then the children of the apps of apps side by side.
    if (c.argocd.rest.length) {
        go("deploy-go-rest", "Type go in sync_apps.py to proceed with syncing the rest of the apps",
            "the obssys containers are pulling and running in the Argo CD UI", c.argocd.obssys.map(a => `Argo CD UI: ${a.app}`));
    }
    wave++;
    flow.chains([c.argocd.rest.map(a => [`deploy-argocd-${a.app}`, steps.argocdSync(c, { ...a, children: false }, wave, cluster)])]);
    flow.fork(c.argocd.rest.filter(a => a.children)
        .map(a => [`deploy-argocd-${a.app}-children`, steps.argocdSyncChildren(c, a, wave)]));
    // 6.8 The bare-metal deployments: each machine's OSPL daemon first, then the services.
    const [services, daemons] = byRole(c.bareMetal.services);
    flow.chains(daemons.map(s => serviceAction(c, `deploy-baremetal-${s.service}-${systemSlug(s.host)}`, s, "start",
        `Start the OSPL daemon ${s.service} on ${s.host}`)));
    flow.chains(services.map(s => serviceAction(c, `deploy-baremetal-${s.service}-${systemSlug(s.host)}`, s, "start",
        `Start ${s.service} on ${s.host}`)));
}

function monitoring(flow: Flow, c: LsstConfig, site: string, production: LsstSystemConfig[], webhook: pulumi.Input<string> | undefined): void {
    // 7. Every CSC comes up into STANDBY or OFFLINE, or the stragglers are reported after ~30 minutes.
    const probe: Probe = { type: "states", command: steps.siteCommand(c, c.csc.stateProbe), systems: production.map(s => s.name), accept: ["STANDBY", "OFFLINE"] };
    const minutes = Math.round(c.monitor.timeoutSeconds / 60);
    const monitor = flow.add("monitor-summary-states", steps.gate(`Monitor the systems until all are in STANDBY or OFFLINE (at most ${minutes} min)`,
        probe, "all systems are in STANDBY or OFFLINE", { timeoutSeconds: c.monitor.timeoutSeconds, onTimeout: c.monitor.onTimeout }));
    flow.add("monitor-report", steps.notify(c, "Report the state of the systems on the site's Slack channel",
        `[${site}] The upgrade is deployed.`, webhook, { stragglers: monitor.output<string[]>("notReady") }));
    // 8. The site's systems to ENABLED.
    flow.fork(c.enable.map(name => [`enable-${systemSlug(name)}`, steps.cscState(c, name, "ENABLED", ["ENABLED"], `Put ${name} into ENABLED`)]));
    // 9. Nublado can be used again.
    if (c.slack.announceNublado) {
        flow.add("monitor-nublado-open", steps.notify(c, "Tell everyone that Nublado can be used again",
            `[${site}] The upgrade is done: Nublado can be used again.`, webhook));
    }
}
