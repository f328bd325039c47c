import { strict as assert } from "assert";
import { edeployExcludeFile, excludeFileOf } from "../../policy/policies/edeploy-exclude";
import { buildGraph } from "../../policy/graph";
import { edeployUpgrade, plainUpgrade } from "./fixtures";
import { COMPUTED, assertNoViolations, assertViolation, edit, fakeResources, runPolicy } from "./util";

describe("policy edeploy-exclude-file (mandatory)", () => {
    const p = edeployExcludeFile;

    it("passes eDeploy upgrades that name their exclude file", () => assertNoViolations(p, edeployUpgrade()));

    it("accepts an exclude file computed by an earlier step", () =>
        assertNoViolations(p, edit(edeployUpgrade(), "edeploy-compute", { params: { excludeFile: COMPUTED } })));

    it("accepts eDeploy's layout params instead: <metadataDir>/<from>/<role>/<to>/exclude", async () => {
        const layout = { excludeFile: undefined, metadataDir: "/var/lib/edeploy/metadata/", from: "I.1.0", to: "I.1.1" };
        const steps = edit(edeployUpgrade(), "edeploy-compute", { params: layout });
        await assertNoViolations(p, steps);
        assert.equal(excludeFileOf(buildGraph(fakeResources(steps)).get("edeploy-compute")!), "/var/lib/edeploy/metadata/I.1.0/compute/I.1.1/exclude");
        await assertViolation(p, edit(steps, "edeploy-compute", { params: { to: "" } }), "eDeploy upgrade step `edeploy-compute` has no exclude file");
    });

    it("is not applicable without edeploy-upgrade steps", async () => {
        assert.match((await runPolicy(p, plainUpgrade())).notApplicable ?? "", /no edeploy-upgrade/);
    });

    it("fails an eDeploy upgrade without an exclude file", () =>
        assertViolation(p, edit(edeployUpgrade(), "edeploy-compute", { params: { excludeFile: undefined } }),
            "eDeploy upgrade step `edeploy-compute` has no exclude file: set its `excludeFile` param", { step: "edeploy-compute" }));

    it("fails an empty exclude file path", () =>
        assertViolation(p, edit(edeployUpgrade(), "edeploy-controller", { params: { excludeFile: " " } }),
            "eDeploy upgrade step `edeploy-controller` has no exclude file"));

    it("fails when the params cannot be read during preview", () =>
        assertViolation(p, edit(edeployUpgrade(), "edeploy-compute", { specUnknown: true, params: { node: COMPUTED } }),
            "eDeploy upgrade step `edeploy-compute`: its params are unknown during preview"));
});
