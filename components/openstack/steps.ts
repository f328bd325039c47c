import * as pulumi from "@pulumi/pulumi";
import { StepDef } from "../core";
import { ClassSnippet } from "./ansible";
import { phaseSlug, SurvivalPhase, UpgradeSide } from "./survival";
import { AnsibleArgs, EdeployArgs, HostArgs, NamedCommand, ProfileArgs, PuppetArgs, SurvivalArgs } from "./types";

/**
 * The Spinal Stack / Grenade runbook steps. Commands from configuration run as shell steps; steps with
 * logic of their own (eDeploy, Ansible, Puppet with its checks, survival checks) run the project's step
 * runner (`node bin/step.js <kind> <id>`, cli/step/openstack/).
 */

function shell(kind: string, title: string, command: string, params: Record<string, unknown>): StepDef {
    return { kind, title, params: { ...params, command }, shell: { command } };
}

function runner(kind: string, title: string, params: Record<string, pulumi.Input<unknown>>): StepDef {
    return { kind, title, params, runner: {} };
}

export function provision(c: NamedCommand): StepDef {
    return shell("provision", c.title ?? `Provision the install-server: ${c.name}`, c.command, { name: c.name });
}

export function serviceShutdown(c: NamedCommand): StepDef {
    return shell("service-shutdown", c.title ?? `Shut down ${c.name}`, c.command, { service: c.name });
}

export function serviceStart(c: NamedCommand): StepDef {
    return shell("service-start", c.title ?? `Start ${c.name}`, c.command, { service: c.name });
}

export function sanity(s: { suite: string; title?: string; command: string }): StepDef {
    return shell("sanity", s.title ?? `Sanity: ${s.suite}`, s.command, { suite: s.suite });
}

export type SurvivalProject = SurvivalArgs["projects"][number];

export interface SurvivalStepArgs {
    survival: SurvivalArgs;
    project: SurvivalProject;
    /** resources.sh (a phase), or the plugin's shutdown.sh / upgrade.sh. */
    action?: "resources" | "shutdown" | "upgrade";
    phase?: SurvivalPhase;
    when?: UpgradeSide;
    /** The save database after the previous grenade step (its `saved` output); nothing before the first. */
    saved?: pulumi.Input<unknown>;
    /** The first grenade step of the run: blank the save database (grenade's init_grenade_db). */
    init?: boolean;
    from: string;
    to: string;
}

/** The configured plugins, for `pluginrc` (one enable_grenade_plugin each). */
export const grenadePlugins = (s: SurvivalArgs) =>
    s.projects.filter(p => p.plugin).map(p => ({ name: p.name, dir: p.plugin! }));

export function survival(a: SurvivalStepArgs): StepDef {
    const action = a.action ?? "resources";
    const call = [a.phase, a.when].filter(Boolean).join(" ");
    const title = action === "resources"
        ? `Survival of ${a.project.name} resources: ${a.project.plugin ? "resources.sh" : "native check"} ${call}`
        : action === "shutdown" ? `Grenade: ${a.project.name}'s shutdown.sh` : `Grenade: ${a.project.name}'s upgrade.sh`;
    return runner("survival", title, {
        project: a.project.name,
        action,
        ...(a.phase ? { phase: a.phase } : {}),
        ...(a.when ? { when: a.when } : {}),
        ...(a.project.module ? { module: a.project.module } : {}),
        plugins: grenadePlugins(a.survival),
        topDir: a.survival.topDir,
        ...(a.survival.targetDir ? { targetDir: a.survival.targetDir } : {}),
        stackRoot: a.survival.stackRoot,
        env: a.survival.env,
        releases: { base: a.from, target: a.to },
        init: a.init === true,
        saved: a.saved ?? {},
    });
}

export const survivalStepId = (project: string, phase: SurvivalPhase, when?: UpgradeSide) =>
    `survival-${project}-${phaseSlug(phase, when)}`;

export function edeployUpgrade(e: EdeployArgs, host: HostArgs, profile: ProfileArgs, preview?: string): StepDef {
    const title = `Upgrade ${host.name} (${host.profile}) to eDeploy role ${profile.role} ${e.to}: edeploy upgrade (pre, rsync with exclude, add_only, post)` +
        (preview ? ` — ${preview}` : "");
    return runner("edeploy-upgrade", title, {
        node: host.name,
        role: profile.role,
        profile: host.profile,
        root: host.root,
        from: e.from,
        to: e.to,
        rolesDir: e.rolesDir,
        metadataDir: e.metadataDir,
        rsync: e.rsync,
    });
}

export function nodeReboot(e: EdeployArgs, host: HostArgs, rebootNeeded: pulumi.Input<boolean>): StepDef {
    return runner("node-reboot", `Reboot ${host.name} if its eDeploy post script asked for it`, {
        node: host.name,
        root: host.root,
        command: e.reboot!.command,
        ...(e.reboot!.wait ? { wait: e.reboot!.wait } : {}),
        timeoutSeconds: e.reboot!.timeoutSeconds,
        rebootNeeded,
    });
}

export interface AnsibleStepArgs {
    ansible: AnsibleArgs;
    profileName: string;
    profile: ProfileArgs;
    host: HostArgs;
    snippets: ClassSnippet[];
    tag: number;
    workDir: string;
}

/** One tag of one host's playbook: `ansible-playbook site.yml --tags N -l host`, as config-tools' upgrade.sh runs it. */
export function ansibleStep(a: AnsibleStepArgs): StepDef {
    // Only the tasks of this tag: a change to another tag's snippet must not run this one again.
    const snippets = a.snippets.map(s => ({ class: s.class, tasks: s.tasks.filter(t => t.tags === a.tag) })).filter(s => s.tasks.length);
    const tasks = snippets.flatMap(s => s.tasks.map(t => t.name));
    return runner("ansible-step", `Ansible tag ${a.tag} on ${a.host.name} (${a.profileName}): ${tasks.join("; ")}`, {
        profile: a.profileName,
        host: a.host.name,
        tag: a.tag,
        tasks,
        hosts: [{ name: a.host.name, root: a.host.root }],
        limit: a.host.name,
        serial: 1,
        maxFailPercentage: 0,
        snippets,
        playbook: a.ansible.playbook,
        pythonInterpreter: a.ansible.pythonInterpreter,
        forks: a.ansible.forks,
        workDir: a.workDir,
    });
}

export function puppetStep(p: PuppetArgs, s: PuppetArgs["steps"][number], hosts: HostArgs[], workDir: string): StepDef {
    return runner("puppet-step", `Puppet step ${s.step} on every host, checked by serverspec, at most ${p.maxRuns} runs`, {
        step: s.step,
        manifest: s.manifest,
        check: s.check,
        maxRuns: p.maxRuns,
        command: p.command,
        ...(p.modulePath ? { modulePath: p.modulePath } : {}),
        hosts: hosts.map(h => ({ name: h.name, profile: h.profile, root: h.root })),
        workDir,
    });
}

export function serverspec(command: string, hosts: HostArgs[]): StepDef {
    return runner("serverspec", "Serverspec: every host is configured as it should be", {
        command,
        hosts: hosts.map(h => ({ name: h.name, profile: h.profile, root: h.root })),
    });
}
