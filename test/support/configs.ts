import { loadRunbookConfig, RunbookConfig } from "../../components/config";

export const ENV_ID = "6f1c0e2a-3b4d-4c5e-8f60-718293a4b5c6";

/** Raw `upgrade:` config (keys without the namespace) as a stack file would hold it. */
export type RawConfig = Record<string, unknown>;

export function toPulumiConfig(raw: RawConfig): Record<string, string> {
    return Object.fromEntries(Object.entries(raw).map(([k, v]) => [`upgrade:${k}`, typeof v === "string" ? v : JSON.stringify(v)]));
}

export function load(raw: RawConfig, secretKeys: string[] = []): RunbookConfig {
    return loadRunbookConfig(toPulumiConfig(raw), { source: "test", secretKeys: secretKeys.map(k => `upgrade:${k}`) });
}

const orchestrator = { url: "http://127.0.0.1:8888", environment: ENV_ID, agents: ["internal", "a1", "a2", "a3"] };

export const lsmUpgrade = (over: RawConfig = {}): RawConfig => ({
    procedure: "lsm-upgrade",
    target: "2.0.0",
    orchestrator,
    lsm: { entryPoint: "loader.cf", instanceUpdatesExpected: true },
    database: { backupDir: "/tmp/backups" },
    northbound: { block: { command: "block-nb" }, unblock: { command: "unblock-nb" } },
    ...over,
});

export const plainUpgrade = (over: RawConfig = {}): RawConfig => ({ procedure: "upgrade", target: "2.0.0", orchestrator, ...over });

export const lsmInstall = (over: RawConfig = {}): RawConfig => ({
    procedure: "lsm-install", target: "1.0.0", orchestrator,
    lsm: { instanceUpdatesExpected: false }, apiTests: { command: "api-tests" }, ...over,
});

export const careful = (over: RawConfig = {}): RawConfig => ({
    procedure: "careful-deploy", target: "5.0.0", orchestrator,
    careful: { internalAgent: "internal", agents: ["a1", "a2", "a3"] }, ...over,
});

export const lsmAbort = (over: RawConfig = {}): RawConfig => ({
    procedure: "lsm-abort", target: "revert-2.0.0", orchestrator,
    lsm: { instanceUpdatesExpected: true }, database: { backupDir: "/tmp/backups" },
    northbound: { block: { command: "block-nb" }, unblock: { command: "unblock-nb" } },
    abort: { restoreTables: true, backupFile: "/tmp/backups/pre.dump", backupSha256: "0".repeat(64) }, ...over,
});

export const release = (over: RawConfig = {}): RawConfig => ({
    procedure: "release", target: "2026.11", release: { projectDir: "/srv/project", pushCommand: "git push" }, ...over,
});
