/**
 * The policy pack (policy/) on the LSST stacks, through the steps the program registers (as
 * test/policy/examples.test.ts does for the other example stacks).
 */
import { strict as assert } from "assert";
import { loadStack } from "../../cli/stack-config";
import { policies } from "../../policy/policies";
import { kubernetesWavesGated } from "../../policy/policies/kubernetes-waves";
import type { StackValidationPolicy } from "../../policy/types";
import { buildUnderMocks } from "../support/mocks";
import { computedParams, FakeStep, runPolicy, without } from "../policy/util";
import { ROOT } from "./support";

/** The recorded steps as the policies see them; params from earlier steps are unknown in a preview. */
async function stepsOf(stack: string): Promise<FakeStep[]> {
    const run = await buildUnderMocks(loadStack(stack, ROOT).config);
    return run.steps.map(s => ({ id: s.id, kind: s.kind, params: computedParams(s.params) as Record<string, unknown>, after: s.dependsOn }));
}

describe("policy pack on the LSST stacks", function () {
    this.timeout(60000);

    for (const stack of ["lsst-summit", "lsst-tts"]) {
        it(`${stack}: no violation, and the Kubernetes waves policy applies`, async () => {
            const steps = await stepsOf(stack);
            const found: string[] = [];
            for (const policy of policies as StackValidationPolicy[]) {
                const run = await runPolicy(policy, steps, { stack, procedure: "lsst-site-upgrade", procedureType: "upgrade:lsst:SiteUpgrade" });
                for (const v of run.violations) found.push(`${policy.enforcementLevel} ${policy.name}: ${v.message}`);
                if (policy.name === kubernetesWavesGated.name) assert.equal(run.notApplicable, undefined);
            }
            assert.deepEqual(found, []);
        });
    }

    it("a wave without the gate after the previous one would be refused", async () => {
        const steps = without(await stepsOf("lsst-tts"), "deploy-daemons-ready");
        const run = await runPolicy(kubernetesWavesGated, steps, { procedure: "lsst-site-upgrade" });
        assert.deepEqual(run.violations.map(v => v.message), [
            "Sync step `deploy-argocd-kafka-producers` (wave 2) does not wait for a `probe-gate` step after wave 1 "
            + "(`deploy-argocd-csc-cluster-config`, `deploy-argocd-ospl-config` and `deploy-argocd-ospl-daemon`).",
        ]);
    });
});
