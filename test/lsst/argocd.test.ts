// test-needs: kubernetes-control-plane
import { strict as assert } from "assert";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { parse } from "yaml";
import { stringify } from "yaml";
import { appState, syncPatch, syncProgress } from "../../components/lsst/argocd";
import { syncRunId } from "../../components/kubernetes/argocd-sync";
import { INSTANCE_LABEL } from "../../lab/argocd/controller";
import { LAB_CHILDREN, writeSiteApps } from "../../lab/lsst/cluster/site-apps";
import { KubeLab, startKubeLab } from "../support/kube-lab";
import { failureOf, LAB, realKubectl, runLsstStep, tmpDir } from "./support";

const FIXTURES = path.join(LAB, "fixtures");
const fixture = (name: string) => parse(fs.readFileSync(path.join(FIXTURES, name), "utf8")) as Record<string, any>;

/** `kubectl patch --local --dry-run=client`: the real kubectl applies a merge patch to a manifest, no cluster needed. */
function kubectlPatchLocal(file: string, patch: unknown, output: "yaml" | "json" = "yaml") {
    return spawnSync(realKubectl(), ["patch", "--local", "--dry-run=client", "-f", file, "--type", "merge", "-p", JSON.stringify(patch), "-o", output], {
        encoding: "utf8", env: { ...process.env, KUBECONFIG: "/nonexistent" },
    });
}

describe("Argo CD: the sync patch, checked with the real kubectl", () => {
    it("is a merge patch that sets operation.sync on an Application and changes nothing else", () => {
        const file = path.join(FIXTURES, "application-ospl-daemon.yaml");
        const patch = syncPatch({ initiatedBy: "upgrade-as-code", reason: "lsst-tts/deploy-argocd-ospl-daemon" });
        const r = kubectlPatchLocal(file, patch);
        assert.equal(r.status, 0, r.stderr);
        const patched = parse(r.stdout) as Record<string, any>;
        const before = fixture("application-ospl-daemon.yaml");
        assert.deepEqual(patched.operation, {
            initiatedBy: { username: "upgrade-as-code" },
            info: [{ name: "reason", value: "lsst-tts/deploy-argocd-ospl-daemon" }],
            sync: { syncStrategy: { hook: {} } },
        });
        assert.deepEqual(patched.spec, before.spec);
        assert.deepEqual(patched.status, before.status);
        assert.deepEqual(patched.metadata, before.metadata);
        assert.equal(patched.kind, "Application");
        assert.equal(patched.apiVersion, "argoproj.io/v1alpha1");
    });

    it("names a revision and pruning only when asked", () => {
        const file = path.join(FIXTURES, "application-obssys.yaml");
        const r = kubectlPatchLocal(file, syncPatch({ initiatedBy: "u", revision: "cycle.0034", prune: true }), "json");
        assert.equal(r.status, 0, r.stderr);
        assert.deepEqual(JSON.parse(r.stdout).operation.sync, { syncStrategy: { hook: {} }, revision: "cycle.0034", prune: true });
        assert.deepEqual(Object.keys(syncPatch({ initiatedBy: "u" }).operation), ["initiatedBy", "sync"]);
    });

    it("the fixtures are manifests kubectl reads (an invalid patch is refused the same way)", () => {
        for (const f of fs.readdirSync(FIXTURES)) {
            const r = spawnSync(realKubectl(), ["patch", "--local", "-f", path.join(FIXTURES, f), "--type", "merge", "-p", "{}", "-o", "name"],
                { encoding: "utf8", env: { ...process.env, KUBECONFIG: "/nonexistent" } });
            assert.equal(r.status, 0, `${f}: ${r.stderr}`);
            assert.match(r.stdout, /^application\.argoproj\.io\//);
        }
        const bad = kubectlPatchLocal(path.join(FIXTURES, "application-obssys.yaml"), ["operation"]);
        assert.notEqual(bad.status, 0);
    });
});

describe("Argo CD: where a sync stands (pure)", () => {
    const doc = (over: Record<string, any> = {}) => ({
        metadata: { name: "watcher" },
        status: {
            operationState: { phase: "Succeeded", startedAt: "2026-01-02T03:04:05Z", operation: { info: [{ name: "reason", value: "ours" }] } },
            sync: { status: "Synced", revision: "abc" }, health: { status: "Progressing" }, ...over,
        },
    });

    it("an operation of someone else, or one that was there before ours, is never ours", () => {
        const other = appState(doc({ operationState: { phase: "Succeeded", startedAt: "2026-01-02T03:04:05Z", operation: { info: [{ name: "reason", value: "theirs" }] } } }));
        assert.deepEqual(syncProgress(other, { reason: "ours" }, false), { done: false, state: other, describe: "sync requested, not started yet; sync=Synced health=Progressing" });
        // Without a reason recorded, an operation is ours only if it started after the one we saw before asking.
        const noReason = appState(doc({ operationState: { phase: "Succeeded", startedAt: "2026-01-02T03:04:05Z", operation: {} } }));
        assert.equal(syncProgress(noReason, { reason: "ours", previousStartedAt: "2026-01-02T03:04:05Z" }).done, false);
        assert.equal(syncProgress(noReason, { reason: "ours", previousStartedAt: "2026-01-01T00:00:00Z" }, false).done, true);
    });

    it("ours: Synced is enough for a CSC app (its Job runs: Progressing); Healthy is needed for the rest; a failed one says why", () => {
        const s = appState(doc());
        assert.equal(syncProgress(s, { reason: "ours" }, false).done, true);
        assert.deepEqual(syncProgress(s, { reason: "ours" }, true), { done: false, state: s, describe: "operation Succeeded; sync=Synced health=Progressing" });
        const failed = appState(doc({ operationState: { phase: "Failed", message: "one or more objects failed to apply", startedAt: "x", operation: { info: [{ name: "reason", value: "ours" }] } } }));
        assert.equal((syncProgress(failed, { reason: "ours" }) as { failed?: string }).failed, "sync Failed: one or more objects failed to apply");
        const running = appState({ ...doc(), operation: { sync: {} } });
        assert.equal(running.operationPending, true);
        assert.match((syncProgress(running, { reason: "ours" }) as { describe: string }).describe, /^operation Succeeded; sync=Synced/);
    });
});

interface App {
    metadata: { name: string; labels?: Record<string, string> };
    operation?: unknown;
    status?: Record<string, any>;
}

/**
 * The argocd-sync step on the lab's control plane with the lab's Argo CD controller (lab/argocd: what
 * argo-cd's application controller does, its rules from gitops-engine pkg/sync/sync_context.go and
 * pkg/health/). The parent's sync is what the step's Kubernetes patch does (components/kubernetes/argocd-sync.ts):
 * the operation applied server-side, marked with the run id, awaited until it ended; the step runner then
 * judges the state that await ended on (`observed`) and syncs an app of apps' children with kubectl, as
 * lsst-ts/argocd-csc bin/sync_apps.py does after the parent (`argocd app sync -l argocd.argoproj.io/instance=<app>`),
 * waiting for what each needs: a CSC child's Job keeps running (gitops-engine pkg/health/health_job.go:
 * Progressing), so its sync having succeeded is all (`argocd app sync` waits for the operation only,
 * argo-cd cmd/argocd/commands/app.go); a Deployment child must turn Healthy.
 */
describe("Argo CD sync steps on the lab cluster with the lab's Argo CD controller", function () {
    this.timeout(300_000);
    let lab: KubeLab;
    let source: string;
    let kubectl: string;
    let controllerLog: string;

    const getApp = async (name: string): Promise<App> => JSON.parse(await lab.kubectl(["get", "applications.argoproj.io", name, "-n", "argocd", "-o", "json"])) as App;
    const runOf = (a: App): string | undefined => a.status?.operationState?.operation?.info?.[0]?.value;
    /** Polls until `ok` holds; on timeout names what it last saw. */
    async function waitApp(name: string, what: string, ok: (a: App) => boolean, timeoutMs = 90_000): Promise<App> {
        const until = Date.now() + timeoutMs;
        for (;;) {
            const a = await getApp(name);
            if (ok(a)) return a;
            if (Date.now() > until) throw new Error(`${name}: not ${what} after ${timeoutMs} ms; status: ${JSON.stringify(a.status)}`);
            await new Promise(r => setTimeout(r, 250));
        }
    }

    /**
     * What the step's resource does before the runner runs: the sync operation applied server-side with this
     * run's id first in `info`, then awaited until that operation failed, or succeeded with the app Synced
     * (and Healthy when `needs` says so): the condition of syncWaitFor. Returns the status it ended on.
     */
    async function providerSync(app: string, runKey: string, needs: "synced" | "healthy"): Promise<{ run: string; observed: Record<string, any> }> {
        const run = syncRunId(["test", runKey, app]);
        const patch = {
            apiVersion: "argoproj.io/v1alpha1", kind: "Application", metadata: { name: app, namespace: "argocd" },
            operation: { initiatedBy: { username: "upgrade-as-code" }, info: [{ name: "run", value: run }, { name: "reason", value: `test ${runKey} ${app}` }], sync: { syncStrategy: { hook: {} } } },
        };
        await lab.kubectl(["apply", "--server-side", "--field-manager=pulumi-kubernetes", "--force-conflicts", "-f", "-"], { input: stringify(patch) });
        const ended = (a: App) => {
            const st = a.status ?? {};
            if (runOf(a) !== run || a.operation) return false;
            const phase = st.operationState?.phase;
            return phase === "Failed" || phase === "Error" || (phase === "Succeeded" && st.sync?.status === "Synced"
                && (needs === "synced" || st.health?.status === "Healthy"));
        };
        return { run, observed: (await waitApp(app, `done with run ${run}`, ended)).status! };
    }

    const params = (app: string, over: Record<string, unknown> = {}) => ({
        app, wave: 3, children: false, waitFor: "synced", namespace: "argocd", instanceLabel: INSTANCE_LABEL,
        kubectl, timeoutSeconds: 60, prune: false, ...over,
    });

    const write = (rel: string, docs: object[]) => {
        fs.mkdirSync(path.join(source, rel), { recursive: true });
        fs.writeFileSync(path.join(source, rel, "manifests.yaml"), docs.map(d => stringify(d)).join("---\n"));
    };
    const appDoc = (name: string, sourcePath: string, namespace: string) => ({
        apiVersion: "argoproj.io/v1alpha1", kind: "Application", metadata: { name, namespace: "argocd" },
        spec: {
            project: "default", source: { repoURL: "https://github.com/lsst-ts/argocd-csc.git", path: sourcePath, targetRevision: "HEAD" },
            destination: { server: "https://kubernetes.default.svc", namespace }, syncPolicy: { syncOptions: ["CreateNamespace=true"] },
        },
    });
    /** A Deployment whose pods no node takes (a node selector nothing has): it never becomes available. */
    const unschedulable = (name: string) => ({
        apiVersion: "apps/v1", kind: "Deployment", metadata: { name },
        spec: {
            replicas: 1, selector: { matchLabels: { app: name } },
            template: { metadata: { labels: { app: name } }, spec: { nodeSelector: { "lab.upgrade-as-code/none": "true" }, containers: [{ name, image: `lsstts/${name}:c0034` }] } },
        },
    });

    before(async () => {
        source = tmpDir("lsst-argocd-source-");
        lab = await startKubeLab();
        kubectl = `${realKubectl()} --kubeconfig ${lab.kubeconfig} --context ${lab.context}`;
        controllerLog = (await lab.startArgoController({ sourceRoot: source, intervalMs: 300 })).log;
        const apps = writeSiteApps(source, ["kafka-producers", "obssys", "love", "auxtel", "test42", "cachemachine"]);
        // Two apps of this test's own: a manifest the API server refuses, and producers that never get a node.
        write("apps/broken", [{ apiVersion: "apps/v1", kind: "Deployment", metadata: { name: "broken" },
            spec: { template: { metadata: { labels: { app: "broken" } }, spec: { containers: [{ name: "c", image: "x" }] } } } }]);
        write("apps/stuck-producers", [unschedulable("kafka-producer-stuck")]);
        const docs = [...apps, appDoc("broken", "apps/broken", "broken"), appDoc("stuck-producers", "apps/stuck-producers", "kafka-producers")];
        // Created, not `kubectl apply`-ed: a later server-side apply by kubectl would migrate the client-side apply's
        // fields (spec) to its field manager, and the next operation-only apply would then drop spec.
        await lab.kubectl(["create", "-f", "-"], { input: docs.map(d => stringify(d)).join("---\n") });
    });
    after(async () => {
        await lab?.stop();
        if (source) fs.rmSync(source, { recursive: true, force: true });
    });

    it("a failed sync fails the step at once, naming the app and Argo CD's message", async () => {
        const { run, observed } = await providerSync("broken", "r1", "healthy");
        const message = await failureOf(runLsstStep("argocd-sync", params("broken", { waitFor: "healthy", observed, run })).result);
        assert.equal(message, "broken: sync Failed: one or more objects failed to apply (dry run), reason: The Deployment \"broken\" is invalid: \n"
            + "* spec.selector: Required value\n"
            + "* spec.template.metadata.labels: Invalid value: {\"app\":\"broken\"}: `selector` does not match template `labels` (sync=OutOfSync health=Missing)");
    });

    it("a CSC app (its Job keeps running) with waitFor synced passes while Progressing", async () => {
        const { run, observed } = await providerSync("test42", "r1", "synced");
        assert.deepEqual([observed.operationState.phase, observed.sync.status, observed.health.status], ["Succeeded", "Synced", "Progressing"]);
        const s = runLsstStep("argocd-sync", params("test42", { observed, run }));
        const r = await s.result;
        assert.deepEqual(r, { app: "test42", wave: 3, synced: ["test42"], revision: observed.sync.revision });
        assert.ok(s.logs.includes("[t-argocd-sync] test42: sync Succeeded; sync=Synced health=Progressing"), s.logs.join("\n"));
        // The state of an earlier run is never taken for this run's.
        const stale = await failureOf(runLsstStep("argocd-sync", params("test42", { observed, run: syncRunId(["test", "r2", "test42"]) })).result);
        assert.equal(stale, `test42: the state seen is not of this run's sync (operation ${run}, expected ${syncRunId(["test", "r2", "test42"])})`);
    });

    it("a Deployment app with waitFor healthy fails the verdict while it is not Healthy; Healthy passes", async () => {
        // The state the await would have stopped at for a CSC app (Succeeded and Synced), judged for a Deployment app.
        const stuck = await providerSync("stuck-producers", "r1", "synced");
        assert.equal(stuck.observed.health.status, "Progressing");
        const message = await failureOf(runLsstStep("argocd-sync", params("stuck-producers", { waitFor: "healthy", ...stuck })).result);
        assert.match(message, /^stuck-producers: the sync succeeded but the app is not Synced and Healthy \(sync=Synced health=Progressing( \(.+\))?\)$/);
        const ready = await providerSync("kafka-producers", "r1", "healthy");
        const r = await runLsstStep("argocd-sync", params("kafka-producers", { waitFor: "healthy", wave: 2, ...ready })).result;
        assert.deepEqual(r.synced, ["kafka-producers"]);
        const deployments = await lab.kubectl(["get", "deployments", "-n", "kafka-producers", "-l", `${INSTANCE_LABEL}=kafka-producers`, "-o", "jsonpath={range .items[*]}{.metadata.name}={.status.availableReplicas} {end}"]);
        assert.equal(deployments.trim(), "kafka-producer-atdome=1 kafka-producer-mtm1m3=1");
    });

    it("an app of apps: its children synced with kubectl after the parent, each a new operation, CSC children Synced while their Jobs run", async () => {
        const parent = await providerSync("obssys", "r1", "synced");
        const s = runLsstStep("argocd-sync", params("obssys", { children: true, ...parent }), {}, "deploy-argocd-obssys");
        const r = await s.result;
        const children = [...LAB_CHILDREN.obssys].sort();
        assert.deepEqual(r.synced, ["obssys", ...children]);
        assert.ok(s.logs.includes(`[deploy-argocd-obssys] obssys: child applications ${children.join(", ")}`), s.logs.join("\n"));
        const finishedAt = parent.observed.operationState.finishedAt as string;
        const reasons = new Set<string>();
        for (const name of children) {
            const child = await getApp(name);
            const st = child.status!;
            assert.equal(child.metadata.labels?.[INSTANCE_LABEL], "obssys");
            assert.deepEqual([st.operationState.phase, st.sync.status, st.health.status], ["Succeeded", "Synced", "Progressing"], name);
            assert.equal(st.operationState.operation.initiatedBy.username, "upgrade-as-code");
            assert.match(st.operationState.operation.info[0].value, /^test\/deploy-argocd-obssys /);
            reasons.add(st.operationState.operation.info[0].value);
            assert.ok(st.operationState.startedAt >= finishedAt, `${name} started ${st.operationState.startedAt}, before its parent finished ${finishedAt}`);
            assert.deepEqual(st.history.map((h: { id: number }) => h.id), [0]);
        }
        assert.equal(reasons.size, 1, "one request of the step");
        // The controller's own record: the parent's sync ended before any child's started.
        const events = fs.readFileSync(controllerLog, "utf8").split("\n").filter(l => /(obssys|watcher|scriptqueue\d): sync (started|Succeeded)/.test(l));
        const parentDone = events.findIndex(l => /obssys: sync Succeeded/.test(l));
        assert.ok(parentDone >= 0 && children.every(c => events.findIndex(l => l.includes(`${c}: sync started`)) > parentDone), events.join("\n"));
        // Their CSCs run as Jobs in the collector's namespace; kwok keeps their pods running.
        assert.deepEqual((await lab.kubectl(["get", "jobs", "-n", "obssys", "-o", "name"])).trim().split("\n").sort(), children.map(c => `job.batch/${c}`));

        // The next run: the parent and each child a new operation (one more history entry each).
        const again = await providerSync("obssys", "r2", "synced");
        await runLsstStep("argocd-sync", params("obssys", { children: true, ...again }), {}, "deploy-argocd-obssys").result;
        for (const name of children) {
            const st = (await getApp(name)).status!;
            assert.deepEqual(st.history.map((h: { id: number }) => h.id), [0, 1], name);
            assert.ok(!reasons.has(st.operationState.operation.info[0].value), `${name}: a new operation`);
        }
    });

    it("children wait per waitFor: LOVE's Deployments until Healthy; CSC children asked to be Healthy time out, each named", async () => {
        const love = await providerSync("love", "r1", "healthy");
        const r = await runLsstStep("argocd-sync", params("love", { children: true, waitFor: "healthy", ...love })).result;
        assert.deepEqual(r.synced, ["love", "love-frontend", "love-manager"]);
        for (const name of ["love-frontend", "love-manager"]) {
            const st = (await getApp(name)).status!;
            assert.deepEqual([st.operationState.phase, st.sync.status, st.health.status], ["Succeeded", "Synced", "Healthy"], name);
        }
        const auxtel = await providerSync("auxtel", "r1", "healthy");
        const message = await failureOf(runLsstStep("argocd-sync", params("auxtel", { children: true, waitFor: "healthy", timeoutSeconds: 30, ...auxtel })).result);
        const lines = message.split("\n");
        assert.equal(lines[0], "3 of 3 child applications of auxtel are not Synced and Healthy:");
        assert.deepEqual(lines.slice(1).map(l => l.replace(/after \d+ s/, "after N s")), ["atdome", "atmcs", "atpneumatics"].map(c =>
            `  ${c}: ${c} is not Synced and Healthy after N s: operation Succeeded; sync=Synced health=Progressing`));
        // An app of apps without children is a configuration mistake, not a success.
        const test42 = await providerSync("test42", "r3", "synced");
        assert.equal(await failureOf(runLsstStep("argocd-sync", params("test42", { children: true, ...test42 })).result),
            `test42 is an app of apps, but no application in argocd is labelled ${INSTANCE_LABEL}=test42`);
    });

    // lsst-ts/argocd-csc bin/sync_apps.py (fe02407): the last wave's apps are synced one `argocd app sync` after the
    // other, then the children of each app of apps at once (`argocd app sync -l argocd.argoproj.io/instance=<app>`).
    it("the last wave: a step syncs only the children of an app an earlier step synced, and leaves the parent's operation alone", async () => {
        const parent = await providerSync("auxtel", "r2", "synced");
        const first = await runLsstStep("argocd-sync", params("auxtel", { wave: 4, ...parent }), {}, "deploy-argocd-auxtel").result;
        assert.deepEqual(first.synced, ["auxtel"]);
        const children = ["atdome", "atmcs", "atpneumatics"];
        const before = Object.fromEntries(await Promise.all(children.map(async c => [c, (await getApp(c)).status?.history?.length ?? 0] as const)));
        const parentBefore = (await getApp("auxtel")).status!;
        const s = runLsstStep("argocd-sync", params("auxtel", { wave: 4, children: true, parentSynced: true }), {}, "deploy-argocd-auxtel-children");
        const r = await s.result;
        assert.deepEqual(r.synced, children);
        assert.ok(s.logs.includes("[deploy-argocd-auxtel-children] wave 4: the child applications of auxtel"), s.logs.join("\n"));
        for (const c of children) {
            const st = (await getApp(c)).status!;
            assert.equal(st.history.length, before[c] + 1, `${c}: one new operation`);
            assert.match(st.operationState.operation.info[0].value, /^test\/deploy-argocd-auxtel-children /, c);
        }
        const parentAfter = (await getApp("auxtel")).status!;
        assert.equal(runOf({ status: parentAfter } as App), parent.run, "the parent's last operation is still the earlier step's");
        assert.equal(parentAfter.history.length, parentBefore.history.length);
        // Nothing to sync is a configuration mistake.
        assert.equal(await failureOf(runLsstStep("argocd-sync", params("test42", { parentSynced: true })).result),
            "test42: parentSynced leaves nothing to sync unless children is true");
    });

    it("the cachemachine restart: the verdict on the Deployment the provider's rollout await ended on", async () => {
        await providerSync("cachemachine", "r1", "healthy");
        // kubectl rollout restart's patch (the step's resource), awaited as the provider does: rolled out.
        await lab.kubectl(["rollout", "restart", "deployment/cachemachine", "-n", "nublado"]);
        await lab.kubectl(["rollout", "status", "deployment/cachemachine", "-n", "nublado", "--timeout=90s"]);
        const observed = JSON.parse(await lab.kubectl(["get", "deployment", "cachemachine", "-n", "nublado", "-o", "json"])).status;
        const r = await runLsstStep("k8s-pod-restart", { namespace: "nublado", deployment: "cachemachine", timeoutSeconds: 60, observed }).result;
        assert.deepEqual(r, { namespace: "nublado", deployment: "cachemachine", replicas: 1, updatedReplicas: 1, readyReplicas: 1, availableReplicas: 1 });
        const stuck = JSON.parse(await lab.kubectl(["get", "deployment", "kafka-producer-stuck", "-n", "kafka-producers", "-o", "json"])).status;
        assert.match(await failureOf(runLsstStep("k8s-pod-restart", { namespace: "kafka-producers", deployment: "kafka-producer-stuck", timeoutSeconds: 60, observed: stuck }).result),
            /^kafka-producers\/kafka-producer-stuck is not rolled out: \{"replicas":1,"updatedReplicas":1,"readyReplicas":0,"availableReplicas":0\}$/);
    });
});
