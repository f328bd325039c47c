/** The lab Argo CD controller's way to the API server: the real kubectl, and what discovery says of each kind. */
import { execFile } from "child_process";

/** kubectl's stderr as the message; what it printed on stdout before failing (the objects it did apply). */
export class KubectlError extends Error {
    constructor(message: string, readonly stdout = "") {
        super(message);
    }
}

export type Kubectl = (args: string[], input?: string) => Promise<string>;

export function kubectlFor(kubeconfig: string, context: string, bin = process.env.UPGRADE_KUBECTL || "kubectl"): Kubectl {
    return (args, input) => new Promise((resolve, reject) => {
        const child = execFile(bin, ["--kubeconfig", kubeconfig, "--context", context, ...args], { maxBuffer: 256 * 1024 * 1024 }, (err, stdout, stderr) => {
            if (err) reject(new KubectlError(String(stderr).trim() || err.message, String(stdout)));
            else resolve(String(stdout));
        });
        if (input !== undefined) child.stdin!.end(input);
        else child.stdin!.end();
    });
}

export interface KindInfo {
    /** What `kubectl get` takes: `jobs.batch`, `pods`. */
    resource: string;
    namespaced: boolean;
}

/** The API server's kinds (`kubectl api-resources`), looked up again when a kind is not known yet (a CRD just installed). */
export class Discovery {
    private kinds = new Map<string, KindInfo>();
    private loadedAt = 0;

    constructor(private readonly kubectl: Kubectl) {}

    async refresh(): Promise<void> {
        const out = await this.kubectl(["api-resources", "--no-headers"]);
        const kinds = new Map<string, KindInfo>();
        for (const line of out.split("\n")) {
            // NAME [SHORTNAMES] APIVERSION NAMESPACED KIND
            const cols = line.trim().split(/\s+/);
            if (cols.length < 4) continue;
            const [kind, namespaced, apiVersion] = [cols[cols.length - 1], cols[cols.length - 2], cols[cols.length - 3]];
            const group = apiVersion.includes("/") ? apiVersion.slice(0, apiVersion.indexOf("/")) : "";
            kinds.set(`${group}/${kind}`, { resource: group ? `${cols[0]}.${group}` : cols[0], namespaced: namespaced === "true" });
        }
        this.kinds = kinds;
        this.loadedAt = Date.now();
    }

    /** The kind's resource and scope; undefined when the API server does not serve it. */
    async lookup(group: string, kind: string): Promise<KindInfo | undefined> {
        const key = `${group}/${kind}`;
        if (!this.kinds.has(key) && Date.now() - this.loadedAt > 2000) await this.refresh();
        return this.kinds.get(key);
    }
}
