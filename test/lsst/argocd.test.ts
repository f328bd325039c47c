import { strict as assert } from "assert";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { parse } from "yaml";
import { syncPatch } from "../../components/lsst/argocd";
import { FAKE_KUBECTL, FakeCluster, failureOf, LAB, realKubectl, runLsstStep } from "./support";

const FIXTURES = path.join(LAB, "fixtures");
const fixture = (name: string) => parse(fs.readFileSync(path.join(FIXTURES, name), "utf8")) as Record<string, any>;

/** `kubectl patch --local --dry-run=client`: the real kubectl applies a merge patch to a manifest, no cluster needed. */
function kubectlPatchLocal(file: string, patch: unknown, output: "yaml" | "json" = "yaml") {
    return spawnSync(realKubectl(), ["patch", "--local", "--dry-run=client", "-f", file, "--type", "merge", "-p", JSON.stringify(patch), "-o", output], {
        encoding: "utf8", env: { ...process.env, KUBECONFIG: "/nonexistent" },
    });
}

const syncParams = (app: string, over: Record<string, unknown> = {}) => ({
    app, wave: 3, children: false, namespace: "argocd", instanceLabel: "argocd.argoproj.io/instance",
    kubectl: FAKE_KUBECTL, timeoutSeconds: 10, prune: false, ...over,
});
const verbs = (calls: string[][]) => calls.map(c => `${c[0]} ${c[1]}${c[2] && !c[2].startsWith("-") ? ` ${c[2]}` : ""}`);

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

describe("Argo CD sync steps against a simulated cluster", function () {
    this.timeout(60000);

    it("syncs one application and waits until our sync is done and it is Synced and Healthy", async () => {
        const k = new FakeCluster();
        // The fixture's previous sync (Succeeded, long ago) must not be taken for ours.
        k.app(fixture("application-ospl-daemon.yaml"), { startAfterMs: 800, finishAfterMs: 1200, healthyAfterMs: 600 });
        const t0 = Date.now();
        const s = runLsstStep("argocd-sync", syncParams("ospl-daemon"), k.env, "deploy-argocd-ospl-daemon");
        const r = await s.result;
        const waited = Date.now() - t0;
        assert.deepEqual([r.app, r.wave, r.synced], ["ospl-daemon", 3, ["ospl-daemon"]]);
        assert.ok(waited >= 1800, `done after ${waited} ms: before the sync finished and the application turned Healthy`);
        assert.deepEqual(verbs(k.calls()).slice(0, 2), ["get applications.argoproj.io ospl-daemon", "patch applications.argoproj.io ospl-daemon"]);
        const [patch] = k.appPatches("ospl-daemon");
        assert.equal(patch.operation.initiatedBy.username, "upgrade-as-code");
        assert.match(patch.operation.info[0].value, /^test\/deploy-argocd-ospl-daemon /);
        const doc = k.appDoc("ospl-daemon");
        assert.equal(doc.operation, undefined);
        assert.equal(doc.status.operationState.phase, "Succeeded");
        assert.deepEqual([doc.status.sync.status, doc.status.health.status], ["Synced", "Healthy"]);
        assert.ok(s.logs.some(l => /sync requested, not started yet/.test(l)), s.logs.join("\n"));
        assert.ok(s.logs.some(l => /health=Progressing/.test(l)), s.logs.join("\n"));
    });

    it("an application that stays Degraded fails at the timeout, with its sync and health status", async () => {
        const k = new FakeCluster();
        k.app("kafka-producers", { health: "Degraded", healthMessage: "Back-off pulling image \"ts-dockerhub.lsst.org/producer:c0034\"" });
        const message = await failureOf(runLsstStep("argocd-sync", syncParams("kafka-producers", { timeoutSeconds: 2 }), k.env).result);
        assert.match(message, /^kafka-producers is not Synced and Healthy after 2 s: operation Succeeded; sync=Synced health=Degraded \(Back-off pulling image/);
    });

    it("a failed sync fails at once with Argo CD's message", async () => {
        const k = new FakeCluster();
        k.app("obssys", { phase: "Failed", message: "one or more synchronization tasks are not valid" });
        // The step's timeout is far beyond the test's own: waiting for it would fail the test.
        const message = await failureOf(runLsstStep("argocd-sync", syncParams("obssys", { timeoutSeconds: 3600 }), k.env).result);
        assert.match(message, /^obssys: sync Failed: one or more synchronization tasks are not valid/);
    });

    it("an earlier successful sync is never taken for ours: a request that never runs times out", async () => {
        const k = new FakeCluster();
        const doc = fixture("application-ospl-daemon.yaml");
        doc.status.sync.status = "Synced";
        doc.status.health.status = "Healthy";
        k.app(doc, { drop: true, startAfterMs: 200 });
        const message = await failureOf(runLsstStep("argocd-sync", syncParams("ospl-daemon", { timeoutSeconds: 2 }), k.env).result);
        assert.match(message, /^ospl-daemon is not Synced and Healthy after 2 s: sync requested, not started yet; sync=Synced health=Healthy$/);
    });

    it("a missing application is named", async () => {
        const k = new FakeCluster();
        const message = await failureOf(runLsstStep("argocd-sync", syncParams("ospl-config"), k.env).result);
        assert.equal(message, "no Argo CD application ospl-config in namespace argocd");
    });

    it("waits for an operation already under way before asking for ours", async () => {
        const k = new FakeCluster();
        const doc = fixture("application-ospl-daemon.yaml");
        doc.operation = { initiatedBy: { username: "someone" }, sync: {} };
        doc.status.operationState = { phase: "Running", startedAt: "2024-05-02T15:00:00Z", operation: doc.operation };
        k.app(doc, { startAfterMs: 0, finishAfterMs: 700 });
        // The fake's clock for the running operation starts at its last patch: give it one.
        fs.writeFileSync(path.join(k.dir, "objects/applications.argoproj.io/argocd/ospl-daemon.fake.json"),
            JSON.stringify({ behaviour: { startAfterMs: 0, finishAfterMs: 700 }, patchedAt: Date.now(), started: true }));
        const s = runLsstStep("argocd-sync", syncParams("ospl-daemon"), k.env);
        await s.result;
        const v = verbs(k.calls());
        const patchAt = v.indexOf("patch applications.argoproj.io ospl-daemon");
        assert.ok(patchAt >= 2, `gets before the patch: ${v.join(", ")}`);
        assert.ok(s.logs.some(l => /already under way \(Running\)/.test(l)));
        assert.equal(k.appPatches("ospl-daemon").length, 1);
    });

    it("an app of apps: the parent, then every child labelled with its instance, each Synced and Healthy", async () => {
        const k = new FakeCluster();
        k.app(fixture("application-obssys.yaml"));
        k.app("scriptqueue", {}, { "argocd.argoproj.io/instance": "obssys" });
        k.app("watcher", { finishAfterMs: 900 }, { "argocd.argoproj.io/instance": "obssys" });
        k.app("atdome", {}, { "argocd.argoproj.io/instance": "auxtel" });
        const r = await runLsstStep("argocd-sync", syncParams("obssys", { children: true, wave: 5 }), k.env).result;
        assert.deepEqual(r.synced, ["obssys", "scriptqueue", "watcher"]);
        const patched = k.calls().filter(c => c[0] === "patch").map(c => c[2]);
        assert.equal(patched[0], "obssys");
        assert.deepEqual(patched.slice(1).sort(), ["scriptqueue", "watcher"]);
        assert.equal(k.appPatches("atdome").length, 0, "another collector's child is left alone");
        for (const n of ["scriptqueue", "watcher"]) assert.equal(k.appDoc(n).status.health.status, "Healthy");
        // A child that does not come up fails the step, named.
        const k2 = new FakeCluster();
        k2.app(fixture("application-obssys.yaml"));
        k2.app("scriptqueue", {}, { "argocd.argoproj.io/instance": "obssys" });
        k2.app("scheduler", { health: "Degraded" }, { "argocd.argoproj.io/instance": "obssys" });
        const message = await failureOf(runLsstStep("argocd-sync", syncParams("obssys", { children: true, timeoutSeconds: 3 }), k2.env).result);
        assert.match(message, /^1 of 2 child applications of obssys are not Synced and Healthy:\n  scheduler: scheduler is not Synced and Healthy after \d s: .*health=Degraded/);
        // An app of apps without children is a configuration mistake, not a success.
        const k3 = new FakeCluster();
        k3.app(fixture("application-obssys.yaml"));
        assert.match(await failureOf(runLsstStep("argocd-sync", syncParams("obssys", { children: true }), k3.env).result),
            /obssys is an app of apps, but no application in argocd is labelled argocd\.argoproj\.io\/instance=obssys/);
    });
});

describe("Kubernetes cleanup and the cachemachine restart against a simulated cluster", function () {
    this.timeout(60000);

    const cleanup = (k: FakeCluster, command: string, over: Record<string, unknown> = {}) => runLsstStep("k8s-cleanup", {
        command, kubectl: FAKE_KUBECTL, instanceLabel: "argocd.argoproj.io/instance", argocdNamespace: "argocd",
        kinds: ["job", "deployment", "daemonset"],
        apps: [{ app: "ospl-daemon", children: false }, { app: "kafka-producers", children: false }, { app: "auxtel", children: true }],
        ...over,
    }, k.env);

    function workloads(k: FakeCluster): void {
        k.workload("daemonsets", "ospl-daemon", "ospl-daemon", { "argocd.argoproj.io/instance": "ospl-daemon" });
        k.workload("deployments", "kafka-producers", "producer-atdome", { "argocd.argoproj.io/instance": "kafka-producers" });
        k.workload("jobs", "atdome", "atdome-csc", { "argocd.argoproj.io/instance": "atdome" });
        k.workload("jobs", "atmcs", "atmcs-csc", { "argocd.argoproj.io/instance": "atmcs" });
        k.workload("jobs", "other", "keep-me", { "argocd.argoproj.io/instance": "uws" });
        k.app("auxtel");
        k.app("atdome", {}, { "argocd.argoproj.io/instance": "auxtel" });
        k.app("atmcs", {}, { "argocd.argoproj.io/instance": "auxtel" });
    }

    it("runs cleanup_all -d; nothing else when it works", async () => {
        const k = new FakeCluster();
        workloads(k);
        const r = await cleanup(k, "echo cleaned up").result;
        assert.deepEqual(r, { method: "script", deleted: [] });
        assert.deepEqual(k.calls(), []);
    });

    it("when the script fails, deletes each application's job/deployment/daemonset (children of an app of apps one by one), never an application", async () => {
        const k = new FakeCluster();
        workloads(k);
        const s = cleanup(k, "echo 'error: cannot reach the cluster' >&2; exit 3");
        const r = await s.result;
        assert.equal(r.method, "fallback");
        assert.match(String(r.scriptError), /exited 3: error: cannot reach the cluster/);
        assert.deepEqual(r.deleted, ["ospl-daemon", "kafka-producers", "atdome", "atmcs"]);
        const deletes = k.calls().filter(c => c[0] === "delete");
        assert.deepEqual(deletes, ["ospl-daemon", "kafka-producers", "atdome", "atmcs"].map(a =>
            ["delete", "job,deployment,daemonset", "--all-namespaces", "-l", `argocd.argoproj.io/instance=${a}`, "--ignore-not-found"]));
        assert.ok(!k.calls().some(c => c[0] === "delete" && /application/.test(c[1])));
        assert.ok(!k.exists("daemonsets", "ospl-daemon", "ospl-daemon") && !k.exists("jobs", "atdome", "atdome-csc") && !k.exists("jobs", "atmcs", "atmcs-csc"));
        assert.ok(k.exists("jobs", "other", "keep-me"), "a workload of another application stays");
        for (const app of ["auxtel", "atdome", "atmcs"]) assert.ok(k.exists("applications.argoproj.io", "argocd", app), `the application ${app} stays`);
        assert.ok(s.logs.some(l => /auxtel is an app of apps without workloads of its own: its children atdome, atmcs/.test(l)));
    });

    it("refuses to delete anything but workloads", async () => {
        const k = new FakeCluster();
        const message = await failureOf(cleanup(k, "exit 1", { kinds: ["job", "application"] }).result);
        assert.match(message, /refusing to delete application: the cleanup deletes job\/deployment\/daemonset only, never the application itself/);
        assert.deepEqual(k.calls(), []);
    });

    it("restarts the cachemachine pod: the old one deleted, a new one Running and ready", async () => {
        const k = new FakeCluster();
        k.pod("cachemachine", "cachemachine-7d9f-abcde", { app: "cachemachine" });
        k.restartAs("cachemachine", "cachemachine-7d9f", { app: "cachemachine" }, 1000);
        const params = { kubectl: FAKE_KUBECTL, namespace: "cachemachine", selector: "app=cachemachine", timeoutSeconds: 10 };
        const s = runLsstStep("k8s-pod-restart", params, k.env);
        const r = await s.result;
        assert.deepEqual(r.deleted, ["cachemachine-7d9f-abcde"]);
        assert.equal((r.started as string[]).length, 1);
        assert.notEqual((r.started as string[])[0], "cachemachine-7d9f-abcde");
        assert.deepEqual(k.pods("cachemachine"), r.started);
        assert.ok(s.logs.some(l => /Pending/.test(l)), s.logs.join("\n"));
        // No replacement pod: the step fails, naming what it saw.
        const k2 = new FakeCluster();
        k2.pod("cachemachine", "cachemachine-old", { app: "cachemachine" });
        const message = await failureOf(runLsstStep("k8s-pod-restart", { ...params, timeoutSeconds: 1 }, k2.env).result);
        assert.equal(message, "no new pod app=cachemachine in cachemachine is ready after 1 s: no pods");
    });
});

describe("Kubernetes gates against a simulated cluster", function () {
    this.timeout(60000);

    it("every kafka producer's log says Running at the bottom; a producer that never does is named", async () => {
        const k = new FakeCluster();
        const labels = { app: "kafka-producers" };
        k.pod("kafka-producers", "producer-atdome", labels, { log: [{ line: "starting" }, { afterMs: 1200, line: "Running" }] });
        k.pod("kafka-producers", "producer-m1m3", labels, { log: [{ line: "starting" }, { afterMs: 300, line: "Partial producers are all running" }, { afterMs: 600, line: "Running" }] });
        const probe = { type: "k8s-logs", kubectl: FAKE_KUBECTL, namespace: "kafka-producers", selector: "app=kafka-producers", pattern: "Running", tail: 1 };
        const r = await runLsstStep("probe-gate", { what: "every kafka producer is Running", probe, timeoutSeconds: 10 }, k.env).result;
        assert.equal(r.ready, true);
        assert.ok(Number(r.elapsedSeconds) >= 1);
        // "at the bottom": a producer that logged Running and then an error is not running.
        k.pod("kafka-producers", "producer-mtmount", labels, { log: [{ line: "Running" }, { line: "Error: lost connection to the broker" }] });
        const message = await failureOf(runLsstStep("probe-gate", { what: "every kafka producer is Running", probe, timeoutSeconds: 1 }, k.env).result);
        assert.match(message, /2\/3 pods app=kafka-producers match \/Running\/\n  not ready: producer-mtmount \(last line: "Error: lost connection to the broker"\)/);
    });

    it("pods of a namespace Running (a field), and a condition, with the pods not ready named", async () => {
        const k = new FakeCluster();
        k.pod("obssys", "scriptqueue-1", { app: "obssys" });
        k.pod("obssys", "watcher", { app: "obssys" }, { runningAfterMs: 60000 });
        const phase = { type: "k8s", kubectl: FAKE_KUBECTL, resource: "pods", namespace: "obssys", field: "status.phase", equals: "Running" };
        const message = await failureOf(runLsstStep("probe-gate", { what: "the obssys containers are running", probe: phase, timeoutSeconds: 1 }, k.env).result);
        assert.match(message, /1\/2 pods in obssys have status\.phase=Running\n  not ready: watcher \(status\.phase=Pending\)/);
        const empty = await failureOf(runLsstStep("probe-gate", { what: "x", probe: { ...phase, namespace: "nothing" }, timeoutSeconds: 1 }, k.env).result);
        assert.match(empty, /no pods in nothing/);
        const k2 = new FakeCluster();
        k2.workload("deployments", "cachemachine", "cachemachine", { app: "cachemachine" });
        const file = path.join(k2.dir, "objects/deployments/cachemachine/cachemachine.json");
        fs.writeFileSync(file, JSON.stringify({ metadata: { name: "cachemachine" }, status: { conditions: [{ type: "Available", status: "True" }] } }));
        const available = { type: "k8s", kubectl: FAKE_KUBECTL, resource: "deployments", namespace: "cachemachine", condition: "Available", equals: "True" };
        const ok = await runLsstStep("probe-gate", { what: "cachemachine is available", probe: available, timeoutSeconds: 2 }, k2.env).result;
        assert.equal(ok.ready, true);
    });
});
