import * as pulumi from "@pulumi/pulumi";
import { ShellCommandArgs } from "../../core";
import { GateSettings } from "../../gates";
import { DatabaseArgs } from "../../database";
import { OrchestratorArgs } from "../orchestrator";
import { ApprovalArgs } from "../steps";

/** What every Inmanta procedure takes. */
export interface ProcedureArgs {
    /** The upgrade run: a new key runs the whole procedure again. */
    runKey: pulumi.Input<string>;
    orchestrator: OrchestratorArgs;
    approval: ApprovalArgs;
    /** SSH private key for shell commands over SSH, a Pulumi secret. */
    sshPrivateKey?: pulumi.Input<string>;
    apiTests?: ShellCommandArgs;
    /** Assert protected_environment first (default). Off only to show what the policy pack refuses. */
    protectedEnvironment?: boolean;
    /** Operator gates: timeout and the pre-approvals of this run (none: every gate waits for a go). */
    gates?: GateSettings;
}

export interface LsmArgs {
    entryPoint: string;
    instanceUpdatesExpected: boolean;
    /** Back up the inventory tables before the export. */
    backup: boolean;
    exportFile: string;
    strictPlugin: string;
    plugin: string;
}

export interface BackupArgs {
    database: DatabaseArgs;
    tables: string[];
    full: boolean;
    dir: string;
}

export interface NorthboundArgs {
    block: ShellCommandArgs;
    unblock: ShellCommandArgs;
}
