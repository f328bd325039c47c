import { ChildProcess, execFile, spawn } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

/**
 * A real Docker engine for the LSST bare-metal tests: Debian's dockerd (docker.io 20.10, installed by
 * scripts/docker/install.sh) started as a plain process with a data root, exec root and socket of its own,
 * and its own managed containerd. No bridge and no iptables: the lab's containers run with `network_mode: none`.
 * No registry can be reached, so the one image, lsst-lab/busybox:1, is built FROM scratch from Debian's
 * static busybox. Nothing of it outlives stop().
 */

const ROOT = path.join(__dirname, "..", "..");

/** Debian's binaries by their paths: /usr/local/bin/docker may be another client. */
export const DOCKER = "/usr/bin/docker";
const DOCKERD = "/usr/sbin/dockerd";
const BUSYBOX = "/bin/busybox";
const NEEDED = [DOCKERD, DOCKER, "/usr/bin/containerd", "/usr/sbin/runc", "/usr/bin/docker-compose", BUSYBOX];

/** The image every container of the lab runs. */
export const LAB_IMAGE = "lsst-lab/busybox:1";
/** The docker-compose-admin-shaped host folders (hosts/HOST) and the container scripts. */
export const BARE_METAL = path.join(ROOT, "lab", "lsst", "bare-metal");
/** `on-host HOST COMMAND...`: the lab's `ssh HOST COMMAND...`. */
export const ON_HOST = path.join(BARE_METAL, "on-host");

export interface DockerLabOptions {
    /** Where the lab's folder is made (default: the system's temporary folder; a socket path must stay short). */
    parent?: string;
    /** How long dockerd may take to answer (default 60 s). */
    startTimeoutMs?: number;
}

export interface DockerLab {
    /** The lab's folder: data-root, exec-root, socket, dockerd's log (dockerd.log). */
    dir: string;
    /** unix:///…/docker.sock */
    host: string;
    /** What a command needs to reach this engine (on-host and docker-compose read it). */
    env: { DOCKER_HOST: string };
    /** How long the engine took to answer and the image to build (seconds). */
    timings: { startSeconds: number; imageSeconds: number };
    /** Debian's docker client against this engine; resolves to its stdout, throws with its stderr. */
    docker(args: string[]): Promise<string>;
    /** Stops every container (stop -t 1), dockerd and its containerd, unmounts what they left, removes dir. */
    stop(): Promise<void>;
}

export interface HostRun {
    status: number;
    stdout: string;
    stderr: string;
}

/** `on-host HOST ARGS...` against the lab (its exit status is returned, never thrown: the scripts always exit 0). */
export function onHost(lab: Pick<DockerLab, "env">, host: string, args: string[], env: Record<string, string> = {},
    onHostScript = ON_HOST): Promise<HostRun> {
    return new Promise(resolve => {
        execFile(onHostScript, [host, ...args], { env: { ...process.env, ...lab.env, ...env }, maxBuffer: 16 << 20 },
            (err, stdout, stderr) => {
                const status = err ? (typeof (err as { code?: unknown }).code === "number" ? (err as { code: number }).code : 1) : 0;
                resolve({ status, stdout, stderr });
            });
    });
}

/**
 * Every container removed (the image stays), and with `volumes` every volume too, so that a test starts
 * from an empty engine: no old heartbeat file in a volume counts as a federation.
 */
export async function emptyEngine(lab: Pick<DockerLab, "docker">, o: { volumes: boolean }): Promise<void> {
    const ids = (await lab.docker(["ps", "-aq"])).split(/\s+/).filter(Boolean);
    if (ids.length) await lab.docker(["rm", "-f", ...ids]);
    if (!o.volumes) return;
    const volumes = (await lab.docker(["volume", "ls", "-q"])).split(/\s+/).filter(Boolean);
    if (volumes.length) await lab.docker(["volume", "rm", "-f", ...volumes]);
}

/** A container's state by `docker inspect -f {{.State.Running}}`: false when it is stopped or gone. */
export async function isRunning(lab: Pick<DockerLab, "docker">, container: string): Promise<boolean> {
    try {
        return (await lab.docker(["inspect", "-f", "{{.State.Running}}", container])).trim() === "true";
    } catch (e) {
        if (/No such object|No such container/.test(String(e))) return false;
        throw e;
    }
}

function run(file: string, args: string[], env: NodeJS.ProcessEnv): Promise<string> {
    return new Promise((resolve, reject) => {
        execFile(file, args, { env, maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
            if (err) reject(new Error(`${path.basename(file)} ${args.join(" ")} failed: ${(stderr || err.message).trim()}`));
            else resolve(stdout);
        });
    });
}

const sleep = (ms: number) => new Promise(r => setTimeout(r, ms));

function alive(pid: number): boolean {
    try {
        process.kill(pid, 0);
        return true;
    } catch {
        return false;
    }
}

async function waitGone(pid: number, ms: number): Promise<boolean> {
    for (const end = Date.now() + ms; Date.now() < end;) {
        if (!alive(pid)) return true;
        await sleep(100);
    }
    return !alive(pid);
}

/** Processes whose command line names the lab's folder: its containerd and shims (started by its dockerd). */
function processesOf(dir: string): number[] {
    const pids: number[] = [];
    for (const entry of fs.readdirSync("/proc")) {
        if (!/^\d+$/.test(entry) || Number(entry) === process.pid) continue;
        try {
            if (fs.readFileSync(`/proc/${entry}/cmdline`, "utf8").includes(dir)) pids.push(Number(entry));
        } catch {
            // gone meanwhile
        }
    }
    return pids;
}

/** Mount points under dir, deepest first (mountinfo's fifth field, octal escapes decoded). */
function mountsUnder(dir: string): string[] {
    return fs.readFileSync("/proc/self/mountinfo", "utf8").split("\n")
        .map(line => (line.split(" ")[4] || "").replace(/\\([0-7]{3})/g, (_, o) => String.fromCharCode(parseInt(o, 8))))
        .filter(mp => mp === dir || mp.startsWith(dir + "/"))
        .sort((a, b) => b.length - a.length);
}

function missingTools(): string[] {
    return NEEDED.filter(bin => {
        try {
            fs.accessSync(bin, fs.constants.X_OK);
            return false;
        } catch {
            return true;
        }
    });
}

export async function startDocker(opts: DockerLabOptions = {}): Promise<DockerLab> {
    const missing = missingTools();
    if (missing.length) {
        throw new Error(`the Docker lab needs ${missing.join(", ")}: run bash scripts/docker/install.sh (docker.io, docker-compose, busybox-static)`);
    }
    const dir = fs.mkdtempSync(path.join(opts.parent ?? os.tmpdir(), "lsst-docker-"));
    const sock = path.join(dir, "docker.sock");
    const host = `unix://${sock}`;
    const env = { ...process.env, DOCKER_HOST: host };
    const docker = (args: string[]) => run(DOCKER, args, env);
    // An empty configuration of its own: /etc/docker/daemon.json is the system's.
    fs.writeFileSync(path.join(dir, "daemon.json"), "{}\n");
    const log = fs.openSync(path.join(dir, "dockerd.log"), "a");
    const started = Date.now();
    const dockerd: ChildProcess = spawn(DOCKERD, [
        "--config-file", path.join(dir, "daemon.json"),
        "--data-root", path.join(dir, "data"),
        "--exec-root", path.join(dir, "exec"),
        "--pidfile", path.join(dir, "docker.pid"),
        "-H", host,
        "--iptables=false", "--ip-forward=false", "--ip-masq=false", "--bridge=none", "--userland-proxy=false",
        "--shutdown-timeout", "1",
        "--log-level", "warn",
    ], { stdio: ["ignore", log, log] });
    fs.closeSync(log);
    let exited: string | undefined;
    dockerd.on("exit", (code, signal) => { exited = `dockerd exited (${signal ?? code})`; });
    // A test run that ends without stop() must not leave the daemon behind.
    const onExit = () => { if (!exited && dockerd.pid) process.kill(dockerd.pid, "SIGKILL"); };
    process.on("exit", onExit);

    let stopped: Promise<void> | undefined;
    const stop = () => stopped ??= (async () => {
        process.removeListener("exit", onExit);
        if (!exited) {
            try {
                const ids = (await docker(["ps", "-aq"])).split(/\s+/).filter(Boolean);
                if (ids.length) {
                    await docker(["stop", "-t", "1", ...ids]).catch(() => undefined);
                    await docker(["rm", "-f", ...ids]).catch(() => undefined);
                }
            } catch {
                // the engine does not answer: it is killed below
            }
            dockerd.kill("SIGTERM");
            if (!(await waitGone(dockerd.pid!, 20000))) dockerd.kill("SIGKILL");
            await waitGone(dockerd.pid!, 5000);
        }
        // Its managed containerd and any shim left: processes the lab's dockerd started, by their ids.
        for (const pid of processesOf(dir)) {
            try { process.kill(pid, "SIGKILL"); } catch { /* gone */ }
        }
        for (const pid of processesOf(dir)) await waitGone(pid, 5000);
        for (const mp of mountsUnder(dir)) {
            await run("umount", [mp], process.env).catch(() => run("umount", ["-l", mp], process.env));
        }
        fs.rmSync(dir, { recursive: true, force: true });
    })();

    try {
        for (const end = Date.now() + (opts.startTimeoutMs ?? 60000); ;) {
            if (exited) throw new Error(exited);
            try {
                await docker(["version", "--format", "{{.Server.Version}}"]);
                break;
            } catch (e) {
                if (Date.now() > end) throw e;
                await sleep(100);
            }
        }
        const startSeconds = (Date.now() - started) / 1000;
        const imageSeconds = await buildImage(dir, docker);
        return { dir, host, env: { DOCKER_HOST: host }, timings: { startSeconds, imageSeconds }, docker, stop };
    } catch (e) {
        const tail = fs.readFileSync(path.join(dir, "dockerd.log"), "utf8").split("\n").slice(-15).join("\n");
        await stop();
        throw new Error(`the Docker lab did not start: ${(e as Error).message}\ndockerd.log:\n${tail}`);
    }
}

/** lsst-lab/busybox:1: /bin/busybox and its applets, FROM scratch (the build's RUN has no network). */
async function buildImage(dir: string, docker: (args: string[]) => Promise<string>): Promise<number> {
    const started = Date.now();
    const context = path.join(dir, "image");
    fs.mkdirSync(path.join(context, "bin"), { recursive: true });
    fs.copyFileSync(BUSYBOX, path.join(context, "bin", "busybox"));
    fs.chmodSync(path.join(context, "bin", "busybox"), 0o755);
    fs.writeFileSync(path.join(context, "Dockerfile"), [
        "FROM scratch",
        "COPY bin/busybox /bin/busybox",
        'RUN ["/bin/busybox", "--install", "-s", "/bin"]',
        'CMD ["/bin/sh"]',
        "",
    ].join("\n"));
    await docker(["build", "--network", "none", "-q", "-t", LAB_IMAGE, context]);
    fs.rmSync(context, { recursive: true, force: true });
    return (Date.now() - started) / 1000;
}
