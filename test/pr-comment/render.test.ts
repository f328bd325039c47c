/**
 * The pull-request comment's parts without the engine: the changes since the last run (the state's
 * `triggers` against the plan), the verdict of a preview with a violation, the shortened preview.
 * Preview text below follows pulumi/pulumi pkg/backend/display/diff.go (violation lines, the
 * "Policy Packs run:" table) and object_diff.go (a JSON-valued string input printed as "(json) {").
 */
import { strict as assert } from "assert";
import { changesSinceLastRun } from "../../cli/pr-comment/changes";
import { policyVerdict, shortenPreview } from "../../cli/pr-comment/preview";
import { renderComment } from "../../cli/pr-comment/render";
import { parseExport } from "../../cli/status/state";
import { StepRecord } from "../../components/core/registry";

const urn = (id: string) => `urn:pulumi:s::upgrade::upgrade:inmanta:X$upgrade:step:Setting$command:local:Command::${id}`;

function state(runKey: string, steps: [string, Record<string, unknown>][]) {
    return parseExport(JSON.stringify({
        deployment: {
            resources: steps.map(([id, params]) => ({ urn: urn(id), type: "command:local:Command", inputs: { triggers: [runKey, { step: id, kind: "setting", params }] } })),
        },
    }));
}

const rec = (id: string, params: Record<string, unknown>): StepRecord => ({ id, kind: "setting", title: `Set ${id}`, params, dependsOn: [] });

describe("pull-request comment: its parts", () => {
    it("names the steps added and removed and the params changed since the last run; computed params are not compared", () => {
        const last = state("2.0.0", [["a", { name: "auto_deploy", value: false }], ["b", { version: 7 }], ["gone", {}]]);
        const plan = [rec("a", { name: "auto_deploy", value: true }), rec("b", { version: { from: "compile.version" } }), rec("new", {})];
        assert.deepEqual(changesSinceLastRun(plan, last, "2.0.0"), {
            ranBefore: true, added: ["new"], removed: ["gone"], params: [{ step: "a", path: "value", from: false, to: true }],
        });
        assert.deepEqual(changesSinceLastRun(plan, last, "2.1.0").newRunKey, { from: "2.0.0", to: "2.1.0" });
        const text = renderComment({
            plan: { stack: "s", procedure: "upgrade", steps: plan }, runKey: "2.1.0", changes: changesSinceLastRun(plan, last, "2.1.0"),
            verdict: { ran: true, mandatory: 0, advisory: 0, text: "Policy Packs run:" }, preview: "p", shortPreview: "p",
        });
        const section = text.slice(text.indexOf("### Changed since the last run"), text.indexOf("### Policy pack"));
        assert.deepEqual(section.split("\n").filter(l => l.startsWith("- ")), [
            "- New run key: `2.0.0` → `2.1.0`: every step runs again.",
            "- Steps added: `new`",
            "- Steps removed: `gone`",
            "- `a`: `value` false → true",
        ]);
    });

    it("reads a violation as the diff view prints it: description after the heading, message below, unindented", () => {
        const preview = [
            "    upgrade-safety@v0.1.0 [mandatory]  protected-environment-first  (command:local:Command: pre-auto-deploy-off)Every environment has protected_environment first.",
            "Environment 2d4e…: no step sets protected_environment = true.",
            "            + command:local:Command: (create)",
            "Resources:",
            "    + 3 to create",
        ].join("\n");
        const v = policyVerdict(preview);
        assert.equal(v.mandatory, 1);
        assert.equal(v.text, [
            "upgrade-safety@v0.1.0 [mandatory]  protected-environment-first  (command:local:Command: pre-auto-deploy-off)",
            "  Every environment has protected_environment first.",
            "  Environment 2d4e…: no step sets protected_environment = true.",
        ].join("\n"));
    });

    it("reads the verdict of a progress-view preview with violations", () => {
        const preview = [
            "    + command:local:Command: (create)",
            "    upgrade-safety@v0.1.0 [mandatory]  protected-environment-first  (command:local:Command: pre-auto-deploy-off)",
            "      Every Inmanta environment the stack acts on has protected_environment = true set or asserted before any other step.",
            "      Environment 2d4e…: no step sets protected_environment = true.",
            "    upgrade-safety@v0.1.0 [advisory]  restore-path-in-production  (command:local:Command: pre-recompile)",
            "      Production stacks have a restore path.",
            "",
            "Resources:",
            "    + 3 to create",
            "",
            "Policy Packs run:",
            "    Name                  Version",
            "    upgrade-safety|local  0.1.0",
        ].join("\n");
        const v = policyVerdict(preview);
        assert.deepEqual([v.ran, v.mandatory, v.advisory], [true, 1, 1]);
        assert.equal(v.text.split("\n\n")[0], [
            "upgrade-safety@v0.1.0 [mandatory]  protected-environment-first  (command:local:Command: pre-auto-deploy-off)",
            "  Every Inmanta environment the stack acts on has protected_environment = true set or asserted before any other step.",
            "  Environment 2d4e…: no step sets protected_environment = true.",
        ].join("\n"));
        assert.equal(policyVerdict("Resources:\n    + 3 to create\n").ran, false);
    });

    it("shortens the preview: the provider lines go, the rest stays, each param once", () => {
        const preview = [
            "            + command:local:Command: (create)",
            "                [urn=urn:pulumi:s::upgrade::x$command:local:Command::a]",
            "                [provider=urn:pulumi:s::upgrade::pulumi:providers:command::default_1_2_1::04da]",
            "                environment           : {",
            "                    UPGRADE_PARAM_value    : \"true\"",
            "                    UPGRADE_STACK          : \"s\"",
            "                    UPGRADE_STEP           : \"setting a\"",
            "                }",
            "                triggers              : [",
            "                    [0]: \"2.0.0\"",
            "                ]",
            "            + command:local:Command: (create)",
            "                [urn=urn:pulumi:s::upgrade::x$command:local:Command::b]",
            "                [provider=urn:pulumi:s::upgrade::pulumi:providers:command::default_1_2_1::04da]",
            "            + kubernetes:argoproj.io/v1alpha1:ApplicationPatch: (create)",
            "                [urn=urn:pulumi:s::upgrade::x$kubernetes:argoproj.io/v1alpha1:ApplicationPatch::c]",
            "                [provider=urn:pulumi:s::upgrade::upgrade:lsst:SiteUpgrade$pulumi:providers:kubernetes::site-cluster::04db]",
            "                [provider=urn:pulumi:s::upgrade::pulumi:providers:other::x::04dc]",
        ].join("\n");
        const s = shortenPreview(preview);
        const kept = preview.split("\n").filter(l => !l.includes("[provider=") || l.includes("providers:other"));
        assert.deepEqual(s.text.split("\n"), kept);
        assert.equal(s.removed, 3);
    });

    it("fences the previews so a backtick in them cannot close the block", () => {
        const text = renderComment({
            plan: { stack: "s", procedure: "upgrade", steps: [rec("a", {})] },
            runKey: "1", verdict: { ran: false, mandatory: 0, advisory: 0, text: "" }, preview: "x ``` y", shortPreview: "x ``` y",
        });
        assert.match(text, /^````\nx ``` y\n````$/m);
        assert.match(text, /^Policy pack: ⚠️ the policy pack did not run on this preview\. 1 steps would run/m);
        assert.match(text, /^The stack's state could not be read: no comparison with the last run\.$/m);
    });
});
