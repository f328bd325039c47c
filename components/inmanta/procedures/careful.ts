import * as pulumi from "@pulumi/pulumi";
import { Sequence } from "../../core";
import * as steps from "../steps";
import { AUTOMATION_SETTINGS, settingStepId } from "./install";
import { changedSettings, protectEnvironment } from "./phases";
import { ProcedureArgs } from "./types";

export interface CarefulDeployArgs extends ProcedureArgs {
    internalAgent: string;
    /** Deployed one by one, in this order, after the internal agent. */
    agents: string[];
}

export const INTERVAL_SETTINGS = ["autostart_agent_deploy_interval", "autostart_agent_repair_interval"];

/** Why the seed's way of holding the version back does not apply on 15+, where a release deploys at once. */
const NO_PUSH = "on inmanta-core 15+ a compiled version that auto_deploy releases deploys at once (push_on_auto_deploy is gone, " +
    "a release's push is ignored): auto_deploy stays off and the version a candidate until careful-release-held";

/**
 * The extra careful deploy: every feature that deploys unsupervised is disengaged, then the
 * agents are deployed by hand one by one, and at the end every setting is restored.
 *
 * The same steps on both lines; each does what its line allows (steps.byLine), or says why it has no
 * meaning there:
 * - 14.x, as the seed says: auto_deploy on with push_on_auto_deploy off, so the compile's version is
 *   released without a push; the internal agent's force repair brings the agents online; dry run,
 *   approval, then a force repair on each agent.
 * - 15+ (shared/notes/inmanta-20.md): a release deploys at once and a paused agent still runs one task
 *   queued after the pause (20.1.0), so pausing is no hold. auto_deploy stays off (the compile is a
 *   candidate), the candidate is dry run and approved, then careful-release-held halts the environment,
 *   keeps every agent paused on resume, resumes and releases: the agents, paused since the scheduler
 *   started, deploy nothing. Then each agent in turn, the internal agent first where the model has it, is
 *   unpaused and force repaired, and its resources are waited for.
 */
export class CarefulDeploy extends pulumi.ComponentResource {
    readonly steps: Sequence;

    constructor(name: string, args: CarefulDeployArgs, opts?: pulumi.ComponentResourceOptions) {
        super("upgrade:inmanta:CarefulDeploy", name, {}, opts);
        if (args.agents.length === 0) throw new Error("CarefulDeploy: at least one agent is needed");
        const o = args.orchestrator;
        const seq = new Sequence(this, args.runKey, "careful-deploy");
        const refuse = changedSettings(args, [...INTERVAL_SETTINGS, "auto_deploy", "push_on_auto_deploy", ...AUTOMATION_SETTINGS.map((s) => s.name)]);
        const first = protectEnvironment(seq, args, "careful", refuse);
        const noted = seq.add("careful-record-intervals", steps.settingsRecord(o, INTERVAL_SETTINGS, first ? undefined : refuse));
        for (const name of INTERVAL_SETTINGS) {
            seq.add(settingStepId("careful", `${name}_off`), steps.setting(o, name, "0", { title: `Disable spontaneous deployment: ${name} = 0` }));
        }
        seq.add("careful-auto-deploy-on", steps.byLine(
            steps.setting(o, "auto_deploy", true, { title: "Disable spontaneous deployment: auto_deploy = True (14.x; not on 15+)" }),
            { scheduler: { skip: NO_PUSH } }));
        seq.add("careful-push-on-auto-deploy-off", steps.setting(o, "push_on_auto_deploy", false,
            { optional: true, title: "Disable spontaneous deployment: push_on_auto_deploy = False" }));
        seq.add("careful-candidate-auto-deploy-off", steps.byLine(
            steps.setting(o, "auto_deploy", false, { title: "15+: auto_deploy = False, the compiled version stays a candidate" }),
            { legacy: { skip: "on inmanta-core 14.x auto_deploy on with push_on_auto_deploy off holds the version back, as the seed says" } }));
        const compiled = seq.add("careful-compile", steps.byLine(steps.compile(o, {
            update: false, expectNoDeploy: false,
            title: "Recompile to install the project: a new version, no resources deployed (14.x: released without a push; 15+: a candidate)",
        }), { scheduler: { params: { expectNoDeploy: true }, note: "15+: the new version must stay a candidate (auto_deploy is off)" } }));
        const version = compiled.output<number>("version");
        seq.add(`careful-deploy-${args.internalAgent}`, steps.byLine(steps.deployAgent(o, args.internalAgent, version),
            { scheduler: { skip: `on inmanta-core 15+ the scheduler starts the agents and nothing may deploy before the dry run's approval: ` +
                `agent ${args.internalAgent} gets its turn first after the release, in careful-deploy-${args.internalAgent}-after-release` } }));
        const dry = seq.add("careful-dryrun", steps.dryrun(o, version, "Dry run to verify there are no undesirable effects"));
        seq.add("careful-approval", steps.approvalGate(o, dry, args.approval));
        seq.add("careful-release-held", steps.byLine(steps.releaseHeld(o, version, [args.internalAgent, ...args.agents],
            "15+: release the approved version with every agent held paused (halt, keep the agents paused on resume, resume, release)"),
        { legacy: { skip: "on inmanta-core 14.x careful-compile released the version and push_on_auto_deploy off kept it from deploying" } }));
        seq.add(`careful-deploy-${args.internalAgent}-after-release`, steps.byLine(
            steps.deployAgent(o, args.internalAgent, version, `15+: unpause agent ${args.internalAgent} first, force repair, verify the results`),
            {
                legacy: { skip: `on inmanta-core 14.x agent ${args.internalAgent} was deployed before the dry run (careful-deploy-${args.internalAgent}), as the seed says` },
                scheduler: { params: { unpause: true, ifPresent: true } },
            }));
        for (const agent of args.agents) {
            seq.add(`careful-deploy-${agent}`, steps.byLine(steps.deployAgent(o, agent, version),
                { scheduler: { params: { unpause: true }, note: `15+: agent ${agent} was held paused until its turn: unpaused now` } }));
        }
        for (const s of AUTOMATION_SETTINGS) {
            seq.add(settingStepId("careful-restore", s.name), steps.setting(o, s.name, s.value,
                { optional: s.optional, title: `Ensure ${s.name} = ${JSON.stringify(s.value)}` }));
        }
        for (const name of INTERVAL_SETTINGS) {
            seq.add(settingStepId("careful-restore", name), steps.setting(o, name,
                noted.output(`values.${name}`),
                { title: `Restore ${name} to the value noted in careful-record-intervals` }));
        }
        this.steps = seq;
        this.registerOutputs({});
    }
}
