import * as fs from "fs";
import * as path from "path";
import { isNumber, isString, param, StepContext, StepFailure } from "../context";
import { bash, exec, ExecResult, lastLines } from "./exec";
import { shellQuote } from "../../../components/core/shell-quote";
import { writeAtomic } from "./grenade";

/** `post` exits with this code when the node must reboot (new kernel, …). */
export const REBOOT_NEEDED = 100;
/** The node's eDeploy folder: its release (`conf`) and each upgrade's metadata (`<to>/`). */
export const EDEPLOY_DIR = "var/lib/edeploy";
/** The shell of a node, for what runs on it (the role's pre/post, selinuxenabled, setfiles). */
const NODE_PATH = "/usr/sbin:/usr/bin:/sbin:/bin";

const isFile = (p: string) => fs.existsSync(p) && fs.statSync(p).isFile();
const isDir = (p: string) => fs.existsSync(p) && fs.statSync(p).isDirectory();
const isExecutable = (p: string) => {
    try {
        fs.accessSync(p, fs.constants.X_OK);
        return isFile(p);
    } catch {
        return false;
    }
};

/** `/var/lib/edeploy/conf` of a node: VERS, ROLE and the install-server's address (shell assignments). */
export function readConf(root: string): Record<string, string> {
    const file = path.join(root, EDEPLOY_DIR, "conf");
    const out: Record<string, string> = {};
    if (!isFile(file)) return out;
    for (const line of fs.readFileSync(file, "utf8").split("\n")) {
        const m = /^([A-Z_]+)=["']?([^"'\n]*)["']?$/.exec(line.trim());
        if (m) out[m[1]] = m[2];
    }
    return out;
}

export function nodeRelease(root: string): { role?: string; version?: string } {
    const c = readConf(root);
    return { role: c.ROLE, version: c.VERS };
}

/**
 * A program run on the node: `chroot <root>` with the node's own PATH, so the role's scripts see the
 * node's tree as `/` (as `edeploy upgrade` runs them on a real node). A root of `/` is this machine.
 */
export function onNode(root: string, argv: string[], opts: { env?: NodeJS.ProcessEnv; log?: (l: string) => void; prefix?: string; cwd?: string } = {}): Promise<ExecResult> {
    const inner = opts.cwd ? ["/bin/sh", "-c", 'cd "$1" && shift && exec "$@"', "sh", opts.cwd, ...argv] : argv;
    const env = { PATH: NODE_PATH, HOME: "/root", LANG: "C", ...opts.env };
    if (path.resolve(root) === "/") return exec(inner[0], inner.slice(1), { env, log: opts.log, prefix: opts.prefix });
    return exec("chroot", [root, ...inner], { env, log: opts.log, prefix: opts.prefix });
}

/** rsync -v output: the paths it copied and the ones it deleted. */
export function parseVerbose(out: string): { copied: string[]; deleted: string[] } {
    const copied: string[] = [];
    const deleted: string[] = [];
    for (const line of out.split("\n")) {
        if (!line || /^(sending|receiving) incremental file list$/.test(line) || /^(sent|total size) /.test(line) || line.endsWith("/")) continue;
        if (line.startsWith("deleting ")) deleted.push(line.slice("deleting ".length));
        else copied.push(line.replace(/ -> .*$/, ""));
    }
    return { copied, deleted };
}

async function rsyncPass(ctx: StepContext, rsync: string, args: string[], out: string, node: string, what: string): Promise<{ copied: string[]; deleted: string[] }> {
    const r = await exec(rsync, args, { env: ctx.env, log: ctx.log, prefix: `${node} rsync ${what}: `, logStdout: false });
    fs.appendFileSync(out, r.stdout);
    if (r.code !== 0) throw new StepFailure(`${node}: rsync (${what}) exited ${r.code}${r.error ? ` (${r.error})` : ""}: ${lastLines(r.stderr)}`);
    return parseVerbose(r.stdout);
}

/**
 * `edeploy upgrade <to>` on one node (redhat-cip/edeploy build/edeploy), with the node's tree as its `/`:
 *  1. the upgrade's metadata into the node's /var/lib/edeploy/<to>/: the role's own pre and post (generated
 *     when the role was built, in the role tree's /var/lib/edeploy/<to>/), then the metadata folder's
 *     exclude, add_only and optional post;
 *  2. refuse without `exclude` or with an empty `add_only`;
 *  3. pre, on the node; 4. `rsync -av --numeric-ids --delete-after --exclude-from=exclude`, then
 *     `rsync -av --numeric-ids --ignore-existing --include-from=add_only`, output in
 *     /var/lib/edeploy/rsync_<from>_<to>.out; 5. post, on the node: exit 0, or 100 for a reboot;
 *  6. setfiles when selinuxenabled says SELinux is enabled; 7. /etc/motd and conf with VERS=<to>.
 * The rsyncs run here, from the install-server's role tree into the node's tree; the scripts run on the
 * node (chroot of its tree).
 */
export async function edeployUpgrade(ctx: StepContext): Promise<Record<string, unknown>> {
    const node = param(ctx, "node", isString, "a node name");
    const role = param(ctx, "role", isString, "an eDeploy role");
    const root = path.resolve(param(ctx, "root", isString, "the node's tree"));
    const from = param(ctx, "from", isString, "a release");
    const to = param(ctx, "to", isString, "a release");
    const rolesDir = path.resolve(param(ctx, "rolesDir", isString, "a folder"));
    const metadataDir = path.resolve(param(ctx, "metadataDir", isString, "a folder"));
    const rsync = isString(ctx.params.rsync) ? ctx.params.rsync : "rsync";
    const tree = path.join(rolesDir, to, role);
    const metadata = path.join(metadataDir, from, role, to);

    if (!isDir(root)) throw new StepFailure(`the tree of ${node} (${root}) does not exist`);
    if (!isDir(tree)) throw new StepFailure(`no role tree ${tree} on the install-server (role ${role}, release ${to})`);
    const conf = readConf(root);
    if (conf.ROLE && conf.ROLE !== role) throw new StepFailure(`${node} runs eDeploy role ${conf.ROLE}, not ${role}: check the host's profile`);
    if (conf.VERS === to) {
        ctx.log(`${node}: already runs ${role} ${to} (${EDEPLOY_DIR}/conf): nothing to do`);
        return { node, role, from, to, alreadyUpgraded: true, postExit: null, rebootNeeded: false, selinux: "unchanged", setfiles: false };
    }
    if (conf.VERS !== from) {
        throw new StepFailure(`${node} runs release ${conf.VERS ?? "(none: no VERS in /var/lib/edeploy/conf)"}; this upgrade is from ${from} to ${to}`);
    }
    if (!isDir(metadata)) throw new StepFailure(`no upgrade metadata ${metadata} for role ${role} ${from} -> ${to}`);

    // 1. update_metadata: the role's pre/post first, then the metadata folder (its post wins).
    const meta = path.join(root, EDEPLOY_DIR, to);
    fs.mkdirSync(meta, { recursive: true });
    for (const script of ["pre", "post"]) {
        const built = path.join(tree, EDEPLOY_DIR, to, script);
        if (isFile(built)) fs.copyFileSync(built, path.join(meta, script));
    }
    const copy = await exec(rsync, ["-a", `${metadata}/`, `${meta}/`], { env: ctx.env });
    if (copy.code !== 0) throw new StepFailure(`${node}: copying the metadata ${metadata} failed (exit ${copy.code}): ${lastLines(copy.stderr)}`);

    // 2. The refusals, before anything of the role is copied.
    const exclude = path.join(meta, "exclude");
    const addOnly = path.join(meta, "add_only");
    if (!isFile(exclude)) {
        throw new StepFailure(`refusing to upgrade ${node}: no exclude file (${path.join(metadata, "exclude")}) for role ${role} ${from} -> ${to}: ` +
            "without it the rsync would replace the node's data with the role's empty folders; nothing was copied");
    }
    if (!isFile(addOnly) || fs.statSync(addOnly).size === 0) {
        throw new StepFailure(`refusing to upgrade ${node}: 'add_only' (${path.join(metadata, "add_only")}) is missing or empty; ` +
            "it must hold at least '- *'; nothing was copied");
    }
    const inMeta = `/${EDEPLOY_DIR}/${to}`;
    // Upstream's ROLE, VERS and TARGET are shell variables of `edeploy upgrade` (conf is sourced, not
    // exported): pre and post get none of them, only their folder as the working directory.
    ctx.log(`${node}: role ${role} ${from} -> ${to}, metadata in ${inMeta}`);

    // 3. pre, on the node.
    if (isExecutable(path.join(meta, "pre"))) {
        const pre = await onNode(root, ["./pre"], { cwd: inMeta, log: ctx.log, prefix: `${node} pre: ` });
        if (pre.code !== 0) throw new StepFailure(`${node}: pre exited ${pre.code}${pre.error ? ` (${pre.error})` : ""}; nothing was copied`);
    }

    // 4. The two rsync passes, as upstream runs them.
    const out = path.join(root, EDEPLOY_DIR, `rsync_${from}_${to}.out`);
    fs.writeFileSync(out, "");
    const main = await rsyncPass(ctx, rsync, ["-av", "--numeric-ids", "--delete-after", `--exclude-from=${exclude}`, `${tree}/`, `${root}/`], out, node, "with exclude");
    const added = await rsyncPass(ctx, rsync, ["-av", "--numeric-ids", "--ignore-existing", `--include-from=${addOnly}`, `${tree}/`, `${root}/`], out, node, "add_only");
    ctx.log(`${node}: ${main.copied.length} path(s) copied, ${main.deleted.length} deleted, ${added.copied.length} added (add_only)`);

    // 5. post, on the node: 0 or 100 (reboot).
    let postExit: number | null = null;
    if (isExecutable(path.join(meta, "post"))) {
        const post = await onNode(root, ["./post"], { cwd: inMeta, log: ctx.log, prefix: `${node} post: ` });
        postExit = post.code;
        if (post.code !== 0 && post.code !== REBOOT_NEEDED) {
            throw new StepFailure(`${node}: post exited ${post.code}${post.error ? ` (${post.error})` : ""}: ${lastLines(post.stderr || post.stdout)}`);
        }
    } else {
        ctx.log(`${node}: no post script in ${inMeta}`);
    }
    const rebootNeeded = postExit === REBOOT_NEEDED;

    // 6. SELinux enabled (enforcing or permissive): re-apply the file contexts.
    let selinux = "absent";
    let setfiles = false;
    if (isExecutable(path.join(root, "usr/sbin/selinuxenabled"))) {
        const enabled = await onNode(root, ["/usr/sbin/selinuxenabled"]);
        selinux = enabled.code === 0 ? "enabled" : "disabled";
        if (enabled.code === 0) {
            const r = await onNode(root, ["setfiles", "-r", "/", "/etc/selinux/targeted/contexts/files/file_contexts", "/"], { log: ctx.log, prefix: `${node} setfiles: ` });
            if (r.code !== 0) throw new StepFailure(`${node}: setfiles exited ${r.code}: ${lastLines(r.stderr)}`);
            setfiles = true;
        }
    }

    // 7. The node now runs `to`: motd and conf (the install-server's address kept).
    fs.writeFileSync(path.join(root, "etc", "motd"), `\nVersion ${to}\n\n`);
    const keep = ["RSERV", "RSERV_PORT", "RPATH"].map(k => `${k}=${conf[k] ?? ""}`);
    writeAtomic(path.join(root, EDEPLOY_DIR, "conf"), [`VERS=${to}`, `ROLE=${role}`, ...keep, ""].join("\n"));
    ctx.log(`${node}: upgraded to ${to}${rebootNeeded ? "; post asks for a reboot (exit 100)" : ""}; SELinux ${selinux}${setfiles ? ", contexts re-applied" : ""}`);
    return {
        node, role, from, to,
        copied: main.copied.slice(0, 1000), deleted: main.deleted.slice(0, 1000), added: added.copied.slice(0, 1000),
        postExit, rebootNeeded, selinux, setfiles,
    };
}

function fill(template: string, values: Record<string, string>): string {
    return template.replace(/\{(root|node)\}/g, (_, k: string) => shellQuote(values[k]));
}

const sleep = (ms: number) => new Promise(resolve => setTimeout(resolve, ms));

/**
 * Reboot a node whose post asked for it (exit 100, as `edeploy upgrade` reboots), then wait for it to
 * come back (the `wait` command passes) before the host's next Ansible tag; nothing to do otherwise.
 */
export async function nodeReboot(ctx: StepContext): Promise<Record<string, unknown>> {
    const node = param(ctx, "node", isString, "a node name");
    const root = path.resolve(param(ctx, "root", isString, "the node's tree"));
    const command = param(ctx, "command", isString, "a command");
    const wait = isString(ctx.params.wait) ? ctx.params.wait : undefined;
    const timeout = isNumber(ctx.params.timeoutSeconds) ? ctx.params.timeoutSeconds : 600;
    if (ctx.params.rebootNeeded !== true) {
        ctx.log(`${node}: no reboot needed`);
        return { node, rebooted: false };
    }
    const values = { root, node };
    const env = { ...ctx.env, ROOT: root, NODE: node };
    const r = await bash(fill(command, values), { env, log: ctx.log, prefix: `${node} reboot: ` });
    if (r.code !== 0) throw new StepFailure(`${node}: the reboot command exited ${r.code}: ${lastLines(r.stderr)}`);
    if (!wait) return { node, rebooted: true };
    const deadline = Date.now() + timeout * 1000;
    for (let attempt = 1; ; attempt++) {
        const w = await bash(fill(wait, values), { env });
        if (w.code === 0) {
            ctx.log(`${node}: back after the reboot (check ${attempt})`);
            return { node, rebooted: true, checks: attempt };
        }
        if (Date.now() > deadline) throw new StepFailure(`${node}: not back ${timeout} s after the reboot: ${lastLines(w.stderr || w.stdout)}`);
        await sleep(1000);
    }
}
