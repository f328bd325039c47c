/**
 * One LSST site upgrade on real parts, for test/lsst/engine.test.ts: the site's Argo CD Applications on the lab's
 * control plane, its bare-metal machines as docker-compose-admin-shaped host folders on the lab's Docker engine
 * (lab/lsst/bare-metal/hosts), stand-in CSCs, a local Slack, and the stack config that drives them. The two
 * sites differ as the seed and their stack files say: the machines, the variations (TTS watches the federations
 * and runs cleanup_love; the Summit checks heartbeats) and the bare-metal services.
 */
import { strict as assert } from "assert";
import * as fs from "fs";
import * as http from "http";
import { AddressInfo } from "net";
import * as path from "path";
import { stringify } from "yaml";
import { ARGOCD_WAVES } from "../../components/config/lsst";
import { LAB_CHILDREN, writeSiteApps } from "../../lab/lsst/cluster/site-apps";
import { secret } from "../support/engine";
import { KubeLab } from "../support/kube-lab";
import { DockerLab, isRunning, ON_HOST, onHost } from "../support/docker-lab";
import { FAKE_CSC, FakeCscs, LAB, lsstSite } from "./support";

const K8S_ADMIN = path.join(LAB, "k8s-admin");

export type App = {
    status?: {
        operationState?: { phase?: string; startedAt?: string; finishedAt?: string; operation?: { info?: { name: string; value: string }[] } };
        sync?: { status?: string }; health?: { status?: string };
    };
};

interface Service { host: string; service: string; script: string; containers: string[] }

/** What differs between the two sites' machines (lab/lsst/bare-metal/hosts), after their stack files. */
export interface SiteLab {
    site: "tts" | "summit";
    label: string;
    /** The main OSPL daemon's machine (its container is `ospl-daemon`). */
    mainHost: string;
    /** The machines whose own OSPL daemons the cleanup stops for good (DM and Camera). */
    cleanupHosts: string[];
    services: Service[];
    checkout: string;
    variations: Record<string, boolean>;
}

export const SITES: Record<"tts" | "summit", SiteLab> = {
    tts: {
        site: "tts", label: "TTS", mainHost: "azar01", cleanupHosts: ["tts-dm-ocs", "tts-camera-ocs"],
        services: [{ host: "tel-hw1", service: "atmcs-atp", script: "atmcs_atp", containers: ["tel-hw1-atmcs-sim", "tel-hw1-atpneumatics-sim"] }],
        checkout: "tel-hw1", variations: { heartbeatCheck: true },
    },
    summit: {
        site: "summit", label: "Summit", mainHost: "azar03", cleanupHosts: ["auxtel-mcm", "comcam-mcm"],
        services: [
            { host: "auxtel-ill-control", service: "fiberspec", script: "fiberspec", containers: ["auxtel-ill-control-fiberspec"] },
            { host: "azar03", service: "gc", script: "gc", containers: ["azar03-gc"] },
            { host: "auxtel-vent-gates01", service: "controller", script: "controller", containers: ["auxtel-vent-gates01-controller"] },
        ],
        checkout: "azar03", variations: {},
    },
};

/** The part of the "rest" wave the lab syncs: a CSC collector of each kind is enough, and keeps the run short. */
export const REST = ARGOCD_WAVES.rest.filter(a => a.app === "auxtel" || a.app === "test42");
/** The waves in the order they must be synced. */
export const WAVES = [["cachemachine"], ARGOCD_WAVES.minimal.map(a => a.app), ARGOCD_WAVES.producers.map(a => a.app),
    ARGOCD_WAVES.obssys.map(a => a.app), REST.map(a => a.app)];

/** The containers that run before the upgrade and again after it. */
export const runsAgain = (s: SiteLab) => ["ospl-daemon", "love01-ospl-daemon", "love01-love", ...s.services.flatMap(x => x.containers)];
/** The cleanup's machine daemons, down for good. */
export const staysDown = (s: SiteLab) => s.cleanupHosts.map(h => `${h}-ospl-daemon`);

export interface PreparedSite {
    config: Record<string, unknown>;
    /** The stack's environment: the stand-in CSCs and the Docker engine. */
    env: Record<string, string>;
    cscs: FakeCscs;
    slack: string[];
    server: http.Server;
    shellLog: string;
    /** cachemachine's pods before the upgrade: the restart replaces them. */
    oldPods: string[];
    getApp(name: string): Promise<App>;
}

/**
 * The site before its upgrade: its Applications (cachemachine synced by the last cycle, its pods running),
 * its bare metal running, its CSCs ENABLED; and the stack config. `gates` are the stack file's `upgrade:gates`.
 */
export async function prepareSite(s: SiteLab, kube: KubeLab, docker: DockerLab, work: string, gates: Record<string, unknown>): Promise<PreparedSite> {
    const kubectl = (args: string[], input?: string) => kube.kubectl(args, input === undefined ? {} : { input });
    const getApp = async (name: string): Promise<App> =>
        JSON.parse(await kubectl(["get", "applications.argoproj.io", name, "-n", "argocd", "-o", "json"])) as App;

    // The site's Argo CD: its top-level Applications, synced by the lab's controller from a local source.
    const source = path.join(work, "argocd-csc");
    await kubectl(["apply", "-f", "-"], writeSiteApps(source, WAVES.flat()).map(a => stringify(a)).join("---\n"));
    await kube.startArgoController({ sourceRoot: source, intervalMs: 300 });
    // Before the upgrade cachemachine runs (last cycle's sync): its pods are the ones the restart replaces.
    await kubectl(["patch", "applications.argoproj.io", "cachemachine", "-n", "argocd", "--type", "merge", "-p",
        JSON.stringify({ operation: { initiatedBy: { username: "last-cycle" }, sync: { revision: "HEAD" } } })]);
    let oldPods: string[] = [];
    for (let i = 0; i < 120 && oldPods.length === 0; i++) {
        oldPods = (await kubectl(["get", "pods", "-n", "nublado", "-l", "app=cachemachine", "-o", "name"]).catch(() => "")).trim().split("\n").filter(Boolean);
        if (oldPods.length === 0) await new Promise(r => setTimeout(r, 500));
    }
    assert.equal(oldPods.length, 1, "cachemachine runs before the upgrade");

    // Bare metal before the upgrade: the main daemon, the DM and Camera daemons, LOVE and its daemon, the services.
    const hostEnv = { OSPL_READY_AFTER: "1" };
    const launch: [string, string][] = [[s.mainHost, "./launch_daemon"], ...s.cleanupHosts.map(h => [h, "./launch_daemon"] as [string, string]),
        ["love01", "./launch_daemon"], ["love01", "./launch_love"], ...s.services.map(x => [x.host, `./launch_${x.script}`] as [string, string])];
    for (const [host, script] of launch) {
        const r = await onHost(docker, host, [script], hostEnv);
        assert.equal(r.status, 0, `${host} ${script}: ${r.stderr}`);
    }
    for (const c of [...runsAgain(s), ...staysDown(s)]) assert.ok(await isRunning(docker, c), `${c} runs before the upgrade`);

    const cscs = new FakeCscs({
        ATDome: { state: "ENABLED", delayMs: 200 }, MTM1M3: { state: "ENABLED", delayMs: 200, stopsAt: "STANDBY", heartbeatStopsAfterMs: 300 },
        Watcher: { state: "ENABLED" }, "ScriptQueue:1": { state: "ENABLED" }, "Test:42": { state: "ENABLED" },
    });
    const shellLog = path.join(work, "shell.log");
    const say = (what: string) => `echo '${what}' >> '${shellLog}'`;
    const slack: string[] = [];
    const server = http.createServer((req, res) => {
        let body = "";
        req.on("data", c => (body += c));
        req.on("end", () => {
            slack.push(JSON.parse(body).text);
            res.end("ok");
        });
    });
    await new Promise<void>(r => server.listen(0, "127.0.0.1", r));
    const webhook = `http://127.0.0.1:${(server.address() as AddressInfo).port}/services/T1/B1/W3BH00KT0K3N`;
    const on = (script: string) => `${ON_HOST} {host} ${script}`;
    const site = lsstSite(s.site, {
        variations: s.variations,
        kubectl: `kubectl --kubeconfig ${kube.kubeconfig} --context lab`,
        systems: [{ name: "ATDome", domainId: 0 }, { name: "MTM1M3", domainId: 0, stopsAt: "STANDBY" }, { name: "Watcher", domainId: 0 },
            { name: "ScriptQueue:1", domainId: 0 }, { name: "Test:42", domainId: 7 }],
        csc: { stateCommand: `${FAKE_CSC} set {csc} {state}`, stateProbe: `${FAKE_CSC} state {csc}`, heartbeatProbe: { command: `${FAKE_CSC} heartbeats {csc}` }, timeoutSeconds: 30 },
        mainDaemon: {
            host: s.mainHost, start: on("./launch_daemon"), stop: on("./shutdown_daemon"),
            logs: on("docker logs ospl-daemon"), federations: on("docker exec ospl-daemon grep federations durability.log"),
            patience: { warnSeconds: 5, timeoutSeconds: 60 },
        },
        // The DM and Camera daemons go first; LOVE's daemon last: then the main daemon counts no federation.
        daemonCleanup: s.cleanupHosts.map(host => ({ host, command: on("./shutdown_daemon"), containers: [`${host}-ospl-daemon`] })),
        bareMetal: {
            love: [
                { host: "love01", service: "love", start: on("./launch_love"), stop: on("./shutdown_love"), containers: ["love01-love"] },
                { host: "love01", service: "love-daemon", start: on("./launch_daemon"), stop: on("./shutdown_daemon"), containers: ["love01-ospl-daemon"] },
            ],
            services: s.services.map(x => ({ host: x.host, service: x.service, start: on(`./launch_${x.script}`), stop: on(`./shutdown_${x.script}`), containers: x.containers })),
            probe: { command: `${ON_HOST} {host} docker inspect -f '{{.State.Running}}' {container}`, timeoutSeconds: 60 },
        },
        kubernetes: {
            context: "lab", kubeconfig: kube.kubeconfig,
            cleanup: `${path.join(K8S_ADMIN, "cleanup_all")} -d`,
            ...(s.site === "tts" ? { cleanupLove: path.join(K8S_ADMIN, "cleanup_love") } : {}),
            nubladoCleanup: "{kubectl} delete ns -l argocd.argoproj.io/instance=nublado-users",
        },
        argocd: { timeoutSeconds: 120, minimal: ARGOCD_WAVES.minimal, producers: ARGOCD_WAVES.producers, love: [], obssys: ARGOCD_WAVES.obssys, rest: REST },
        gates: {
            daemonsReady: { type: "k8s-logs", namespace: "ospl-daemon", selector: "app.kubernetes.io/instance=ospl-daemon", pattern: "daemon ready", timeoutSeconds: 60 },
            producersRunning: { type: "k8s-logs", namespace: "kafka-producers", selector: "app.kubernetes.io/instance=kafka-producers", pattern: "Running", tail: 1, timeoutSeconds: 20 },
            obssysRunning: { type: "k8s", resource: "pods", namespace: "obssys", field: "status.phase", equals: "Running", timeoutSeconds: 60 },
        },
        nublado: { namespace: "nublado", timeoutSeconds: 120 },
        configUpdate: { pullRequests: [{ name: "cachemachine", approved: { command: "echo APPROVED" }, merge: say("merge cachemachine") }],
            checkouts: [{ host: s.checkout, command: say("checkout {host}") }] },
        monitor: { timeoutSeconds: 30 },
        enable: ["ScriptQueue:1"],
    });
    const config = { procedure: "lsst-site-upgrade", target: "cycle-0034", lsst: site, lsstSlackWebhook: secret(webhook), gates };
    return { config, env: { ...cscs.env, ...docker.env, ...hostEnv }, cscs, slack, server, shellLog, oldPods, getApp };
}

/** Everything the upgrade must have left: each wave synced by this run, the CSCs, the pods, the machines, Slack. */
export async function assertUpgraded(s: SiteLab, p: PreparedSite, kube: KubeLab, docker: DockerLab): Promise<Map<string, App>> {
    // The shell steps that stay stand-ins ran in the seed's order.
    assert.deepEqual(fs.readFileSync(p.shellLog, "utf8").trim().split("\n"), ["merge cachemachine", `checkout ${s.checkout}`]);
    // CSCs: the production domain only, the Watcher and the ScriptQueue last, ScriptQueue:1 ENABLED at the end.
    const sent = p.cscs.commands();
    assert.deepEqual(sent.slice(0, 2).sort(), ["set ATDome OFFLINE", "set MTM1M3 OFFLINE"]);
    assert.deepEqual(sent.slice(2, 4).sort(), ["set ScriptQueue:1 OFFLINE", "set Watcher OFFLINE"]);
    assert.deepEqual(sent.slice(4), ["set ScriptQueue:1 ENABLED"]);

    const apps = new Map<string, App>();
    for (const a of WAVES.flat()) apps.set(a, await p.getApp(a));
    for (const [name, a] of apps) {
        assert.equal(a.status?.operationState?.phase, "Succeeded", name);
        assert.match(JSON.stringify(a.status?.operationState?.operation?.info ?? []), /cycle-0034/, `${name} was synced by this run`);
    }
    // The last wave's apps of apps: their children synced by the step after the last app (sync_apps.py's gather).
    for (const parent of REST.filter(a => a.children)) {
        for (const child of LAB_CHILDREN[parent.app]) {
            const a = await p.getApp(child);
            assert.equal(a.status?.operationState?.phase, "Succeeded", child);
            assert.match(String(a.status?.operationState?.operation?.info?.[0]?.value), new RegExp(`/deploy-argocd-${parent.app}-children `),
                `${child} was synced by the step for ${parent.app}'s children`);
            apps.set(child, a);
        }
    }
    // A CSC collector's Jobs keep running: Synced while Progressing (gitops-engine pkg/health/health_job.go); the Deployments are Healthy.
    for (const csc of ["test42", "atdome", "watcher"]) {
        const a = await p.getApp(csc);
        assert.deepEqual([a.status?.operationState?.phase, a.status?.sync?.status, a.status?.health?.status], ["Succeeded", "Synced", "Progressing"], csc);
    }
    assert.equal(apps.get("kafka-producers")!.status?.health?.status, "Healthy");
    // cachemachine's pods were replaced (kubectl rollout restart).
    const newPods = (await kube.kubectl(["get", "pods", "-n", "nublado", "-l", "app=cachemachine", "-o", "name"])).trim().split("\n").filter(Boolean);
    assert.equal(newPods.length, 1);
    assert.ok(!newPods.includes(p.oldPods[0]), `${p.oldPods[0]} was replaced`);

    // Bare metal at the end: the main daemon, LOVE and the services run again; the DM and Camera daemons stay down.
    for (const c of runsAgain(s)) assert.ok(await isRunning(docker, c), `${c} runs after the upgrade`);
    for (const c of staysDown(s)) assert.ok(!(await isRunning(docker, c)), `${c} stays down`);

    // Slack: the messages, through the secret webhook.
    assert.equal(p.slack.length, 3, p.slack.join("\n"));
    assert.match(p.slack[0], new RegExp(`^\\[${s.label}\\] The minimal system is up`));
    assert.equal(p.slack[1], `[${s.label}] The upgrade is deployed. Every system reports STANDBY or OFFLINE.`);
    assert.match(p.slack[2], /Nublado can be used again/);
    return apps;
}
