/**
 * Fabricated `validateStack` arguments shaped like what the engine sends for this program (checked
 * with `pulumi preview --policy-pack`): a Stack, one procedure component, per step a component
 * `upgrade:step:<PascalKind>` and its child command of the same name whose `triggers[1]` is
 * `{step, kind, params}`; a command's `dependencies` are the URNs of the previous steps' commands.
 * Values unknown during preview are made with the policy SDK's own proxy, so reading them throws as
 * it does in a real preview.
 */
import { strict as assert } from "assert";
import { createRequire } from "module";
import * as path from "path";
import type { PolicyResource, StackValidationArgs, StackValidationPolicy } from "../../policy/types";
import { encodeParam, paramVariable, stepName } from "../../components/core/step-env";

const policyRequire = createRequire(path.join(__dirname, "..", "..", "policy", "package.json"));

interface ProxyModule {
    unknownCheckingProxy<T>(value: T): T;
    unknownStringValue: unknown;
}

function proxyModule(): ProxyModule {
    try {
        return policyRequire("@pulumi/policy/proxy") as ProxyModule;
    } catch (e) {
        throw new Error(`@pulumi/policy is not installed in policy/: run \`npm ci --prefix policy\` (${(e as Error).message})`);
    }
}

export const ENV = "6f1c0e2a-3b4d-4c5e-8f60-718293a4b5c6";
export const ENV2 = "0b7e8d4c-1f2a-4e3b-9c5d-6a7b8c9d0e1f";

/** Marks a param value as unknown during preview. */
export const COMPUTED = Symbol("computed");

/** Params as the step registry (and so `plan`) describes them, with computed values as COMPUTED. */
export function computedParams(value: unknown): unknown {
    if (value === "<computed>") return COMPUTED;
    if (Array.isArray(value)) return value.map(computedParams);
    if (value && typeof value === "object") {
        const keys = Object.keys(value);
        if (keys.length === 1 && keys[0] === "from") return COMPUTED;
        return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, computedParams(v)]));
    }
    return value;
}

export interface FakeStep {
    id: string;
    kind: string;
    params?: Record<string, unknown>;
    /** Direct predecessors (step ids); default: the previous step of the list. */
    after?: string[];
    /** Extra predecessors through a data dependency (propertyDependencies of `triggers`). */
    dataFrom?: string[];
    /**
     * The whole `triggers[1]` is unknown during preview (the program builds it with `pulumi.output`
     * and a param is computed); leaves marked {@link COMPUTED} are unknown in any case.
     */
    specUnknown?: boolean;
    /** A shell step over SSH: `command:remote:Command`, no runner environment. */
    remote?: boolean;
    /** A shell step: no runner environment (INMANTA_ENVIRONMENT). */
    shell?: boolean;
}

export interface FakeStackOptions {
    stack?: string;
    procedure?: string;
    procedureType?: string;
    runKey?: string;
}

function pascal(kind: string): string {
    return kind.split(/[-_]/).map(p => p.charAt(0).toUpperCase() + p.slice(1)).join("");
}

const OPTIONS = {
    protect: false, ignoreChanges: [], aliases: [], additionalSecretOutputs: [],
    customTimeouts: { createSeconds: 0, updateSeconds: 0, deleteSeconds: 0 },
};

function resource(type: string, urn: string, name: string, props: Record<string, unknown>, parent?: PolicyResource): PolicyResource {
    return {
        type, urn, name, props, opts: { ...OPTIONS, ...(parent ? { parent: parent.urn } : {}) }, parent,
        dependencies: [], propertyDependencies: {},
        isType: () => false, asType: () => undefined,
    } as PolicyResource;
}

function replaceComputed(value: unknown, unknown: unknown): unknown {
    if (value === COMPUTED) return unknown;
    if (Array.isArray(value)) return value.map(v => replaceComputed(v, unknown));
    if (value && typeof value === "object") {
        return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, replaceComputed(v, unknown)]));
    }
    return value;
}

function hasComputed(value: unknown): boolean {
    if (value === COMPUTED) return true;
    if (value && typeof value === "object") return Object.values(value).some(hasComputed);
    return false;
}

/** The resources `validateStack` sees for these steps. */
export function fakeResources(steps: FakeStep[], opts: FakeStackOptions = {}): PolicyResource[] {
    const { unknownCheckingProxy, unknownStringValue } = proxyModule();
    const stack = opts.stack ?? "test";
    const procedure = opts.procedure ?? "lsm-upgrade";
    const procType = opts.procedureType ?? "upgrade:inmanta:Procedure";
    const prefix = `urn:pulumi:${stack}::upgrade::`;
    const stackRes = resource("pulumi:pulumi:Stack", `${prefix}pulumi:pulumi:Stack::upgrade-${stack}`, `upgrade-${stack}`, {});
    const proc = resource(procType, `${prefix}${procType}::${procedure}`, procedure, {}, stackRes);
    const out: PolicyResource[] = [stackRes, proc];
    const commands = new Map<string, PolicyResource>();
    steps.forEach((s, i) => {
        const stepType = `upgrade:step:${pascal(s.kind)}`;
        const component = resource(stepType, `${prefix}${procType}$${stepType}::${s.id}`, s.id, {}, proc);
        const cmdType = s.remote ? "command:remote:Command" : "command:local:Command";
        const params = s.params ?? {};
        const runner = !s.remote && !s.shell;
        // As components/core/step.ts builds them: a runner step's params are in its environment, one
        // variable each (a param holding a computed value is unknown as a whole); any other's in triggers[1].
        const spec = s.specUnknown && hasComputed(params)
            ? unknownStringValue
            : runner ? { step: s.id, kind: s.kind } : { step: s.id, kind: s.kind, params: replaceComputed(params, unknownStringValue) };
        const props: Record<string, unknown> = {
            create: runner ? `node bin/step.js ${s.kind} ${s.id}` : `echo ${s.id}`,
            triggers: [opts.runKey ?? "2.0.0", spec],
        };
        if (s.shell) props.environment = { UPGRADE_STEP: stepName(s.kind, s.id) };
        if (runner) {
            props.environment = {
                ...(typeof params.environment === "string" ? { INMANTA_ENVIRONMENT: params.environment, INMANTA_URL: "http://127.0.0.1:8888" } : {}),
                UPGRADE_STEP: stepName(s.kind, s.id),
                ...Object.fromEntries(Object.entries(params).filter(([, v]) => v !== undefined).map(([k, v]) => [paramVariable(k), hasComputed(v) ? unknownStringValue : encodeParam(v)])),
            };
        }
        const cmd = resource(cmdType, `${prefix}${procType}$${stepType}$${cmdType}::${s.id}`, s.id,
            unknownCheckingProxy(props), component);
        const after = s.after ?? (i > 0 ? [steps[i - 1].id] : []);
        (cmd as { dependencies: PolicyResource[] }).dependencies = [...after, ...(s.dataFrom ?? [])].map(id => {
            const dep = commands.get(id);
            assert.ok(dep, `fake step ${s.id} depends on ${id}, which must come earlier in the list`);
            return dep;
        });
        if (s.dataFrom?.length) {
            cmd.propertyDependencies.triggers = s.dataFrom.map(id => commands.get(id)!);
        }
        commands.set(s.id, cmd);
        out.push(component, cmd);
    });
    return out;
}

export interface Violation {
    message: string;
    urn?: string;
}

export interface PolicyRun {
    violations: Violation[];
    /** Set when the policy declared itself not applicable. */
    notApplicable?: string;
}

class NotApplicable extends Error {
    constructor(readonly reason: string) {
        super(reason);
    }
}

export interface RunOptions extends FakeStackOptions {
    config?: Record<string, unknown>;
    stackTags?: Record<string, string>;
}

/** Fabricated StackValidationArgs (1.21 needs stackTags and notApplicable too). */
export function stackArgs(resources: PolicyResource[], opts: RunOptions = {}): StackValidationArgs {
    return {
        resources,
        getConfig: <T extends object>() => (opts.config ?? {}) as T,
        stackTags: new Map(Object.entries(opts.stackTags ?? {})),
        notApplicable: (reason?: string): never => {
            throw new NotApplicable(reason ?? "");
        },
    };
}

export async function runPolicy(policy: StackValidationPolicy, steps: FakeStep[] | PolicyResource[], opts: RunOptions = {}): Promise<PolicyRun> {
    const resources = steps.length > 0 && "urn" in steps[0] ? steps as PolicyResource[] : fakeResources(steps as FakeStep[], opts);
    const violations: Violation[] = [];
    try {
        await Promise.resolve(policy.validateStack(stackArgs(resources, opts), (message, urn) => violations.push({ message, urn })));
    } catch (e) {
        if (e instanceof NotApplicable) return { violations, notApplicable: e.reason };
        throw e;
    }
    return { violations };
}

export async function assertNoViolations(policy: StackValidationPolicy, steps: FakeStep[], opts: RunOptions = {}): Promise<PolicyRun> {
    const run = await runPolicy(policy, steps, opts);
    assert.deepEqual(run.violations.map(v => v.message), [], `${policy.name}: expected no violations`);
    return run;
}

/** Exactly one violation, containing `message`; its URN names step `step` when given. */
export async function assertViolation(policy: StackValidationPolicy, steps: FakeStep[], message: string,
    opts: RunOptions & { step?: string } = {}): Promise<Violation> {
    const run = await runPolicy(policy, steps, opts);
    assert.equal(run.notApplicable, undefined, `${policy.name} was not applicable: ${run.notApplicable}`);
    assert.equal(run.violations.length, 1, `${policy.name}: expected one violation, got ${JSON.stringify(run.violations, null, 1)}`);
    assert.ok(run.violations[0].message.includes(message), `${policy.name}: "${run.violations[0].message}" should contain "${message}"`);
    if (opts.step) assert.ok(run.violations[0].urn?.endsWith(`::${opts.step}`), `violation URN ${run.violations[0].urn} should name ${opts.step}`);
    return run.violations[0];
}

// ---------------------------------------------------------------------------------------------------------------
// Editing step lists

/** Remove a step; the steps that waited for it wait for its predecessors instead. */
export function without(steps: FakeStep[], ...ids: string[]): FakeStep[] {
    let out = withExplicitAfter(steps);
    for (const id of ids) {
        const gone = out.find(s => s.id === id);
        assert.ok(gone, `no step ${id}`);
        out = out.filter(s => s !== gone).map(s => ({
            ...s,
            after: s.after!.flatMap(a => (a === id ? gone.after! : [a])).filter((a, i, all) => all.indexOf(a) === i),
            dataFrom: s.dataFrom?.filter(d => d !== id),
        }));
    }
    return out;
}

/** Change a step (params are merged; `after` replaced when given). */
export function edit(steps: FakeStep[], id: string, patch: Partial<FakeStep>): FakeStep[] {
    assert.ok(steps.some(s => s.id === id), `no step ${id}`);
    return withExplicitAfter(steps).map(s => (s.id === id
        ? { ...s, ...patch, params: patch.params ? { ...s.params, ...patch.params } : s.params }
        : s));
}

/** Insert a step right after step `afterId` in the list; it waits for `afterId` and the next step waits for it. */
export function insertAfter(steps: FakeStep[], afterId: string, step: FakeStep): FakeStep[] {
    const out = withExplicitAfter(steps);
    const i = out.findIndex(s => s.id === afterId);
    assert.ok(i >= 0, `no step ${afterId}`);
    const inserted = { after: [afterId], ...step };
    const rest = out.slice(i + 1).map(s => ({ ...s, after: s.after!.map(a => (a === afterId ? step.id : a)) }));
    return [...out.slice(0, i + 1), inserted, ...rest];
}

function withExplicitAfter(steps: FakeStep[]): FakeStep[] {
    return steps.map((s, i) => ({ ...s, after: s.after ?? (i > 0 ? [steps[i - 1].id] : []) }));
}
