// test-needs: kubernetes-provider
/**
 * The LSST procedure on the real Pulumi engine. The example stack previews with no cluster to reach
 * (nothing runs; the site's dry run says why nothing was validated), and `pulumi up` runs the whole
 * TTS and Summit site upgrades on real parts (test/lsst/whole-site.ts): a real control plane
 * (test/support/kube-lab.ts) with the lab's Argo CD controller (lab/argocd), the real Pulumi Kubernetes
 * provider, a real Docker engine (test/support/docker-lab.ts) running the bare-metal hosts'
 * docker-compose-admin-shaped scripts (lab/lsst/bare-metal), and a k8s-admin-shaped cleanup_all
 * (lab/lsst/k8s-admin). The CSCs stay stand-ins (lab/lsst/fake-csc.js); Slack is a local server.
 * TTS runs unattended and a second up changes nothing; the Summit run is attended: a gate times out,
 * `pulumi up` resumes at it, and the operator's pause after LOVE holds until `npm run go`.
 */
import { strict as assert } from "assert";
import * as fs from "fs";
import * as http from "http";
import * as path from "path";
import { stringify } from "yaml";
import { loadStack, readStackFile } from "../../cli/stack-config";
import { StepRecord } from "../../components/core";
import { ARGOCD_WAVES } from "../../components/config/lsst";
import { buildUnderMocks } from "../support/mocks";
import { load } from "../support/configs";
import { commandOps, commandsDone, commandsFailed, diagnostics, EngineRun, EngineStack, SecretConfig, TempProject, urnName } from "../support/engine";
import { KubeLab, LSST_POD_LOGS, startKubeLab } from "../support/kube-lab";
import { DockerLab, isRunning, startDocker } from "../support/docker-lab";
import { exists, runCli, waitFor, waitingSignal } from "../gates/support";
import { ROOT } from "./support";
import { assertUpgraded, prepareSite, REST, SITES, WAVES } from "./whole-site";

const PATCH_TYPE = "kubernetes:argoproj.io/v1alpha1:ApplicationPatch";

/**
 * For each step, every step it depends on finished before it started (engine events), across the updates
 * of a resumed upgrade: each step ran exactly once, in one of them.
 */
function assertRanInOrder(runs: EngineRun[], steps: StepRecord[]): void {
    const at = (ops: { name: string; sequence: number }[], i: number) => ops.map(o => [o.name, [i, o.sequence]] as [string, [number, number]]);
    const started = new Map(runs.flatMap((r, i) => at(commandOps(r, ["create"]), i)));
    const done = new Map(runs.flatMap((r, i) => at(commandsDone(r, ["create"]), i)));
    const before = (a: [number, number], b: [number, number]) => a[0] < b[0] || (a[0] === b[0] && a[1] < b[1]);
    for (const s of steps) {
        assert.ok(started.has(s.id) && done.has(s.id), `${s.id} did not run`);
        for (const d of s.dependsOn) assert.ok(before(done.get(d)!, started.get(s.id)!), `${s.id} started before ${d} finished`);
    }
}

/** The waves' Applications were synced in order, sync_apps.py's minimal wave one after the other. */
function assertWavesInOrder(order: string[]): void {
    const first = (app: string) => order.findIndex(n => n === `deploy-argocd-${app}`);
    for (let i = 1; i < WAVES.length; i++) {
        for (const later of WAVES[i]) for (const earlier of WAVES[i - 1]) {
            assert.ok(first(earlier) >= 0 && first(earlier) < first(later), `${earlier} was synced before ${later}: ${order.join(", ")}`);
        }
    }
    const minimal = ARGOCD_WAVES.minimal.map(a => first(a.app));
    assert.deepEqual([...minimal].sort((x, y) => x - y), minimal, order.join(", "));
}

/** The steps of a config as the program builds them (Pulumi's mocks), the webhook in plain text there. */
async function plannedSteps(config: Record<string, unknown>): Promise<StepRecord[]> {
    const webhook = (config.lsstSlackWebhook as SecretConfig).value;
    return (await buildUnderMocks(load({ ...config, lsstSlackWebhook: webhook }, ["lsstSlackWebhook"]))).steps;
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

describe("LSST site upgrade on the real engine", function () {
    this.timeout(900000);
    let project: TempProject | undefined;
    let kube: KubeLab | undefined;
    let docker: DockerLab | undefined;
    let server: http.Server | undefined;

    async function stopLabs(): Promise<void> {
        if (server) await new Promise<void>(r => server!.close(() => r()));
        // The lab's Argo CD controller reads its source from the project: stop it first.
        await kube?.stop();
        await docker?.stop();
        project?.cleanup();
        [server, kube, docker, project] = [undefined, undefined, undefined, undefined];
    }
    after(async function () {
        this.timeout(120000);
        await stopLabs();
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
            // (A step that syncs the children of an app an earlier step synced has no patch of its own.)
            const synced = plan.filter(s => s.kind === "argocd-sync" && !s.params.parentSynced);
            assert.deepEqual(patches.sort(), synced.map(s => s.id).sort());
            // Observed with provider v4.25.0: against an unreachable cluster the provider plans each patch without
            // a server-side dry run and says nothing about it; the site's own dry run says so, once.
            const provider = run.events.filter(e => e.resourcePreEvent?.metadata.type === "pulumi:providers:kubernetes");
            assert.equal(provider.length, 1, "one Kubernetes provider for the site");
            assert.deepEqual(diagnostics(run, "error"), []);
            const patchSteps = synced.length + plan.filter(s => s.kind === "k8s-pod-restart").length;
            assert.equal(patchSteps, 13);
            assert.deepEqual(diagnostics(run, "warning").filter(d => /cluster/i.test(d.message)).map(d => `${d.name}: ${d.message.trim()}`), [
                `lsst-site-upgrade: TTS: the cluster cannot be reached, so the API server validated none of the ${patchSteps} patches this preview shows ` +
                `(The connection to the server 127.0.0.1:9 was refused - did you specify the right host or port?)`,
            ]);
        } finally {
            p.cleanup();
        }
    });

    it("pulumi up runs the whole TTS site upgrade on a real control plane, Argo CD controller and Docker engine; a second up changes nothing", async function () {
        const site = SITES.tts;
        [kube, docker] = await Promise.all([startKubeLab({ podLogs: LSST_POD_LOGS }), startDocker()]);
        project = TempProject.create({ prefix: "lsst-engine-" });
        // An unattended run: sync_apps.py's "type go" pauses (operator gates) are pre-approved for this run key.
        const gates = { approved: ["deploy-go-producers", "deploy-go-obssys", "deploy-go-rest"].map(step => ({ runKey: "cycle-0034", step })) };
        const p = await prepareSite(site, kube, docker, project.work, gates);
        server = p.server;
        const stack = await EngineStack.create(project, p.config, { name: "lsst-e2e", env: p.env });
        const run = await stack.up();
        const steps = await plannedSteps(p.config);
        assertRanInOrder([run], steps);
        assert.equal(commandsDone(run, ["create"]).length, steps.length);
        assertWavesInOrder(patchesDone(run));
        // The last wave as sync_apps.py syncs it: its apps one after the other (then, by the graph, the children).
        assert.deepEqual(patchesDone(run).filter(n => REST.some(a => n === `deploy-argocd-${a.app}`)), REST.map(a => `deploy-argocd-${a.app}`));
        assert.ok(steps.some(s => s.id === "deploy-argocd-auxtel-children"));
        const apps = await assertUpgraded(site, p, kube, docker);
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
        for (const a of apps.keys()) if ((await p.getApp(a)).status?.operationState?.startedAt !== started.get(a)) resynced.push(a);
        assert.deepEqual({ notSame, resynced }, { notSame: [], resynced: [] }, "the second up left everything alone and synced nothing");
    });

    it("the Summit upgrade, attended: a gate that times out names what is not ready, pulumi up resumes there, an operator gate holds until `npm run go`", async function () {
        await stopLabs();
        const site = SITES.summit;
        // The kafka producers do not log "Running" yet: the gate after their sync times out.
        [kube, docker] = await Promise.all([startKubeLab({ podLogs: LSST_POD_LOGS.filter(r => r.namespace !== "kafka-producers") }), startDocker()]);
        project = TempProject.create({ prefix: "lsst-summit-" });
        // sync_apps.py's pause after obssys is attended (the operator says go); the others are pre-approved.
        const gates = { approved: ["deploy-go-producers", "deploy-go-rest"].map(step => ({ runKey: "cycle-0034", step })) };
        const p = await prepareSite(site, kube, docker, project.work, gates);
        server = p.server;
        const stack = await EngineStack.create(project, p.config, { name: "lsst-summit-e2e", env: p.env });
        const steps = await plannedSteps(p.config);

        const first = await stack.tryUp();
        assert.equal(first.ok, false, "the update stops at the producers' gate");
        assert.deepEqual(commandsFailed(first).map(o => o.name), ["deploy-producers-running"]);
        const failure = diagnostics(first, "error").map(d => d.message).join("\n");
        assert.match(failure, /timed out after \d+ s waiting until .*Running[^]*not ready: [^\n]*kafka-producers/, failure);
        const ranFirst = commandsDone(first, ["create"]).map(o => o.name);
        assert.ok(ranFirst.includes("deploy-argocd-kafka-producers"), ranFirst.join(", "));
        assert.ok(!ranFirst.some(n => n.startsWith("deploy-love-")), "nothing after the failed gate ran");
        assert.ok(await isRunning(docker, "ospl-daemon"), "the main daemon runs (deployed before the gate)");
        assert.ok(!(await isRunning(docker, "love01-love")), "LOVE is still down");

        // The producers come up; pulumi up again resumes at the gate, and holds at the operator's pause after LOVE.
        await kube.podLogs(LSST_POD_LOGS.filter(r => r.namespace === "kafka-producers"));
        const second = stack.tryUp();
        await waitFor("the obssys gate to wait", () => exists(waitingSignal(stack, "deploy-go-obssys")));
        assert.ok(await isRunning(docker, "love01-love"), "LOVE is up before the pause");
        assert.doesNotMatch(JSON.stringify((await p.getApp("obssys")).status?.operationState?.operation?.info ?? []), /cycle-0034/,
            "obssys is not synced before the operator's go");
        const go = await runCli(stack, "go", ["--stack", stack.name, "deploy-go-obssys"]);
        assert.equal(go.code, 0, go.stderr);
        const run = await second;
        assert.ok(run.ok, run.log);
        assert.deepEqual(commandOps(run, ["same"]).map(o => o.name).sort(), [...ranFirst].sort(), "the steps done before are not run again");
        assert.equal(commandsDone(run, ["create"])[0].name, "deploy-producers-running", "the update resumes at the failed gate");
        assertRanInOrder([first, run], steps);
        assertWavesInOrder([...patchesDone(first), ...patchesDone(run)]);
        await assertUpgraded(site, p, kube, docker);
    });
});
