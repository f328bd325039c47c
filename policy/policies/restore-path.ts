import type { StackValidationPolicy } from "@pulumi/policy";
import { globMatch, readConfig, stringList } from "../config";
import { buildGraph } from "../graph";

/** Stack tag naming the stack that runs this stack's abort procedure (`pulumi stack tag set upgrade:abort-stack <stack>`). */
export const ABORT_STACK_TAG = "upgrade:abort-stack";

export interface RestorePathConfig {
    /** Production stack names; `*` and `?` are wildcards. */
    productionStacks: string[];
    /** A regular expression for production stack names (in addition to `productionStacks`); "" for none. */
    productionStackPattern: string;
    /** Production stack -> the stack that runs its abort procedure. */
    abortStacks: Record<string, string>;
    /** Kinds that change the environment: stacks without them need no restore path. */
    changingKinds: string[];
    /** Kinds that are a restore path in themselves. */
    restoreKinds: string[];
}

export const RESTORE_PATH_DEFAULTS: RestorePathConfig = {
    productionStacks: [],
    productionStackPattern: "(^|[-_.])prod(uction)?($|[-_.])",
    abortStacks: {},
    changingKinds: ["deploy", "export"],
    restoreKinds: ["db-backup", "db-restore"],
};

export function isProduction(stack: string, cfg: RestorePathConfig): boolean {
    if (cfg.productionStacks.some(p => globMatch(p, stack))) return true;
    return cfg.productionStackPattern !== "" && new RegExp(cfg.productionStackPattern).test(stack);
}

/**
 * A production stack that changes an environment has a way back: a `db-backup` step (or a `db-restore`
 * step: it is the way back), or an abort procedure configured for it, either as the stack tag
 * `upgrade:abort-stack` or in this policy's `abortStacks` config.
 */
export const restorePathInProduction: StackValidationPolicy = {
    name: "restore-path-in-production",
    description: "Production stacks have a restore path: a db-backup step, or an abort procedure configured.",
    enforcementLevel: "advisory",
    configSchema: {
        properties: {
            productionStacks: stringList("Production stack names (`*` and `?` wildcards).", RESTORE_PATH_DEFAULTS.productionStacks),
            productionStackPattern: {
                type: "string", default: RESTORE_PATH_DEFAULTS.productionStackPattern,
                description: "Regular expression for production stack names, in addition to productionStacks (\"\" for none).",
            },
            abortStacks: {
                type: "object", default: {}, additionalProperties: { type: "string" },
                description: "Production stack -> the stack that runs its abort procedure.",
            },
            changingKinds: stringList("Step kinds that change the environment.", RESTORE_PATH_DEFAULTS.changingKinds),
            restoreKinds: stringList("Step kinds that are a restore path.", RESTORE_PATH_DEFAULTS.restoreKinds),
        },
    },
    validateStack: (args, report) => {
        const cfg = readConfig(args, RESTORE_PATH_DEFAULTS);
        const g = buildGraph(args.resources);
        const stack = g.stack ?? "";
        if (!isProduction(stack, cfg)) args.notApplicable(`stack ${stack} is not a production stack`);
        const changing = g.steps.filter(s => cfg.changingKinds.includes(s.kind));
        if (changing.length === 0) args.notApplicable("the stack changes no environment");
        if (g.steps.some(s => cfg.restoreKinds.includes(s.kind))) return;
        if (args.stackTags.get(ABORT_STACK_TAG) || cfg.abortStacks[stack]) return;
        report(`Production stack ${stack} has no restore path: add a \`db-backup\` step, or name the stack that runs its `
            + `abort procedure (stack tag ${ABORT_STACK_TAG}, or abortStacks in this policy's config).`, changing[0].urn);
    },
};
