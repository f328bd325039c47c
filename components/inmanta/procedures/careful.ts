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

/**
 * The extra careful deploy: every feature that deploys unsupervised is disengaged, then the
 * agents are deployed by hand one by one, and at the end every setting is restored.
 */
export class CarefulDeploy extends pulumi.ComponentResource {
    readonly steps: Sequence;

    constructor(name: string, args: CarefulDeployArgs, opts?: pulumi.ComponentResourceOptions) {
        super("upgrade:inmanta:CarefulDeploy", name, {}, opts);
        if (args.agents.length === 0) throw new Error("CarefulDeploy: at least one agent is needed");
        const o = args.orchestrator;
        const seq = new Sequence(this, args.runKey, "careful-deploy");
        const refuse = changedSettings(args, [...INTERVAL_SETTINGS, "auto_deploy", "push_on_auto_deploy", ...AUTOMATION_SETTINGS.map((s) => s.name)]);
        // The seed holds the version back with "auto_deploy on, push off"; a server without push_on_auto_deploy
        // (inmanta-core 15+) deploys a release at once: refused before anything changed, rather than deploying unsupervised.
        const require = { push_on_auto_deploy: "the careful deploy holds the compiled version back with auto_deploy on and push_on_auto_deploy off" };
        const first = protectEnvironment(seq, args, "careful", refuse, require);
        const noted = seq.add("careful-record-intervals", steps.settingsRecord(o, INTERVAL_SETTINGS, first ? undefined : refuse,
            first ? undefined : require));
        for (const name of INTERVAL_SETTINGS) {
            seq.add(settingStepId("careful", `${name}_off`), steps.setting(o, name, "0", { title: `Disable spontaneous deployment: ${name} = 0` }));
        }
        seq.add("careful-auto-deploy-on", steps.setting(o, "auto_deploy", true, { title: "Disable spontaneous deployment: auto_deploy = True" }));
        seq.add("careful-push-on-auto-deploy-off", steps.setting(o, "push_on_auto_deploy", false,
            { optional: true, title: "Disable spontaneous deployment: push_on_auto_deploy = False" }));
        const compiled = seq.add("careful-compile", steps.compile(o, {
            update: false, expectNoDeploy: false, title: "Recompile to install the project: it deploys, but no resources are deployed",
        }));
        const version = compiled.output<number>("version");
        seq.add(`careful-deploy-${args.internalAgent}`, steps.deployAgent(o, args.internalAgent, version));
        const dry = seq.add("careful-dryrun", steps.dryrun(o, version, "Dry run to verify there are no undesirable effects"));
        seq.add("careful-approval", steps.approvalGate(o, dry, args.approval));
        for (const agent of args.agents) {
            seq.add(`careful-deploy-${agent}`, steps.deployAgent(o, agent, version));
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
