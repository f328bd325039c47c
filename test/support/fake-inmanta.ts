/**
 * In-process fake of the Inmanta orchestrator REST API, for tests: inmanta-core 14.x shapes by default,
 * 20.x shapes with `flavor: "20"` (built from what a real 20.1.0 server answered, recorded call by call in
 * shared/notes/inmanta-20.md: no deploy fields in GET /api/v1/version/<id>, /api/v2/scheduler_status with
 * the scheduler taking a released version a moment later, rows showing the old states until then, release
 * deploying whatever `push` says, no `internal` agent, removed settings, 409 on a dry run while halted, and
 * 20.1.0's paused agent that still runs the first task queued after the pause).
 *
 * It keeps one environment with: environment settings (14.x definitions, or a "15.x-like" set without
 * push_on_auto_deploy / agent_trigger_method_on_auto_deploy), agents with a paused flag, halt/resume,
 * a compile queue (configurable duration and outcome; a successful compile exports a new version and
 * honours auto_deploy), desired state versions, dry runs (configurable duration and diff), release and
 * deploy progression (configurable duration and failing resources), deploy-on-agent, version deletion and
 * resource actions.
 *
 * Test hooks: fault injection (the next N requests to a path answer with a status, hang, or have their
 * connection reset), an ordered request log, optional bearer-token enforcement, optional TLS, and the
 * moments at which compiles, dry runs and deploys finished (to measure how quickly a client notices).
 */
import { randomUUID } from "node:crypto";
import * as http from "node:http";
import * as https from "node:https";
import type { AddressInfo } from "node:net";

export type FakeMethod = "GET" | "HEAD" | "POST" | "PUT" | "DELETE" | "PATCH";
export type FakeSettingValue = boolean | number | string | Record<string, string | number | boolean>;

export interface FakeSettingDefinition {
    name: string;
    type: "bool" | "int" | "positive_float" | "str" | "enum" | "dict";
    default: FakeSettingValue;
    doc: string;
    recompile: boolean;
    update_model: boolean;
    agent_restart: boolean;
    allowed_values: FakeSettingValue[] | null;
    protected: boolean;
    protected_by: string | null;
}

export interface FakeResource {
    /** Resource id without version, e.g. "std::File[agent1,path=/etc/motd]" (the agent is the first id field). */
    id: string;
    attributes?: Record<string, unknown>;
}

export interface CompileBehavior {
    /** How long a compile runs, in ms. */
    durationMs: number;
    success: boolean;
    /** Error message of a failing compile. */
    error: string;
    /** Resources exported by the next successful compile (default: those of the newest version). */
    resources?: FakeResource[];
}

export interface DryrunChangeSpec {
    resourceId: string;
    status: "added" | "modified" | "deleted" | "unmodified" | "agent_down" | "undefined" | "skipped_for_undefined";
    attributes?: Record<string, { from: unknown; to: unknown }>;
}

export interface DryrunBehavior {
    /** How long a dry run takes, in ms. */
    durationMs: number;
    /**
     * Explicit diff entries. Resources of the version not listed here are "unmodified" (or "agent_down" when their
     * agent is paused). Without this, the diff is computed against the active version.
     */
    changes?: DryrunChangeSpec[];
    /** Report resource ids with their ",v=N" suffix (as the v1 dry run API does). */
    versionedIds: boolean;
}

export interface DeployBehavior {
    /** Time from the start of a deploy to the final state of its resources, in ms. */
    durationMs: number;
    /** Resource ids (no version) that end in state "failed". */
    failures: string[];
}

export type FakeFault =
    | { kind: "status"; status: number; message?: string }
    | { kind: "hang" }
    | { kind: "reset" };

export interface FaultSpec {
    /** Exact path (no query string) or a pattern. */
    path: string | RegExp;
    method?: FakeMethod;
    /** Number of matching requests affected (default 1). */
    count?: number;
    fault: FakeFault;
}

export interface LoggedRequest {
    seq: number;
    method: string;
    /** Path without query string. */
    path: string;
    query: Record<string, string | string[]>;
    body: unknown;
    /** Raw Authorization header, if any. */
    authorization?: string;
    tid?: string;
    /** Response status (undefined for hung or reset requests). */
    status?: number;
    /** Injected fault that answered this request. */
    fault?: FakeFault["kind"];
}

export interface FakeInmantaOptions {
    environment?: string;
    /**
     * "14" (default): 14.x settings; "15": without push_on_auto_deploy / agent_trigger_method_on_auto_deploy;
     * "20": inmanta-core 20.1.0 (see the file comment).
     */
    flavor?: "14" | "15" | "20";
    /** flavor "20": time the scheduler takes to read a released version, in ms (default 30). */
    schedulerLagMs?: number;
    /** When set, every request must carry `Authorization: Bearer <token>`. */
    token?: string;
    /** Serve https with this key and certificate (PEM). */
    tls?: { key: string; cert: string };
    /** Resources of version 1, created released and deployed. Default: a small model on agents internal/agent1/agent2. */
    resources?: FakeResource[];
    /** Create version 1 (default true). */
    initialVersion?: boolean;
    /** Values stored for the environment at start. */
    settings?: Record<string, FakeSettingValue>;
    /** Settings reported as protected by project.yml. */
    protectedSettings?: string[];
    compile?: Partial<CompileBehavior>;
    dryrun?: Partial<DryrunBehavior>;
    deploy?: Partial<DeployBehavior>;
}

export interface FakeResourceState {
    id: string;
    agent: string;
    attributes: Record<string, unknown>;
    status: string;
    lastDeploy?: string;
}

export interface FakeVersion {
    version: number;
    date: string;
    released: boolean;
    deployed: boolean;
    result: "pending" | "deploying" | "success" | "failed";
    resources: Map<string, FakeResourceState>;
}

export interface FakeCompile {
    id: string;
    requested: string;
    started: string | null;
    completed: string | null;
    success: boolean | null;
    version: number | null;
    force_update: boolean;
    metadata: Record<string, unknown>;
    errors: string[];
}

export interface FakeDryrun {
    id: string;
    version: number;
    date: string;
    total: number;
    todo: number;
    diff: Array<{ resource_id: string; status: string; attributes: Record<string, unknown> }>;
}

export interface FakeResourceAction {
    action_id: string;
    action: "deploy";
    started: string;
    finished: string | null;
    status: string | null;
    agent: string;
    version: number;
    resource_version_ids: string[];
}

/** Wall-clock moments (Date.now()) at which server-side operations finished. */
export interface FakeCompletions {
    compile?: number;
    dryrun?: number;
    deploy?: number;
}

class HttpError extends Error {
    constructor(
        readonly status: number,
        message: string,
    ) {
        super(message);
    }
}

interface Reply {
    status: number;
    body?: unknown;
}

interface RequestContext {
    method: string;
    path: string;
    params: string[];
    query: URLSearchParams;
    body: Record<string, unknown>;
    tid?: string;
}

type Handler = (ctx: RequestContext) => Reply;

const DONE_TRANSIENT = new Set(["available", "deploying"]);

const DEFAULT_RESOURCES: FakeResource[] = [
    { id: "std::AgentConfig[internal,agentname=agent1]", attributes: { autostart: true, uri: "local:" } },
    { id: "std::File[agent1,path=/etc/app/app.conf]", attributes: { content: "port=8080\n", mode: 644, purged: false } },
    { id: "std::Service[agent1,name=app]", attributes: { state: "running", onboot: true } },
    { id: "std::File[agent2,path=/etc/motd]", attributes: { content: "welcome\n", mode: 644, purged: false } },
];

export function agentOfResource(resourceId: string): string {
    const m = /^[^[]+\[([^,\]]+)/.exec(resourceId);
    if (!m) throw new Error(`not a resource id: ${resourceId}`);
    return m[1];
}

function idDetails(resourceId: string): { resource_type: string; agent: string; attribute: string; resource_id_value: string } {
    const m = /^([^[]+)\[([^,\]]+),([^=]+)=(.*)\]$/.exec(resourceId);
    if (!m) return { resource_type: resourceId, agent: agentOfResource(resourceId), attribute: "", resource_id_value: "" };
    return { resource_type: m[1], agent: m[2], attribute: m[3], resource_id_value: m[4] };
}

export function settingDefinitions14(): Record<string, FakeSettingDefinition> {
    const triggerMethods = ["push_full_deploy", "push_incremental_deploy"];
    const defs: Array<[string, FakeSettingDefinition["type"], FakeSettingValue, string, FakeSettingValue[] | null]> = [
        ["auto_deploy", "bool", true, "When this boolean is set to true, the orchestrator will automatically release a new version that was compiled by the orchestrator itself.", null],
        ["push_on_auto_deploy", "bool", true, "Push a new version when it has been autodeployed.", null],
        ["agent_trigger_method_on_auto_deploy", "enum", "push_incremental_deploy", "The agent trigger method to use when push_on_auto_deploy is enabled", triggerMethods],
        ["environment_agent_trigger_method", "enum", "push_full_deploy", "The agent trigger method to use.", triggerMethods],
        ["autostart_agent_deploy_interval", "str", "600", "The deployment interval of the autostarted agents. Can be specified as a number of seconds or as a cron-like expression.", null],
        ["autostart_agent_deploy_splay_time", "int", 10, "The splay time on the deployment interval of the autostarted agents.", null],
        ["autostart_agent_repair_interval", "str", "86400", "The repair interval of the autostarted agents. Can be specified as a number of seconds or as a cron-like expression.", null],
        ["autostart_agent_repair_splay_time", "int", 600, "The splay time on the repair interval of the autostarted agents.", null],
        ["autostart_on_start", "bool", true, "Automatically start agents when the server starts instead of only just in time.", null],
        ["autostart_agent_map", "dict", { internal: "local:" }, "A dict with key the name of agents that should be automatically started.", null],
        ["server_compile", "bool", true, "Allow the server to compile the configuration model.", null],
        ["auto_full_compile", "str", "", "Periodically run a full compile following a cron-like time-to-run specification.", null],
        ["resource_action_logs_retention", "int", 7, "The number of days to retain resource-action logs", null],
        ["available_versions_to_keep", "int", 100, "The number of versions to keep stored in the database", null],
        ["purge_on_delete", "bool", false, "Enable purge on delete.", null],
        ["protected_environment", "bool", false, "When set to true, this environment cannot be cleared, deleted or decommissioned.", null],
        ["notification_retention", "int", 365, "The number of days to retain notifications for", null],
        ["recompile_backoff", "positive_float", 0.1, "The number of seconds to wait before the server may attempt to do a new recompile.", null],
        ["environment_metrics_retention", "int", 8760, "The number of hours that environment metrics have to be retained before they are cleaned up.", null],
    ];
    const out: Record<string, FakeSettingDefinition> = {};
    for (const [name, type, def, doc, allowed] of defs) {
        out[name] = {
            name,
            type,
            default: def,
            doc,
            recompile: false,
            update_model: false,
            agent_restart: name.startsWith("autostart_"),
            allowed_values: allowed,
            protected: false,
            protected_by: null,
        };
    }
    return out;
}

/**
 * The 14 settings of inmanta-core 20.1.0 (GET /api/v2/environment_settings on a real server, see
 * shared/notes/inmanta-20.md): six settings of 14.x are gone, two scheduler settings are new.
 */
export function settingDefinitions20(): Record<string, FakeSettingDefinition> {
    const defs = settingDefinitions14();
    for (const gone of ["push_on_auto_deploy", "agent_trigger_method_on_auto_deploy", "environment_agent_trigger_method",
        "autostart_agent_map", "autostart_agent_deploy_splay_time", "autostart_agent_repair_splay_time", "purge_on_delete"]) {
        delete defs[gone];
    }
    defs.environment_metrics_retention.default = 336;
    for (const [name, doc] of [
        ["redeploy_failed_on_export", "Redeploy failed resources when a new version is exported."],
        ["reset_deploy_progress_on_start", "Reset the deploy progress of the scheduler when it starts."],
    ]) {
        defs[name] = { name, type: "bool", default: false, doc, recompile: false, update_model: false, agent_restart: false,
            allowed_values: null, protected: false, protected_by: null };
    }
    return defs;
}

/** The setting set of a 15.x-like server: the auto-deploy push settings were removed in 15.0.0. */
export function settingDefinitions15(): Record<string, FakeSettingDefinition> {
    const defs = settingDefinitions14();
    delete defs.push_on_auto_deploy;
    delete defs.agent_trigger_method_on_auto_deploy;
    return defs;
}

export class FakeInmanta {
    readonly environment: string;
    readonly flavor: "14" | "15" | "20";
    /** The version the scheduler has read (flavor "20"); 0: none. */
    schedulerVersion = 0;
    private readonly schedulerLagMs: number;
    readonly definitions: Record<string, FakeSettingDefinition>;

    compileBehavior: CompileBehavior;
    dryrunBehavior: DryrunBehavior;
    deployBehavior: DeployBehavior;

    private server?: http.Server;
    private baseUrl?: string;
    private readonly token?: string;
    private readonly tls?: { key: string; cert: string };
    private readonly stored: Record<string, FakeSettingValue>;
    private readonly agentState = new Map<string, { paused: boolean; unpauseOnResume: boolean; leakOne?: boolean }>();
    private halted = false;
    private readonly versionMap = new Map<number, FakeVersion>();
    private lastVersionNumber = 0;
    private readonly compileList: FakeCompile[] = [];
    private readonly compileQueue: FakeCompile[] = [];
    private runningCompile?: FakeCompile;
    private readonly dryrunMap = new Map<string, FakeDryrun>();
    private readonly actions: FakeResourceAction[] = [];
    private readonly faults: Array<FaultSpec & { remaining: number }> = [];
    private readonly log: LoggedRequest[] = [];
    private readonly timers = new Set<NodeJS.Timeout>();
    private lastTimestamp = 0;
    private readonly routes: Array<{ method: string; pattern: RegExp; env: boolean; handler: Handler }> = [];

    /** Moments at which the latest compile, dry run and deploy finished. */
    readonly completions: FakeCompletions = {};

    constructor(options: FakeInmantaOptions = {}) {
        this.environment = options.environment ?? randomUUID();
        this.flavor = options.flavor ?? "14";
        this.token = options.token;
        this.tls = options.tls;
        this.definitions = this.flavor === "20" ? settingDefinitions20() : this.flavor === "15" ? settingDefinitions15() : settingDefinitions14();
        this.schedulerLagMs = options.schedulerLagMs ?? 30;
        for (const name of options.protectedSettings ?? []) {
            if (this.definitions[name]) {
                this.definitions[name].protected = true;
                this.definitions[name].protected_by = "project.yml";
            }
        }
        // 20.x stores every default in a new environment
        this.stored = {
            ...(this.flavor === "20" ? Object.fromEntries(Object.entries(this.definitions).map(([k, d]) => [k, d.default])) : {}),
            ...(options.settings ?? {}),
        };
        this.compileBehavior = { durationMs: 50, success: true, error: "Could not find type std::Missing", ...options.compile };
        this.dryrunBehavior = { durationMs: 50, versionedIds: false, ...options.dryrun };
        this.deployBehavior = { durationMs: 50, failures: [], ...options.deploy };
        // 20.x has no internal agent, and std::AgentConfig is never exported
        if (this.flavor !== "20") this.agentState.set("internal", { paused: false, unpauseOnResume: false });
        const initial = (options.resources ?? DEFAULT_RESOURCES).filter((r) => this.flavor !== "20" || !r.id.startsWith("std::AgentConfig["));

        if (options.initialVersion ?? true) {
            const v = this.createVersion(initial);
            this.schedulerVersion = v.version;
            v.released = true;
            v.deployed = true;
            v.result = "success";
            const ts = this.timestamp();
            for (const r of v.resources.values()) {
                r.status = "deployed";
                r.lastDeploy = ts;
                this.actions.push({
                    action_id: randomUUID(),
                    action: "deploy",
                    started: ts,
                    finished: ts,
                    status: "deployed",
                    agent: r.agent,
                    version: v.version,
                    resource_version_ids: [`${r.id},v=${v.version}`],
                });
            }
        }
        this.registerRoutes();
    }

    // ------------------------------------------------------------------ lifecycle

    /** Listen on 127.0.0.1, on a free port. Resolves with the base URL. */
    async start(): Promise<string> {
        const listener = (req: http.IncomingMessage, res: http.ServerResponse) => this.handle(req, res);
        this.server = this.tls ? https.createServer({ key: this.tls.key, cert: this.tls.cert }, listener) : http.createServer(listener);
        await new Promise<void>((resolve, reject) => {
            this.server!.once("error", reject);
            this.server!.listen(0, "127.0.0.1", () => resolve());
        });
        const { port } = this.server.address() as AddressInfo;
        this.baseUrl = `${this.tls ? "https" : "http"}://127.0.0.1:${port}`;
        return this.baseUrl;
    }

    async stop(): Promise<void> {
        for (const t of this.timers) clearTimeout(t);
        this.timers.clear();
        const server = this.server;
        if (!server) return;
        this.server = undefined;
        await new Promise<void>((resolve) => {
            server.close(() => resolve());
            server.closeAllConnections();
        });
    }

    get url(): string {
        if (!this.baseUrl) throw new Error("FakeInmanta not started");
        return this.baseUrl;
    }

    // ------------------------------------------------------------------ test hooks

    /** Make the next `count` requests matching `path` (and `method`) fail with the given fault. */
    injectFault(spec: FaultSpec): void {
        this.faults.push({ ...spec, remaining: spec.count ?? 1 });
    }

    clearFaults(): void {
        this.faults.length = 0;
    }

    /** All requests received, in order. */
    get requests(): readonly LoggedRequest[] {
        return this.log;
    }

    /** Requests matching a method and/or path (exact string or pattern). */
    requestsTo(method?: string, path?: string | RegExp): LoggedRequest[] {
        return this.log.filter(
            (r) =>
                (method === undefined || r.method === method) &&
                (path === undefined || (typeof path === "string" ? r.path === path : path.test(r.path))),
        );
    }

    /** "METHOD /path" of every logged request, in order. */
    callSequence(): string[] {
        return this.log.map((r) => `${r.method} ${r.path}`);
    }

    clearRequests(): void {
        this.log.length = 0;
    }

    // ------------------------------------------------------------------ state accessors

    /** Stored setting values (what the server keeps for the environment). */
    get storedSettings(): Readonly<Record<string, FakeSettingValue>> {
        return this.stored;
    }

    /** Effective value of a setting (stored, else default). */
    settingValue(name: string): FakeSettingValue | undefined {
        if (name in this.stored) return this.stored[name];
        return this.definitions[name]?.default;
    }

    get isHalted(): boolean {
        return this.halted;
    }

    agentNames(): string[] {
        return [...this.agentState.keys()].sort();
    }

    isAgentPaused(agent: string): boolean {
        const state = this.agentState.get(agent);
        if (!state) throw new Error(`unknown agent ${agent}`);
        return state.paused;
    }

    get versions(): FakeVersion[] {
        return [...this.versionMap.values()].sort((a, b) => b.version - a.version);
    }

    version(version: number): FakeVersion | undefined {
        return this.versionMap.get(version);
    }

    /** The latest released version, if any. */
    activeVersion(): FakeVersion | undefined {
        return this.versions.find((v) => v.released);
    }

    get compiles(): readonly FakeCompile[] {
        return this.compileList;
    }

    get dryruns(): FakeDryrun[] {
        return [...this.dryrunMap.values()];
    }

    get resourceActions(): readonly FakeResourceAction[] {
        return this.actions;
    }

    desiredStateStatus(version: number): string {
        const v = this.versionMap.get(version);
        if (!v) throw new Error(`no version ${version}`);
        const active = this.activeVersion();
        if (v.released) return active && active.version === v.version ? "active" : "retired";
        if (active && v.version < active.version) return "skipped_candidate";
        return "candidate";
    }

    // ------------------------------------------------------------------ request handling

    private handle(req: http.IncomingMessage, res: http.ServerResponse): void {
        const chunks: Buffer[] = [];
        req.on("data", (c: Buffer) => chunks.push(c));
        req.on("end", () => {
            const url = new URL(req.url ?? "/", "http://fake");
            const text = Buffer.concat(chunks).toString("utf8");
            let body: unknown = undefined;
            let badJson = false;
            if (text.length > 0) {
                try {
                    body = JSON.parse(text);
                } catch {
                    badJson = true;
                    body = text;
                }
            }
            const query: Record<string, string | string[]> = {};
            url.searchParams.forEach((value, key) => {
                const prev = query[key];
                query[key] = prev === undefined ? value : Array.isArray(prev) ? [...prev, value] : [prev, value];
            });
            const entry: LoggedRequest = {
                seq: this.log.length + 1,
                method: req.method ?? "GET",
                path: url.pathname,
                query,
                body,
                authorization: req.headers.authorization,
                tid: headerValue(req.headers["x-inmanta-tid"]),
            };
            this.log.push(entry);

            const fault = this.takeFault(entry.method, entry.path);
            if (fault) {
                entry.fault = fault.kind;
                if (fault.kind === "hang") return; // never answer; the socket is closed on stop()
                if (fault.kind === "reset") {
                    req.socket.destroy();
                    return;
                }
                entry.status = fault.status;
                this.send(res, entry.method, { status: fault.status, body: { message: fault.message ?? defaultMessage(fault.status) } });
                return;
            }

            let reply: Reply;
            try {
                if (this.token !== undefined && req.headers.authorization !== `Bearer ${this.token}`) {
                    throw new HttpError(401, "Access to this resource is unauthorized: no valid bearer token");
                }
                if (badJson) throw new HttpError(400, "Invalid request: body is not valid JSON");
                reply = this.route(entry.method, url, (body ?? {}) as Record<string, unknown>, entry.tid);
            } catch (err) {
                if (err instanceof HttpError) {
                    reply = { status: err.status, body: { message: err.message } };
                } else {
                    reply = { status: 500, body: { message: `An unexpected error occurred in the server while processing the request: ${String(err)}` } };
                }
            }
            entry.status = reply.status;
            this.send(res, entry.method, reply);
        });
    }

    private send(res: http.ServerResponse, method: string, reply: Reply): void {
        const payload = reply.body === undefined || method === "HEAD" ? "" : JSON.stringify(reply.body);
        res.writeHead(reply.status, {
            "Content-Type": "application/json",
            "Content-Length": Buffer.byteLength(payload),
        });
        res.end(payload);
    }

    private takeFault(method: string, path: string): FakeFault | undefined {
        const idx = this.faults.findIndex(
            (f) =>
                f.remaining > 0 &&
                (f.method === undefined || f.method === method) &&
                (typeof f.path === "string" ? f.path === path : f.path.test(path)),
        );
        if (idx < 0) return undefined;
        const spec = this.faults[idx];
        spec.remaining -= 1;
        if (spec.remaining <= 0) this.faults.splice(idx, 1);
        return spec.fault;
    }

    private route(method: string, url: URL, body: Record<string, unknown>, tid: string | undefined): Reply {
        for (const r of this.routes) {
            if (r.method !== method) continue;
            const m = r.pattern.exec(url.pathname);
            if (!m) continue;
            if (r.env) {
                if (!tid) throw new HttpError(400, "Invalid request: the X-Inmanta-tid header is required");
                if (tid !== this.environment) throw new HttpError(404, "The given environment id does not exist!");
            }
            const params = m.slice(1).map((p) => decodeURIComponent(p));
            return r.handler({ method, path: url.pathname, params, query: url.searchParams, body, tid });
        }
        throw new HttpError(404, `Request or referenced resource does not exist: no route ${method} ${url.pathname}`);
    }

    private on(method: FakeMethod, pattern: RegExp, handler: Handler, env = true): void {
        this.routes.push({ method, pattern, env, handler });
    }

    /** The inmanta-core version this fake answers as. */
    get coreVersion(): string {
        return this.flavor === "20" ? "20.1.0" : this.flavor === "15" ? "15.0.0" : "14.0.0";
    }

    private registerRoutes(): void {
        this.on("GET", /^\/api\/v1\/serverstatus$/, () => ({
            status: 200,
            body: { data: { product: "Inmanta Service Orchestrator", edition: "Open Source Edition", version: this.coreVersion,
                license: "Apache Software License 2", extensions: [{ name: "core", package: "core", version: this.coreVersion }],
                slices: [], features: [] } },
        }), false);
        if (this.flavor === "20") {
            this.on("GET", /^\/api\/v2\/scheduler_status$/, () => {
                const latest = this.activeVersion()?.version ?? 0;
                if (this.schedulerVersion < latest) {
                    return { status: 200, body: { data: { scheduler_state: {}, db_state: {}, resource_states: {},
                        discrepancies: [{ rid: null, field: "model_version", expected: String(latest), actual: String(this.schedulerVersion) }] } } };
                }
                const state: Record<string, unknown> = {};
                for (const r of this.activeVersion()?.resources.values() ?? []) {
                    state[r.id] = { blocked: "not_blocked", compliance: r.status === "deployed" ? "compliant" : r.status === "failed" ? "non_compliant" : "has_update",
                        last_deployed: r.lastDeploy ?? null, last_handler_run: r.status === "failed" ? "failed" : r.lastDeploy ? "successful" : "new" };
                }
                return { status: 200, body: { data: { scheduler_state: state, db_state: state, resource_states: {}, discrepancies: {} } } };
            });
        }
        // settings
        this.on("GET", /^\/api\/v2\/environment_settings$/, () => ({
            status: 200,
            body: { data: { settings: { ...this.stored }, definition: this.definitions } },
        }));
        this.on("GET", /^\/api\/v2\/environment_settings\/([^/]+)$/, ({ params: [name] }) => {
            this.requireSetting(name);
            return { status: 200, body: { data: { settings: { [name]: this.settingValue(name) }, definition: this.definitions } } };
        });
        this.on("POST", /^\/api\/v2\/environment_settings\/([^/]+)$/, ({ params: [name], body }) => {
            const def = this.requireSetting(name);
            if (def.protected) {
                throw new HttpError(403, `Cannot update environment setting ${name} because it's protected (reason=Setting is managed by the project.yml file of the Inmanta project.).`);
            }
            if (!("value" in body) || !valueMatches(def, body.value)) {
                throw new HttpError(500, "An unexpected error occurred in the server while processing the request: Invalid value");
            }
            this.stored[name] = body.value as FakeSettingValue;
            return { status: 200, body: { data: null } };
        });
        this.on("DELETE", /^\/api\/v2\/environment_settings\/([^/]+)$/, ({ params: [name] }) => {
            const def = this.requireSetting(name);
            if (def.protected) throw new HttpError(403, `Cannot delete environment setting ${name} because it's protected.`);
            this.stored[name] = def.default;
            return { status: 200, body: { data: null } };
        });

        // agents, halt
        // GET /api/v2/agents rows and GET /api/v2/environment/<id> `halted` as a real 20.1.0 server answers them
        // (shared/notes/inmanta-20.md, Agents, pause, halt): the model's agents only, status up or paused
        this.on("GET", /^\/api\/v2\/agents$/, () => ({
            status: 200,
            body: {
                data: [...this.agentState.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([name, st]) => ({
                    environment: this.environment, name, paused: st.paused, process_id: null, process_name: null,
                    status: st.paused ? "paused" : "up", unpause_on_resume: st.unpauseOnResume,
                })),
                links: {}, metadata: { total: this.agentState.size, before: 0, after: 0, page_size: 1000 },
            },
        }));
        this.on("GET", /^\/api\/v2\/environment\/([^/]+)$/, ({ params: [id] }) => {
            this.requireEnvPath(id);
            return { status: 200, body: { data: { id, name: "lab", halted: this.halted } } };
        });
        this.on("POST", /^\/api\/v2\/agent\/([^/]+)\/([a-z_]+)$/, ({ params: [name, action] }) => {
            const state = this.agentState.get(name);
            if (!state) throw new HttpError(404, `Request or referenced resource does not exist: No agent with name ${name} exists`);
            this.agentAction([name], action);
            return { status: 200, body: { data: null } };
        });
        this.on("POST", /^\/api\/v2\/agents\/([a-z_]+)$/, ({ params: [action] }) => {
            this.agentAction([...this.agentState.keys()], action);
            return { status: 200, body: { data: null } };
        });
        this.on("POST", /^\/api\/v2\/actions\/environment\/halt$/, () => {
            if (!this.halted) {
                this.halted = true;
                for (const state of this.agentState.values()) {
                    state.unpauseOnResume = !state.paused;
                    state.paused = true;
                }
            }
            return { status: 200, body: { data: null } };
        });
        this.on("POST", /^\/api\/v2\/actions\/environment\/resume$/, () => {
            if (this.halted) {
                this.halted = false;
                const resumed: string[] = [];
                for (const [name, state] of this.agentState) {
                    if (state.unpauseOnResume) {
                        state.paused = false;
                        resumed.push(name);
                    }
                }
                this.afterUnpause(resumed);
                this.processCompileQueue();
            }
            return { status: 200, body: { data: null } };
        });

        // compile
        this.on(
            "POST",
            /^\/api\/v1\/notify\/([^/]+)$/,
            ({ params: [env], body }) => {
                this.requireEnvPath(env);
                if (this.settingValue("server_compile") !== true) {
                    return { status: 200, body: { metadata: { warnings: ["Skipping compile because server compile not enabled for this environment."] } } };
                }
                const metadata: Record<string, unknown> = { ...((body.metadata as Record<string, unknown> | undefined) ?? {}) };
                metadata.type ??= "api";
                metadata.message ??= "Recompile trigger through API call";
                const compile: FakeCompile = {
                    id: randomUUID(),
                    requested: this.timestamp(),
                    started: null,
                    completed: null,
                    success: null,
                    version: null,
                    force_update: body.update === undefined ? true : body.update === true,
                    metadata,
                    errors: [],
                };
                this.compileList.push(compile);
                this.compileQueue.push(compile);
                this.processCompileQueue();
                return { status: 200 };
            },
            false,
        );
        this.on(
            "HEAD",
            /^\/api\/v1\/notify\/([^/]+)$/,
            ({ params: [env] }) => {
                this.requireEnvPath(env);
                return { status: this.runningCompile || this.compileQueue.length > 0 ? 200 : 204 };
            },
            false,
        );
        this.on("GET", /^\/api\/v2\/compilereport$/, ({ query }) => {
            const desc = (query.get("sort") ?? "requested.desc").toLowerCase() !== "requested.asc";
            const list = [...this.compileList].sort((a, b) => (a.requested < b.requested ? -1 : 1));
            if (desc) list.reverse();
            return { status: 200, body: { data: applyLimit(list, query).map((c) => this.compileReportDto(c)) } };
        });
        this.on("GET", /^\/api\/v2\/compilereport\/([^/]+)$/, ({ params: [id] }) => {
            const c = this.compileList.find((x) => x.id === id);
            if (!c) throw new HttpError(404, `Request or referenced resource does not exist: compile ${id}`);
            return {
                status: 200,
                body: {
                    data: {
                        ...this.compileReportDto(c),
                        compile_data: c.success === false ? { errors: c.errors.map((message) => ({ type: "inmanta.ast.TypeNotFoundException", message })) } : null,
                        reports: c.completed
                            ? [
                                  {
                                      id: randomUUID(),
                                      started: c.started,
                                      completed: c.completed,
                                      command: "python -m inmanta.app -vvv export -X",
                                      name: "Recompiling configuration model",
                                      errstream: c.success === false ? c.errors.join("\n") : "",
                                      outstream: "",
                                      returncode: c.success === false ? 1 : 0,
                                  },
                              ]
                            : [],
                    },
                },
            };
        });

        // versions
        this.on("GET", /^\/api\/v2\/desiredstate$/, ({ query }) => {
            let list = this.versions;
            if ((query.get("sort") ?? "version.desc").toLowerCase() === "version.asc") list = [...list].reverse();
            const statuses = query.getAll("filter.status");
            if (statuses.length > 0) list = list.filter((v) => statuses.includes(this.desiredStateStatus(v.version)));
            return {
                status: 200,
                body: {
                    data: applyLimit(list, query).map((v) => ({
                        version: v.version,
                        date: v.date,
                        total: v.resources.size,
                        labels: [],
                        status: this.desiredStateStatus(v.version),
                    })),
                },
            };
        });
        this.on("GET", /^\/api\/v1\/version$/, ({ query }) => {
            const start = Number(query.get("start") ?? 0);
            const limit = Number(query.get("limit") ?? 1000);
            const list = this.versions.slice(start, start + limit).map((v) => this.versionModelDto(v));
            return { status: 200, body: { versions: list, start, limit, count: list.length } };
        });
        this.on("GET", /^\/api\/v1\/version\/(\d+)$/, ({ params: [id] }) => {
            const v = this.versionMap.get(Number(id));
            if (!v) throw new HttpError(404, "The given configuration model does not exist yet.");
            return {
                status: 200,
                body: {
                    model: this.versionModelDto(v),
                    resources: [...v.resources.values()].map((r) => this.flavor === "20" ? {
                        agent: r.agent, attribute_hash: "", attributes: r.attributes, environment: this.environment, is_undefined: false,
                        resource_id: r.id, resource_id_value: idDetails(r.id).resource_id_value, resource_set: null,
                        resource_type: idDetails(r.id).resource_type,
                    } : ({
                        environment: this.environment,
                        model: v.version,
                        resource_id: r.id,
                        resource_version_id: `${r.id},v=${v.version}`,
                        id: `${r.id},v=${v.version}`,
                        resource_type: idDetails(r.id).resource_type,
                        agent: r.agent,
                        status: r.status,
                        last_deploy: r.lastDeploy ?? null,
                        attributes: r.attributes,
                    })),
                    unknowns: [],
                },
            };
        });
        this.on("POST", /^\/api\/v1\/version\/(\d+)$/, ({ params: [id], body }) => {
            const v = this.versionMap.get(Number(id));
            if (!v) throw new HttpError(404, "The request version does not exist.");
            // 15+: push and agent_trigger_method are ignored ("[DEPRECATED]"): a released version deploys at once
            const push = this.flavor !== "14" ? true : body.push === true;
            const full = body.agent_trigger_method === "push_full_deploy";
            this.releaseVersion(v, push, full);
            return { status: 200, body: { model: this.versionModelDto(v) } };
        });
        this.on("DELETE", /^\/api\/v1\/version\/(\d+)$/, ({ params: [id] }) => {
            const v = this.versionMap.get(Number(id));
            if (!v) throw new HttpError(404, "The given configuration model does not exist yet.");
            if (this.activeVersion()?.version === v.version) {
                throw new HttpError(400, `Invalid request: Cannot delete the active version ${v.version}`);
            }
            this.versionMap.delete(v.version);
            return { status: 200 };
        });
        this.on("POST", /^\/api\/v1\/deploy$/, ({ body }) => {
            if (this.flavor === "20" && this.halted) throw new HttpError(409, `The environment lab (${this.environment}) is halted`);
            const active = this.activeVersion();
            if (!active) throw new HttpError(404, "No version available");
            const present = new Set([...active.resources.values()].map((r) => r.agent));
            let agents = [...present];
            const warnings: string[] = [];
            if (Array.isArray(body.agents)) {
                const wanted = body.agents.map(String);
                agents = wanted.filter((a) => present.has(a));
                const missing = wanted.filter((a) => !present.has(a));
                if (missing.length > 0) {
                    warnings.push(`Model version ${active.version} does not contain agents named [${missing.sort().join(",")}]`);
                }
            }
            const reachable = agents.filter((a) => !this.agentState.get(a)?.paused);
            if (reachable.length === 0) {
                return { status: 404, body: { message: "No agent could be reached", metadata: { warnings } } };
            }
            const full = (body.agent_trigger_method ?? "push_full_deploy") === "push_full_deploy";
            this.startDeploy(active, new Set(reachable), full);
            return { status: 200, body: { agents: reachable.sort(), metadata: { warnings } } };
        });

        // dry run
        this.on("POST", /^\/api\/v2\/dryrun\/(\d+)$/, ({ params: [id] }) => {
            const v = this.versionMap.get(Number(id));
            if (!v) throw new HttpError(404, "Request or referenced resource does not exist: The requested version does not exist.");
            // 20.x refuses a dry run of a halted environment; 14.x runs it (every resource agent_down)
            if (this.halted && this.flavor === "20") throw new HttpError(409, `The environment lab (${this.environment}) is halted`);
            return { status: 200, body: { data: this.startDryrun(v).id } };
        });
        this.on("GET", /^\/api\/v2\/dryrun\/(\d+)$/, ({ params: [id] }) => {
            const version = Number(id);
            if (!this.versionMap.has(version)) throw new HttpError(404, "Request or referenced resource does not exist: The requested version does not exist.");
            const list = this.dryruns
                .filter((d) => d.version === version)
                .sort((a, b) => (a.date < b.date ? 1 : -1))
                .map((d) => ({ id: d.id, environment: this.environment, model: d.version, date: d.date, total: d.total, todo: d.todo }));
            return { status: 200, body: { data: list } };
        });
        this.on("GET", /^\/api\/v2\/dryrun\/(\d+)\/([^/]+)$/, ({ params: [version, reportId] }) => {
            const d = this.dryrunMap.get(reportId);
            if (!d || d.version !== Number(version)) throw new HttpError(404, "Request or referenced resource does not exist: dryrun not found");
            return {
                status: 200,
                body: {
                    data: {
                        summary: { id: d.id, environment: this.environment, model: d.version, date: d.date, total: d.total, todo: d.todo },
                        diff: d.todo === 0 ? d.diff : [],
                    },
                },
            };
        });

        // resources
        this.on("GET", /^\/api\/v2\/resource$/, ({ query }) => {
            const active = this.activeVersion();
            let list = active ? [...active.resources.values()] : [];
            const agentFilter = query.getAll("filter.agent");
            if (agentFilter.length > 0) list = list.filter((r) => agentFilter.some((a) => r.agent.includes(a)));
            const statusFilter = query.getAll("filter.status");
            if (statusFilter.length > 0) list = list.filter((r) => statusFilter.includes(r.status));
            const data = applyLimit(list, query).map((r) => ({
                resource_id: r.id,
                resource_version_id: `${r.id},v=${active!.version}`,
                id_details: idDetails(r.id),
                requires: [],
                status: r.status,
            }));
            const body: Record<string, unknown> = { data, links: {}, metadata: {} };
            if (query.get("deploy_summary") === "true") {
                const byState: Record<string, number> = {};
                for (const r of active ? active.resources.values() : []) byState[r.status] = (byState[r.status] ?? 0) + 1;
                body.metadata = { deploy_summary: { total: active?.resources.size ?? 0, by_state: byState } };
            }
            return { status: 200, body };
        });
        this.on("GET", /^\/api\/v2\/resource_actions$/, ({ query }) => {
            let list = [...this.actions];
            const agent = query.get("agent");
            if (agent) list = list.filter((a) => a.agent === agent);
            const first = query.get("first_timestamp");
            if (first) list = list.filter((a) => Date.parse(a.started) > Date.parse(first));
            const last = query.get("last_timestamp");
            if (last) list = list.filter((a) => Date.parse(a.started) < Date.parse(last));
            list.sort((a, b) => (a.started < b.started ? 1 : -1));
            const limit = Number(query.get("limit") ?? 0);
            if (limit > 0) list = list.slice(0, limit);
            return {
                status: 200,
                body: {
                    data: list.map((a) => ({
                        environment: this.environment,
                        version: a.version,
                        resource_version_ids: a.resource_version_ids,
                        action_id: a.action_id,
                        action: a.action,
                        started: a.started,
                        finished: a.finished,
                        messages: [],
                        status: a.status,
                        changes: {},
                        change: null,
                    })),
                },
            };
        });
    }

    // ------------------------------------------------------------------ behaviour

    private requireSetting(name: string): FakeSettingDefinition {
        const def = this.definitions[name];
        if (!def) throw new HttpError(404, "Request or referenced resource does not exist");
        return def;
    }

    private requireEnvPath(env: string): void {
        if (env !== this.environment) throw new HttpError(404, "Request or referenced resource does not exist: The given environment id does not exist!");
    }

    private agentAction(names: string[], action: string): void {
        const valid = ["pause", "unpause", "keep_paused_on_resume", "unpause_on_resume"];
        if (!valid.includes(action)) throw new HttpError(400, `Invalid request: unknown agent action ${action}`);
        const onResume = action.endsWith("_on_resume");
        if (this.halted && !onResume) {
            throw new HttpError(403, `Access denied: Cannot ${action} an agent when the environment has been halted.`);
        }
        if (!this.halted && onResume) {
            throw new HttpError(403, `Access denied: Cannot set the on_resume state of an agent when the environment is not halted.`);
        }
        const unpaused: string[] = [];
        for (const name of names) {
            const state = this.agentState.get(name)!;
            if (action === "pause") {
                if (this.flavor === "20" && !state.paused) state.leakOne = true;
                state.paused = true;
            }
            if (action === "unpause") {
                state.leakOne = false;
                if (state.paused) unpaused.push(name);
                state.paused = false;
            }
            if (action === "keep_paused_on_resume") state.unpauseOnResume = false;
            if (action === "unpause_on_resume") state.unpauseOnResume = true;
        }
        this.afterUnpause(unpaused);
    }

    /** Agents coming back pick up the work they missed in the active version (incremental deploy). */
    private afterUnpause(agents: string[]): void {
        const active = this.activeVersion();
        if (!active || agents.length === 0) return;
        this.startDeploy(active, new Set(agents), false);
    }

    private timestamp(): string {
        let t = Date.now();
        if (t <= this.lastTimestamp) t = this.lastTimestamp + 1;
        this.lastTimestamp = t;
        return new Date(t).toISOString();
    }

    private later(ms: number, fn: () => void): void {
        const timer = setTimeout(() => {
            this.timers.delete(timer);
            fn();
        }, ms);
        this.timers.add(timer);
    }

    private createVersion(resources: FakeResource[]): FakeVersion {
        this.lastVersionNumber += 1;
        const v: FakeVersion = {
            version: this.lastVersionNumber,
            date: this.timestamp(),
            released: false,
            deployed: false,
            result: "pending",
            resources: new Map(),
        };
        for (const r of resources) {
            const agent = agentOfResource(r.id);
            if (!this.agentState.has(agent)) this.agentState.set(agent, { paused: false, unpauseOnResume: false });
            v.resources.set(r.id, { id: r.id, agent, attributes: { ...(r.attributes ?? {}) }, status: "available" });
        }
        this.versionMap.set(v.version, v);
        return v;
    }

    private processCompileQueue(): void {
        if (this.runningCompile || this.halted) return;
        const next = this.compileQueue.shift();
        if (!next) return;
        this.runningCompile = next;
        next.started = this.timestamp();
        const behavior = { ...this.compileBehavior };
        this.later(behavior.durationMs, () => {
            if (behavior.success) {
                const base = this.versions[0];
                const resources =
                    behavior.resources ??
                    (base ? [...base.resources.values()].map((r) => ({ id: r.id, attributes: r.attributes }))
                        // 20.x (std >= 8.7): std::AgentConfig is never exported (shared/notes/inmanta-20.md, Build / install)
                        : DEFAULT_RESOURCES.filter((r) => this.flavor !== "20" || !r.id.startsWith("std::AgentConfig[")));
                const v = this.createVersion(resources);
                next.version = v.version;
                next.success = true;
                if (this.settingValue("auto_deploy") === true) {
                    const push = this.flavor !== "14" ? true : this.settingValue("push_on_auto_deploy") !== false;
                    const full = this.flavor === "14" && this.settingValue("agent_trigger_method_on_auto_deploy") === "push_full_deploy";
                    try {
                        this.releaseVersion(v, push, full);
                    } catch (err) {
                        // The real server logs "Could not perform auto deploy" and keeps the version as a candidate.
                        next.metadata.auto_deploy_warning = (err as Error).message;
                    }
                }
            } else {
                next.success = false;
                next.errors = [behavior.error];
            }
            next.completed = this.timestamp();
            this.completions.compile = Date.now();
            this.runningCompile = undefined;
            this.processCompileQueue();
        });
    }

    private compileReportDto(c: FakeCompile): Record<string, unknown> {
        return {
            id: c.id,
            remote_id: null,
            environment: this.environment,
            requested: c.requested,
            started: c.started,
            completed: c.completed,
            do_export: true,
            force_update: c.force_update,
            metadata: c.metadata,
            environment_variables: {},
            requested_environment_variables: {},
            mergeable_environment_variables: {},
            partial: false,
            removed_resource_sets: [],
            exporter_plugin: null,
            notify_failed_compile: null,
            failed_compile_message: null,
            success: c.success,
            version: c.version,
            links: {},
        };
    }

    private versionModelDto(v: FakeVersion): Record<string, unknown> {
        if (this.flavor === "20") {
            return { date: v.date, environment: this.environment, is_suitable_for_partial_compiles: false, partial_base: null,
                pip_config: null, project_constraints: null, released: v.released, skipped_for_undeployable: [],
                total: v.resources.size, undeployable: [], version: v.version, version_info: {} };
        }
        const done = [...v.resources.values()].filter((r) => !DONE_TRANSIENT.has(r.status)).length;
        return {
            version: v.version,
            environment: this.environment,
            date: v.date,
            released: v.released,
            deployed: v.deployed,
            result: v.result,
            version_info: {},
            total: v.resources.size,
            done: v.deployed ? v.resources.size : done,
            status: {},
        };
    }

    private releaseVersion(v: FakeVersion, push: boolean, full: boolean): void {
        if (v.released) throw new HttpError(409, `Conflict: The version ${v.version} on environment ${this.environment} is already released.`);
        const previous = this.activeVersion();
        if (previous && v.version < previous.version) {
            throw new HttpError(409, `Conflict: The version ${v.version} on environment ${this.environment} is older then the latest released version ${previous.version}.`);
        }
        if (this.flavor === "20") {
            // The rows carry the new version at once but keep their old states until the scheduler has read it.
            for (const r of v.resources.values()) {
                const old = previous?.resources.get(r.id);
                r.status = old?.status ?? "available";
                r.lastDeploy = old?.lastDeploy;
            }
            v.released = true;
            this.later(this.schedulerLagMs, () => this.schedulerTakes(v, previous));
            return;
        }
        // Resources that did not change and were deployed stay deployed (the increment logic of the server).
        for (const r of v.resources.values()) {
            const old = previous?.resources.get(r.id);
            if (old && old.status === "deployed" && sameJson(old.attributes, r.attributes)) {
                r.status = "deployed";
                r.lastDeploy = old.lastDeploy;
            } else {
                r.status = "available";
            }
        }
        v.released = true;
        v.result = "deploying";
        this.updateDone(v);
        if (push && !v.deployed) this.startDeploy(v, undefined, full);
    }

    /** flavor "20": the scheduler reads a released version and deploys what changed (not while halted). */
    private schedulerTakes(v: FakeVersion, previous: FakeVersion | undefined): void {
        if (this.halted) {
            this.later(this.schedulerLagMs, () => this.schedulerTakes(v, previous));
            return;
        }
        if (!this.versionMap.has(v.version) || this.activeVersion() !== v) return;
        for (const r of v.resources.values()) {
            const old = previous?.resources.get(r.id);
            if (old && old.status === "deployed" && sameJson(old.attributes, r.attributes)) {
                r.status = "deployed";
            } else {
                r.status = "available";
            }
        }
        this.schedulerVersion = v.version;
        this.startDeploy(v, undefined, false);
    }

    /** Deploy the resources of `v` (optionally only those of some agents); paused agents are skipped. */
    private startDeploy(v: FakeVersion, agents: Set<string> | undefined, full: boolean): void {
        const behavior = { ...this.deployBehavior, failures: [...this.deployBehavior.failures] };
        const batch: FakeResourceState[] = [];
        for (const r of v.resources.values()) {
            if (agents && !agents.has(r.agent)) continue;
            const agentState = this.agentState.get(r.agent);
            if (agentState?.paused) {
                // 20.1.0: a paused idle agent still runs the first task queued after the pause (TaskRunner._stop)
                if (!agentState.leakOne || r.status === "deployed" || r.status === "deploying") continue;
                agentState.leakOne = false;
            }
            if (r.status === "deploying") continue;
            if (!full && r.status === "deployed") continue;
            batch.push(r);
        }
        if (batch.length === 0) {
            this.updateDone(v);
            return;
        }
        const started = this.timestamp();
        const startedActions = batch.map((r) => {
            r.status = "deploying";
            const action: FakeResourceAction = {
                action_id: randomUUID(),
                action: "deploy",
                started,
                finished: null,
                status: "deploying",
                agent: r.agent,
                version: v.version,
                resource_version_ids: [`${r.id},v=${v.version}`],
            };
            this.actions.push(action);
            return { r, action };
        });
        if (v.deployed) {
            v.deployed = false;
            v.result = "deploying";
        }
        this.later(behavior.durationMs, () => {
            if (!this.versionMap.has(v.version)) return;
            const finished = this.timestamp();
            for (const { r, action } of startedActions) {
                r.status = behavior.failures.includes(r.id) ? "failed" : "deployed";
                r.lastDeploy = finished;
                action.finished = finished;
                action.status = r.status;
            }
            this.updateDone(v);
            this.completions.deploy = Date.now();
        });
    }

    private updateDone(v: FakeVersion): void {
        if (!v.released) return;
        const states = [...v.resources.values()].map((r) => r.status);
        if (states.some((s) => DONE_TRANSIENT.has(s))) return;
        v.deployed = true;
        v.result = states.every((s) => s === "deployed") ? "success" : "failed";
    }

    private startDryrun(v: FakeVersion): FakeDryrun {
        const behavior = { ...this.dryrunBehavior };
        const run: FakeDryrun = {
            id: randomUUID(),
            version: v.version,
            date: this.timestamp(),
            total: v.resources.size,
            todo: v.resources.size,
            diff: [],
        };
        this.dryrunMap.set(run.id, run);
        this.later(behavior.durationMs, () => {
            run.diff = this.computeDiff(v, behavior);
            run.todo = 0;
            this.completions.dryrun = Date.now();
        });
        return run;
    }

    private computeDiff(v: FakeVersion, behavior: DryrunBehavior): FakeDryrun["diff"] {
        const suffix = behavior.versionedIds ? `,v=${v.version}` : "";
        const explicit = new Map((behavior.changes ?? []).map((c) => [c.resourceId, c]));
        const active = this.activeVersion();
        const out: FakeDryrun["diff"] = [];
        for (const r of v.resources.values()) {
            const attributes: Record<string, unknown> = {};
            let status: string;
            const spec = explicit.get(r.id);
            if (this.agentState.get(r.agent)?.paused) {
                status = "agent_down";
            } else if (spec) {
                status = spec.status;
                for (const [k, c] of Object.entries(spec.attributes ?? {})) attributes[k] = attributeDiff(c.from, c.to);
            } else if (behavior.changes) {
                status = "unmodified";
            } else {
                const old = active?.resources.get(r.id);
                if (!old) {
                    status = "added";
                    for (const [k, val] of Object.entries(r.attributes)) attributes[k] = attributeDiff(null, val);
                } else {
                    for (const k of new Set([...Object.keys(old.attributes), ...Object.keys(r.attributes)])) {
                        if (!sameJson(old.attributes[k], r.attributes[k])) attributes[k] = attributeDiff(old.attributes[k], r.attributes[k]);
                    }
                    status = Object.keys(attributes).length > 0 ? "modified" : "unmodified";
                }
            }
            out.push({ resource_id: `${r.id}${suffix}`, status, attributes });
        }
        for (const spec of behavior.changes ?? []) {
            if (!v.resources.has(spec.resourceId)) {
                const attributes: Record<string, unknown> = {};
                for (const [k, c] of Object.entries(spec.attributes ?? {})) attributes[k] = attributeDiff(c.from, c.to);
                out.push({ resource_id: `${spec.resourceId}${suffix}`, status: spec.status, attributes });
            }
        }
        return out;
    }
}

function attributeDiff(from: unknown, to: unknown): Record<string, unknown> {
    return {
        from_value: from ?? null,
        to_value: to ?? null,
        from_value_compare: from === undefined || from === null ? "" : JSON.stringify(from),
        to_value_compare: to === undefined || to === null ? "" : JSON.stringify(to),
    };
}

function valueMatches(def: FakeSettingDefinition, value: unknown): boolean {
    switch (def.type) {
        case "bool":
            return typeof value === "boolean";
        case "int":
            return typeof value === "number" && Number.isInteger(value);
        case "positive_float":
            return typeof value === "number" && value >= 0;
        case "str":
            return typeof value === "string";
        case "enum":
            return typeof value === "string" && (def.allowed_values ?? []).includes(value);
        case "dict":
            return !!value && typeof value === "object" && !Array.isArray(value);
    }
}

function applyLimit<T>(list: T[], query: URLSearchParams): T[] {
    const limit = Number(query.get("limit") ?? 0);
    return limit > 0 ? list.slice(0, limit) : list;
}

function sameJson(a: unknown, b: unknown): boolean {
    return JSON.stringify(a) === JSON.stringify(b);
}

function headerValue(h: string | string[] | undefined): string | undefined {
    return Array.isArray(h) ? h[0] : h;
}

function defaultMessage(status: number): string {
    if (status >= 500) return "An unexpected error occurred in the server while processing the request";
    if (status === 404) return "Request or referenced resource does not exist";
    if (status === 403) return "Access denied";
    if (status === 401) return "Access to this resource is unauthorized";
    return "Invalid request";
}
