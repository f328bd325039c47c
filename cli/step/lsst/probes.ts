import { cscCommand, describeProbe, Probe } from "../../../components/lsst/probes";
import { SUMMARY_STATES } from "../../../components/config/lsst";
import { StepFailure } from "../context";
import { failure, lastLine, sh } from "./exec";
import { fieldOf, Kubectl, KubectlError } from "./kubectl";
import { attemptTimeout, Observation } from "./poll";

const PROBE_TYPES = ["exit", "log", "count", "k8s", "k8s-logs", "states"];

/** A probe from a step's params, checked enough to evaluate it. */
export function probeFrom(value: unknown, stepId: string): Probe {
    const p = value as Probe | undefined;
    if (!p || typeof p !== "object" || !PROBE_TYPES.includes((p as { type: string }).type)) {
        throw new StepFailure(`step ${stepId}: parameter "probe" must be a probe (${PROBE_TYPES.join(", ")}), got ${JSON.stringify(value)}`);
    }
    const need = (k: string) => {
        if (typeof (p as unknown as Record<string, unknown>)[k] !== "string") throw new StepFailure(`step ${stepId}: the ${p.type} probe needs "${k}"`);
    };
    if (p.type === "k8s" || p.type === "k8s-logs") need("kubectl");
    else need("command");
    if (p.type === "log" || p.type === "count" || p.type === "k8s-logs") need("pattern");
    return p;
}

/** The last summary state named in a text. */
export function parseSummaryState(text: string): string | undefined {
    const found = text.match(new RegExp(`\\b(${SUMMARY_STATES.join("|")})\\b`, "g"));
    return found ? found[found.length - 1] : undefined;
}

/** The number the last match of `pattern` captures. */
export function parseCount(text: string, pattern: string): number | undefined {
    const re = new RegExp(pattern, "g");
    let last: number | undefined;
    for (const m of text.matchAll(re)) {
        const n = Number(m[1]);
        if (m[1] !== undefined && Number.isFinite(n)) last = n;
    }
    return last;
}

function tailLines(text: string, tail?: number): string[] {
    const lines = text.split("\n").filter(l => l.trim() !== "");
    return tail ? lines.slice(-tail) : lines;
}

async function mapLimit<T, R>(items: T[], limit: number, fn: (item: T) => Promise<R>): Promise<R[]> {
    const out: R[] = new Array(items.length);
    let next = 0;
    const workers = Array.from({ length: Math.min(limit, items.length) }, async () => {
        while (next < items.length) {
            const i = next++;
            out[i] = await fn(items[i]);
        }
    });
    await Promise.all(workers);
    return out;
}

/** One system's summary state, or why it could not be read. */
export async function readState(template: string, csc: string, env: NodeJS.ProcessEnv, timeoutMs: number):
    Promise<{ state?: string; problem?: string }> {
    const command = cscCommand(template, csc);
    const r = await sh(command, { env, timeoutMs });
    if (r.code !== 0) return { problem: `no answer: ${failure(command, r)}` };
    const state = parseSummaryState(r.stdout);
    return state ? { state } : { problem: `no summary state in the output of \`${command}\`: ${lastLine(r.stdout) || "(empty)"}` };
}

/** Evaluate a probe once. Nothing a probe sees (a failing command included) throws: the gate keeps waiting. */
export async function observe(p: Probe, env: NodeJS.ProcessEnv, remainingMs: number): Promise<Observation> {
    const timeoutMs = attemptTimeout(remainingMs);
    switch (p.type) {
        case "exit": {
            const r = await sh(p.command, { env, timeoutMs });
            return { ready: r.code === p.exitCode && !r.timedOut, state: r.timedOut ? `\`${p.command}\` did not finish in time` : `\`${p.command}\` exited ${r.code}${r.code !== p.exitCode && lastLine(r.stderr) ? `: ${lastLine(r.stderr)}` : ""}` };
        }
        case "log": {
            const r = await sh(p.command, { env, timeoutMs });
            const lines = tailLines(`${r.stdout}\n${r.stderr}`, p.tail);
            const re = new RegExp(p.pattern);
            const hit = lines.find(l => re.test(l));
            if (hit) return { ready: true, state: `found "${hit.trim()}"` };
            if (r.code !== 0) return { ready: false, state: failure(p.command, r) };
            return { ready: false, state: `no line matching /${p.pattern}/ yet (last line: ${JSON.stringify(lastLine(r.stdout + "\n" + r.stderr) || "")})` };
        }
        case "count": {
            const r = await sh(p.command, { env, timeoutMs });
            const n = parseCount(r.stdout, p.pattern);
            if (n === undefined) {
                return { ready: false, state: r.code !== 0 ? failure(p.command, r) : `no number of ${p.counts} in the output yet (/${p.pattern}/)` };
            }
            const ready = p.equals !== undefined ? n === p.equals : p.below !== undefined ? n < p.below || n === 0 : true;
            const goal = p.equals !== undefined ? ` (waiting for ${p.equals})` : p.below !== undefined ? ` (waiting for fewer than ${p.below})` : "";
            return { ready, state: `${n} ${p.counts}${ready ? "" : goal}`, values: { count: n } };
        }
        case "k8s": {
            const k = new Kubectl(p.kubectl, env);
            let items;
            try {
                items = await k.list(p.resource, p.namespace, p.selector, timeoutMs);
            } catch (err) {
                return { ready: false, state: (err as KubectlError).message };
            }
            const where = `${p.resource} in ${p.namespace}${p.selector ? ` (${p.selector})` : ""}`;
            if (items.length === 0) return { ready: false, state: `no ${where}`, notReady: [`no ${where}`] };
            const valueOf = (o: Record<string, unknown>): unknown => p.condition
                ? ((fieldOf(o, "status.conditions") as { type: string; status: string }[] | undefined) ?? []).find(x => x.type === p.condition)?.status
                : fieldOf(o, p.field!);
            const notReady = items.filter(o => String(valueOf(o)) !== p.equals)
                .map(o => `${o.metadata?.name ?? "?"} (${p.condition ?? p.field}=${valueOf(o) === undefined ? "none" : String(valueOf(o))})`);
            const what = p.condition ? `${p.condition}=${p.equals}` : `${p.field}=${p.equals}`;
            return { ready: notReady.length === 0, state: `${items.length - notReady.length}/${items.length} ${where} have ${what}`, notReady };
        }
        case "k8s-logs": {
            const k = new Kubectl(p.kubectl, env);
            let pods;
            try {
                pods = await k.list("pods", p.namespace, p.selector, timeoutMs);
            } catch (err) {
                return { ready: false, state: (err as KubectlError).message };
            }
            if (pods.length === 0) return { ready: false, state: `no pods ${p.selector} in ${p.namespace}`, notReady: [`no pods ${p.selector}`] };
            const re = new RegExp(p.pattern);
            const notReady = (await mapLimit(pods, 8, async pod => {
                const name = String(pod.metadata?.name);
                const r = await k.run(["logs", name, "-n", p.namespace, "--all-containers=true", ...(p.tail ? [`--tail=${p.tail}`] : [])], timeoutMs);
                if (r.code !== 0) return `${name} (${pod.status?.phase ?? "?"}, no log: ${lastLine(r.stderr)})`;
                const lines = tailLines(r.stdout, p.tail);
                return lines.some(l => re.test(l)) ? undefined : `${name} (last line: ${JSON.stringify(lastLine(r.stdout))})`;
            })).filter((x): x is string => x !== undefined);
            return { ready: notReady.length === 0, state: `${pods.length - notReady.length}/${pods.length} pods ${p.selector} match /${p.pattern}/`, notReady };
        }
        case "states": {
            const states = await mapLimit(p.systems, 8, async csc => ({ csc, ...(await readState(p.command, csc, env, timeoutMs)) }));
            const notReady = states.filter(s => !s.state || !p.accept.includes(s.state))
                .map(s => `${s.csc} (${s.state ?? s.problem})`);
            return { ready: notReady.length === 0, state: `${states.length - notReady.length}/${states.length} systems in ${p.accept.join("/")}`, notReady };
        }
    }
}

/** The message of a gate that timed out: what it waited for, for how long, and what was not ready. */
export function notReadyMessage(what: string, p: Probe, waitedMs: number, last: Observation): string {
    const list = last.notReady?.length ? `\n  not ready: ${last.notReady.join(", ")}` : "";
    return `timed out after ${Math.round(waitedMs / 1000)} s waiting until ${what}: ${last.state}${list}\n  probe: ${describeProbe(p)}`;
}
