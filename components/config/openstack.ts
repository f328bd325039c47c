import * as path from "path";
import { z } from "zod";

/**
 * The `upgrade:openstack` section: a Spinal Stack upgrade (install-server provisioning, eDeploy role
 * upgrades, Ansible steps, Puppet steps with serverspec, Sanity) with Grenade-compatible survival checks.
 *
 * The infrastructure description follows config-tools' infra.yaml: profiles (their eDeploy role, the
 * Puppet classes they run, how their hosts are batched) and hosts (their profile, where their tree is).
 */

const nonEmpty = z.string().trim().min(1, "must not be empty");
const STEP_NAME = /^[a-z0-9][a-z0-9-]*$/;
const stepName = z.string().regex(STEP_NAME, "must be lower-case letters, digits and - (it names steps)");
const hostName = z.string().regex(/^[a-z0-9][a-z0-9.-]*$/, "must be a host name: lower-case letters, digits, . and - (it names steps)");
const puppetClass = z.string().regex(/^(::)?[a-z][a-z0-9_]*(::[a-z][a-z0-9_]*)*$/,
    "must be a Puppet class name such as cloud::telemetry::collector");
const version = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, "must be an eDeploy version such as J.1.1.0");
/** An upgrade step number: the tag of an Ansible snippet. */
const tag = z.number().int().min(0, "must be a step number 0..99").max(99, "must be a step number 0..99");

/** One Ansible task of a snippet: any module and its arguments, a name, and its step number as the tag. */
export const snippetTaskSchema = z.looseObject({
    name: nonEmpty,
    tags: z.union([tag, z.array(tag).length(1, "must be a single step number")], {
        error: "must be the step number of the task (one integer, e.g. tags: 7)",
    }),
});

export const profileSchema = z.strictObject({
    /** The eDeploy role the profile's hosts run (openstack-full, …). */
    role: z.string().regex(/^[a-z0-9][a-z0-9_.-]*$/, "must be an eDeploy role name"),
    /** Puppet classes the profile runs; they select the Ansible snippets. */
    classes: z.array(puppetClass).default([]),
    /**
     * Accepted for infra.yaml compatibility; the upgrade goes host by host as config-tools' upgrade.sh does
     * (each tag with `--limit <host>`), so neither batches nor failure thresholds apply to it.
     */
    serial: z.number().int().positive().default(1),
    /** Accepted for infra.yaml compatibility (see serial). */
    maxFailPercentage: z.number().min(0).max(100).default(0),
});

export const hostSchema = z.strictObject({
    profile: stepName,
    /** The host's root tree (a local directory; `/` when the runner runs on the host itself). */
    root: nonEmpty,
});

const namedCommand = z.strictObject({
    name: stepName,
    /** Shown in the plan; defaults to the command. */
    title: nonEmpty.optional(),
    command: nonEmpty,
});

export const edeploySchema = z.strictObject({
    /** The install-server's role trees: `<rolesDir>/<version>/<role>/`. */
    rolesDir: nonEmpty,
    /** eDeploy upgrade metadata: `<metadataDir>/<from>/<role>/<to>/{exclude,add_only[,post]}`; the role's pre/post are in its tree's /var/lib/edeploy/<to>/. */
    metadataDir: nonEmpty,
    /** The release the nodes run now, and the one they upgrade to. */
    from: version,
    to: version,
    rsync: nonEmpty.default("rsync"),
    /**
     * Reboots a node whose `post` asked for it (exit 100), then `wait` is polled (every second, at most
     * `timeoutSeconds`) until the node is back; `{root}` and `{node}` are quoted. No reboot step when absent.
     */
    reboot: z.strictObject({
        command: nonEmpty,
        wait: nonEmpty.optional(),
        timeoutSeconds: z.number().int().positive().default(600),
    }).optional(),
    /** Show per node what rsync would change (`rsync --dry-run`) in `pulumi preview` and `plan`. */
    preview: z.boolean().default(false),
});

export const ansibleSchema = z.strictObject({
    playbook: nonEmpty.default("ansible-playbook"),
    /** Puppet class -> the playbook snippet (tasks) that upgrades it; each task's tag is its step number. */
    snippets: z.record(puppetClass, z.array(snippetTaskSchema).min(1, "must hold at least one task")).default({}),
    /** Ansible's interpreter_python. */
    pythonInterpreter: nonEmpty.default("auto_silent"),
    /** Ansible's forks (hosts of a batch worked on at once). */
    forks: z.number().int().positive().default(10),
});

export const puppetSchema = z.strictObject({
    command: nonEmpty.default("puppet"),
    modulePath: nonEmpty.optional(),
    /** Puppet runs per step at most; the seed: 5. */
    maxRuns: z.number().int().min(1).max(20).default(5),
    steps: z.array(z.strictObject({
        step: z.number().int().min(0).max(9),
        /** Applied with `puppet apply` on every host. */
        manifest: nonEmpty,
        /** The serverspec-style check of the step, run per host: the step succeeds once it passes. */
        check: nonEmpty,
    })).min(1, "must name at least one Puppet step"),
});

export const survivalSchema = z.strictObject({
    /** BASE_DEVSTACK_DIR (TOP_DIR of resources.sh and shutdown.sh): the base devstack tree, its openrc. */
    topDir: nonEmpty,
    /** TARGET_DEVSTACK_DIR (TOP_DIR of upgrade.sh); the base one when absent. */
    targetDir: nonEmpty.optional(),
    /** STACK_ROOT: SAVE_DIR (the save database, files plugins keep) and LOGDIR live here; `<workDir>/grenade` when absent. */
    stackRoot: nonEmpty.optional(),
    /** Extra environment for the checks (ENABLED_SERVICES, the cloud's endpoints, …). */
    env: z.record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, "must be an environment variable name"), z.string()).default({}),
    /** In upgrade order (grenade's UPGRADE_PROJECTS); destroy and shutdown.sh run in reverse. */
    projects: z.array(z.strictObject({
        name: stepName,
        /** A grenade plugin's checkout (with devstack/upgrade/settings, resources.sh, …), run unchanged. */
        plugin: nonEmpty.optional(),
        /** A module exporting a native SurvivalCheck (components/openstack/survival.ts). */
        module: nonEmpty.optional(),
    })).default([]),
});

export const openstackSchema = z.strictObject({
    /** Where the runner keeps what it generates: playbooks, inventories, Puppet state. */
    workDir: nonEmpty.default(".lab/openstack/work"),
    /** Refresh of the install-server: Puppet modules, serverspec, eDeploy roles, Ansible playbooks. */
    provision: z.array(namedCommand).default([]),
    profiles: z.record(stepName, profileSchema),
    /** The order profiles are upgraded in, one after the other (config-tools' ordered_profiles); name order when absent. */
    orderedProfiles: z.array(stepName).optional(),
    hosts: z.record(hostName, hostSchema),
    edeploy: edeploySchema,
    ansible: ansibleSchema.optional(),
    puppet: puppetSchema.optional(),
    /** The final serverspec run over every host after the Puppet steps. */
    serverspec: z.strictObject({ command: nonEmpty }).optional(),
    services: z.strictObject({
        shutdown: z.array(namedCommand).default([]),
        start: z.array(namedCommand).default([]),
    }).default({ shutdown: [], start: [] }),
    survival: survivalSchema.optional(),
    /** Sanity gates after the upgrade: Tempest (API, CLI), Javelin. */
    sanity: z.array(z.strictObject({ suite: stepName, title: nonEmpty.optional(), command: nonEmpty })).default([]),
});

export type OpenstackConfig = z.output<typeof openstackSchema>;

type Problem = { path: (string | number)[]; message: string };

function duplicates<T>(items: T[], key: (t: T) => string, path: (i: number) => (string | number)[], what: string): Problem[] {
    const seen = new Set<string>();
    const out: Problem[] = [];
    items.forEach((item, i) => {
        const k = key(item);
        if (seen.has(k)) out.push({ path: path(i), message: `${what} "${k}" is listed twice` });
        seen.add(k);
    });
    return out;
}

/** Rules across the keys of the section; paths are relative to `upgrade:`. */
export function openstackProblems(o: OpenstackConfig | undefined): Problem[] {
    if (!o) return [{ path: ["openstack"], message: "is required by procedure spinalstack-upgrade (profiles, hosts, edeploy)" }];
    const problems: Problem[] = [];
    const profiles = o.profiles ?? {};
    const hosts = Object.entries(o.hosts ?? {});
    const used = new Set<string>();
    const roots = new Map<string, string>();
    for (const [name, h] of hosts) {
        if (!h || typeof h !== "object") continue;
        if (!(h.profile in profiles)) {
            problems.push({ path: ["openstack", "hosts", name, "profile"], message: `unknown profile "${h.profile}" (profiles: ${Object.keys(profiles).join(", ")})` });
        }
        used.add(h.profile);
        // The same folder written another way (./a, a/, a//b/..) is the same tree.
        const root = typeof h.root === "string" ? path.resolve(h.root) : String(h.root);
        const other = roots.get(root);
        if (other) problems.push({ path: ["openstack", "hosts", name, "root"], message: `is the tree of host ${other} too` });
        else roots.set(root, name);
    }
    for (const p of Object.keys(profiles)) {
        if (!used.has(p)) problems.push({ path: ["openstack", "profiles", p], message: "has no host" });
    }
    if (o.orderedProfiles) {
        const listed = new Set(o.orderedProfiles);
        o.orderedProfiles.forEach((p, i) => {
            if (!(p in profiles)) problems.push({ path: ["openstack", "orderedProfiles", i], message: `unknown profile "${p}"` });
        });
        for (const p of Object.keys(profiles)) {
            if (!listed.has(p)) problems.push({ path: ["openstack", "orderedProfiles"], message: `does not list profile "${p}"` });
        }
        problems.push(...duplicates(o.orderedProfiles, p => p, i => ["openstack", "orderedProfiles", i], "profile"));
    }
    if (hosts.length === 0) problems.push({ path: ["openstack", "hosts"], message: "must name at least one host" });
    if (o.edeploy && o.edeploy.from === o.edeploy.to) {
        problems.push({ path: ["openstack", "edeploy", "to"], message: `is the release the nodes already run (${o.edeploy.from})` });
    }
    const arr = <T>(v: T[] | undefined) => (Array.isArray(v) ? v : []);
    problems.push(...duplicates(arr(o.provision), c => c.name, i => ["openstack", "provision", i, "name"], "provisioning command"));
    problems.push(...duplicates(arr(o.services?.shutdown), c => c.name, i => ["openstack", "services", "shutdown", i, "name"], "service"));
    problems.push(...duplicates(arr(o.services?.start), c => c.name, i => ["openstack", "services", "start", i, "name"], "service"));
    problems.push(...duplicates(arr(o.sanity), c => c.suite, i => ["openstack", "sanity", i, "suite"], "sanity suite"));
    problems.push(...duplicates(arr(o.puppet?.steps), s => String(s.step), i => ["openstack", "puppet", "steps", i, "step"], "Puppet step"));
    const projects = arr(o.survival?.projects);
    problems.push(...duplicates(projects, p => p.name, i => ["openstack", "survival", "projects", i, "name"], "survival project"));
    projects.forEach((p, i) => {
        if (!p.plugin === !p.module) {
            problems.push({ path: ["openstack", "survival", "projects", i], message: "needs exactly one of plugin (a grenade plugin's checkout, with devstack/upgrade/) or module (a native check)" });
        }
    });
    return problems;
}
