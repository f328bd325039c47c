import * as fs from "fs";
import * as path from "path";
import { batches, ClassSnippet, inventory, parseRecap, playbook } from "../../../components/openstack/ansible";
import { isNumber, isString, param, StepContext, StepFailure } from "../context";
import { exec } from "./exec";

interface Host {
    name: string;
    root: string;
}

/**
 * One tag of a profile's playbook, for one host (`--limit`, as config-tools' upgrade.sh runs it) or all of them: the profile's playbook is generated from the snippets of its Puppet
 * classes, then `ansible-playbook --tags <step>` runs it over a local inventory, hosts in batches of
 * `serial` with `max_fail_percentage`: Ansible itself stops the profile when a batch fails too much.
 */
export async function ansibleStep(ctx: StepContext): Promise<Record<string, unknown>> {
    const profile = param(ctx, "profile", isString, "a profile");
    const tag = param(ctx, "tag", isNumber, "a step number");
    const serial = param(ctx, "serial", isNumber, "a batch size");
    const maxFail = param(ctx, "maxFailPercentage", isNumber, "a percentage");
    const hosts = ctx.params.hosts as Host[];
    if (!Array.isArray(hosts) || hosts.length === 0) throw new StepFailure(`step ${ctx.id}: parameter "hosts" must list the profile's hosts`);
    const snippets = (ctx.params.snippets ?? []) as ClassSnippet[];
    const program = isString(ctx.params.playbook) ? ctx.params.playbook : "ansible-playbook";
    const interpreter = isString(ctx.params.pythonInterpreter) ? ctx.params.pythonInterpreter : "auto_silent";
    const forks = isNumber(ctx.params.forks) ? ctx.params.forks : 10;
    const limit = isString(ctx.params.limit) ? ctx.params.limit : undefined;
    const dir = path.resolve(param(ctx, "workDir", isString, "a folder"), "ansible", profile, ...(limit ? [limit] : []));
    fs.mkdirSync(path.join(dir, "tmp"), { recursive: true });

    const pb = path.join(dir, `playbook-step-${tag}.yml`);
    const inv = path.join(dir, "inventory.ini");
    const cfg = path.join(dir, "ansible.cfg");
    fs.writeFileSync(pb, playbook({ profile, serial, maxFailPercentage: maxFail }, snippets));
    fs.writeFileSync(inv, inventory(profile, hosts.map(h => ({ name: h.name, root: path.resolve(h.root) })), interpreter));
    fs.writeFileSync(cfg, [
        "[defaults]", "host_key_checking = False", "retry_files_enabled = False", "nocolor = True",
        `forks = ${forks}`, `interpreter_python = ${interpreter}`, `local_tmp = ${path.join(dir, "tmp")}`,
        "deprecation_warnings = False", "",
    ].join("\n"));

    const planned = batches(hosts.map(h => h.name), serial);
    ctx.log(`profile ${profile}, step ${tag}: ${hosts.length} host(s) in ${planned.length} batch(es) of ${serial}, max_fail_percentage ${maxFail}`);
    const env = {
        ...ctx.env, ANSIBLE_CONFIG: cfg, ANSIBLE_NOCOLOR: "1", ANSIBLE_FORCE_COLOR: "0", ANSIBLE_HOME: path.join(dir, "home"),
        ANSIBLE_LOCAL_TEMP: path.join(dir, "tmp"), PYTHONUNBUFFERED: "1",
    };
    const r = await exec(program, ["-i", inv, "--tags", String(tag), ...(limit ? ["--limit", limit] : []), pb], { env, cwd: dir, log: ctx.log, prefix: `${profile}: ` });
    const recap = parseRecap(r.stdout);
    const failed = Object.entries(recap).filter(([, h]) => h.failed > 0 || h.unreachable > 0).map(([n]) => n);
    const notRun = hosts.map(h => h.name).filter(n => !(n in recap));
    if (r.code !== 0) {
        throw new StepFailure(`ansible-playbook --tags ${tag} failed on profile ${profile} (exit ${r.code}${r.error ? `, ${r.error}` : ""}): ` +
            `failed on ${failed.join(", ") || "no host (see the log)"}` +
            (notRun.length ? `; not run: ${notRun.join(", ")} (stopped after a batch exceeded max_fail_percentage ${maxFail})` : "") +
            "; the profile's later steps do not run");
    }
    return { profile, tag, batches: planned, hosts: recap, playbook: pb, inventory: inv };
}
