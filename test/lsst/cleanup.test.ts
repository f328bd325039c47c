// test-needs: kubernetes-control-plane
/**
 * The `k8s-cleanup` step kind on a real control plane (test/support/kube-lab.ts: kwok plays the node, so the
 * Jobs, Deployments and DaemonSets have running pods) with the real kubectl: the lab's `cleanup_all -d`
 * (lab/lsst/k8s-admin, shaped after k8s-admin's) and small scripts that misbehave, run by the step as a
 * site runs them. The `kubectl` first on PATH is a wrapper that only records each call (its arguments and
 * KUBECONFIG) and then execs the real kubectl, which does the work.
 *
 * What it encodes, from lsst-ts/k8s-admin (d0c5cca4): helpers.py `acknowledge_deletion` asks
 * "y to proceed, any other key to exit" (no --yes flag anywhere) and exits 255 otherwise; every command
 * is plain `kubectl` on the current context (`kubectl config current-context`); `run_cmd` ignores
 * kubectl's exit status, so the script exits 0 whatever it deleted.
 */
import { strict as assert } from "assert";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { stringify } from "yaml";
import { CLEANUP_ALL_COVERS } from "../../components/config/lsst";
import { shellQuote } from "../../components/core/shell-quote";
import { KubeLab, startKubeLab } from "../support/kube-lab";
import { failureOf, LAB, realKubectl, runLsstStep, tmpDir } from "./support";

const CLEANUP_ALL = path.join(LAB, "k8s-admin", "cleanup_all");
/** Every object the tests make carries it: what is there is listed by it. */
const MARK = { "lab.upgrade-as-code/cleanup-test": "true" };
const NAMESPACES = ["obssys", "uws", "kafka-producers", "ospl-daemon"];
/** The operator's other site: nothing answers there, so a call on its context cannot delete anything. */
const DEAD_SERVER = "https://127.0.0.1:9";
/** The service account of the RBAC test: it may delete workloads in every covered namespace but this one. */
const STUCK_NAMESPACE = "kafka-producers";
const OPERATOR_SA = { name: "cleanup-operator", namespace: "default" };

const meta = (name: string, namespace: string, labels: Record<string, string> = {}) => ({ name, namespace, labels: { ...MARK, ...labels } });
/** One container whose image is never pulled: kwok only pretends to run it. */
const podSpec = (labels: Record<string, string>, restartPolicy: "Never" | "Always") =>
    ({ metadata: { labels }, spec: { restartPolicy, containers: [{ name: "csc", image: "lab/none:1" }] } });
const job = (name: string, namespace: string, labels: Record<string, string> = {}) =>
    ({ apiVersion: "batch/v1", kind: "Job", metadata: meta(name, namespace, labels), spec: { backoffLimit: 0, template: podSpec(labels, "Never") } });
const deployment = (name: string, namespace: string) => ({ apiVersion: "apps/v1", kind: "Deployment", metadata: meta(name, namespace),
    spec: { replicas: 1, selector: { matchLabels: { app: name } }, template: podSpec({ app: name }, "Always") } });
const daemonSet = (name: string, namespace: string) => ({ apiVersion: "apps/v1", kind: "DaemonSet", metadata: meta(name, namespace),
    spec: { selector: { matchLabels: { app: name } }, template: podSpec({ app: name }, "Always") } });

/** A site's workloads, and what a cleanup never deletes: the UWS server, a ConfigMap, the Argo CD Application. */
const OBJECTS = [
    ...NAMESPACES.map(name => ({ apiVersion: "v1", kind: "Namespace", metadata: { name } })),
    job("watcher", "obssys"),
    { apiVersion: "v1", kind: "ConfigMap", metadata: meta("watcher-config", "obssys"), data: { site: "tts" } },
    job("atocps", "uws", { csc: "atocps" }),
    job("uws-server", "uws", { app: "uws" }),
    deployment("producer-atdome", "kafka-producers"),
    daemonSet("ospl-daemon", "ospl-daemon"),
    { apiVersion: "argoproj.io/v1alpha1", kind: "Application", metadata: meta("obssys", "argocd"), spec: {
        project: "default", destination: { namespace: "obssys", server: "https://kubernetes.default.svc" },
        source: { repoURL: "https://github.com/lsst-ts/argocd-csc.git", path: "apps/obssys", targetRevision: "develop" } } },
];
const ALL = ["application/obssys in argocd", "configmap/watcher-config in obssys", "daemonset/ospl-daemon in ospl-daemon",
    "deployment/producer-atdome in kafka-producers", "job/atocps in uws", "job/uws-server in uws", "job/watcher in obssys"];
const KEPT = ["application/obssys in argocd", "configmap/watcher-config in obssys", "job/uws-server in uws"];

/** The covered namespaces of the misbehaving scripts: where the test's workloads are. */
const COVERS = [
    { namespace: "obssys", kinds: ["job"] },
    { namespace: "uws", kinds: ["job"], selector: "csc in (atocps, ccocps, raocps)" },
    { namespace: "kafka-producers", kinds: ["deployment"] },
    { namespace: "ospl-daemon", kinds: ["daemonset"] },
];
/** What the fall back runs for COVERS, in order. */
const FALLBACK_DELETES = [
    ["delete", "job", "-n", "obssys", "--all", "--ignore-not-found"],
    ["delete", "job", "-n", "uws", "-l", "csc in (atocps, ccocps, raocps)", "--ignore-not-found"],
    ["delete", "deployment", "-n", "kafka-producers", "--all", "--ignore-not-found"],
    ["delete", "daemonset", "-n", "ospl-daemon", "--all", "--ignore-not-found"],
];
const LEFT_BY_A_SCRIPT_THAT_DELETES_NOTHING = "job.batch/watcher in obssys, job.batch/atocps in uws, "
    + "deployment.apps/producer-atdome in kafka-producers, daemonset.apps/ospl-daemon in ospl-daemon";

/** cleanup_all's shape, for scripts that misbehave: the prompt, the current context printed, then plain kubectl whose status is ignored. */
const script = (deletes: string, exit = 0) => `read -r answer || { echo 'EOFError: EOF when reading a line' >&2; exit 1; }
[ "$answer" = y ] || { echo Exiting; exit 255; }
echo "Proceeding with $(kubectl config current-context) resource deletion."
${deletes}
exit ${exit}`;

const sleep = (ms: number) => new Promise(r => setTimeout(r, ms));

/** The lab's server, CA and admin token, as its own kubeconfig holds them. */
interface LabAccess { server: string; caData: string; adminToken: string }

async function labAccess(lab: KubeLab): Promise<LabAccess> {
    const view = JSON.parse(await lab.kubectl(["config", "view", "--raw", "-o", "json"])) as {
        clusters: { cluster: { server: string; "certificate-authority-data": string } }[]; users: { user: { token: string } }[];
    };
    return { server: view.clusters[0].cluster.server, caData: view.clusters[0].cluster["certificate-authority-data"], adminToken: view.users[0].user.token };
}

/** The operator's kubeconfig: the site's context `tts` (the lab) and another site's, `summit`, which is the current one. */
function operatorKubeconfig(access: LabAccess, token: string, opts: { withoutTts?: boolean } = {}): string {
    return stringify({
        apiVersion: "v1", kind: "Config",
        clusters: [
            { name: "summit", cluster: { server: DEAD_SERVER } },
            { name: "tts", cluster: { server: access.server, "certificate-authority-data": access.caData } },
        ],
        users: [{ name: "summit-operator", user: { token: "not-a-real-token" } }, { name: "tts-operator", user: { token } }],
        contexts: [
            { name: "summit", context: { cluster: "summit", user: "summit-operator" } },
            ...(opts.withoutTts ? [] : [{ name: "tts", context: { cluster: "tts", user: "tts-operator" } }]),
        ],
        "current-context": "summit",
    });
}

interface Call { args: string[]; KUBECONFIG: string | null }

/** The operator's side of one run: a kubeconfig, and the recording kubectl first on PATH. */
class Operator {
    readonly dir = tmpDir("lsst-cleanup-");
    readonly kubeconfig = path.join(this.dir, "operator-kubeconfig");
    readonly kubectl = path.join(this.dir, "bin", "kubectl");
    private readonly callsLog = path.join(this.dir, "calls.log");

    constructor(kubeconfig: string) {
        fs.writeFileSync(this.kubeconfig, kubeconfig, { mode: 0o600 });
        fs.mkdirSync(path.dirname(this.kubectl));
        const record = `require("fs").appendFileSync(process.argv[1], JSON.stringify({ args: process.argv.slice(2), KUBECONFIG: process.env.KUBECONFIG ?? null }) + "\\n")`;
        fs.writeFileSync(this.kubectl, `#!/bin/bash
# Records the call, then the real kubectl does the work.
${shellQuote(process.execPath)} -e ${shellQuote(record)} -- ${shellQuote(this.callsLog)} "$@"
exec ${shellQuote(realKubectl())} "$@"
`, { mode: 0o755 });
    }

    get env(): Record<string, string> {
        return { KUBECONFIG: this.kubeconfig, PATH: `${path.dirname(this.kubectl)}:${process.env.PATH}` };
    }

    calls(): Call[] {
        return fs.existsSync(this.callsLog) ? fs.readFileSync(this.callsLog, "utf8").trim().split("\n").map(l => JSON.parse(l) as Call) : [];
    }

    /** `lsst.kubectl` is `kubectl --context tts`, as a stack names it. */
    run(command: string, covers: unknown[]) {
        return runLsstStep("k8s-cleanup", { command, kubectl: `${this.kubectl} --context tts`, context: "tts", answer: "y", covers }, this.env);
    }
}

/** The test's objects as `kind/name in namespace`, sorted, once none of them is being deleted. */
async function settled(lab: KubeLab): Promise<string[]> {
    for (const until = Date.now() + 120_000; ;) {
        const doc = JSON.parse(await lab.kubectl(["get", "jobs,deployments,daemonsets,configmaps,applications.argoproj.io", "-A",
            "-l", Object.entries(MARK).map(([k, v]) => `${k}=${v}`).join(","), "-o", "json"])) as
            { items: { kind: string; metadata: { name: string; namespace: string; deletionTimestamp?: string } }[] };
        const terminating = doc.items.filter(o => o.metadata.deletionTimestamp);
        if (!terminating.length) return doc.items.map(o => `${o.kind.toLowerCase()}/${o.metadata.name} in ${o.metadata.namespace}`).sort();
        if (Date.now() > until) assert.fail(`still being deleted: ${terminating.map(o => `${o.kind}/${o.metadata.name}`).join(", ")}`);
        await sleep(500);
    }
}

/** Every workload has its pod running (the Job active, the Deployment and the DaemonSet available). */
async function untilWorkloadsRun(lab: KubeLab): Promise<void> {
    for (const until = Date.now() + 120_000; ;) {
        const doc = JSON.parse(await lab.kubectl(["get", "jobs,deployments,daemonsets", "-A", "-l", Object.keys(MARK)[0], "-o", "json"])) as
            { items: { kind: string; metadata: { name: string }; status?: { active?: number; availableReplicas?: number; numberAvailable?: number } }[] };
        const idle = doc.items.filter(o => !((o.status?.active ?? o.status?.availableReplicas ?? o.status?.numberAvailable ?? 0) >= 1));
        if (doc.items.length === 5 && !idle.length) return;
        if (Date.now() > until) assert.fail(`workloads without a running pod: ${idle.map(o => `${o.kind}/${o.metadata.name}`).join(", ")}`);
        await sleep(500);
    }
}

/** A service account that may read the workloads everywhere and delete them in the covered namespaces but STUCK_NAMESPACE. */
async function restrictedOperatorToken(lab: KubeLab): Promise<string> {
    const rules = (verbs: string[]) => [
        { apiGroups: ["batch"], resources: ["jobs"], verbs },
        { apiGroups: ["apps"], resources: ["deployments", "daemonsets"], verbs },
        { apiGroups: ["autoscaling"], resources: ["horizontalpodautoscalers"], verbs },
    ];
    const subjects = [{ kind: "ServiceAccount", ...OPERATOR_SA }];
    const rbac = { apiVersion: "v1", kind: "List", items: [
        { apiVersion: "v1", kind: "ServiceAccount", metadata: OPERATOR_SA },
        // kubectl delete lists first, and watches the objects until they are gone.
        { apiVersion: "rbac.authorization.k8s.io/v1", kind: "ClusterRole", metadata: { name: "cleanup-read" }, rules: rules(["get", "list", "watch"]) },
        { apiVersion: "rbac.authorization.k8s.io/v1", kind: "ClusterRoleBinding", metadata: { name: "cleanup-read" },
            roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: "cleanup-read" }, subjects },
        { apiVersion: "rbac.authorization.k8s.io/v1", kind: "ClusterRole", metadata: { name: "cleanup-delete" }, rules: rules(["delete"]) },
        ...NAMESPACES.filter(ns => ns !== STUCK_NAMESPACE).map(namespace => ({
            apiVersion: "rbac.authorization.k8s.io/v1", kind: "RoleBinding", metadata: { name: "cleanup-delete", namespace },
            roleRef: { apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: "cleanup-delete" }, subjects })),
    ] };
    await lab.kubectl(["apply", "-f", "-"], { input: JSON.stringify(rbac) });
    return (await lab.kubectl(["create", "token", OPERATOR_SA.name, "-n", OPERATOR_SA.namespace])).trim();
}

/** Which kubeconfig a call used: the operator's, or the one the step made for the script. */
const byKubeconfig = (op: Operator, calls: Call[]) => calls.map(c => ({ args: c.args, kubeconfig: c.KUBECONFIG === op.kubeconfig ? "operator" : "site" }));
/** The step's own log lines, and the script's output it logs (indented). */
const stepLog = (logs: string[]) => logs.map(l => l.replace(/^\[t-k8s-cleanup\] /, ""));

describe("k8s-cleanup on a real control plane: cleanup_all -d with the site's context, its prompt answered, its effect checked", function () {
    this.timeout(300_000);
    let lab: KubeLab;
    let access: LabAccess;
    const dirs: string[] = [];
    const operator = (kubeconfig = operatorKubeconfig(access, access.adminToken)) => {
        const op = new Operator(kubeconfig);
        dirs.push(op.dir);
        return op;
    };

    before(async function () {
        lab = await startKubeLab();
        access = await labAccess(lab);
    });
    after(async function () {
        await lab?.stop();
        for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
    });
    // The same objects before each test: what a test deleted is made again (namespaces stay, deleting them is slow).
    beforeEach(async function () {
        await settled(lab);
        await lab.kubectl(["apply", "-f", "-"], { input: JSON.stringify({ apiVersion: "v1", kind: "List", items: OBJECTS }) });
        await untilWorkloadsRun(lab);
        assert.deepEqual(await settled(lab), ALL);
    });

    it("answers the prompt, runs k8s-admin's script with a kubeconfig holding the site's context only, leaves the operator's kubeconfig alone, then checks nothing is left", async () => {
        const op = operator();
        const before = fs.readFileSync(op.kubeconfig, "utf8");
        // What the script's kubeconfig holds, listed just before the script runs on it.
        const command = `kubectl config get-contexts -o name && ${shellQuote(CLEANUP_ALL)} -d`;
        const s = op.run(command, CLEANUP_ALL_COVERS);
        const r = await s.result;
        assert.deepEqual(r, { method: "script", left: [], checked: [
            "job in auxtel", "job in calsys", "job in calsys-lab", "job in control-system-test", "job in eas", "job in envsys",
            "deployment,job,hpa in love", "job in maintel", "job in simonyitel", "job in uws (csc in (atocps, ccocps, raocps))",
            "job in obssys", "job in dds-test", "deployment in kafka-producers", "daemonset in ospl-daemon"] });
        assert.deepEqual(await settled(lab), KEPT, "the UWS server, the ConfigMap and the Application stay");
        assert.equal(fs.readFileSync(op.kubeconfig, "utf8"), before, "the operator's kubeconfig is unchanged (current-context summit)");

        // The script's output, logged by the step: the contexts its kubeconfig holds, the current one, the prompt, kubectl's deletes in order.
        const nothingIn = (n: number) => Array<string>(n).fill("  No resources found");
        assert.deepEqual(stepLog(s.logs), [
            `running ${command} with KUBECONFIG holding context tts only, answering its prompt`,
            "  tts", "  Current context: tts",
            "  y to proceed, any other key to exit: No resources found", ...nothingIn(7), // auxtel, then calsys … simonyitel
            `  job.batch "watcher" deleted`, ...nothingIn(2), // obssys; dds-test, love
            `  job.batch "atocps" deleted`, `  deployment.apps "producer-atdome" deleted`, `  daemonset.apps "ospl-daemon" deleted`,
        ]);

        // The script's calls: plain kubectl on the step's kubeconfig, removed afterwards; the checks: lsst.kubectl on the operator's.
        const calls = op.calls();
        const siteKubeconfigs = [...new Set(calls.filter(c => c.KUBECONFIG !== op.kubeconfig).map(c => c.KUBECONFIG))];
        assert.equal(siteKubeconfigs.length, 1, JSON.stringify(calls));
        assert.ok(!fs.existsSync(siteKubeconfigs[0]!), "the site's kubeconfig is removed after the script");
        const jobsIn = (...namespaces: string[]) => namespaces.map(ns => ["delete", "job", "-n", ns, "--all"]);
        assert.deepEqual(byKubeconfig(op, calls), [
            { kubeconfig: "operator", args: ["--context", "tts", "config", "view", "--minify", "--flatten", "--context", "tts"] },
            { kubeconfig: "site", args: ["config", "get-contexts", "-o", "name"] },
            { kubeconfig: "site", args: ["config", "current-context"] },
            ...[...jobsIn("auxtel", "calsys", "calsys-lab", "control-system-test", "eas", "envsys", "maintel", "simonyitel", "obssys", "dds-test"),
                ["delete", "deployment,job,hpa", "-n", "love", "--all"],
                ["delete", "job", "-n", "uws", "-l", "csc in (atocps, ccocps, raocps)"],
                ["delete", "deployment", "-n", "kafka-producers", "--all"],
                ["delete", "daemonset", "-n", "ospl-daemon", "--all"]].map(args => ({ kubeconfig: "site", args })),
            ...CLEANUP_ALL_COVERS.map(c => ({ kubeconfig: "operator", args: ["--context", "tts",
                "get", c.kinds.join(","), "-n", c.namespace, ...(c.selector ? ["-l", c.selector] : []), "-o", "name"] })),
        ]);
    });

    it("a script that exits 0 but deletes nothing (another context, a missing namespace) is not trusted: the fall back deletes what is left", async () => {
        const op = operator();
        const command = script("kubectl delete job -n nowhere --all");
        const s = op.run(command, COVERS);
        const r = await s.result;
        assert.deepEqual(r, { method: "fallback", scriptError: `\`${command}\` left ${LEFT_BY_A_SCRIPT_THAT_DELETES_NOTHING}`,
            checked: ["job in obssys", "job in uws (csc in (atocps, ccocps, raocps))", "deployment in kafka-producers", "daemonset in ospl-daemon"], left: [] });
        assert.deepEqual(await settled(lab), KEPT, "the UWS server, the ConfigMap and the Application stay");
        const log = stepLog(s.logs);
        assert.ok(log.includes(`the script exited 0 but left ${LEFT_BY_A_SCRIPT_THAT_DELETES_NOTHING}: deleting them (the applications stay)`), log.join("\n"));
        assert.deepEqual(log.filter(l => / deleted$/.test(l)), [`obssys: job.batch "watcher" deleted`, `uws: job.batch "atocps" deleted`,
            `kafka-producers: deployment.apps "producer-atdome" deleted`, `ospl-daemon: daemonset.apps "ospl-daemon" deleted`]);
        const deletes = byKubeconfig(op, op.calls()).filter(c => c.args.includes("delete"));
        assert.deepEqual(deletes, [
            { kubeconfig: "site", args: ["delete", "job", "-n", "nowhere", "--all"] },
            ...FALLBACK_DELETES.map(args => ({ kubeconfig: "operator", args: ["--context", "tts", ...args] })),
        ]);
    });

    it("a failing script (the prompt not answered y) falls back to the same namespaces", async () => {
        const op = operator();
        const command = script(`kubectl delete job -n obssys --all`).replace('[ "$answer" = y ]', '[ "$answer" = yes ]');
        const r = await op.run(command, COVERS).result;
        assert.equal(r.method, "fallback");
        assert.equal(r.scriptError, `\`${command}\` exited 255: Exiting`);
        assert.deepEqual(await settled(lab), KEPT);
        const deletes = byKubeconfig(op, op.calls()).filter(c => c.args.includes("delete"));
        assert.deepEqual(deletes, FALLBACK_DELETES.map(args => ({ kubeconfig: "operator", args: ["--context", "tts", ...args] })), "the script deleted nothing");
    });

    it("fails naming what is still there when the fall back cannot delete it either (RBAC refuses it in one namespace)", async () => {
        const op = operator(operatorKubeconfig(access, await restrictedOperatorToken(lab)));
        const command = script("", 1);
        const message = await failureOf(op.run(command, COVERS).result);
        const user = `system:serviceaccount:${OPERATOR_SA.namespace}:${OPERATOR_SA.name}`;
        const refusal = `Error from server (Forbidden): deployments.apps "producer-atdome" is forbidden: User "${user}" `
            + `cannot delete resource "deployments" in API group "apps" in the namespace "kafka-producers"`;
        // The step's message carries the API server's whole refusal (kubectl's last line).
        assert.equal(message, `the cleanup script did not clean up (\`${command}\` exited 1: Proceeding with tts resource deletion.) and neither did the fall back:\n`
            + `  \`${op.kubectl} --context tts delete deployment -n kafka-producers --all --ignore-not-found\` exited 1: ${refusal}\n`
            + "  still there: deployment.apps/producer-atdome in kafka-producers");
        // The whole refusal, as the API server gives it to the same user.
        const again = spawnSync(realKubectl(), ["--context", "tts", "delete", "deployment", "-n", "kafka-producers", "--all"],
            { encoding: "utf8", env: { ...process.env, KUBECONFIG: op.kubeconfig } });
        assert.deepEqual([again.status, again.stderr.trim()], [1, refusal]);
        // The same user could delete in the other namespaces.
        assert.deepEqual(await settled(lab), [...KEPT, "deployment/producer-atdome in kafka-producers"].sort());
    });

    it("refuses to delete anything but workloads, before running anything", async () => {
        const op = operator();
        const message = await failureOf(op.run(script("kubectl delete application -n argocd --all"), [{ namespace: "argocd", kinds: ["application"] }]).result);
        assert.equal(message, "refusing to delete application: the cleanup deletes job/deployment/daemonset/hpa only, never the application itself");
        assert.deepEqual(op.calls(), [], "no kubectl call at all");
        assert.deepEqual(await settled(lab), ALL);
    });

    it("names the site's context when the kubeconfig does not have it", async () => {
        const op = operator(operatorKubeconfig(access, access.adminToken, { withoutTts: true }));
        const message = await failureOf(op.run(`${shellQuote(CLEANUP_ALL)} -d`, CLEANUP_ALL_COVERS).result);
        assert.equal(message, `cannot make a kubeconfig with the site's context tts only: ${op.kubectl} --context tts config view --minify --flatten --context tts: `
            + "error: cannot locate context tts");
        assert.deepEqual(op.calls().map(c => c.args), [["--context", "tts", "config", "view", "--minify", "--flatten", "--context", "tts"]], "only the config call, the script never ran");
        assert.deepEqual(await settled(lab), ALL, "nothing was deleted");
    });
});
