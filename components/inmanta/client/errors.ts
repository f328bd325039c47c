/**
 * Error types raised by the Inmanta client.
 *
 * Every error names the API call it belongs to (`call`, e.g. "POST /api/v2/environment_settings/auto_deploy"),
 * the HTTP status or connection error code, and the message the server sent back. Messages never contain
 * the bearer token: {@link redact} is applied to everything that ends up in a message.
 */

export interface InmantaErrorDetails {
    /** The API call, as "METHOD /path" (no query string, no host). */
    call: string;
    /** HTTP status of the last response, when there was one. */
    status?: number;
    /** The `message` field of the server's JSON error body (Inmanta returns `{"message": ...}`). */
    serverMessage?: string;
    /** Connection-level error code (ECONNREFUSED, ECONNRESET, ETIMEDOUT, TLS codes, ...). */
    code?: string;
    /** Number of attempts made by the transport (1 = no retry). */
    attempts?: number;
    /** Base URL of the server the call was made to. */
    url?: string;
}

export class InmantaError extends Error {
    readonly call: string;
    readonly status?: number;
    readonly serverMessage?: string;
    readonly code?: string;
    readonly attempts?: number;
    readonly url?: string;

    constructor(message: string, details: InmantaErrorDetails) {
        super(message);
        this.name = new.target.name;
        this.call = details.call;
        this.status = details.status;
        this.serverMessage = details.serverMessage;
        this.code = details.code;
        this.attempts = details.attempts;
        this.url = details.url;
    }

    /** Build the standard message for a failed HTTP call. */
    static describe(details: InmantaErrorDetails): string {
        const where = details.url ? ` on ${details.url}` : "";
        const what =
            details.status !== undefined
                ? `HTTP ${details.status}`
                : `connection error ${details.code ?? "UNKNOWN"}`;
        const server = details.serverMessage ? `: ${details.serverMessage}` : "";
        const attempts = details.attempts && details.attempts > 1 ? ` (after ${details.attempts} attempts)` : "";
        return `${details.call}${where} failed with ${what}${server}${attempts}`;
    }
}

/** The server does not define a setting with this name (e.g. a 14.x-only setting on a 15.x server). */
export class UnknownSettingError extends InmantaError {
    readonly setting: string;
    readonly knownSettings: string[];

    constructor(setting: string, knownSettings: string[], call: string, url?: string) {
        const sample = [...knownSettings].sort().slice(0, 8);
        const more = knownSettings.length > sample.length ? `, ... (${knownSettings.length} in total)` : "";
        super(
            `${call}: environment setting "${setting}" is not defined by this Inmanta server; ` +
                `it defines: ${sample.join(", ")}${more}`,
            { call, url },
        );
        this.setting = setting;
        this.knownSettings = knownSettings;
    }
}

/** A value does not match the setting's definition (type, allowed values). Raised before anything is sent. */
export class InvalidSettingValueError extends InmantaError {
    readonly setting: string;
    readonly value: unknown;

    constructor(setting: string, value: unknown, reason: string, call: string, url?: string) {
        super(`${call}: refusing to set "${setting}" to ${safeJson(value)}: ${reason}`, { call, url });
        this.setting = setting;
        this.value = value;
    }
}

/** The setting is protected on the server (managed by project.yml) and cannot be changed through the API. */
export class ProtectedSettingError extends InmantaError {
    readonly setting: string;

    constructor(setting: string, reason: string, call: string, url?: string) {
        super(`${call}: environment setting "${setting}" is protected (${reason}) and cannot be changed via the API`, {
            call,
            url,
        });
        this.setting = setting;
    }
}

/** A compile finished with success == false. */
export class CompileFailedError extends InmantaError {
    readonly compileId: string;
    /** Error lines extracted from the compile report (compile_data errors, failing stage output). */
    readonly errors: string[];

    constructor(compileId: string, errors: string[], call: string, url?: string) {
        const detail = errors.length > 0 ? errors.join(" | ") : "no error detail in the compile report";
        super(`${call}: compile ${compileId} failed: ${detail}`, { call, url, serverMessage: errors[0] });
        this.compileId = compileId;
        this.errors = errors;
    }
}

/** A wait (compile, dry run, deploy, agent) did not reach its end state within the allowed time. */
export class WaitTimeoutError extends InmantaError {
    readonly timeoutMs: number;

    constructor(what: string, timeoutMs: number, lastState: string | undefined, url?: string) {
        const state = lastState ? `; last state: ${lastState}` : "";
        super(`timed out after ${timeoutMs} ms waiting for ${what}${state}`, { call: `wait for ${what}`, url });
        this.timeoutMs = timeoutMs;
    }
}

/** Replace every occurrence of `secret` in `text` (no-op when there is no secret). */
export function redact(text: string, secret: string | undefined): string {
    if (!secret) return text;
    return text.split(secret).join("***");
}

function safeJson(value: unknown): string {
    try {
        const text = JSON.stringify(value);
        return text === undefined ? String(value) : text;
    } catch {
        return String(value);
    }
}
