import { Sequence, shellStep, Step } from "../../core";
import * as db from "../../database";
import * as steps from "../steps";
import { BackupArgs, LsmArgs, NorthboundArgs, ProcedureArgs } from "./types";

/**
 * Phases shared by the procedures. Step ids carry the phase as a prefix, so a plan reads like
 * the seed's checklist: pre-…, upgrade-…, post-…
 */

/**
 * Safety first: protected_environment on (unless a stack turns the guard off; the policy pack blocks that).
 * `refuse`: the settings the procedure changes, checked by this first step (see steps.setting). Returns
 * whether a step was added.
 */
export function protectEnvironment(seq: Sequence, a: ProcedureArgs, prefix: string, refuse?: string[],
    requireSettings?: Record<string, string>): boolean {
    if (a.protectedEnvironment === false) return false;
    seq.add(`${prefix}-protected-environment`, steps.setting(a.orchestrator, "protected_environment", true,
        { title: "Verify that environment safety settings are on: protected_environment = True", refuseProtected: refuse, requireSettings }));
    return true;
}

/** The settings a procedure changes: protected_environment (unless the guard is off) and the given ones. */
export function changedSettings(a: ProcedureArgs, names: string[]): string[] {
    return [...(a.protectedEnvironment === false ? [] : ["protected_environment"]), ...new Set(names)];
}

/** The seed's steps 1 and 2: protected_environment on, then auto_deploy off. */
export function safetySettings(seq: Sequence, a: ProcedureArgs, prefix: string, refuse = changedSettings(a, ["auto_deploy"])): void {
    const o = a.orchestrator;
    const first = protectEnvironment(seq, a, prefix, refuse);
    seq.add(`${prefix}-auto-deploy-off`, steps.setting(o, "auto_deploy", false,
        { title: "Temporarily disable auto_deploy", refuseProtected: first ? undefined : refuse }));
}

/** Pre-upgrade steps of the .rst seed; returns the optional baseline dry run. */
export function preUpgrade(seq: Sequence, a: ProcedureArgs, dryrunWanted: boolean): Step | undefined {
    const o = a.orchestrator;
    safetySettings(seq, a, "pre");
    const recompile = seq.add("pre-recompile", steps.compile(o, {
        update: false, expectNoDeploy: true, title: "Recompile to verify that no new deploy would start",
    }));
    seq.add("pre-health-check", steps.healthCheck(o));
    if (!dryrunWanted) return undefined;
    return seq.add("pre-dryrun", steps.dryrun(o, recompile.output<number>("version"),
        "Dry run before the upgrade and take note of the changes (ideally none)"));
}

/** LSM pre-upgrade additions: north-bound API blocked, agents paused, the inventory backed up. */
export function lsmFreezeInventory(seq: Sequence, prefix: string, a: ProcedureArgs, nb: NorthboundArgs | undefined,
    backup: BackupArgs | undefined): Step | undefined {
    if (nb) {
        seq.add(`${prefix}-northbound-block`, shellStep("northbound-block",
            "Block out all north-bound API calls", nb.block, a.sshPrivateKey));
    }
    seq.add(`${prefix}-agents-pause`, steps.agentsPause(a.orchestrator));
    if (!backup) return undefined;
    return seq.add(`${prefix}-db-backup`, db.backup(backup.database, {
        tables: backup.tables, full: backup.full, dir: backup.dir, label: prefix,
    }));
}

export interface UpgradeCoreArgs {
    prefix: string;
    lsm?: LsmArgs;
    /** The verified backup a non-strict export relies on. */
    backup?: Step;
    /** Agents were paused before: unpause them before the dry run. */
    resumeAgents: boolean;
    /** Title of the first compile. */
    compileTitle: string;
    /** A dry run digest the result must equal (abort), halting the environment when it does not. */
    baselineDigest?: string;
}

/** Update & recompile, [export, recompile, agents back], dry run, approval, deploy. */
export function upgradeCore(seq: Sequence, a: ProcedureArgs, u: UpgradeCoreArgs): { deploy: Step; dryrun: Step } {
    const o = a.orchestrator;
    const p = u.prefix;
    let compiled = seq.add(`${p}-update-compile`, steps.compile(o, { update: true, expectNoDeploy: true, title: u.compileTitle }));
    if (u.lsm) {
        const strict = !u.lsm.instanceUpdatesExpected;
        if (!strict && !u.backup) {
            throw new Error(`${p}: the non-strict exporter needs a verified database backup before it`);
        }
        const exportDef = steps.exportPlugin(o, {
            entryPoint: u.lsm.entryPoint, exportFile: u.lsm.exportFile, strict,
            plugin: strict ? u.lsm.strictPlugin : u.lsm.plugin,
        });
        seq.add(`${p}-export`, exportDef, u.backup ? [...seq.last, u.backup] : undefined);
        compiled = seq.add(`${p}-recompile`, steps.compile(o, {
            update: false, expectNoDeploy: true, title: "Recompile: the new version will not start to deploy",
        }));
    }
    if (u.resumeAgents) seq.add(`${p}-agents-resume`, steps.agentsResume(o));
    const version = compiled.output<number>("version");
    const dry = seq.add(`${p}-dryrun`, steps.dryrun(o, version, "Dry run the new version and wait for it to finish"));
    if (u.baselineDigest) seq.add(`${p}-dryrun-compare`, steps.dryrunCompare(o, dry, u.baselineDigest));
    seq.add(`${p}-approval`, steps.approvalGate(o, dry, a.approval));
    const deploy = seq.add(`${p}-deploy`, steps.deploy(o, version, "If all is OK, deploy to make the changes effective"));
    return { deploy, dryrun: dry };
}

export function apiTests(seq: Sequence, prefix: string, a: ProcedureArgs): void {
    if (a.apiTests) {
        seq.add(`${prefix}-api-tests`, shellStep("api-tests", "Test the services through the API", a.apiTests, a.sshPrivateKey));
    }
}
