import type { StackValidationPolicy } from "@pulumi/policy";
import { readConfig, stringList } from "../config";
import { buildGraph } from "../graph";
import { checkGuard, GuardSetting } from "./guard";
import { PROTECTED_ENVIRONMENT_DEFAULTS } from "./protected-environment";

export interface RequiredSetting extends GuardSetting {
    /** Only in these procedures (all when absent or empty). */
    procedures?: string[];
}

export interface RequiredSettingsConfig {
    /** Settings each environment must have asserted before any other step, e.g. {name: "server_compile", value: true}. */
    settings: RequiredSetting[];
    allowBefore: string[];
}

export const REQUIRED_SETTINGS_DEFAULTS: RequiredSettingsConfig = {
    settings: [],
    allowBefore: PROTECTED_ENVIRONMENT_DEFAULTS.allowBefore,
};

/**
 * Site-specific settings that must be asserted like protected_environment: a `setting` step with the
 * configured value, which every other step acting on the environment waits for (protected_environment,
 * the other required settings and read-only checks excepted). Nothing is required unless configured.
 */
export const requiredSettings: StackValidationPolicy = {
    name: "required-settings",
    description: "Environment settings named in the policy config are asserted before any other step.",
    enforcementLevel: "mandatory",
    configSchema: {
        properties: {
            settings: {
                type: "array",
                default: [],
                description: "Settings to assert first in every environment: {name, value, procedures?}.",
                items: {
                    type: "object",
                    required: ["name", "value"],
                    properties: {
                        name: { type: "string", minLength: 1 },
                        value: {},
                        procedures: { type: "array", items: { type: "string" } },
                    },
                    additionalProperties: false,
                },
            },
            allowBefore: stringList("Step kinds that may run before the required settings (read-only checks).",
                REQUIRED_SETTINGS_DEFAULTS.allowBefore),
        },
    },
    validateStack: (args, report) => {
        const cfg = readConfig(args, REQUIRED_SETTINGS_DEFAULTS);
        if (cfg.settings.length === 0) args.notApplicable("no required settings are configured");
        const g = buildGraph(args.resources);
        const guards: GuardSetting[] = [{ name: "protected_environment", value: true }, ...cfg.settings];
        for (const s of cfg.settings) {
            checkGuard(g, s, {
                allowBefore: cfg.allowBefore, procedures: s.procedures, otherGuards: guards.filter(o => o !== s),
            }, report);
        }
    },
};
