import { protectedEnvironmentFirst } from "../../policy/policies/protected-environment";
import { requiredSettings } from "../../policy/policies/required-settings";
import { carefulDeploy, lsmInstall, lsmUpgrade, plainUpgrade, release } from "./fixtures";
import { ENV, ENV2, assertNoViolations, assertViolation, edit, insertAfter, runPolicy, without } from "./util";
import { strict as assert } from "assert";

describe("policy protected-environment-first (mandatory)", () => {
    const p = protectedEnvironmentFirst;

    for (const [name, steps] of [["plain upgrade", plainUpgrade()], ["LSM upgrade", lsmUpgrade()], ["careful deploy", carefulDeploy()]] as const) {
        it(`passes the ${name}`, () => assertNoViolations(p, [...steps]));
    }

    it("lets the first deployment's settings cross-check run before the guard", () => assertNoViolations(p, lsmInstall()));

    it("is not applicable to a stack that acts on no environment", async () => {
        const run = await runPolicy(p, release());
        assert.match(run.notApplicable ?? "", /no Inmanta environment/);
    });

    it("fails when no step sets protected_environment = true", () =>
        assertViolation(p, without(lsmUpgrade(), "pre-protected-environment"),
            `Environment ${ENV}: no step sets protected_environment = true.`, { step: "pre-auto-deploy-off" }));

    it("fails when a step does not wait for the guard", () =>
        assertViolation(p, edit(plainUpgrade(), "pre-health-check", { after: [] }),
            "step `pre-health-check` does not wait for `pre-protected-environment` (protected_environment = true)",
            { step: "pre-health-check" }));

    it("fails when a read-only kind that is not allowed runs before the guard", () =>
        assertViolation(p, lsmInstall(), "step `install-settings-check` does not wait for", { config: { allowBefore: [] } }));

    it("fails when a later step turns protected_environment off", () =>
        assertViolation(p, insertAfter(plainUpgrade(), "upgrade-deploy",
            { id: "unprotect", kind: "setting", params: { environment: ENV, name: "protected_environment", value: false, optional: false } }),
        "Step `unprotect` sets protected_environment = false", { step: "unprotect" }));

    it("checks every environment the stack acts on", () => {
        // A second upgrade of another environment, after the first, without its guard.
        const second = without(plainUpgrade(ENV2), "pre-protected-environment").map(s => ({
            ...s, id: `b-${s.id}`, after: s.after!.map(a => `b-${a}`), dataFrom: s.dataFrom?.map(d => `b-${d}`),
        }));
        second[0].after = ["post-auto-deploy-on"];
        return assertViolation(p, [...plainUpgrade(), ...second], `Environment ${ENV2}: no step sets protected_environment = true.`,
            { step: "b-pre-auto-deploy-off" });
    });
});

describe("policy required-settings (mandatory)", () => {
    const p = requiredSettings;
    const serverCompile = { settings: [{ name: "server_compile", value: true }] };
    const withServerCompile = insertAfter(plainUpgrade(), "pre-protected-environment",
        { id: "pre-server-compile", kind: "setting", params: { environment: ENV, name: "server_compile", value: true, optional: false } });

    it("is not applicable without configured settings", async () => {
        const run = await runPolicy(p, plainUpgrade());
        assert.match(run.notApplicable ?? "", /no required settings/);
    });

    it("passes when the configured setting is asserted first", () => assertNoViolations(p, withServerCompile, { config: serverCompile }));

    it("fails when a configured setting is not asserted", () =>
        assertViolation(p, plainUpgrade(), `Environment ${ENV}: no step sets server_compile = true.`, { config: serverCompile }));

    it("fails when a configured setting comes after other steps", () =>
        assertViolation(p, insertAfter(plainUpgrade(), "pre-recompile",
            { id: "late-server-compile", kind: "setting", params: { environment: ENV, name: "server_compile", value: true, optional: false } }),
        "steps `pre-auto-deploy-off` and `pre-recompile` do not wait for `late-server-compile`", { config: serverCompile }));

    it("applies a setting only to the procedures it names", () =>
        assertNoViolations(p, plainUpgrade(), { procedure: "upgrade", config: { settings: [{ name: "server_compile", value: true, procedures: ["lsm-install"] }] } }));
});
