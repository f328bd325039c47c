import { strict as assert } from "assert";
import { kubernetesWavesGated } from "../../policy/policies/kubernetes-waves";
import { kubernetesWaves, plainUpgrade } from "./fixtures";
import { assertNoViolations, assertViolation, edit, runPolicy, without } from "./util";

describe("policy kubernetes-waves-gated (mandatory)", () => {
    const p = kubernetesWavesGated;

    it("passes waves that each wait for the probe gate after the previous wave", () =>
        assertNoViolations(p, kubernetesWaves(), { procedure: "lsst-upgrade" }));

    it("is not applicable without argocd-sync steps", async () => {
        assert.match((await runPolicy(p, plainUpgrade())).notApplicable ?? "", /no argocd-sync/);
    });

    it("fails a wave that does not wait for a gate", () =>
        assertViolation(p, without(kubernetesWaves(), "gate-1"),
            "Sync step `sync-ospl-config` (wave 2) does not wait for a `probe-gate` step after wave 1 (`sync-csc-cluster-config`).",
            { step: "sync-ospl-config" }));

    it("fails when the gate does not cover the whole previous wave", () =>
        assertViolation(p, [...edit(kubernetesWaves(), "gate-3", { after: ["sync-kafka-producers"] }).slice(0, -1),
            { id: "sync-late", kind: "argocd-sync", params: { app: "rest", wave: 4 }, after: ["gate-3"], shell: true }],
        "Sync step `sync-late` (wave 4) does not wait for a `probe-gate` step after wave 3 (`sync-kafka-producers` and `sync-obssys`)."));

    it("fails a sync step without a numeric wave", () =>
        assertViolation(p, edit(kubernetesWaves(), "sync-obssys", { params: { wave: "late" } }),
            "Sync step `sync-obssys` has no numeric `wave` param (found \"late\")."));

    it("accepts numeric strings as waves", () =>
        assertNoViolations(p, edit(kubernetesWaves(), "sync-obssys", { params: { wave: "3" } })));
});
