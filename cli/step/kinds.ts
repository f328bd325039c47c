import type { InmantaClient } from "../../components/inmanta/client";
import type { StepContext } from "./context";

export type LocalHandler = (ctx: StepContext) => Promise<Record<string, unknown>>;
export type InmantaHandler = (ctx: StepContext, client: InmantaClient) => Promise<Record<string, unknown>>;

/**
 * Which module does each step kind's work. Every step starts one runner process, so it loads only
 * the module of its own kind: the LSST probes, the Ansible runner's YAML parser or the stack
 * schema's zod are not loaded by a `setting` step (`npm run bench -- runner`).
 */
export const GROUPS = {
    inmanta: ["setting", "settings-record", "settings-check", "compile", "health-check", "dryrun", "approval-gate",
        "agents-pause", "agents-resume", "deploy", "version-delete", "dryrun-compare", "release-held"],
    database: ["db-backup", "db-restore"],
    project: ["project-check"],
    gate: ["operator-gate"],
    lsst: ["csc-state", "probe", "probe-gate", "argocd-sync", "k8s-cleanup", "k8s-pod-restart", "notify"],
    openstack: ["edeploy-upgrade", "node-reboot", "ansible-step", "puppet-step", "serverspec", "survival"],
} as const;

type Group = keyof typeof GROUPS;

export const STEP_KINDS: readonly string[] = Object.values(GROUPS).flat();

function groupOf(kind: string): Group | undefined {
    return (Object.keys(GROUPS) as Group[]).find(g => (GROUPS[g] as readonly string[]).includes(kind));
}

/** The module of a group, loaded on first use. */
export async function handlersOf(group: Group): Promise<Record<string, LocalHandler | InmantaHandler>> {
    switch (group) {
        case "inmanta": return (await import("./inmanta")).INMANTA_HANDLERS;
        case "database": { const m = await import("./database"); return { "db-backup": m.backup, "db-restore": m.restore }; }
        case "project": return { "project-check": (await import("./project")).projectCheck };
        case "gate": return { "operator-gate": (await import("./gates/operator-gate")).operatorGate };
        case "lsst": return (await import("./lsst")).LSST_HANDLERS;
        case "openstack": return (await import("./openstack")).OPENSTACK_HANDLERS;
    }
}

export const GROUP_NAMES = Object.keys(GROUPS) as Group[];

/** The handler of a kind, and whether it talks to the orchestrator; undefined for an unknown kind. */
export async function handlerOf(kind: string): Promise<
    { inmanta: true; run: InmantaHandler } | { inmanta: false; run: LocalHandler } | undefined> {
    const group = groupOf(kind);
    if (!group) return undefined;
    const run = (await handlersOf(group))[kind];
    if (!run) return undefined;
    return group === "inmanta" ? { inmanta: true, run: run as InmantaHandler } : { inmanta: false, run: run as LocalHandler };
}
