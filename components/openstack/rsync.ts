import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { shellQuote } from "../core/shell-quote";

/**
 * eDeploy's role upgrade is an rsync from the install-server's role tree onto the node, with the
 * role's exclude file protecting the node's data. These helpers are shared by the step runner (which
 * copies) and the program (which only looks, with `--dry-run`, for `pulumi preview` and `plan`).
 */

/** Where eDeploy keeps a role's tree and its upgrade metadata on the install-server. */
export interface EdeployLayout {
    /** `<rolesDir>/<version>/<role>/` */
    rolesDir: string;
    /** `<metadataDir>/<from>/<role>/<to>/{exclude,pre,post}` */
    metadataDir: string;
    from: string;
    to: string;
}

export interface RolePaths {
    /** The target release's role tree (the rsync source). */
    tree: string;
    /** Metadata of the upgrade from `from` to `to` for this role. */
    metadata: string;
    exclude: string;
    /** What the second pass adds where the node lacks it (`--ignore-existing --include-from`). */
    addOnly: string;
    pre: string;
    post: string;
}

export function rolePaths(layout: EdeployLayout, role: string): RolePaths {
    const metadata = path.join(layout.metadataDir, layout.from, role, layout.to);
    return {
        tree: path.join(layout.rolesDir, layout.to, role),
        metadata,
        exclude: path.join(metadata, "exclude"),
        addOnly: path.join(metadata, "add_only"),
        pre: path.join(metadata, "pre"),
        post: path.join(metadata, "post"),
    };
}

/**
 * The dry run of an eDeploy upgrade's two rsync passes, with the flags the step (and `edeploy upgrade`,
 * redhat-cip/edeploy build/edeploy) uses: archive mode with numeric ids, deleting what the role no
 * longer ships except what the exclude file protects, then adding the add_only paths the node lacks.
 * `--itemize-changes` lists every change; `--dry-run` writes nothing.
 */
export function previewPasses(paths: RolePaths, root: string): string[][] {
    const from = paths.tree.endsWith("/") ? paths.tree : `${paths.tree}/`;
    const to = root.endsWith("/") ? root : `${root}/`;
    // --checksum: the preview lists what changes in content. The step's quick check (size and time)
    // also rewrites files whose times alone differ, which changes nothing a reviewer needs to see.
    const common = ["-a", "--numeric-ids", "--checksum", "--itemize-changes", "--dry-run"];
    return [
        [...common, "--delete-after", `--exclude-from=${paths.exclude}`, from, to],
        [...common, "--ignore-existing", `--include-from=${paths.addOnly}`, from, to],
    ];
}

export type ChangeOp = "create" | "update" | "delete" | "attrs";

export interface RsyncChange {
    op: ChangeOp;
    path: string;
    /** The itemize code (`>f.st......`), or `*deleting`. */
    item: string;
}

/** Parse `rsync --itemize-changes` output (format YXcstpoguax path). Other lines are ignored. */
export function parseItemized(output: string): RsyncChange[] {
    const changes: RsyncChange[] = [];
    for (const line of output.split("\n")) {
        const del = /^\*deleting\s+(.+)$/.exec(line);
        if (del) {
            changes.push({ op: "delete", path: del[1], item: "*deleting" });
            continue;
        }
        const m = /^([<>ch.])([fdLDS])(\S{9,10}) (.+)$/.exec(line);
        if (!m) continue;
        const [, y, , flags, file] = m;
        if (file === "./") continue; // the tree's own top directory
        const item = `${y}${m[2]}${flags}`;
        let op: ChangeOp;
        if (/^\++$/.test(flags)) op = "create";
        else if (y === "." || (y === "c" && m[2] === "d") || (y === "h")) op = "attrs";
        else op = "update";
        changes.push({ op, path: file, item });
    }
    return changes;
}

export interface ChangeSummary {
    create: number;
    update: number;
    delete: number;
    attrs: number;
    total: number;
}

export function summarize(changes: RsyncChange[]): ChangeSummary {
    const s: ChangeSummary = { create: 0, update: 0, delete: 0, attrs: 0, total: changes.length };
    for (const c of changes) s[c.op]++;
    return s;
}

export function summaryText(s: ChangeSummary): string {
    if (s.total === 0) return "rsync would change nothing";
    const parts = [
        s.create ? `${s.create} new` : "", s.update ? `${s.update} updated` : "",
        s.delete ? `${s.delete} deleted` : "", s.attrs ? `${s.attrs} attributes only` : "",
    ].filter(Boolean);
    return `rsync would change ${s.total}: ${parts.join(", ")}`;
}

/** What the read-only probe found for one node. */
export interface RsyncPreview {
    node: string;
    /** ok: the dry run ran; refused: the step will refuse (no exclude file…); unavailable: no rsync here. */
    status: "ok" | "refused" | "unavailable";
    message?: string;
    changes: RsyncChange[];
    summary: ChangeSummary;
}

/** Problems that make the upgrade step refuse, found without running anything. */
export function refusal(paths: RolePaths, root: string): string | undefined {
    if (!isFile(paths.exclude)) {
        return `no exclude file ${paths.exclude}: the step refuses to copy anything without one (it protects the node's data)`;
    }
    if (!isFile(paths.addOnly) || fs.statSync(paths.addOnly).size === 0) {
        return `'add_only' (${paths.addOnly}) is missing or empty: the step refuses to copy anything without it`;
    }
    if (!isDir(paths.tree)) return `no role tree ${paths.tree} on the install-server`;
    if (!isDir(root)) return `the node's tree ${root} does not exist`;
    return undefined;
}

const isFile = (p: string) => fs.existsSync(p) && fs.statSync(p).isFile();
const isDir = (p: string) => fs.existsSync(p) && fs.statSync(p).isDirectory();

export function previewFromOutput(node: string, stdout: string): RsyncPreview {
    // Both passes run dry, so the second lists again what the first would already copy: once each.
    const seen = new Set<string>();
    const changes = parseItemized(stdout).filter(c => !seen.has(c.path) && seen.add(c.path));
    return { node, status: "ok", changes, summary: summarize(changes) };
}

const EMPTY: ChangeSummary = { create: 0, update: 0, delete: 0, attrs: 0, total: 0 };

/**
 * The probe, run here and now with `rsync --dry-run` (argument vector, no shell): used by `plan`,
 * whose mocks answer invokes without running them. Strictly read-only.
 */
export function probeSync(node: string, paths: RolePaths, root: string, rsync = "rsync"): RsyncPreview {
    const refused = refusal(paths, root);
    if (refused) return { node, status: "refused", message: refused, changes: [], summary: EMPTY };
    let out = "";
    for (const args of previewPasses(paths, root)) {
        const r = spawnSync(rsync, args, { encoding: "utf8", maxBuffer: 64 * 1024 * 1024 });
        if (r.error) return { node, status: "unavailable", message: `cannot run ${rsync}: ${(r.error as NodeJS.ErrnoException).code ?? r.error.message}`, changes: [], summary: EMPTY };
        if (r.status !== 0) return { node, status: "unavailable", message: `${rsync} --dry-run exited ${r.status}: ${r.stderr.trim()}`, changes: [], summary: EMPTY };
        out += r.stdout;
    }
    return previewFromOutput(node, out);
}

export { shellQuote };

/**
 * The same probe as one shell line, for the engine's `command:local:run` invoke during `pulumi preview`.
 * It refuses the same way (a line starting with `!refused`) and never fails the preview.
 */
export function probeShellLine(paths: RolePaths, root: string, rsync = "rsync"): string {
    // Every value is quoted where it is inserted, messages included: this line runs during preview,
    // with the backend's credentials around, so nothing in the stack file may expand here.
    const q = shellQuote;
    const [main, addOnly] = previewPasses(paths, root).map(args => `${q(rsync)} ${args.map(q).join(" ")}`);
    const say = (text: string) => `echo ${q(text)}`;
    return [
        `if [ ! -f ${q(paths.exclude)} ]; then ${say(`!refused no exclude file ${paths.exclude}: the step refuses to copy anything without one`)};`,
        `elif [ ! -s ${q(paths.addOnly)} ]; then ${say(`!refused 'add_only' (${paths.addOnly}) is missing or empty: the step refuses to copy anything without it`)};`,
        `elif [ ! -d ${q(paths.tree)} ]; then ${say(`!refused no role tree ${paths.tree} on the install-server`)};`,
        `elif [ ! -d ${q(root)} ]; then ${say(`!refused the node tree ${root} does not exist`)};`,
        `else { ${main} && ${addOnly}; } || echo ${q(`!unavailable ${rsync} --dry-run exited`)} "$?"; fi`,
    ].join(" ");
}

/** Read what {@link probeShellLine} printed. */
export function previewFromShell(node: string, stdout: string): RsyncPreview {
    const first = stdout.split("\n").find(l => l.startsWith("!"));
    if (first?.startsWith("!refused ")) return { node, status: "refused", message: first.slice(9), changes: [], summary: EMPTY };
    if (first?.startsWith("!unavailable ")) return { node, status: "unavailable", message: first.slice(13), changes: [], summary: EMPTY };
    return previewFromOutput(node, stdout);
}

/** One line for the plan's title. */
export function previewLine(p: RsyncPreview): string {
    if (p.status === "refused") return `will refuse: ${p.message}`;
    if (p.status === "unavailable") return `no rsync preview (${p.message})`;
    return summaryText(p.summary);
}

/** Every change, one per line, for the preview's diagnostics. */
export function previewDetails(p: RsyncPreview, limit = 200): string {
    const head = `${p.node}: ${previewLine(p)}`;
    if (p.status !== "ok" || p.changes.length === 0) return head;
    const lines = p.changes.slice(0, limit).map(c => `  ${c.item} ${c.path}`);
    if (p.changes.length > limit) lines.push(`  … and ${p.changes.length - limit} more`);
    return [head, ...lines].join("\n");
}
