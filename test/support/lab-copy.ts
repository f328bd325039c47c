import { execFileSync, spawn, spawnSync } from "child_process";
import { randomUUID } from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { parse, stringify } from "yaml";
import { InmantaClient } from "../../components/inmanta/client";
import { freePort } from "./ports";

const ROOT = path.join(__dirname, "..", "..");
const COPIED = ["Pulumi.yaml", "index.ts", "tsconfig.json", "package.json", "package-lock.json", "components", "cli", "bin", "scripts", "lab", "stacks", "engine"];

/**
 * The inmanta-core lines every lab test runs against (both by default; UPGRADE_LAB_LINES="20.1.0" runs one
 * while developing). Each is set up by the project's own scripts (scripts/inmanta/install.sh, run by
 * scripts/setup.sh): a line that cannot be set up fails its tests, it is never skipped.
 */
export const INMANTA_LINES: readonly string[] = (process.env.UPGRADE_LAB_LINES || "14.0.0 20.1.0").split(/\s+/).filter(Boolean);

const lineEnvs = new Map<string, Record<string, string>>();

/**
 * What scripts/inmanta/line.sh exports for a line (interpreter, PostgreSQL folders, INMANTA_VERSION), with
 * the line built when missing: the environment every command of a lab copy of that line runs in.
 */
export function lineEnv(version: string): Record<string, string> {
    const known = lineEnvs.get(version);
    if (known) return known;
    const out = execFileSync("bash", ["-c", 'set -e; source scripts/inmanta/line.sh; bash scripts/inmanta/venv.sh >/dev/null; env -0'],
        { cwd: ROOT, env: { ...process.env, INMANTA_VERSION: version }, encoding: "utf8", stdio: ["ignore", "pipe", "inherit"], maxBuffer: 16 * 1024 * 1024 });
    const vars: Record<string, string> = {};
    for (const entry of out.split("\0")) {
        const i = entry.indexOf("=");
        const key = entry.slice(0, i);
        if (i > 0 && /^(INMANTA_VERSION|UPGRADE_INMANTA_VERSION|UPGRADE_INMANTA_PYTHON|UPGRADE_PG_BINDIR|UPGRADE_PG_CLIENT_BINDIR)$/.test(key)) {
            vars[key] = entry.slice(i + 1);
        }
    }
    if (vars.INMANTA_VERSION !== version) throw new Error(`scripts/inmanta/line.sh did not select inmanta-core ${version}`);
    lineEnvs.set(version, vars);
    return vars;
}

/** A command's exit status and everything it printed (stdout and stderr, in order). */
export interface RunResult {
    status: number;
    output: string;
    seconds: number;
    /** The JSON result of each step as the state holds it after the run (secrets decrypted). */
    results?: Record<string, Record<string, unknown>>;
}

const SECRET_SIG = "4dabf18193072939515e22adb298388d";

/** A value of `pulumi stack export --show-secrets`: secrets come as {sig, plaintext: JSON}. */
function revealed(value: unknown): unknown {
    if (value && typeof value === "object" && SECRET_SIG in (value as object)) {
        const plaintext = (value as { plaintext?: string }).plaintext;
        return plaintext === undefined ? undefined : JSON.parse(plaintext);
    }
    return value;
}

/** Every step's JSON result in a stack's state (the runner prints exactly one JSON document). */
function stepResults(dir: string, env: NodeJS.ProcessEnv, stack: string): Record<string, Record<string, unknown>> {
    const state = JSON.parse(execFileSync("pulumi", ["stack", "export", "--stack", stack, "--show-secrets"],
        { cwd: dir, env, encoding: "utf8", maxBuffer: 256 * 1024 * 1024 })) as
        { deployment: { resources?: { urn: string; type: string; outputs?: { stdout?: unknown } }[] } };
    const results: Record<string, Record<string, unknown>> = {};
    for (const r of state.deployment.resources ?? []) {
        if (r.type !== "command:local:Command") continue;
        const stdout = revealed(r.outputs?.stdout);
        if (typeof stdout !== "string" || !stdout.trim().startsWith("{")) continue;
        try {
            results[r.urn.slice(r.urn.lastIndexOf("::") + 2)] = JSON.parse(stdout);
        } catch { /* not a runner step */ }
    }
    return results;
}

/** A stack's `upgrade:` configuration, keys without the namespace (`procedure`, `orchestrator`, ...). */
export type StackConfig = Record<string, unknown>;

export interface LabCopy {
    dir: string;
    /** The inmanta-core line of this copy ("14.0.0" or "20.1.0"). */
    inmantaVersion: string;
    url: string;
    environment: string;
    pgPort: number;
    /** Run `scripts/lab.sh` in the copy; resolves with its output, rejects on a non-zero exit. */
    lab(args?: string[]): string;
    down(): void;
    psql(sql: string): string;

    /** The lab's services in the copy: `.lab/inmanta` (pg/, server/, repo/, lab.env). */
    inmantaDir: string;
    /** Environment of the commands run in the copy (the lab's engine state and passphrase). */
    env: NodeJS.ProcessEnv;
    /** `scripts/lab.sh` whatever its exit status, with stdout and stderr in one text. */
    tryLab(args?: string[]): RunResult;
    /**
     * `pulumi up` of a stack of the copy, as scripts/lab.sh runs it (without setting up the lab):
     * resolves whatever the exit status, so a test can act on the server while it runs.
     */
    up(stack?: string): Promise<RunResult>;
    /** Write `stacks/Pulumi.<name>.yaml` from `upgrade:` keys (the encryption salt of an existing file is kept). */
    writeStack(name: string, config: StackConfig): void;
    /** The `upgrade:` keys of a stack file of the copy. */
    readStack(name: string): StackConfig;
    /** Change a stack file of the copy in place. */
    editStack(name: string, edit: (config: StackConfig) => void): void;
    /** A step's result as recorded in the stack's state (`pulumi stack export`), or undefined when it never ran. */
    stepResult(stack: string, step: string): Record<string, unknown> | undefined;
    /** Publish a release of the lab model (a, b, broken) as a new commit of the copy's model repository. */
    publish(release: string): void;
    /** Stop or start the copy's Inmanta server (same folder, same ports). */
    server(action: "start" | "stop"): void;
    /** A client for an environment of the copy's server (default: the lab stack's). */
    client(environment?: string): InmantaClient;
    /** Stop the services and delete the copy (kept when UPGRADE_KEEP_LAB is set, to look around). */
    remove(): void;
}

/** Run a program in a shell with stdout and stderr merged, in order. */
function runMerged(cmd: string, args: string[], opts: { cwd: string; env: NodeJS.ProcessEnv }): RunResult {
    const started = Date.now();
    const r = spawnSync("bash", ["-c", 'exec "$0" "$@" 2>&1', cmd, ...args],
        { cwd: opts.cwd, env: opts.env, encoding: "utf8", maxBuffer: 256 * 1024 * 1024 });
    if (r.error) throw r.error;
    return { status: r.status ?? 1, output: r.stdout, seconds: (Date.now() - started) / 1000 };
}

/** Keep every run's output in the copy (.lab/runs/NN-what.log), for a look after a failure. */
function keepLog(dir: string, what: string, r: RunResult): RunResult {
    const runs = path.join(dir, ".lab", "runs");
    fs.mkdirSync(runs, { recursive: true });
    const n = String(fs.readdirSync(runs).length + 1).padStart(2, "0");
    fs.writeFileSync(path.join(runs, `${n}-${what.replace(/[^A-Za-z0-9_.-]+/g, "_")}.log`),
        `# exit ${r.status} after ${r.seconds.toFixed(1)} s\n${r.output}`);
    return r;
}

/**
 * A copy of the project in a temporary folder (node_modules linked) whose lab stack uses free
 * ports and a new environment id, so a test can run `npm run lab` without touching the checkout.
 */
export async function makeLabCopy(edit: (stackYaml: string) => string = s => s,
    opts: { inmantaVersion?: string } = {}): Promise<LabCopy> {
    const line = lineEnv(opts.inmantaVersion ?? process.env.INMANTA_VERSION ?? "20.1.0");
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "lab-"));
    fs.chmodSync(dir, 0o755); // PostgreSQL runs as its own user and must reach its data folder
    for (const entry of COPIED) {
        execFileSync("cp", ["-a", path.join(ROOT, entry), path.join(dir, entry)]);
    }
    fs.symlinkSync(path.join(ROOT, "node_modules"), path.join(dir, "node_modules"));
    const httpPort = await freePort();
    const pgPort = await freePort();
    const environment = randomUUID();
    const url = `http://127.0.0.1:${httpPort}`;
    const stackFile = path.join(dir, "stacks", "Pulumi.lab.yaml");
    const yaml = fs.readFileSync(stackFile, "utf8")
        .replace(/url: http:\/\/127\.0\.0\.1:\d+/, `url: ${url}`)
        .replace(/environment: [0-9a-f-]{36}/, `environment: ${environment}`)
        .replace(/port: 54329/, `port: ${pgPort}`);
    fs.writeFileSync(stackFile, edit(yaml));
    // the line's variables win over the caller's: a copy runs one line only
    const base: NodeJS.ProcessEnv = { ...process.env };
    for (const k of ["UPGRADE_INMANTA_PYTHON", "UPGRADE_PG_BINDIR", "UPGRADE_PG_CLIENT_BINDIR", "UPGRADE_INMANTA_VENV"]) delete base[k];
    Object.assign(base, line);
    // as scripts/inmanta/line.sh does for the lab: the steps' pg_dump and psql of the server's major
    if (line.UPGRADE_PG_CLIENT_BINDIR) base.PATH = `${line.UPGRADE_PG_CLIENT_BINDIR}:${base.PATH ?? ""}`;
    const env = { ...base, PULUMI_BACKEND_URL: "", CI: "true" };
    const inmantaDir = path.join(dir, ".lab", "inmanta");
    // What scripts/lab.sh sets up before `pulumi up`.
    const upEnv: NodeJS.ProcessEnv = {
        ...base, CI: "true",
        PULUMI_BACKEND_URL: `file://${path.join(dir, ".pulumi-state")}`,
        PULUMI_CONFIG_PASSPHRASE: process.env.PULUMI_CONFIG_PASSPHRASE ?? "upgrade-lab",
        UPGRADE_LAB_DIR: path.join(dir, ".lab"),
    };
    const stackPath = (name: string) => path.join(dir, "stacks", `Pulumi.${name}.yaml`);
    const readDoc = (name: string) => (fs.existsSync(stackPath(name))
        ? parse(fs.readFileSync(stackPath(name), "utf8")) ?? {} : {}) as { config?: Record<string, unknown>; encryptionsalt?: string };
    const writeStack = (name: string, config: StackConfig) => {
        const doc: Record<string, unknown> = {
            config: Object.fromEntries(Object.entries(config).filter(([, v]) => v !== undefined).map(([k, v]) => [`upgrade:${k}`, v])),
        };
        const salt = readDoc(name).encryptionsalt;
        if (salt) doc.encryptionsalt = salt;
        fs.writeFileSync(stackPath(name), stringify(doc));
    };
    const readStack = (name: string): StackConfig => Object.fromEntries(Object.entries(readDoc(name).config ?? {})
        .filter(([k]) => k.startsWith("upgrade:")).map(([k, v]) => [k.slice("upgrade:".length), v]));
    const script = (...p: string[]) => path.join(dir, "scripts", ...p);
    return {
        dir, url, environment, pgPort, inmantaDir, env: upEnv, inmantaVersion: line.INMANTA_VERSION,
        lab: (args = []) => execFileSync("bash", [path.join(dir, "scripts", "lab.sh"), ...args],
            { cwd: dir, env, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], maxBuffer: 64 * 1024 * 1024 }),
        down: () => {
            execFileSync("bash", [path.join(dir, "scripts", "inmanta", "lab.sh"), "down", path.join(dir, ".lab", "inmanta")], { stdio: "ignore", env });
        },
        psql: (sql: string) => execFileSync("bash", [path.join(dir, "scripts", "inmanta", "pg.sh"), "psql", path.join(dir, ".lab", "inmanta", "pg"),
            String(pgPort), "-X", "-A", "-t", "-c", sql], { encoding: "utf8", env }).trim(),

        tryLab: (args = []) => {
            const run: RunResult = runMerged(script("lab.sh"), args, { cwd: dir, env });
            const at = args.indexOf("--stack");
            try {
                run.results = stepResults(dir, upEnv, at >= 0 ? args[at + 1] : "lab");
            } catch { /* no state yet: the lab stopped before the stack existed */ }
            return keepLog(dir, `lab ${args.join(" ")}`, run);
        },
        up: (stack = "lab") => new Promise((resolve, reject) => {
            const started = Date.now();
            const child = spawn("bash", ["-c",
                `pulumi stack select --create "$0" --non-interactive >/dev/null && exec pulumi up --yes --non-interactive --skip-preview --stack "$0"`, stack],
            { cwd: dir, env: upEnv, stdio: ["ignore", "pipe", "pipe"] });
            let output = "";
            child.stdout.on("data", d => (output += d));
            child.stderr.on("data", d => (output += d));
            child.on("error", reject);
            child.on("close", code => {
                const seconds = (Date.now() - started) / 1000;
                let results: Record<string, Record<string, unknown>> | undefined;
                try {
                    results = stepResults(dir, upEnv, stack);
                } catch { /* no state yet: the run failed before the stack existed */ }
                resolve(keepLog(dir, `up ${stack}`, { status: code ?? 1, output, seconds, results }));
            });
        }),
        writeStack,
        readStack,
        editStack: (name, edit) => {
            const config = readStack(name);
            edit(config);
            writeStack(name, config);
        },
        stepResult: (stack, step) => stepResults(dir, upEnv, stack)[step],
        publish: (release: string) => {
            execFileSync("bash", [script("inmanta", "model-repo.sh"), path.join(inmantaDir, "repo"), release], { stdio: "ignore", env });
        },
        server: (action) => {
            const args = action === "start" ? [String(pgPort), String(httpPort)] : [];
            execFileSync("bash", [script("inmanta", "server.sh"), action, path.join(inmantaDir, "server"), ...args], { stdio: "ignore", env });
        },
        client: (env = environment) => new InmantaClient({ url, environment: env }),
        remove: () => {
            try {
                execFileSync("bash", [script("inmanta", "lab.sh"), "down", inmantaDir], { stdio: "ignore", env });
            } finally {
                if (!process.env.UPGRADE_KEEP_LAB) fs.rmSync(dir, { recursive: true, force: true });
            }
        },
    };
}

/** Ids of the steps the engine created in one run, in order. */
export function createdSteps(output: string): string[] {
    return [...output.matchAll(/command:local:Command (\S+) created/g)].map(m => m[1]);
}


/**
 * The JSON result of a step the engine created in this run, as the state holds it after the run
 * (step output streams as status messages, so the log does not repeat it).
 */
export function stepOutput(run: RunResult, step: string): Record<string, unknown> {
    if (!createdSteps(run.output).includes(step)) throw new Error(`step ${step} was not created in this run`);
    const result = run.results?.[step];
    if (!result) throw new Error(`step ${step} has no result in the state after this run`);
    return result;
}
