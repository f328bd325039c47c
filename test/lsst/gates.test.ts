import { strict as assert } from "assert";
import { ChildProcess, spawn, spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { runnerEnvironment } from "../../components/core/step-env";
import { containerGate } from "../../components/lsst/steps";
import { load } from "../support/configs";
import { FAKE_DAEMON, FakeCscs, failureOf, lsstRaw, ROOT, runLsstStep, tmpDir } from "./support";

const daemons: ChildProcess[] = [];

/** Start the stand-in main OSPL daemon: a real process that writes its logs late. */
function startDaemon(dir: string, args: string[]): void {
    const p = spawn(process.execPath, [FAKE_DAEMON, "--dir", dir, ...args], { stdio: "ignore" });
    daemons.push(p);
}

afterEach(() => {
    while (daemons.length) daemons.pop()!.kill("SIGKILL");
});

const logProbe = (dir: string) => ({ type: "log", command: `cat '${dir}/ospl-daemon.log'`, pattern: "daemon ready" });
const federations = (dir: string, goal: Record<string, number>) => ({
    type: "count", command: `grep federations '${dir}/durability.log'`, pattern: "federations\\D*(\\d+)", counts: "federations", ...goal,
});

describe("LSST gates and probes, with real processes", function () {
    this.timeout(60000);

    // How soon the end is noticed is a figure of `npm run bench`, not an assertion here (a busy machine must not fail).
    it("waits for a daemon that says \"daemon ready\" late, and passes once it does", async () => {
        const dir = tmpDir("lsst-daemon-");
        const t0 = Date.now();
        startDaemon(dir, ["--ready-after", "2000"]);
        const s = runLsstStep("probe-gate", { what: "the main OSPL daemon is ready", probe: logProbe(dir), timeoutSeconds: 20 });
        const r = await s.result;
        const waited = Date.now() - t0;
        assert.equal(r.ready, true);
        assert.match(String(r.state), /found ".*daemon ready"/);
        assert.ok(waited >= 2000, `passed after ${waited} ms, before the daemon was ready`);
        assert.ok(s.logs.some(l => /no line matching \/daemon ready\/ yet/.test(l)), s.logs.join("\n"));
    });

    it("times out on a daemon that never gets ready, naming what it waited for and what it saw", async () => {
        const dir = tmpDir("lsst-daemon-");
        startDaemon(dir, ["--never-ready"]);
        const t0 = Date.now();
        const message = await failureOf(runLsstStep("probe-gate", { what: "the main OSPL daemon is ready", probe: logProbe(dir), timeoutSeconds: 2 }).result);
        const waited = Date.now() - t0;
        assert.ok(waited >= 2000, `gave up after ${waited} ms, before its timeout`);
        assert.match(message, /^timed out after 2 s waiting until the main OSPL daemon is ready: no line matching \/daemon ready\/ yet \(last line: ".*loading ospl\.xml"\)/);
        assert.match(message, /probe: `cat '.*ospl-daemon\.log'` has a line matching \/daemon ready\//);
    });

    it("a probe command that fails keeps the gate closed and is named (the container is not there yet)", async () => {
        const dir = tmpDir("lsst-daemon-");
        const message = await failureOf(runLsstStep("probe-gate", { what: "the main OSPL daemon is ready", probe: logProbe(dir), timeoutSeconds: 1 }).result);
        assert.match(message, /`cat '.*ospl-daemon\.log'` exited 1: cat: .*No such file or directory/);
    });

    it("waits for the federations count to reach 0 late, logging each change", async () => {
        const dir = tmpDir("lsst-daemon-");
        startDaemon(dir, ["--federations", "3,2,1,0", "--step-ms", "600"]);
        const s = runLsstStep("probe-gate", { what: "all daemons have disconnected", probe: federations(dir, { equals: 0 }), timeoutSeconds: 20, warnAfterSeconds: 30 });
        const r = await s.result;
        assert.equal(r.ready, true);
        assert.equal(r.count, 0);
        assert.ok(Number(r.elapsedSeconds) >= 1.7, `passed after ${r.elapsedSeconds} s, before the count reached 0`);
        // Each count the gate saw is logged once, going down to 0 (a busy machine may poll past one).
        const seen = s.logs.map(l => /: (\d) federations/.exec(l)?.[1]).filter((x): x is string => !!x).map(Number);
        assert.equal(seen[seen.length - 1], 0, s.logs.join("\n"));
        assert.ok(seen.length >= 2 && seen.every((n, i) => i === 0 || n < seen[i - 1]), s.logs.join("\n"));
        assert.ok(!s.logs.some(l => /still not ready/.test(l)), "no warning: the count went down within the patience");
    });

    it("gives up on a count that never reaches 0, after warning at the seed's first patience mark", async () => {
        const dir = tmpDir("lsst-daemon-");
        startDaemon(dir, ["--federations", "3,2,2", "--step-ms", "200"]);
        const s = runLsstStep("probe-gate", { what: "all daemons have disconnected", probe: federations(dir, { equals: 0 }), timeoutSeconds: 3, warnAfterSeconds: 1 });
        const message = await failureOf(s.result);
        assert.match(message, /^timed out after 3 s waiting until all daemons have disconnected: 2 federations \(waiting for 0\)/);
        assert.match(message, /probe: the number of federations reaches 0 \(`grep federations .*durability\.log'`\)/);
        const warning = s.logs.find(l => /still not ready after 1 s/.test(l));
        assert.ok(warning, s.logs.join("\n"));
        assert.match(warning!, /2 federations/);
    });

    it("a count going down below the number noted before passes; one that stays does not", async () => {
        const dir = tmpDir("lsst-daemon-");
        startDaemon(dir, ["--federations", "9", "--step-ms", "100"]);
        await new Promise(r => setTimeout(r, 300));
        const noted = await runLsstStep("probe", { what: "the number of federations", probe: federations(dir, {}) }).result;
        assert.equal(noted.count, 9);
        const stays = await failureOf(runLsstStep("probe-gate", { what: "the number of federations went down", probe: federations(dir, { below: 9 }), timeoutSeconds: 1 }).result);
        assert.match(stays, /9 federations \(waiting for fewer than 9\)/);
        fs.appendFileSync(path.join(dir, "durability.log"), "x durability: Number of connected federations: 4\n");
        const r = await runLsstStep("probe-gate", { what: "the number of federations went down", probe: federations(dir, { below: 9 }), timeoutSeconds: 5 }).result;
        assert.equal(r.count, 4);
    });

    it("probes again and again until its timeout (the schedule itself: test/backoff.test.ts)", async () => {
        const dir = tmpDir("lsst-poll-");
        const stamps = path.join(dir, "stamps");
        const probe = { type: "exit", command: `node -e 'require("fs").appendFileSync(process.argv[1], Date.now() + "\\n")' '${stamps}'; exit 1`, exitCode: 0 };
        const message = await failureOf(runLsstStep("probe-gate", { what: "never", probe, timeoutSeconds: 3 }).result);
        assert.match(message, /^timed out after 3 s waiting until never/);
        const t = fs.readFileSync(stamps, "utf8").trim().split("\n").map(Number);
        assert.ok(t.length >= 3, `probed ${t.length} times`);
        assert.ok(t[t.length - 1] - t[0] >= 1500, "the probes spread over the wait, not all at once");
    });

    it("an exit-status probe passes once the command succeeds", async () => {
        const dir = tmpDir("lsst-exit-");
        setTimeout(() => fs.writeFileSync(path.join(dir, "flag"), "x"), 800);
        const r = await runLsstStep("probe-gate", { what: "the flag is there", probe: { type: "exit", command: `test -e '${dir}/flag'`, exitCode: 0 }, timeoutSeconds: 5 }).result;
        assert.equal(r.ready, true);
        assert.ok(Number(r.elapsedSeconds) >= 0.7);
    });
});

// lsst-ts/docker-compose-admin: the launch/shutdown scripts end with `cd ~/`, so they exit 0 whatever docker
// did; the gate after each reads the containers' state (docker inspect, as the default lsst.bareMetal.probe).
describe("LSST bare-metal gates: a script's effect read from its containers", function () {
    this.timeout(60000);

    /** `ssh <host> <command>` runs the command here; `docker inspect -f … <name>` prints <dir>/<name> or fails as docker does. */
    function machine(): { dir: string; env: Record<string, string>; set(container: string, state?: string): void } {
        const dir = tmpDir("lsst-machine-");
        fs.writeFileSync(path.join(dir, "ssh"), "#!/bin/bash\n[ -e \"$STUB_DIR/down\" ] && { echo \"ssh: connect to host $1 port 22: Connection refused\" >&2; exit 255; }\nshift\nexec bash -c \"$*\"\n", { mode: 0o755 });
        fs.writeFileSync(path.join(dir, "docker"), "#!/bin/bash\nname=${@: -1}\n[ -e \"$STUB_DIR/c-$name\" ] || { echo \"Error: No such object: $name\" >&2; exit 1; }\ncat \"$STUB_DIR/c-$name\"\n", { mode: 0o755 });
        return {
            dir,
            env: { STUB_DIR: dir, PATH: `${dir}:${process.env.PATH}` },
            set: (container, state) => state === undefined ? fs.rmSync(path.join(dir, `c-${container}`), { force: true })
                : fs.writeFileSync(path.join(dir, `c-${container}`), `${state}\n`),
        };
    }
    const c = load(lsstRaw("tts")).lsst!;
    const gateOf = (state: "running" | "stopped") => {
        const def = containerGate(c, "tel-hw1", "atmcs-atp", ["atmcs-sim", "atpneumatics-sim"], state);
        return { what: def.params!.what, probe: def.params!.probe, timeoutSeconds: 5 };
    };

    it("waits until every container of a started service is running", async () => {
        const m = machine();
        m.set("atmcs-sim", "true");
        setTimeout(() => m.set("atpneumatics-sim", "false"), 300);
        setTimeout(() => m.set("atpneumatics-sim", "true"), 1200);
        const s = runLsstStep("probe-gate", gateOf("running"), m.env);
        const r = await s.result;
        assert.equal(r.count, 2);
        assert.ok(Number(r.elapsedSeconds) >= 1.1, `passed after ${r.elapsedSeconds} s, before both were running`);
        assert.ok(s.logs.some(l => /1 containers of atmcs-atp on tel-hw1 running \(waiting for 2\)/.test(l)), s.logs.join("\n"));
    });

    it("a stopped service: its containers gone (docker compose down) or exited; a machine that cannot be reached proves nothing", async () => {
        const m = machine();
        m.set("atmcs-sim", "false");
        assert.equal((await runLsstStep("probe-gate", gateOf("stopped"), m.env).result).count, 2, "one exited, one removed");
        fs.writeFileSync(path.join(m.dir, "down"), "");
        const message = await failureOf(runLsstStep("probe-gate", { ...gateOf("stopped"), timeoutSeconds: 1 }, m.env).result);
        assert.match(message, /^timed out after 1 s waiting until atmcs-atp on tel-hw1 is down \(atmcs-sim, atpneumatics-sim stopped\): 0 containers of atmcs-atp on tel-hw1 stopped \(waiting for 2\)/);
        fs.rmSync(path.join(m.dir, "down"));
        m.set("atpneumatics-sim", "true");
        assert.match(await failureOf(runLsstStep("probe-gate", { ...gateOf("stopped"), timeoutSeconds: 1 }, m.env).result),
            /1 containers of atmcs-atp on tel-hw1 stopped \(waiting for 2\)/, "a container still running keeps the gate closed");
    });
});

describe("LSST CSC states, with stand-in CSCs", function () {
    this.timeout(60000);

    const params = (f: FakeCscs, csc: string, target: string, accept: string[], timeoutSeconds = 10) => ({
        csc, target, accept, timeoutSeconds,
        command: f.stateCommand.replace("{csc}", csc).replace("{state}", target),
        probe: f.stateProbe.replace("{csc}", csc),
    });

    it("sends a CSC to OFFLINE and waits until it reports it", async () => {
        const f = new FakeCscs({ ATDome: { state: "ENABLED", delayMs: 700 } });
        const r = await runLsstStep("csc-state", params(f, "ATDome", "OFFLINE", ["OFFLINE"]), f.env).result;
        assert.deepEqual([r.state, r.sent], ["OFFLINE", true]);
        assert.ok(Number(r.elapsedSeconds) >= 0.6);
        assert.deepEqual(f.commands(), ["set ATDome OFFLINE"]);
    });

    it("accepts STANDBY from a CSC that stops there, and a heartbeat gate confirms it stopped", async () => {
        const f = new FakeCscs({ MTM1M3: { state: "ENABLED", delayMs: 200, stopsAt: "STANDBY", heartbeatStopsAfterMs: 1200 } });
        const r = await runLsstStep("csc-state", params(f, "MTM1M3", "OFFLINE", ["STANDBY", "OFFLINE"]), f.env).result;
        assert.equal(r.state, "STANDBY");
        const t0 = Date.now();
        const hb = await runLsstStep("probe-gate", {
            what: "MTM1M3 has stopped sending heartbeats", timeoutSeconds: 10,
            probe: { type: "count", command: `${f.heartbeatProbe.replace("{csc}", "MTM1M3")}`, pattern: "(\\d+)\\s*$", counts: "heartbeats of MTM1M3", equals: 0 },
        }, f.env).result;
        assert.equal(hb.count, 0);
        assert.ok(Date.now() - t0 >= 700, "the gate waited for the heartbeats to stop");
    });

    it("a CSC already in the state is left alone (a resumed run sends nothing)", async () => {
        const f = new FakeCscs({ Watcher: { state: "OFFLINE" } });
        const r = await runLsstStep("csc-state", params(f, "Watcher", "OFFLINE", ["OFFLINE"]), f.env).result;
        assert.equal(r.sent, false);
        assert.deepEqual(f.commands(), []);
    });

    it("a rejected command and a CSC that never gets there fail with the CSC and what it reports", async () => {
        const f = new FakeCscs({ ATDome: { state: "ENABLED", reject: true }, MTMount: { state: "DISABLED", stuck: true } });
        const rejected = await failureOf(runLsstStep("csc-state", params(f, "ATDome", "OFFLINE", ["OFFLINE"]), f.env).result);
        assert.match(rejected, /^cannot send ATDome to OFFLINE: `.*fake-csc\.js set ATDome OFFLINE` exited 1: fake-csc: ATDome rejected the command: ack=FAILED/);
        const stuck = await failureOf(runLsstStep("csc-state", params(f, "MTMount", "OFFLINE", ["OFFLINE"], 2), f.env).result);
        assert.match(stuck, /^MTMount did not reach OFFLINE within 2 s after `.*set MTMount OFFLINE`: it reports DISABLED$/);
    });

    it("the monitoring gate names the stragglers: reported (the seed), or failing when asked", async () => {
        const f = new FakeCscs({
            ATDome: { state: "STANDBY" }, Watcher: { state: "OFFLINE" }, MTM1M3: { state: "FAULT" }, MTMount: { state: "STANDBY", mute: true },
        });
        const probe = { type: "states", command: f.stateProbe, systems: ["ATDome", "Watcher", "MTM1M3", "MTMount"], accept: ["STANDBY", "OFFLINE"] };
        const s = runLsstStep("probe-gate", { what: "all systems are in STANDBY or OFFLINE", probe, timeoutSeconds: 2, onTimeout: "report" }, f.env);
        const r = await s.result;
        assert.equal(r.ready, false);
        assert.deepEqual((r.notReady as string[]).map(x => x.split(" ")[0]), ["MTM1M3", "MTMount"]);
        assert.match((r.notReady as string[])[0], /^MTM1M3 \(FAULT\)$/);
        assert.match((r.notReady as string[])[1], /^MTMount \(no answer: .*does not answer\)$/);
        assert.ok(s.logs.some(l => /going on as configured/.test(l)));
        const failed = await failureOf(runLsstStep("probe-gate", { what: "all systems are in STANDBY or OFFLINE", probe, timeoutSeconds: 1 }, f.env).result);
        assert.match(failed, /waiting until all systems are in STANDBY or OFFLINE: 2\/4 systems in STANDBY\/OFFLINE\n  not ready: MTM1M3 \(FAULT\), MTMount \(no answer/);
        f.set("MTM1M3", { state: "STANDBY" });
        f.set("MTMount", { state: "OFFLINE" });
        const ok = await runLsstStep("probe-gate", { what: "all systems are in STANDBY or OFFLINE", probe, timeoutSeconds: 5, onTimeout: "report" }, f.env).result;
        assert.deepEqual([ok.ready, ok.notReady], [true, []]);
    });
});

describe("LSST steps through the real step runner (bin/step.js)", function () {
    this.timeout(60000);

    const stepJs = (kind: string, params: Record<string, unknown>) => spawnSync(process.execPath, [path.join(ROOT, "bin/step.js"), kind, `cli-${kind}`], {
        cwd: ROOT, encoding: "utf8", env: { ...process.env, ...runnerEnvironment({ id: `cli-${kind}`, kind, params }) },
    });

    it("prints one JSON result on stdout and logs on stderr; a closed gate exits 1 with its message", () => {
        const dir = tmpDir("lsst-cli-");
        fs.writeFileSync(path.join(dir, "durability.log"), "t durability: Number of connected federations: 0\n");
        const ok = stepJs("probe-gate", { what: "all daemons have disconnected", probe: federations(dir, { equals: 0 }), timeoutSeconds: 5 });
        assert.equal(ok.status, 0, ok.stderr);
        assert.deepEqual(Object.keys(JSON.parse(ok.stdout)).slice(0, 2), ["ready", "notReady"]);
        assert.equal(JSON.parse(ok.stdout).count, 0);
        assert.match(ok.stderr, /\[cli-probe-gate\] waiting up to 5 s until all daemons have disconnected/);
        fs.writeFileSync(path.join(dir, "durability.log"), "t durability: Number of connected federations: 2\n");
        const closed = stepJs("probe-gate", { what: "all daemons have disconnected", probe: federations(dir, { equals: 0 }), timeoutSeconds: 1 });
        assert.equal(closed.status, 1);
        assert.equal(closed.stdout, "");
        // (the time it reports is measured: a busy machine may say 2 s)
        assert.match(closed.stderr, /error: timed out after \d+ s waiting until all daemons have disconnected: 2 federations/);
    });
});
