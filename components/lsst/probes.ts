import { shellQuote } from "../core/shell-quote";

/**
 * Probes: what a gate looks at. The program puts a probe in a gate step's params (so `plan` shows
 * it); the step runner (cli/step/lsst/probes.ts) evaluates it until it passes or the gate times out.
 * Commands are shell lines (bash -c) run on the deployment host.
 */

/** A command exits with `exitCode`. */
export interface ExitProbe {
    type: "exit";
    command: string;
    exitCode: number;
}

/** A line of the command's output (stdout, then stderr) matches `pattern`; only the last `tail` lines when given. */
export interface LogProbe {
    type: "log";
    command: string;
    pattern: string;
    tail?: number;
}

/**
 * A number read from the command's output: the first group of the last match of `pattern`.
 * Passes when it equals `equals`, or when it is below `below` (or 0); with neither, as soon as it is read.
 */
export interface CountProbe {
    type: "count";
    command: string;
    pattern: string;
    /** What the number counts, for messages ("federations"). */
    counts: string;
    equals?: number;
    below?: number;
}

/** Every object of `resource` in `namespace` (matching `selector`) has `field` = `equals`, or condition `condition` True. */
export interface K8sProbe {
    type: "k8s";
    kubectl: string;
    resource: string;
    namespace: string;
    selector?: string;
    /** Dotted path into the object, e.g. status.phase. */
    field?: string;
    /** A status condition type, e.g. Ready (passes when its status is `equals`, default True). */
    condition?: string;
    equals: string;
}

/** The log of every pod matching `selector` has a line matching `pattern` (among its last `tail` lines). */
export interface K8sLogsProbe {
    type: "k8s-logs";
    kubectl: string;
    namespace: string;
    selector: string;
    pattern: string;
    tail?: number;
}

/** Every system's summary state (printed by `command`, with {csc} {name} {index}) is one of `accept`. */
export interface StatesProbe {
    type: "states";
    command: string;
    systems: string[];
    accept: string[];
}

export type Probe = ExitProbe | LogProbe | CountProbe | K8sProbe | K8sLogsProbe | StatesProbe;

/** A short description of what a probe waits for (titles, messages). */
export function describeProbe(p: Probe): string {
    switch (p.type) {
        case "exit":
            return `\`${p.command}\` exits ${p.exitCode}`;
        case "log":
            return `\`${p.command}\` ${p.tail ? `ends with a line (last ${p.tail})` : "has a line"} matching /${p.pattern}/`;
        case "count": {
            const goal = p.equals !== undefined ? ` reaches ${p.equals}` : p.below !== undefined ? " goes down" : "";
            return `the number of ${p.counts}${goal} (\`${p.command}\`)`;
        }
        case "k8s": {
            const what = p.condition ? `condition ${p.condition}=${p.equals}` : `${p.field}=${p.equals}`;
            return `all ${p.resource} in namespace ${p.namespace}${p.selector ? ` with ${p.selector}` : ""} have ${what}`;
        }
        case "k8s-logs":
            return `the log of every pod ${p.selector} in namespace ${p.namespace} ${p.tail ? `ends with a line (last ${p.tail})` : "has a line"} matching /${p.pattern}/`;
        case "states":
            return `every one of ${p.systems.length} systems reports ${p.accept.join(" or ")}`;
    }
}

/** Split `ScriptQueue:1` into name and index (0 when there is none). */
export function cscParts(csc: string): { name: string; index: number } {
    const m = /^(.*?):(\d+)$/.exec(csc);
    return m ? { name: m[1], index: Number(m[2]) } : { name: csc, index: 0 };
}

/**
 * Replace {key} placeholders that name a known value; anything else (e.g. ${VAR}) is left alone.
 * Each value is shell-quoted where it is inserted (the result is a bash line), except the keys in
 * `shellText`: operator command lines such as lsst.kubectl, inserted as the shell text they are.
 */
export function fill(template: string, values: Record<string, string | number>, shellText: readonly string[] = []): string {
    return template.replace(/(?<!\$)\{([A-Za-z]+)\}/g, (whole, key: string) => {
        if (!(key in values)) return whole;
        const value = String(values[key]);
        return shellText.includes(key) ? value : shellQuote(value);
    });
}

/** Fill a CSC command: {csc}, {name}, {index} and any extra values (e.g. {state}). */
export function cscCommand(template: string, csc: string, extra: Record<string, string> = {}): string {
    const { name, index } = cscParts(csc);
    return fill(template, { csc, name, index, ...extra });
}
