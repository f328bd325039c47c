// test-needs: kubernetes-control-plane
import * as assert from "assert";
import * as fs from "fs";
import * as path from "path";
import { parse } from "yaml";
import { KubeLab, LAB_NODE, startKubeLab } from "../support/kube-lab";

const alive = (pid: number): boolean => {
    try {
        process.kill(pid, 0);
        return true;
    } catch {
        return false;
    }
};

describe("the Kubernetes lab (test/support/kube-lab.ts)", function () {
    this.timeout(300_000);
    let lab: KubeLab | undefined;
    after(async () => { await lab?.stop(); });

    it("serves the real kubectl on loopback with a ready node and Argo CD's CRD, and stop() ends every server and removes its folder", async () => {
        lab = await startKubeLab({ context: "summit" });
        assert.match(lab.server, /^https:\/\/127\.0\.0\.1:\d+$/);
        // A self-contained kubeconfig whose context is the one asked for (a site's --context).
        const kubeconfig = parse(fs.readFileSync(lab.kubeconfig, "utf8")) as { "current-context": string; clusters: { cluster: Record<string, string> }[] };
        assert.strictEqual(kubeconfig["current-context"], "summit");
        assert.deepStrictEqual(Object.keys(kubeconfig.clusters[0].cluster).sort(), ["certificate-authority-data", "server"]);
        assert.strictEqual(lab.context, "summit");
        const nodes = JSON.parse(await lab.kubectl(["get", "nodes", "-o", "json"])) as { items: { metadata: { name: string } }[] };
        assert.deepStrictEqual(nodes.items.map(n => n.metadata.name), [LAB_NODE]);
        // Its kubelet endpoint is kwok's server on loopback (test/argocd/pod-logs.test.ts reads logs through it).
        const node = JSON.parse(await lab.kubectl(["get", "node", LAB_NODE, "-o", "json"])) as
            { status: { addresses: { type: string; address: string }[]; daemonEndpoints: { kubeletEndpoint: { Port: number } } } };
        assert.deepStrictEqual(node.status.addresses, [{ type: "InternalIP", address: "127.0.0.1" }]);
        assert.ok(node.status.daemonEndpoints.kubeletEndpoint.Port > 0);
        assert.strictEqual((await lab.kubectl(["get", "crd", "applications.argoproj.io", "-o", "jsonpath={.spec.names.kind}"])), "Application");
        assert.strictEqual((await lab.kubectl(["get", "namespace", "argocd", "-o", "jsonpath={.status.phase}"])), "Active");
        await assert.rejects(lab.kubectl(["get", "configmap", "nothing-here", "-n", "default"]), /NotFound.*"nothing-here" not found/);

        const pids = fs.readFileSync(path.join(lab.dir, "pids"), "utf8").trim().split("\n").map(l => l.split(" "));
        assert.deepStrictEqual(pids.map(p => p[1]), ["etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "kwok"]);
        assert.ok(pids.every(p => alive(Number(p[0]))));
        const dir = lab.dir;
        await lab.stop();
        lab = undefined;
        assert.deepStrictEqual(pids.filter(p => alive(Number(p[0]))), []);
        assert.strictEqual(fs.existsSync(dir), false);
    });
});
