import * as pulumi from "@pulumi/pulumi";
import { Sequence, StepDef } from "../../core";
import { shellQuote } from "../orchestrator";

export interface ReleaseArgs {
    runKey: pulumi.Input<string>;
    projectDir: string;
    inmanta: string;
    /** Module name -> version it must be frozen to. */
    expectedModules: Record<string, string>;
    commitCommand: string;
    pushCommand?: string;
}

function projectCheck(title: string, params: Record<string, unknown>): StepDef {
    return { kind: "project-check", title, params, runner: {} };
}

function inDir(dir: string, line: string): string {
    return `cd ${shellQuote(dir)} && ${line}`;
}

/** Project release for production: install mode checked, modules frozen and verified, committed, pushed. */
export class ProductionRelease extends pulumi.ComponentResource {
    readonly steps: Sequence;

    constructor(name: string, args: ReleaseArgs, opts?: pulumi.ComponentResourceOptions) {
        super("upgrade:inmanta:ProductionRelease", name, {}, opts);
        const seq = new Sequence(this, args.runKey, "release");
        seq.add("release-install-mode", projectCheck(
            "Check the modules' install mode: install_mode = release (v1), pip.pre not set (v2)",
            { projectDir: args.projectDir, check: "install-mode" }));
        const freeze = `${shellQuote(args.inmanta)} -vv -X project freeze --recursive --operator "=="`;
        seq.add("release-freeze", {
            kind: "project-freeze", title: "Freeze all modules",
            params: { projectDir: args.projectDir, command: freeze },
            shell: { command: inDir(args.projectDir, freeze) },
        });
        seq.add("release-verify-frozen", projectCheck("Verify that all modules are frozen to the correct version",
            { projectDir: args.projectDir, check: "frozen", expectedModules: args.expectedModules }));
        seq.add("release-commit", {
            kind: "git-commit", title: "Commit this change", params: { command: args.commitCommand },
            shell: { command: inDir(args.projectDir, args.commitCommand) },
        });
        if (args.pushCommand) {
            seq.add("release-push", {
                kind: "git-push", title: "Push to the release branch", params: { command: args.pushCommand },
                shell: { command: inDir(args.projectDir, args.pushCommand) },
            });
        }
        this.steps = seq;
        this.registerOutputs({});
    }
}
