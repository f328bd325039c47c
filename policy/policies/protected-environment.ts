import type { StackValidationPolicy } from "@pulumi/policy";
import { readConfig, stringList } from "../config";
import { buildGraph } from "../graph";
import { checkGuard } from "./guard";

export interface ProtectedEnvironmentConfig {
    /** Step kinds that may run before protected_environment is asserted: read-only checks. */
    allowBefore: string[];
}

export const PROTECTED_ENVIRONMENT_DEFAULTS: ProtectedEnvironmentConfig = {
    allowBefore: ["settings-check", "settings-record"],
};

/**
 * Every Inmanta environment the stack acts on has protected_environment asserted first: a `setting`
 * step protected_environment = true that every other step acting on that environment waits for.
 * Read-only checks (`settings-check`, the cross-check of a first deployment, and `settings-record`)
 * may run before it: they change nothing.
 */
export const protectedEnvironmentFirst: StackValidationPolicy = {
    name: "protected-environment-first",
    description: "Every Inmanta environment the stack acts on has protected_environment = true set or asserted before any other step.",
    enforcementLevel: "mandatory",
    configSchema: {
        properties: {
            allowBefore: stringList("Step kinds that may run before protected_environment is asserted (read-only checks).",
                PROTECTED_ENVIRONMENT_DEFAULTS.allowBefore),
        },
    },
    validateStack: (args, report) => {
        const cfg = readConfig(args, PROTECTED_ENVIRONMENT_DEFAULTS);
        const g = buildGraph(args.resources);
        if (g.environments().length === 0) args.notApplicable("the stack acts on no Inmanta environment");
        checkGuard(g, { name: "protected_environment", value: true }, { allowBefore: cfg.allowBefore }, report);
    },
};
