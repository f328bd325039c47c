import * as pulumi from "@pulumi/pulumi";
import * as command from "@pulumi/command";
import { recordStep } from "./registry";
import { SshTarget } from "./ssh";
import { sh } from "./shell-quote";
import { encodeParam, paramVariable, STEP_ENV, STEP_KEEP_ENV, stepName } from "./step-env";

/** The command line that runs the project's step runner (bin/step.js) from the project root. */
export const STEP_RUNNER = "node bin/step.js";

/**
 * The interpreter of local shell steps: bash behind a launcher that hands the command only the
 * allow-listed environment (components/core/step-env.ts) and forwards SIGTERM to its process group.
 * The command provider itself passes its whole environment on, as upstream pulumi-command does.
 */
export const SHELL_INTERPRETER = ["node", "bin/step-shell.js"];

/** The environment a step declares, plus the list of those names for the allow-list. */
function declared(environment: Record<string, pulumi.Input<string>>): Record<string, pulumi.Input<string>> {
    return { ...environment, [STEP_KEEP_ENV]: Object.keys(environment).sort().join(",") };
}

/** Environment variable that carries a step's id and kind to the step runner. */
export { STEP_ENV };

/** One variable per param, for the step runner (see STEP_PARAM_PREFIX). */
function paramEnvironment(params: Record<string, pulumi.Input<unknown>>): Record<string, pulumi.Input<string>> {
    return Object.fromEntries(Object.entries(params).filter(([, v]) => v !== undefined).map(([k, v]) => [paramVariable(k), (pulumi.output(v) as unknown as pulumi.Output<unknown>).apply(encodeParam)]));
}

/** A value that comes from an earlier step's result, so the plan can name where it comes from. */
export interface StepRef {
    step: string;
    key: string;
}
const REF = Symbol("upgrade.stepRef");

/** The reference carried by an output made with {@link Step.output}, if any. */
export function stepRefOf(value: unknown): StepRef | undefined {
    return value && typeof value === "object" ? (value as { [REF]?: StepRef })[REF] : undefined;
}

export interface RunnerExec {
    /** Extra environment for the runner, e.g. connection settings and secrets. */
    environment?: Record<string, pulumi.Input<string>>;
    /** Fed to the runner on standard input (large inputs such as a dry-run report). */
    stdin?: pulumi.Input<string>;
}

export interface ShellExec {
    /** Shell line to run (bash -c locally, the login shell over SSH). */
    command: pulumi.Input<string>;
    /** Run over SSH instead of on this machine. */
    ssh?: SshTarget;
    /** Extra environment (local commands only; SSH servers rarely accept it). */
    environment?: Record<string, pulumi.Input<string>>;
}

/**
 * A step whose work is a resource of a provider (e.g. a Kubernetes patch the provider applies and
 * awaits): the step's first child. A runner, when the step has one, runs after it and reads what the
 * resource reported through `params` (e.g. the state the provider's await ended on), to judge it.
 */
export interface ResourceExec {
    create(name: string, opts: pulumi.CustomResourceOptions): pulumi.CustomResource;
    /** Params for the step's runner, read from the resource's outputs. */
    params?(resource: pulumi.CustomResource): Record<string, pulumi.Input<unknown>>;
}

export interface StepArgs {
    kind: string;
    title: string;
    /** What the step does, for the runner, the plan and policies. Outputs of earlier steps may appear. */
    params?: Record<string, pulumi.Input<unknown>>;
    /** The upgrade run this step belongs to: a new run key runs the step again. */
    runKey: pulumi.Input<string>;
    /** API-driven steps run the project's step runner with `kind` and `params`. */
    runner?: RunnerExec;
    /** Shell steps run a command from configuration. */
    shell?: ShellExec;
    /** Resource steps: a provider's resource does the work (a runner may judge its outcome). */
    resource?: ResourceExec;
    /** Name of the procedure this step belongs to (for the plan). */
    procedure?: string;
    /**
     * The step's output holds values of the managed systems (a dry run's attribute values): keep
     * stdout and stderr as Pulumi secrets in state even when no input of the step is secret.
     */
    secretOutput?: boolean;
}

export interface StepOptions extends pulumi.ComponentResourceOptions {
    /** Steps that must have finished before this one starts. */
    after?: Step[];
}

function pascal(kind: string): string {
    return kind.split(/[-_]/).map(p => p.charAt(0).toUpperCase() + p.slice(1)).join("");
}

/** Describe params for the plan: refs become {"from": "step.key"}, other outputs "<computed>". */
function describeParams(params: Record<string, pulumi.Input<unknown>>): { shown: Record<string, unknown>; refs: string[] } {
    const refs: string[] = [];
    const describe = (v: unknown): unknown => {
        const ref = stepRefOf(v);
        if (ref) {
            refs.push(ref.step);
            return { from: `${ref.step}.${ref.key}` };
        }
        if (pulumi.Output.isInstance(v)) return "<computed>";
        if (Array.isArray(v)) return v.map(describe);
        if (v && typeof v === "object" && !(v instanceof Promise)) {
            return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, describe(x)]));
        }
        return v;
    };
    const shown = describe(params) as Record<string, unknown>;
    return { shown, refs };
}

/**
 * One runbook step: exactly one resource of the program, named by the step id.
 *
 * The work is done by a child command resource, so `pulumi preview` shows the step and runs
 * nothing, `pulumi up` runs it once, and a new run key (or new params) runs it again.
 */
export class Step extends pulumi.ComponentResource {
    readonly id: string;
    readonly kind: string;
    /** Everything the step printed on standard output. */
    readonly stdout: pulumi.Output<string>;
    /** The step runner's JSON result (runner steps), or {} for shell steps. */
    readonly result: pulumi.Output<Record<string, unknown>>;

    constructor(name: string, args: StepArgs, opts: StepOptions = {}) {
        const { after = [], ...componentOpts } = opts;
        super(`upgrade:step:${pascal(args.kind)}`, name, {}, componentOpts);
        if (args.shell ? args.runner || args.resource : !args.runner && !args.resource) {
            throw new Error(`step "${name}": give a shell command, or a runner and/or a resource`);
        }
        this.id = name;
        this.kind = args.kind;
        const params = args.params ?? {};
        const { shown, refs } = describeParams(params);
        const dependsOn = [...new Set([...after.map(s => s.id), ...refs])];
        recordStep({ id: name, kind: args.kind, title: args.title, params: shown, dependsOn, procedure: args.procedure });

        // Each step's params appear once in its inputs, where its command reads them: a runner step's
        // in its environment (one variable each), a shell step's in its triggers. The trigger makes the
        // step run again when the run changes; a changed param changes an input, which runs it again too.
        const spec = stepName(args.kind, name);
        const triggers = args.runner
            ? [args.runKey, { step: name, kind: args.kind }]
            : [args.runKey, { step: name, kind: args.kind, params }];
        const childOpts: pulumi.CustomResourceOptions = {
            parent: this, dependsOn: after, ...(args.secretOutput ? { additionalSecretOutputs: ["stdout", "stderr"] } : {}),
        };

        let stdout: pulumi.Output<string> = pulumi.output("");
        let runnerParams = params;
        if (args.resource) {
            const resource = args.resource.create(name, { parent: this, dependsOn: after });
            runnerParams = { ...params, ...(args.resource.params?.(resource) ?? {}) };
            childOpts.dependsOn = [resource];
        }
        if (args.runner) {
            const cmd = new command.local.Command(name, {
                create: `${STEP_RUNNER} ${args.kind} ${name}`,
                environment: {
                    ...declared({ ...(args.runner.environment ?? {}), [STEP_ENV]: spec, UPGRADE_STACK: pulumi.getStack() }),
                    ...paramEnvironment(runnerParams),
                },
                stdin: args.runner.stdin,
                triggers,
            }, childOpts);
            stdout = cmd.stdout;
        } else if (args.shell) {
            const shell = args.shell;
            if (shell.ssh) {
                const ssh = shell.ssh;
                const dir = ssh.dir;
                const line = dir ? pulumi.output(shell.command).apply(c => `${sh`cd ${dir}`} && ${c}`) : pulumi.output(shell.command);
                const cmd = new command.remote.Command(name, {
                    connection: { host: ssh.host, port: ssh.port ?? 22, user: ssh.user, privateKey: ssh.privateKey },
                    create: line,
                    triggers,
                }, childOpts);
                stdout = cmd.stdout;
            } else {
                const cmd = new command.local.Command(name, {
                    create: shell.command,
                    interpreter: SHELL_INTERPRETER,
                    environment: declared({ ...(shell.environment ?? {}), [STEP_ENV]: spec }),
                    triggers,
                }, childOpts);
                stdout = cmd.stdout;
            }
        }
        this.stdout = stdout;
        this.result = args.runner
            ? stdout.apply(parseResult(name))
            : stdout.apply(() => ({} as Record<string, unknown>));
        this.registerOutputs({ kind: args.kind, stdout: this.stdout, result: this.result });
    }

    /** One field (a dotted path) of this step's result, tagged so the plan shows where it comes from. */
    output<T = unknown>(key: string): pulumi.Output<T> {
        const out = this.result.apply(r => {
            let value: unknown = r;
            for (const part of key.split(".")) {
                if (!value || typeof value !== "object" || !(part in value)) {
                    throw new Error(`step "${this.id}" did not report "${key}"`);
                }
                value = (value as Record<string, unknown>)[part];
            }
            return value as T;
        });
        Object.defineProperty(out, REF, { value: { step: this.id, key } satisfies StepRef });
        return out;
    }
}

/** The step runner prints logs on stderr and exactly one JSON document on stdout. */
export function parseResult(stepId: string): (stdout: string) => Record<string, unknown> {
    return (stdout: string) => {
        const text = (stdout ?? "").trim();
        if (!text) return {};
        try {
            return JSON.parse(text) as Record<string, unknown>;
        } catch {
            throw new Error(`step "${stepId}" printed something that is not its JSON result: ${text.slice(0, 200)}`);
        }
    };
}
