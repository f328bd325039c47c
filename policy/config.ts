import type { PolicyConfigSchema, StackValidationArgs } from "@pulumi/policy";

/**
 * A policy's configuration (from `--policy-pack-config` or the service), over its defaults.
 * Keys that are absent or null keep their default, so a config file only names what it changes.
 */
export function readConfig<T extends object>(args: StackValidationArgs, defaults: T): T {
    const given = (args.getConfig<Record<string, unknown>>() ?? {});
    const out: Record<string, unknown> = { ...(defaults as Record<string, unknown>) };
    for (const [k, v] of Object.entries(given)) {
        if (k !== "enforcementLevel" && v !== undefined && v !== null) out[k] = v;
    }
    return out as unknown as T;
}

/** A string list schema with a default, for `configSchema`. */
export function stringList(description: string, defaults: string[]): PolicyConfigSchema["properties"][string] {
    return { type: "array", items: { type: "string" }, default: defaults, description };
}

/** `*` and `?` wildcards, the whole name must match. */
export function globMatch(pattern: string, name: string): boolean {
    const re = pattern.replace(/[.+^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*").replace(/\?/g, ".");
    return new RegExp(`^${re}$`).test(name);
}
