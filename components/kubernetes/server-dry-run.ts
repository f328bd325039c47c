import * as command from "@pulumi/command";
import * as pulumi from "@pulumi/pulumi";
import { shellQuote } from "../core/shell-quote";
import { SHELL_INTERPRETER } from "../core/step";
import { ClusterArgs } from "./cluster";

/**
 * The API server's check of a site's patches during `pulumi preview`. The Kubernetes provider does not
 * preview a Patch resource (pulumi-kubernetes provider/pkg/provider/provider.go, Create: "3: The resource
 * is a Patch resource"), and every Argo CD sync is a new patch, so without this a patch the API server
 * would refuse (a missing Application, a value its schema refuses, a forbidden patch) shows up only in
 * the middle of `pulumi up`. Each patch is sent as `kubectl apply --server-side --dry-run=server`, as
 * the provider's own create would send it (same object, forced, as `pulumi.com/patchForce`), so that
 * nothing on the cluster changes.
 */

/** One patch to check: the object as the provider would apply it, and the step it belongs to. */
export interface DryRunPatch {
    /** `resource.group` as kubectl names it, e.g. `applications.argoproj.io`. */
    resource: string;
    name: string;
    namespace: string;
    manifest: pulumi.Input<Record<string, unknown>>;
    step: pulumi.Resource;
    /**
     * The object may be created by an earlier step of the same update (a Deployment an Argo CD sync
     * brings): its absence is a warning, not a refusal. An Application must exist already.
     */
    mayComeLater?: boolean;
}

export type DryRunVerdict =
    | { status: "accepted" }
    | { status: "missing"; message: string }
    | { status: "refused"; message: string };

export type DryRunReport =
    | { status: "checked"; verdicts: DryRunVerdict[] }
    | { status: "unreachable"; message: string }
    /** Under Pulumi's mocks (`plan`, unit tests): the invoke is answered, not run. */
    | { status: "not-run" };

/** The field manager of the dry run: never written to the cluster (a dry run stores nothing). */
export const DRY_RUN_FIELD_MANAGER = "upgrade-as-code-preview";

const b64 = (v: string) => `"$(printf %s "${v}" | base64 -w0)"`;

/**
 * The shell line: is the cluster there, then per patch, does its object exist and does the API
 * server take the patch. Every value is quoted where it is inserted: the line runs during preview,
 * with the engine's environment around it (through the step-shell allow-list). Prints one line per
 * answer, messages in base64 so that kubectl's own lines cannot be taken for an answer.
 */
export function dryRunShellLine(cluster: ClusterArgs, patches: { resource: string; name: string; namespace: string; manifest: string }[],
    kubectl = "kubectl"): string {
    const q = shellQuote;
    const k = [q(kubectl), ...(cluster.kubeconfigPath ? ["--kubeconfig", q(cluster.kubeconfigPath)] : []),
        ...(cluster.context ? ["--context", q(cluster.context)] : []), "--request-timeout=20s"].join(" ");
    const each = patches.map((p, i) => [
        `if ! o=$(${k} get ${q(p.resource)} ${q(p.name)} -n ${q(p.namespace)} -o name 2>&1); then echo "!patch ${i} missing "${b64("$o")};`,
        `elif ! o=$(printf %s ${q(p.manifest)} | ${k} apply --server-side --dry-run=server --force-conflicts`,
        `--field-manager=${DRY_RUN_FIELD_MANAGER} -o name -f - 2>&1); then echo "!patch ${i} refused "${b64("$o")};`,
        `else echo "!patch ${i} accepted"; fi;`,
    ].join(" "));
    return [
        `if ! o=$(${k} get --raw=/version 2>&1); then echo "!unreachable "${b64("$o")}; else echo "!reachable";`,
        ...each,
        `fi`,
    ].join(" ");
}

const unb64 = (s: string) => Buffer.from(s, "base64").toString("utf8").trim();

/** Read what {@link dryRunShellLine} printed, for `count` patches. */
export function readDryRun(stdout: unknown, count: number): DryRunReport {
    if (typeof stdout !== "string") return { status: "not-run" };
    const lines = stdout.split("\n").filter(l => l.startsWith("!"));
    const unreachable = lines.find(l => l.startsWith("!unreachable "));
    if (unreachable) return { status: "unreachable", message: unb64(unreachable.slice(13)) };
    const verdicts: DryRunVerdict[] = [];
    for (let i = 0; i < count; i++) {
        const line = lines.find(l => l.startsWith(`!patch ${i} `));
        const [status, message = ""] = (line?.slice(`!patch ${i} `.length) ?? "").split(" ");
        if (status === "accepted") verdicts.push({ status });
        else if (status === "missing" || status === "refused") verdicts.push({ status, message: unb64(message) });
        else verdicts.push({ status: "refused", message: `the dry run gave no answer for this patch (output: ${JSON.stringify(stdout.slice(0, 400))})` });
    }
    return { status: "checked", verdicts };
}

/** kubectl's message without the klog lines of the requests it retried (`E1201 12:00:00.000000 …`). */
const reason = (message: string) => {
    const lines = message.split("\n").map(l => l.trim()).filter(Boolean);
    const own = lines.filter(l => !/^[EWI]\d{4} \d/.test(l));
    return (own.length ? own : lines).join("; ");
};

/** What the preview says of one patch. */
export function verdictText(p: Pick<DryRunPatch, "resource" | "name" | "namespace" | "mayComeLater">, v: DryRunVerdict): string {
    const what = `${p.resource} ${p.namespace}/${p.name}`;
    if (v.status === "accepted") return `server-side dry run: the API server accepts the patch of ${what}`;
    if (v.status === "missing" && p.mayComeLater) {
        return `${what} is not on the cluster yet, so its patch was not checked (an earlier step may create it): ${reason(v.message)}`;
    }
    if (v.status === "missing") return `${what} cannot be patched: it is not on the cluster (${reason(v.message)})`;
    return `the API server refuses the patch of ${what}: ${reason(v.message)}`;
}

/** What the preview says when nothing could be checked. */
export function unreachableText(count: number, message: string): string {
    return `the cluster cannot be reached, so the API server validated none of the ${count} patches this preview shows ` +
        `(${reason(message)})`;
}

/**
 * Collects a site's patches while the program builds them, then checks them all with one invoke when
 * `pulumi preview` runs (never during `pulumi up`, which applies them for real). A refused or missing
 * patch is an error on its step, so the preview fails; an unreachable cluster is one warning.
 */
export class ServerDryRun {
    private readonly patches: DryRunPatch[] = [];

    constructor(private readonly name: string, private readonly cluster: ClusterArgs, private readonly kubectl = "kubectl") {}

    add(p: DryRunPatch): void {
        this.patches.push(p);
    }

    /** Checks the patches during preview; returns undefined during `pulumi up`. */
    run(parent: pulumi.Resource): pulumi.Output<DryRunReport> | undefined {
        if (!pulumi.runtime.isDryRun() || this.patches.length === 0) return undefined;
        const patches = [...this.patches];
        const notYet = (v: DryRunVerdict, i: number) => v.status === "missing" && patches[i].mayComeLater === true;
        const manifests = pulumi.all(patches.map(p => pulumi.output(p.manifest)));
        return manifests.apply(ms => {
            const line = dryRunShellLine(this.cluster, patches.map((p, i) => ({ ...p, manifest: JSON.stringify(ms[i]) })), this.kubectl);
            return command.local.runOutput({ command: line, interpreter: SHELL_INTERPRETER, logging: "none" }, { parent })
                .apply(r => {
                    const report = readDryRun(r.stdout, patches.length);
                    if (report.status === "unreachable") pulumi.log.warn(`${this.name}: ${unreachableText(patches.length, report.message)}`, parent);
                    if (report.status === "checked") {
                        report.verdicts.forEach((v, i) => {
                            const text = verdictText(patches[i], v);
                            if (v.status === "accepted") pulumi.log.info(text, patches[i].step);
                            else if (notYet(v, i)) pulumi.log.warn(text, patches[i].step);
                            else pulumi.log.error(text, patches[i].step);
                        });
                        const refused = report.verdicts.filter((v, i) => v.status !== "accepted" && !notYet(v, i)).length;
                        // An error diagnostic alone leaves the preview green: the program must fail.
                        if (refused) throw new Error(`${this.name}: the API server refuses ${refused} of the ${patches.length} patches (their steps say why)`);
                    }
                    return report;
                });
        });
    }
}
