import * as pulumi from "@pulumi/pulumi";
import { RunbookConfig } from "./config";
import { DatabaseArgs } from "./database";
import {
    BackupArgs, CarefulDeploy, FirstDeployment, LsmArgs, LsmServiceModelUpgrade, OrchestratorArgs, ProcedureArgs,
    ProductionRelease, ServiceModelUpgrade, UpgradeAbort,
} from "./inmanta";
import { checkPreApprovals, gateSettings } from "./gates";
import { LsstSiteUpgrade } from "./lsst";
import { SpinalStackUpgrade, spinalStackArgs } from "./openstack";

/** The run key: what the run upgrades to, plus the rerun counter when it was bumped. */
export function runKeyOf(c: RunbookConfig): string {
    return c.rerun > 0 ? `${c.target}#${c.rerun}` : c.target;
}

function secret(value: string | undefined): pulumi.Output<string> | undefined {
    return value === undefined ? undefined : pulumi.secret(value);
}

function orchestratorArgs(c: RunbookConfig): OrchestratorArgs {
    const o = c.orchestrator!;
    return {
        url: o.url,
        environment: o.environment,
        timeoutSeconds: o.timeoutSeconds,
        token: secret(c.inmantaToken),
        caCert: secret(c.inmantaCaCert),
        shell: {
            ssh: o.shell.ssh ? { ...o.shell.ssh, privateKey: secret(c.sshPrivateKey) } : undefined,
            projectDir: o.shell.projectDir.replace(/\{environment\}/g, o.environment),
            inmanta: o.shell.inmanta,
            prelude: o.shell.prelude?.replace(/\{environment\}/g, o.environment),
        },
    };
}

function databaseArgs(c: RunbookConfig): DatabaseArgs | undefined {
    const d = c.database;
    if (!d) return undefined;
    return { host: d.host, port: d.port, name: d.name, user: d.user, password: secret(c.databasePassword), binDir: d.binDir };
}

function backupArgs(c: RunbookConfig): BackupArgs | undefined {
    const database = databaseArgs(c);
    return database && c.database ? { database, tables: c.database.tables, full: c.database.full, dir: c.database.backupDir } : undefined;
}

function lsmArgs(c: RunbookConfig): LsmArgs {
    const l = c.lsm!;
    return { ...l, backup: l.backup ?? l.instanceUpdatesExpected };
}

function common(c: RunbookConfig): ProcedureArgs {
    return {
        runKey: runKeyOf(c),
        orchestrator: orchestratorArgs(c),
        approval: c.approval,
        sshPrivateKey: secret(c.sshPrivateKey),
        apiTests: c.apiTests,
        protectedEnvironment: c.safety.protectedEnvironment,
        gates: gateSettings(c.gates, runKeyOf(c)),
    };
}

export type Procedure =
    ServiceModelUpgrade | LsmServiceModelUpgrade | FirstDeployment | CarefulDeploy | UpgradeAbort | ProductionRelease | SpinalStackUpgrade
    | LsstSiteUpgrade;

/** Build the procedure the validated configuration names; a pre-approval must name one of its operator gates. */
export function buildRunbook(c: RunbookConfig): Procedure {
    const procedure = buildProcedure(c);
    checkPreApprovals(c.gates, runKeyOf(c), procedure.steps.steps, "the stack configuration");
    return procedure;
}

function buildProcedure(c: RunbookConfig): Procedure {
    const name = c.procedure;
    switch (c.procedure) {
        case "upgrade":
            return new ServiceModelUpgrade(name, { ...common(c), preUpgradeDryrun: c.preUpgradeDryrun });
        case "lsm-upgrade":
            return new LsmServiceModelUpgrade(name, {
                ...common(c), preUpgradeDryrun: c.preUpgradeDryrun, lsm: lsmArgs(c), northbound: c.northbound!, backup: backupArgs(c),
            });
        case "install":
        case "lsm-install":
            return new FirstDeployment(name, {
                ...common(c), expectedSettings: c.install?.expectedSettings ?? {}, lsm: c.procedure === "lsm-install" ? lsmArgs(c) : undefined,
            });
        case "careful-deploy":
            return new CarefulDeploy(name, { ...common(c), internalAgent: c.careful!.internalAgent, agents: c.careful!.agents });
        case "abort":
        case "lsm-abort": {
            const a = c.abort ?? { restoreTables: false };
            const lsm = c.procedure === "lsm-abort" ? lsmArgs(c) : undefined;
            const backup = backupArgs(c);
            return new UpgradeAbort(name, {
                ...common(c), badVersion: a.badVersion, revertCommand: a.revertCommand, baselineDigest: a.baselineDigest,
                lsm, northbound: lsm ? c.northbound : undefined, backup,
                restore: a.restoreTables && backup && a.backupFile
                    ? { database: backup.database, tables: backup.tables, file: a.backupFile, sha256: a.backupSha256 }
                    : undefined,
            });
        }
        case "lsst-site-upgrade":
            return new LsstSiteUpgrade(name, {
                runKey: runKeyOf(c), lsst: c.lsst!, slackWebhook: secret(c.lsstSlackWebhook), gates: gateSettings(c.gates, runKeyOf(c)),
            });
        case "release": {
            const r = c.release!;
            return new ProductionRelease(name, {
                runKey: runKeyOf(c), projectDir: r.projectDir, inmanta: r.inmanta, expectedModules: r.expectedModules,
                commitCommand: r.commitCommand, pushCommand: r.pushCommand,
            });
        }
        case "spinalstack-upgrade":
            return new SpinalStackUpgrade(name, spinalStackArgs(c.openstack!, runKeyOf(c)));
    }
}
