import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import { lsstSchema } from "../../components/config/lsst";
import { loadStack } from "../../cli/stack-config";
import { buildUnderMocks } from "../support/mocks";
import { ROOT } from "./support";

const README = fs.readFileSync(path.join(ROOT, "components", "lsst", "README.md"), "utf8");

describe("LSST README section", function () {
    this.timeout(60000);

    it("says what runs for real in the tests, what is a stand-in, and how a site runs it", () => {
        const section = README.slice(README.indexOf("### What runs in the tests, and how a site runs it"));
        assert.ok(section.length > 500, "the section is there");
        for (const words of [/real control plane/, /real Pulumi Kubernetes provider/, /real Docker engine/, /Argo\nCD's application controller is ours|Argo CD's application controller is ours/,
            /`lab\/lsst\/fake-csc\.js`/, /pulumi up --stack lsst-summit/, /pulumi preview --stack lsst-summit/,
            /pulumi config set --secret lsstSlackWebhook/, /resumes at the failed step/, /upgrade:target/]) {
            assert.match(section, words);
        }
        assert.doesNotMatch(README, /fake kubectl|fake-kubectl|fake main daemon/, "the stand-ins that are gone are not described");
    });

    it("explains the design choices: Argo CD through the Kubernetes provider, the daemon through the site's docker command", () => {
        assert.match(README, /### Argo CD: a patch of the Kubernetes provider, awaited by the provider/);
        assert.match(README, /`kubernetes:argoproj\.io\/v1alpha1:ApplicationPatch`/);
        assert.match(README, /`pulumi\.com\/waitFor`/);
        assert.match(README, /a new run key is a new operation/);
        assert.match(README, /### The main OSPL daemon: the site's docker command, not `@pulumi\/docker`/);
        assert.match(README, /error: no resource plugin 'pulumi-resource-docker' found in the workspace at version v5\.2\.0/);
        // The versions named are the ones the project depends on.
        const pkg = JSON.parse(fs.readFileSync(path.join(ROOT, "package.json"), "utf8"));
        assert.match(README, new RegExp(`version v${pkg.dependencies["@pulumi/docker"].replace(/\./g, "\\.")}`));
    });

    it("names only step ids the example stacks have, and every kind they use", async () => {
        const ids = new Set<string>();
        const kinds = new Set<string>();
        for (const stack of ["lsst-summit", "lsst-tts"]) {
            const run = await buildUnderMocks(loadStack(stack, ROOT).config);
            for (const s of run.steps) {
                ids.add(s.id);
                kinds.add(s.kind);
            }
        }
        const mentioned = [...README.matchAll(/`((?:shutdown|config|deploy|monitor|enable)-[a-z0-9-]+)`/g)].map(m => m[1]).filter(id => !kinds.has(id));
        assert.ok(mentioned.length >= 30, `${mentioned.length} step ids in the README`);
        const unknown = mentioned.filter(id => !ids.has(id));
        assert.deepEqual(unknown, [], "step ids in the README that no stack has");
        const table = README.slice(README.indexOf("| kind | what it does | runs |"));
        for (const k of kinds) assert.match(table, new RegExp(`\\| \`${k}\` \\|`), `kind ${k} is described`);
    });

    it("documents every key of the lsst section", () => {
        const section = README.slice(README.indexOf("### Configuration (`upgrade:lsst`)"));
        for (const key of Object.keys(lsstSchema.shape)) assert.match(section, new RegExp(`\`${key}\``), `lsst.${key}`);
    });
});
