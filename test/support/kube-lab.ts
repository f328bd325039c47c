/**
 * A real Kubernetes control plane on loopback for the tests and the lab: etcd, kube-apiserver,
 * kube-controller-manager, kube-scheduler (built by scripts/kubernetes/build.sh, cached) and kwok, which
 * plays the kubelet of one fake Node so that Deployments, Jobs and DaemonSets get Running pods. The Argo CD
 * Application CRD (argo-cd v3.5.1) and the namespace `argocd` are installed; the real `kubectl` talks to it.
 *
 *   const lab = await startKubeLab();            // in before()
 *   await lab.kubectl(["get", "nodes"]);
 *   const argo = await lab.startArgoController({ sourceRoot });   // lab/argocd/controller.ts, its own process
 *   await lab.podLogs([{ namespace: "ospl-daemon", lines: ["daemon ready"] }]);   // what `kubectl logs` shows
 *   await lab.stop();                             // in after(): every process, then the folder
 *
 * Every server runs in its own process group (its PID is the group's), logs to DIR/logs/<name>.log and is
 * listed in DIR/pids; `stop()` ends the groups and removes DIR. If the test process exits without
 * calling stop(), an exit hook kills them (never for a lab started to outlive its caller: `keep`).
 */
import { execFile, execFileSync, spawn } from "child_process";
import * as fs from "fs";
import * as https from "https";
import * as os from "os";
import * as path from "path";
import { randomBytes } from "crypto";
import { stringify } from "yaml";
import { freePort } from "./ports";

const ROOT = path.join(__dirname, "..", "..");
/** The Argo CD Application CRD of argo-cd v3.5.1 (a shared read-only copy next to the repository). */
export const APPLICATION_CRD = path.join(ROOT, "..", "shared", "data", "argocd", "application-crd.yaml");
const SERVERS = ["etcd", "kube-apiserver", "kube-controller-manager", "kube-scheduler", "kwok"] as const;
export const LAB_CONTEXT = "lab";
export const LAB_NODE = "lab-node-1";
/** Pods of a Job carrying this annotation (value "true") complete; without it they keep running, as a CSC does. */
export const JOB_COMPLETES = "lab.upgrade-as-code/job-completes";
/** Pods of a Job carrying this annotation (value "true") fail with exit code 1. */
export const JOB_FAILS = "lab.upgrade-as-code/job-fails";

/**
 * What `kubectl logs` shows for pods of a namespace (every pod, also those created later), or for one pod by
 * name. kwok matches its log rules by namespace and pod name only (kwok v0.8.0
 * pkg/apis/internalversion/object_selector.go), so there is no label selector. A pod's rule wins over its
 * namespace's; every container of a matched pod has the same lines. A pod no rule matches has no log:
 * `kubectl logs` fails (kwok: "no logs found for container ...").
 */
export interface PodLogRule {
    namespace: string;
    pod?: string;
    lines: string[];
}

/** The logs the LSST runbook's gates read: OSPL daemons say "daemon ready", kafka producers end with "Running". */
export const LSST_POD_LOGS: PodLogRule[] = [
    { namespace: "ospl-daemon", lines: ["ospl-daemon: starting the domain", "daemon ready"] },
    { namespace: "kafka-producers", lines: ["kafka producer: connecting to the broker", "Running"] },
];

export interface KubeLab {
    dir: string;
    /** A kubeconfig file whose current context is `context` (admin: a token in system:masters). */
    kubeconfig: string;
    context: string;
    /** https://127.0.0.1:<port> */
    server: string;
    /** Runs the real kubectl against the lab; resolves to stdout, rejects with stderr. */
    kubectl(args: string[], opts?: { input?: string }): Promise<string>;
    /** KUBECONFIG for child processes. */
    env: Record<string, string>;
    /**
     * Gives pods their logs (see PodLogRule); a rule replaces an earlier one for the same namespace (or pod).
     * Resolves once kwok serves the lines. A rule naming a pod needs its namespace to exist.
     */
    podLogs(rules: PodLogRule[]): Promise<void>;
    /** Starts lab/argocd/controller.ts against the lab (stopped by stop() too). */
    startArgoController(opts: ArgoControllerOptions): Promise<ArgoController>;
    stop(): Promise<void>;
}

export interface ArgoControllerOptions {
    /** The folder standing in for the apps' git repository: an Application's manifests are `<sourceRoot>/<spec.source.path>/*.yaml`. */
    sourceRoot: string;
    /** How often the controller looks at the Applications and their objects (default 500 ms). */
    intervalMs?: number;
}

export interface ArgoController {
    pid: number;
    log: string;
    stop(): Promise<void>;
}

/** The folder of the control plane's binaries: UPGRADE_KUBE_BIN, else the project's build (a no-op when cached). */
export function kubeBinDir(): string {
    let bin = process.env.UPGRADE_KUBE_BIN;
    if (!bin) {
        const out = execFileSync("bash", [path.join(ROOT, "scripts", "kubernetes", "build.sh")],
            { cwd: ROOT, encoding: "utf8", stdio: ["ignore", "pipe", "inherit"] });
        bin = out.trim().split("\n").pop() ?? "";
    }
    const missing = SERVERS.filter(b => !fs.existsSync(path.join(bin!, b)));
    if (missing.length) throw new Error(`the Kubernetes lab needs ${missing.join(", ")} in ${bin} (scripts/kubernetes/build.sh builds them)`);
    return bin;
}

function run(cmd: string, args: string[], opts: { cwd?: string; input?: string; env?: NodeJS.ProcessEnv } = {}): Promise<string> {
    return new Promise((resolve, reject) => {
        const child = execFile(cmd, args, { cwd: opts.cwd, env: opts.env ?? process.env, maxBuffer: 256 * 1024 * 1024 }, (err, stdout, stderr) => {
            if (err) reject(new Error(`${path.basename(cmd)} ${args.join(" ")}: ${(String(stderr).trim() || err.message).slice(0, 4000)}`));
            else resolve(String(stdout));
        });
        if (opts.input !== undefined) child.stdin!.end(opts.input);
    });
}

/** A CA, the serving certificates of the API server (loopback and the in-cluster names) and of kwok's server, and the service-account key pair. */
async function makeCertificates(pki: string): Promise<void> {
    fs.mkdirSync(pki, { recursive: true });
    const ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"];
    const at = (f: string) => path.join(pki, f);
    await run("openssl", ["req", "-x509", ...ec, "-keyout", at("ca.key"), "-out", at("ca.crt"), "-days", "30", "-subj", "/CN=upgrade-as-code-lab-ca"]);
    await run("openssl", ["req", "-new", ...ec, "-keyout", at("apiserver.key"), "-out", at("apiserver.csr"), "-subj", "/CN=kube-apiserver"]);
    fs.writeFileSync(at("apiserver.ext"), "subjectAltName=IP:127.0.0.1,IP:10.0.0.1,DNS:localhost,DNS:kubernetes,DNS:kubernetes.default,"
        + "DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local\nextendedKeyUsage=serverAuth\n");
    await run("openssl", ["x509", "-req", "-in", at("apiserver.csr"), "-CA", at("ca.crt"), "-CAkey", at("ca.key"), "-CAcreateserial",
        "-out", at("apiserver.crt"), "-days", "30", "-extfile", at("apiserver.ext")]);
    // kwok's server stands in for the node's kubelet: the API server connects to it on loopback (the node's InternalIP).
    await run("openssl", ["req", "-new", ...ec, "-keyout", at("kubelet.key"), "-out", at("kubelet.csr"), "-subj", `/CN=${LAB_NODE}`]);
    fs.writeFileSync(at("kubelet.ext"), `subjectAltName=IP:127.0.0.1,DNS:${LAB_NODE}\nextendedKeyUsage=serverAuth\n`);
    await run("openssl", ["x509", "-req", "-in", at("kubelet.csr"), "-CA", at("ca.crt"), "-CAkey", at("ca.key"), "-CAcreateserial",
        "-out", at("kubelet.crt"), "-days", "30", "-extfile", at("kubelet.ext")]);
    await run("openssl", ["ecparam", "-name", "prime256v1", "-genkey", "-noout", "-out", at("sa.key")]);
    await run("openssl", ["ec", "-in", at("sa.key"), "-pubout", "-out", at("sa.pub")]);
}

/** A kubeconfig with everything inline (the CA too), so its text alone is enough (a Pulumi provider's `kubeconfig`). */
function kubeconfigFor(server: string, ca: string, user: string, token: string, context = LAB_CONTEXT): string {
    return stringify({
        apiVersion: "v1", kind: "Config",
        clusters: [{ name: context, cluster: { server, "certificate-authority-data": Buffer.from(fs.readFileSync(ca)).toString("base64") } }],
        users: [{ name: user, user: { token } }],
        contexts: [{ name: context, context: { cluster: context, user } }],
        "current-context": context,
    });
}

/**
 * kwok's stages, after kwok v0.8.0 kustomize/stage (node/fast/node-initialize, node/heartbeat/node-heartbeat,
 * pod/fast/pod-ready, pod/fast/pod-complete, pod/fast/pod-delete). Ours differ in one way: a Job's pod
 * keeps running unless its Job asks otherwise (JOB_COMPLETES / JOB_FAILS on the pod template), since a
 * CSC's Job runs for as long as the CSC does.
 */
function stages(): string {
    const nodeConditions = `      conditions:
      {{ range NodeConditions }}
      - lastHeartbeatTime: {{ $now | Quote }}
        lastTransitionTime: {{ $lastTransitionTime | Quote }}
        message: {{ .message | Quote }}
        reason: {{ .reason | Quote }}
        status: {{ .status | Quote }}
        type: {{ .type | Quote }}
      {{ end }}`;
    const terminated = (exitCode: number, reason: string, phase: string) => `      {{ $now := Now }}
      containerStatuses:
      {{ range .spec.containers }}
      - image: {{ .image | Quote }}
        name: {{ .name | Quote }}
        ready: false
        restartCount: 0
        started: false
        state:
          terminated:
            exitCode: ${exitCode}
            finishedAt: {{ $now | Quote }}
            reason: ${reason}
            startedAt: {{ $now | Quote }}
      {{ end }}
      phase: ${phase}`;
    const jobPod = (annotation: string) => `    - key: '.metadata.deletionTimestamp'
      operator: 'DoesNotExist'
    - key: '.status.phase'
      operator: 'In'
      values: ['Running']
    - key: '.metadata.ownerReferences.[].kind'
      operator: 'In'
      values: ['Job']
    - key: '.metadata.annotations["${annotation}"]'
      operator: 'In'
      values: ['true']`;
    return `apiVersion: kwok.x-k8s.io/v1alpha1
kind: Stage
metadata:
  name: node-initialize
spec:
  resourceRef: {apiGroup: v1, kind: Node}
  selector:
    matchExpressions:
    - key: '.status.conditions.[] | select( .type == "Ready" ) | .status'
      operator: 'NotIn'
      values: ['True']
  next:
    statusTemplate: |
      {{ $now := Now }}
      {{ $lastTransitionTime := or .metadata.creationTimestamp $now }}
${nodeConditions}
      addresses:
      {{ with NodeIP }}
      - address: {{ . | Quote }}
        type: InternalIP
      {{ end }}
      {{ with NodeName }}
      - address: {{ . | Quote }}
        type: Hostname
      {{ end }}
      {{ with NodePort }}
      daemonEndpoints:
        kubeletEndpoint:
          Port: {{ . }}
      {{ end }}
      allocatable:
        cpu: 1k
        memory: 1Ti
        pods: 1M
      capacity:
        cpu: 1k
        memory: 1Ti
        pods: 1M
      nodeInfo:
        architecture: amd64
        containerRuntimeVersion: kwok
        kernelVersion: kwok
        kubeProxyVersion: kwok
        kubeletVersion: kwok
        operatingSystem: linux
      phase: Running
---
apiVersion: kwok.x-k8s.io/v1alpha1
kind: Stage
metadata:
  name: node-heartbeat
spec:
  resourceRef: {apiGroup: v1, kind: Node}
  selector:
    matchExpressions:
    - key: '.status.phase'
      operator: 'In'
      values: ['Running']
    - key: '.status.conditions.[] | select( .type == "Ready" ) | .status'
      operator: 'In'
      values: ['True']
  delay:
    durationMilliseconds: 20000
    jitterDurationMilliseconds: 25000
  next:
    statusTemplate: |
      {{ $now := Now }}
      {{ $lastTransitionTime := or .metadata.creationTimestamp $now }}
${nodeConditions}
  immediateNextStage: true
---
apiVersion: kwok.x-k8s.io/v1alpha1
kind: Stage
metadata:
  name: pod-ready
spec:
  resourceRef: {apiGroup: v1, kind: Pod}
  selector:
    matchExpressions:
    - key: '.metadata.deletionTimestamp'
      operator: 'DoesNotExist'
    - key: '.status.phase'
      operator: 'In'
      values: ['Pending']
    - key: '.status.conditions.[] | select( .type == "Ready" ) | .status'
      operator: 'NotIn'
      values: ['True']
  next:
    statusTemplate: |
      {{ $now := Now }}
      conditions:
      - lastTransitionTime: {{ $now | Quote }}
        status: "True"
        type: Initialized
      - lastTransitionTime: {{ $now | Quote }}
        status: "True"
        type: Ready
      - lastTransitionTime: {{ $now | Quote }}
        status: "True"
        type: ContainersReady
      containerStatuses:
      {{ range .spec.containers }}
      - image: {{ .image | Quote }}
        name: {{ .name | Quote }}
        ready: true
        restartCount: 0
        started: true
        state:
          running:
            startedAt: {{ $now | Quote }}
      {{ end }}
      {{ $hostIPs := NodeIPsWith .spec.nodeName }}
      {{ with $hostIPs }}
      hostIP: {{ index . 0 | Quote }}
      hostIPs:
      {{ range . }}
      - ip: {{ . | Quote }}
      {{ end }}
      {{ end }}
      {{ $podIPs := PodIPsWith .spec.nodeName ( or .spec.hostNetwork false ) ( or .metadata.uid "" ) ( or .metadata.name "" ) ( or .metadata.namespace "" ) }}
      {{ with $podIPs }}
      podIP: {{ index . 0 | Quote }}
      podIPs:
      {{ range . }}
      - ip: {{ . | Quote }}
      {{ end }}
      {{ end }}
      phase: Running
      startTime: {{ $now | Quote }}
---
apiVersion: kwok.x-k8s.io/v1alpha1
kind: Stage
metadata:
  name: pod-complete
spec:
  resourceRef: {apiGroup: v1, kind: Pod}
  selector:
    matchExpressions:
${jobPod(JOB_COMPLETES)}
  next:
    statusTemplate: |
${terminated(0, "Completed", "Succeeded")}
---
apiVersion: kwok.x-k8s.io/v1alpha1
kind: Stage
metadata:
  name: pod-failed
spec:
  resourceRef: {apiGroup: v1, kind: Pod}
  selector:
    matchExpressions:
${jobPod(JOB_FAILS)}
  next:
    statusTemplate: |
${terminated(1, "Error", "Failed")}
---
apiVersion: kwok.x-k8s.io/v1alpha1
kind: Stage
metadata:
  name: pod-delete
spec:
  resourceRef: {apiGroup: v1, kind: Pod}
  selector:
    matchExpressions:
    - key: '.metadata.deletionTimestamp'
      operator: 'Exists'
  next:
    delete: true
`;
}

/**
 * kwok's Logs and ClusterLogs kinds (kwok.x-k8s.io/v1alpha1, names and scopes as kwok v0.8.0
 * kustomize/crd/bases declares them), which kwok watches with --enable-crds: rules change while it runs
 * (a --config file is read once at start, and restarting kwok while pods exist breaks their status patches).
 */
function logRuleCrds(): string {
    const crd = (kind: string, plural: string, scope: string) => ({
        apiVersion: "apiextensions.k8s.io/v1", kind: "CustomResourceDefinition",
        metadata: { name: `${plural}.kwok.x-k8s.io` },
        spec: {
            group: "kwok.x-k8s.io", scope,
            names: { kind, listKind: `${kind}List`, plural, singular: plural },
            versions: [{
                name: "v1alpha1", served: true, storage: true, subresources: { status: {} },
                schema: { openAPIV3Schema: { type: "object", "x-kubernetes-preserve-unknown-fields": true } },
            }],
        },
    });
    return [crd("ClusterLogs", "clusterlogs", "Cluster"), crd("Logs", "logs", "Namespaced")].map(o => stringify(o)).join("---\n");
}

/** A container log file as the kubelet's CRI runtime writes it (what kwok reads): `<time> stdout F <line>`. */
function criLog(lines: string[], time = new Date()): string {
    const bad = lines.find(l => /[\r\n]/.test(l));
    if (bad !== undefined) throw new Error(`a pod log line cannot hold a line break: ${JSON.stringify(bad)}`);
    return lines.map(l => `${time.toISOString()} stdout F ${l}\n`).join("");
}

/** The pod name kwok is asked for to see a namespace's rule served (kwok answers for any name). */
const LOG_PROBE_POD = "lab-log-rule-probe";

interface Server {
    name: string;
    pid: number;
    exited: Promise<void>;
    done: boolean;
}

function logTail(file: string, lines = 30): string {
    try {
        return fs.readFileSync(file, "utf8").trimEnd().split("\n").slice(-lines).join("\n");
    } catch {
        return "(no log)";
    }
}

function sleep(ms: number): Promise<void> {
    return new Promise(resolve => setTimeout(resolve, ms));
}

function processAlive(pid: number): boolean {
    try {
        process.kill(pid, 0);
        return true;
    } catch {
        return false;
    }
}

/** Ends a process group: TERM, then KILL after a grace period. */
async function endGroup(pid: number, exited: () => boolean, graceMs = 5000): Promise<void> {
    try { process.kill(-pid, "SIGTERM"); } catch { return; }
    const until = Date.now() + graceMs;
    while (!exited() && Date.now() < until) await sleep(50);
    try { process.kill(-pid, "SIGKILL"); } catch { /* gone */ }
    while (!exited() && Date.now() < until + 2000) await sleep(50);
}

/** A GET on the API server with the admin token: the status code and body, or 0 when it does not answer. */
function apiGet(server: string, ca: string, token: string, urlPath: string): Promise<{ status: number; body: string }> {
    return new Promise(resolve => {
        const req = https.get(`${server}${urlPath}`, { ca, headers: { Authorization: `Bearer ${token}` }, timeout: 5000 }, res => {
            let body = "";
            res.on("data", c => (body += c));
            res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
        });
        req.on("error", () => resolve({ status: 0, body: "" }));
        req.on("timeout", () => req.destroy());
    });
}

/** A GET on kwok's server (no authentication): the status code and body, or 0 when it does not answer. */
function kwokGet(base: string, ca: string, urlPath: string): Promise<{ status: number; body: string }> {
    return new Promise(resolve => {
        const req = https.get(`${base}${urlPath}`, { ca, timeout: 5000 }, res => {
            let body = "";
            res.on("data", c => (body += c));
            res.on("end", () => resolve({ status: res.statusCode ?? 0, body }));
        });
        req.on("error", () => resolve({ status: 0, body: "" }));
        req.on("timeout", () => req.destroy());
    });
}

export interface StartKubeLabOptions {
    /** The lab's folder (made when missing); a new temporary folder by default. stop() removes it. */
    dir?: string;
    /** Leave the servers running when this process exits (scripts/kubernetes/lab.sh start). */
    keep?: boolean;
    /** How long the whole start may take (default 180 s: a loaded 2-core machine). */
    timeoutMs?: number;
    /** The name of the admin kubeconfig's context (and cluster), e.g. a site's `--context` (default "lab"). */
    context?: string;
    /** Pod log rules given at start (lab.podLogs), e.g. LSST_POD_LOGS; none by default. */
    podLogs?: PodLogRule[];
}

export async function startKubeLab(opts: StartKubeLabOptions = {}): Promise<KubeLab> {
    const bin = kubeBinDir();
    const context = opts.context ?? LAB_CONTEXT;
    for (const tool of ["kubectl", "openssl"]) {
        try { execFileSync("sh", ["-c", `command -v ${tool}`], { stdio: "ignore" }); } catch { throw new Error(`the Kubernetes lab needs ${tool} on PATH`); }
    }
    const dir = opts.dir ? path.resolve(opts.dir) : fs.mkdtempSync(path.join(os.tmpdir(), "kube-lab-"));
    fs.mkdirSync(path.join(dir, "logs"), { recursive: true });
    const deadline = Date.now() + (opts.timeoutMs ?? 180_000);
    const servers: Server[] = [];
    const controllers: ArgoController[] = [];
    const at = (...p: string[]) => path.join(dir, ...p);
    const pidsFile = at("pids");

    const killAllNow = () => { for (const s of servers) if (!s.done) { try { process.kill(-s.pid, "SIGKILL"); } catch { /* gone */ } } };
    if (!opts.keep) process.on("exit", killAllNow);

    const startServer = (name: string, args: string[], env: NodeJS.ProcessEnv = process.env): Server => {
        const log = fs.openSync(at("logs", `${name}.log`), "a");
        const child = spawn(path.join(bin, name), args, { cwd: dir, env, detached: true, stdio: ["ignore", log, log] });
        fs.closeSync(log);
        child.on("error", () => undefined);
        if (!child.pid) throw new Error(`could not start ${name}`);
        const server: Server = { name, pid: child.pid, done: false, exited: new Promise(resolve => child.on("exit", () => { server.done = true; resolve(); })) };
        if (opts.keep) child.unref();
        servers.push(server);
        fs.appendFileSync(pidsFile, `${child.pid} ${name}\n`);
        return server;
    };

    let stopped = false;
    const stop = async (): Promise<void> => {
        if (stopped) return;
        stopped = true;
        for (const c of controllers.splice(0).reverse()) await c.stop();
        for (const s of [...servers].reverse()) await endGroup(s.pid, () => s.done);
        process.removeListener("exit", killAllNow);
        fs.rmSync(dir, { recursive: true, force: true });
    };

    try {
        const waitFor = async (what: string, check: () => Promise<boolean>, watched: Server[], until = deadline): Promise<void> => {
            while (!(await check())) {
                const dead = watched.find(s => s.done);
                if (dead) throw new Error(`${dead.name} exited while waiting for ${what}:\n${logTail(at("logs", `${dead.name}.log`))}`);
                if (Date.now() > until) throw new Error(`the Kubernetes lab timed out waiting for ${what} (logs in ${at("logs")})`);
                await sleep(200);
            }
        };

        await makeCertificates(at("pki"));
        const ca = at("pki", "ca.crt");
        const tokens = { admin: randomBytes(16).toString("hex"), kcm: randomBytes(16).toString("hex"), scheduler: randomBytes(16).toString("hex") };
        fs.writeFileSync(at("pki", "tokens.csv"), [
            `${tokens.admin},lab-admin,lab-admin,"system:masters"`,
            `${tokens.kcm},system:kube-controller-manager,system:kube-controller-manager`,
            `${tokens.scheduler},system:kube-scheduler,system:kube-scheduler`,
        ].join("\n") + "\n", { mode: 0o600 });

        const [etcdClient, etcdPeer, apiPort, kubeletPort] = [await freePort(), await freePort(), await freePort(), await freePort()];
        const etcd = startServer("etcd", [
            "--name", "lab", "--data-dir", at("etcd"), "--unsafe-no-fsync",
            "--listen-client-urls", `http://127.0.0.1:${etcdClient}`, "--advertise-client-urls", `http://127.0.0.1:${etcdClient}`,
            "--listen-peer-urls", `http://127.0.0.1:${etcdPeer}`, "--initial-advertise-peer-urls", `http://127.0.0.1:${etcdPeer}`,
            "--initial-cluster", `lab=http://127.0.0.1:${etcdPeer}`, "--log-level", "warn",
        ]);
        const server = `https://127.0.0.1:${apiPort}`;
        const apiserver = startServer("kube-apiserver", [
            `--etcd-servers=http://127.0.0.1:${etcdClient}`,
            "--bind-address=127.0.0.1", "--advertise-address=127.0.0.1", `--secure-port=${apiPort}`,
            `--tls-cert-file=${at("pki", "apiserver.crt")}`, `--tls-private-key-file=${at("pki", "apiserver.key")}`, `--client-ca-file=${ca}`,
            `--token-auth-file=${at("pki", "tokens.csv")}`, "--authorization-mode=RBAC",
            "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
            `--service-account-key-file=${at("pki", "sa.pub")}`, `--service-account-signing-key-file=${at("pki", "sa.key")}`,
            "--service-cluster-ip-range=10.0.0.0/24", "--endpoint-reconciler-type=none", "--allow-privileged=true",
            `--cert-dir=${at("pki")}`, "--profiling=false",
            // `kubectl logs` goes through the API server to the node's kubelet endpoint, here kwok's server on
            // loopback: by the node's InternalIP only (the default order tries a Hostname first), its certificate checked
            // against the lab's CA (without a CA the API server would not check it at all).
            "--kubelet-preferred-address-types=InternalIP", `--kubelet-certificate-authority=${ca}`,
        ]);
        const caText = fs.readFileSync(ca, "utf8");
        await waitFor("kube-apiserver /readyz", async () => (await apiGet(server, caText, tokens.admin, "/readyz")).status === 200, [etcd, apiserver]);

        const kubeconfig = at("kubeconfig");
        fs.writeFileSync(kubeconfig, kubeconfigFor(server, ca, "lab-admin", tokens.admin, context), { mode: 0o600 });
        fs.writeFileSync(at("kcm.kubeconfig"), kubeconfigFor(server, ca, "system:kube-controller-manager", tokens.kcm), { mode: 0o600 });
        fs.writeFileSync(at("scheduler.kubeconfig"), kubeconfigFor(server, ca, "system:kube-scheduler", tokens.scheduler), { mode: 0o600 });
        fs.writeFileSync(at("stages.yaml"), stages());
        const kubectl = (args: string[], o: { input?: string } = {}) =>
            run("kubectl", ["--kubeconfig", kubeconfig, "--context", context, ...args], { input: o.input });
        // kwok lists its log rules when it starts: their kinds must be served by then.
        await kubectl(["apply", "-f", "-"], { input: logRuleCrds() });
        await kubectl(["wait", "--for=condition=Established", "--timeout=60s", "crd/clusterlogs.kwok.x-k8s.io", "crd/logs.kwok.x-k8s.io"]);

        // Each controller with its own service account (as kubeadm runs it): the role of
        // system:kube-controller-manager alone does not cover the controllers.
        // Secure ports 0: no HTTPS endpoints (nothing scrapes them), so no ports to share between labs.
        const kcm = startServer("kube-controller-manager", [
            `--kubeconfig=${at("kcm.kubeconfig")}`, "--controllers=*,-nodeipam,-cloud-node-lifecycle", "--leader-elect=false",
            `--service-account-private-key-file=${at("pki", "sa.key")}`, `--root-ca-file=${ca}`, "--use-service-account-credentials=true",
            `--cluster-signing-cert-file=${ca}`, `--cluster-signing-key-file=${at("pki", "ca.key")}`, "--secure-port=0",
            "--service-cluster-ip-range=10.0.0.0/24",
        ]);
        const scheduler = startServer("kube-scheduler", [`--kubeconfig=${at("scheduler.kubeconfig")}`, "--leader-elect=false", "--secure-port=0"]);
        // kwok reads ~/.kwok/kwok.yaml when it exists: a HOME of the lab's own keeps an operator's config out.
        // Its server is the fake node's kubelet (container logs): the node's InternalIP and kubelet port are
        // its address, set by the node-initialize stage from --node-ip and --node-port.
        const kwok = startServer("kwok", [
            `--kubeconfig=${kubeconfig}`, "--manage-all-nodes=true", `--config=${at("stages.yaml")}`, "--cidr=10.244.0.0/16",
            "--node-ip=127.0.0.1", `--node-port=${kubeletPort}`, `--server-address=127.0.0.1:${kubeletPort}`,
            `--tls-cert-file=${at("pki", "kubelet.crt")}`, `--tls-private-key-file=${at("pki", "kubelet.key")}`,
            "--enable-crds=ClusterLogs,Logs",
        ], { ...process.env, HOME: dir });
        const kubelet = `https://127.0.0.1:${kubeletPort}`;
        const all = [etcd, apiserver, kcm, scheduler, kwok];

        await kubectl(["apply", "-f", "-"], { input: stringify({
            apiVersion: "v1", kind: "Node",
            metadata: { name: LAB_NODE, annotations: { "node.alpha.kubernetes.io/ttl": "0", "kwok.x-k8s.io/node": "fake" },
                labels: { "kubernetes.io/hostname": LAB_NODE, "kubernetes.io/os": "linux", "kubernetes.io/arch": "amd64", type: "kwok" } },
        }) });
        // The CRD is too large for client-side apply's last-applied annotation.
        await kubectl(["apply", "--server-side", "-f", APPLICATION_CRD]);
        await kubectl(["create", "namespace", "argocd"]);
        await waitFor("the Application CRD to be established", async () => {
            const crd = JSON.parse(await kubectl(["get", "crd", "applications.argoproj.io", "-o", "json"])) as { status?: { conditions?: { type: string; status: string }[] } };
            return Boolean(crd.status?.conditions?.some(c => c.type === "Established" && c.status === "True"));
        }, all);
        // Ready and untainted (the node lifecycle controller lifts the not-ready taint), and the
        // service-account controller at work: pods can be scheduled and admitted.
        await waitFor(`node ${LAB_NODE} to be ready`, async () => {
            const node = JSON.parse(await kubectl(["get", "node", LAB_NODE, "-o", "json"])) as
                { spec?: { taints?: unknown[] }; status?: { conditions?: { type: string; status: string }[] } };
            const ready = node.status?.conditions?.some(c => c.type === "Ready" && c.status === "True");
            return Boolean(ready) && !(node.spec?.taints ?? []).length;
        }, all);
        await waitFor("the default service account", async () =>
            (await apiGet(server, caText, tokens.admin, "/api/v1/namespaces/default/serviceaccounts/default")).status === 200, all);
        await waitFor("kwok's server", async () => (await kwokGet(kubelet, caText, "/healthz")).status === 200, all);

        fs.mkdirSync(at("pod-logs"), { recursive: true });
        const podLogs = async (rules: PodLogRule[]): Promise<void> => {
            for (const rule of rules) {
                // Namespace and pod names are DNS names: no slashes, and "_" cannot occur in either.
                const file = at("pod-logs", rule.pod ? `${rule.namespace}_${rule.pod}.log` : `${rule.namespace}.log`);
                // Written whole, then renamed: kwok may be reading the old one.
                fs.writeFileSync(`${file}.new`, criLog(rule.lines));
                fs.renameSync(`${file}.new`, file);
                const logs = [{ logsFile: file }];
                await kubectl(["apply", "-f", "-"], { input: JSON.stringify(rule.pod
                    ? { apiVersion: "kwok.x-k8s.io/v1alpha1", kind: "Logs", metadata: { name: rule.pod, namespace: rule.namespace }, spec: { logs } }
                    : { apiVersion: "kwok.x-k8s.io/v1alpha1", kind: "ClusterLogs", metadata: { name: `lab-namespace-${rule.namespace}` },
                        spec: { selector: { matchNamespaces: [rule.namespace] }, logs } }) });
            }
            // kwok sees a new rule through its watch a moment later; its server answers for any pod name.
            const until = Date.now() + 60_000;
            for (const rule of rules) {
                const want = rule.lines.map(l => `${l}\n`).join("");
                const urlPath = `/containerLogs/${encodeURIComponent(rule.namespace)}/${encodeURIComponent(rule.pod ?? LOG_PROBE_POD)}/lab`;
                await waitFor(`kwok to serve the logs of ${rule.namespace}/${rule.pod ?? "*"}`, async () => {
                    const r = await kwokGet(kubelet, caText, urlPath);
                    return r.status === 200 && r.body === want;
                }, all, until);
            }
        };
        if (opts.podLogs) await podLogs(opts.podLogs);

        const startArgoController = async (o: ArgoControllerOptions): Promise<ArgoController> => {
            const log = at("logs", `argocd-controller-${controllers.length + 1}.log`);
            const fd = fs.openSync(log, "a");
            const child = spawn(process.execPath, [path.join(ROOT, "lab", "argocd", "start-controller.js"),
                "--kubeconfig", kubeconfig, "--context", context, "--source-root", path.resolve(o.sourceRoot),
                ...(o.intervalMs ? ["--interval-ms", String(o.intervalMs)] : [])],
            { cwd: ROOT, env: { ...process.env, KUBECONFIG: kubeconfig }, detached: true, stdio: ["ignore", fd, fd] });
            fs.closeSync(fd);
            if (opts.keep) child.unref();
            const pid = child.pid!;
            const entry: Server = { name: "argocd-controller", pid, done: false, exited: new Promise(r => child.on("exit", () => { entry.done = true; r(); })) };
            servers.push(entry);
            fs.appendFileSync(pidsFile, `${pid} argocd-controller\n`);
            const handle: ArgoController = {
                pid, log,
                stop: async () => { await endGroup(pid, () => entry.done); },
            };
            controllers.push(handle);
            // Started when it has written its first line (it logs once it has read the Applications).
            const until = Date.now() + 60_000;
            while (!entry.done && !/controller started/.test(logTail(log, 5)) && Date.now() < until) await sleep(100);
            if (entry.done) throw new Error(`the Argo CD controller exited:\n${logTail(log)}`);
            return handle;
        };

        return { dir, kubeconfig, context, server, kubectl, env: { KUBECONFIG: kubeconfig }, podLogs, startArgoController, stop };
    } catch (err) {
        const logs = fs.existsSync(at("logs")) ? ` (logs: ${at("logs")})` : "";
        const message = err instanceof Error ? err.message : String(err);
        // Keep the logs of a failed start for reading: move them out before the folder goes.
        let kept = "";
        try {
            const keep = fs.mkdtempSync(path.join(os.tmpdir(), "kube-lab-failed-"));
            fs.cpSync(at("logs"), keep, { recursive: true });
            kept = ` (logs kept in ${keep})`;
        } catch { /* nothing to keep */ }
        await stop();
        throw new Error(`${message}${kept || logs}`);
    }
}

/** Stops a lab started with `keep` by another process (scripts/kubernetes/lab.sh stop DIR): every group in DIR/pids, then DIR. */
export async function stopKubeLabDir(dir: string): Promise<void> {
    const pidsFile = path.join(dir, "pids");
    const pids = fs.existsSync(pidsFile)
        ? fs.readFileSync(pidsFile, "utf8").split("\n").filter(Boolean).map(l => Number(l.split(" ")[0])).filter(n => n > 0)
        : [];
    for (const pid of pids.reverse()) await endGroup(pid, () => !processAlive(pid));
    fs.rmSync(dir, { recursive: true, force: true });
}

/**
 * scripts/kubernetes/lab.sh: `start DIR [SOURCE_ROOT]` (prints the kubeconfig; the servers, and with SOURCE_ROOT
 * the Argo CD controller, outlive this process; pods have LSST_POD_LOGS), `stop DIR`.
 */
export async function main(argv: string[]): Promise<number> {
    const [command, dir, sourceRoot] = argv;
    if (!dir || (command !== "start" && command !== "stop")) {
        process.stderr.write("usage: lab.sh start DIR [SOURCE_ROOT] | stop DIR\n");
        return 2;
    }
    if (command === "stop") {
        await stopKubeLabDir(dir);
        return 0;
    }
    // The operator's lab plays an LSST site: its pods say what the runbook's log gates wait for.
    const lab = await startKubeLab({ dir, keep: true, podLogs: LSST_POD_LOGS });
    if (sourceRoot) await lab.startArgoController({ sourceRoot });
    process.stdout.write(`KUBECONFIG=${lab.kubeconfig}\n`);
    return 0;
}
