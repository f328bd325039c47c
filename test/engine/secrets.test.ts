import { strict as assert } from "assert";
import * as fs from "fs";
import { randomBytes } from "crypto";
import { EngineRun, EngineStack, requireEngine, secret } from "../support/engine";
import { createStack, Lab, PLAIN_UPGRADE_ACTIONS, actionsSince, plainUpgrade, startLab, stopLab } from "./fixture";

describe("engine: the Inmanta token stays a secret", function () {
    this.timeout(120000);
    const token = `tok-${randomBytes(12).toString("hex")}`;
    let lab: Lab;
    let stack: EngineStack;
    let preview: EngineRun;
    let up: EngineRun;

    before(async () => {
        requireEngine();
        lab = await startLab({ token });
        stack = await createStack(lab, plainUpgrade(lab, { preUpgradeDryrun: false, inmantaToken: secret(token) }));
        preview = await stack.preview();
        up = await stack.up();
    });
    after(async () => stopLab(lab));

    it("the steps authenticate with it (the fake refuses requests without it)", () => {
        assert.deepEqual(actionsSince(lab, 0), PLAIN_UPGRADE_ACTIONS);
        assert.ok(lab.fake.requests.length > PLAIN_UPGRADE_ACTIONS.length);
        for (const r of lab.fake.requests) {
            assert.equal(r.authorization, `Bearer ${token}`, `${r.method} ${r.path}`);
            assert.notEqual(r.status, 401, `${r.method} ${r.path}`);
        }
    });

    it("never appears in plain text in the logs, the events, the exported state or the backend's files", async () => {
        assert.ok(!preview.log.includes(token), "preview log");
        assert.ok(!up.log.includes(token), "up log");
        assert.ok(!JSON.stringify(preview.events).includes(token), "preview events");
        assert.ok(!JSON.stringify(up.events).includes(token), "up events");

        const { text, deployment } = await stack.exportState();
        assert.ok(!text.includes(token), "pulumi stack export");
        const commands = (deployment.resources ?? []).filter(r => r.type === "command:local:Command");
        assert.equal(commands.length, 9);
        for (const c of commands) {
            // INMANTA_TOKEN in the step's environment is stored encrypted (a secret value with a ciphertext).
            const stored = (c.inputs?.environment as Record<string, Record<string, unknown>> | undefined)?.INMANTA_TOKEN;
            assert.equal(stored?.["4dabf18193072939515e22adb298388d"], "1b47061264138c4ac30d75fd1eb44270", `${c.urn}: INMANTA_TOKEN is a secret`);
            assert.match(String(stored?.ciphertext), /^v1:/);
        }

        const files = lab.project.backendFiles();
        assert.ok(files.some(f => f.path.endsWith("/test.json")), `the state file is among ${files.map(f => f.path).join(", ")}`);
        for (const f of files) assert.ok(!f.text.includes(token), `backend file ${f.path}`);
        assert.ok(!fs.readFileSync(lab.project.stateFile("test"), "utf8").includes(token), "raw state file");

        const config = fs.readFileSync(stack.configFile(), "utf8");
        assert.match(config, /upgrade:inmantaToken:\s*\n\s+secure: /);
        assert.ok(!config.includes(token), "stack config file");
        assert.ok(!JSON.stringify(await stack.outputs()).includes(token), "stack outputs");
    });
});
