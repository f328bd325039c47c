import * as fs from "fs";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import * as command from "@pulumi/command";
import { Sequence, SHELL_INTERPRETER, Step } from "../core";
import { EDEPLOY_TAG, profileSnippets, profileTags } from "./ansible";
import {
    previewDetails, previewFromShell, previewLine, probeShellLine, probeSync, RolePaths, rolePaths, RsyncPreview,
} from "./rsync";
import * as steps from "./steps";
import { SurvivalPhase, UpgradeSide } from "./survival";
import { HostArgs, SpinalStackArgs } from "./types";

export const PROCEDURE = "spinalstack-upgrade";

/** A few of the paths rsync would touch, for a one-line title. */
function examplePaths(p: RsyncPreview, limit = 8): string {
    const content = p.changes.filter(c => c.op !== "attrs");
    if (p.status !== "ok" || content.length === 0) return "";
    const shown = content.slice(0, limit).map(c => `${c.op === "delete" ? "-" : c.op === "create" ? "+" : "~"}${c.path}`);
    return ` (${shown.join(", ")}${content.length > limit ? `, … ${content.length - limit} more` : ""})`;
}

/**
 * The Spinal Stack upgrade with Grenade-style resource survival checks:
 *
 *   provisioning of the install-server
 *   -> survival: [early_create], create, verify pre-upgrade
 *   -> services shut down -> survival: verify_noapi pre-upgrade
 *   -> profile after profile, host after host: the host's Ansible tags in ascending order, tag 5 being
 *      the eDeploy upgrade of the node (then its reboot, if post asked for one)
 *   -> Puppet steps (0, 5) with serverspec -> serverspec
 *   -> services started -> survival: verify post-upgrade -> Sanity (Tempest, Javelin) -> survival: destroy
 *
 * Values a survival check saves flow from each phase's step to the next as outputs, so they are kept in
 * the Pulumi state and a resumed update still has them.
 */
export class SpinalStackUpgrade extends pulumi.ComponentResource {
    readonly steps: Sequence;
    /** Per node, what rsync would change: only during `pulumi preview` with edeploy.preview on. */
    readonly rsyncPreview?: pulumi.Output<RsyncPreview[]>;

    constructor(name: string, args: SpinalStackArgs, opts?: pulumi.ComponentResourceOptions) {
        super("upgrade:openstack:SpinalStackUpgrade", name, {}, opts);
        for (const h of args.hosts) {
            if (!args.profiles[h.profile]) throw new Error(`SpinalStackUpgrade: host ${h.name} has unknown profile "${h.profile}"`);
        }
        if (args.hosts.length === 0) throw new Error("SpinalStackUpgrade: at least one host is needed");
        const seq = new Sequence(this, args.runKey, PROCEDURE);
        let tail: Step[] = [];
        const add = (id: string, def: Parameters<Sequence["add"]>[1], after: Step[] = tail): Step => seq.add(id, def, after);

        // 1. Provisioning of the install-server, one command after the other.
        for (const c of args.provision) tail = [add(`provision-${c.name}`, steps.provision(c))];

        // 2. Grenade's phases. One chain over every project (grenade's order; destroy and shutdown.sh in
        // reverse) carries the one save database from step to step, so a resumed update has it from the state.
        let lastGrenade: Step | undefined;
        const projects = args.survival?.projects ?? [];
        const hasScript = (p: (typeof projects)[number], script: string) =>
            !!p.plugin && fs.existsSync(path.join(p.plugin, "devstack", "upgrade", script));
        const grenade = (id: string, list: typeof projects, def: (p: (typeof projects)[number]) => Omit<steps.SurvivalStepArgs, "survival" | "project" | "from" | "to" | "saved" | "init">) => {
            if (!args.survival) return;
            for (const project of list) {
                const s = add(id.replace("{project}", project.name), steps.survival({
                    survival: args.survival, project, from: args.edeploy.from, to: args.edeploy.to,
                    saved: lastGrenade?.output("saved"), init: !lastGrenade, ...def(project),
                }));
                lastGrenade = s;
                tail = [s];
            }
        };
        const survival = (phase: SurvivalPhase, when?: UpgradeSide) => {
            const list = phase === "destroy" ? [...projects].reverse() : projects;
            grenade(steps.survivalStepId("{project}", phase, when), list, () => ({ phase, when }));
        };
        survival("early_create");
        survival("create");
        survival("verify", "pre-upgrade");
        grenade("grenade-shutdown-{project}", [...projects].reverse().filter(p => hasScript(p, "shutdown.sh")), () => ({ action: "shutdown" }));

        // 3. Services down (side by side), then the no-API verification.
        if (args.services.shutdown.length) {
            const before = tail;
            tail = args.services.shutdown.map(c => add(`shutdown-${c.name}`, steps.serviceShutdown(c), before));
        }
        survival("verify_noapi", "pre-upgrade");

        // 4. config-tools' upgrade.sh: profile after profile (orderedProfiles), host after host, each host's
        // playbook tag after tag. Tag 5 is the eDeploy upgrade (edeploy.yaml's `edeploy upgrade` task, then the
        // reboot it asked for), followed by the profile's own tag-5 tasks. Tags with no task of the profile are
        // only upstream's "Step N" debug messages: they get no step.
        const previews: pulumi.Output<RsyncPreview>[] = [];
        const probe = args.edeploy.preview && pulumi.runtime.isDryRun();
        for (const profileName of args.profileOrder) {
            const profile = args.profiles[profileName];
            const hosts = args.hosts.filter(h => h.profile === profileName);
            const snippets = args.ansible ? profileSnippets(profile.classes, args.ansible.snippets) : [];
            const tags = [...new Set([...profileTags(snippets), EDEPLOY_TAG])].sort((a, b) => a - b);
            for (const host of hosts) {
                const tagStep = (tag: number) => {
                    tail = [add(`ansible-${host.name}-tag-${tag}`, steps.ansibleStep({
                        ansible: args.ansible!, profileName, profile, host, snippets, tag, workDir: args.workDir,
                    }))];
                };
                for (const tag of tags) {
                    const hasTasks = snippets.some(sn => sn.tasks.some(t => t.tags === tag));
                    if (tag !== EDEPLOY_TAG) {
                        if (hasTasks) tagStep(tag);
                        continue;
                    }
                    const paths = rolePaths(args.edeploy, profile.role);
                    const local = probe && !pulumi.runtime.hasEngine() ? probeSync(host.name, paths, host.root, args.edeploy.rsync) : undefined;
                    const up = add(`edeploy-${host.name}`,
                        steps.edeployUpgrade(args.edeploy, host, profile, local ? previewLine(local) + examplePaths(local) : undefined));
                    if (probe && pulumi.runtime.hasEngine()) previews.push(this.probeWithEngine(host, paths, up, args.edeploy.rsync));
                    tail = [up];
                    if (args.edeploy.reboot) tail = [add(`reboot-${host.name}`, steps.nodeReboot(args.edeploy, host, up.output<boolean>("rebootNeeded")))];
                    if (hasTasks) tagStep(tag);
                }
            }
        }

        // 6. Puppet steps with their serverspec checks, then serverspec over everything.
        if (args.puppet) {
            for (const s of [...args.puppet.steps].sort((a, b) => a.step - b.step)) {
                tail = [add(`puppet-step-${s.step}`, steps.puppetStep(args.puppet, s, args.hosts, args.workDir))];
            }
        }
        if (args.serverspec) tail = [add("serverspec", steps.serverspec(args.serverspec.command, args.hosts))];

        // 7. Services up again, the resources verified, Sanity as gates, then the survival resources destroyed.
        if (args.services.start.length) {
            const before = tail;
            tail = args.services.start.map(c => add(`start-${c.name}`, steps.serviceStart(c), before));
        }
        grenade("grenade-upgrade-{project}", projects.filter(p => hasScript(p, "upgrade.sh")), () => ({ action: "upgrade" }));
        survival("verify", "post-upgrade");
        for (const s of args.sanity) tail = [add(`sanity-${s.suite}`, steps.sanity(s))];
        survival("destroy");

        this.steps = seq;
        if (previews.length) this.rsyncPreview = pulumi.all(previews);
        this.registerOutputs({ rsyncPreview: this.rsyncPreview });
    }

    /**
     * During `pulumi preview` the engine runs the read-only probe (`command:local:run`, which runs in
     * preview) and the result is shown as a diagnostic of the node's step. It goes through the
     * shell-step launcher like a shell step: the provider's environment holds the engine's secrets
     * during preview, and the rsync program is named by the stack file.
     */
    private probeWithEngine(host: HostArgs, paths: RolePaths, step: Step, rsync: string): pulumi.Output<RsyncPreview> {
        const run = command.local.runOutput({
            command: probeShellLine(paths, host.root, rsync), interpreter: SHELL_INTERPRETER, logging: "none",
        }, { parent: this });
        return run.apply(r => {
            const p = previewFromShell(host.name, r.stdout);
            if (p.status === "refused") pulumi.log.warn(previewDetails(p), step);
            else pulumi.log.info(previewDetails(p), step);
            return p;
        });
    }
}
