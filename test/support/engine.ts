/**
 * Integration tests on the real Pulumi engine, through the Automation API.
 *
 * - `requireEngine()` finds the `pulumi` CLI and the command provider (taking the repo's engine from
 *   `scripts/engine/env.sh` when none is on PATH), or throws with what to do. Engine tests fail
 *   without it; they never skip.
 * - `TempProject` copies the program (Pulumi.yaml, index.ts, components/, cli/, bin/, tsconfig.json,
 *   package.json; node_modules is a symlink) into a temporary directory with its own file backend and
 *   PULUMI_HOME, so a test never writes into the checkout or into the engine's home.
 * - `EngineStack` creates a stack from an object of `upgrade:` config keys and runs preview / up /
 *   `pulumi stack export`, capturing the log and the engine's event stream of every run.
 */
import { execFile, execFileSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { gunzipSync } from "zlib";
import {
    ConfigMap, ConfigValue, EngineEvent, LocalWorkspace, OpType, OutputMap, PulumiCommand, Stack,
} from "@pulumi/pulumi/automation";

/** The checkout this file belongs to. */
export const PROJECT_ROOT = path.resolve(__dirname, "..", "..");

/** What a copy of the program needs to run (node_modules is linked, not copied). */
export const PROGRAM_FILES = ["Pulumi.yaml", "index.ts", "components", "cli", "bin", "tsconfig.json", "package.json"];

/** The config namespace of the program. */
export const NAMESPACE = "upgrade";

// ---------------------------------------------------------------------------------------------------------------
// The engine

export interface EngineInfo {
    /** Absolute path of the `pulumi` binary. */
    pulumi: string;
    /** `pulumi version`, e.g. v3.248.0. */
    version: string;
    /** PULUMI_HOME that holds the installed plugins (the engine's own, or ~/.pulumi). */
    home: string;
    /** Where the `command` provider plugin was found. */
    commandProvider: string;
}

export class EngineMissingError extends Error {
    constructor(message: string) {
        super(`${message}\nThe engine tests need the repo's Pulumi engine: run \`source scripts/engine/env.sh\` ` +
            "in this shell first (it builds the engine once, then only sets PATH and PULUMI_HOME).");
        this.name = "EngineMissingError";
    }
}

/** An executable named `name` on PATH, if any. */
export function findOnPath(name: string, pathVar = process.env.PATH ?? ""): string | undefined {
    for (const dir of pathVar.split(path.delimiter)) {
        if (!dir) continue;
        const candidate = path.join(dir, name);
        try {
            fs.accessSync(candidate, fs.constants.X_OK);
            if (fs.statSync(candidate).isFile()) return candidate;
        } catch {
            // not here
        }
    }
    return undefined;
}

/**
 * Put the repo's engine on PATH (with its PULUMI_* settings) when no `pulumi` is there yet: what
 * `source scripts/engine/env.sh` does for a shell, for a test run started without it.
 */
export function useRepoEngine(): void {
    if (findOnPath("pulumi")) return;
    const out = execFileSync("bash", ["-c", "source scripts/engine/env.sh >/dev/null 2>&1 && env -0"], { cwd: PROJECT_ROOT, encoding: "utf8" });
    for (const entry of out.split("\0")) {
        const i = entry.indexOf("=");
        const key = entry.slice(0, i);
        if (key === "PATH" || key.startsWith("PULUMI_")) process.env[key] = entry.slice(i + 1);
    }
}

function packageVersion(name: string): string {
    return (JSON.parse(fs.readFileSync(path.join(PROJECT_ROOT, "node_modules", name, "package.json"), "utf8")) as { version: string }).version;
}

let engineInfo: EngineInfo | undefined;

/**
 * The engine the tests run on. Throws an EngineMissingError (never skips) when `pulumi` is not on
 * PATH or the `command` provider plugin is not installed where that engine looks for it.
 */
export function requireEngine(): EngineInfo {
    if (engineInfo) return engineInfo;
    useRepoEngine();
    const pulumi = findOnPath("pulumi");
    if (!pulumi) throw new EngineMissingError(`\`pulumi\` was not found on PATH (${process.env.PATH ?? ""}).`);
    let version: string;
    try {
        version = execFileSync(pulumi, ["version"], {
            encoding: "utf8", env: { ...process.env, PULUMI_SKIP_UPDATE_CHECK: "true" }, stdio: ["ignore", "pipe", "pipe"],
        }).trim();
    } catch (err) {
        throw new EngineMissingError(`\`${pulumi} version\` failed: ${(err as Error).message}`);
    }
    const home = process.env.PULUMI_HOME || path.join(os.homedir(), ".pulumi");
    const commandVersion = packageVersion("@pulumi/command");
    const installed = path.join(home, "plugins", `resource-command-v${commandVersion}`, "pulumi-resource-command");
    let commandProvider: string | undefined;
    if (fs.existsSync(installed)) commandProvider = installed;
    else if (process.env.PULUMI_IGNORE_AMBIENT_PLUGINS !== "true") commandProvider = findOnPath("pulumi-resource-command");
    if (!commandProvider) {
        throw new EngineMissingError(`found ${pulumi} (${version}), but not the command provider v${commandVersion} ` +
            `(looked for ${installed}${process.env.PULUMI_IGNORE_AMBIENT_PLUGINS === "true" ? "" : " and pulumi-resource-command on PATH"}).`);
    }
    engineInfo = { pulumi, version, home, commandProvider };
    return engineInfo;
}

// ---------------------------------------------------------------------------------------------------------------
// A temporary copy of the program

export interface TempProjectOptions {
    /** Prefix of the temporary directory's name. */
    prefix?: string;
    /** Files and folders copied from `source` (default PROGRAM_FILES). */
    files?: string[];
    /** Where the files come from (default the checkout). */
    source?: string;
    /** Extra files written into the copy: relative path -> content. */
    write?: Record<string, string>;
    /**
     * Start the program the Node.js runtime's default way instead of the project's (Pulumi.yaml:
     * `nodeargs` loading bin/register-ts.js, cached transpile): ts-node with a type check on every run.
     * For the benchmark's side-by-side comparison.
     */
    typeCheck?: boolean;
}

/**
 * A copy of the program in a temporary directory:
 *   <root>/project   the program (node_modules is a symlink to the checkout's)
 *   <root>/state     the file backend (PULUMI_BACKEND_URL=file://<root>/state)
 *   <root>/home      PULUMI_HOME (plugins linked from the engine's home)
 *   <root>/work      free for the test (scripts, files the steps write)
 * Set UPGRADE_KEEP_ENGINE_TMP=1 to keep it after the test (its path is printed).
 */
export class TempProject {
    readonly root: string;
    readonly dir: string;
    readonly backendDir: string;
    readonly home: string;
    readonly work: string;

    private constructor(root: string, readonly typeCheck: boolean) {
        this.root = root;
        this.dir = path.join(root, "project");
        this.backendDir = path.join(root, "state");
        this.home = path.join(root, "home");
        this.work = path.join(root, "work");
    }

    static create(opts: TempProjectOptions = {}): TempProject {
        const engine = requireEngine();
        const source = opts.source ?? PROJECT_ROOT;
        const root = fs.mkdtempSync(path.join(os.tmpdir(), opts.prefix ?? "upgrade-engine-"));
        const p = new TempProject(root, opts.typeCheck ?? false);
        for (const d of [p.dir, p.backendDir, p.home, p.work]) fs.mkdirSync(d, { recursive: true });
        for (const f of opts.files ?? PROGRAM_FILES) {
            const from = path.join(source, f);
            if (!fs.existsSync(from)) throw new Error(`TempProject: ${from} does not exist (needed by the program copy)`);
            fs.cpSync(from, path.join(p.dir, f), { recursive: true });
        }
        const modules = path.join(source, "node_modules");
        if (!fs.existsSync(modules)) throw new Error(`TempProject: ${modules} is missing: run npm ci first`);
        fs.symlinkSync(modules, path.join(p.dir, "node_modules"), "dir");
        fs.mkdirSync(path.join(p.dir, "stacks"), { recursive: true });
        if (p.typeCheck) tsNodeRuntime(path.join(p.dir, "Pulumi.yaml"));
        else transpileOnlyTsconfig(path.join(p.dir, "tsconfig.json"));
        for (const [rel, content] of Object.entries(opts.write ?? {})) {
            fs.mkdirSync(path.dirname(path.join(p.dir, rel)), { recursive: true });
            fs.writeFileSync(path.join(p.dir, rel), content);
        }
        // Plugins come from the engine's home; everything else Pulumi writes stays here.
        const plugins = path.join(engine.home, "plugins");
        if (fs.existsSync(plugins)) fs.symlinkSync(plugins, path.join(p.home, "plugins"), "dir");
        return p;
    }

    /** The environment every Pulumi command of this project runs with. */
    env(passphrase: string): Record<string, string> {
        return {
            PULUMI_BACKEND_URL: `file://${this.backendDir}`,
            PULUMI_CONFIG_PASSPHRASE: passphrase,
            PULUMI_HOME: this.home,
            PULUMI_SKIP_UPDATE_CHECK: "true",
            PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true",
            PULUMI_NODEJS_TRANSPILE_ONLY: this.typeCheck ? "false" : "true",
        };
    }

    /** Every file under the backend directory (state, history, backups), with its text (gzip files unpacked). */
    backendFiles(): { path: string; text: string }[] {
        return listFiles(this.backendDir).map(f => {
            const raw = fs.readFileSync(f);
            return { path: f, text: (f.endsWith(".gz") ? gunzipSync(raw) : raw).toString("utf8") };
        });
    }

    /** The current state file of a stack in the file backend. */
    stateFile(stack: string): string {
        const found = listFiles(path.join(this.backendDir, ".pulumi", "stacks"))
            .filter(f => path.basename(f) === `${stack}.json` || path.basename(f) === `${stack}.json.gz`);
        if (found.length !== 1) {
            throw new Error(`state file of stack ${stack}: expected one under ${this.backendDir}/.pulumi/stacks, found ${found.length}`);
        }
        return found[0];
    }

    cleanup(): void {
        if (process.env.UPGRADE_KEEP_ENGINE_TMP) {
            process.stderr.write(`kept ${this.root}\n`);
            return;
        }
        // The upgrade report is written by a process of its own once the engine has ended
        // (cli/report/after-update.ts): let it finish before the folder goes.
        const deadline = Date.now() + 60000;
        let alive = processesUnder(this.root);
        while (alive.length > 0 && Date.now() < deadline) {
            Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 100);
            alive = processesUnder(this.root);
        }
        for (const p of alive) {
            try { process.kill(p.pid, "SIGKILL"); } catch { /* gone */ }
        }
        fs.rmSync(this.root, { recursive: true, force: true, maxRetries: 5, retryDelay: 100 });
        if (alive.length > 0) {
            throw new Error(`still running in ${this.root} a minute after the test (killed):\n${alive.map(p => `${p.pid} ${p.cmdline}`).join("\n")}`);
        }
    }
}

/** Processes that work in a folder (their working directory is in it) or name it on their command line. */
function processesUnder(root: string): { pid: number; cmdline: string }[] {
    const out: { pid: number; cmdline: string }[] = [];
    for (const entry of fs.readdirSync("/proc")) {
        const pid = Number(entry);
        if (!Number.isInteger(pid) || pid === process.pid) continue;
        try {
            const cmdline = fs.readFileSync(`/proc/${pid}/cmdline`, "utf8").replace(/\0/g, " ").trim();
            const cwd = fs.readlinkSync(`/proc/${pid}/cwd`);
            if (cwd === root || cwd.startsWith(root + "/") || cmdline.includes(root + "/")) out.push({ pid, cmdline });
        } catch {
            // ended meanwhile, or not ours to read
        }
    }
    return out;
}

/** Pulumi.yaml with the runtime's default TypeScript start (ts-node, type-checked), no nodeargs. */
function tsNodeRuntime(file: string): void {
    if (!fs.existsSync(file)) return;
    const text = fs.readFileSync(file, "utf8");
    const runtime = "runtime:\n  name: nodejs\n  options:\n    typescript: true\n";
    fs.writeFileSync(file, text.replace(/^runtime:\n(?:[ \t]+.*\n)*/m, runtime));
}

/**
 * The Node.js runtime merges its own defaults (module/moduleResolution "nodenext") under the project's
 * compilerOptions. With `module: commonjs` and no moduleResolution, a transpile-only run then fails with
 * TS5110 ("Option 'module' must be set to 'NodeNext' when option 'moduleResolution' is set to 'NodeNext'").
 * In the copy, state the resolution TypeScript uses for commonjs anyway.
 */
function transpileOnlyTsconfig(file: string): void {
    if (!fs.existsSync(file)) return;
    const tsconfig = JSON.parse(fs.readFileSync(file, "utf8")) as { compilerOptions?: Record<string, unknown> };
    const co = (tsconfig.compilerOptions ??= {});
    if (co.moduleResolution === undefined && String(co.module ?? "").toLowerCase() === "commonjs") {
        co.moduleResolution = "node";
        fs.writeFileSync(file, JSON.stringify(tsconfig, null, 2) + "\n");
    }
}

export function listFiles(dir: string): string[] {
    if (!fs.existsSync(dir)) return [];
    const out: string[] = [];
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
        const full = path.join(dir, e.name);
        if (e.isDirectory()) out.push(...listFiles(full));
        else if (e.isFile()) out.push(full);
    }
    return out.sort();
}

// ---------------------------------------------------------------------------------------------------------------
// Stack configuration

/** A config value stored as a Pulumi secret. */
export interface SecretConfig {
    value: string;
    secret: true;
}

export function secret(value: string): SecretConfig {
    return { value, secret: true };
}

function isSecretConfig(v: unknown): v is SecretConfig {
    if (!v || typeof v !== "object" || Array.isArray(v)) return false;
    const keys = Object.keys(v).sort();
    return keys.length === 2 && keys[0] === "secret" && keys[1] === "value" &&
        (v as SecretConfig).secret === true && typeof (v as SecretConfig).value === "string";
}

/**
 * Stack configuration as an object: keys with or without the `upgrade:` namespace; strings are stored as
 * they are, other values as JSON (the program decodes them); `secret("…")` / `{ value, secret: true }` is
 * stored encrypted. `undefined` values are left out.
 */
export type StackConfig = Record<string, unknown>;

export function toConfigMap(config: StackConfig): ConfigMap {
    const out: ConfigMap = {};
    for (const [k, v] of Object.entries(config)) {
        if (v === undefined) continue;
        const key = k.includes(":") ? k : `${NAMESPACE}:${k}`;
        let value: ConfigValue;
        if (isSecretConfig(v)) value = { value: v.value, secret: true };
        else value = { value: typeof v === "string" ? v : JSON.stringify(v) };
        out[key] = value;
    }
    return out;
}

// ---------------------------------------------------------------------------------------------------------------
// Runs

/** An engine event with the moment (Date.now()) this process received it. */
export type TimedEvent = EngineEvent & { receivedAt: number };

export interface StepOp {
    /** Resource name (for a step's command: the step id). */
    name: string;
    type: string;
    op: OpType;
    sequence: number;
}

export interface EngineRun {
    kind: "preview" | "up";
    ok: boolean;
    /** Everything the CLI printed (stdout and stderr), in arrival order. */
    log: string;
    events: TimedEvent[];
    /** Resource changes by operation (same, create, replace, ...). */
    changes: Record<string, number>;
    outputs?: OutputMap;
    error?: Error;
    /** Wall-clock time of the CLI command. */
    durationMs: number;
}

/** Name of a resource from its URN (the part after the last `::`). */
export function urnName(urn: string): string {
    return urn.slice(urn.lastIndexOf("::") + 2);
}

const COMMAND_TYPES = new Set(["command:local:Command", "command:remote:Command"]);

/** Planned/started operations of command resources (one per step), in event order. */
export function commandOps(run: EngineRun, ops?: OpType[]): StepOp[] {
    return run.events
        .filter(e => e.resourcePreEvent && COMMAND_TYPES.has(e.resourcePreEvent.metadata.type))
        .map(e => ({ name: urnName(e.resourcePreEvent!.metadata.urn), type: e.resourcePreEvent!.metadata.type, op: e.resourcePreEvent!.metadata.op, sequence: e.sequence }))
        .filter(s => !ops || ops.includes(s.op));
}

/** Command resources whose operation finished (resOutputsEvent), in event order. */
export function commandsDone(run: EngineRun, ops?: OpType[]): StepOp[] {
    return run.events
        .filter(e => e.resOutputsEvent && COMMAND_TYPES.has(e.resOutputsEvent.metadata.type))
        .map(e => ({ name: urnName(e.resOutputsEvent!.metadata.urn), type: e.resOutputsEvent!.metadata.type, op: e.resOutputsEvent!.metadata.op, sequence: e.sequence }))
        .filter(s => !ops || ops.includes(s.op));
}

/** Command resources whose operation failed. */
export function commandsFailed(run: EngineRun): StepOp[] {
    return run.events
        .filter(e => e.resOpFailedEvent && COMMAND_TYPES.has(e.resOpFailedEvent.metadata.type))
        .map(e => ({ name: urnName(e.resOpFailedEvent!.metadata.urn), type: e.resOpFailedEvent!.metadata.type, op: e.resOpFailedEvent!.metadata.op, sequence: e.sequence }));
}

/** Diagnostics of a given severity (all when none is given): `{ resource name, message }`. */
export function diagnostics(run: EngineRun, severity?: string): { name?: string; message: string; severity: string }[] {
    return run.events
        .filter(e => e.diagnosticEvent && (!severity || e.diagnosticEvent.severity === severity))
        .map(e => ({ name: e.diagnosticEvent!.urn ? urnName(e.diagnosticEvent!.urn) : undefined, message: e.diagnosticEvent!.message, severity: e.diagnosticEvent!.severity }));
}

/** A failed preview or up: the message carries the engine's error diagnostics and the end of the log. */
export class EngineRunError extends Error {
    constructor(readonly run: EngineRun, stack: string, cause: Error) {
        const errors = diagnostics(run, "error").map(d => `${d.name ? `[${d.name}] ` : ""}${d.message.trim()}`);
        const detail = errors.length ? errors.join("\n") : tail(run.log || cause.message, 40);
        super(`pulumi ${run.kind} on stack ${stack} failed:\n${detail}`);
        this.name = "EngineRunError";
    }
}

function tail(text: string, lines: number): string {
    return text.split("\n").slice(-lines).join("\n");
}

export interface EngineStackOptions {
    /** Default "test". */
    name?: string;
    passphrase?: string;
    /** Extra environment for the CLI, the program and the providers (and so for the step runner). */
    env?: Record<string, string>;
    /** Engine parallelism for up (default: the engine's). */
    parallel?: number;
}

/** One stack of a TempProject, on the real engine. */
export class EngineStack {
    readonly runs: EngineRun[] = [];

    private constructor(
        readonly project: TempProject,
        readonly stack: Stack,
        readonly workspace: LocalWorkspace,
        private readonly envVars: Record<string, string>,
        private readonly opts: EngineStackOptions,
    ) {}

    get name(): string {
        return this.stack.name;
    }

    /** `pulumi stack init` with the given config (`upgrade:` keys). */
    static async create(project: TempProject, config: StackConfig, opts: EngineStackOptions = {}): Promise<EngineStack> {
        const engine = requireEngine();
        const extra = opts.env ?? {};
        // The steps see only an allow-list of the environment: the test's own variables are passed by name.
        const envVars = {
            ...project.env(opts.passphrase ?? "engine-test-passphrase"), ...extra,
            ...(Object.keys(extra).length ? { UPGRADE_STEP_PASS_ENV: Object.keys(extra).join(",") } : {}),
        };
        const pulumiCommand = await PulumiCommand.get({ root: path.dirname(path.dirname(engine.pulumi)) })
            .catch(err => { throw new Error(`Automation API cannot use ${engine.pulumi}: ${(err as Error).message}`); });
        const workspace = await LocalWorkspace.create({ workDir: project.dir, envVars, pulumiCommand });
        const name = opts.name ?? "test";
        let stack: Stack;
        try {
            stack = await Stack.create(name, workspace);
        } catch (err) {
            throw new Error(`pulumi stack init ${name} in ${project.dir} failed: ${(err as Error).message}`);
        }
        const s = new EngineStack(project, stack, workspace, envVars, opts);
        await s.setConfig(config);
        return s;
    }

    /** Replace the stack's configuration: keys that are not given are removed. */
    async setConfig(config: StackConfig): Promise<void> {
        const wanted = toConfigMap(config);
        const current = await this.stack.getAllConfig();
        const stale = Object.keys(current).filter(k => !(k in wanted));
        if (stale.length) await this.stack.removeAllConfig(stale);
        try {
            await this.stack.setAllConfig(wanted);
        } catch (err) {
            throw new Error(`pulumi config set-all on stack ${this.name} failed: ${(err as Error).message}`);
        }
    }

    /** The stack's config file in the project copy (secrets are encrypted there). */
    configFile(): string {
        return path.join(this.project.dir, "stacks", `Pulumi.${this.name}.yaml`);
    }

    /** `pulumi preview`; throws an EngineRunError when it fails. */
    async preview(): Promise<EngineRun> {
        const run = await this.tryPreview();
        if (!run.ok) throw new EngineRunError(run, this.name, run.error!);
        return run;
    }

    async tryPreview(): Promise<EngineRun> {
        return this.capture("preview", async (onOutput, onEvent) => {
            const r = await this.stack.preview({ onOutput, onError: onOutput, onEvent });
            return { changes: r.changeSummary as Record<string, number> };
        });
    }

    /** `pulumi up`; throws an EngineRunError (naming the failed steps) when it fails. */
    async up(): Promise<EngineRun> {
        const run = await this.tryUp();
        if (!run.ok) throw new EngineRunError(run, this.name, run.error!);
        return run;
    }

    /** `pulumi up` that may fail: look at `ok`, `error` and the events. */
    async tryUp(): Promise<EngineRun> {
        return this.capture("up", async (onOutput, onEvent) => {
            const r = await this.stack.up({ onOutput, onError: onOutput, onEvent, showSecrets: false, parallel: this.opts.parallel });
            return { changes: (r.summary.resourceChanges ?? {}) as Record<string, number>, outputs: r.outputs };
        });
    }

    private async capture(kind: EngineRun["kind"],
        body: (onOutput: (s: string) => void, onEvent: (e: EngineEvent) => void) => Promise<{ changes: Record<string, number>; outputs?: OutputMap }>,
    ): Promise<EngineRun> {
        const run: EngineRun = { kind, ok: false, log: "", events: [], changes: {}, durationMs: 0 };
        const started = Date.now();
        try {
            const r = await body(s => (run.log += s), e => run.events.push({ ...e, receivedAt: Date.now() }));
            run.ok = true;
            run.changes = r.changes;
            run.outputs = r.outputs;
        } catch (err) {
            run.error = err as Error;
            // The CLI's own output is part of the error; keep it when onOutput did not see it.
            if (!run.log) run.log = (err as Error).message;
        }
        run.durationMs = Date.now() - started;
        run.events.sort((a, b) => a.sequence - b.sequence);
        this.runs.push(run);
        return run;
    }

    /** Every log captured so far (previews and ups) as one text. */
    allLogs(): string {
        return this.runs.map(r => r.log).join("\n");
    }

    /** Stack outputs as plain values (secret outputs stay "[secret]"). */
    async outputs(): Promise<Record<string, unknown>> {
        const text = await this.pulumi(["stack", "output", "--json", "--stack", this.name]);
        return JSON.parse(text) as Record<string, unknown>;
    }

    /** `pulumi stack export` (secrets stay encrypted): the text as printed, and parsed. */
    async exportState(): Promise<{ text: string; deployment: StateDeployment }> {
        const text = await this.pulumi(["stack", "export", "--stack", this.name]);
        let parsed: { deployment?: StateDeployment };
        try {
            parsed = JSON.parse(text);
        } catch {
            throw new Error(`pulumi stack export printed something that is not JSON: ${text.slice(0, 200)}`);
        }
        return { text, deployment: parsed.deployment ?? { resources: [] } };
    }

    /** Resources of the exported state, by type. */
    async stateResources(type?: string): Promise<StateResource[]> {
        const { deployment } = await this.exportState();
        return (deployment.resources ?? []).filter(r => !type || r.type === type);
    }

    /** Run the pulumi CLI in the project copy with this stack's environment; resolves with stdout. */
    pulumi(args: string[]): Promise<string> {
        const engine = requireEngine();
        return new Promise((resolve, reject) => {
            execFile(engine.pulumi, [...args, "--non-interactive"], {
                cwd: this.project.dir, env: { ...process.env, ...this.envVars }, maxBuffer: 64 * 1024 * 1024,
            }, (err, stdout, stderr) => {
                if (err) {
                    const out = [stderr.trim(), tail(stdout.trim(), 40)].filter(Boolean).join("\n");
                    reject(new Error(`pulumi ${args.join(" ")} failed (exit ${(err as { code?: unknown }).code}):\n${out || err.message}`));
                }
                else resolve(stdout);
            });
        });
    }
}

export interface StateResource {
    urn: string;
    type: string;
    id?: string;
    custom?: boolean;
    parent?: string;
    dependencies?: string[];
    inputs?: Record<string, unknown>;
    outputs?: Record<string, unknown>;
}

export interface StateDeployment {
    resources?: StateResource[];
    secrets_providers?: unknown;
}
