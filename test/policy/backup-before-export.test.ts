import { strict as assert } from "assert";
import { backupBeforeNonStrictExport } from "../../policy/policies/backup-before-export";
import { lsmInstall, lsmUpgrade } from "./fixtures";
import { assertNoViolations, assertViolation, edit, runPolicy, without } from "./util";

describe("policy backup-before-non-strict-export (mandatory)", () => {
    const p = backupBeforeNonStrictExport;

    it("passes the LSM upgrade: the non-strict export waits for the backup", () => assertNoViolations(p, lsmUpgrade()));

    it("is not applicable when every export is strict", async () => {
        assert.match((await runPolicy(p, lsmInstall())).notApplicable ?? "", /no non-strict export/);
    });

    it("fails when the non-strict export has no backup before it", () =>
        assertViolation(p, without(lsmUpgrade(), "pre-db-backup"),
            "Export step `upgrade-export` uses the non-strict exporter (plugin \"service_entities_exporter\") but does not depend on a verified database backup",
            { step: "upgrade-export" }));

    it("fails when the backup runs side by side with the export", () =>
        assertViolation(p, edit(lsmUpgrade(), "pre-db-backup", { after: ["pre-agents-pause"] })
            .map(s => (s.id === "upgrade-export" ? { ...s, after: ["upgrade-update-compile"] } : s.id === "upgrade-update-compile" ? { ...s, after: ["pre-agents-pause"] } : s)),
        "Export step `upgrade-export` uses the non-strict exporter"));

    it("treats an export without a known strict flag as non-strict", () =>
        assertViolation(p, without(edit(lsmUpgrade(), "upgrade-export", { params: { strict: undefined } }), "pre-db-backup"),
            "Export step `upgrade-export` has strict = undefined"));

    it("fails when the backup holds neither the whole database nor the inventory tables", () =>
        assertViolation(p, edit(lsmUpgrade(), "pre-db-backup", { params: { tables: ["lsm_serviceentity"] } }),
            "its backup `pre-db-backup` holds neither the whole database nor all of lsm_serviceentity, lsm_serviceinstance"));

    it("accepts a full dump", () =>
        assertNoViolations(p, edit(lsmUpgrade(), "pre-db-backup", { params: { tables: ["x"], full: true } })));
});
