import { createHash } from "crypto";

/** One change of a dry run, as the approval gate sees it. */
export interface Change {
    resourceId: string;
    status: string;
    attributes: Record<string, { from: unknown; to: unknown }>;
}

export interface ApprovalPolicy {
    digests: string[];
    allow: { resource: string; status?: string[]; attributes?: string[] }[];
    allowEmpty: boolean;
}

export type ApprovalDecision =
    | { approved: true; reason: "empty" | "digest" | "allow-list"; digest: string }
    | { approved: false; digest: string; unexpected: Change[]; message: string };

function canonical(value: unknown): unknown {
    if (Array.isArray(value)) return value.map(canonical);
    if (value && typeof value === "object") {
        return Object.fromEntries(Object.keys(value as object).sort().map(k => [k, canonical((value as Record<string, unknown>)[k])]));
    }
    return value;
}

/**
 * Digest of a change set: independent of order and of version numbers, so the same changes
 * dry-run again on a new version keep the digest a reviewer approved.
 */
export function changesDigest(changes: Change[]): string {
    const normal = changes
        .map(c => ({ resourceId: c.resourceId.replace(/,v=\d+$/, ""), status: c.status, attributes: canonical(c.attributes) }))
        .sort((a, b) => (a.resourceId < b.resourceId ? -1 : a.resourceId > b.resourceId ? 1 : a.status.localeCompare(b.status)));
    return "sha256:" + createHash("sha256").update(JSON.stringify(normal)).digest("hex");
}

/**
 * Does `text` match `glob`, where `*` matches any run of characters and everything else itself?
 * Greedy with one backtrack point (the last `*`): linear in practice and O(glob x text) at worst,
 * never exponential like a backtracking regular expression built from the glob.
 */
export function globMatch(glob: string, text: string): boolean {
    let g = 0;
    let t = 0;
    let star = -1;
    let resume = 0;
    while (t < text.length) {
        if (g < glob.length && glob[g] !== "*" && glob[g] === text[t]) {
            g++;
            t++;
        } else if (g < glob.length && glob[g] === "*") {
            star = g++;
            resume = t;
        } else if (star >= 0) {
            g = star + 1;
            t = ++resume;
        } else {
            return false;
        }
    }
    while (g < glob.length && glob[g] === "*") g++;
    return g === glob.length;
}

/** Does an allow-list entry explain this change completely? */
export function allowedBy(change: Change, pattern: ApprovalPolicy["allow"][number]): boolean {
    if (!globMatch(pattern.resource, change.resourceId)) return false;
    if (pattern.status && !pattern.status.includes(change.status)) return false;
    if (pattern.attributes) {
        const allowed = new Set(pattern.attributes);
        if (!Object.keys(change.attributes).every(a => allowed.has(a))) return false;
    }
    return true;
}

function short(value: unknown): string {
    const text = typeof value === "string" ? value : JSON.stringify(value);
    return text === undefined ? "undefined" : text.length > 60 ? `${text.slice(0, 57)}...` : text;
}

export function describeChanges(changes: Change[]): string {
    return changes.map(c => {
        const attrs = Object.entries(c.attributes).map(([k, v]) => `      ${k}: ${short(v.from)} -> ${short(v.to)}`);
        return [`    ${c.status.padEnd(9)} ${c.resourceId}`, ...attrs].join("\n");
    }).join("\n");
}

/** The gate: empty (when allowed), approved by digest, or fully explained by the allow-list. */
export function decideApproval(changes: Change[], policy: ApprovalPolicy, where: { stack?: string } = {}): ApprovalDecision {
    const digest = changesDigest(changes);
    if (changes.length === 0 && policy.allowEmpty) return { approved: true, reason: "empty", digest };
    if (policy.digests.includes(digest)) return { approved: true, reason: "digest", digest };
    const unexpected = changes.filter(c => !policy.allow.some(p => allowedBy(c, p)));
    if (changes.length > 0 && unexpected.length === 0) return { approved: true, reason: "allow-list", digest };
    const file = where.stack ? `stacks/Pulumi.${where.stack}.yaml` : "the stack configuration";
    const message = changes.length === 0
        ? `the dry run found no changes, and this stack does not allow an empty dry run (upgrade:approval.allowEmpty is false).\n` +
          `To approve, add ${digest} to upgrade:approval.digests in ${file}.`
        : `the dry run has ${changes.length} change(s), ${unexpected.length} of them not approved:\n` +
          `${describeChanges(unexpected)}\n` +
          `Digest of the whole change set: ${digest}\n` +
          `To approve these changes, add the digest to upgrade:approval.digests in ${file} (review it in a pull request), ` +
          `or allow them in upgrade:approval.allow; then run pulumi up again: it goes on from this gate.`;
    return { approved: false, digest, unexpected, message };
}
