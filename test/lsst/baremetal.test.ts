import { strict as assert } from "assert";
import { execFile } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { shellQuote } from "../../components/core/shell-quote";
import { BARE_METAL, DockerLab, emptyEngine, HostRun, isRunning, LAB_IMAGE, ON_HOST, onHost, startDocker } from "../support/docker-lab";
import { runLsstStep, tmpDir } from "./support";

/*
 * The LSST bare metal as the sites run it, on a real Docker engine (Debian's dockerd, started by the test):
 * docker-compose-admin's per-host scripts (lsst-ts/docker-compose-admin, e.g. tucson_teststand/tel-hw1/
 * launch_daemon, shutdown_daemon, launch_atmcs_atp, tucson_teststand/love1/shutdown_love) run
 * `docker compose up -d <service>` / `docker compose down` in a per-host folder and end with `cd ~/`, so they
 * exit 0 whatever happened: only the containers' state says what they did.
 */

const FEDERATIONS = /federations\D*(\d+)/g;
const sleep = (ms: number) => new Promise(r => setTimeout(r, ms));

/** Poll until `check` returns a value (not undefined); at the timeout fail with what was last seen. */
async function waitFor<T>(what: string, check: () => Promise<T | undefined>, timeoutMs = 30000): Promise<T> {
    let last: unknown;
    for (const end = Date.now() + timeoutMs; Date.now() < end; await sleep(200)) {
        try {
            const v = await check();
            if (v !== undefined) return v;
        } catch (e) {
            last = e;
        }
    }
    throw new Error(`timed out waiting for ${what}${last ? ` (last: ${String(last)})` : ""}`);
}

/** Every count the main daemon's durability.log holds, in order, read as a stack reads it (through on-host). */
async function federationCounts(lab: DockerLab): Promise<number[]> {
    const r = await onHost(lab, "azar01", ["docker", "exec", "ospl-daemon", "grep", "federations", "durability.log"]);
    if (r.status !== 0) throw new Error(`grep federations exited ${r.status}: ${r.stderr}`);
    return [...r.stdout.matchAll(FEDERATIONS)].map(m => Number(m[1]));
}

const lastCount = (counts: number[]) => counts[counts.length - 1];

async function launch(lab: DockerLab, host: string, script: string, env: Record<string, string> = {}): Promise<HostRun> {
    const r = await onHost(lab, host, [`./${script}`], env);
    assert.equal(r.status, 0, `${host} ./${script}: ${r.stderr}`);
    return r;
}

async function names(lab: DockerLab): Promise<string[]> {
    return (await lab.docker(["ps", "--format", "{{.Names}}"])).split("\n").filter(Boolean).sort();
}

describe("LSST bare metal on a real Docker engine (docker-compose-admin scripts)", function () {
    this.timeout(120000);
    let lab: DockerLab;

    before(async function () {
        lab = await startDocker();
    });
    after(async function () {
        await lab?.stop();
    });
    afterEach(async function () {
        // Each test starts from an engine without containers (the image stays).
        await emptyEngine(lab, { volumes: false });
    });

    it("builds the lab's image FROM scratch with Debian's static busybox, and runs it without a network", async () => {
        const out = await lab.docker(["run", "--rm", "--network", "none", LAB_IMAGE, "sh", "-c", "busybox | head -1; echo $((6 * 7))"]);
        assert.match(out, /^BusyBox v\d/);
        assert.match(out, /\n42\n$/);
        assert.equal((await lab.docker(["image", "inspect", "-f", "{{len .RootFS.Layers}}", LAB_IMAGE])).trim(), "2");
    });

    it("launch_* scripts start real containers and shutdown_* scripts remove them (TTS hosts)", async () => {
        await launch(lab, "azar01", "launch_daemon");
        await launch(lab, "tts-dm-ocs", "launch_daemon");
        await launch(lab, "love01", "launch_daemon");
        await launch(lab, "love01", "launch_love");
        await launch(lab, "tel-hw1", "launch_atmcs_atp");
        const all = ["love01-love", "love01-ospl-daemon", "ospl-daemon", "tel-hw1-atmcs-sim", "tel-hw1-atpneumatics-sim", "tts-dm-ocs-ospl-daemon"];
        assert.deepEqual(await names(lab), all);
        // Each host folder is a compose project of its own: its `down` takes only its own containers.
        const project = async (c: string) => (await lab.docker(["inspect", "-f", '{{index .Config.Labels "com.docker.compose.project"}}', c])).trim();
        assert.equal(await project("ospl-daemon"), "azar01-support");
        assert.equal(await project("love01-love"), "love01-love");
        assert.equal(await project("tel-hw1-atmcs-sim"), "tel-hw1-at");
        // A PID 1 of docker's own (tini) passes SIGTERM on: `docker stop` need not wait for its kill.
        for (const c of all) assert.equal((await lab.docker(["inspect", "-f", "{{.HostConfig.Init}}", c])).trim(), "true", c);

        await launch(lab, "love01", "shutdown_love");
        assert.deepEqual(await names(lab), all.filter(c => c !== "love01-love"));
        await launch(lab, "tel-hw1", "shutdown_atmcs_atp");
        await launch(lab, "tts-dm-ocs", "shutdown_daemon");
        await launch(lab, "love01", "shutdown_daemon");
        assert.deepEqual(await names(lab), ["ospl-daemon"]);
        await launch(lab, "azar01", "shutdown_daemon");
        assert.deepEqual(await names(lab), []);
        for (const c of all) assert.equal(await isRunning(lab, c), false, c);
    });

    it("launch_atmcs_atp starts only the CSC it is given, as upstream's does", async () => {
        const r = await onHost(lab, "tel-hw1", ["./launch_atmcs_atp", "atmcs-sim"]);
        assert.equal(r.status, 0, r.stderr);
        assert.deepEqual(await names(lab), ["tel-hw1-atmcs-sim"]);
    });

    it("a shutdown script that exits 0 without stopping anything is caught by the container's state, not its status", async () => {
        await launch(lab, "tel-hw1", "launch_atmcs_atp");
        // The engine cannot be reached from the host: docker-compose fails, the script still exits 0.
        const unreachable = await onHost(lab, "tel-hw1", ["./shutdown_atmcs_atp"], { DOCKER_HOST: `unix://${lab.dir}/no-such.sock` });
        assert.equal(unreachable.status, 0);
        assert.match(unreachable.stderr, /Couldn't connect to Docker daemon|Error while fetching server API version/);
        assert.equal(await isRunning(lab, "tel-hw1-atmcs-sim"), true);
        assert.equal(await isRunning(lab, "tel-hw1-atpneumatics-sim"), true);

        // A stale checkout: the compose folder the script enters is not there.
        const copy = tmpDir("lsst-bare-metal-");
        try {
            fs.cpSync(BARE_METAL, copy, { recursive: true });
            fs.renameSync(path.join(copy, "hosts", "tel-hw1", "AT"), path.join(copy, "hosts", "tel-hw1", "AT.old"));
            const stale = await onHost(lab, "tel-hw1", ["./shutdown_atmcs_atp"], {}, path.join(copy, "on-host"));
            assert.equal(stale.status, 0);
            assert.match(stale.stderr, /cd: AT: No such file or directory/);
            assert.match(stale.stderr, /Can't find a suitable configuration file/);
        } finally {
            fs.rmSync(copy, { recursive: true, force: true });
        }
        assert.equal(await isRunning(lab, "tel-hw1-atmcs-sim"), true);

        // The probe a stack uses, through on-host: "true" while it runs; gone after a shutdown that worked.
        const probe = () => onHost(lab, "tel-hw1", ["docker", "inspect", "-f", "{{.State.Running}}", "tel-hw1-atmcs-sim"]);
        assert.equal((await probe()).stdout.trim(), "true");
        await launch(lab, "tel-hw1", "shutdown_atmcs_atp");
        const after = await probe();
        assert.notEqual(after.status, 0);
        assert.match(after.stderr, /No such object: tel-hw1-atmcs-sim/);
    });

    it("\"daemon ready\" comes from docker logs of the main daemon, after its start-up lines", async () => {
        await launch(lab, "azar01", "launch_daemon", { OSPL_READY_AFTER: "1" });
        const log = await waitFor("daemon ready", async () => {
            const r = await onHost(lab, "azar01", ["docker", "logs", "ospl-daemon"]);
            return /daemon ready/.test(r.stdout) ? r.stdout : undefined;
        });
        assert.deepEqual(log.split("\n").filter(Boolean).map(l => l.replace(/^\S+ /, "")),
            ["ospl: starting the OpenSplice daemon (domain 0)", "ospl: loading ospl.xml", "ospl: daemon ready"]);

        // The procedure's own gate on the stack's command passes on it.
        const r = await runLsstStep("probe-gate", {
            what: "the main OSPL daemon is ready", timeoutSeconds: 30,
            probe: { type: "log", command: `${shellQuote(ON_HOST)} 'azar01' docker logs ospl-daemon`, pattern: "daemon ready" },
        }, lab.env).result;
        assert.equal(r.ready, true);
    });

    it("the federations count goes up as per-machine daemons start and down to 0 as they stop", async () => {
        await launch(lab, "azar01", "launch_daemon", { OSPL_READY_AFTER: "0" });
        await waitFor("the first federations line", async () => (await federationCounts(lab)).length ? true : undefined);
        assert.deepEqual(await federationCounts(lab), [0]);
        for (const host of ["tts-dm-ocs", "tts-camera-ocs", "love01"]) await launch(lab, host, "launch_daemon");
        await waitFor("3 federations", async () => lastCount(await federationCounts(lab)) === 3 ? true : undefined);

        // 4.1: the DM and Camera daemons shut down, then LOVE's; each time the main daemon counts one fewer.
        for (const [host, left] of [["tts-dm-ocs", 2], ["tts-camera-ocs", 1], ["love01", 0]] as const) {
            await launch(lab, host, "shutdown_daemon");
            assert.equal(await isRunning(lab, `${host}-ospl-daemon`), false, host);
            await waitFor(`${left} federations`, async () => lastCount(await federationCounts(lab)) === left ? true : undefined);
        }
        const counts = await federationCounts(lab);
        assert.deepEqual(counts.slice(counts.lastIndexOf(3)), [3, 2, 1, 0]);
        assert.equal(await isRunning(lab, "ospl-daemon"), true);
    });

    it("the procedure's federations gate waits on the real daemons until they are gone", async () => {
        await launch(lab, "azar01", "launch_daemon", { OSPL_READY_AFTER: "0" });
        await launch(lab, "tts-dm-ocs", "launch_daemon");
        await waitFor("1 federation", async () => lastCount(await federationCounts(lab)) === 1 ? true : undefined);
        const gate = runLsstStep("probe-gate", {
            what: "all daemons have disconnected", timeoutSeconds: 60,
            probe: {
                type: "count", counts: "federations", equals: 0, pattern: "federations\\D*(\\d+)",
                command: `${shellQuote(ON_HOST)} 'azar01' docker exec ospl-daemon grep federations durability.log`,
            },
        }, lab.env);
        let passed = false;
        void gate.result.then(() => { passed = true; }, () => undefined);
        const seen = () => gate.logs.filter(l => /^\[t-probe-gate\] t-probe-gate: \d+ federations/.test(l));
        await waitFor("the gate to have read 1 federation", async () => seen().length ? true : undefined)
            .catch(e => { throw new Error(`${e.message}; the gate logged: ${gate.logs.join(" / ")}`); });
        assert.equal(passed, false, gate.logs.join("\n"));
        await launch(lab, "tts-dm-ocs", "shutdown_daemon");
        const r = await gate.result;
        assert.equal(r.ready, true, JSON.stringify(r));
        assert.deepEqual(seen(), ["[t-probe-gate] t-probe-gate: 1 federations (waiting for 0)", "[t-probe-gate] t-probe-gate: 0 federations"]);
    });

    it("a killed per-machine daemon stops counting once its heartbeat is stale", async () => {
        await launch(lab, "azar01", "launch_daemon", { OSPL_READY_AFTER: "0" });
        await launch(lab, "auxtel-mcm", "launch_daemon");
        await waitFor("1 federation", async () => lastCount(await federationCounts(lab)) === 1 ? true : undefined);
        await lab.docker(["kill", "auxtel-mcm-ospl-daemon"]);
        await waitFor("0 federations", async () => lastCount(await federationCounts(lab)) === 0 ? true : undefined, 60000);
    });

    it("a daemon off the lab's hosts (a Kubernetes node's) joins and leaves the federations as a container of its own", async () => {
        const federation = (args: string[]) => new Promise<HostRun>(resolve => execFile(path.join(BARE_METAL, "federation"), args,
            { env: { ...process.env, ...lab.env } }, (err, stdout, stderr) => resolve({ status: err ? Number(err.code ?? 1) : 0, stdout, stderr })));
        await launch(lab, "azar01", "launch_daemon", { OSPL_READY_AFTER: "0" });
        assert.equal((await federation(["join", "k8s-node1"])).status, 0);
        assert.equal((await federation(["join", "k8s-node2"])).status, 0);
        await waitFor("2 federations", async () => lastCount(await federationCounts(lab)) === 2 ? true : undefined);
        assert.equal(await isRunning(lab, "federation-k8s-node1"), true);
        assert.equal((await federation(["leave", "k8s-node1"])).status, 0);
        await waitFor("1 federation", async () => lastCount(await federationCounts(lab)) === 1 ? true : undefined);
        assert.equal(await isRunning(lab, "federation-k8s-node1"), false);
        assert.equal(await isRunning(lab, "federation-k8s-node2"), true);
        const bad = await federation(["join", "x; touch /tmp/y"]);
        assert.equal(bad.status, 2);
        assert.match(bad.stderr, /^federation: not a daemon name: 'x; touch \/tmp\/y'/);
    });

    it("on-host runs its arguments without a shell and refuses hosts it does not have, exiting 255 as ssh does", async () => {
        const literal = await onHost(lab, "azar01", ["echo", "$(id -u);", "`id`", "'x'"]);
        assert.deepEqual(literal, { status: 0, stdout: "$(id -u); `id` 'x'\n", stderr: "" });
        const home = await onHost(lab, "love01", ["sh", "-c", 'pwd; echo "$HOME"; ls']);
        assert.deepEqual(home.stdout.split("\n").filter(Boolean).map(l => l.replace(BARE_METAL, "<bare-metal>")), [
            "<bare-metal>/hosts/love01", "<bare-metal>/hosts/love01",
            "launch_daemon", "launch_love", "love", "shutdown_daemon", "shutdown_love", "support",
        ]);
        for (const host of ["nohost", "../hosts/azar01", "azar01; touch /tmp/x", ".", ""]) {
            const r = await onHost(lab, host, ["true"]);
            assert.equal(r.status, 255, host);
            assert.match(r.stderr, /^on-host: no such host: /, host);
        }
        const noEngine = await onHost({ env: { DOCKER_HOST: "" } }, "azar01", ["true"]);
        assert.equal(noEngine.status, 255);
        assert.match(noEngine.stderr, /DOCKER_HOST is not set/);
    });
});

describe("the Docker lab's engine", function () {
    this.timeout(120000);

    it("leaves no process, mount or folder behind once stopped, even with containers running", async () => {
        const lab = await startDocker();
        try {
            await launch(lab, "azar03", "launch_daemon");
            await launch(lab, "azar03", "launch_gc");
            assert.deepEqual(await names(lab), ["azar03-gc", "ospl-daemon"]);
        } finally {
            await lab.stop();
        }
        const procs = fs.readdirSync("/proc").filter(p => /^\d+$/.test(p)).filter(p => {
            try { return fs.readFileSync(`/proc/${p}/cmdline`, "utf8").includes(lab.dir); } catch { return false; }
        });
        assert.deepEqual(procs, []);
        assert.deepEqual(fs.readFileSync("/proc/self/mountinfo", "utf8").split("\n").filter(l => l.includes(lab.dir)), []);
        assert.equal(fs.existsSync(lab.dir), false);
    });
});
