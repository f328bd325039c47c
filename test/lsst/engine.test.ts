/**
 * The LSST procedure on the real Pulumi engine. The example stack previews with no cluster to reach
 * (nothing runs; the site's dry run says why nothing was validated), and `pulumi up` runs the
 * whole TTS site upgrade on real parts: a real control plane (test/support/kube-lab.ts) with the lab's
 * Argo CD controller (lab/argocd), the real Pulumi Kubernetes provider, a real Docker engine
 * (test/support/docker-lab.ts) running the bare-metal hosts' docker-compose-admin-shaped scripts
 * (lab/lsst/bare-metal), and a k8s-admin-shaped cleanup_all (lab/lsst/k8s-admin). The CSCs stay
 * stand-ins (lab/lsst/fake-csc.js); Slack is a local server.
 */
import { strict as assert } from "assert";
import * as fs from "fs";
import * as http from "http";
import { AddressInfo } from "net";
import * as path from "path";
import { stringify } from "yaml";
import { loadStack, readStackFile } from "../../cli/stack-config";
import { StepRecord } from "../../components/core";
import { ARGOCD_WAVES } from "../../components/config/lsst";
import { writeSiteApps } from "../../lab/lsst/cluster/site-apps";
import { buildUnderMocks } from "../support/mocks";
import { load } from "../support/configs";
import { commandOps, commandsDone, diagnostics, EngineRun, EngineStack, secret, TempProject, urnName } from "../support/engine";
import { KubeLab, LSST_POD_LOGS, startKubeLab } from "../support/kube-lab";
import { DockerLab, isRunning, ON_HOST, onHost, startDocker } from "../support/docker-lab";
import { FAKE_CSC, FakeCscs, lsstSite, LAB, ROOT } from "./support";

const PATCH_TYPE = "kubernetes:argoproj.io/v1alpha1:ApplicationPatch";
const K8S_ADMIN = path.join(LAB, "k8s-admin");

/** For each step, every step it depends on finished before it started (engine events). */
function assertRanInOrder(run: EngineRun, steps: StepRecord[]): void {
    const started = new Map(commandOps(run, ["create"]).map(o => [o.name, o.sequence]));
    const done = new Map(commandsDone(run, ["create"]).map(o => [o.name, o.sequence]));
    for (const s of steps) {
        assert.ok(started.has(s.id) && done.has(s.id), `${s.id} did not run`);
        for (const d of s.dependsOn) {
            assert.ok(done.get(d)! < started.get(s.id)!, `${s.id} started before ${d} finished`);
        }
    }
}

/** The Application patches the provider created, in the order their creation finished. */
function patchesDone(run: EngineRun): string[] {
    return run.events.filter(e => e.resOutputsEvent?.metadata.type === PATCH_TYPE && e.resOutputsEvent.metadata.op === "create")
        .map(e => stepOfPatch(urnName(e.resOutputsEvent!.metadata.urn)));
}

/** A sync patch is named after its step and its run (`<step>-<8 hex>`): its step. */
function stepOfPatch(name: string): string {
    assert.match(name, /-[0-9a-f]{8}$/, `${name} names its run`);
    return name.slice(0, -9);
}

type App = {
    status?: {
        operationState?: { phase?: string; startedAt?: string; finishedAt?: string; operation?: { info?: { name: string; value: string }[] } };
        sync?: { status?: string }; health?: { status?: string };
    };
};

describe("LSST site upgrade on the real engine", function () {
    this.timeout(900000);
    let project: TempProject | undefined;
    let kube: KubeLab | undefined;
    let docker: DockerLab | undefined;
    let server: http.Server | undefined;

    after(async function () {
        this.timeout(120000);
        if (server) await new Promise<void>(r => server!.close(() => r()));
        // The lab's Argo CD controller reads its source from the project: stop it first.
        await kube?.stop();
        await docker?.stop();
        project?.cleanup();
    });

    it("previews the lsst-tts example stack with no cluster to reach: every step planned, in the graph's order, nothing run", async () => {
        const p = TempProject.create({ prefix: "lsst-engine-" });
        try {
            const file = readStackFile("lsst-tts", ROOT);
            // No cluster: a kubeconfig naming the stack's context at a loopback port nothing listens on.
            const kubeconfig = path.join(p.work, "kubeconfig");
            fs.writeFileSync(kubeconfig, stringify({
                apiVersion: "v1", kind: "Config", "current-context": "tts",
                clusters: [{ name: "tts", cluster: { server: "https://127.0.0.1:9" } }],
                contexts: [{ name: "tts", context: { cluster: "tts", user: "tts" } }],
                users: [{ name: "tts", user: { token: "none" } }],
            }));
            const stack = await EngineStack.create(p, file.config, { name: "lsst-tts", env: { KUBECONFIG: kubeconfig } });
            const run = await stack.preview();
            const planned = commandOps(run);
            const plan = (await buildUnderMocks(loadStack("lsst-tts", ROOT).config)).steps;
            assert.deepEqual(planned.map(o => o.name).sort(), plan.map(s => s.id).sort());
            assert.ok(planned.every(o => o.op === "create" && o.type === "command:local:Command"));
            const at = new Map(planned.map((o, i) => [o.name, i]));
            for (const s of plan) for (const d of s.dependsOn) assert.ok(at.get(d)! < at.get(s.id)!, `${d} is planned before ${s.id}`);
            // Each Argo CD sync is planned as the provider's Application patch, though nothing could validate it.
            const patches = run.events.filter(e => e.resourcePreEvent?.metadata.type === PATCH_TYPE).map(e => stepOfPatch(urnName(e.resourcePreEvent!.metadata.urn)));
            assert.ok(patches.length > 0, "no Application patch planned");
            assert.deepEqual(patches.sort(), plan.filter(s => s.kind === "argocd-sync").map(s => s.id).sort());
            // Observed with provider v4.25.0: against an unreachable cluster the provider plans each patch without
            // a server-side dry run and says nothing about it; the site's own dry run says so, once.
            const provider = run.events.filter(e => e.resourcePreEvent?.metadata.type === "pulumi:providers:kubernetes");
            assert.equal(provider.length, 1, "one Kubernetes provider for the site");
            assert.deepEqual(diagnostics(run, "error"), []);
            const patchSteps = plan.filter(s => s.kind === "argocd-sync" || s.kind === "k8s-pod-restart").length;
            assert.deepEqual(diagnostics(run, "warning").filter(d => /cluster/i.test(d.message)).map(d => `${d.name}: ${d.message.trim()}`), [
                `lsst-site-upgrade: TTS: the cluster cannot be reached, so the API server validated none of the ${patchSteps} patches this preview shows ` +
                `(The connection to the server 127.0.0.1:9 was refused - did you specify the right host or port?)`,
            ]);
        } finally {
            p.cleanup();
        }
    });

    it("pulumi up runs the whole TTS site upgrade on a real control plane, Argo CD controller and Docker engine; a second up changes nothing", async function () {
        [kube, docker] = await Promise.all([startKubeLab({ podLogs: LSST_POD_LOGS }), startDocker()]);
        project = TempProject.create({ prefix: "lsst-engine-" });
        const w = project.work;
        const kubectl = (args: string[], input?: string) => kube!.kubectl(args, input === undefined ? {} : { input });
        const getApp = async (name: string): Promise<App> =>
            JSON.parse(await kubectl(["get", "applications.argoproj.io", name, "-n", "argocd", "-o", "json"])) as App;

        // The site's Argo CD: its top-level Applications, synced by the lab's controller from a local source.
        const rest = ARGOCD_WAVES.rest.filter(a => a.app === "auxtel" || a.app === "test42");
        const topApps = ["cachemachine", ...ARGOCD_WAVES.minimal.map(a => a.app), ...ARGOCD_WAVES.producers.map(a => a.app),
            ...ARGOCD_WAVES.obssys.map(a => a.app), ...rest.map(a => a.app)];
        const source = path.join(w, "argocd-csc");
        await kubectl(["apply", "-f", "-"], writeSiteApps(source, topApps).map(a => stringify(a)).join("---\n"));
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

        // Bare metal before the upgrade: the main daemon, the DM and Camera daemons, LOVE and its daemon, tel-hw1's services.
        const hostEnv = { OSPL_READY_AFTER: "1" };
        for (const [host, script] of [["azar01", "./launch_daemon"], ["tts-dm-ocs", "./launch_daemon"], ["tts-camera-ocs", "./launch_daemon"],
            ["love01", "./launch_daemon"], ["love01", "./launch_love"], ["tel-hw1", "./launch_atmcs_atp"]]) {
            const r = await onHost(docker, host, [script], hostEnv);
            assert.equal(r.status, 0, `${host} ${script}: ${r.stderr}`);
        }
        const containers = ["ospl-daemon", "tts-dm-ocs-ospl-daemon", "tts-camera-ocs-ospl-daemon", "love01-ospl-daemon", "love01-love",
            "tel-hw1-atmcs-sim", "tel-hw1-atpneumatics-sim"];
        for (const c of containers) assert.ok(await isRunning(docker, c), `${c} runs before the upgrade`);

        const cscs = new FakeCscs({
            ATDome: { state: "ENABLED", delayMs: 200 }, MTM1M3: { state: "ENABLED", delayMs: 200, stopsAt: "STANDBY", heartbeatStopsAfterMs: 300 },
            Watcher: { state: "ENABLED" }, "ScriptQueue:1": { state: "ENABLED" }, "Test:42": { state: "ENABLED" },
        });
        const log = path.join(w, "shell.log");
        const say = (what: string) => `echo '${what}' >> '${log}'`;
        const slack: string[] = [];
        server = http.createServer((req, res) => {
            let body = "";
            req.on("data", c => (body += c));
            req.on("end", () => {
                slack.push(JSON.parse(body).text);
                res.end("ok");
            });
        });
        await new Promise<void>(r => server!.listen(0, "127.0.0.1", r));
        const webhook = `http://127.0.0.1:${(server.address() as AddressInfo).port}/services/T1/B1/W3BH00KT0K3N`;
        const on = (script: string) => `${ON_HOST} {host} ${script}`;
        const site = lsstSite("tts", {
            variations: { heartbeatCheck: true },
            kubectl: `kubectl --kubeconfig ${kube.kubeconfig} --context lab`,
            systems: [{ name: "ATDome", domainId: 0 }, { name: "MTM1M3", domainId: 0, stopsAt: "STANDBY" }, { name: "Watcher", domainId: 0 },
                { name: "ScriptQueue:1", domainId: 0 }, { name: "Test:42", domainId: 7 }],
            csc: { stateCommand: `${FAKE_CSC} set {csc} {state}`, stateProbe: `${FAKE_CSC} state {csc}`, heartbeatProbe: { command: `${FAKE_CSC} heartbeats {csc}` }, timeoutSeconds: 30 },
            mainDaemon: {
                host: "azar01", start: on("./launch_daemon"), stop: on("./shutdown_daemon"),
                logs: on("docker logs ospl-daemon"), federations: on("docker exec ospl-daemon grep federations durability.log"),
                patience: { warnSeconds: 5, timeoutSeconds: 60 },
            },
            // The DM and Camera daemons go first; LOVE's daemon last: then the main daemon counts no federation.
            daemonCleanup: ["tts-dm-ocs", "tts-camera-ocs"].map(host => ({ host, command: on("./shutdown_daemon"), containers: [`${host}-ospl-daemon`] })),
            bareMetal: {
                love: [
                    { host: "love01", service: "love", start: on("./launch_love"), stop: on("./shutdown_love"), containers: ["love01-love"] },
                    { host: "love01", service: "love-daemon", start: on("./launch_daemon"), stop: on("./shutdown_daemon"), containers: ["love01-ospl-daemon"] },
                ],
                services: [{ host: "tel-hw1", service: "atmcs-atp", start: on("./launch_atmcs_atp"), stop: on("./shutdown_atmcs_atp"),
                    containers: ["tel-hw1-atmcs-sim", "tel-hw1-atpneumatics-sim"] }],
                probe: { command: `${ON_HOST} {host} docker inspect -f '{{.State.Running}}' {container}`, timeoutSeconds: 60 },
            },
            kubernetes: {
                context: "lab", kubeconfig: kube.kubeconfig,
                cleanup: `${path.join(K8S_ADMIN, "cleanup_all")} -d`, cleanupLove: path.join(K8S_ADMIN, "cleanup_love"),
                nubladoCleanup: "{kubectl} delete ns -l argocd.argoproj.io/instance=nublado-users",
            },
            argocd: { timeoutSeconds: 120, minimal: ARGOCD_WAVES.minimal, producers: ARGOCD_WAVES.producers, love: [],
                obssys: ARGOCD_WAVES.obssys, rest },
            gates: {
                daemonsReady: { type: "k8s-logs", namespace: "ospl-daemon", selector: "app.kubernetes.io/instance=ospl-daemon", pattern: "daemon ready", timeoutSeconds: 60 },
                producersRunning: { type: "k8s-logs", namespace: "kafka-producers", selector: "app.kubernetes.io/instance=kafka-producers", pattern: "Running", tail: 1, timeoutSeconds: 60 },
                obssysRunning: { type: "k8s", resource: "pods", namespace: "obssys", field: "status.phase", equals: "Running", timeoutSeconds: 60 },
            },
            nublado: { namespace: "nublado", timeoutSeconds: 120 },
            configUpdate: { pullRequests: [{ name: "cachemachine", approved: { command: "echo APPROVED" }, merge: say("merge cachemachine") }],
                checkouts: [{ host: "tel-hw1", command: say("checkout {host}") }] },
            monitor: { timeoutSeconds: 30 },
            enable: ["ScriptQueue:1"],
        });
        // An unattended run: sync_apps.py's "type go" pauses (operator gates) are pre-approved for this run key.
        const gates = { approved: ["deploy-go-producers", "deploy-go-obssys", "deploy-go-rest"].map(step => ({ runKey: "cycle-0034", step })) };
        const config = { procedure: "lsst-site-upgrade", target: "cycle-0034", lsst: site, lsstSlackWebhook: secret(webhook), gates };
        const stack = await EngineStack.create(project, config, { name: "lsst-e2e", env: { ...cscs.env, ...docker.env, ...hostEnv } });
        const run = await stack.up();
        const steps = (await buildUnderMocks(load({ ...config, lsstSlackWebhook: webhook }, ["lsstSlackWebhook"]))).steps;
        assertRanInOrder(run, steps);
        assert.equal(commandsDone(run, ["create"]).length, steps.length);

        // The shell steps that stay stand-ins ran in the seed's order.
        assert.deepEqual(fs.readFileSync(log, "utf8").trim().split("\n"), ["merge cachemachine", "checkout tel-hw1"]);
        // CSCs: the production domain only, the Watcher and the ScriptQueue last, ScriptQueue:1 ENABLED at the end.
        const sent = cscs.commands();
        assert.deepEqual(sent.slice(0, 2).sort(), ["set ATDome OFFLINE", "set MTM1M3 OFFLINE"]);
        assert.deepEqual(sent.slice(2, 4).sort(), ["set ScriptQueue:1 OFFLINE", "set Watcher OFFLINE"]);
        assert.deepEqual(sent.slice(4), ["set ScriptQueue:1 ENABLED"]);

        // Argo CD: every wave's Application synced by this run, the waves in order.
        const waves = [["cachemachine"], ARGOCD_WAVES.minimal.map(a => a.app), ARGOCD_WAVES.producers.map(a => a.app),
            ARGOCD_WAVES.obssys.map(a => a.app), rest.map(a => a.app)];
        const apps = new Map<string, App>();
        for (const a of waves.flat()) apps.set(a, await getApp(a));
        for (const [name, a] of apps) {
            assert.equal(a.status?.operationState?.phase, "Succeeded", name);
            assert.match(JSON.stringify(a.status?.operationState?.operation?.info ?? []), /cycle-0034/, `${name} was synced by this run`);
        }
        const order = patchesDone(run);
        const first = (app: string) => order.findIndex(n => n === `deploy-argocd-${app}` || n.startsWith(`deploy-argocd-${app}`));
        for (let i = 1; i < waves.length; i++) {
            for (const later of waves[i]) for (const earlier of waves[i - 1]) {
                assert.ok(first(earlier) >= 0 && first(earlier) < first(later), `${earlier} was synced before ${later}: ${order.join(", ")}`);
            }
        }
        // sync_apps.py's minimal wave one after the other.
        const minimal = ARGOCD_WAVES.minimal.map(a => first(a.app));
        assert.deepEqual([...minimal].sort((x, y) => x - y), minimal, order.join(", "));
        // A CSC collector's Jobs keep running: Synced while Progressing (gitops-engine pkg/health/health_job.go); the Deployments are Healthy.
        for (const csc of ["test42", "atdome", "watcher"]) {
            const a = await getApp(csc);
            assert.deepEqual([a.status?.operationState?.phase, a.status?.sync?.status, a.status?.health?.status], ["Succeeded", "Synced", "Progressing"], csc);
        }
        assert.equal(apps.get("kafka-producers")!.status?.health?.status, "Healthy");
        // cachemachine's pods were replaced (kubectl rollout restart).
        const newPods = (await kubectl(["get", "pods", "-n", "nublado", "-l", "app=cachemachine", "-o", "name"])).trim().split("\n").filter(Boolean);
        assert.equal(newPods.length, 1);
        assert.ok(!newPods.includes(oldPods[0]), `${oldPods[0]} was replaced`);

        // Bare metal at the end: the main daemon, LOVE and tel-hw1's services run again; the DM and Camera daemons stay down.
        for (const c of ["ospl-daemon", "love01-ospl-daemon", "love01-love", "tel-hw1-atmcs-sim", "tel-hw1-atpneumatics-sim"]) {
            assert.ok(await isRunning(docker, c), `${c} runs after the upgrade`);
        }
        for (const c of ["tts-dm-ocs-ospl-daemon", "tts-camera-ocs-ospl-daemon"]) assert.ok(!(await isRunning(docker, c)), `${c} stays down`);

        // Slack: the messages, through the secret webhook that never reaches the state or the log.
        assert.equal(slack.length, 3);
        assert.match(slack[0], /^\[TTS\] The minimal system is up/);
        assert.equal(slack[1], "[TTS] The upgrade is deployed. Every system reports STANDBY or OFFLINE.");
        assert.match(slack[2], /Nublado can be used again/);
        for (const f of project.backendFiles()) assert.ok(!f.text.includes("W3BH00KT0K3N"), `${f.path} holds the webhook`);
        assert.ok(!stack.allLogs().includes("W3BH00KT0K3N"), "the log shows the webhook");

        // Nothing changed: a second up runs nothing and syncs nothing.
        const started = new Map([...apps.keys()].map(a => [a, apps.get(a)!.status?.operationState?.startedAt]));
        const again = await stack.up();
        assert.deepEqual(commandsDone(again, ["create", "replace"]), []);
        assert.deepEqual(patchesDone(again), []);
        const notSame = again.events.filter(e => e.resourcePreEvent && e.resourcePreEvent.metadata.op !== "same")
            .map(e => `${urnName(e.resourcePreEvent!.metadata.urn)} (${e.resourcePreEvent!.metadata.type} ${e.resourcePreEvent!.metadata.op})`);
        const resynced: string[] = [];
        for (const a of apps.keys()) if ((await getApp(a)).status?.operationState?.startedAt !== started.get(a)) resynced.push(a);
        assert.deepEqual({ notSame, resynced }, { notSame: [], resynced: [] }, "the second up left everything alone and synced nothing");
    });
});
