/**
 * What the comment takes from `pulumi preview --diff --policy-pack policy` output: the pack's verdict
 * and a shorter preview. The engine prints every input of a step's command, each param once (a runner
 * step's in its environment, a shell step's in `triggers`). The short preview drops the command
 * provider's reference, the same on every step; the raw preview stays below it.
 */

export interface PolicyVerdict {
    /** The pack ran (the preview printed a Policies section). */
    ran: boolean;
    mandatory: number;
    advisory: number;
    /** The Policies section as printed. */
    text: string;
}

// The engine's colour codes, in case the output was captured from a terminal.
const ANSI = /\x1b\[[0-9;]*m/g;

export function stripAnsi(text: string): string {
    return text.replace(ANSI, "");
}

/**
 * The pack's verdict from a preview: the progress view prints a "Policies:" section, the diff view
 * (`--diff`) prints each violation where it happens and a "Policy Packs run:" table at the end
 * (pulumi/pulumi pkg/backend/display/diff.go, progress.go). A violation is a line with `[mandatory]` or
 * `[advisory]` followed by its deeper-indented description and message.
 */
export function policyVerdict(preview: string): PolicyVerdict {
    const lines = stripAnsi(preview).split("\n");
    const ran = lines.some(l => /^\s*Policy Packs run:\s*$/.test(l) || /^Policies:\s*$/.test(l));
    const blocks: string[] = [];
    let mandatory = 0;
    let advisory = 0;
    for (let i = 0; i < lines.length; i++) {
        const m = /\[(mandatory|advisory)\]/.exec(lines[i]);
        if (!m || !/@v\S+ |^\s+- \[/.test(lines[i])) continue;
        if (m[1] === "mandatory") mandatory++;
        else advisory++;
        const indent = lines[i].search(/\S/);
        let j = i + 1;
        // The diff view prints the description right after the heading's ")" and the message on the lines
        // below it, unindented; the progress view indents both under the heading.
        const head = /^(.*\((?:[^()]*)\))(\S.*)$/.exec(lines[i].slice(indent));
        if (head) {
            while (j < lines.length && lines[j].trim() !== "" && /^\S/.test(lines[j]) && !/^[A-Z][A-Za-z ]*:\s*$/.test(lines[j])) j++;
            blocks.push([head[1], ...[head[2], ...lines.slice(i + 1, j)].map(l => `  ${l}`)].join("\n"));
        } else {
            while (j < lines.length && lines[j].trim() !== "" && lines[j].search(/\S/) > indent) j++;
            blocks.push(lines.slice(i, j).map(l => l.slice(Math.min(indent, l.search(/\S/)))).join("\n"));
        }
        i = j - 1;
    }
    const packs = lines.findIndex(l => /^\s*Policy Packs run:\s*$/.test(l));
    const table = packs >= 0 ? lines.slice(packs, packs + 2 + lines.slice(packs + 2).findIndex(l => !/^\s{4}\S/.test(l))).join("\n") : "";
    return { ran, mandatory, advisory, text: [...blocks, table.trim()].filter(Boolean).join("\n\n") };
}

/**
 * The preview without the providers' references, the same on every step (the command provider's, and a
 * site's Kubernetes provider's, which the preview shows once as a resource of its own): one line per
 * step that says nothing to a reviewer.
 */
export function shortenPreview(preview: string): { text: string; removed: number } {
    const lines = stripAnsi(preview).split("\n");
    const out = lines.filter(l => !/^\s*\[provider=urn:pulumi:[^\]]*[:$]pulumi:providers:(command|kubernetes)::/.test(l));
    return { text: out.join("\n"), removed: lines.length - out.length };
}
