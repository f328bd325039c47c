// test-needs: kubernetes-control-plane
/**
 * The API server's check of the LSST patches during `pulumi preview` (components/kubernetes/server-dry-run.ts),
 * run as the engine runs it (node bin/step-shell.js) against a real control plane (test/support/kube-lab.ts)
 * with the real Argo CD Application CRD (argo-cd v3.5.1).
 *
 * Why it exists: pulumi-kubernetes v4.25.0 does not preview a Patch resource (provider/pkg/provider/provider.go,
 * Create: "3: The resource is a Patch resource"), so nothing else asks the API server before `pulumi up`.
 */
import { strict as assert } from "assert";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { stringify } from "yaml";
import { application } from "../../lab/lsst/cluster/site-apps";
import { applicationSyncPatch } from "../../components/kubernetes/argocd-sync";
import { dryRunShellLine, DryRunReport, readDryRun, unreachableText, verdictText } from "../../components/kubernetes/server-dry-run";
import { KubeLab, startKubeLab } from "../support/kube-lab";

const ROOT = path.resolve(__dirname, "..", "..");

type Patch = { resource: string; name: string; namespace: string; manifest: string };

const syncPatch = (app: string, over: (m: Record<string, unknown>) => void = () => undefined): Patch => {
    const m = applicationSyncPatch({ app, namespace: "argocd", run: "0123456789abcdef", initiatedBy: "upgrade-as-code", reason: "test", needs: "synced", timeoutSeconds: 60 }) as Record<string, unknown>;
    over(m);
    return { resource: "applications.argoproj.io", name: app, namespace: "argocd", manifest: JSON.stringify(m) };
};

/** The line through the step-shell launcher, as the engine's command:local:run invoke runs it. */
function runLine(line: string, env: Record<string, string> = {}): string {
    const r = spawnSync("node", ["bin/step-shell.js", line], { cwd: ROOT, encoding: "utf8", env: { ...process.env, ...env } });
    assert.equal(r.status, 0, r.stderr);
    return r.stdout;
}

describe("the API server's dry run of a site's patches (real control plane)", function () {
    this.timeout(300_000);
    let lab: KubeLab;
    let tmp: string;
    const app = async (name: string) => JSON.parse(await lab.kubectl(["get", "applications.argoproj.io", name, "-n", "argocd", "-o", "json"])) as
        { metadata: { managedFields?: { manager: string }[] }; operation?: unknown };

    before(async () => {
        lab = await startKubeLab();
        tmp = fs.mkdtempSync(path.join(os.tmpdir(), "dry-run-"));
        await lab.kubectl(["apply", "-f", "-"], { input: [application("obssys", "apps/obssys", "obssys"), application("test42", "apps/test42", "test42")].map(a => stringify(a)).join("---\n") });
    });
    after(async () => {
        try {
            await lab?.stop();
        } finally {
            if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
        }
    });

    it("accepts a good patch, names a missing Application and the schema's refusal, one answer per patch; nothing changes", async () => {
        const patches = [
            syncPatch("obssys"),
            syncPatch("auxtel"),
            // The CRD's schema: operation.sync.prune is a boolean.
            syncPatch("test42", m => { (m.operation as { sync: Record<string, unknown> }).sync.prune = "yes"; }),
        ];
        const report = readDryRun(runLine(dryRunShellLine({ kubeconfigPath: lab.kubeconfig, context: lab.context }, patches)), patches.length);
        assert.equal(report.status, "checked");
        const verdicts = (report as Extract<DryRunReport, { status: "checked" }>).verdicts;
        assert.deepEqual(verdicts.map(v => v.status), ["accepted", "missing", "refused"]);
        assert.equal(verdictText(patches[0], verdicts[0]), "server-side dry run: the API server accepts the patch of applications.argoproj.io argocd/obssys");
        assert.match(verdictText(patches[1], verdicts[1]),
            /^applications\.argoproj\.io argocd\/auxtel cannot be patched: it is not on the cluster \(Error from server \(NotFound\): applications\.argoproj\.io "auxtel" not found\)$/);
        assert.match(verdictText(patches[2], verdicts[2]), /^the API server refuses the patch of applications\.argoproj\.io argocd\/test42: .*operation\.sync\.prune.*boolean/);
        // A Deployment an earlier sync of the same update brings (the cachemachine restart's) is not refused for being absent.
        const later = { resource: "deployments.apps", name: "cachemachine", namespace: "nublado", mayComeLater: true };
        assert.equal(verdictText(later, { status: "missing", message: `Error from server (NotFound): namespaces "nublado" not found` }),
            `deployments.apps nublado/cachemachine is not on the cluster yet, so its patch was not checked (an earlier step may create it): ` +
            `Error from server (NotFound): namespaces "nublado" not found`);
        // A dry run stores nothing: no operation, and no field manager of the preview's.
        for (const name of ["obssys", "test42"]) {
            const a = await app(name);
            assert.equal(a.operation, undefined, `${name} has no operation`);
            assert.ok(!(a.metadata.managedFields ?? []).some(f => f.manager.startsWith("upgrade-as-code")), JSON.stringify(a.metadata.managedFields));
        }
    });

    it("refuses what the kubeconfig's user may not patch (RBAC), as `pulumi up` would fail", async () => {
        // A user that may read Applications but not patch them.
        await lab.kubectl(["apply", "-f", "-"], { input: [
            { apiVersion: "v1", kind: "ServiceAccount", metadata: { name: "viewer", namespace: "argocd" } },
            { apiVersion: "rbac.authorization.k8s.io/v1", kind: "Role", metadata: { name: "app-viewer", namespace: "argocd" },
                rules: [{ apiGroups: ["argoproj.io"], resources: ["applications"], verbs: ["get", "list"] }] },
            { apiVersion: "rbac.authorization.k8s.io/v1", kind: "RoleBinding", metadata: { name: "app-viewer", namespace: "argocd" },
                roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "Role", name: "app-viewer" },
                subjects: [{ kind: "ServiceAccount", name: "viewer", namespace: "argocd" }] },
        ].map(d => stringify(d)).join("---\n") });
        const token = (await lab.kubectl(["create", "token", "viewer", "-n", "argocd"])).trim();
        const kubeconfig = path.join(tmp, "viewer.kubeconfig");
        const admin = JSON.parse(await lab.kubectl(["config", "view", "--raw", "-o", "json"])) as
            { clusters: { name: string; cluster: Record<string, unknown> }[] };
        fs.writeFileSync(kubeconfig, stringify({
            apiVersion: "v1", kind: "Config", "current-context": "viewer", clusters: admin.clusters,
            contexts: [{ name: "viewer", context: { cluster: admin.clusters[0].name, user: "viewer" } }],
            users: [{ name: "viewer", user: { token } }],
        }), { mode: 0o600 });
        const patches = [syncPatch("obssys")];
        const report = readDryRun(runLine(dryRunShellLine({ kubeconfigPath: kubeconfig, context: "viewer" }, patches)), 1) as Extract<DryRunReport, { status: "checked" }>;
        assert.equal(report.status, "checked");
        assert.equal(report.verdicts[0].status, "refused");
        assert.match(verdictText(patches[0], report.verdicts[0]), /forbidden: User "system:serviceaccount:argocd:viewer" cannot patch resource "applications"/);
    });

    it("says the cluster cannot be reached, and checks nothing, when nothing answers", () => {
        const kubeconfig = path.join(tmp, "nowhere.kubeconfig");
        fs.writeFileSync(kubeconfig, stringify({
            apiVersion: "v1", kind: "Config", "current-context": "tts",
            clusters: [{ name: "tts", cluster: { server: "https://127.0.0.1:9" } }],
            contexts: [{ name: "tts", context: { cluster: "tts", user: "tts" } }],
            users: [{ name: "tts", user: { token: "none" } }],
        }));
        const report = readDryRun(runLine(dryRunShellLine({ kubeconfigPath: kubeconfig }, [syncPatch("obssys"), syncPatch("test42")])), 2);
        assert.equal(report.status, "unreachable");
        const text = unreachableText(2, (report as { message: string }).message);
        assert.match(text, /^the cluster cannot be reached, so the API server validated none of the 2 patches this preview shows \(The connection to the server 127\.0\.0\.1:9 was refused - did you specify the right host or port\?\)$/);
    });

    it("a hostile name or context from a stack file is one quoted word: nothing in it runs", () => {
        const mark = path.join(tmp, "pwned");
        const hostile = `obssys$(touch ${mark})\`touch ${mark}\`;touch ${mark}`;
        const patches = [{ ...syncPatch("obssys"), name: hostile, namespace: `argocd;touch ${mark}` }];
        const out = runLine(dryRunShellLine({ kubeconfigPath: lab.kubeconfig, context: `lab$(touch ${mark})` }, patches));
        assert.ok(!fs.existsSync(mark), "a value from the stack file ran as a command");
        // kubectl was asked for the context named by the whole value, which does not exist.
        const report = readDryRun(out, 1);
        assert.equal(report.status, "unreachable");
        assert.match((report as { message: string }).message, /context "lab\$\(touch .*pwned\)" does not exist/);
    });

    it("reads no answer under Pulumi's mocks as not run (plan answers the invoke without running it)", () => {
        assert.deepEqual(readDryRun(undefined, 3), { status: "not-run" });
        assert.deepEqual(readDryRun("!reachable\n", 1), { status: "checked", verdicts: [{ status: "refused", message: `the dry run gave no answer for this patch (output: "!reachable\\n")` }] });
    });
});
