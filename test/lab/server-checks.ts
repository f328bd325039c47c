/**
 * What the lab tests read back from the real orchestrator: plain GETs on its REST API (not the
 * client under test, so a check does not share the client's mistakes), resource actions per agent
 * in time order, and the stack files the tests write for the lab's other procedures.
 */
import * as http from "http";
import { LabCopy, StackConfig } from "../support/lab-copy";

/** GET a path of the server's API for an environment; rejects on a non-2xx answer. */
export function get<T = unknown>(url: string, environment: string, path: string): Promise<T> {
    return new Promise((resolve, reject) => {
        const req = http.get(`${url}${path}`, { headers: { "X-Inmanta-tid": environment, Accept: "application/json" } }, res => {
            let body = "";
            res.setEncoding("utf8");
            res.on("data", d => (body += d));
            res.on("end", () => {
                if ((res.statusCode ?? 0) >= 300) reject(new Error(`GET ${path}: HTTP ${res.statusCode}: ${body}`));
                else resolve((body ? JSON.parse(body) : undefined) as T);
            });
        });
        req.on("error", reject);
        req.setTimeout(10000, () => req.destroy(new Error(`GET ${path}: no answer within 10 s`)));
    });
}

export interface ResourceAction {
    action: string;
    agent: string;
    resources: string[];
    version: number;
    started: number;
    finished: number | null;
    status: string | null;
}

const agentOf = (rvid: string) => /\[([^,\]]+),/.exec(rvid)?.[1] ?? "?";

/** Resource actions of an environment (optionally of one agent and one kind), oldest first. */
export async function resourceActions(url: string, environment: string, opts: { agent?: string; action?: string } = {}): Promise<ResourceAction[]> {
    const q = new URLSearchParams({ limit: "1000" });
    if (opts.agent) q.set("agent", opts.agent);
    const body = await get<{ data: Array<{ action: string; version: number; resource_version_ids: string[]; started: string; finished: string | null; status: string | null }> }>(
        url, environment, `/api/v2/resource_actions?${q}`);
    return body.data
        .map(a => ({
            action: a.action, agent: agentOf(a.resource_version_ids[0] ?? ""), resources: a.resource_version_ids.map(r => r.replace(/,v=\d+$/, "")),
            version: a.version, started: Date.parse(a.started), finished: a.finished ? Date.parse(a.finished) : null, status: a.status,
        }))
        .filter(a => (!opts.agent || a.agent === opts.agent) && (!opts.action || a.action === opts.action))
        .sort((a, b) => a.started - b.started);
}

export interface DesiredState {
    version: number;
    status: string;
}

export async function desiredStates(url: string, environment: string): Promise<DesiredState[]> {
    const body = await get<{ data: DesiredState[] }>(url, environment, "/api/v2/desiredstate?limit=1000&sort=version.asc");
    return body.data.map(d => ({ version: d.version, status: d.status }));
}

export interface VersionModel {
    version: number;
    released: boolean;
    deployed: boolean;
    result: string;
    done: number;
    total: number;
}

export async function versionModel(url: string, environment: string, version: number): Promise<VersionModel> {
    return (await get<{ model: VersionModel }>(url, environment, `/api/v1/version/${version}`)).model;
}

export interface ResourceRow {
    resource_id: string;
    version: number;
    status: string;
}

/** 15+: the rows of the latest released version (`GET /api/v2/resource`), with the version of each row. */
export async function resourceRows(url: string, environment: string): Promise<ResourceRow[]> {
    const body = await get<{ data: { resource_id: string; resource_version_id: string; status: string }[] }>(
        url, environment, "/api/v2/resource?limit=1000&deploy_summary=true");
    return body.data
        .map(r => ({ resource_id: r.resource_id, version: Number(/,v=(\d+)$/.exec(r.resource_version_id)?.[1]), status: r.status }))
        .sort((a, b) => a.resource_id.localeCompare(b.resource_id));
}

/**
 * 15+: the scheduler's own view (`GET /api/v2/scheduler_status`): whether it has read the latest released
 * version (`discrepancies` is then a dict, not the list naming `model_version`; inmanta-core
 * src/inmanta/server/services/resourceservice.py / src/inmanta/deploy/scheduler.py,
 * shared/notes/inmanta-20.md) and each resource's compliance and last handler run.
 */
export async function schedulerState(url: string, environment: string): Promise<{ taken: boolean;
    resources: Record<string, { compliance: string; last_handler_run: string }> }> {
    const body = await get<{ data: { scheduler_state: Record<string, { compliance: string; last_handler_run: string }>; discrepancies: unknown } }>(
        url, environment, "/api/v2/scheduler_status");
    const resources: Record<string, { compliance: string; last_handler_run: string }> = {};
    for (const [rid, st] of Object.entries(body.data.scheduler_state ?? {})) {
        resources[rid.replace(/path=.*\//, "path=")] = { compliance: st.compliance, last_handler_run: st.last_handler_run };
    }
    return { taken: !Array.isArray(body.data.discrepancies), resources };
}

/**
 * Whether a released version is deployed and how it ended, read the way each line reports it: 14.x in
 * `GET /api/v1/version/<v>` (`deployed`, `result`); 15+ has neither (shared/notes/inmanta-20.md, Versions):
 * the scheduler must have taken the version and every resource row be of it and `deployed`.
 */
export async function deployState(url: string, environment: string, version: number, v14: boolean): Promise<{ released: boolean; deployed: boolean; result: string }> {
    const v = await versionModel(url, environment, version);
    if (v14) return { released: v.released, deployed: v.deployed, result: v.result };
    const [scheduler, rows] = await Promise.all([schedulerState(url, environment), resourceRows(url, environment)]);
    const deployed = scheduler.taken && rows.length > 0 && rows.every(r => r.version === version && r.status === "deployed");
    const failed = rows.some(r => ["failed", "unavailable", "skipped"].includes(r.status));
    return { released: v.released, deployed, result: deployed ? "success" : failed ? "failed" : `rows ${JSON.stringify(rows)}` };
}

/** Effective settings of an environment: stored values, else the server's defaults. */
export async function settings(url: string, environment: string): Promise<Record<string, unknown>> {
    const body = await get<{ data: { settings: Record<string, unknown>; definition: Record<string, { default: unknown }> } }>(
        url, environment, "/api/v2/environment_settings");
    const out: Record<string, unknown> = {};
    for (const [name, def] of Object.entries(body.data.definition)) {
        out[name] = name in body.data.settings ? body.data.settings[name] : def.default;
    }
    return out;
}

export async function environmentHalted(url: string, environment: string): Promise<boolean> {
    return (await get<{ data: { halted: boolean } }>(url, environment, `/api/v2/environment/${environment}`)).data.halted;
}

/** The parts of the lab stack every procedure of these tests shares, for a new environment of the copy. */
export function labStackBase(lab: LabCopy, environment: string): StackConfig {
    return {
        orchestrator: {
            url: lab.url, environment, agents: ["internal", "lab"], timeoutSeconds: 600,
            shell: {
                projectDir: ".lab/inmanta/server/state/server/environments/{environment}",
                prelude: ". .lab/inmanta/server/env.sh && inmanta-workon {environment}",
                inmanta: "inmanta",
            },
        },
        database: { host: "127.0.0.1", port: lab.pgPort, name: "inmanta", user: "postgres", backupDir: ".lab/backups" },
    };
}

/** Rows of a table as text, for exact comparisons (every column, in a fixed order). */
export function tableRows(lab: LabCopy, table: string, environment: string, orderBy: string): string {
    return lab.psql(`SELECT t::text FROM ${table} t WHERE environment = '${environment}' ORDER BY ${orderBy}`);
}

export const sleep = (ms: number) => new Promise(r => setTimeout(r, ms));

/**
 * Delete a describe's lab copy after it, unless one of its tests did not pass: then the services
 * are stopped and the copy is kept (its runs' output is in .lab/runs).
 */
export function removeAfter(lab: () => LabCopy | undefined): void {
    after(function () {
        const copy = lab();
        if (!copy) return;
        const failed = (this.test?.parent?.tests ?? []).some(t => t.state !== "passed");
        if (failed) {
            copy.down();
            process.stdout.write(`      lab copy kept: ${copy.dir} (output of every run in .lab/runs)\n`);
        } else {
            copy.remove();
        }
    });
}
