/**
 * Environment setting helpers: the response shape of GET /api/v2/environment_settings and the client-side
 * check of a value against the server's definition (done before anything is sent).
 *
 * Setting types declared by inmanta-core (data.Environment._settings): bool, int, positive_float, str,
 * enum (with allowed_values) and dict (flat: values are str, int or bool).
 */
import type { SettingDefinition, SettingValue } from "./types";

/** `data` of GET /api/v2/environment_settings (model.EnvironmentSettingsReponse). */
export interface SettingsResponse {
    /** Only the values stored for the environment; absent settings take the definition's default. */
    settings: Record<string, SettingValue>;
    definition: Record<string, SettingDefinition>;
}

export function parseSettingsResponse(body: unknown): SettingsResponse {
    const data = unwrapData(body);
    if (!data || typeof data !== "object") {
        throw new Error("environment_settings: unexpected response (no data object)");
    }
    const { settings, definition } = data as Partial<SettingsResponse>;
    if (!definition || typeof definition !== "object") {
        throw new Error("environment_settings: unexpected response (no definition map)");
    }
    return { settings: settings ?? {}, definition };
}

/** Effective value: the stored value, else the definition's default. */
export function effectiveValue(resp: SettingsResponse, name: string): SettingValue | null {
    if (Object.prototype.hasOwnProperty.call(resp.settings, name)) return resp.settings[name];
    return resp.definition[name]?.default ?? null;
}

/**
 * Check `value` against the definition. Returns undefined when the value is acceptable, otherwise the
 * reason it is not.
 */
export function checkSettingValue(def: SettingDefinition, value: unknown): string | undefined {
    switch (def.type) {
        case "bool":
            return typeof value === "boolean" ? undefined : `expected a boolean (true/false), got ${describe(value)}`;
        case "int":
            return typeof value === "number" && Number.isInteger(value)
                ? undefined
                : `expected an integer, got ${describe(value)}`;
        case "float":
            return typeof value === "number" && Number.isFinite(value)
                ? undefined
                : `expected a number, got ${describe(value)}`;
        case "positive_float":
            return typeof value === "number" && Number.isFinite(value) && value >= 0
                ? undefined
                : `expected a number >= 0, got ${describe(value)}`;
        case "str":
            return typeof value === "string" ? undefined : `expected a string, got ${describe(value)}`;
        case "enum": {
            const allowed = (def.allowed_values ?? []).map((v) => String(v));
            if (typeof value !== "string") {
                return `expected one of [${allowed.join(", ")}], got ${describe(value)}`;
            }
            return allowed.length === 0 || allowed.includes(value)
                ? undefined
                : `expected one of [${allowed.join(", ")}], got "${value}"`;
        }
        case "dict": {
            if (!value || typeof value !== "object" || Array.isArray(value)) {
                return `expected an object (dict), got ${describe(value)}`;
            }
            for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
                if (!["string", "number", "boolean"].includes(typeof v)) {
                    return `dict values must be string, number or boolean; key "${k}" is ${describe(v)}`;
                }
            }
            return undefined;
        }
        default:
            // A type this client does not know: let the server validate it.
            return undefined;
    }
}

function describe(value: unknown): string {
    if (value === null) return "null";
    if (Array.isArray(value)) return "an array";
    if (typeof value === "string") return `the string "${value}"`;
    if (typeof value === "number") return `the number ${value}`;
    return `a ${typeof value}`;
}

/** `data` of a v2 response (`{"data": ...}`), or the body itself for v1 responses. */
export function unwrapData(body: unknown): unknown {
    if (body && typeof body === "object" && "data" in body) {
        return (body as { data: unknown }).data;
    }
    return body;
}
