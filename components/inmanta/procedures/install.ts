import * as pulumi from "@pulumi/pulumi";
import { Sequence } from "../../core";
import { GateSettings, operatorGate } from "../../gates";
import * as steps from "../steps";
import { apiTests, changedSettings, safetySettings } from "./phases";
import { LsmArgs, ProcedureArgs } from "./types";

export interface FirstDeploymentArgs extends ProcedureArgs {
    /** Settings agreed with the development team. */
    expectedSettings: Record<string, unknown>;
    /** With LSM: export the service definition before the first version. */
    lsm?: LsmArgs;
}

/** The automation settings the seed requires at the end, where the server has them. */
export const AUTOMATION_SETTINGS: { name: string; value: unknown; optional: boolean }[] = [
    { name: "agent_trigger_method_on_auto_deploy", value: "push_incremental_deploy", optional: true },
    { name: "auto_deploy", value: true, optional: false },
    { name: "push_on_auto_deploy", value: true, optional: true },
    { name: "server_compile", value: true, optional: false },
];

export function settingStepId(prefix: string, name: string): string {
    return `${prefix}-${name.replace(/_/g, "-")}`;
}

/** Deployment of a new service model: install, verify the first version, deploy, automation on, API tests. */
export class FirstDeployment extends pulumi.ComponentResource {
    readonly steps: Sequence;

    constructor(name: string, args: FirstDeploymentArgs, opts?: pulumi.ComponentResourceOptions) {
        super("upgrade:inmanta:FirstDeployment", name, {}, opts);
        const o = args.orchestrator;
        const seq = new Sequence(this, args.runKey, args.lsm ? "lsm-install" : "install");
        seq.add("install-settings-check", steps.settingsCheck(o, args.expectedSettings,
            changedSettings(args, ["auto_deploy", ...AUTOMATION_SETTINGS.map((s) => s.name)])));
        safetySettings(seq, args, "install");
        let compiled = seq.add("install-compile", steps.compile(o, {
            update: false, expectNoDeploy: true, title: "Recompile to install the project: a new version appears and does not deploy",
        }));
        if (args.lsm) {
            const strict = !args.lsm.instanceUpdatesExpected;
            if (!strict) throw new Error("FirstDeployment: a first deployment has no instances to update; use the strict exporter");
            seq.add("install-export", steps.exportPlugin(o, {
                entryPoint: args.lsm.entryPoint, exportFile: args.lsm.exportFile, strict, plugin: args.lsm.strictPlugin,
            }));
            compiled = seq.add("install-recompile", steps.compile(o, {
                update: false, expectNoDeploy: true, title: "Recompile: the new version will not start to deploy",
            }));
        }
        const version = compiled.output<number>("version");
        const dry = seq.add("install-dryrun", steps.dryrun(o, version, "Verify that the resources in this first version are as expected"));
        seq.add("install-approval", steps.approvalGate(o, dry, args.approval));
        // The seed's human check: a person looks at the first version before it deploys.
        const gates: GateSettings = args.gates ?? { runKey: args.runKey, timeoutSeconds: 3600, preApproved: [] };
        seq.add(...operatorGate("install-look-first-version", gates, {
            title: "Verify that the resources in this first version are as expected",
            what: "the resources of the first version, before it deploys",
            look: ["the version in the web console (Desired State) and its dry-run report (Compare)"],
            show: { version, digest: dry.output<string>("digest") },
        }));
        seq.add("install-deploy", steps.deploy(o, version, "Deploy to make the changes effective and watch its progress"));
        for (const s of AUTOMATION_SETTINGS) {
            seq.add(settingStepId("install", s.name), steps.setting(o, s.name, s.value,
                { optional: s.optional, title: `Verify that automation settings are on: ${s.name} = ${JSON.stringify(s.value)}` }));
        }
        apiTests(seq, "install", args);
        this.steps = seq;
        this.registerOutputs({});
    }
}
