/**
 * JSON-over-HTTP(S) transport for the Inmanta REST API, built on node:http / node:https.
 *
 * - per-request timeout (the whole exchange: connect, send, response body);
 * - retries with exponential backoff on connection errors (refused, reset, timeout, DNS hiccups) and on
 *   HTTP 5xx; never on 4xx;
 * - optional CA certificate (PEM text) for servers with a private CA;
 * - `X-Inmanta-tid` and `Authorization: Bearer` headers on every request.
 *
 * The token is never part of any log line or error message.
 */
import * as http from "node:http";
import * as https from "node:https";

import { InmantaError, redact } from "./errors";
import type { InmantaConnection } from "./types";
import { scrubUrls, urlProblem } from "./url-safety";

export type HttpMethod = "GET" | "HEAD" | "POST" | "PUT" | "DELETE" | "PATCH";

export interface HttpRequest {
    method: HttpMethod;
    /** Path starting with "/api/...". */
    path: string;
    /** Query parameters; undefined values are skipped, arrays repeat the key. */
    query?: Record<string, string | number | boolean | undefined | Array<string | number>>;
    /** JSON body. */
    body?: unknown;
}

export interface HttpResponse {
    status: number;
    /** Parsed JSON body, the raw text when it is not JSON, or undefined when empty. */
    body: unknown;
    headers: http.IncomingHttpHeaders;
    /** Number of attempts it took (1 = first try). */
    attempts: number;
}

/** Connection error codes worth retrying: the server may simply not be up yet or dropped the connection. */
const RETRYABLE_CODES = new Set([
    "ECONNREFUSED",
    "ECONNRESET",
    "ETIMEDOUT",
    "EPIPE",
    "EAI_AGAIN",
    "EHOSTUNREACH",
    "ENETUNREACH",
    "ECONNABORTED",
]);

const TLS_HINT_CODES = new Set([
    "DEPTH_ZERO_SELF_SIGNED_CERT",
    "SELF_SIGNED_CERT_IN_CHAIN",
    "UNABLE_TO_VERIFY_LEAF_SIGNATURE",
    "UNABLE_TO_GET_ISSUER_CERT_LOCALLY",
    "UNABLE_TO_GET_ISSUER_CERT",
    "CERT_UNTRUSTED",
    "ERR_TLS_CERT_ALTNAME_INVALID",
    "CERT_HAS_EXPIRED",
]);

const CONNECTION_ERROR_TEXT: Record<string, string> = {
    ECONNREFUSED: "connection refused",
    ECONNRESET: "connection reset by the server",
    ETIMEDOUT: "request timed out",
    EPIPE: "connection closed while sending",
    EAI_AGAIN: "temporary DNS failure",
    ENOTFOUND: "host not found",
    EHOSTUNREACH: "host unreachable",
    ENETUNREACH: "network unreachable",
};

export class HttpTransport {
    readonly baseUrl: string;
    private readonly base: URL;
    private readonly timeoutMs: number;
    private readonly retries: number;
    private readonly retryBaseMs: number;
    private readonly retryMaxMs: number;
    private readonly agent: http.Agent | https.Agent;

    constructor(
        private readonly conn: InmantaConnection,
        private readonly log: (line: string) => void = () => undefined,
    ) {
        const problem = urlProblem(conn.url, { token: !!conn.token });
        if (problem) throw new Error(`Inmanta url ${scrubUrls(conn.url)} ${problem}`);
        this.baseUrl = conn.url.replace(/\/+$/, "");
        this.base = new URL(this.baseUrl);
        if (this.base.protocol !== "http:" && this.base.protocol !== "https:") {
            throw new Error(`Inmanta url must be http(s)://..., got ${this.base.protocol}//`);
        }
        this.timeoutMs = conn.timeoutMs ?? 30_000;
        this.retries = Math.max(0, conn.retries ?? 4);
        this.retryBaseMs = conn.retryBaseMs ?? 200;
        this.retryMaxMs = conn.retryMaxMs ?? 5_000;
        this.agent =
            this.base.protocol === "https:"
                ? new https.Agent({ keepAlive: true, ca: conn.caCert })
                : new http.Agent({ keepAlive: true });
    }

    /** "METHOD /path" as used in error messages. */
    static callName(method: string, path: string): string {
        return `${method} ${path}`;
    }

    /** Release pooled sockets (lets the process exit promptly). */
    close(): void {
        this.agent.destroy();
    }

    /**
     * Perform the request with retries. Resolves with any HTTP status < 400 (and with 4xx/5xx only if
     * `acceptStatus` says so); rejects with an InmantaError otherwise.
     */
    async request(req: HttpRequest, acceptStatus?: (status: number) => boolean): Promise<HttpResponse> {
        const call = HttpTransport.callName(req.method, req.path);
        const accept = acceptStatus ?? ((s: number) => s < 400);
        const maxAttempts = this.retries + 1;
        let attempt = 0;
        for (;;) {
            attempt += 1;
            let res: Omit<HttpResponse, "attempts"> | undefined;
            let connError: NodeJS.ErrnoException | undefined;
            try {
                res = await this.once(req);
            } catch (err) {
                connError = err as NodeJS.ErrnoException;
            }

            if (res && accept(res.status)) {
                return { ...res, attempts: attempt };
            }

            const retryable = res ? res.status >= 500 : RETRYABLE_CODES.has(connError?.code ?? "");
            if (!retryable || attempt >= maxAttempts) {
                throw this.toError(call, res, connError, attempt);
            }
            const delay = Math.min(this.retryBaseMs * 2 ** (attempt - 1), this.retryMaxMs);
            const why = res
                ? `HTTP ${res.status}${serverMessage(res.body) ? ` (${serverMessage(res.body)})` : ""}`
                : connError?.code ?? "connection error";
            this.log(redact(`${call}: ${why}; retry ${attempt}/${this.retries} in ${delay} ms`, this.conn.token));
            await sleep(delay);
        }
    }

    private toError(
        call: string,
        res: Omit<HttpResponse, "attempts"> | undefined,
        connError: NodeJS.ErrnoException | undefined,
        attempts: number,
    ): InmantaError {
        const token = this.conn.token;
        if (res) {
            const msg = serverMessage(res.body);
            const details = {
                call,
                status: res.status,
                serverMessage: msg === undefined ? undefined : redact(msg, token),
                attempts,
                url: this.baseUrl,
            };
            return new InmantaError(redact(InmantaError.describe(details), token), details);
        }
        const code = connError?.code ?? "UNKNOWN";
        let explanation = CONNECTION_ERROR_TEXT[code] ?? connError?.message ?? "request failed";
        if (TLS_HINT_CODES.has(code)) {
            explanation = `TLS certificate verification failed (${connError?.message ?? code}); pass the server's CA as caCert`;
        }
        const details = { call, code, serverMessage: undefined, attempts, url: this.baseUrl };
        const message = `${call} on ${this.baseUrl} failed with connection error ${code}: ${explanation}${
            attempts > 1 ? ` (after ${attempts} attempts)` : ""
        }`;
        return new InmantaError(redact(message, token), details);
    }

    private buildPath(req: HttpRequest): string {
        const prefix = this.base.pathname.replace(/\/+$/, "");
        const params = new URLSearchParams();
        for (const [key, value] of Object.entries(req.query ?? {})) {
            if (value === undefined) continue;
            if (Array.isArray(value)) {
                for (const v of value) params.append(key, String(v));
            } else {
                params.append(key, String(value));
            }
        }
        const qs = params.toString();
        return `${prefix}${req.path}${qs ? `?${qs}` : ""}`;
    }

    private once(req: HttpRequest): Promise<Omit<HttpResponse, "attempts">> {
        const payload = req.body === undefined ? undefined : Buffer.from(JSON.stringify(req.body), "utf8");
        const headers: http.OutgoingHttpHeaders = {
            Accept: "application/json",
            "X-Inmanta-tid": this.conn.environment,
        };
        if (this.conn.token) headers.Authorization = `Bearer ${this.conn.token}`;
        if (payload) {
            headers["Content-Type"] = "application/json";
            headers["Content-Length"] = payload.length;
        }
        const options: https.RequestOptions = {
            protocol: this.base.protocol,
            hostname: this.base.hostname.replace(/^\[(.*)\]$/, "$1"),
            port: this.base.port || undefined,
            method: req.method,
            path: this.buildPath(req),
            headers,
            agent: this.agent,
        };
        const lib = this.base.protocol === "https:" ? https : http;

        return new Promise((resolve, reject) => {
            let settled = false;
            const finish = (fn: () => void): void => {
                if (settled) return;
                settled = true;
                clearTimeout(timer);
                fn();
            };
            const request = lib.request(options, (response) => {
                const chunks: Buffer[] = [];
                response.on("data", (chunk: Buffer) => chunks.push(chunk));
                response.on("error", (err) => finish(() => reject(err)));
                response.on("aborted", () =>
                    finish(() => reject(Object.assign(new Error("response aborted"), { code: "ECONNRESET" }))),
                );
                response.on("end", () =>
                    finish(() =>
                        resolve({
                            status: response.statusCode ?? 0,
                            body: parseBody(Buffer.concat(chunks).toString("utf8")),
                            headers: response.headers,
                        }),
                    ),
                );
            });
            const timer = setTimeout(() => {
                const err = Object.assign(new Error(`no complete response within ${this.timeoutMs} ms`), {
                    code: "ETIMEDOUT",
                });
                finish(() => reject(err));
                request.destroy(err);
            }, this.timeoutMs);
            request.on("error", (err) => finish(() => reject(err)));
            if (payload) request.write(payload);
            request.end();
        });
    }
}

function parseBody(text: string): unknown {
    if (text.length === 0) return undefined;
    try {
        return JSON.parse(text);
    } catch {
        return text;
    }
}

/** The `message` of an Inmanta error body, or a short text body. */
export function serverMessage(body: unknown): string | undefined {
    if (body && typeof body === "object" && "message" in body) {
        const msg = (body as { message: unknown }).message;
        if (typeof msg === "string") return msg;
        return JSON.stringify(msg);
    }
    if (typeof body === "string" && body.trim().length > 0) {
        return body.trim().slice(0, 500);
    }
    return undefined;
}

/** Warnings attached by the server (`metadata.warnings`), if any. */
export function serverWarnings(body: unknown): string[] {
    if (body && typeof body === "object" && "metadata" in body) {
        const metadata = (body as { metadata: unknown }).metadata;
        if (metadata && typeof metadata === "object" && "warnings" in metadata) {
            const warnings = (metadata as { warnings: unknown }).warnings;
            if (Array.isArray(warnings)) return warnings.map((w) => String(w));
        }
    }
    return [];
}

export function sleep(ms: number): Promise<void> {
    return new Promise((resolve) => setTimeout(resolve, ms));
}
