/**
 * Inmanta orchestrator REST client (inmanta-core 14.x and 15+/20.x).
 */
export { InmantaClient, DRYRUN_REPORT_POLL_MAX, FAILED_RESOURCE_STATES, stripVersion } from "./client";
export type { ServerVersion } from "./client";
export { SCHEDULER_FAILED_STATES, schedulerProgress, summarizeRows } from "./deploy-state";
export {
    InmantaError,
    UnknownSettingError,
    InvalidSettingValueError,
    ProtectedSettingError,
    CompileFailedError,
    WaitTimeoutError,
    redact,
} from "./errors";
export type { InmantaErrorDetails } from "./errors";
export { HttpTransport, serverMessage, serverWarnings } from "./http";
export type { HttpMethod, HttpRequest, HttpResponse } from "./http";
export { checkSettingValue, effectiveValue, parseSettingsResponse } from "./settings";
export type { SettingsResponse } from "./settings";
export { pollUntil } from "./wait";
export type { PollOptions, ProbeResult } from "./wait";
export type * from "./types";
