import { Plan, toMarkdown } from "../plan/format";
import { Changes } from "./changes";
import { PolicyVerdict } from "./preview";

export interface CommentInput {
    plan: Plan;
    runKey: string;
    changes?: Changes;
    verdict: PolicyVerdict;
    /** The preview as the engine printed it, and shortened. */
    preview: string;
    shortPreview: string;
}

function show(v: unknown): string {
    const t = v === undefined ? "(none)" : JSON.stringify(v);
    return t.length > 100 ? `${t.slice(0, 97)}...` : t;
}

/** A fence longer than any run of backticks in the text, so a preview cannot close it early. */
function fence(text: string): string {
    const longest = Math.max(2, ...[...text.matchAll(/`+/g)].map(m => m[0].length));
    return "`".repeat(longest + 1);
}

/** One stack's section of the pull-request comment. */
export function renderComment(c: CommentInput): string {
    const p = c.plan;
    const v = c.verdict;
    const verdict = !v.ran
        ? "⚠️ the policy pack did not run on this preview"
        : v.mandatory > 0
            ? `❌ **refused**: ${v.mandatory} mandatory violation${v.mandatory === 1 ? "" : "s"}${v.advisory ? `, ${v.advisory} advisory` : ""}`
            : `✅ passed${v.advisory ? ` with ${v.advisory} advisory finding${v.advisory === 1 ? "" : "s"}` : ""}`;
    const checklist = toMarkdown(p, c.runKey).split("\n").filter(l => /^\d+\. \[ \]/.test(l));
    const lines = [
        `## Stack \`${p.stack}\`: ${p.procedure}, run \`${c.runKey}\``,
        "",
        `Policy pack: ${verdict}. ${p.steps.length} steps would run, in this order.`,
        "",
        "### What would run",
        "",
        ...checklist,
        "",
        "### Changed since the last run",
        "",
    ];
    const ch = c.changes;
    if (!ch) lines.push("The stack's state could not be read: no comparison with the last run.");
    else if (!ch.ranBefore) lines.push("The stack has not run before: every step is new.");
    else {
        if (ch.newRunKey) lines.push(`- New run key: \`${ch.newRunKey.from}\` → \`${ch.newRunKey.to}\`: every step runs again.`);
        if (ch.added.length) lines.push(`- Steps added: ${ch.added.map(s => `\`${s}\``).join(", ")}`);
        if (ch.removed.length) lines.push(`- Steps removed: ${ch.removed.map(s => `\`${s}\``).join(", ")}`);
        for (const x of ch.params) lines.push(`- \`${x.step}\`: \`${x.path}\` ${show(x.from)} → ${show(x.to)}`);
        if (!ch.newRunKey && !ch.added.length && !ch.removed.length && !ch.params.length) lines.push("Nothing: the steps and their params are those of the last run.");
    }
    if (v.ran) {
        const f = fence(v.text);
        lines.push("", "### Policy pack", "", f, v.text, f);
    }
    const sf = fence(c.shortPreview);
    const rf = fence(c.preview);
    lines.push("",
        `<details><summary>Preview, each step's params once (${c.shortPreview.split("\n").length} lines)</summary>`, "", sf, c.shortPreview.trimEnd(), sf, "", "</details>",
        "",
        `<details><summary>Raw preview (${c.preview.split("\n").length} lines)</summary>`, "", rf, c.preview.trimEnd(), rf, "", "</details>", "");
    return lines.join("\n");
}
