import { strict as assert } from "assert";
import { operatorGatesBounded } from "../../policy/policies/operator-gates";
import { lsmInstall, plainUpgrade } from "./fixtures";
import { assertNoViolations, assertViolation, COMPUTED, edit, FakeStep, insertAfter, runPolicy } from "./util";

const GATE: FakeStep = {
    id: "install-look-first-version", kind: "operator-gate",
    params: { what: "the resources of the first version", timeoutSeconds: 3600, preApproved: false, show: { version: COMPUTED } },
};

/** The first deployment with its operator gate between the approval and the deploy, as the program places it. */
function withGate(): FakeStep[] {
    return insertAfter(lsmInstall(), "install-approval", GATE);
}

describe("policy operator-gates-bounded (mandatory)", () => {
    const p = operatorGatesBounded;

    it("passes a gate that says what to look at, has a timeout and guards the deploy", () => assertNoViolations(p, withGate()));

    it("is not applicable without operator gates", async () => {
        assert.match((await runPolicy(p, plainUpgrade())).notApplicable ?? "", /no operator-gate step/);
    });

    it("fails a gate without a timeout, or one longer than a week", async () => {
        await assertViolation(p, edit(withGate(), GATE.id, { params: { ...GATE.params, timeoutSeconds: undefined } }),
            "Operator gate `install-look-first-version` has no timeout between 1 s and 604800 s (param `timeoutSeconds` is undefined).");
        await assertViolation(p, edit(withGate(), GATE.id, { params: { ...GATE.params, timeoutSeconds: 604801 } }),
            "Operator gate `install-look-first-version` has no timeout between 1 s and 604800 s (param `timeoutSeconds` is 604801).");
    });

    it("fails a gate that does not say what to look at", () =>
        assertViolation(p, edit(withGate(), GATE.id, { params: { ...GATE.params, what: " " } }),
            "Operator gate `install-look-first-version` does not say what to look at (param `what` is \" \")."));

    it("fails a gate that nothing waits for", () =>
        assertViolation(p, [...plainUpgrade(), { ...GATE, id: "last-look" }],
            "Operator gate `last-look` guards nothing: no step waits for it."));
});
