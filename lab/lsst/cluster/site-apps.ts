/**
 * An LSST site's Argo CD applications for the lab cluster, shaped after lsst-ts/argocd-csc (apps/<app>,
 * one chart per collector: each child Application runs one CSC as a long-running Job) and phalanx's
 * nublado (cachemachine, a Deployment). The lab's Argo CD controller (lab/argocd) reads each app's
 * manifests from `<sourceRoot>/<spec.source.path>`, standing in for the git repository.
 */
import * as fs from "fs";
import * as path from "path";
import { stringify } from "yaml";

type Doc = Record<string, unknown>;

/** The children of each app of apps (argocd-csc apps/<collector>/values-<site>.yaml, abridged). */
export const LAB_CHILDREN: Record<string, string[]> = {
    love: ["love-manager", "love-frontend"],
    obssys: ["watcher", "scriptqueue1", "scriptqueue2"],
    auxtel: ["atdome", "atmcs", "atpneumatics"],
    calsys: ["tunablelaser"],
    dmocps: ["atocps", "ccocps"],
    eas: ["ess1"],
    maintel: ["mtmount", "mtm1m3"],
};

/** Where each app's workloads run. */
const NAMESPACE: Record<string, string> = {
    "csc-cluster-config": "argocd", "ospl-config": "ospl-daemon", "ospl-daemon": "ospl-daemon",
    "kafka-producers": "kafka-producers", love: "love", obssys: "obssys", auxtel: "auxtel", calsys: "calsys",
    dmocps: "uws", eas: "eas", maintel: "maintel", test42: "control-system-test", cachemachine: "nublado",
};
const REPO = "https://github.com/lsst-ts/argocd-csc.git";
/** Which of the CSC namespaces cleanup_all covers: csc-cluster-config makes them, as upstream's chart does. */
const CSC_NAMESPACES = ["auxtel", "calsys", "control-system-test", "eas", "love", "maintel", "obssys", "uws",
    "kafka-producers", "ospl-daemon", "nublado"];

export function application(name: string, sourcePath: string, namespace: string, labels: Record<string, string> = {}): Doc {
    return {
        apiVersion: "argoproj.io/v1alpha1", kind: "Application",
        metadata: { name, namespace: "argocd", ...(Object.keys(labels).length ? { labels } : {}) },
        spec: {
            project: "default",
            source: { repoURL: REPO, path: sourcePath, targetRevision: "HEAD" },
            destination: { server: "https://kubernetes.default.svc", namespace },
            syncPolicy: { syncOptions: ["CreateNamespace=true"] },
        },
    };
}

/** A CSC: a Job whose pod runs as long as the CSC does (Argo CD: Progressing). */
function cscJob(name: string, labels: Record<string, string> = {}): Doc {
    return {
        apiVersion: "batch/v1", kind: "Job", metadata: { name, labels: { csc: name, ...labels } },
        spec: {
            backoffLimit: 0,
            template: {
                metadata: { labels: { csc: name, ...labels } },
                spec: { restartPolicy: "Never", containers: [{ name, image: `ts-dockerhub.lsst.org/${name}:c0034` }] },
            },
        },
    };
}

function deployment(name: string, labels: Record<string, string>, replicas = 1): Doc {
    return {
        apiVersion: "apps/v1", kind: "Deployment", metadata: { name, labels },
        spec: {
            replicas, selector: { matchLabels: labels },
            template: { metadata: { labels }, spec: { containers: [{ name, image: `lsstts/${name}:c0034` }] } },
        },
    };
}

/** The manifests of every app, by source path. */
function manifests(): Record<string, Doc[]> {
    const out: Record<string, Doc[]> = {
        "apps/csc-cluster-config": CSC_NAMESPACES.map(n => ({ apiVersion: "v1", kind: "Namespace", metadata: { name: n } })),
        "apps/ospl-config": [{ apiVersion: "v1", kind: "ConfigMap", metadata: { name: "ospl-config" }, data: { "ospl.xml": "<OpenSplice/>" } }],
        "apps/ospl-daemon": [{
            apiVersion: "apps/v1", kind: "DaemonSet", metadata: { name: "ospl-daemon" },
            spec: {
                selector: { matchLabels: { "app.kubernetes.io/instance": "ospl-daemon" } },
                template: {
                    metadata: { labels: { "app.kubernetes.io/instance": "ospl-daemon" } },
                    spec: { containers: [{ name: "ospl-daemon", image: "lsstts/ospl-daemon:c0034" }] },
                },
            },
        }],
        "apps/kafka-producers": ["mtm1m3", "atdome"].map(p => deployment(`kafka-producer-${p}`,
            { "app.kubernetes.io/instance": "kafka-producers", producer: p })),
        "apps/test42": [cscJob("test42")],
        "apps/cachemachine": [deployment("cachemachine", { app: "cachemachine" })],
    };
    for (const [parent, children] of Object.entries(LAB_CHILDREN)) {
        out[`apps/${parent}`] = children.map(c => application(c, `apps/${parent}/${c}`, NAMESPACE[parent]));
        for (const c of children) {
            out[`apps/${parent}/${c}`] = parent === "love"
                ? [deployment(c, { app: c })]
                : [cscJob(c, parent === "dmocps" ? {} : {})];
        }
    }
    return out;
}

/**
 * Writes the source folder and returns the site's top-level Applications (what the cluster holds before
 * the upgrade), for `kubectl apply`.
 */
export function writeSiteApps(sourceRoot: string, apps: string[]): Doc[] {
    for (const [rel, docs] of Object.entries(manifests())) {
        const dir = path.join(sourceRoot, rel);
        fs.mkdirSync(dir, { recursive: true });
        fs.writeFileSync(path.join(dir, "manifests.yaml"), docs.map(d => stringify(d)).join("---\n"));
    }
    return apps.map(a => {
        if (!(a in NAMESPACE)) throw new Error(`the lab has no manifests for the application ${a}`);
        return application(a, `apps/${a}`, NAMESPACE[a]);
    });
}
