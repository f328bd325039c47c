import { strict as assert } from "assert";
import { agentsPausedDuringExport } from "../../policy/policies/agents-paused";
import { lsmInstall, lsmUpgrade } from "./fixtures";
import { ENV, assertNoViolations, assertViolation, edit, insertAfter, runPolicy, without } from "./util";

describe("policy agents-paused-during-export (mandatory)", () => {
    const p = agentsPausedDuringExport;

    it("passes the LSM upgrade", () => assertNoViolations(p, lsmUpgrade()));

    it("does not apply to a first deployment (no update compile before its export)", async () => {
        assert.match((await runPolicy(p, lsmInstall(), { procedure: "lsm-install" })).notApplicable ?? "", /no LSM upgrade export/);
    });

    it("fails when the agents are not paused before the export", () =>
        assertViolation(p, without(lsmUpgrade(), "pre-agents-pause"),
            "Export step `upgrade-export` does not run with all agents paused", { step: "upgrade-export" }));

    it("fails when only one agent is paused", () =>
        assertViolation(p, edit(lsmUpgrade(), "pre-agents-pause", { params: { environment: ENV, agent: "edge-router-1" } }),
            "Export step `upgrade-export` does not run with all agents paused"));

    it("fails when the agents are resumed before the export", () =>
        assertViolation(p, insertAfter(lsmUpgrade(), "pre-db-backup", { id: "early-resume", kind: "agents-resume", params: { environment: ENV } }),
            "Export step `upgrade-export` does not run with all agents paused"));

    it("fails when the agents are never resumed", () =>
        assertViolation(p, without(lsmUpgrade(), "upgrade-agents-resume"),
            "Export step `upgrade-export`: no `agents-resume` step (all agents) follows it"));

    it("fails when the dry run does not wait for the agents to be resumed", () =>
        assertViolation(p, edit(lsmUpgrade(), "upgrade-agents-resume", { after: ["upgrade-deploy"] })
            .map(s => (s.id === "upgrade-dryrun" ? { ...s, after: ["upgrade-recompile"] } : s))
            .sort((a, b) => order(a.id) - order(b.id)),
        "Dry run `upgrade-dryrun` after export `upgrade-export` does not wait for the agents to be resumed (`upgrade-agents-resume`)",
        { step: "upgrade-dryrun" }));

    it("checks the exports of procedures named in the config even without an update compile", async () => {
        const run = await runPolicy(p, lsmInstall(), { procedure: "lsm-install", config: { procedures: ["lsm-install"] } });
        assert.deepEqual(run.violations.map(v => v.message.split(":")[0]), [
            "Export step `install-export` does not run with all agents paused", "Export step `install-export`",
        ]);
    });
});

const ORDER = [
    "pre-protected-environment", "pre-auto-deploy-off", "pre-recompile", "pre-health-check", "pre-dryrun", "pre-northbound-block",
    "pre-agents-pause", "pre-db-backup", "upgrade-update-compile", "upgrade-export", "upgrade-recompile", "upgrade-dryrun",
    "upgrade-approval", "upgrade-deploy", "upgrade-agents-resume", "post-auto-deploy-on", "post-northbound-unblock", "post-api-tests",
];
const order = (id: string) => ORDER.indexOf(id);
