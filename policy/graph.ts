import type { PolicyResource } from "@pulumi/policy";

/**
 * The runbook's step graph, rebuilt from what a stack policy sees.
 *
 * Every step of the program is a component `upgrade:step:<PascalKind>` named by the step id, with one
 * child command (`command:local:Command` or `command:remote:Command`) of the same name whose input
 * `triggers` is `[runKey, {step, kind, params}]`, except that a runner step's params are in its
 * `environment`, one `UPGRADE_PARAM_<name>` each (`[runKey, {step, kind}]`). What the engine hands to `validateStack`
 * (checked with `pulumi preview --policy-pack`):
 *
 * - The child command's `dependencies` (and `propertyDependencies`) hold the URNs of the child commands
 *   of the previous steps: the SDK replaces a component in `dependsOn` by the custom resources under it.
 *   Components themselves carry no dependencies. So edges come from the commands and are mapped back to
 *   step ids; a component URN (or any other resource) met on the way is resolved too.
 * - During preview an input that depends on an unknown output is unknown. `triggers[1]` built with
 *   `pulumi.output({...})` is unknown as a whole as soon as one param comes from an earlier step's result
 *   (dry run, approval gate, deploy, restored settings); reading it through the policy SDK's proxy throws.
 *   Such a step keeps its id (the resource name), its kind (from the component type) and its environment
 *   (the runner's `INMANTA_ENVIRONMENT`), and `paramsKnown` is false. With a plain object in `triggers`,
 *   only the computed leaves are unknown; they read as {@link UNKNOWN}. A runner step's param that
 *   holds a computed value is unknown as a whole (it is one JSON string); the others stay known.
 */

/** A value that cannot be known during preview. */
export const UNKNOWN: unique symbol = Symbol.for("upgrade-policy.unknown");
export type Unknown = typeof UNKNOWN;

export interface Procedure {
    /** The procedure component's name: the `upgrade:procedure` of the stack. */
    name: string;
    type: string;
    urn: string;
}

export interface StepNode {
    /** The step id (the resource name). */
    id: string;
    /** Kind from the plan-format vocabulary (`setting`, `compile`, `deploy`, ...). */
    kind: string;
    /** URN of the child command (what a violation points at), or of the component when it has none. */
    urn: string;
    componentUrn: string;
    /** The procedure component the step belongs to, when there is one. */
    procedure?: Procedure;
    /** The step's params; leaves that are unknown during preview are {@link UNKNOWN}. */
    params: Record<string, unknown>;
    /** False when the whole param set is unknown during preview (only `environment` is then recovered). */
    paramsKnown: boolean;
    /** The Inmanta environment the step acts on, when it acts on one. */
    environment?: string | Unknown;
    /** Ids of the direct predecessors. */
    predecessors: string[];
}

const STEP_TYPE = "upgrade:step:";
const COMMAND_TYPES = new Set(["command:local:Command", "command:remote:Command"]);

/** An error thrown by the policy SDK's proxy when a policy reads a value that is unknown during preview. */
export function isUnknownValueError(e: unknown): boolean {
    return e instanceof Error && (e.constructor?.name === "UnknownValueError" || /can't be known during preview/.test(e.message));
}

function read(obj: unknown, key: string | number): unknown {
    try {
        return (obj as Record<string | number, unknown>)[key];
    } catch (e) {
        if (isUnknownValueError(e)) return UNKNOWN;
        throw e;
    }
}

/** A plain copy of a props value, with {@link UNKNOWN} where the value is unknown; never throws for unknowns. */
export function snapshot(value: unknown): unknown {
    if (value === UNKNOWN || value === null || typeof value !== "object") return value;
    if (Array.isArray(value)) {
        const out: unknown[] = [];
        for (let i = 0; i < value.length; i++) out.push(snapshot(read(value, i)));
        return out;
    }
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value)) out[key] = snapshot(read(value, key));
    return out;
}

/** `plan-format` kind from the component type: `upgrade:step:ApprovalGate` -> `approval-gate`. */
export function kindOfType(type: string): string {
    const pascal = type.slice(type.lastIndexOf(":") + 1);
    return pascal.replace(/([a-z0-9])([A-Z])/g, "$1-$2").toLowerCase();
}

export interface ParsedUrn {
    stack: string;
    project: string;
    /** Parent types then the resource's own type. */
    types: string[];
    name: string;
}

export function parseUrn(urn: string): ParsedUrn | undefined {
    const parts = urn.split("::");
    if (parts.length < 4 || !parts[0].startsWith("urn:pulumi:")) return undefined;
    return {
        stack: parts[0].slice("urn:pulumi:".length),
        project: parts[1],
        types: parts[2].split("$"),
        name: parts.slice(3).join("::"),
    };
}

/** Kept in step with components/core/step-env.ts: `UPGRADE_PARAM_<name>`, a plain string or JSON. */
const PARAM_PREFIX = "UPGRADE_PARAM_";

function paramsOfEnvironment(env: Record<string, unknown>): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const [name, value] of Object.entries(env)) {
        if (!name.startsWith(PARAM_PREFIX)) continue;
        out[name.slice(PARAM_PREFIX.length)] = typeof value === "string" ? decodeParam(value) : value;
    }
    return out;
}

function decodeParam(text: string): unknown {
    try {
        return JSON.parse(text);
    } catch {
        return text;
    }
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
    return !!v && typeof v === "object" && !Array.isArray(v);
}

function parentUrnOf(r: PolicyResource): string | undefined {
    return r.parent?.urn ?? r.opts?.parent;
}

export class StepGraph {
    readonly steps: StepNode[];
    /** The stack name, from the URNs. */
    readonly stack?: string;
    private readonly byId = new Map<string, StepNode>();
    private readonly ancestorCache = new Map<string, Set<string>>();
    private readonly descendantCache = new Map<string, Set<string>>();
    private successors?: Map<string, string[]>;

    constructor(steps: StepNode[], stack?: string) {
        this.steps = steps;
        this.stack = stack;
        for (const s of steps) this.byId.set(s.id, s);
    }

    get(id: string): StepNode | undefined {
        return this.byId.get(id);
    }

    ofKind(...kinds: string[]): StepNode[] {
        return this.steps.filter(s => kinds.includes(s.kind));
    }

    /** Every step the given one waits for, directly or not. */
    ancestors(id: string): Set<string> {
        const cached = this.ancestorCache.get(id);
        if (cached) return cached;
        const out = new Set<string>();
        const stack = [...(this.byId.get(id)?.predecessors ?? [])];
        while (stack.length > 0) {
            const next = stack.pop()!;
            if (out.has(next)) continue;
            out.add(next);
            stack.push(...(this.byId.get(next)?.predecessors ?? []));
        }
        out.delete(id);
        this.ancestorCache.set(id, out);
        return out;
    }

    /** Every step that waits for the given one, directly or not. */
    descendants(id: string): Set<string> {
        const cached = this.descendantCache.get(id);
        if (cached) return cached;
        if (!this.successors) {
            this.successors = new Map(this.steps.map(s => [s.id, [] as string[]]));
            for (const s of this.steps) for (const p of s.predecessors) this.successors.get(p)?.push(s.id);
        }
        const out = new Set<string>();
        const stack = [...(this.successors.get(id) ?? [])];
        while (stack.length > 0) {
            const next = stack.pop()!;
            if (out.has(next)) continue;
            out.add(next);
            stack.push(...(this.successors.get(next) ?? []));
        }
        out.delete(id);
        this.descendantCache.set(id, out);
        return out;
    }

    /** Does `later` wait for `earlier`, directly or not? */
    dependsOn(later: string | StepNode, earlier: string | StepNode): boolean {
        const a = typeof later === "string" ? later : later.id;
        const b = typeof earlier === "string" ? earlier : earlier.id;
        return this.ancestors(a).has(b);
    }

    /** The known environments the stack acts on, in step order. */
    environments(): string[] {
        const out: string[] = [];
        for (const s of this.steps) {
            if (typeof s.environment === "string" && !out.includes(s.environment)) out.push(s.environment);
        }
        return out;
    }

    /** The procedures, with their steps; steps outside any procedure are grouped under the name "". */
    procedures(): Map<string, StepNode[]> {
        const out = new Map<string, StepNode[]>();
        for (const s of this.steps) {
            const name = s.procedure?.name ?? "";
            if (!out.has(name)) out.set(name, []);
            out.get(name)!.push(s);
        }
        return out;
    }

    /** Those of the given steps no other of them waits for (the last ones). */
    latest(steps: StepNode[]): StepNode[] {
        return steps.filter(s => !steps.some(o => o !== s && this.dependsOn(o, s)));
    }

    /** Those of the given steps that wait for no other of them (the first ones). */
    earliest(steps: StepNode[]): StepNode[] {
        return steps.filter(s => !steps.some(o => o !== s && this.dependsOn(s, o)));
    }
}

/** A param of a step; {@link UNKNOWN} when it cannot be known during preview. */
export function param(step: StepNode, key: string): unknown {
    if (key in step.params) return step.params[key];
    return step.paramsKnown ? undefined : UNKNOWN;
}

/** A `setting` step for `name` (or one whose name is unknown during preview, when `orUnknown`). */
export function isSettingOf(step: StepNode, name: string, orUnknown = false): boolean {
    if (step.kind !== "setting") return false;
    const n = param(step, "name");
    return n === name || (orUnknown && n === UNKNOWN);
}

/** The step acts on environment `env` (a step whose environment is unknown may act on any). */
export function touches(step: StepNode, env: string): boolean {
    return step.environment === env || step.environment === UNKNOWN;
}

export function show(value: unknown): string {
    return value === UNKNOWN ? "<unknown during preview>" : JSON.stringify(value);
}

/** "a", "a and b", "a, b and c" with each id in backquotes. */
export function list(ids: string[]): string {
    const q = ids.map(i => `\`${i}\``);
    return q.length <= 1 ? q.join("") : `${q.slice(0, -1).join(", ")} and ${q[q.length - 1]}`;
}

/** Rebuild the step graph from the resources a stack policy sees. */
export function buildGraph(resources: PolicyResource[]): StepGraph {
    const byUrn = new Map(resources.map(r => [r.urn, r]));
    const children = new Map<string, PolicyResource[]>();
    for (const r of resources) {
        const p = parentUrnOf(r);
        if (p) {
            if (!children.has(p)) children.set(p, []);
            children.get(p)!.push(r);
        }
    }
    const components = resources.filter(r => r.type.startsWith(STEP_TYPE));

    interface Draft { node: StepNode; resources: PolicyResource[] }
    const drafts: Draft[] = [];
    const stepOfUrn = new Map<string, string>();
    for (const c of components) {
        const kids = children.get(c.urn) ?? [];
        const cmd = kids.find(k => COMMAND_TYPES.has(k.type) && k.name === c.name)
            ?? kids.find(k => COMMAND_TYPES.has(k.type)) ?? kids[0];
        const props = cmd ? cmd.props : {};
        const triggers = read(props, "triggers");
        const spec = Array.isArray(triggers) || isPlainObject(triggers) ? snapshot(read(triggers, 1)) : UNKNOWN;
        const specKnown = isPlainObject(spec);
        const env = snapshot(read(props, "environment"));
        // A runner step keeps its params in its environment (one variable each), any other in triggers[1].
        const rawParams = specKnown && "params" in spec ? spec.params
            : specKnown && isPlainObject(env) ? paramsOfEnvironment(env)
            : UNKNOWN;
        const paramsKnown = isPlainObject(rawParams);
        const params: Record<string, unknown> = paramsKnown ? { ...rawParams } : {};
        const runnerEnv = isPlainObject(env) && typeof env.INMANTA_ENVIRONMENT === "string" ? env.INMANTA_ENVIRONMENT : undefined;
        let environment: string | Unknown | undefined = typeof params.environment === "string" ? params.environment : undefined;
        if (environment === undefined) {
            environment = runnerEnv ?? (params.environment === UNKNOWN ? UNKNOWN : undefined);
        }
        const id = specKnown && typeof spec.step === "string" ? spec.step : c.name;
        const kind = specKnown && typeof spec.kind === "string" ? spec.kind : kindOfType(c.type);
        const parent = c.parent ?? (parentUrnOf(c) ? byUrn.get(parentUrnOf(c)!) : undefined);
        const procedure = parent && !parent.type.startsWith("pulumi:pulumi:Stack")
            ? { name: parent.name, type: parent.type, urn: parent.urn } : undefined;
        const node: StepNode = {
            id, kind, urn: cmd?.urn ?? c.urn, componentUrn: c.urn, procedure, params, paramsKnown, environment, predecessors: [],
        };
        drafts.push({ node, resources: [c, ...kids] });
        stepOfUrn.set(c.urn, id);
        for (const k of kids) stepOfUrn.set(k.urn, id);
    }

    // A URN a step depends on, as step ids: a step's resource, or the steps under a component, or
    // (for any other resource) whatever that resource depends on.
    const resolved = new Map<string, string[]>();
    const stepsUnder = (urn: string): string[] => {
        const out: string[] = [];
        const stack = [...(children.get(urn) ?? [])];
        while (stack.length > 0) {
            const r = stack.pop()!;
            const s = stepOfUrn.get(r.urn);
            if (s !== undefined) { if (!out.includes(s)) out.push(s); continue; }
            stack.push(...(children.get(r.urn) ?? []));
        }
        return out;
    };
    const resolve = (urn: string, seen: Set<string>): string[] => {
        const done = resolved.get(urn);
        if (done) return done;
        const s = stepOfUrn.get(urn);
        if (s !== undefined) return [s];
        if (seen.has(urn)) return [];
        seen.add(urn);
        const under = stepsUnder(urn);
        let out = under;
        if (under.length === 0) {
            const r = byUrn.get(urn);
            out = r ? [...new Set(depUrns(r).flatMap(d => resolve(d, seen)))] : [];
        }
        resolved.set(urn, out);
        return out;
    };

    for (const d of drafts) {
        const preds = new Set<string>();
        for (const r of d.resources) {
            for (const u of depUrns(r)) for (const id of resolve(u, new Set())) preds.add(id);
        }
        preds.delete(d.node.id);
        d.node.predecessors = [...preds];
    }

    const stack = resources.map(r => parseUrn(r.urn)?.stack).find(s => s !== undefined);
    return new StepGraph(drafts.map(d => d.node), stack);
}

function depUrns(r: PolicyResource): string[] {
    const out = new Set<string>();
    for (const d of r.dependencies ?? []) if (d?.urn) out.add(d.urn);
    for (const deps of Object.values(r.propertyDependencies ?? {})) for (const d of deps ?? []) if (d?.urn) out.add(d.urn);
    return [...out];
}
