// test-needs: kubernetes-provider
/**
 * Argo CD syncs and the cachemachine restart as resources of the real Pulumi Kubernetes provider (v4.25.0,
 * built by scripts/kubernetes/build.sh), on the real engine, against a real control plane (test/support/kube-lab.ts)
 * with the lab's Argo CD controller (lab/argocd) standing in for Argo CD's application controller.
 *
 * The program is the project's own LSST steps (components/lsst/steps.ts argocdSync and rolloutRestart): each sync
 * is an Application patch applied by server-side apply and awaited by the provider's `pulumi.com/waitFor`
 * (components/kubernetes/argocd-sync.ts), then judged by the step runner.
 */
import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import { stringify } from "yaml";
import { application, writeSiteApps } from "../../lab/lsst/cluster/site-apps";
import { commandOps, commandsDone, diagnostics, EngineRunError, EngineStack, requireEngine, TempProject } from "../support/engine";
import { KubeLab, startKubeLab } from "../support/kube-lab";

const PROGRAM = `
import * as pulumi from "@pulumi/pulumi";
import { Step } from "./components/core/step";
import { LsstConfig } from "./components/config/lsst";
import { clusterProvider } from "./components/kubernetes/cluster";
import { ServerDryRun } from "./components/kubernetes/server-dry-run";
import * as steps from "./components/lsst/steps";
const cfg = new pulumi.Config("upgrade");
const runKey = cfg.require("runKey");
const c = {
    kubectl: cfg.require("kubectl"),
    argocd: { namespace: "argocd", instanceLabel: "argocd.argoproj.io/instance", timeoutSeconds: cfg.requireNumber("timeoutSeconds"), prune: false },
    nublado: { namespace: "nublado", deployment: "cachemachine", timeoutSeconds: 120 },
} as unknown as LsstConfig;
const clusterArgs = { context: "lab", kubeconfigPath: cfg.require("kubeconfig") };
const dryRun = new ServerDryRun("Lab", clusterArgs);
const cluster = { provider: clusterProvider("site-cluster", clusterArgs, {}), runKey, stack: pulumi.getStack(), dryRun };
let after: Step[] = [];
const add = (id: string, def: ReturnType<typeof steps.argocdSync>) => { const s = new Step(id, { ...def, runKey }, { after }); after = [s]; };
for (const a of cfg.requireObject<{ app: string; waitFor: "synced" | "healthy" }[]>("apps")) {
    add("deploy-argocd-" + a.app, steps.argocdSync(c, { app: a.app, children: false, waitFor: a.waitFor }, 1, cluster));
}
if (cfg.getBoolean("restart")) add("deploy-nublado-restart", steps.rolloutRestart(c, "Restart cachemachine", cluster));
const site = new pulumi.ComponentResource("upgrade:test:Site", "site", {});
dryRun.run(site);
`;

type App = { status?: { operationState?: { phase?: string; operation?: { info?: { name: string; value: string }[] } }; sync?: { status?: string }; health?: { status?: string } } };

describe("LSST on a real control plane: Argo CD syncs through the real Kubernetes provider", function () {
    this.timeout(600_000);
    let lab: KubeLab;
    let project: TempProject;
    let stack: EngineStack;
    let source: string;
    const config = (apps: { app: string; waitFor: string }[], over: Record<string, unknown> = {}) => ({
        runKey: "cycle-0034", kubeconfig: lab.kubeconfig, kubectl: `kubectl --kubeconfig ${lab.kubeconfig} --context lab`,
        timeoutSeconds: 120, apps, ...over,
    });
    const getApp = async (name: string): Promise<App> =>
        JSON.parse(await lab.kubectl(["get", "applications.argoproj.io", name, "-n", "argocd", "-o", "json"])) as App;

    before(async () => {
        requireEngine();
        lab = await startKubeLab();
        project = TempProject.create({ prefix: "lsst-cluster-", write: { "index.ts": PROGRAM } });
        source = path.join(project.work, "argocd-csc");
        const apps = writeSiteApps(source, ["test42", "kafka-producers", "cachemachine"]);
        // An app whose manifest the API server refuses (a Deployment without a selector).
        fs.mkdirSync(path.join(source, "apps/broken"), { recursive: true });
        fs.writeFileSync(path.join(source, "apps/broken/manifests.yaml"), stringify({
            apiVersion: "apps/v1", kind: "Deployment", metadata: { name: "broken" },
            spec: { template: { metadata: { labels: { app: "broken" } }, spec: { containers: [{ name: "c", image: "x" }] } } },
        }));
        apps.push(application("broken", "apps/broken", "broken"));
        await lab.kubectl(["apply", "-f", "-"], { input: apps.map(a => stringify(a)).join("---\n") });
        await lab.startArgoController({ sourceRoot: source, intervalMs: 300 });
    });
    after(async () => {
        // The lab first: its Argo CD controller reads the source folder inside the project.
        try {
            await lab?.stop();
        } finally {
            project?.cleanup();
        }
    });

    it("preview has the API server check each patch: one it refuses fails the preview naming the app, and nothing is synced", async () => {
        stack = await EngineStack.create(project, config([{ app: "test42", waitFor: "synced" }, { app: "auxtel", waitFor: "synced" }]));
        const err = await stack.preview().then(() => undefined, (e: unknown) => e);
        assert.ok(err instanceof EngineRunError, String(err));
        assert.deepEqual(diagnostics(err.run, "error").filter(d => d.name).map(d => `${d.name}: ${d.message.trim()}`), [
            `deploy-argocd-auxtel: applications.argoproj.io argocd/auxtel cannot be patched: it is not on the cluster ` +
            `(Error from server (NotFound): applications.argoproj.io "auxtel" not found)`,
        ]);
        // The program fails (an error diagnostic alone would leave the preview green), saying how many were refused.
        assert.match(diagnostics(err.run, "error").filter(d => !d.name).map(d => d.message).join("\n"),
            /Lab: the API server refuses 1 of the 2 patches \(their steps say why\)/);
        assert.ok(diagnostics(err.run, "info").some(d => d.name === "deploy-argocd-test42" &&
            d.message.trim() === "server-side dry run: the API server accepts the patch of applications.argoproj.io argocd/test42"));
        assert.equal((await getApp("test42")).status?.operationState, undefined, "test42 was not synced by the preview");
    });

    it("preview plans each sync patch, each accepted by the API server's dry run, and syncs nothing", async () => {
        await stack.setConfig(config([{ app: "test42", waitFor: "synced" }, { app: "kafka-producers", waitFor: "healthy" }]));
        const run = await stack.preview();
        assert.deepEqual(diagnostics(run, "info").filter(d => /server-side dry run/.test(d.message)).map(d => d.name).sort(),
            ["deploy-argocd-kafka-producers", "deploy-argocd-test42"]);
        assert.deepEqual(diagnostics(run, "warning"), []);
        const planned = run.events.filter(e => e.resourcePreEvent?.metadata.type === "kubernetes:argoproj.io/v1alpha1:ApplicationPatch")
            .map(e => e.resourcePreEvent!.metadata.urn.split("::").pop()!);
        // One patch per step and run: the step's id and the run's mark.
        assert.deepEqual(planned.map(n => n.replace(/-[0-9a-f]{8}$/, "")), ["deploy-argocd-test42", "deploy-argocd-kafka-producers"]);
        for (const app of ["test42", "kafka-producers"]) {
            assert.equal((await getApp(app)).status?.operationState, undefined, `${app} was not synced by the preview`);
        }
    });

    it("up: a CSC app whose Job keeps running is done once its sync succeeded; a Deployment app waits until Healthy", async () => {
        await stack.setConfig(config([{ app: "test42", waitFor: "synced" }, { app: "kafka-producers", waitFor: "healthy" }]));
        const run = await stack.up();
        assert.deepEqual(commandsDone(run, ["create"]).map(o => o.name), ["deploy-argocd-test42", "deploy-argocd-kafka-producers"]);
        const csc = await getApp("test42");
        assert.equal(csc.status?.operationState?.phase, "Succeeded");
        assert.equal(csc.status?.sync?.status, "Synced");
        assert.equal(csc.status?.health?.status, "Progressing", "a CSC's Job keeps running (gitops-engine pkg/health/health_job.go)");
        const producers = await getApp("kafka-producers");
        assert.deepEqual([producers.status?.operationState?.phase, producers.status?.sync?.status, producers.status?.health?.status],
            ["Succeeded", "Synced", "Healthy"]);
        // The provider's await ended on this run's operation; the step runner's verdict reports it.
        const verdict = run.log.match(/\[deploy-argocd-kafka-producers\] kafka-producers: sync Succeeded; sync=Synced health=Healthy/);
        assert.ok(verdict, run.log);
    });

    it("a second up with the same run key syncs nothing; a new run key is a new operation", async () => {
        const before = (await getApp("test42")).status?.operationState?.operation?.info?.[0]?.value;
        const same = await stack.up();
        // Nothing at all is planned again: Argo CD cleared `operation`, which the patch does not apply again.
        assert.deepEqual(same.events.filter(e => e.resourcePreEvent && e.resourcePreEvent.metadata.op !== "same")
            .map(e => `${e.resourcePreEvent!.metadata.op} ${e.resourcePreEvent!.metadata.urn.split("::").pop()}`), []);
        assert.equal((await getApp("test42")).status?.operationState?.operation?.info?.[0]?.value, before);
        await stack.setConfig(config([{ app: "test42", waitFor: "synced" }, { app: "kafka-producers", waitFor: "healthy" }], { runKey: "cycle-0035" }));
        const next = await stack.up();
        // Each command is replaced (its trigger, the run key, changed): its events name it more than once.
        assert.deepEqual([...new Set(commandsDone(next).map(o => o.name))], ["deploy-argocd-test42", "deploy-argocd-kafka-producers"]);
        // The new run's patches are created, the last run's deleted (they give up their fields only).
        const patchOps = next.events.filter(e => e.resourcePreEvent?.metadata.type === "kubernetes:argoproj.io/v1alpha1:ApplicationPatch")
            .map(e => e.resourcePreEvent!.metadata.op).sort();
        assert.deepEqual(patchOps, ["create", "create", "delete", "delete"]);
        const after = (await getApp("test42")).status?.operationState?.operation?.info?.[0]?.value;
        assert.notEqual(after, before);
        assert.match(after ?? "", /^[0-9a-f]{16}$/);
    });

    it("a failed sync stops the update naming the app and Argo CD's message; the step after it does not run", async () => {
        await stack.setConfig(config([{ app: "broken", waitFor: "healthy" }, { app: "test42", waitFor: "synced" }], { runKey: "cycle-0036" }));
        const err = await stack.up().then(() => undefined, (e: unknown) => e);
        assert.ok(err instanceof EngineRunError, String(err));
        const errors = diagnostics(err.run, "error").map(d => d.message).join("\n");
        assert.match(errors, /broken: sync Failed: one or more objects failed to apply \(dry run\), reason: The Deployment "broken" is invalid/, errors);
        assert.ok(!commandOps(err.run).some(o => o.name === "deploy-argocd-test42" && o.op !== "same"), "test42 was not synced after the failure");
        const test42 = (await getApp("test42")).status?.operationState?.operation?.info?.[1]?.value ?? "";
        assert.doesNotMatch(test42, /cycle-0036/);
    });

    it("the cachemachine restart is kubectl rollout restart's patch: new pods, awaited by the provider", async () => {
        await stack.setConfig(config([{ app: "cachemachine", waitFor: "healthy" }], { runKey: "cycle-0037", restart: true }));
        const podsBefore = (await lab.kubectl(["get", "pods", "-n", "nublado", "-l", "app=cachemachine", "-o", "name"])).trim().split("\n").filter(Boolean);
        const run = await stack.up();
        assert.deepEqual(commandsDone(run, ["create"]).map(o => o.name).filter(n => n.startsWith("deploy-")), ["deploy-argocd-cachemachine", "deploy-nublado-restart"]);
        const annotations = JSON.parse(await lab.kubectl(["get", "deployment", "cachemachine", "-n", "nublado", "-o", "jsonpath={.spec.template.metadata.annotations}"]));
        assert.equal(annotations["kubectl.kubernetes.io/restartedAt"], "test/cycle-0037");
        const podsAfter = (await lab.kubectl(["get", "pods", "-n", "nublado", "-l", "app=cachemachine", "-o", "name"])).trim().split("\n").filter(Boolean);
        assert.equal(podsAfter.length, 1);
        assert.ok(podsBefore.every(p => !podsAfter.includes(p)), `new pods: before ${podsBefore} after ${podsAfter}`);
        assert.match(run.log, /\[deploy-nublado-restart\] nublado\/cachemachine: 1 new pod\(s\) ready/);
    });
});
