// test-needs: kubernetes-control-plane
/**
 * `kubectl logs` against the lab's kwok pods. The API server proxies a log request to the node's kubelet
 * endpoint (kubernetes pkg/kubelet/client/kubelet_client.go GetConnectionInfo: the preferred address and
 * status.daemonEndpoints.kubeletEndpoint.Port), here kwok's server, which answers from the log file of the
 * first rule matching the pod: its Logs object (by pod name) before any ClusterLogs (by namespace and name),
 * and an error for a pod no rule matches (kwok v0.8.0 pkg/kwok/server/debugging_logs.go getPodLogs).
 */
import * as assert from "assert";
import { stringify } from "yaml";
import { observe } from "../../cli/step/lsst/probes";
import { Probe } from "../../components/lsst/probes";
import { KubeLab, LSST_POD_LOGS, startKubeLab } from "../support/kube-lab";

const INSTANCE = "app.kubernetes.io/instance";

function sleep(ms: number): Promise<void> {
    return new Promise(resolve => setTimeout(resolve, ms));
}

function workload(kind: "DaemonSet" | "Deployment", name: string, namespace: string, containers: string[]): string {
    const labels = { [INSTANCE]: name, app: name };
    return stringify({
        apiVersion: "apps/v1", kind, metadata: { name, namespace, labels },
        spec: {
            ...(kind === "Deployment" ? { replicas: 2 } : {}),
            selector: { matchLabels: { app: name } },
            template: { metadata: { labels }, spec: { containers: containers.map(c => ({ name: c, image: `lab/${c}:1` })) } },
        },
    });
}

describe("pod logs in the Kubernetes lab (kwok's server as the node's kubelet)", function () {
    this.timeout(300_000);
    let lab: KubeLab;
    before(async () => { lab = await startKubeLab({ podLogs: LSST_POD_LOGS }); });
    after(async () => { await lab?.stop(); });

    /** The names of the Running pods of a selector once there are `count`. */
    async function runningPods(namespace: string, selector: string, count: number): Promise<string[]> {
        const until = Date.now() + 60_000;
        for (;;) {
            const list = JSON.parse(await lab.kubectl(["get", "pods", "-n", namespace, "-l", selector, "-o", "json"])) as
                { items: { metadata: { name: string }; status?: { phase?: string } }[] };
            const running = list.items.filter(p => p.status?.phase === "Running").map(p => p.metadata.name).sort();
            if (running.length === count) return running;
            if (Date.now() > until) throw new Error(`pods ${selector} in ${namespace}: ${running.length} Running, want ${count}`);
            await sleep(200);
        }
    }

    it("a DaemonSet pod created after the rule says the namespace's lines in order, for each container (--all-containers, as the daemonsReady probe asks)", async () => {
        await lab.kubectl(["create", "namespace", "ospl-daemon"]);
        await lab.kubectl(["apply", "-f", "-"], { input: workload("DaemonSet", "ospl-daemon", "ospl-daemon", ["daemon", "sidecar"]) });
        const [pod] = await runningPods("ospl-daemon", `${INSTANCE}=ospl-daemon`, 1);
        assert.strictEqual(await lab.kubectl(["logs", pod, "-n", "ospl-daemon"]),
            "ospl-daemon: starting the domain\ndaemon ready\n");
        assert.strictEqual(await lab.kubectl(["logs", pod, "-n", "ospl-daemon", "--all-containers=true"]),
            "ospl-daemon: starting the domain\ndaemon ready\nospl-daemon: starting the domain\ndaemon ready\n");
        // The gate's own probe (cli/step/lsst/probes.ts k8s-logs), as components/lsst/steps.ts builds it.
        const probe: Probe = { type: "k8s-logs", kubectl: `kubectl --context ${lab.context}`, namespace: "ospl-daemon",
            selector: `${INSTANCE}=ospl-daemon`, pattern: "daemon ready" };
        const seen = await observe(probe, { ...process.env, ...lab.env }, 60_000);
        assert.deepStrictEqual([seen.ready, seen.state, seen.notReady], [true, "1/1 pods app.kubernetes.io/instance=ospl-daemon match /daemon ready/", []]);
    });

    it("`kubectl logs --tail 1` of a Deployment pod is the last line, and a new rule for the namespace changes the logs of its running pods", async () => {
        await lab.kubectl(["create", "namespace", "kafka-producers"]);
        await lab.kubectl(["apply", "-f", "-"], { input: workload("Deployment", "kafka-producers", "kafka-producers", ["producer"]) });
        const pods = await runningPods("kafka-producers", `${INSTANCE}=kafka-producers`, 2);
        for (const pod of pods) {
            assert.strictEqual(await lab.kubectl(["logs", pod, "-n", "kafka-producers", "--tail", "1"]), "Running\n");
            assert.strictEqual(await lab.kubectl(["logs", pod, "-n", "kafka-producers"]), "kafka producer: connecting to the broker\nRunning\n");
        }
        const probe: Probe = { type: "k8s-logs", kubectl: `kubectl --context ${lab.context}`, namespace: "kafka-producers",
            selector: `${INSTANCE}=kafka-producers`, pattern: "^Running$", tail: 1 };
        const env = { ...process.env, ...lab.env };
        assert.strictEqual((await observe(probe, env, 60_000)).ready, true);

        await lab.podLogs([{ namespace: "kafka-producers", lines: ["Running", "lost the broker: reconnecting"] }]);
        assert.strictEqual(await lab.kubectl(["logs", pods[0], "-n", "kafka-producers", "--tail", "1"]), "lost the broker: reconnecting\n");
        const seen = await observe(probe, env, 60_000);
        assert.deepStrictEqual([seen.ready, seen.notReady], [false,
            pods.map(p => `${p} (last line: "lost the broker: reconnecting")`)]);
    });

    it("a pod's own rule wins over its namespace's; a rule for a namespace given while the lab runs covers pods created later", async () => {
        await lab.kubectl(["create", "namespace", "love"]);
        await lab.podLogs([
            { namespace: "love", lines: ["love-manager: up"] },
            { namespace: "ospl-daemon", pod: "ospl-probe", lines: ["only this pod"] },
        ]);
        await lab.kubectl(["apply", "-f", "-"], { input: workload("Deployment", "love-manager", "love", ["manager"]) });
        await lab.kubectl(["apply", "-f", "-"], { input: stringify({
            apiVersion: "v1", kind: "Pod", metadata: { name: "ospl-probe", namespace: "ospl-daemon", labels: { app: "ospl-probe" } },
            spec: { containers: [{ name: "probe", image: "lab/probe:1" }] },
        }) });
        const [love] = await runningPods("love", "app=love-manager", 2);
        await runningPods("ospl-daemon", "app=ospl-probe", 1);
        assert.strictEqual(await lab.kubectl(["logs", love, "-n", "love"]), "love-manager: up\n");
        assert.strictEqual(await lab.kubectl(["logs", "ospl-probe", "-n", "ospl-daemon"]), "only this pod\n");
        const [daemon] = await runningPods("ospl-daemon", `${INSTANCE}=ospl-daemon`, 1);
        assert.strictEqual(await lab.kubectl(["logs", daemon, "-n", "ospl-daemon", "-c", "daemon"]), "ospl-daemon: starting the domain\ndaemon ready\n");
    });

    it("a pod no rule matches has no log: kubectl logs fails with kwok's error", async () => {
        await lab.kubectl(["apply", "-f", "-"], { input: workload("Deployment", "quiet", "default", ["quiet"]) });
        const [pod] = await runningPods("default", "app=quiet", 2);
        await assert.rejects(lab.kubectl(["logs", pod, "-n", "default"]), (err: Error) => {
            assert.ok(err.message.endsWith(`: Error from server (BadRequest): no logs found for container "quiet" in pod "default/${pod}"`), err.message);
            return true;
        });
    });
});
