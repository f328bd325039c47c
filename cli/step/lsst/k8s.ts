import { isNumber, isString, param, StepContext, StepFailure } from "../context";
import { failure, sh } from "./exec";
import { Kubectl, podReady } from "./kubectl";
import { pollUntilReady } from "./poll";
import { APPLICATION } from "./argocd";

/** What the cleanup's fall back may delete: workloads, never an Argo CD Application. */
export const CLEANUP_KINDS = ["job", "deployment", "daemonset"];

interface AppRef {
    app: string;
    children: boolean;
}

const isApps = (v: unknown): v is AppRef[] =>
    Array.isArray(v) && v.every(a => a && typeof a === "object" && typeof a.app === "string" && typeof a.children === "boolean");

/**
 * `k8s-cleanup`: k8s-admin's `cleanup_all -d`. When it fails, the fall back deletes the
 * job/deployment/daemonset of each application (by its instance label), and of each child of an app
 * of apps (which has no workloads of its own); the applications themselves stay.
 */
export async function k8sCleanup(ctx: StepContext): Promise<Record<string, unknown>> {
    const command = param(ctx, "command", isString, "a command");
    const apps = param(ctx, "apps", isApps, "a list of {app, children}");
    const kinds = Array.isArray(ctx.params.kinds) ? (ctx.params.kinds as unknown[]).map(String) : CLEANUP_KINDS;
    const refused = kinds.filter(x => !CLEANUP_KINDS.includes(x.toLowerCase()));
    if (refused.length) throw new StepFailure(`refusing to delete ${refused.join(", ")}: the cleanup deletes ${CLEANUP_KINDS.join("/")} only, never the application itself`);
    const label = param(ctx, "instanceLabel", isString, "a label key");
    const argocdNamespace = param(ctx, "argocdNamespace", isString, "a namespace");
    const k = new Kubectl(param(ctx, "kubectl", isString, "a kubectl command line"), ctx.env);

    ctx.log(`running ${command}`);
    const r = await sh(command, { env: ctx.env, timeoutMs: 30 * 60 * 1000 });
    for (const line of `${r.stdout}\n${r.stderr}`.split("\n").filter(l => l.trim())) ctx.log(`  ${line}`);
    if (r.code === 0) return { method: "script", deleted: [] };

    const why = failure(command, r);
    ctx.log(`${why}: deleting the ${kinds.join("/")} of each application instead (the applications stay)`);
    const targets: string[] = [];
    for (const a of apps) {
        if (!a.children) {
            targets.push(a.app);
            continue;
        }
        const children = (await k.list(APPLICATION, argocdNamespace, `${label}=${a.app}`))
            .map(i => String(i.metadata?.name)).filter(n => n !== a.app).sort();
        ctx.log(`${a.app} is an app of apps without workloads of its own: its children ${children.join(", ") || "(none)"}`);
        targets.push(...children);
    }
    const problems: string[] = [];
    for (const target of targets) {
        const args = ["delete", kinds.join(","), "--all-namespaces", "-l", `${label}=${target}`, "--ignore-not-found"];
        const d = await k.run(args, 10 * 60 * 1000);
        if (d.code !== 0) problems.push(failure(k.line(args), d));
        else ctx.log(`${target}: ${d.stdout.trim() || "nothing left to delete"}`);
    }
    if (problems.length) throw new StepFailure(`the cleanup script failed (${why}) and so did the fall back:\n  ${problems.join("\n  ")}`);
    return { method: "fallback", scriptError: why, deleted: targets };
}

/** `k8s-pod-restart`: delete the running pods, then wait for a new pod to be Running and ready. */
export async function podRestart(ctx: StepContext): Promise<Record<string, unknown>> {
    const namespace = param(ctx, "namespace", isString, "a namespace");
    const selector = param(ctx, "selector", isString, "a label selector");
    const timeoutSeconds = param(ctx, "timeoutSeconds", isNumber, "a number of seconds");
    const k = new Kubectl(param(ctx, "kubectl", isString, "a kubectl command line"), ctx.env);
    const old = (await k.list("pods", namespace, selector)).map(p => String(p.metadata?.name));
    if (old.length) {
        await k.ok(["delete", "pod", ...old, "-n", namespace, "--wait=false"]);
        ctx.log(`deleted ${old.join(", ")}`);
    } else {
        ctx.log(`no pod ${selector} in ${namespace}: waiting for one to start`);
    }
    let fresh: string[] = [];
    const r = await pollUntilReady(async () => {
        const pods = await k.list("pods", namespace, selector).catch(() => []);
        const news = pods.filter(p => !old.includes(String(p.metadata?.name)));
        fresh = news.filter(podReady).map(p => String(p.metadata?.name));
        const seen = pods.map(p => `${p.metadata?.name} (${old.includes(String(p.metadata?.name)) ? "old, " : ""}${p.status?.phase ?? "?"}${podReady(p) ? ", ready" : ""})`);
        return { ready: fresh.length > 0, state: seen.length ? seen.join(", ") : "no pods", notReady: fresh.length ? [] : [`no new ready pod ${selector}`] };
    }, { timeoutMs: timeoutSeconds * 1000, what: `${namespace}/${selector}`, log: ctx.log });
    if (!r.ready) throw new StepFailure(`no new pod ${selector} in ${namespace} is ready after ${timeoutSeconds} s: ${r.last.state}`);
    return { deleted: old, started: fresh };
}
