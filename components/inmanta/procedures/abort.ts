import * as pulumi from "@pulumi/pulumi";
import { Sequence, shellStep } from "../../core";
import * as db from "../../database";
import * as steps from "../steps";
import { lsmFreezeInventory, safetySettings, upgradeCore } from "./phases";
import { BackupArgs, LsmArgs, NorthboundArgs, ProcedureArgs } from "./types";

export interface AbortArgs extends ProcedureArgs {
    /** The bad version; the latest when absent. */
    badVersion?: number;
    /** Pushes the revert commit onto the release branch. */
    revertCommand?: string;
    /** The pre-upgrade dry run's digest: the revert must give the same dry run, or the environment is halted. */
    baselineDigest?: string;
    /** With LSM: export the old service definition, and maybe restore the inventory tables. */
    lsm?: LsmArgs;
    northbound?: NorthboundArgs;
    /** A fresh backup before a non-strict export of the old definition. */
    backup?: BackupArgs;
    /** The API change is irreversible: restore the tables from the upgrade's backup. */
    restore?: { database: BackupArgs["database"]; tables: string[]; file: string; sha256?: string };
}

/** Upgrade abort/revert: delete the bad version, revert, go through the upgrade again, restore if asked. */
export class UpgradeAbort extends pulumi.ComponentResource {
    readonly steps: Sequence;

    constructor(name: string, args: AbortArgs, opts?: pulumi.ComponentResourceOptions) {
        super("upgrade:inmanta:UpgradeAbort", name, {}, opts);
        const o = args.orchestrator;
        const seq = new Sequence(this, args.runKey, args.lsm ? "lsm-abort" : "abort");
        safetySettings(seq, args, "abort");
        let backup;
        if (args.lsm) {
            if (args.lsm.instanceUpdatesExpected && !args.backup) {
                throw new Error("UpgradeAbort: the non-strict exporter needs a backup before it; give the database");
            }
            backup = lsmFreezeInventory(seq, "abort", args, args.northbound, args.lsm.instanceUpdatesExpected ? args.backup : undefined);
        }
        seq.add("abort-version-delete", steps.versionDelete(o, args.badVersion));
        if (args.revertCommand) {
            seq.add("abort-revert-commit", shellStep("revert-commit", "Push a revert commit onto the release branch",
                { command: args.revertCommand }, args.sshPrivateKey));
        }
        upgradeCore(seq, args, {
            prefix: "abort", lsm: args.lsm, backup, resumeAgents: !!args.lsm, baselineDigest: args.baselineDigest,
            compileTitle: "Update project & recompile on the reverted release",
        });
        if (args.restore) {
            // The inventory tables are shared by every environment of the server: only this one's rows go back.
            seq.add("abort-db-restore", db.restore(args.restore.database, {
                tables: args.restore.tables, file: args.restore.file, sha256: args.restore.sha256, environment: o.environment,
            }));
        }
        seq.add("abort-auto-deploy-on", steps.setting(o, "auto_deploy", true, { title: "Re-enable auto_deploy" }));
        if (args.northbound) {
            seq.add("abort-northbound-unblock", shellStep("northbound-unblock",
                "Allow requests to the north-bound API again", args.northbound.unblock, args.sshPrivateKey));
        }
        this.steps = seq;
        this.registerOutputs({});
    }
}
