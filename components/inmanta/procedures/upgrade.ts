import * as pulumi from "@pulumi/pulumi";
import { Sequence, shellStep } from "../../core";
import * as steps from "../steps";
import { apiTests, lsmFreezeInventory, preUpgrade, upgradeCore } from "./phases";
import { BackupArgs, LsmArgs, NorthboundArgs, ProcedureArgs } from "./types";

export interface UpgradeArgs extends ProcedureArgs {
    /** The optional dry run before the upgrade. */
    preUpgradeDryrun: boolean;
}

export interface LsmUpgradeArgs extends UpgradeArgs {
    lsm: LsmArgs;
    northbound: NorthboundArgs;
    /** Required when the LSM args ask for a backup (always when instance updates are expected). */
    backup?: BackupArgs;
}

/** Upgrade of the service model (operational procedures, .rst): pre-upgrade, upgrade, post-upgrade. */
export class ServiceModelUpgrade extends pulumi.ComponentResource {
    readonly steps: Sequence;

    constructor(name: string, args: UpgradeArgs, opts?: pulumi.ComponentResourceOptions) {
        super("upgrade:inmanta:ServiceModelUpgrade", name, {}, opts);
        const seq = new Sequence(this, args.runKey, "upgrade");
        preUpgrade(seq, args, args.preUpgradeDryrun);
        upgradeCore(seq, args, { prefix: "upgrade", resumeAgents: false, compileTitle: "Update project & recompile: a new version appears and does not deploy" });
        seq.add("post-auto-deploy-on", steps.setting(args.orchestrator, "auto_deploy", true, { title: "Re-enable auto_deploy" }));
        apiTests(seq, "post", args);
        this.steps = seq;
        this.registerOutputs({});
    }
}

/**
 * Upgrade of the service model with LSM: the north-bound API is blocked and the agents paused
 * while the new service definition is exported; the non-strict exporter (instance updates
 * expected) runs only after a verified backup of the inventory tables.
 */
export class LsmServiceModelUpgrade extends pulumi.ComponentResource {
    readonly steps: Sequence;
    /** Digest of the pre-upgrade dry run: an abort's dry run must match it. */
    readonly baselineDigest?: pulumi.Output<string>;
    readonly backupFile?: pulumi.Output<string>;
    readonly backupSha256?: pulumi.Output<string>;

    constructor(name: string, args: LsmUpgradeArgs, opts?: pulumi.ComponentResourceOptions) {
        super("upgrade:inmanta:LsmServiceModelUpgrade", name, {}, opts);
        if ((args.lsm.backup || args.lsm.instanceUpdatesExpected) && !args.backup) {
            throw new Error("LsmServiceModelUpgrade: a database backup is required (lsm.backup or instance updates expected) but no database was given");
        }
        if (args.lsm.instanceUpdatesExpected && !args.lsm.backup) {
            throw new Error("LsmServiceModelUpgrade: the non-strict exporter (instance updates expected) needs lsm.backup");
        }
        const seq = new Sequence(this, args.runKey, "lsm-upgrade");
        const baseline = preUpgrade(seq, args, args.preUpgradeDryrun);
        const backup = lsmFreezeInventory(seq, "pre", args, args.northbound, args.lsm.backup ? args.backup : undefined);
        upgradeCore(seq, args, {
            prefix: "upgrade", lsm: args.lsm, backup, resumeAgents: true,
            compileTitle: "Update project & recompile: the compiler pulls in the latest version",
        });
        seq.add("post-auto-deploy-on", steps.setting(args.orchestrator, "auto_deploy", true, { title: "Re-enable auto_deploy" }));
        seq.add("post-northbound-unblock", shellStep("northbound-unblock",
            "Allow requests to the north-bound API again", args.northbound.unblock, args.sshPrivateKey));
        apiTests(seq, "post", args);
        this.steps = seq;
        this.baselineDigest = baseline?.output<string>("digest");
        this.backupFile = backup?.output<string>("path");
        this.backupSha256 = backup?.output<string>("sha256");
        this.registerOutputs({ baselineDigest: this.baselineDigest, backupFile: this.backupFile, backupSha256: this.backupSha256 });
    }
}
