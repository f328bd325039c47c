import * as pulumi from "@pulumi/pulumi";
import { Step, StepDef } from "../core";
import { OrchestratorArgs, runnerEnvironment, shellQuote } from "./orchestrator";

/**
 * The Inmanta runbook steps. Each function describes one step; a procedure places it in
 * its sequence. API-driven steps run the project's step runner (bin/step.js) against the
 * orchestrator's REST API; the export runs the inmanta CLI in the environment's folder.
 */

function api(o: OrchestratorArgs, kind: string, title: string, params: Record<string, pulumi.Input<unknown>> = {},
    stdin?: pulumi.Input<string>): StepDef {
    return { kind, title, params: { environment: o.environment, ...params }, runner: { environment: runnerEnvironment(o), stdin } };
}

/**
 * Set an environment setting; the result records the value found before (`previous`).
 * `refuseProtected`: the settings the whole procedure changes; the first step of a procedure carries them,
 * and refuses to start when the server reports one as fixed in project.yml (it could not be changed later).
 */
export function setting(o: OrchestratorArgs, name: string, value: pulumi.Input<unknown>,
    opts: { optional?: boolean; title?: string; refuseProtected?: string[]; requireSettings?: Record<string, string> } = {}): StepDef {
    const shown = pulumi.Output.isInstance(value) ? "the recorded value" : JSON.stringify(value);
    return api(o, "setting", opts.title ?? `Set ${name} = ${shown}`, { name, value, optional: opts.optional ?? false,
        ...(opts.refuseProtected ? { refuseProtected: opts.refuseProtected } : {}),
        ...(opts.requireSettings ? { requireSettings: opts.requireSettings } : {}) });
}

/** Note the current values of settings so a later step can restore them. */
export function settingsRecord(o: OrchestratorArgs, names: string[], refuseProtected?: string[],
    requireSettings?: Record<string, string>): StepDef {
    return api(o, "settings-record", `Take note of ${names.join(", ")}`,
        { names, ...(refuseProtected ? { refuseProtected } : {}), ...(requireSettings ? { requireSettings } : {}) });
}

/** Cross-check settings against the values agreed with the development team. */
export function settingsCheck(o: OrchestratorArgs, expected: Record<string, unknown>, refuseProtected?: string[]): StepDef {
    return api(o, "settings-check", "Cross-check the environment settings with the development team",
        { expected, ...(refuseProtected ? { refuseProtected } : {}) });
}

/** Recompile (update=true is "Update project & recompile"); the result holds the new `version`. */
export function compile(o: OrchestratorArgs, opts: { update: boolean; title: string; expectNoDeploy: boolean }): StepDef {
    return api(o, "compile", opts.title, { update: opts.update, expectNoDeploy: opts.expectNoDeploy });
}

export function healthCheck(o: OrchestratorArgs): StepDef {
    return api(o, "health-check", "Inspect the latest deployed version: no failures, the deploy looks healthy");
}

/** Dry run a version; the result holds the changes (attribute values: secret in state) and their digest. */
export function dryrun(o: OrchestratorArgs, version: pulumi.Input<number>, title: string): StepDef {
    return { ...api(o, "dryrun", title, { version }), secretOutput: true };
}

export interface ApprovalArgs {
    digests: string[];
    allow: { resource: string; status?: string[]; attributes?: string[] }[];
    allowEmpty: boolean;
}

/** The deploy goes no further unless the dry run's changes are approved (digest or allow-list). */
export function approvalGate(o: OrchestratorArgs, dry: Step, approval: ApprovalArgs): StepDef {
    return api(o, "approval-gate", "Inspect the dry-run changes: deploy only when they are approved",
        { version: dry.output<number>("version"), digests: approval.digests, allow: approval.allow, allowEmpty: approval.allowEmpty },
        dry.stdout);
}

export function agentsPause(o: OrchestratorArgs, agent?: string): StepDef {
    return api(o, "agents-pause", agent ? `Pause agent ${agent}` : "Pause all agents", agent ? { agent } : {});
}

export function agentsResume(o: OrchestratorArgs, agent?: string): StepDef {
    return api(o, "agents-resume", agent ? `Unpause agent ${agent}` : "Re-enable the agents", agent ? { agent } : {});
}

/** Release a version and wait for its deploy to finish without failures. */
export function deploy(o: OrchestratorArgs, version: pulumi.Input<number>, title = "Deploy the new version"): StepDef {
    return api(o, "deploy", title, { version });
}

/** "Deploy on agent" with "force repair", then wait for that agent's resources. */
export function deployAgent(o: OrchestratorArgs, agent: string, version: pulumi.Input<number>, title?: string): StepDef {
    return api(o, "deploy", title ?? `Deploy on agent ${agent} (force repair) and verify the results`, { agent, repair: true, version });
}

/**
 * What a step does on one inmanta-core line: `skip` (why the step has no meaning there; the step still runs,
 * says so and records the reason) or `params` that replace some of its own (`note` is logged then).
 */
export interface LineVariant {
    skip?: string;
    params?: Record<string, pulumi.Input<unknown>>;
    note?: string;
}

/**
 * A step whose work depends on the server's line, read by the step runner from GET /api/v1/serverstatus:
 * `legacy` for inmanta-core 14.x and older, `scheduler` for 15+ (the resource scheduler). The step is one
 * resource either way, so the plan and the preview show it on both.
 */
export function byLine(def: StepDef, lines: { legacy?: LineVariant; scheduler?: LineVariant }): StepDef {
    return { ...def, params: { ...def.params, lines } };
}

/**
 * 15+: release a version with every agent held paused: halt, keep the agents paused on resume, resume,
 * release, wait until the scheduler took it, check that nothing deployed. `agents`: all the version may have.
 */
export function releaseHeld(o: OrchestratorArgs, version: pulumi.Input<number>, agents: string[], title: string): StepDef {
    return api(o, "release-held", title, { version, agents });
}

/** Delete the bad version (the latest when none is named). */
export function versionDelete(o: OrchestratorArgs, version?: number): StepDef {
    return api(o, "version-delete", version ? `Delete the bad version ${version}` : "Delete the bad (latest) version",
        version ? { version } : {});
}

/** Compare a dry run with the one taken before the upgrade (abort: they must be identical). */
export function dryrunCompare(o: OrchestratorArgs, dry: Step, baseline: pulumi.Input<string>): StepDef {
    return api(o, "dryrun-compare", "The dry run must be identical to the one before the upgrade",
        { digest: dry.output<string>("digest"), baseline });
}

/** Send the service definition to the server with an export plugin, in the environment's folder. */
export function exportPlugin(o: OrchestratorArgs, args: { entryPoint: string; plugin: string; exportFile: string; strict: boolean }): StepDef {
    // `inmanta` is a command prefix (e.g. "inmanta" or ".env/bin/python -m inmanta.app"), the rest is quoted.
    const cli = [o.shell.inmanta, ...["-vvv", "-X", "export", "-j", args.exportFile, "-e", o.environment,
        "-f", args.entryPoint, "--export-plugin", args.plugin].map(shellQuote)].join(" ");
    const line = o.shell.prelude ? `${o.shell.prelude} && ${cli}` : cli;
    const dir = o.shell.projectDir;
    return {
        kind: "export",
        title: `Send the service definition to the server (${args.plugin})`,
        params: { plugin: args.plugin, strict: args.strict, entryPoint: args.entryPoint, environment: o.environment },
        shell: o.shell.ssh
            ? { command: line, ssh: { ...o.shell.ssh, dir } }
            // A prelude such as `inmanta-workon <env>` enters the environment's folder itself.
            : { command: o.shell.prelude ? line : `cd ${shellQuote(dir)} && ${cli}` },
    };
}
