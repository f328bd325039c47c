/**
 * Client for the parts of the Inmanta orchestrator REST API used by the upgrade procedures, for both
 * server lines: inmanta-core 14.x (the same endpoints exist from 11.x on) and 15.0 and later (20.x), whose
 * resource scheduler changed how a deploy is followed. The server's version is read once
 * (GET /api/v1/serverstatus) and decides which fields the deploy waits read (see deploy-state.ts).
 *
 * Endpoints:
 *   settings   GET  /api/v2/environment_settings            {data: {settings, definition}}
 *              POST /api/v2/environment_settings/<name>     {value}
 *              DELETE /api/v2/environment_settings/<name>
 *   agents     POST /api/v2/agent/<name>/<pause|unpause>,  POST /api/v2/agents/<pause|unpause>
 *   halt       POST /api/v2/actions/environment/halt | resume
 *   compile    POST /api/v1/notify/<env> {update, metadata}; HEAD /api/v1/notify/<env> (200 busy, 204 idle)
 *              GET  /api/v2/compilereport?limit=1&sort=requested.desc; GET /api/v2/compilereport/<id>
 *   versions   GET  /api/v2/desiredstate; GET /api/v1/version/<id> {model, resources}
 *   dry run    POST /api/v2/dryrun/<version> -> id; GET /api/v2/dryrun/<version> (todo); GET /api/v2/dryrun/<version>/<id>
 *   release    POST /api/v1/version/<id> {push, agent_trigger_method}
 *   deploy     POST /api/v1/deploy {agent_trigger_method, agents}
 *   resources  GET  /api/v2/resource?filter.agent=...; GET /api/v2/resource_actions?agent=...
 *   delete     DELETE /api/v1/version/<id>
 *   15+ only   GET  /api/v2/scheduler_status; GET /api/v2/resource?deploy_summary=true (deploy state)
 */
import {
    CompileFailedError,
    InmantaError,
    InvalidSettingValueError,
    ProtectedSettingError,
    UnknownSettingError,
} from "./errors";
import { HttpMethod, HttpRequest, HttpResponse, HttpTransport, serverWarnings } from "./http";
import { checkSettingValue, effectiveValue, parseSettingsResponse, SettingsResponse, unwrapData } from "./settings";
import type {
    AgentInfo,
    AgentSettleResult,
    AgentSnapshot,
    ClientOptions,
    CompileOptions,
    CompileResult,
    DeployAgentOptions,
    DeployAgentResult,
    DeployResult,
    DryrunChange,
    DryrunReport,
    HealthReport,
    InmantaConnection,
    ReleaseOptions,
    SetSettingResult,
    SettingDefinition,
    SettingValue,
    VersionInfo,
    WaitOptions,
} from "./types";
import { pollUntil } from "./wait";
import { ResourceRowDto, rowVersion, SchedulerStatusDto, schedulerProgress, summarizeRows } from "./deploy-state";

/** The server's inmanta-core version. */
export interface ServerVersion {
    version: string;
    major: number;
    /** 15.0 and later: deploys are run by the resource scheduler, deploy state comes from it. */
    scheduler: boolean;
}

/** Resource states counted as failures by waitForDeploy, health and waitForAgent. */
export const FAILED_RESOURCE_STATES: readonly string[] = ["failed", "error", "unavailable"];
/** Resource states of a resource that an agent is still working on. */
const BUSY_RESOURCE_STATES = new Set(["deploying", "processing_events"]);
/** Resource states of resources that no agent will deploy. */
const NOT_DEPLOYABLE_STATES = new Set(["undefined", "skipped_for_undefined", "orphaned"]);
const RELEASED_DESIRED_STATES = new Set(["active", "retired"]);

const DEFAULT_WAIT_TIMEOUT_MS = 30 * 60 * 1000;
/**
 * Waits poll at most 100 ms apart, so the end of a compile, dry run or deploy is noticed within about
 * 0.1 s: each probe is one or two light reads (the newest compile report, a version's or the scheduler's
 * state), at most 10 a second per waiting step (`npm run bench -- inmanta --only notice` measures the
 * delay and what the polling costs the server).
 */
const DEFAULT_POLL_MAX_MS = 100;
const PAGE_LIMIT = 1000;
const MAX_PAGES = 100;

/** Strip the ",v=N" version suffix of a resource version id. */
export function stripVersion(resourceId: string): string {
    return resourceId.replace(/,v=\d+$/, "");
}

interface CompileReportDto {
    id: string;
    requested?: string | null;
    started?: string | null;
    completed?: string | null;
    success?: boolean | null;
    version?: number | null;
    force_update?: boolean;
    metadata?: { message?: string; type?: string } | null;
}

interface CompileDetailsDto extends CompileReportDto {
    compile_data?: { errors?: Array<{ type?: string; message?: string }> } | null;
    reports?: Array<{ name?: string; command?: string; errstream?: string; returncode?: number | null }> | null;
}

interface DesiredStateDto {
    version: number;
    date?: string;
    total?: number;
    status?: string;
}

interface VersionModelDto {
    version: number;
    released?: boolean;
    deployed?: boolean;
    result?: string;
    total?: number;
    done?: number;
}

interface VersionResourceDto {
    resource_id?: string;
    resource_version_id?: string;
    id?: string;
    status?: string;
    agent?: string;
}

interface VersionDto {
    model: VersionModelDto;
    resources: VersionResourceDto[];
}

/** A dry run of at most this many resources is polled by its report (see `dryrun`). */
export const DRYRUN_REPORT_POLL_MAX = 500;

interface DryrunReportDto {
    summary?: DryrunDto;
    diff?: ResourceDiffDto[];
}

interface DryrunDto {
    id: string;
    model?: number;
    total?: number;
    todo?: number;
    date?: string;
}

interface ResourceDiffDto {
    resource_id: string;
    status: string;
    attributes?: Record<string, { from_value?: unknown; to_value?: unknown }>;
}

interface ReleasedResourceDto {
    resource_id: string;
    resource_version_id?: string;
    status: string;
    id_details?: { agent?: string };
}

interface ResourceActionDto {
    action_id?: string;
    action?: string;
    started?: string;
    finished?: string | null;
    resource_version_ids?: string[];
    status?: string | null;
}

export class InmantaClient {
    readonly connection: Readonly<InmantaConnection>;
    private readonly http: HttpTransport;
    private readonly log: (line: string) => void;
    private readonly pollMaxMs: number;
    private readonly waitTimeoutMs: number;
    private serverVersionRead?: Promise<ServerVersion>;

    constructor(conn: InmantaConnection, opts: ClientOptions = {}) {
        this.connection = Object.freeze({ ...conn });
        this.log = opts.log ?? (() => undefined);
        this.pollMaxMs = opts.pollMaxMs ?? DEFAULT_POLL_MAX_MS;
        this.waitTimeoutMs = opts.waitTimeoutMs ?? DEFAULT_WAIT_TIMEOUT_MS;
        this.http = new HttpTransport(conn, this.log);
    }

    /** Release pooled connections. The client can still be used afterwards (new connections are opened). */
    close(): void {
        this.http.close();
    }

    // ------------------------------------------------------------------ server

    /**
     * The server's inmanta-core version, read once per client: the "core" extension of
     * GET /api/v1/serverstatus (the product version of an open source server is the same number).
     */
    serverVersion(): Promise<ServerVersion> {
        this.serverVersionRead ??= (async () => {
            const call = "GET /api/v1/serverstatus";
            const res = await this.send("GET", "/api/v1/serverstatus");
            const data = unwrapData(res.body) as { version?: unknown; extensions?: Array<{ name?: unknown; version?: unknown }> } | undefined;
            const core = data?.extensions?.find((e) => e?.name === "core")?.version ?? data?.version;
            const m = typeof core === "string" ? /^(\d+)\./.exec(core) : null;
            if (!m) {
                throw new InmantaError(`${call}: the server did not report its version (got ${JSON.stringify(core ?? null)})`, {
                    call, status: res.status, url: this.http.baseUrl,
                });
            }
            const major = Number(m[1]);
            this.log(`server: inmanta-core ${String(core)}`);
            return { version: String(core), major, scheduler: major >= 15 };
        })();
        // a failed read is tried again by the next call
        this.serverVersionRead.catch(() => { this.serverVersionRead = undefined; });
        return this.serverVersionRead;
    }

    // ------------------------------------------------------------------ settings

    /** Definitions of all environment settings this server knows (name -> type, default, doc, allowed_values). */
    async settingDefinitions(): Promise<Record<string, SettingDefinition>> {
        return (await this.loadSettings()).definition;
    }

    async hasSetting(name: string): Promise<boolean> {
        const resp = await this.loadSettings();
        return Object.prototype.hasOwnProperty.call(resp.definition, name);
    }

    /** Effective value of a setting: the stored value, or the definition's default. */
    async getSetting(name: string): Promise<SettingValue | null> {
        const resp = await this.loadSettings();
        this.requireKnown(resp, name, HttpTransport.callName("GET", settingPath(name)));
        return effectiveValue(resp, name);
    }

    /**
     * Set a setting. The name and the value's type are checked against the server's definition before
     * anything is sent; an unknown name raises UnknownSettingError, a bad value InvalidSettingValueError.
     */
    async setSetting(name: string, value: SettingValue): Promise<SetSettingResult> {
        const call = HttpTransport.callName("POST", settingPath(name));
        const resp = await this.loadSettings();
        const def = this.requireKnown(resp, name, call);
        if (def.protected) {
            throw new ProtectedSettingError(name, def.protected_by ?? "protected", call, this.http.baseUrl);
        }
        const problem = checkSettingValue(def, value);
        if (problem !== undefined) {
            throw new InvalidSettingValueError(name, value, `${problem} (type "${def.type}")`, call, this.http.baseUrl);
        }
        const previous = effectiveValue(resp, name);
        const res = await this.send("POST", settingPath(name), { body: { value } });
        this.logWarnings(call, res);
        this.log(`setting ${name}: ${JSON.stringify(previous)} -> ${JSON.stringify(value)}`);
        return { name, previous, value };
    }

    /** Reset a setting to its default (DELETE). */
    async resetSetting(name: string): Promise<void> {
        const call = HttpTransport.callName("DELETE", settingPath(name));
        const resp = await this.loadSettings();
        const def = this.requireKnown(resp, name, call);
        if (def.protected) {
            throw new ProtectedSettingError(name, def.protected_by ?? "protected", call, this.http.baseUrl);
        }
        const res = await this.send("DELETE", settingPath(name));
        this.logWarnings(call, res);
    }

    private async loadSettings(): Promise<SettingsResponse> {
        const res = await this.send("GET", "/api/v2/environment_settings");
        return parseSettingsResponse(res.body);
    }

    private requireKnown(resp: SettingsResponse, name: string, call: string): SettingDefinition {
        const def = resp.definition[name];
        if (!def) throw new UnknownSettingError(name, Object.keys(resp.definition), call, this.http.baseUrl);
        return def;
    }

    // ------------------------------------------------------------------ agents, halt

    /** Pause one agent, or all agents of the environment when no name is given. */
    async pauseAgents(agent?: string): Promise<void> {
        await this.send("POST", agentActionPath("pause", agent), { body: {} });
    }

    /** Unpause one agent, or all agents when no name is given. */
    async unpauseAgents(agent?: string): Promise<void> {
        await this.send("POST", agentActionPath("unpause", agent), { body: {} });
    }

    /** The agents of the environment (GET /api/v2/agents, every page), sorted by name. */
    async agents(): Promise<AgentInfo[]> {
        const rows = await this.allPages<{ name: string; paused?: boolean; unpause_on_resume?: boolean | null; status?: string }>(
            "/api/v2/agents", { limit: PAGE_LIMIT });
        return rows.map((a) => ({ name: a.name, paused: a.paused === true, unpauseOnResume: a.unpause_on_resume ?? null, status: a.status }))
            .sort((a, b) => a.name.localeCompare(b.name));
    }

    /**
     * While the environment is halted: keep one agent (or all) paused when it is resumed
     * (POST /api/v2/agent[s]/.../keep_paused_on_resume; the server answers 403 when it is not halted).
     */
    async keepPausedOnResume(agent?: string): Promise<void> {
        await this.send("POST", agentActionPath("keep_paused_on_resume", agent), { body: {} });
    }

    /** Whether the environment is halted (GET /api/v2/environment/<id>). */
    async isHalted(): Promise<boolean> {
        const res = await this.send("GET", `/api/v2/environment/${encodeURIComponent(this.connection.environment)}`);
        return (unwrapData(res.body) as { halted?: boolean } | undefined)?.halted === true;
    }

    /** Emergency stop: halt all orchestrator operations of the environment. */
    async halt(): Promise<void> {
        await this.send("POST", "/api/v2/actions/environment/halt", { body: {} });
    }

    /** Undo halt(). */
    async resume(): Promise<void> {
        await this.send("POST", "/api/v2/actions/environment/resume", { body: {} });
    }

    // ------------------------------------------------------------------ compile

    async isCompiling(): Promise<boolean> {
        const res = await this.send("HEAD", this.notifyPath(), { accept: (s) => s === 200 || s === 204 });
        return res.status === 200;
    }

    /**
     * Trigger a compile and wait for it: done when a compile report newer than the newest one before the
     * trigger is completed and the server reports no compile running. Throws CompileFailedError when the
     * compile failed.
     */
    async compile(opts: CompileOptions): Promise<CompileResult> {
        const call = HttpTransport.callName("POST", this.notifyPath());
        const baseline = await this.newestCompileReport();
        const message = opts.message ?? (opts.update ? "Update project and recompile" : "Recompile");
        const res = await this.send("POST", this.notifyPath(), {
            body: { update: opts.update, metadata: { type: "api", message } },
        });
        const warnings = serverWarnings(res.body);
        for (const w of warnings) this.log(`${call}: server warning: ${w}`);
        const skipped = warnings.find((w) => /skipping compile/i.test(w));
        if (skipped) {
            throw new InmantaError(`${call}: the server did not start a compile: ${skipped}`, {
                call,
                status: res.status,
                serverMessage: skipped,
                url: this.http.baseUrl,
            });
        }

        const report = await pollUntil<CompileReportDto>(
            async () => {
                const newest = await this.newestCompileReport();
                if (!newest || newest.id === baseline?.id) return { state: "waiting for the compile to be queued" };
                if (!newest.completed) {
                    return { state: newest.started ? `compile ${newest.id} running` : `compile ${newest.id} queued` };
                }
                if (await this.isCompiling()) return { state: `compile ${newest.id} completed, another compile running` };
                return { done: newest };
            },
            this.pollOptions(`compile (update=${opts.update})`, opts),
        );

        const result: CompileResult = {
            id: report.id,
            success: report.success === true,
            version: report.version ?? undefined,
            requested: report.requested ?? "",
            completed: report.completed ?? "",
            message: report.metadata?.message ?? message,
            update: report.force_update ?? opts.update,
        };
        if (!result.success) {
            const errors = await this.compileErrors(report.id);
            throw new CompileFailedError(report.id, errors, call, this.http.baseUrl);
        }
        this.log(`compile ${report.id} succeeded${result.version !== undefined ? `, version ${result.version}` : ""}`);
        return result;
    }

    private async newestCompileReport(): Promise<CompileReportDto | undefined> {
        const res = await this.send("GET", "/api/v2/compilereport", { query: { limit: 1, sort: "requested.desc" } });
        const data = unwrapData(res.body);
        return Array.isArray(data) && data.length > 0 ? (data[0] as CompileReportDto) : undefined;
    }

    private async compileErrors(id: string): Promise<string[]> {
        let details: CompileDetailsDto;
        try {
            const res = await this.send("GET", `/api/v2/compilereport/${encodeURIComponent(id)}`);
            details = unwrapData(res.body) as CompileDetailsDto;
        } catch (err) {
            return [`compile report ${id} could not be read: ${(err as Error).message}`];
        }
        const errors: string[] = [];
        for (const e of details?.compile_data?.errors ?? []) {
            errors.push(e.type ? `${e.type}: ${e.message ?? ""}`.trim() : String(e.message ?? ""));
        }
        if (errors.length === 0) {
            for (const stage of details?.reports ?? []) {
                if (stage.returncode !== undefined && stage.returncode !== null && stage.returncode !== 0) {
                    const tail = (stage.errstream ?? "")
                        .split("\n")
                        .map((l) => l.trim())
                        .filter((l) => l.length > 0)
                        .slice(-5)
                        .join(" / ");
                    errors.push(`${stage.name ?? stage.command ?? "stage"} exited with ${stage.returncode}${tail ? `: ${tail}` : ""}`);
                }
            }
        }
        if (errors.length === 0 && details?.metadata?.message) {
            errors.push(`compile requested as "${details.metadata.message}" failed without error detail`);
        }
        return errors;
    }

    // ------------------------------------------------------------------ versions

    /** The newest desired state version (released or not), or undefined when there is none. */
    async latestVersion(): Promise<VersionInfo | undefined> {
        const [newest] = await this.desiredStates(1);
        if (!newest) return undefined;
        const info = toVersionInfo(newest);
        const v1 = await this.getVersion(newest.version);
        let result = v1.model.result;
        if (result === undefined && info.status === "active" && (await this.serverVersion()).scheduler) {
            // 15+: no result field; derived from the scheduler's rows once it has the version
            const state = await this.schedulerDeployState(newest.version);
            result = !state.taken || state.summary.busy > 0 ? "deploying" : state.summary.failed.length > 0 ? "failed" : "success";
        }
        return {
            ...info,
            released: v1.model.released ?? info.released,
            result,
            total: v1.model.total ?? info.total,
        };
    }

    /** The newest `limit` desired state versions, newest first. */
    async versions(limit = 10): Promise<VersionInfo[]> {
        return (await this.desiredStates(limit)).map(toVersionInfo);
    }

    private async desiredStates(limit: number, status?: string): Promise<DesiredStateDto[]> {
        const query: Record<string, string | number> = { limit, sort: "version.desc" };
        if (status) query["filter.status"] = status;
        const res = await this.send("GET", "/api/v2/desiredstate", { query });
        const data = unwrapData(res.body);
        return Array.isArray(data) ? (data as DesiredStateDto[]) : [];
    }

    private async getVersion(version: number): Promise<VersionDto> {
        const res = await this.send("GET", `/api/v1/version/${version}`);
        const body = res.body as Partial<VersionDto> | undefined;
        if (!body?.model) {
            throw new InmantaError(`GET /api/v1/version/${version}: unexpected response (no model)`, {
                call: `GET /api/v1/version/${version}`,
                status: res.status,
                url: this.http.baseUrl,
            });
        }
        return { model: body.model, resources: body.resources ?? [] };
    }

    /** The agents the resources of a version belong to, sorted. */
    async versionAgents(version: number): Promise<string[]> {
        const v = await this.getVersion(version);
        const names = v.resources.map((r) => r.agent ?? agentOf(r.resource_id ?? r.resource_version_id ?? r.id ?? ""))
            .filter((a): a is string => typeof a === "string");
        return [...new Set(names)].sort();
    }

    /**
     * 15+: wait until the scheduler has taken a released version (GET /api/v2/scheduler_status), without waiting
     * for its deploy: the careful deploy releases a version whose agents are all paused.
     */
    async waitForScheduler(version: number, opts: WaitOptions = {}): Promise<void> {
        await pollUntil<true>(
            async () => {
                const res = await this.send("GET", "/api/v2/scheduler_status");
                const progress = schedulerProgress(unwrapData(res.body) as SchedulerStatusDto | undefined, version);
                return progress.taken ? { done: true } : { state: `the scheduler has not taken version ${version} yet (it has ${progress.has ?? "none"})` };
            },
            this.pollOptions(`the scheduler taking version ${version}`, opts),
        );
    }

    /** 15+: the status of each resource of the latest released version (GET /api/v2/resource), by resource id. */
    async resourceStates(): Promise<Record<string, string>> {
        const rows = await this.allPages<ResourceRowDto>("/api/v2/resource", { limit: PAGE_LIMIT });
        return Object.fromEntries(rows.map((r) => [stripVersion(r.resource_id), r.status]).sort(([a], [b]) => a.localeCompare(b)));
    }

    /** Finished or running deploy actions of a version (GET /api/v2/resource_actions), oldest first. */
    async deployActions(version: number): Promise<{ resources: string[]; started?: string; status?: string | null }[]> {
        const res = await this.send("GET", "/api/v2/resource_actions", { query: { limit: PAGE_LIMIT } });
        const list = unwrapData(res.body);
        if (!Array.isArray(list)) return [];
        return (list as (ResourceActionDto & { version?: number })[])
            .filter((a) => a.action === "deploy" && (a.version === version
                || (a.resource_version_ids ?? []).some((r) => r.endsWith(`,v=${version}`))))
            .map((a) => ({ resources: (a.resource_version_ids ?? []).map(stripVersion), started: a.started, status: a.status }))
            .reverse();
    }

    /** Delete a version (abort of an upgrade). The active version cannot be deleted. */
    async deleteVersion(version: number): Promise<void> {
        await this.send("DELETE", `/api/v1/version/${version}`);
    }

    // ------------------------------------------------------------------ dry run

    /**
     * Start a dry run of `version`, wait for it (todo == 0) and return the changes it found. The report
     * (GET /api/v2/dryrun/<v>/<id>) carries the same summary as the list (inmanta-core data/model.py
     * `DryRunReport`: `summary: DryRun`, with `todo`), so a dry run of at most DRYRUN_REPORT_POLL_MAX
     * resources is polled by its report: the answer that says it is done holds the diff, and no request
     * follows the end. The server diffs every resource on each report request (server/services/
     * dryrunservice.py `dryrun_diff`), so a larger one is polled by the light list and its report read once.
     */
    async dryrun(version: number, opts: WaitOptions = {}): Promise<DryrunReport> {
        const res = await this.send("POST", `/api/v2/dryrun/${version}`, { body: {} });
        const id = String(unwrapData(res.body));
        this.log(`dry run ${id} of version ${version} started`);
        const reportPath = `/api/v2/dryrun/${version}/${encodeURIComponent(id)}`;
        const readReport = async () => unwrapData((await this.send("GET", reportPath)).body) as DryrunReportDto | undefined;

        let total: number | undefined;
        let report: DryrunReportDto | undefined;
        await pollUntil<true>(
            async () => {
                if (total !== undefined && total <= DRYRUN_REPORT_POLL_MAX) {
                    const r = await readReport();
                    if (r?.summary && (r.summary.todo ?? 0) === 0) {
                        report = r;
                        return { done: true };
                    }
                    return { state: `${r?.summary?.todo ?? "?"} of ${r?.summary?.total ?? total} resources to go` };
                }
                const list = await this.send("GET", `/api/v2/dryrun/${version}`);
                const runs = unwrapData(list.body);
                const run = Array.isArray(runs) ? (runs as DryrunDto[]).find((r) => String(r.id) === id) : undefined;
                if (!run) return { state: "dry run not listed yet" };
                total = run.total;
                if ((run.todo ?? 0) === 0) return { done: true };
                return { state: `${run.todo} of ${run.total ?? "?"} resources to go` };
            },
            this.pollOptions(`dry run ${id} of version ${version}`, opts),
        );

        report ??= await readReport();
        const diff = report?.diff ?? [];
        const byStatus: Record<string, number> = {};
        const changes: DryrunChange[] = [];
        for (const d of diff) {
            byStatus[d.status] = (byStatus[d.status] ?? 0) + 1;
            if (d.status === "unmodified") continue;
            const attributes: DryrunChange["attributes"] = {};
            for (const [attr, change] of Object.entries(d.attributes ?? {})) {
                attributes[attr] = { from: change.from_value, to: change.to_value };
            }
            changes.push({ resourceId: stripVersion(d.resource_id), status: d.status, attributes });
        }
        changes.sort((a, b) => a.resourceId.localeCompare(b.resourceId));
        return { id, version, changes, summary: { total: report?.summary?.total ?? diff.length, byStatus } };
    }

    // ------------------------------------------------------------------ release, deploy

    /** Release a version for deployment (the "deploy" button). Use waitForDeploy() to follow it. */
    async release(version: number, opts: ReleaseOptions = {}): Promise<VersionInfo> {
        const body = {
            push: opts.push ?? true,
            agent_trigger_method: opts.agentTriggerMethod ?? "push_incremental_deploy",
        };
        try {
            await this.send("POST", `/api/v1/version/${version}`, { body });
        } catch (err) {
            // A retried release may find its own earlier (unacknowledged) attempt: 409 "already released".
            if (err instanceof InmantaError && err.status === 409 && (err.attempts ?? 1) > 1) {
                const v = await this.getVersion(version);
                if (v.model.released) {
                    this.log(`release of version ${version}: an earlier attempt went through (409 on retry)`);
                    return { version, released: true, result: v.model.result, total: v.model.total };
                }
            }
            throw err;
        }
        this.log(`version ${version} released (${body.agent_trigger_method}, push=${body.push})`);
        return { version, released: true };
    }

    /** Wait until every resource of a released version has a final deploy state. */
    async waitForDeploy(version: number, opts: WaitOptions = {}): Promise<DeployResult> {
        const first = await this.getVersion(version);
        if (first.model.released === false) {
            throw new InmantaError(`version ${version} is not released, so it will not deploy; release it first`, {
                call: `GET /api/v1/version/${version}`,
                url: this.http.baseUrl,
            });
        }
        if ((await this.serverVersion()).scheduler) return this.waitForScheduledDeploy(version, opts);
        let current: VersionDto | undefined = first;
        return pollUntil<DeployResult>(
            async () => {
                const v = current ?? (await this.getVersion(version));
                current = undefined;
                const total = v.model.total ?? v.resources.length;
                const done = v.model.done ?? 0;
                const finished = v.model.deployed === true || (v.model.deployed === undefined && done >= total);
                if (!finished) return { state: `${done}/${total} resources done (${v.model.result ?? "?"})` };
                const { failed, byStatus } = summarize(v.resources);
                return {
                    done: {
                        version,
                        done: v.model.deployed === true ? total : done,
                        total,
                        result: v.model.result ?? "unknown",
                        failed,
                        byStatus,
                    },
                };
            },
            this.pollOptions(`deploy of version ${version}`, opts),
        );
    }

    /**
     * 15+: first until the scheduler has taken the version (before that the resource rows show the old
     * states under the new version number), then until no resource is deploying or waiting to deploy.
     */
    private waitForScheduledDeploy(version: number, opts: WaitOptions): Promise<DeployResult> {
        return pollUntil<DeployResult>(
            async () => {
                const state = await this.schedulerDeployState(version);
                if (!state.taken) return { state: `the scheduler has not taken version ${version} yet (it has ${state.has ?? "none"})` };
                const s = state.summary;
                if (state.newest !== undefined && state.newest < version) {
                    return { state: `resource rows still of version ${state.newest}` };
                }
                if (s.busy > 0) return { state: `${s.done}/${s.total} resources done` };
                return {
                    done: { version, done: s.done, total: s.total, result: s.failed.length > 0 ? "failed" : "success", failed: s.failed, byStatus: s.byStatus },
                };
            },
            this.pollOptions(`deploy of version ${version}`, opts),
        );
    }

    /** 15+: whether the scheduler has `version` (or later) and the rows of the latest released version. */
    private async schedulerDeployState(version: number): Promise<
        { taken: false; has: number | null } | { taken: true; newest?: number; summary: ReturnType<typeof summarizeRows> }
    > {
        const res = await this.send("GET", "/api/v2/scheduler_status");
        const progress = schedulerProgress(unwrapData(res.body) as SchedulerStatusDto | undefined, version);
        if (!progress.taken) return progress;
        const rows = await this.allPages<ResourceRowDto>("/api/v2/resource", { limit: PAGE_LIMIT, deploy_summary: "true" });
        const versions = rows.map(rowVersion).filter((v): v is number => v !== undefined);
        return { taken: true, newest: versions.length > 0 ? Math.max(...versions) : undefined, summary: summarizeRows(rows, stripVersion) };
    }

    /**
     * "Deploy on agent" (repair=false, incremental) or "force repair" (repair=true, full deploy) for one agent:
     * POST /api/v1/deploy {agent_trigger_method, agents: [agent]}. With `wait`, also waits for the agent's
     * resources to settle (see waitForAgent).
     */
    async deployAgent(agent: string, opts: DeployAgentOptions): Promise<DeployAgentResult> {
        const snapshot = opts.wait ? await this.agentSnapshot(agent) : undefined;
        if (opts.unpause) await this.unpauseAgents(agent);
        const res = await this.send("POST", "/api/v1/deploy", {
            body: {
                agent_trigger_method: opts.repair ? "push_full_deploy" : "push_incremental_deploy",
                agents: [agent],
            },
        });
        this.logWarnings("POST /api/v1/deploy", res);
        const agents = (res.body as { agents?: unknown } | undefined)?.agents;
        const triggered = Array.isArray(agents) ? agents.map(String) : [agent];
        const result: DeployAgentResult = { agent, triggered };
        if (snapshot) {
            result.settled = await this.waitForAgent(snapshot, { repair: opts.repair, timeoutMs: opts.timeoutMs });
        }
        return result;
    }

    /** Record the agent's resource states and newest resource action, before triggering a deploy. */
    async agentSnapshot(agent: string): Promise<AgentSnapshot> {
        const resources = await this.agentResources(agent);
        const actions = await this.send("GET", "/api/v2/resource_actions", { query: { agent, limit: 1 } });
        const list = unwrapData(actions.body);
        const newest = Array.isArray(list) && list.length > 0 ? (list[0] as ResourceActionDto) : undefined;
        const statuses: Record<string, string> = {};
        for (const r of resources) statuses[stripVersion(r.resource_id)] = r.status;
        return { agent, lastActionStarted: newest?.started, statuses };
    }

    /**
     * Wait until an agent has processed a deploy trigger issued after `snapshot` was taken.
     *
     * The API has no "agent idle" signal, so settling is derived from resource actions and states: every
     * deployable resource of the agent that the trigger should touch (all of them for a repair; for an
     * incremental deploy those that were not in state "deployed") must have a finished deploy action that
     * started after the snapshot, and no resource of the agent may still be deploying. A paused agent never
     * settles: the wait then ends with its timeout.
     */
    async waitForAgent(snapshot: AgentSnapshot, opts: WaitOptions & { repair: boolean }): Promise<AgentSettleResult> {
        const agent = snapshot.agent;
        return pollUntil<AgentSettleResult>(
            async () => {
                const resources = await this.agentResources(agent);
                const deployedSince = await this.deployedSince(agent, snapshot.lastActionStarted);
                const required = resources.filter((r) => {
                    const rid = stripVersion(r.resource_id);
                    if (NOT_DEPLOYABLE_STATES.has(r.status)) return false;
                    return opts.repair || snapshot.statuses[rid] !== "deployed";
                });
                const missing = required.filter((r) => !deployedSince.has(stripVersion(r.resource_id)));
                const busy = resources.filter((r) => BUSY_RESOURCE_STATES.has(r.status));
                if (missing.length > 0 || busy.length > 0) {
                    return {
                        state: `${required.length - missing.length}/${required.length} resources deployed, ${busy.length} deploying`,
                    };
                }
                const { failed, byStatus } = summarize(resources);
                return {
                    done: {
                        agent,
                        resources: resources.map((r) => stripVersion(r.resource_id)).sort(),
                        deployed: [...deployedSince].sort(),
                        failed,
                        byStatus,
                    },
                };
            },
            this.pollOptions(`${opts.repair ? "repair" : "deploy"} on agent ${agent}`, opts),
        );
    }

    private async agentResources(agent: string): Promise<ReleasedResourceDto[]> {
        const all = await this.allPages<ReleasedResourceDto>("/api/v2/resource", {
            limit: PAGE_LIMIT,
            "filter.agent": agent,
        });
        // filter.agent matches partially: keep exact matches only.
        return all.filter((r) => (r.id_details?.agent ?? agentOf(r.resource_id)) === agent);
    }

    private async deployedSince(agent: string, since: string | undefined): Promise<Set<string>> {
        const query: Record<string, string | number> = { agent, limit: PAGE_LIMIT };
        if (since) query.first_timestamp = since;
        const res = await this.send("GET", "/api/v2/resource_actions", { query });
        const actions = unwrapData(res.body);
        const deployed = new Set<string>();
        if (!Array.isArray(actions)) return deployed;
        for (const a of actions as ResourceActionDto[]) {
            if (a.action !== "deploy" || !a.finished) continue;
            for (const rvid of a.resource_version_ids ?? []) deployed.add(stripVersion(rvid));
        }
        return deployed;
    }

    /** Deploy state of the latest released (active) version. */
    async health(): Promise<HealthReport> {
        const [active] = await this.desiredStates(1, "active");
        if (!active) {
            return { version: null, healthy: true, failed: [], deploying: false, summary: { total: 0, done: 0, byStatus: {} } };
        }
        if ((await this.serverVersion()).scheduler) {
            const state = await this.schedulerDeployState(active.version);
            if (!state.taken) {
                return { version: active.version, healthy: false, failed: [], deploying: true,
                    summary: { total: active.total ?? 0, done: 0, result: "deploying", byStatus: {} } };
            }
            const s = state.summary;
            const deploying = s.busy > 0;
            const result = deploying ? "deploying" : s.failed.length > 0 ? "failed" : "success";
            return { version: active.version, healthy: s.failed.length === 0 && !deploying, failed: s.failed, deploying,
                summary: { total: s.total, done: s.done, result, byStatus: s.byStatus } };
        }
        const v = await this.getVersion(active.version);
        const { failed, byStatus } = summarize(v.resources);
        const total = v.model.total ?? v.resources.length;
        const done = v.model.done ?? 0;
        const deploying = v.model.deployed === false || (v.model.deployed === undefined && done < total);
        return {
            version: active.version,
            healthy: failed.length === 0 && !deploying,
            failed,
            deploying,
            summary: { total, done, result: v.model.result, byStatus },
        };
    }

    // ------------------------------------------------------------------ plumbing

    private notifyPath(): string {
        return `/api/v1/notify/${encodeURIComponent(this.connection.environment)}`;
    }

    private pollOptions(what: string, opts: WaitOptions) {
        return {
            what,
            timeoutMs: opts.timeoutMs ?? this.waitTimeoutMs,
            initialDelayMs: 100,
            maxDelayMs: this.pollMaxMs,
            log: this.log,
            url: this.http.baseUrl,
        };
    }

    private send(
        method: HttpMethod,
        path: string,
        extra: { query?: HttpRequest["query"]; body?: unknown; accept?: (status: number) => boolean } = {},
    ): Promise<HttpResponse> {
        return this.http.request({ method, path, query: extra.query, body: extra.body }, extra.accept);
    }

    private async allPages<T>(path: string, query: Record<string, string | number>): Promise<T[]> {
        const out: T[] = [];
        let nextPath: string | undefined = path;
        let nextQuery: HttpRequest["query"] = query;
        for (let page = 0; nextPath && page < MAX_PAGES; page++) {
            const res = await this.send("GET", nextPath, { query: nextQuery });
            const data = unwrapData(res.body);
            if (Array.isArray(data)) out.push(...(data as T[]));
            const next = (res.body as { links?: { next?: unknown } } | undefined)?.links?.next;
            if (typeof next !== "string" || next.length === 0) break;
            const url = new URL(next, "http://placeholder");
            nextPath = url.pathname;
            const q: Record<string, string[]> = {};
            url.searchParams.forEach((value, key) => {
                (q[key] ??= []).push(value);
            });
            nextQuery = q;
        }
        return out;
    }

    private logWarnings(call: string, res: HttpResponse): void {
        for (const w of serverWarnings(res.body)) this.log(`${call}: server warning: ${w}`);
    }
}

function settingPath(name: string): string {
    return `/api/v2/environment_settings/${encodeURIComponent(name)}`;
}

function agentActionPath(action: "pause" | "unpause" | "keep_paused_on_resume", agent?: string): string {
    return agent === undefined
        ? `/api/v2/agents/${action}`
        : `/api/v2/agent/${encodeURIComponent(agent)}/${action}`;
}

function toVersionInfo(d: DesiredStateDto): VersionInfo {
    return {
        version: d.version,
        status: d.status,
        released: d.status !== undefined && RELEASED_DESIRED_STATES.has(d.status),
        date: d.date,
        total: d.total,
    };
}

/** Agent name of a resource id "type[agent,attr=value]". */
function agentOf(resourceId: string): string | undefined {
    const m = /\[([^,\]]+),/.exec(resourceId);
    return m ? m[1] : undefined;
}

function summarize(resources: Array<{ resource_id?: string; resource_version_id?: string; id?: string; status?: string }>): {
    failed: string[];
    byStatus: Record<string, number>;
} {
    const byStatus: Record<string, number> = {};
    const failed: string[] = [];
    for (const r of resources) {
        const status = r.status ?? "unknown";
        byStatus[status] = (byStatus[status] ?? 0) + 1;
        if (FAILED_RESOURCE_STATES.includes(status)) {
            failed.push(stripVersion(r.resource_id ?? r.resource_version_id ?? r.id ?? "?"));
        }
    }
    failed.sort();
    return { failed, byStatus };
}
