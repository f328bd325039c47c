// test-needs: kubernetes-control-plane
import * as assert from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { stringify } from "yaml";
import { FIELD_MANAGER, INSTANCE_LABEL, RESOURCES_FINALIZER } from "../../lab/argocd/controller";
import { JOB_COMPLETES, JOB_FAILS, KubeLab, startKubeLab } from "../support/kube-lab";

/**
 * The lab's Argo CD controller against the real control plane (kube-lab: API server, controllers, kwok).
 * What Argo CD does is taken from argo-cd's controller and gitops-engine: operationState phases and
 * messages from gitops-engine pkg/sync/sync_context.go, health from pkg/health/ (health.test.ts), apps of
 * apps from argo-cd docs/operator-manual/health.md ("Argocd App": a child's health does not count).
 */
interface App {
    metadata: { name: string; labels?: Record<string, string> };
    operation?: unknown;
    status?: {
        operationState?: { phase: string; message: string; startedAt: string; finishedAt?: string; operation: { info?: { name: string; value: string }[] };
            syncResult?: { revision: string; resources: { kind: string; name: string; status: string }[] } };
        sync?: { status: string; revision?: string };
        health?: { status: string };
        history?: { id: number; revision: string }[];
    };
}

const runOf = (app: App): string | undefined => app.status?.operationState?.operation.info?.find(i => i.name === "run")?.value;

describe("the lab's Argo CD controller on a real control plane", function () {
    this.timeout(300_000);
    let lab: KubeLab;
    let source: string;

    const write = (rel: string, docs: object[]) => {
        fs.mkdirSync(path.dirname(path.join(source, rel)), { recursive: true });
        fs.writeFileSync(path.join(source, rel), docs.map(d => stringify(d)).join("---\n"));
    };
    const application = (name: string, sourcePath: string, namespace: string) => ({
        apiVersion: "argoproj.io/v1alpha1", kind: "Application",
        metadata: { name, namespace: "argocd" },
        spec: {
            project: "default",
            source: { repoURL: "https://github.com/lsst-ts/argocd-csc.git", path: sourcePath, targetRevision: "HEAD" },
            destination: { server: "https://kubernetes.default.svc", namespace },
            syncPolicy: { syncOptions: ["CreateNamespace=true"] },
        },
    });
    const operation = (run: string) => ({ initiatedBy: { username: "upgrade-as-code" }, info: [{ name: "run", value: run }], sync: { revision: "HEAD" } });
    const cscJob = (name: string, annotations: Record<string, string> = {}) => ({
        apiVersion: "batch/v1", kind: "Job", metadata: { name },
        spec: { backoffLimit: 0, template: { metadata: { labels: { csc: name }, annotations },
            spec: { restartPolicy: "Never", containers: [{ name, image: `ts-dockerhub.lsst.org/${name}:c0038` }] } } },
    });
    const getApp = async (name: string): Promise<App> => JSON.parse(await lab.kubectl(["get", "applications.argoproj.io", name, "-n", "argocd", "-o", "json"])) as App;
    /** Polls until the predicate holds (the controller works in the background); on timeout names what it last saw. */
    const waitApp = async (name: string, what: string, ok: (a: App) => boolean, timeoutMs = 90_000): Promise<App> => {
        const until = Date.now() + timeoutMs;
        let last: App | undefined;
        for (;;) {
            last = await getApp(name);
            if (ok(last)) return last;
            if (Date.now() > until) throw new Error(`${name}: not ${what} after ${timeoutMs} ms; status: ${JSON.stringify(last.status)}`);
            await new Promise(r => setTimeout(r, 300));
        }
    };
    const finished = (run: string) => (a: App) => runOf(a) === run && !a.operation && ["Succeeded", "Failed"].includes(a.status?.operationState?.phase ?? "");
    const create = (doc: object) => lab.kubectl(["create", "-f", "-"], { input: stringify(doc) });

    before(async () => {
        source = fs.mkdtempSync(path.join(os.tmpdir(), "argocd-source-"));
        lab = await startKubeLab();
        await lab.startArgoController({ sourceRoot: source, intervalMs: 300 });
    });
    after(async () => {
        await lab?.stop();
        fs.rmSync(source, { recursive: true, force: true });
    });

    it("a CSC app whose Job keeps running is Synced and Progressing, its operation Succeeded; a Job that completes turns Healthy", async () => {
        write("csc/mtm1m3/job.yaml", [cscJob("mtm1m3")]);
        await create({ ...application("mtm1m3", "csc/mtm1m3", "mtm1m3"), operation: operation("1") });
        const app = await waitApp("mtm1m3", "finished", finished("1"));
        assert.strictEqual(app.status?.operationState?.phase, "Succeeded", app.status?.operationState?.message);
        assert.strictEqual(app.status?.operationState?.message, "successfully synced (all tasks run)");
        assert.deepStrictEqual(app.status?.operationState?.syncResult?.resources.map(r => [r.kind, r.name, r.status]), [["Job", "mtm1m3", "Synced"]]);
        assert.strictEqual(app.status?.sync?.status, "Synced");
        assert.strictEqual(app.status?.health?.status, "Progressing");
        // The object as Argo CD leaves it: labelled with its app, applied server-side by argocd-controller.
        const job = JSON.parse(await lab.kubectl(["get", "job", "mtm1m3", "-n", "mtm1m3", "-o", "json", "--show-managed-fields"])) as
            { metadata: { labels: Record<string, string>; managedFields: { manager: string; operation: string }[] } };
        assert.strictEqual(job.metadata.labels[INSTANCE_LABEL], "mtm1m3");
        assert.ok(job.metadata.managedFields.some(f => f.manager === FIELD_MANAGER && f.operation === "Apply"), JSON.stringify(job.metadata.managedFields));
        // kwok runs the CSC's pod and keeps it running.
        await lab.kubectl(["wait", "pod", "-n", "mtm1m3", "-l", "csc=mtm1m3", "--for=jsonpath={.status.phase}=Running", "--timeout=60s"]);

        // A Job that completes, synced after the running one's pod runs: once the controller has seen it Healthy,
        // it has also looked at the running Job since its pod runs, and still calls it Progressing.
        write("csc/oneshot/job.yaml", [cscJob("oneshot", { [JOB_COMPLETES]: "true" })]);
        await create({ ...application("oneshot", "csc/oneshot", "oneshot"), operation: operation("1") });
        const oneshot = await waitApp("oneshot", "Healthy", a => finished("1")(a) && a.status?.health?.status === "Healthy");
        assert.strictEqual(oneshot.status?.sync?.status, "Synced");
        const still = await getApp("mtm1m3");
        assert.deepStrictEqual([still.status?.sync?.status, still.status?.health?.status], ["Synced", "Progressing"]);
    });

    it("a Job whose pod fails makes its app Degraded (its sync still Succeeded)", async () => {
        write("csc/crashes/job.yaml", [cscJob("crashes", { [JOB_FAILS]: "true" })]);
        await create({ ...application("crashes", "csc/crashes", "crashes"), operation: operation("1") });
        const app = await waitApp("crashes", "Degraded", a => finished("1")(a) && a.status?.health?.status === "Degraded");
        assert.deepStrictEqual([app.status?.operationState?.phase, app.status?.sync?.status], ["Succeeded", "Synced"]);
    });

    it("a Deployment app (kafka-producers) becomes Healthy once kwok has made its pods ready", async () => {
        write("kafka-producers/deployment.yaml", [{
            apiVersion: "apps/v1", kind: "Deployment", metadata: { name: "kafka-producer-mtm1m3" },
            spec: { replicas: 2, selector: { matchLabels: { app: "kafka-producer-mtm1m3" } },
                template: { metadata: { labels: { app: "kafka-producer-mtm1m3" } }, spec: { containers: [{ name: "producer", image: "lsstts/salkafka:c0038" }] } } },
        }]);
        await create({ ...application("kafka-producers", "kafka-producers", "kafka-producers"), operation: operation("1") });
        const app = await waitApp("kafka-producers", "Healthy", a => finished("1")(a) && a.status?.health?.status === "Healthy");
        assert.strictEqual(app.status?.operationState?.phase, "Succeeded");
        assert.strictEqual(app.status?.sync?.status, "Synced");
        const deployment = JSON.parse(await lab.kubectl(["get", "deployment", "kafka-producer-mtm1m3", "-n", "kafka-producers", "-o", "json"])) as
            { status: { availableReplicas?: number } };
        assert.strictEqual(deployment.status.availableReplicas, 2);
    });

    it("a DaemonSet app (ospl-daemon) becomes Healthy once its pod on the node is ready", async () => {
        write("ospl-daemon/daemonset.yaml", [{
            apiVersion: "apps/v1", kind: "DaemonSet", metadata: { name: "ospl-daemon" },
            spec: { selector: { matchLabels: { app: "ospl-daemon" } },
                template: { metadata: { labels: { app: "ospl-daemon" } }, spec: { containers: [{ name: "ospl", image: "lsstts/ospl-daemon:c0038" }] } } },
        }]);
        await create({ ...application("ospl-daemon", "ospl-daemon", "ospl-daemon"), operation: operation("1") });
        await waitApp("ospl-daemon", "Healthy", a => finished("1")(a) && a.status?.health?.status === "Healthy");
        const daemonSet = JSON.parse(await lab.kubectl(["get", "daemonset", "ospl-daemon", "-n", "ospl-daemon", "-o", "json"])) as
            { status: { numberAvailable?: number; desiredNumberScheduled?: number } };
        assert.deepStrictEqual([daemonSet.status.desiredNumberScheduled, daemonSet.status.numberAvailable], [1, 1]);
    });

    it("deleting an app with the resources finalizer deletes its objects, then the app", async () => {
        await lab.kubectl(["patch", "applications.argoproj.io", "ospl-daemon", "-n", "argocd", "--type", "merge", "-p", JSON.stringify({ metadata: { finalizers: [RESOURCES_FINALIZER] } })]);
        await lab.kubectl(["delete", "applications.argoproj.io", "ospl-daemon", "-n", "argocd", "--timeout=90s"]);
        assert.strictEqual((await lab.kubectl(["get", "daemonset", "-n", "ospl-daemon", "-o", "name"])).trim(), "");
        assert.strictEqual((await lab.kubectl(["get", "applications.argoproj.io", "-n", "argocd", "--field-selector", "metadata.name=ospl-daemon", "-o", "name"])).trim(), "");
    });

    it("an invalid manifest fails the sync with the API server's message, applies nothing and clears the operation", async () => {
        write("broken/deployment.yaml", [
            { apiVersion: "v1", kind: "ConfigMap", metadata: { name: "broken-config" }, data: { a: "b" } },
            { apiVersion: "apps/v1", kind: "Deployment", metadata: { name: "broken" },
                spec: { template: { metadata: { labels: { app: "broken" } }, spec: { containers: [{ name: "c", image: "x" }] } } } },
        ]);
        await create({ ...application("broken", "broken", "broken"), operation: operation("1") });
        const app = await waitApp("broken", "finished", finished("1"));
        const state = app.status!.operationState!;
        assert.strictEqual(state.phase, "Failed");
        // gitops-engine's message for a failed dry run, with the reason kubectl gave (the API server's validation).
        assert.strictEqual(state.message, "one or more objects failed to apply (dry run), reason: The Deployment \"broken\" is invalid: \n"
            + "* spec.selector: Required value\n"
            + "* spec.template.metadata.labels: Invalid value: {\"app\":\"broken\"}: `selector` does not match template `labels`");
        assert.strictEqual(app.operation, undefined);
        assert.strictEqual(app.status?.sync?.status, "OutOfSync");
        // The dry run stopped the sync before anything was applied.
        assert.strictEqual((await lab.kubectl(["get", "configmap", "-n", "broken", "-l", INSTANCE_LABEL, "-o", "name"])).trim(), "");
    });

    it("an app of apps creates its child Applications; the children do not count in its health", async () => {
        write("apps/root/children.yaml", [application("child-a", "csc/child-a", "child-a"), application("child-b", "csc/child-b", "child-b")]);
        write("csc/child-a/job.yaml", [cscJob("child-a")]);
        write("csc/child-b/job.yaml", [cscJob("child-b")]);
        await create({ ...application("root", "apps/root", "argocd"), operation: operation("1") });
        const root = await waitApp("root", "finished", finished("1"));
        assert.strictEqual(root.status?.operationState?.phase, "Succeeded", root.status?.operationState?.message);
        assert.deepStrictEqual(root.status?.operationState?.syncResult?.resources.map(r => [r.kind, r.name, r.status]),
            [["Application", "child-a", "Synced"], ["Application", "child-b", "Synced"]]);
        assert.deepStrictEqual([root.status?.sync?.status, root.status?.health?.status], ["Synced", "Healthy"]);
        for (const name of ["child-a", "child-b"]) {
            // A child is an Application like any other: labelled with its parent, compared by the controller,
            // out of sync (and Missing) until it is synced itself.
            const child = await waitApp(name, "compared", a => a.status?.sync?.status !== undefined);
            assert.strictEqual(child.metadata.labels?.[INSTANCE_LABEL], "root");
            assert.deepStrictEqual([child.status?.sync?.status, child.status?.health?.status], ["OutOfSync", "Missing"]);
        }
        await lab.kubectl(["patch", "applications.argoproj.io", "child-a", "-n", "argocd", "--type", "merge", "-p", JSON.stringify({ operation: operation("1") })]);
        const childA = await waitApp("child-a", "finished", finished("1"));
        assert.deepStrictEqual([childA.status?.operationState?.phase, childA.status?.sync?.status, childA.status?.health?.status], ["Succeeded", "Synced", "Progressing"]);
        assert.strictEqual((await getApp("root")).status?.health?.status, "Healthy");
    });

    it("a second sync is a new operation: a new startedAt, the new run's info, one more history entry", async () => {
        const first = await getApp("mtm1m3");
        const firstStarted = first.status!.operationState!.startedAt;
        // startedAt has a resolution of one second (metav1.Time): the second sync starts in a later second.
        while (new Date().toISOString().replace(/\.\d{3}Z$/, "Z") <= firstStarted) await new Promise(r => setTimeout(r, 100));
        await lab.kubectl(["patch", "applications.argoproj.io", "mtm1m3", "-n", "argocd", "--type", "merge", "-p", JSON.stringify({ operation: operation("2") })]);
        const second = await waitApp("mtm1m3", "finished run 2", finished("2"));
        const state = second.status!.operationState!;
        assert.strictEqual(state.phase, "Succeeded");
        assert.ok(state.startedAt > firstStarted, `${state.startedAt} after ${firstStarted}`);
        assert.deepStrictEqual(second.status?.history?.map(h => h.id), [0, 1]);
        assert.deepStrictEqual([second.status?.sync?.status, second.status?.health?.status], ["Synced", "Progressing"]);
    });
});
