/**
 * A lab for the engine tests: the fake Inmanta API server in this process, a temporary copy of the
 * program with its own file backend, a stand-in `inmanta` CLI for the export, and north-bound commands
 * that append to a file. Shell steps also mark their moment in the fake's request log
 * (GET /mark/<what>), so one ordered log shows API calls and shell steps together.
 */
import * as fs from "fs";
import * as path from "path";
import { FakeInmanta, FakeInmantaOptions, LoggedRequest } from "../support/fake-inmanta";
import { EngineStack, EngineStackOptions, StackConfig, TempProject, TempProjectOptions } from "../support/engine";

export interface Lab {
    fake: FakeInmanta;
    url: string;
    project: TempProject;
    /** North-bound block/unblock append "block" / "unblock" here. */
    northboundFile: string;
    /** The stand-in inmanta CLI appends its arguments here. */
    inmantaLog: string;
    inmantaScript: string;
}

export async function startLab(fakeOptions: FakeInmantaOptions = {}, projectOptions: TempProjectOptions = {}): Promise<Lab> {
    const project = TempProject.create({ prefix: "upgrade-engine-test-", ...projectOptions });
    const fake = new FakeInmanta({ environment: "6f1c0e2a-3b4d-4c5e-8f60-718293a4b5c6", ...fakeOptions });
    const url = await fake.start();
    const inmantaLog = path.join(project.work, "inmanta.log");
    const inmantaScript = path.join(project.work, "inmanta");
    fs.writeFileSync(inmantaScript,
        `#!/bin/sh\necho "$@" >> '${inmantaLog}'\ncurl -s -o /dev/null '${url}/mark/export'\n`, { mode: 0o755 });
    return { fake, url, project, northboundFile: path.join(project.work, "northbound.log"), inmantaLog, inmantaScript };
}

export async function stopLab(lab: Lab | undefined): Promise<void> {
    if (!lab) return;
    await lab.fake.stop();
    lab.project.cleanup();
}

export function createStack(lab: Lab, config: StackConfig, opts: EngineStackOptions = {}): Promise<EngineStack> {
    return EngineStack.create(lab.project, config, opts);
}

function orchestrator(lab: Lab) {
    return {
        url: lab.url, environment: lab.fake.environment, timeoutSeconds: 30,
        shell: { projectDir: lab.project.work, inmanta: lab.inmantaScript },
    };
}

/** Plain upgrade (no LSM). */
export function plainUpgrade(lab: Lab, over: StackConfig = {}): StackConfig {
    return { procedure: "upgrade", target: "2.0.0", orchestrator: orchestrator(lab), ...over };
}

function northboundCommand(lab: Lab, what: "block" | "unblock") {
    return { command: `echo ${what} >> '${lab.northboundFile}' && curl -s -o /dev/null '${lab.url}/mark/northbound-${what}'` };
}

/** LSM upgrade without instance updates (strict exporter, no database backup). */
export function lsmUpgrade(lab: Lab, over: StackConfig = {}): StackConfig {
    return {
        procedure: "lsm-upgrade", target: "2.0.0", orchestrator: orchestrator(lab),
        lsm: { entryPoint: "loader.cf", instanceUpdatesExpected: false },
        northbound: { block: northboundCommand(lab, "block"), unblock: northboundCommand(lab, "unblock") },
        ...over,
    };
}

/** Steps of the plain upgrade with the pre-upgrade dry run off, in execution order. */
export const PLAIN_UPGRADE_STEPS = [
    "pre-protected-environment", "pre-auto-deploy-off", "pre-recompile", "pre-health-check",
    "upgrade-update-compile", "upgrade-dryrun", "upgrade-approval", "upgrade-deploy", "post-auto-deploy-on",
];

/** Steps of the LSM upgrade (pre-upgrade dry run on, no instance updates), in execution order. */
export const LSM_UPGRADE_STEPS = [
    "pre-protected-environment", "pre-auto-deploy-off", "pre-recompile", "pre-health-check", "pre-dryrun",
    "pre-northbound-block", "pre-agents-pause",
    "upgrade-update-compile", "upgrade-export", "upgrade-recompile", "upgrade-agents-resume", "upgrade-dryrun",
    "upgrade-approval", "upgrade-deploy",
    "post-auto-deploy-on", "post-northbound-unblock",
];

/**
 * What the fake saw, readably: state-changing requests and shell-step marks, in order. Compiles are
 * named by the step that asked for them (the runner sends its step id as the compile message).
 */
export function actions(requests: readonly LoggedRequest[]): string[] {
    const out: string[] = [];
    for (const r of requests) {
        if (r.method === "GET" && r.path.startsWith("/mark/")) {
            out.push(`mark ${r.path.slice("/mark/".length)}`);
            continue;
        }
        if (r.method !== "POST") continue;
        const body = (r.body ?? {}) as Record<string, unknown>;
        let m: RegExpExecArray | null;
        if ((m = /^\/api\/v2\/environment_settings\/(.+)$/.exec(r.path))) {
            out.push(`setting ${m[1]}=${JSON.stringify(body.value)}`);
        } else if (/^\/api\/v1\/notify\//.test(r.path)) {
            const message = String((body.metadata as { message?: string } | undefined)?.message ?? "");
            out.push(`compile ${message.split(" ")[0]} update=${body.update}`);
        } else if (/^\/api\/v2\/dryrun\/\d+$/.test(r.path)) {
            out.push("dryrun");
        } else if (/^\/api\/v1\/version\/\d+$/.test(r.path)) {
            out.push("release");
        } else if ((m = /^\/api\/v2\/agents\/(\w+)$/.exec(r.path))) {
            out.push(`agents ${m[1]}`);
        } else {
            out.push(`POST ${r.path}`);
        }
    }
    return out;
}

/** The fake's actions from request number `from` on (index into its request log). */
export function actionsSince(lab: Lab, from: number): string[] {
    return actions(lab.fake.requests.slice(from));
}

/** The full set of actions of one LSM upgrade run (pre-upgrade dry run on). */
export const LSM_UPGRADE_ACTIONS = [
    "setting protected_environment=true",
    "setting auto_deploy=false",
    "compile pre-recompile update=false",
    "dryrun",
    "mark northbound-block",
    "agents pause",
    "compile upgrade-update-compile update=true",
    "mark export",
    "compile upgrade-recompile update=false",
    "agents unpause",
    "dryrun",
    "release",
    "setting auto_deploy=true",
    "mark northbound-unblock",
];

/** The full set of actions of one plain upgrade run (pre-upgrade dry run off). */
export const PLAIN_UPGRADE_ACTIONS = [
    "setting protected_environment=true",
    "setting auto_deploy=false",
    "compile pre-recompile update=false",
    "compile upgrade-update-compile update=true",
    "dryrun",
    "release",
    "setting auto_deploy=true",
];

export function readLines(file: string): string[] {
    return fs.existsSync(file) ? fs.readFileSync(file, "utf8").trim().split("\n").filter(Boolean) : [];
}
