import { z } from "zod";
import { gatesSchema } from "./gates";
import { lsstSchema } from "./lsst";
import { openstackSchema } from "./openstack";
import { dbHost, sqlName, sshHost, userName } from "./patterns";
import { urlProblem } from "../inmanta/client/url-safety";

/** The procedures a stack can run (`upgrade:procedure`). */
export const PROCEDURES = [
    "lsm-upgrade",
    "upgrade",
    "lsm-install",
    "install",
    "careful-deploy",
    "lsm-abort",
    "abort",
    "release",
    "lsst-site-upgrade",
    "spinalstack-upgrade",
] as const;
export type ProcedureName = (typeof PROCEDURES)[number];

/** Config keys whose values must be Pulumi secrets. */
export const SECRET_KEYS = ["inmantaToken", "inmantaCaCert", "databasePassword", "sshPrivateKey", "lsstSlackWebhook"] as const;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const DIGEST = /^sha256:[0-9a-f]{64}$/;
const AGENT = /^[A-Za-z0-9_.:@-]+$/;
const TABLE = /^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*)?$/;

const nonEmpty = z.string().trim().min(1, "must not be empty");
const agentName = z.string().regex(AGENT, "must be an agent name (letters, digits, _ . : @ -)");

/** Types of the environment settings this project knows; others are checked by the server itself. */
export const KNOWN_SETTINGS: Record<string, z.ZodType> = {
    protected_environment: z.boolean(),
    auto_deploy: z.boolean(),
    server_compile: z.boolean(),
    push_on_auto_deploy: z.boolean(),
    agent_trigger_method_on_auto_deploy: z.enum(["push_incremental_deploy", "push_full_deploy"]),
    autostart_agent_deploy_interval: z.union([z.string(), z.number().int().nonnegative()]),
    autostart_agent_repair_interval: z.union([z.string(), z.number().int().nonnegative()]),
};

export const sshSchema = z.strictObject({
    host: sshHost,
    port: z.number().int().min(1).max(65535).default(22),
    user: userName.optional(),
    /** Folder to start in on the remote host. */
    dir: nonEmpty.optional(),
});

const shellCommand = z.strictObject({
    command: nonEmpty,
    ssh: sshSchema.optional(),
});

export const orchestratorSchema = z.strictObject({
    url: z.string().superRefine((u, ctx) => {
        if (!z.url({ protocol: /^https?$/ }).safeParse(u).success) {
            ctx.addIssue({ code: "custom", message: "must be an http(s) URL such as http://127.0.0.1:8888" });
        } else {
            const problem = urlProblem(u);
            if (problem) ctx.addIssue({ code: "custom", message: problem });
        }
    }),
    environment: z.string().regex(UUID, "must be an environment id (a UUID)"),
    /** Agents of the environment; when given, every agent named elsewhere must be one of them. */
    agents: z.array(agentName).optional(),
    /** Longest wait for a compile, dry run or deploy. */
    timeoutSeconds: z.number().int().positive().default(1800),
    /** Where orchestrator shell commands (export, freeze) run. */
    shell: z.strictObject({
        ssh: sshSchema.optional(),
        /** The environment's folder; `{environment}` is replaced by the environment id. */
        projectDir: nonEmpty.default("/var/lib/inmanta/server/environments/{environment}"),
        /** The inmanta command line prefix of the orchestrator's installation. */
        inmanta: nonEmpty.default("inmanta"),
        /** Shell line run before the export, e.g. `. /etc/profile.d/inmanta.sh && inmanta-workon {environment}`. */
        prelude: nonEmpty.optional(),
    }).default({ projectDir: "/var/lib/inmanta/server/environments/{environment}", inmanta: "inmanta" }),
});

export const databaseSchema = z.strictObject({
    host: dbHost.default("127.0.0.1"),
    port: z.number().int().min(1).max(65535).default(5432),
    /** Passed to libpq as a name only (never read as a connection string). */
    name: sqlName.default("inmanta"),
    user: sqlName.default("postgres"),
    tables: z.array(z.string().regex(TABLE, "must be a table name")).min(1, "must name at least one table")
        .default(["lsm_serviceentity", "lsm_serviceinstance"]),
    /** Dump the whole database instead of the named tables (the tables are still checked in the dump). */
    full: z.boolean().default(false),
    backupDir: nonEmpty.default("backups"),
    /** Folder with pg_dump/pg_restore/psql, when they are not on PATH. */
    binDir: nonEmpty.optional(),
});

export const lsmSchema = z.strictObject({
    /** Entry point that loads only the service definitions (the seed's loader.cf). */
    entryPoint: nonEmpty.default("loader.cf"),
    /** Does the update change the structure of existing instances? Then the non-strict exporter runs, after a backup. */
    instanceUpdatesExpected: z.boolean(),
    /** Back up the inventory tables before the upgrade (required when instance updates are expected). */
    backup: z.boolean().optional(),
    exportFile: nonEmpty.default("/dev/null"),
    strictPlugin: nonEmpty.default("service_entities_exporter_strict"),
    plugin: nonEmpty.default("service_entities_exporter"),
});

export const approvalPatternSchema = z.strictObject({
    /** Resource id, `*` matches any run of characters. */
    resource: nonEmpty,
    /** Allowed change statuses (added, modified, deleted, …); any when absent. */
    status: z.array(nonEmpty).optional(),
    /** Attributes that may change; any when absent. */
    attributes: z.array(nonEmpty).optional(),
});

export const approvalSchema = z.strictObject({
    /** Digests of dry-run change sets a reviewer approved. */
    digests: z.array(z.string().regex(DIGEST, "must look like sha256:<64 hex digits>")).default([]),
    /** Changes that are expected and need no digest. */
    allow: z.array(approvalPatternSchema).default([]),
    /** A dry run without changes passes the gate. */
    allowEmpty: z.boolean().default(true),
});

export const carefulSchema = z.strictObject({
    internalAgent: agentName.default("internal"),
    agents: z.array(agentName).min(1, "must name at least one agent to deploy one by one"),
});

export const installSchema = z.strictObject({
    /** Settings cross-checked with the development team before anything changes. */
    expectedSettings: z.record(z.string(), z.unknown()).default({}),
});

export const abortSchema = z.strictObject({
    /** The bad version to delete; the latest version when absent. */
    badVersion: z.number().int().positive().optional(),
    /** Pushes the revert commit on the release branch, e.g. `git -C /src/project revert --no-edit HEAD && git -C /src/project push`. */
    revertCommand: nonEmpty.optional(),
    /** The API change is irreversible: restore the inventory tables from the upgrade's backup. */
    restoreTables: z.boolean().default(false),
    backupFile: nonEmpty.optional(),
    backupSha256: z.string().regex(/^[0-9a-f]{64}$/, "must be 64 hex digits").optional(),
    /** Digest of the dry run taken before the upgrade: the revert's dry run must match it, or the environment is halted. */
    baselineDigest: z.string().regex(DIGEST, "must look like sha256:<64 hex digits>").optional(),
});

export const releaseSchema = z.strictObject({
    /** The project checkout on disk. */
    projectDir: nonEmpty,
    inmanta: nonEmpty.default("inmanta"),
    /** Module name -> the version it must be frozen to. */
    expectedModules: z.record(z.string(), nonEmpty).default({}),
    commitCommand: nonEmpty.default("git diff --quiet || git commit -a -m 'Freeze modules for production release'"),
    /** Push to the release branch; no push when absent. */
    pushCommand: nonEmpty.optional(),
});

/** Everything under the `upgrade:` namespace of a stack. */
export const runbookSchema = z.strictObject({
    procedure: z.enum(PROCEDURES, { error: `must be one of ${PROCEDURES.join(", ")}` }),
    /** What the run upgrades to (release, tag or commit): the run key. */
    target: z.union([nonEmpty, z.number()]).transform(String),
    /** Bump to run the same target again. */
    rerun: z.number().int().nonnegative().default(0),
    orchestrator: orchestratorSchema.optional(),
    inmantaToken: nonEmpty.optional(),
    inmantaCaCert: nonEmpty.optional(),
    database: databaseSchema.optional(),
    databasePassword: nonEmpty.optional(),
    sshPrivateKey: nonEmpty.optional(),
    northbound: z.strictObject({ block: shellCommand, unblock: shellCommand }).optional(),
    lsm: lsmSchema.optional(),
    /** Safety guards; turning one off makes the policy pack refuse the stack. */
    safety: z.strictObject({ protectedEnvironment: z.boolean().default(true) }).default({ protectedEnvironment: true }),
    /** The optional dry run before the upgrade (seed: pre-upgrade step 5). */
    preUpgradeDryrun: z.boolean().default(true),
    approval: approvalSchema.default({ digests: [], allow: [], allowEmpty: true }),
    /** Operator gates: their timeout, and pre-approvals for unattended runs (components/gates). */
    gates: gatesSchema.default({ timeoutSeconds: 3600, approved: [] }),
    apiTests: shellCommand.optional(),
    careful: carefulSchema.optional(),
    install: installSchema.optional(),
    abort: abortSchema.optional(),
    release: releaseSchema.optional(),
    lsst: lsstSchema.optional(),
    /** Slack incoming webhook of the LSST site's channel (a secret). */
    lsstSlackWebhook: nonEmpty.optional(),
    openstack: openstackSchema.optional(),
});

export type RunbookConfig = z.output<typeof runbookSchema>;
export type OrchestratorConfig = z.output<typeof orchestratorSchema>;
export type DatabaseConfig = z.output<typeof databaseSchema>;
export type LsmConfig = z.output<typeof lsmSchema>;
export type ApprovalConfig = z.output<typeof approvalSchema>;
export type ApprovalPattern = z.output<typeof approvalPatternSchema>;
export type SshConfig = z.output<typeof sshSchema>;
export type ShellCommandConfig = z.output<typeof shellCommand>;
