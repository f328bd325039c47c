import { ConfigError } from "./errors";
import { RunbookConfig, runbookSchema } from "./schema";
import { crossCheck, zodProblems } from "./validate";

export const NAMESPACE = "upgrade";

/** A config path as a user writes it: `upgrade:orchestrator.agents[2]`. */
export function formatPath(path: (string | number)[]): string {
    if (path.length === 0) return `${NAMESPACE}:`;
    let out = `${NAMESPACE}:${path[0]}`;
    for (const part of path.slice(1)) out += typeof part === "number" ? `[${part}]` : `.${part}`;
    return out;
}

/** Levenshtein distance, for namespaces that are one or two edits away from ours. */
export function editDistance(a: string, b: string): number {
    let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
    for (let i = 1; i <= a.length; i++) {
        const row = [i];
        for (let j = 1; j <= b.length; j++) {
            row[j] = Math.min(prev[j] + 1, row[j - 1] + 1, prev[j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
        }
        prev = row;
    }
    return prev[b.length];
}

/** A different namespace that is a likely typo of `ours` (case, one or two edits, a swap). */
function looksLike(ns: string, ours: string): boolean {
    if (ns === ours) return false;
    return ns.toLowerCase() === ours || editDistance(ns.toLowerCase(), ours) <= 2;
}

/** Pulumi hands config values over as strings; objects and scalars come JSON-encoded. */
function decode(value: unknown): unknown {
    if (typeof value !== "string") return value;
    try {
        return JSON.parse(value);
    } catch {
        return value;
    }
}

export interface LoadOptions {
    /** Where the config came from, for the error message. */
    source: string;
    /** Fully qualified keys (`upgrade:inmantaToken`) stored as secrets. */
    secretKeys?: Iterable<string>;
}

/**
 * Validate the `upgrade:` namespace of a stack's configuration, once, at the edge.
 * Throws a ConfigError that lists every problem with its path.
 */
export function loadRunbookConfig(all: Record<string, unknown>, options: LoadOptions): RunbookConfig {
    const raw: Record<string, unknown> = {};
    const misspelt: { path: string; message: string }[] = [];
    for (const [key, value] of Object.entries(all)) {
        if (key.startsWith(`${NAMESPACE}:`)) {
            raw[key.slice(NAMESPACE.length + 1)] = decode(value);
            continue;
        }
        // Other namespaces belong to other programs (aws:region), but one that looks like ours is a
        // typo whose setting would be silently ignored (upgarde:preUpgradeDryrun).
        const ns = key.includes(":") ? key.slice(0, key.indexOf(":")) : "";
        if (ns && looksLike(ns, NAMESPACE)) {
            misspelt.push({ path: key, message: `unknown namespace "${ns}": did you mean ${NAMESPACE}:${key.slice(ns.length + 1)}?` });
        }
    }
    const secretKeys = new Set([...(options.secretKeys ?? [])]
        .filter(k => k.startsWith(`${NAMESPACE}:`)).map(k => k.slice(NAMESPACE.length + 1)));
    const parsed = runbookSchema.safeParse(raw);
    const present = new Set(Object.keys(raw));
    let problems = parsed.success ? crossCheck(parsed.data, secretKeys, present) : zodProblems(parsed.error);
    if (!parsed.success) {
        // Report the cross-key rules too where the raw values allow it, so one run shows every problem.
        try {
            const more = crossCheck(raw as RunbookConfig, secretKeys, present);
            const seen = new Set(problems.map(p => formatPath(p.path)));
            problems = [...problems, ...more.filter(p => !seen.has(formatPath(p.path)))];
        } catch {
            // the raw values are too malformed for the cross-key rules; the schema problems say why
        }
    }
    if (problems.length > 0 || misspelt.length > 0) {
        throw new ConfigError(options.source, [...misspelt, ...problems.map(p => ({ path: formatPath(p.path), message: p.message }))]);
    }
    return parsed.data!;
}
