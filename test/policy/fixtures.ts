/**
 * Compliant step graphs, as the program builds them (see `npm run -s plan -- --stack <s> --format json`),
 * and fabricated ones for the OpenStack and LSST kinds (small graphs that isolate one rule). Tests take one
 * and break exactly one thing.
 */
import { COMPUTED, ENV, FakeStep } from "./util";

const setting = (id: string, name: string, value: unknown, env = ENV, optional = false): FakeStep =>
    ({ id, kind: "setting", params: { environment: env, name, value, optional } });

/** The service-model upgrade without LSM (plain-upgrade stack). */
export function plainUpgrade(env = ENV): FakeStep[] {
    return [
        setting("pre-protected-environment", "protected_environment", true, env),
        setting("pre-auto-deploy-off", "auto_deploy", false, env),
        { id: "pre-recompile", kind: "compile", params: { environment: env, update: false, expectNoDeploy: true } },
        { id: "pre-health-check", kind: "health-check", params: { environment: env } },
        { id: "pre-dryrun", kind: "dryrun", params: { environment: env, version: COMPUTED }, dataFrom: ["pre-recompile"] },
        { id: "upgrade-update-compile", kind: "compile", params: { environment: env, update: true, expectNoDeploy: true } },
        { id: "upgrade-dryrun", kind: "dryrun", params: { environment: env, version: COMPUTED }, dataFrom: ["upgrade-update-compile"] },
        {
            id: "upgrade-approval", kind: "approval-gate", dataFrom: ["upgrade-dryrun"],
            params: { environment: env, version: COMPUTED, digests: [], allow: [], allowEmpty: true },
        },
        { id: "upgrade-deploy", kind: "deploy", params: { environment: env, version: COMPUTED }, dataFrom: ["upgrade-update-compile"] },
        setting("post-auto-deploy-on", "auto_deploy", true, env),
    ];
}

/** The LSM upgrade with instance updates: non-strict export after a backup (lsm-upgrade stack). */
export function lsmUpgrade(env = ENV): FakeStep[] {
    return [
        setting("pre-protected-environment", "protected_environment", true, env),
        setting("pre-auto-deploy-off", "auto_deploy", false, env),
        { id: "pre-recompile", kind: "compile", params: { environment: env, update: false, expectNoDeploy: true } },
        { id: "pre-health-check", kind: "health-check", params: { environment: env } },
        { id: "pre-dryrun", kind: "dryrun", params: { environment: env, version: COMPUTED }, dataFrom: ["pre-recompile"] },
        { id: "pre-northbound-block", kind: "northbound-block", params: { command: "nb block", host: "lb" }, remote: true },
        { id: "pre-agents-pause", kind: "agents-pause", params: { environment: env } },
        {
            id: "pre-db-backup", kind: "db-backup",
            params: { host: "db", port: 5432, database: "inmanta", user: "inmanta", tables: ["lsm_serviceentity", "lsm_serviceinstance"], full: false, dir: "/srv/backups", label: "pre" },
        },
        { id: "upgrade-update-compile", kind: "compile", params: { environment: env, update: true, expectNoDeploy: true } },
        {
            id: "upgrade-export", kind: "export", after: ["upgrade-update-compile", "pre-db-backup"], remote: true,
            params: { plugin: "service_entities_exporter", strict: false, entryPoint: "loader.cf", environment: env },
        },
        { id: "upgrade-recompile", kind: "compile", params: { environment: env, update: false, expectNoDeploy: true } },
        { id: "upgrade-agents-resume", kind: "agents-resume", params: { environment: env } },
        { id: "upgrade-dryrun", kind: "dryrun", params: { environment: env, version: COMPUTED }, dataFrom: ["upgrade-recompile"] },
        {
            id: "upgrade-approval", kind: "approval-gate", dataFrom: ["upgrade-dryrun"],
            params: { environment: env, version: COMPUTED, digests: [], allow: [], allowEmpty: false },
        },
        { id: "upgrade-deploy", kind: "deploy", params: { environment: env, version: COMPUTED }, dataFrom: ["upgrade-recompile"] },
        setting("post-auto-deploy-on", "auto_deploy", true, env),
        { id: "post-northbound-unblock", kind: "northbound-unblock", params: { command: "nb unblock", host: "lb" }, remote: true },
        { id: "post-api-tests", kind: "api-tests", params: { command: "./api-tests/run.sh" }, shell: true },
    ];
}

/** First deployment with LSM: cross-check first, strict export, automation on at the end (lsm-install stack). */
export function lsmInstall(env = ENV): FakeStep[] {
    return [
        { id: "install-settings-check", kind: "settings-check", params: { environment: env, expected: { server_compile: true } } },
        setting("install-protected-environment", "protected_environment", true, env),
        setting("install-auto-deploy-off", "auto_deploy", false, env),
        { id: "install-compile", kind: "compile", params: { environment: env, update: false, expectNoDeploy: true } },
        {
            id: "install-export", kind: "export", shell: true,
            params: { plugin: "service_entities_exporter_strict", strict: true, entryPoint: "loader.cf", environment: env },
        },
        { id: "install-recompile", kind: "compile", params: { environment: env, update: false, expectNoDeploy: true } },
        { id: "install-dryrun", kind: "dryrun", params: { environment: env, version: COMPUTED }, dataFrom: ["install-recompile"] },
        {
            id: "install-approval", kind: "approval-gate", dataFrom: ["install-dryrun"],
            params: { environment: env, version: COMPUTED, digests: [], allow: [], allowEmpty: true },
        },
        { id: "install-deploy", kind: "deploy", params: { environment: env, version: COMPUTED }, dataFrom: ["install-recompile"] },
        setting("install-agent-trigger-method-on-auto-deploy", "agent_trigger_method_on_auto_deploy", "push_incremental_deploy", env, true),
        setting("install-auto-deploy", "auto_deploy", true, env),
        setting("install-push-on-auto-deploy", "push_on_auto_deploy", true, env, true),
        setting("install-server-compile", "server_compile", true, env),
        { id: "install-api-tests", kind: "api-tests", params: { command: "./api-tests/run.sh" }, shell: true },
    ];
}

/** The extra careful deploy (careful-deploy stack). */
export function carefulDeploy(env = ENV): FakeStep[] {
    const deploy = (agent: string, after?: string[]): FakeStep => ({
        id: `careful-deploy-${agent}`, kind: "deploy", params: { environment: env, agent, repair: true, version: COMPUTED },
        dataFrom: ["careful-compile"], ...(after ? { after } : {}),
    });
    return [
        setting("careful-protected-environment", "protected_environment", true, env),
        {
            id: "careful-record-intervals", kind: "settings-record",
            params: { environment: env, names: ["autostart_agent_deploy_interval", "autostart_agent_repair_interval"] },
        },
        setting("careful-autostart-agent-deploy-interval-off", "autostart_agent_deploy_interval", "0", env),
        setting("careful-autostart-agent-repair-interval-off", "autostart_agent_repair_interval", "0", env),
        setting("careful-auto-deploy-on", "auto_deploy", true, env),
        setting("careful-push-on-auto-deploy-off", "push_on_auto_deploy", false, env, true),
        { id: "careful-compile", kind: "compile", params: { environment: env, update: false, expectNoDeploy: false } },
        deploy("internal"),
        { id: "careful-dryrun", kind: "dryrun", params: { environment: env, version: COMPUTED }, dataFrom: ["careful-compile"] },
        {
            id: "careful-approval", kind: "approval-gate", dataFrom: ["careful-dryrun"],
            params: { environment: env, version: COMPUTED, digests: [], allow: [], allowEmpty: true },
        },
        deploy("core-switch"),
        deploy("edge-router-1"),
        deploy("edge-router-2"),
        setting("careful-restore-agent-trigger-method-on-auto-deploy", "agent_trigger_method_on_auto_deploy", "push_incremental_deploy", env, true),
        setting("careful-restore-auto-deploy", "auto_deploy", true, env),
        setting("careful-restore-push-on-auto-deploy", "push_on_auto_deploy", true, env, true),
        setting("careful-restore-server-compile", "server_compile", true, env),
        {
            id: "careful-restore-autostart-agent-deploy-interval", kind: "setting", dataFrom: ["careful-record-intervals"],
            params: { environment: env, name: "autostart_agent_deploy_interval", value: COMPUTED, optional: false },
        },
        {
            id: "careful-restore-autostart-agent-repair-interval", kind: "setting", dataFrom: ["careful-record-intervals"],
            params: { environment: env, name: "autostart_agent_repair_interval", value: COMPUTED, optional: false },
        },
    ];
}

/** The project release: git and inmanta CLI steps, no environment (release stack). */
export function release(): FakeStep[] {
    return [
        { id: "release-install-mode", kind: "project-check", params: { projectDir: "/srv/p", check: "install-mode" } },
        { id: "release-freeze", kind: "project-freeze", params: { projectDir: "/srv/p", command: "inmanta -vv -X project freeze" }, shell: true },
        { id: "release-verify-frozen", kind: "project-check", params: { projectDir: "/srv/p", check: "frozen", expectedModules: { std: "8.2.0" } } },
        { id: "release-commit", kind: "git-commit", params: { command: "git commit -a" }, shell: true },
        { id: "release-push", kind: "git-push", params: { command: "git push" }, shell: true },
    ];
}

/**
 * An LSST-style Kubernetes upgrade in waves (fabricated: plan-format vocabulary): wave 1 syncs the
 * cluster config, wave 2 the OSPL config, wave 3 two applications side by side; a probe gate after each.
 */
export function kubernetesWaves(): FakeStep[] {
    return [
        { id: "csc-offline", kind: "csc-state", params: { target: "OFFLINE" }, shell: true },
        { id: "k8s-cleanup", kind: "k8s-cleanup", params: {}, shell: true },
        { id: "sync-csc-cluster-config", kind: "argocd-sync", params: { app: "csc-cluster-config", wave: 1 }, shell: true },
        { id: "gate-1", kind: "probe-gate", params: { probe: "csc-cluster-config healthy" }, shell: true },
        { id: "sync-ospl-config", kind: "argocd-sync", params: { app: "ospl-config", wave: 2 }, shell: true },
        { id: "gate-2", kind: "probe-gate", params: { probe: "ospl-config healthy" }, shell: true },
        { id: "sync-kafka-producers", kind: "argocd-sync", params: { app: "kafka-producers", wave: 3 }, after: ["gate-2"], shell: true },
        { id: "sync-obssys", kind: "argocd-sync", params: { app: "obssys", wave: 3 }, after: ["gate-2"], shell: true },
        { id: "gate-3", kind: "probe-gate", params: { probe: "wave 3 healthy" }, after: ["sync-kafka-producers", "sync-obssys"], shell: true },
        { id: "csc-enabled", kind: "csc-state", params: { target: "ENABLED" }, shell: true },
    ];
}

/** A Spinal Stack style eDeploy upgrade of two nodes (fabricated: plan-format vocabulary). */
export function edeployUpgrade(): FakeStep[] {
    return [
        { id: "provision", kind: "provision", params: {}, shell: true },
        { id: "edeploy-controller", kind: "edeploy-upgrade", params: { node: "ctl1", role: "controller", excludeFile: "/etc/edeploy/controller.exclude" }, shell: true },
        { id: "edeploy-compute", kind: "edeploy-upgrade", params: { node: "cmp1", role: "compute", excludeFile: "/etc/edeploy/compute.exclude" }, shell: true },
        { id: "sanity", kind: "sanity", params: { suite: "smoke" }, shell: true },
    ];
}
