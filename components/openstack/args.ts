import { OpenstackConfig } from "../config/openstack";
import { SnippetTask } from "./ansible";
import { SpinalStackArgs } from "./types";

/** The validated `upgrade:openstack` section as the procedure's typed args. */
export function spinalStackArgs(o: OpenstackConfig, runKey: string): SpinalStackArgs {
    const snippets: Record<string, SnippetTask[]> = {};
    for (const [cls, tasks] of Object.entries(o.ansible?.snippets ?? {})) {
        snippets[cls] = tasks.map(t => ({ ...t, tags: Array.isArray(t.tags) ? t.tags[0] : t.tags }) as SnippetTask);
    }
    return {
        runKey,
        workDir: o.workDir,
        provision: o.provision,
        // Name order: the engine hands config maps over with sorted keys, so plan and preview agree on it.
        profiles: Object.fromEntries(Object.entries(o.profiles).sort(([a], [b]) => a.localeCompare(b))),
        profileOrder: o.orderedProfiles ?? Object.keys(o.profiles).sort((a, b) => a.localeCompare(b)),
        hosts: Object.entries(o.hosts).sort(([a], [b]) => a.localeCompare(b)).map(([name, h]) => ({ name, profile: h.profile, root: h.root })),
        edeploy: o.edeploy,
        ansible: o.ansible ? { ...o.ansible, snippets } : undefined,
        puppet: o.puppet,
        serverspec: o.serverspec,
        services: o.services,
        survival: o.survival ? { ...o.survival, stackRoot: o.survival.stackRoot ?? `${o.workDir}/grenade` } : undefined,
        sanity: o.sanity,
    };
}
