import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { isNumber, isString, param, StepContext, StepFailure } from "../context";
import { bash, exec, lastLines, pool } from "./exec";

interface Host {
    name: string;
    profile: string;
    root: string;
}

function hostsOf(ctx: StepContext): Host[] {
    const hosts = ctx.params.hosts as Host[];
    if (!Array.isArray(hosts) || hosts.length === 0) throw new StepFailure(`step ${ctx.id}: parameter "hosts" must list the hosts`);
    return hosts.map(h => ({ ...h, root: path.resolve(h.root) }));
}

/** The environment of a serverspec-style check on one host. */
function checkEnv(ctx: StepContext, h: Host, extra: Record<string, string> = {}): NodeJS.ProcessEnv {
    return { ...ctx.env, NODE_ROOT: h.root, NODE_NAME: h.name, NODE_PROFILE: h.profile, ...extra };
}

interface Attempt {
    run: number;
    /** puppet apply --detailed-exitcodes: 0 nothing to do, 2 changes, 4/6 failures. */
    puppet: number;
    /** Exit of the check; null when puppet itself failed and the check was not run. */
    check: number | null;
}

/**
 * A Puppet step (0, 5, …): `puppet apply` of the step's manifest on every host, then the step's
 * serverspec-style check; a host whose check fails gets another Puppet run, up to `maxRuns`.
 * The step succeeds when every host's check passes.
 */
export async function puppetStep(ctx: StepContext): Promise<Record<string, unknown>> {
    const step = param(ctx, "step", isNumber, "a Puppet step number");
    const manifest = path.resolve(param(ctx, "manifest", isString, "a manifest"));
    const check = param(ctx, "check", isString, "a check command");
    const maxRuns = param(ctx, "maxRuns", isNumber, "a number of runs");
    const puppet = isString(ctx.params.command) ? ctx.params.command : "puppet";
    const modulePath = isString(ctx.params.modulePath) ? path.resolve(ctx.params.modulePath) : undefined;
    const work = path.resolve(param(ctx, "workDir", isString, "a folder"), "puppet");
    if (!fs.existsSync(manifest)) throw new StepFailure(`Puppet step ${step}: no manifest ${manifest}`);
    const hosts = hostsOf(ctx);

    const perHost = await pool(hosts, Math.max(1, os.cpus().length), async h => {
        // Each host has its own Puppet state: runs never share a lock or a cache.
        const d = path.join(work, h.name);
        const args = ["apply", "--detailed-exitcodes", "--color=false", `--vardir=${d}/var`, `--confdir=${d}/etc`,
            `--codedir=${d}/code`, `--logdir=${d}/log`, `--rundir=${d}/run`, ...(modulePath ? [`--modulepath=${modulePath}`] : []), manifest];
        const env = {
            ...ctx.env, FACTER_node_root: h.root, FACTER_node_name: h.name, FACTER_node_profile: h.profile, FACTER_puppet_step: String(step),
        };
        const attempts: Attempt[] = [];
        for (let run = 1; run <= maxRuns; run++) {
            const applied = await exec(puppet, args, { env, log: ctx.log, prefix: `${h.name} puppet#${run}: ` });
            if (applied.code === 127) throw new StepFailure(`cannot run ${puppet}: ${applied.error ?? "not found"}`);
            if (applied.code !== 0 && applied.code !== 2) {
                attempts.push({ run, puppet: applied.code, check: null });
                ctx.log(`${h.name}: puppet step ${step} run ${run}/${maxRuns} failed (exit ${applied.code})`);
                continue;
            }
            const verdict = await bash(check, { env: checkEnv(ctx, h, { PUPPET_STEP: String(step), PUPPET_RUN: String(run) }), log: ctx.log, prefix: `${h.name} serverspec: ` });
            attempts.push({ run, puppet: applied.code, check: verdict.code });
            if (verdict.code === 0) {
                ctx.log(`${h.name}: puppet step ${step} verified after ${run} run(s)`);
                return { host: h.name, passed: true, attempts };
            }
            ctx.log(`${h.name}: serverspec for step ${step} failed after run ${run}/${maxRuns} (exit ${verdict.code})`);
        }
        return { host: h.name, passed: false, attempts };
    });
    const failing = perHost.filter(r => !r.passed);
    if (failing.length) {
        throw new StepFailure(`Puppet step ${step}: serverspec still fails after ${maxRuns} run(s) on ${failing.map(f => f.host).join(", ")}`);
    }
    return { step, maxRuns, hosts: Object.fromEntries(perHost.map(r => [r.host, { runs: r.attempts.length, attempts: r.attempts }])) };
}

/** The serverspec run over every host after the Puppet steps. */
export async function serverspec(ctx: StepContext): Promise<Record<string, unknown>> {
    const command = param(ctx, "command", isString, "a check command");
    const hosts = hostsOf(ctx);
    const results = await pool(hosts, Math.max(1, os.cpus().length), async h => {
        const r = await bash(command, { env: checkEnv(ctx, h), log: ctx.log, prefix: `${h.name} serverspec: ` });
        return { host: h.name, code: r.code, output: lastLines(r.stdout + r.stderr, 5) };
    });
    const failing = results.filter(r => r.code !== 0);
    if (failing.length) {
        throw new StepFailure(`serverspec failed on ${failing.map(f => `${f.host} (exit ${f.code}: ${f.output})`).join("; ")}`);
    }
    return { hosts: Object.fromEntries(results.map(r => [r.host, "passed"])) };
}
