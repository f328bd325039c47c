import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { isString, param, StepContext, StepFailure } from "../context";
import { failure, sh } from "./exec";
import { Kubectl } from "./kubectl";

/** What a cleanup may delete: workloads (and LOVE's autoscalers), never an Argo CD Application. */
export const CLEANUP_KINDS = ["job", "deployment", "daemonset", "hpa"];

interface Cover {
    namespace: string;
    kinds: string[];
    selector?: string;
}

const isCovers = (v: unknown): v is Cover[] =>
    Array.isArray(v) && v.length > 0 && v.every(x => x && typeof x === "object" && typeof x.namespace === "string"
        && Array.isArray(x.kinds) && x.kinds.length > 0 && x.kinds.every((k: unknown) => typeof k === "string")
        && (x.selector === undefined || typeof x.selector === "string"));

const where = (c: Cover) => `${c.kinds.join(",")} in ${c.namespace}${c.selector ? ` (${c.selector})` : ""}`;
const selection = (c: Cover) => (c.selector ? ["-l", c.selector] : ["--all"]);

/** What is still there of `covers`: `kind/name in namespace`. */
async function leftovers(k: Kubectl, covers: Cover[]): Promise<string[]> {
    const left: string[] = [];
    for (const c of covers) {
        const out = await k.ok(["get", c.kinds.join(","), "-n", c.namespace, ...(c.selector ? ["-l", c.selector] : []), "-o", "name"]);
        for (const line of out.split("\n").map(l => l.trim()).filter(Boolean)) left.push(`${line} in ${c.namespace}`);
    }
    return left;
}

/**
 * A kubeconfig holding the site's context only, for scripts that run plain `kubectl` on the current
 * context (k8s-admin's): the operator's kubeconfig and its current context are left as they are.
 */
async function siteKubeconfig(k: Kubectl, context: string): Promise<{ file: string; remove: () => void }> {
    const text = await k.ok(["config", "view", "--minify", "--flatten", "--context", context]);
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "lsst-kubeconfig-"));
    const file = path.join(dir, "config");
    fs.writeFileSync(file, text, { mode: 0o600 });
    return { file, remove: () => fs.rmSync(dir, { recursive: true, force: true }) };
}

/**
 * `k8s-cleanup`: a k8s-admin cleanup script (`cleanup_all -d`, `cleanup_love`) with KUBECONFIG set to
 * the site's context only and its `y to proceed` prompt answered on stdin. The script ignores kubectl's
 * exit status, so its effect is checked: nothing of `covers` may be left. When the script fails or left
 * something, the fall back deletes `covers` namespace by namespace (never an Application) and checks again.
 */
export async function k8sCleanup(ctx: StepContext): Promise<Record<string, unknown>> {
    const command = param(ctx, "command", isString, "a command");
    const context = param(ctx, "context", isString, "a kube context");
    const covers = param(ctx, "covers", isCovers, "a list of {namespace, kinds, selector?}");
    // The answer to the prompt, one line on the script's stdin.
    const answer = `${isString(ctx.params.answer) ? ctx.params.answer : "y"}\n`;
    const refused = [...new Set(covers.flatMap(c => c.kinds).filter(x => !CLEANUP_KINDS.includes(x.toLowerCase())))];
    if (refused.length) throw new StepFailure(`refusing to delete ${refused.join(", ")}: the cleanup deletes ${CLEANUP_KINDS.join("/")} only, never the application itself`);
    const k = new Kubectl(param(ctx, "kubectl", isString, "a kubectl command line"), ctx.env);

    const kubeconfig = await siteKubeconfig(k, context).catch(err => {
        throw new StepFailure(`cannot make a kubeconfig with the site's context ${context} only: ${(err as Error).message}`);
    });
    let r;
    try {
        ctx.log(`running ${command} with KUBECONFIG holding context ${context} only, answering its prompt`);
        r = await sh(command, { env: { ...ctx.env, KUBECONFIG: kubeconfig.file }, timeoutMs: 30 * 60 * 1000, input: answer });
    } finally {
        kubeconfig.remove();
    }
    for (const line of `${r.stdout}\n${r.stderr}`.split("\n").filter(l => l.trim())) ctx.log(`  ${line}`);
    const why = r.code !== 0 ? failure(command, r) : undefined;
    const left = why ? undefined : await leftovers(k, covers);
    if (left && left.length === 0) return { method: "script", checked: covers.map(where), left: [] };

    ctx.log(why ? `${why}: deleting ${covers.map(where).join("; ")} instead (the applications stay)`
        : `the script exited 0 but left ${left!.join(", ")}: deleting them (the applications stay)`);
    const problems: string[] = [];
    for (const c of covers) {
        const args = ["delete", c.kinds.join(","), "-n", c.namespace, ...selection(c), "--ignore-not-found"];
        const d = await k.run(args, 10 * 60 * 1000);
        if (d.code !== 0) problems.push(failure(k.line(args), d));
        else ctx.log(`${c.namespace}: ${d.stdout.trim() || "nothing left to delete"}`);
    }
    const still = await leftovers(k, covers);
    const script = why ?? `\`${command}\` left ${left!.join(", ")}`;
    if (problems.length || still.length) {
        throw new StepFailure(`the cleanup script did not clean up (${script}) and neither did the fall back:\n  `
            + [...problems, ...(still.length ? [`still there: ${still.join(", ")}`] : [])].join("\n  "));
    }
    return { method: "fallback", scriptError: script, checked: covers.map(where), left: [] };
}

/**
 * `k8s-pod-restart`: the restart was the step's Kubernetes patch (`kubectl rollout restart`'s annotation),
 * awaited by the provider until the rollout was done; this reports the Deployment's state it ended on,
 * and refuses one that is not fully rolled out (which the await should never let through).
 */
export async function podRestart(ctx: StepContext): Promise<Record<string, unknown>> {
    const namespace = param(ctx, "namespace", isString, "a namespace");
    const deployment = param(ctx, "deployment", isString, "a Deployment name");
    const o = (ctx.params.observed && typeof ctx.params.observed === "object" ? ctx.params.observed : {}) as Record<string, unknown>;
    const n = (k: string) => (typeof o[k] === "number" ? o[k] as number : 0);
    const state = { replicas: n("replicas"), updatedReplicas: n("updatedReplicas"), readyReplicas: n("readyReplicas"), availableReplicas: n("availableReplicas") };
    if (state.replicas < 1 || state.updatedReplicas < state.replicas || state.availableReplicas < state.replicas) {
        throw new StepFailure(`${namespace}/${deployment} is not rolled out: ${JSON.stringify(state)}`);
    }
    ctx.log(`${namespace}/${deployment}: ${state.updatedReplicas} new pod(s) ready`);
    return { namespace, deployment, ...state };
}
