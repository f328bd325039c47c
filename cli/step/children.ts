import { ChildProcess } from "child_process";

/**
 * The step runner's children and what to do when the runner is told to stop. Every program the
 * runner starts runs in a process group of its own (so a time limit ends its whole pipeline); on
 * SIGTERM or SIGINT the runner forwards the signal to each group, waits for them to exit (SIGKILL
 * after a grace period), removes what a step left half written, and exits 128 + the signal number.
 */

const live = new Set<ChildProcess>();
const cleanups = new Set<() => void>();
let stopping = false;

/** How long the children get to exit after the forwarded signal before they are killed. */
export const GRACE_MS = 5000;

function signalGroup(child: ChildProcess, signal: NodeJS.Signals): void {
    if (child.pid === undefined || child.exitCode !== null || child.signalCode !== null) return;
    try {
        process.kill(-child.pid, signal);
    } catch {
        try {
            child.kill(signal);
        } catch {
            // already gone
        }
    }
}

/** Track a child started with `detached: true` (its own process group) until it exits. */
export function track<T extends ChildProcess>(child: T): T {
    live.add(child);
    child.on("exit", () => live.delete(child));
    child.on("error", () => live.delete(child));
    if (stopping) signalGroup(child, "SIGTERM");
    return child;
}

/** Run `fn` if the runner is stopped before `release` is called (e.g. remove a partial file). */
export function onStop(fn: () => void): () => void {
    cleanups.add(fn);
    return () => cleanups.delete(fn);
}

const SIGNALS: Record<string, number> = { SIGTERM: 15, SIGINT: 2, SIGHUP: 1 };

/** Stop: forward `signal` to every child's group, wait for them, clean up, exit. */
export async function stop(signal: NodeJS.Signals, exit: (code: number) => void = code => process.exit(code)): Promise<void> {
    if (stopping) return;
    stopping = true;
    const children = [...live];
    for (const c of children) signalGroup(c, signal);
    const exited = Promise.all(children.map(c => new Promise<void>(resolve => {
        if (c.exitCode !== null || c.signalCode !== null) resolve();
        else c.once("exit", () => resolve());
    })));
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<boolean>(resolve => (timer = setTimeout(() => resolve(true), GRACE_MS)));
    if (await Promise.race([exited.then(() => false), timedOut])) {
        for (const c of children) signalGroup(c, "SIGKILL");
        await exited;
    }
    if (timer) clearTimeout(timer);
    for (const fn of cleanups) {
        try {
            fn();
        } catch {
            // best effort: the next step run starts over anyway
        }
    }
    process.stderr.write(`step runner stopped by ${signal}: ${children.length} child process group(s) ended\n`);
    exit(128 + (SIGNALS[signal] ?? 15));
}

/**
 * Install the handlers (once, in the runner's main). The runner also stops when the process that
 * started it (the command provider) is gone: a SIGKILL of the engine must not leave its work running.
 */
export function handleStopSignals(): void {
    for (const s of ["SIGTERM", "SIGINT", "SIGHUP"] as NodeJS.Signals[]) process.on(s, () => void stop(s));
    const parent = process.ppid;
    setInterval(() => {
        if (process.ppid !== parent) void stop("SIGTERM");
    }, 1000).unref();
}
