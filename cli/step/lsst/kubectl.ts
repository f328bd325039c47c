import { exec, ExecResult, lastLine } from "./exec";

export class KubectlError extends Error {
    constructor(message: string, readonly notFound: boolean) {
        super(message);
        this.name = "KubectlError";
    }
}

// The objects kubectl prints: plain JSON documents.
export type K8sObject = Record<string, any>;

/**
 * kubectl as configured for the site (`lsst.kubectl`, e.g. `kubectl --context tts`): a command line
 * prefix split on spaces, run without a shell.
 */
export class Kubectl {
    private readonly argv: string[];

    constructor(readonly prefix: string, private readonly env: NodeJS.ProcessEnv = process.env) {
        this.argv = prefix.trim().split(/\s+/).filter(Boolean);
        if (this.argv.length === 0) throw new Error("the kubectl command line is empty");
    }

    line(args: string[]): string {
        return [this.prefix, ...args.map(a => (/^[\w@%+=:,./-]+$/.test(a) ? a : `'${a.replace(/'/g, "'\\''")}'`))].join(" ");
    }

    run(args: string[], timeoutMs = 60000): Promise<ExecResult> {
        return exec([...this.argv, ...args], { env: this.env, timeoutMs });
    }

    /** Run and require exit 0. */
    async ok(args: string[], timeoutMs = 60000): Promise<string> {
        const r = await this.run(args, timeoutMs);
        if (r.code !== 0) {
            const why = r.timedOut ? "no answer in time" : lastLine(r.stderr) || lastLine(r.stdout) || `exit ${r.code}`;
            throw new KubectlError(`${this.line(args)}: ${why}`, /NotFound|not found/.test(r.stderr));
        }
        return r.stdout;
    }

    async json(args: string[], timeoutMs = 60000): Promise<K8sObject> {
        const out = await this.ok([...args, "-o", "json"], timeoutMs);
        try {
            return JSON.parse(out) as K8sObject;
        } catch {
            throw new KubectlError(`${this.line([...args, "-o", "json"])}: the output is not JSON: ${lastLine(out)}`, false);
        }
    }

    /** `get <resource> -n <namespace> [-l <selector>]`: the items. */
    async list(resource: string, namespace: string, selector?: string, timeoutMs = 60000): Promise<K8sObject[]> {
        const doc = await this.json(["get", resource, "-n", namespace, ...(selector ? ["-l", selector] : [])], timeoutMs);
        return Array.isArray(doc.items) ? doc.items : [doc];
    }
}

/** A value at a dotted path (status.phase) of an object. */
export function fieldOf(obj: K8sObject, path: string): unknown {
    let v: unknown = obj;
    for (const part of path.replace(/^\./, "").split(".")) {
        if (!v || typeof v !== "object") return undefined;
        v = (v as Record<string, unknown>)[part];
    }
    return v;
}

/** A pod is Running and every container is ready. */
export function podReady(pod: K8sObject): boolean {
    const statuses: K8sObject[] = pod.status?.containerStatuses ?? [];
    return pod.status?.phase === "Running" && statuses.length > 0 && statuses.every(s => s.ready === true) && !pod.metadata?.deletionTimestamp;
}
