import * as fs from "fs";
import * as path from "path";
import { parseItemized, rolePaths, rsyncArgs, shellQuote, summarize, summaryText } from "../../../components/openstack/rsync";
import { isString, param, StepContext, StepFailure } from "../context";
import { bash, exec, lastLines } from "./exec";

/** `post` exits with this code when the node must reboot (new kernel, …). */
export const REBOOT_NEEDED = 100;

const isFile = (p: string) => fs.existsSync(p) && fs.statSync(p).isFile();
const isDir = (p: string) => fs.existsSync(p) && fs.statSync(p).isDirectory();

/** `ROLE=` and `VERS=` of the role tree the node runs (`var/lib/edeploy/conf`), when it has one. */
export function nodeRelease(root: string): { role?: string; version?: string } {
    const file = path.join(root, "var", "lib", "edeploy", "conf");
    if (!isFile(file)) return {};
    const text = fs.readFileSync(file, "utf8");
    const get = (k: string) => new RegExp(`^${k}=["']?([^"'\\n]*)["']?$`, "m").exec(text)?.[1];
    return { role: get("ROLE"), version: get("VERS") };
}

function fill(template: string, values: Record<string, string>): string {
    return template.replace(/\{(root|node)\}/g, (_, k: string) => shellQuote(values[k]));
}

/**
 * eDeploy role upgrade of one node: refuse without an exclude file (before anything is copied),
 * [pre], rsync from the install-server's role tree with the exclude file, post (exit 100: reboot
 * needed), then setfiles when SELinux is enforcing.
 */
export async function edeployUpgrade(ctx: StepContext): Promise<Record<string, unknown>> {
    const node = param(ctx, "node", isString, "a node name");
    const role = param(ctx, "role", isString, "an eDeploy role");
    const root = path.resolve(param(ctx, "root", isString, "the node's tree"));
    const from = param(ctx, "from", isString, "a release");
    const to = param(ctx, "to", isString, "a release");
    const paths = rolePaths({
        rolesDir: path.resolve(param(ctx, "rolesDir", isString, "a folder")),
        metadataDir: path.resolve(param(ctx, "metadataDir", isString, "a folder")),
        from, to,
    }, role);
    const rsync = isString(ctx.params.rsync) ? ctx.params.rsync : "rsync";
    const selinux = (ctx.params.selinux ?? {}) as { probe?: string; setfiles?: string };

    // The exclude file protects the node's data: without it nothing is copied, whatever else is right.
    if (!isFile(paths.exclude)) {
        throw new StepFailure(`refusing to upgrade ${node}: no exclude file ${paths.exclude} for role ${role} ${from} -> ${to}. ` +
            "It lists the data (databases, instances, logs, host identity) the upgrade must never overwrite; nothing was copied.");
    }
    if (!isDir(paths.tree)) throw new StepFailure(`no role tree ${paths.tree} on the install-server (role ${role}, release ${to})`);
    if (!isDir(root)) throw new StepFailure(`the tree of ${node} (${root}) does not exist`);
    const running = nodeRelease(root);
    if (running.role && running.role !== role) {
        throw new StepFailure(`${node} runs eDeploy role ${running.role}, not ${role}: check the host's profile`);
    }
    if (running.version && running.version !== from && running.version !== to) {
        throw new StepFailure(`${node} runs release ${running.version}; this upgrade is from ${from} to ${to}`);
    }
    const env = { ...ctx.env, ROOT: root, NODE: node, ROLE: role, FROM: from, TO: to };
    ctx.log(`${node}: role ${role} ${running.version ?? "(release unknown)"} -> ${to}, exclude file ${paths.exclude}`);

    if (isFile(paths.pre)) {
        const pre = await exec(paths.pre, [], { env, cwd: root, log: ctx.log, prefix: `${node} pre: ` });
        if (pre.code !== 0) throw new StepFailure(`${node}: pre exited ${pre.code}${pre.error ? ` (${pre.error})` : ""}; nothing was copied`);
    }

    const sync = await exec(rsync, rsyncArgs(paths.tree, root, paths.exclude, false), { env: ctx.env, log: ctx.log, prefix: `${node} rsync: `, logStdout: false });
    if (sync.code !== 0) {
        throw new StepFailure(`${node}: rsync exited ${sync.code}${sync.error ? ` (${sync.error})` : ""}: ${lastLines(sync.stderr)}`);
    }
    const changes = parseItemized(sync.stdout);
    const summary = summarize(changes);
    ctx.log(`${node}: ${summaryText(summary).replace("would change", "changed")}`);
    for (const c of changes.slice(0, 200)) ctx.log(`${node}:   ${c.item} ${c.path}`);

    let postExit: number | null = null;
    let rebootNeeded = false;
    if (isFile(paths.post)) {
        const post = await exec(paths.post, [], { env, cwd: root, log: ctx.log, prefix: `${node} post: ` });
        postExit = post.code;
        if (post.code === REBOOT_NEEDED) {
            rebootNeeded = true;
            ctx.log(`${node}: post asks for a reboot (exit ${REBOOT_NEEDED})`);
        } else if (post.code !== 0) {
            throw new StepFailure(`${node}: post exited ${post.code}${post.error ? ` (${post.error})` : ""}: ${lastLines(post.stderr || post.stdout)}`);
        }
    } else {
        ctx.log(`${node}: no post script in ${paths.metadata}`);
    }

    // SELinux: relabel after the copy when it is enforcing; no getenforce (exit 127) means no SELinux.
    const values = { root, node };
    const probe = await bash(fill(selinux.probe ?? "getenforce", values), { env, cwd: root });
    let selinuxState: string;
    if (probe.code === 127) selinuxState = "absent";
    else if (probe.code !== 0) throw new StepFailure(`${node}: the SELinux probe exited ${probe.code}: ${lastLines(probe.stderr)}`);
    else selinuxState = probe.stdout.trim() || "unknown";
    let setfiles = false;
    if (/^enforcing$/i.test(selinuxState)) {
        const line = fill(selinux.setfiles ?? "setfiles -r {root} {root}/etc/selinux/targeted/contexts/files/file_contexts {root}", values);
        const r = await bash(line, { env, cwd: root, log: ctx.log, prefix: `${node} setfiles: ` });
        if (r.code !== 0) throw new StepFailure(`${node}: setfiles exited ${r.code}: ${lastLines(r.stderr)}`);
        setfiles = true;
    }
    ctx.log(`${node}: SELinux ${selinuxState}${setfiles ? ", file contexts re-applied" : ""}`);
    return {
        node, role, from, to,
        summary, changes: changes.slice(0, 1000).map(c => `${c.item} ${c.path}`),
        postExit, rebootNeeded, selinux: selinuxState, setfiles,
    };
}

/** Reboot a node whose post script asked for it; nothing to do otherwise. */
export async function nodeReboot(ctx: StepContext): Promise<Record<string, unknown>> {
    const node = param(ctx, "node", isString, "a node name");
    const root = path.resolve(param(ctx, "root", isString, "the node's tree"));
    const command = param(ctx, "command", isString, "a command");
    if (ctx.params.rebootNeeded !== true) {
        ctx.log(`${node}: no reboot needed`);
        return { node, rebooted: false };
    }
    const r = await bash(fill(command, { root, node }), { env: { ...ctx.env, ROOT: root, NODE: node }, log: ctx.log, prefix: `${node} reboot: ` });
    if (r.code !== 0) throw new StepFailure(`${node}: the reboot command exited ${r.code}: ${lastLines(r.stderr)}`);
    return { node, rebooted: true };
}
