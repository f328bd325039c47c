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

    it("says what cannot run here and how a site runs it", () => {
        const section = README.slice(README.indexOf("### What cannot run here"));
        assert.ok(section.length > 500, "the section is there");
        for (const words of [/a Kubernetes cluster, a Docker engine/, /Kubernetes and Docker providers/, /pulumi up --stack lsst-summit/,
            /pulumi preview --stack lsst-summit/, /pulumi config set --secret lsstSlackWebhook/, /resumes at the failed step/, /upgrade:target/]) {
            assert.match(section, words);
        }
    });

    it("explains both design choices, with the error a Docker or Kubernetes resource gets here", () => {
        assert.match(README, /### Argo CD: `kubectl patch` of the Application/);
        assert.match(README, /`@pulumi\/kubernetes`.*\n.*no resource plugin 'pulumi-resource-kubernetes' found/);
        assert.match(README, /`argocd app sync`: needs an `argocd login` session/);
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
