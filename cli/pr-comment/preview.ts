/**
 * What the comment takes from `pulumi preview --diff --policy-pack policy` output: the pack's verdict
 * and a shorter preview. The engine prints every input of a step's command: its params once in
 * `triggers` and again inside the `UPGRADE_STEP` environment variable (a JSON string, pretty-printed
 * by the diff display). The short preview drops that second copy (and the command provider's reference,
 * the same on every step); the raw preview stays below it.
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
 * The preview without the step runner's copy of the params: the `UPGRADE_STEP` entry of a command's
 * `environment` (a one-line JSON string, or the pretty-printed JSON block the diff display makes of it).
 */
export function shortenPreview(preview: string): { text: string; removed: number } {
    const lines = stripAnsi(preview).split("\n");
    const out: string[] = [];
    let removed = 0;
    for (let i = 0; i < lines.length; i++) {
        // Every command has the same provider reference: one line a step that says nothing to a reviewer.
        if (/^\s*\[provider=urn:pulumi:[^\]]*::pulumi:providers:command::/.test(lines[i])) {
            removed++;
            continue;
        }
        const m = /^(\s*[+~-]?\s*)UPGRADE_STEP\s*:/.exec(lines[i]);
        if (!m) {
            out.push(lines[i]);
            continue;
        }
        const indent = lines[i].search(/UPGRADE_STEP/);
        // A pretty-printed JSON value continues on the lines indented deeper than the key.
        let j = i + 1;
        if (/[{[]\s*$/.test(lines[i])) {
            while (j < lines.length && (lines[j].trim() === "" ? lines[j + 1]?.search(/\S/) > indent : lines[j].search(/\S/) > indent)) j++;
            // The closing bracket at the key's indent, and the blank line the display puts after a JSON value.
            if (j < lines.length && /^[}\]]$/.test(lines[j].trim().replace(/^[+~-]\s*/, ""))) j++;
            if (j < lines.length && lines[j].trim() === "") j++;
        }
        out.push(`${lines[i].slice(0, indent)}UPGRADE_STEP: (the same params as triggers[1], for the step runner)`);
        removed += j - i - 1;
        i = j - 1;
    }
    return { text: out.join("\n"), removed };
}
