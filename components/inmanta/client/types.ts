/**
 * Public types of the Inmanta client. Field names follow the inmanta-core 14.x REST API where the client
 * passes server data through (compile reports, desired state versions), and camelCase where the client
 * builds its own summaries.
 */

export interface InmantaConnection {
    /** Base URL of the server, e.g. "https://orchestrator.example.com:8888" (a path prefix is kept). */
    url: string;
    /** Environment id, sent as the `X-Inmanta-tid` header. */
    environment: string;
    /** Bearer token (sent as `Authorization: Bearer <token>`); never written to logs or error messages. */
    token?: string;
    /** PEM text of the CA that signed the server certificate (https only). */
    caCert?: string;
    /** Per-request timeout in ms (default 30000). */
    timeoutMs?: number;
    /** Retries after the first attempt on connection errors and 5xx (default 4). Never on 4xx. */
    retries?: number;
    /** First retry delay in ms, doubled each retry (default 200). */
    retryBaseMs?: number;
    /** Upper bound of a retry delay in ms (default 5000). */
    retryMaxMs?: number;
}

export interface ClientOptions {
    /** Receives one line per notable event (retries, server warnings, wait progress). */
    log?: (line: string) => void;
    /** Upper bound of the polling interval in ms while waiting (default 100: at most 10 probes a second). */
    pollMaxMs?: number;
    /** Default overall timeout of every wait in ms (default 30 minutes). */
    waitTimeoutMs?: number;
}

export interface WaitOptions {
    /** Overall timeout of this wait in ms (default: the client's waitTimeoutMs, 30 minutes). */
    timeoutMs?: number;
}

/** A JSON value as accepted by the environment settings API (bool, int, float, str or a flat dict). */
export type SettingValue = boolean | number | string | Record<string, string | number | boolean>;

export interface SettingDefinition {
    name?: string;
    /** "bool" | "int" | "positive_float" | "str" | "enum" | "dict" (as declared by the server). */
    type: string;
    default: SettingValue | null;
    doc: string;
    allowed_values?: SettingValue[] | null;
    recompile?: boolean;
    update_model?: boolean;
    agent_restart?: boolean;
    /** Present on servers that support project.yml-managed settings. */
    protected?: boolean;
    protected_by?: string | null;
}

export interface SetSettingResult {
    name: string;
    /** Effective value before the change (stored value, or the definition's default). */
    previous: SettingValue | null;
    value: SettingValue;
}

export type AgentTriggerMethod = "push_incremental_deploy" | "push_full_deploy";

export interface CompileOptions extends WaitOptions {
    /** true = "Update project & recompile" (pull the project and modules first). */
    update: boolean;
    /** Stored in the compile's metadata.message. */
    message?: string;
}

export interface CompileResult {
    /** Compile id (uuid). */
    id: string;
    success: boolean;
    /** Version exported by the compile, when it produced one. */
    version?: number;
    requested: string;
    completed: string;
    /** metadata.message of the compile request. */
    message: string;
    /** Whether the project was updated before compiling (force_update). */
    update: boolean;
}

/** Status of a desired state version (GET /api/v2/desiredstate). */
export type DesiredStateStatus = "active" | "candidate" | "retired" | "skipped_candidate";

export interface VersionInfo {
    version: number;
    status?: DesiredStateStatus | string;
    released: boolean;
    /** Deploy result of the version ("pending" | "deploying" | "success" | "failed"), from GET /api/v1/version/<id>. */
    result?: string;
    date?: string;
    total?: number;
}

export interface DryrunChange {
    /** Resource id without the ",v=N" suffix. */
    resourceId: string;
    /** added | modified | deleted | agent_down | undefined | skipped_for_undefined */
    status: string;
    attributes: Record<string, { from: unknown; to: unknown }>;
}

export interface DryrunReport {
    id: string;
    version: number;
    /** Every resource whose status is not "unmodified". */
    changes: DryrunChange[];
    summary: {
        /** Number of resources in the dry run. */
        total: number;
        /** Resource count per diff status, "unmodified" included. */
        byStatus: Record<string, number>;
    };
}

export interface ReleaseOptions {
    /** Incremental (default) or full deploy of the pushed version. Ignored by servers from 15.x on. */
    agentTriggerMethod?: AgentTriggerMethod;
    /** Notify the agents (default true). With false, agents pick the version up on their next run. */
    push?: boolean;
}

export interface DeployResult {
    version: number;
    done: number;
    total: number;
    /** Version result as reported by the server ("success" | "failed" | ...). */
    result: string;
    /** Resource ids (no ",v=N") in a failed state. */
    failed: string[];
    /** Resource count per resource state. */
    byStatus: Record<string, number>;
}

export interface DeployAgentOptions extends WaitOptions {
    /** true = full deploy ("force repair"); false = incremental deploy. */
    repair: boolean;
    /** Wait until the agent's resources have settled (see InmantaClient.waitForAgent). Default false. */
    wait?: boolean;
    /**
     * Unpause the agent after the snapshot and before the trigger (the careful deploy on 15+, where the agents
     * are held paused until their turn). Default false.
     */
    unpause?: boolean;
}

/** An agent of the environment as GET /api/v2/agents lists it. */
export interface AgentInfo {
    name: string;
    paused: boolean;
    /** While halted: whether a resume unpauses it (null when the server has not set it). */
    unpauseOnResume: boolean | null;
    status?: string;
}

/** State of one agent's resources captured before a deploy trigger, used to recognise the deploy's effect. */
export interface AgentSnapshot {
    agent: string;
    /** `started` of the newest resource action of the agent before the trigger (server clock), if any. */
    lastActionStarted?: string;
    /** Status per resource id (latest released version) before the trigger. */
    statuses: Record<string, string>;
}

export interface AgentSettleResult {
    agent: string;
    /** Resource ids of the agent in the latest released version. */
    resources: string[];
    /** Resource ids that completed a deploy action after the trigger. */
    deployed: string[];
    /** Resource ids in a failed state after settling. */
    failed: string[];
    byStatus: Record<string, number>;
}

export interface DeployAgentResult {
    agent: string;
    /** Agents the server reports as triggered. */
    triggered: string[];
    /** Present when `wait` was requested. */
    settled?: AgentSettleResult;
}

export interface HealthReport {
    /** Latest released (active) version, or null when nothing was released yet. */
    version: number | null;
    /** No resource in a failed state and the version finished deploying. */
    healthy: boolean;
    /** Resource ids in a failed state. */
    failed: string[];
    /** The version is still being deployed. */
    deploying: boolean;
    summary: {
        total: number;
        done: number;
        result?: string;
        byStatus: Record<string, number>;
    };
}
