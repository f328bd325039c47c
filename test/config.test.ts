import { strict as assert } from "assert";
import { ConfigError } from "../components/config";
import { installMocks, settle } from "./support/mocks";
import { careful, ENV_ID, load, lsmAbort, lsmInstall, lsmUpgrade, RawConfig, release } from "./support/configs";

function problemsOf(raw: RawConfig, secretKeys: string[] = []): string[] {
    try {
        load(raw, secretKeys);
    } catch (err) {
        assert.ok(err instanceof ConfigError, `a ConfigError, got ${err}`);
        return (err as ConfigError).problems.map(p => `${p.path}: ${p.message}`);
    }
    assert.fail("the configuration was accepted");
}

const without = (raw: RawConfig, key: string): RawConfig => {
    const copy = { ...raw };
    delete copy[key];
    return copy;
};

const orch = (over: RawConfig) => ({ url: "http://127.0.0.1:8888", environment: ENV_ID, ...over });

/** [what is broken, config, the config path the message must name, words the message must hold] */
const BROKEN: [string, RawConfig, string, RegExp][] = [
    ["missing environment id", lsmUpgrade({ orchestrator: { url: "http://127.0.0.1:8888" } }), "upgrade:orchestrator.environment", /expected string/i],
    ["a non-UUID environment id", lsmUpgrade({ orchestrator: orch({ environment: "prod-env" }) }), "upgrade:orchestrator.environment", /UUID/],
    ["an unknown procedure", lsmUpgrade({ procedure: "lsm-upgrayde" }), "upgrade:procedure", /must be one of .*lsm-upgrade/],
    ["a setting value of the wrong type", lsmInstall({ install: { expectedSettings: { auto_deploy: "yes" } } }), "upgrade:install.expectedSettings.auto_deploy", /wrong type/],
    ["the non-strict exporter with backup disabled", lsmUpgrade({ lsm: { instanceUpdatesExpected: true, backup: false } }), "upgrade:lsm.backup", /non-strict exporter/],
    ["an unknown agent name", careful({ careful: { agents: ["a1", "a9"] } }), "upgrade:careful.agents[1]", /unknown agent "a9"/],
    ["no target", without(lsmUpgrade(), "target"), "upgrade:target", /./],
    ["an orchestrator URL that is not one", lsmUpgrade({ orchestrator: orch({ url: "orchestrator:8888" }) }), "upgrade:orchestrator.url", /http\(s\) URL/],
    ["a token in plain text", lsmUpgrade({ inmantaToken: "s3cr3t" }), "upgrade:inmantaToken", /must be a secret/],
    ["an empty table list", lsmUpgrade({ database: { tables: [] } }), "upgrade:database.tables", /at least one table/],
    ["careful deploy without agents", careful({ careful: { agents: [] } }), "upgrade:careful.agents", /at least one agent/],
    ["an agent listed twice", careful({ careful: { agents: ["a1", "a2", "a1"] } }), "upgrade:careful.agents[2]", /listed twice/],
    ["a malformed approval digest", lsmUpgrade({ approval: { digests: ["abc123"] } }), "upgrade:approval.digests[0]", /sha256:/],
    ["a negative timeout", lsmUpgrade({ orchestrator: orch({ timeoutSeconds: -5 }) }), "upgrade:orchestrator.timeoutSeconds", /./],
    ["an LSM upgrade without north-bound commands", without(lsmUpgrade(), "northbound"), "upgrade:northbound", /north-bound API is blocked/],
    ["a table restore without a backup file", lsmAbort({ abort: { restoreTables: true } }), "upgrade:abort.backupFile", /required when abort.restoreTables/],
    ["an SSH port out of range", lsmUpgrade({ apiTests: { command: "t", ssh: { host: "h", port: 70000 } } }), "upgrade:apiTests.ssh.port", /./],
    ["a misspelt key", { ...lsmUpgrade(), orchestator: {} }, "upgrade:orchestator", /not a known setting/],
    ["a release without a project folder", release({ release: undefined }), "upgrade:release", /required by procedure release/],
    ["a backup needed but no database", lsmUpgrade({ database: undefined }), "upgrade:database", /backs up the inventory/],
    ["an https-only CA on an http URL", lsmUpgrade({ inmantaCaCert: "PEM" }), "upgrade:orchestrator.url", /must be https/],
    ["instance updates on a first deployment", lsmInstall({ lsm: { instanceUpdatesExpected: true } }), "upgrade:lsm.instanceUpdatesExpected", /first deployment/],
    ["the internal agent among the others", careful({ careful: { agents: ["internal", "a1"] } }), "upgrade:careful.agents[0]", /internal agent/],
];

describe("configuration validation", () => {
    it(`rejects ${BROKEN.length} distinct broken configurations, naming the path and the problem`, () => {
        assert.ok(BROKEN.length >= 15);
        for (const [what, raw, path, words] of BROKEN) {
            const problems = problemsOf(raw, what === "an https-only CA on an http URL" ? ["inmantaCaCert"] : []);
            const hit = problems.find(p => p.startsWith(`${path}: `));
            assert.ok(hit, `${what}: expected a problem at ${path}, got:\n${problems.join("\n")}`);
            assert.match(hit!, words, `${what}: ${hit}`);
        }
    });

    it("lists every problem of a configuration in one message", () => {
        const raw = lsmUpgrade({
            orchestrator: orch({ environment: "nope", timeoutSeconds: 0 }),
            approval: { digests: ["bad"] },
            lsm: { instanceUpdatesExpected: true, backup: false },
        });
        try {
            load(raw);
            assert.fail("accepted");
        } catch (err) {
            const message = (err as Error).message;
            assert.match(message, /^test: 4 configuration problems:/);
            for (const path of ["upgrade:orchestrator.environment", "upgrade:orchestrator.timeoutSeconds", "upgrade:approval.digests[0]", "upgrade:lsm.backup"]) {
                assert.ok(message.includes(`  - ${path}: `), `${path} in\n${message}`);
            }
        }
    });

    it("accepts every example procedure and fills in the defaults", () => {
        for (const raw of [lsmUpgrade(), lsmInstall(), careful(), lsmAbort(), release()]) load(raw);
        const c = load(lsmUpgrade());
        assert.deepEqual(c.database!.tables, ["lsm_serviceentity", "lsm_serviceinstance"]);
        assert.equal(c.orchestrator!.shell.projectDir, "/var/lib/inmanta/server/environments/{environment}");
        assert.deepEqual(c.approval, { digests: [], allow: [], allowEmpty: true });
        assert.equal(load(lsmUpgrade({ inmantaToken: "t" }), ["inmantaToken"]).inmantaToken, "t");
    });

    it("fails before any resource is registered", async () => {
        const run = await installMocks({ preview: true });
        assert.throws(() => {
            const config = load(lsmUpgrade({ orchestrator: orch({ environment: "x" }) }));
            // Never reached: the program builds only from a validated configuration.
            require("../components/program").buildRunbook(config);
        }, ConfigError);
        await settle(run);
        assert.equal(run.registrations.length, 0);
    });
});
