import { strict as assert } from "assert";
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { PROJECT_ROOT, requireEngine } from "../support/engine";

/**
 * `pulumi package get-schema command` works and prints the schema of @pulumi/command 1.2.1: the one
 * engine/provider-command/schema/generate.js rebuilds from the npm package's type declarations (the package
 * ships no schema.json). Upstream: pulumi/pulumi-command provider/cmd/pulumi-resource-command (GetSchema serves
 * the package schema the SDKs are generated from).
 */
describe("engine: the command provider serves the package schema", function () {
    this.timeout(120000);
    const generator = path.join(PROJECT_ROOT, "engine", "provider-command", "schema", "generate.js");

    it("schema_gen.go is what the generator writes from the installed @pulumi/command", () => {
        const out = execFileSync("node", [generator, "--check"], { encoding: "utf8", stdio: ["ignore", "pipe", "pipe"] });
        const schema = JSON.parse(out) as { version: string; resources: Record<string, unknown> };
        const sdkVersion = (JSON.parse(fs.readFileSync(path.join(PROJECT_ROOT, "node_modules", "@pulumi", "command", "package.json"), "utf8")) as { version: string }).version;
        assert.equal(schema.version, sdkVersion);
        assert.deepEqual(Object.keys(schema.resources),
            ["command:local:Command", "command:remote:Command", "command:remote:CopyFile", "command:remote:CopyToRemote"]);
    });

    it("pulumi package get-schema command prints it", () => {
        const engine = requireEngine();
        const cwd = fs.mkdtempSync(path.join(os.tmpdir(), "command-schema-"));
        try {
            const printed = execFileSync(engine.pulumi, ["package", "get-schema", "command@1.2.1"], {
                cwd, encoding: "utf8", maxBuffer: 16 * 1024 * 1024,
                env: { ...process.env, PULUMI_SKIP_UPDATE_CHECK: "true", PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true" },
            });
            const expected = execFileSync("node", [generator, "--check"], { encoding: "utf8" });
            const got = JSON.parse(printed) as Record<string, unknown>;
            const want = JSON.parse(expected) as Record<string, unknown>;
            assert.deepEqual(got.resources, want.resources);
            assert.deepEqual(got.functions, want.functions);
            assert.deepEqual(got.types, want.types);
            assert.equal(got.name, "command");
            assert.equal(got.version, "1.2.1");
        } finally {
            fs.rmSync(cwd, { recursive: true, force: true });
        }
    });
});
