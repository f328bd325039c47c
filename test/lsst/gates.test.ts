// test-needs: kubernetes-control-plane
import { strict as assert } from "assert";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { runnerEnvironment } from "../../components/core/step-env";
import { containerGate } from "../../components/lsst/steps";
import { load } from "../support/configs";
import { shellQuote } from "../../components/core/shell-quote";
import { stringify } from "yaml";
import { DockerLab, emptyEngine, ON_HOST, onHost, startDocker } from "../support/docker-lab";
import { KubeLab, startKubeLab } from "../support/kube-lab";
import { FakeCscs, failureOf, lsstRaw, lsstSite, realKubectl, ROOT, runLsstStep, tmpDir } from "./support";

/** What a stack runs on a bare-metal host, here through the Docker lab's on-host (in place of `ssh {host}`). */
const onHostCommand = (host: string, command: string) => `${shellQuote(ON_HOST)} ${shellQuote(host)} ${command}`;
const logProbe = () => ({ type: "log", command: onHostCommand("azar01", "docker logs ospl-daemon"), pattern: "daemon ready" });
const federations = (goal: Record<string, number>) => ({
    type: "count", command: onHostCommand("azar01", "docker exec ospl-daemon grep federations durability.log"),
    pattern: "federations\\D*(\\d+)", counts: "federations", ...goal,
});

async function launch(lab: DockerLab, host: string, script: string, env: Record<string, string> = {}): Promise<void> {
    const r = await onHost(lab, host, [`./${script}`], env);
    assert.equal(r.status, 0, `${host} ./${script}: ${r.stderr}`);
}

/** The last federations count of the main daemon's durability.log (undefined before its first line). */
async function lastFederations(lab: DockerLab): Promise<number | undefined> {
    const r = await onHost(lab, "azar01", ["docker", "exec", "ospl-daemon", "grep", "federations", "durability.log"]);
    const counts = [...r.stdout.matchAll(/federations\D*(\d+)/g)].map(m => Number(m[1]));
    return counts.length ? counts[counts.length - 1] : undefined;
}

async function untilFederations(lab: DockerLab, n: number, timeoutMs = 60000): Promise<void> {
    for (const end = Date.now() + timeoutMs; ;) {
        const last = await lastFederations(lab);
        if (last === n) return;
        if (Date.now() > end) assert.fail(`the main daemon does not count ${n} federations (last: ${last})`);
        await new Promise(r => setTimeout(r, 200));
    }
}

/*
 * The main OSPL daemon and the per-machine daemons are real containers on a real Docker engine (the
 * Docker lab), started by docker-compose-admin-shaped scripts (lsst-ts/docker-compose-admin
 * base-teststand/azar01/launch_daemon, tucson_teststand/<host>/launch_daemon); "daemon ready" is read with
 * `docker logs ospl-daemon` and the federations with k8s-admin's feds-check (lsst-ts/k8s-admin:
 * `docker exec ospl-daemon grep "federations" durability.log`).
 */
describe("LSST gates and probes on the real OSPL daemons (Docker lab)", function () {
    this.timeout(120000);
    let lab: DockerLab;

    before(async function () {
        lab = await startDocker();
    });
    after(async function () {
        await lab?.stop();
    });
    afterEach(async function () {
        await emptyEngine(lab, { volumes: true });
    });

    it("waits for a daemon that says \"daemon ready\" late, and passes once it does", async () => {
        await launch(lab, "azar01", "launch_daemon", { OSPL_READY_AFTER: "4" });
        const s = runLsstStep("probe-gate", { what: "the main OSPL daemon is ready", probe: logProbe(), timeoutSeconds: 60 }, lab.env);
        const r = await s.result;
        assert.equal(r.ready, true);
        assert.match(String(r.state), /found ".*ospl: daemon ready"/);
        assert.ok(s.logs.some(l => /no line matching \/daemon ready\/ yet \(last line: ".*ospl: loading ospl\.xml"\)/.test(l)), s.logs.join("\n"));
    });

    it("times out on a daemon that never gets ready, naming what it waited for and what it saw", async () => {
        await launch(lab, "azar01", "launch_daemon", { OSPL_READY_AFTER: "3600" });
        const message = await failureOf(runLsstStep("probe-gate", { what: "the main OSPL daemon is ready", probe: logProbe(), timeoutSeconds: 2 }, lab.env).result);
        assert.match(message, /^timed out after \d+ s waiting until the main OSPL daemon is ready: no line matching \/daemon ready\/ yet \(last line: ".*ospl: loading ospl\.xml"\)/);
        assert.ok(message.endsWith(`\n  probe: \`${logProbe().command}\` has a line matching /daemon ready/`), message);
    });

    it("a probe command that fails keeps the gate closed and is named (the container is not there)", async () => {
        const message = await failureOf(runLsstStep("probe-gate", { what: "the main OSPL daemon is ready", probe: logProbe(), timeoutSeconds: 1 }, lab.env).result);
        assert.ok(message.includes(`: \`${logProbe().command}\` exited 1: Error: No such container: ospl-daemon\n`), message);
    });

    it("waits for the federations count to reach 0 as the daemons stop, logging each change", async () => {
        await launch(lab, "azar01", "launch_daemon", { OSPL_READY_AFTER: "0" });
        for (const host of ["tts-dm-ocs", "tts-camera-ocs", "love01"]) await launch(lab, host, "launch_daemon");
        await untilFederations(lab, 3);
        const s = runLsstStep("probe-gate", { what: "all daemons have disconnected", probe: federations({ equals: 0 }), timeoutSeconds: 60, warnAfterSeconds: 120 }, lab.env);
        const seen = () => s.logs.map(l => /: (\d) federations/.exec(l)?.[1]).filter((x): x is string => !!x).map(Number);
        for (const [host, left] of [["tts-dm-ocs", 2], ["tts-camera-ocs", 1], ["love01", 0]] as const) {
            await launch(lab, host, "shutdown_daemon");
            if (left) await untilFederations(lab, left);
        }
        const r = await s.result;
        assert.deepEqual([r.ready, r.count], [true, 0]);
        // Each count the gate saw is logged once, going down to 0 (a busy machine may poll past one).
        assert.equal(seen()[0], 3, s.logs.join("\n"));
        assert.equal(seen()[seen().length - 1], 0, s.logs.join("\n"));
        assert.ok(seen().every((n, i) => i === 0 || n < seen()[i - 1]), s.logs.join("\n"));
        assert.ok(!s.logs.some(l => /still not ready/.test(l)), "no warning: the count went down within the patience");
    });

    it("gives up on a count that never reaches 0, after warning at the first patience mark", async () => {
        await launch(lab, "azar01", "launch_daemon", { OSPL_READY_AFTER: "0" });
        for (const host of ["tts-dm-ocs", "tts-camera-ocs"]) await launch(lab, host, "launch_daemon");
        await untilFederations(lab, 2);
        const s = runLsstStep("probe-gate", { what: "all daemons have disconnected", probe: federations({ equals: 0 }), timeoutSeconds: 3, warnAfterSeconds: 1 }, lab.env);
        const message = await failureOf(s.result);
        assert.match(message, /^timed out after \d+ s waiting until all daemons have disconnected: 2 federations \(waiting for 0\)/);
        assert.ok(message.endsWith(`\n  probe: the number of federations reaches 0 (\`${federations({}).command}\`)`), message);
        const warning = s.logs.find(l => /still not ready after 1 s/.test(l));
        assert.ok(warning, s.logs.join("\n"));
        assert.match(warning!, /2 federations/);
    });

    it("a count going down below the number noted before passes; one that stays does not", async () => {
        await launch(lab, "azar01", "launch_daemon", { OSPL_READY_AFTER: "0" });
        for (const host of ["tts-dm-ocs", "tts-camera-ocs"]) await launch(lab, host, "launch_daemon");
        await untilFederations(lab, 2);
        const noted = await runLsstStep("probe", { what: "the number of federations", probe: federations({}) }, lab.env).result;
        assert.equal(noted.count, 2);
        const stays = await failureOf(runLsstStep("probe-gate", { what: "the number of federations went down", probe: federations({ below: 2 }), timeoutSeconds: 1 }, lab.env).result);
        assert.match(stays, /2 federations \(waiting for fewer than 2\)/);
        await launch(lab, "tts-dm-ocs", "shutdown_daemon");
        const r = await runLsstStep("probe-gate", { what: "the number of federations went down", probe: federations({ below: 2 }), timeoutSeconds: 60 }, lab.env).result;
        assert.equal(r.count, 1);
    });
});

/**
 * Pods' logs as kwok serves them to `kubectl logs` (test/support/kube-lab.ts podLogs): a pod's lines so far,
 * set again with each new line (a rule's lines replace the pod's log).
 */
function podLogWriter(lab: KubeLab): (namespace: string, pod: string, ...lines: string[]) => Promise<void> {
    const seen = new Map<string, string[]>();
    return async (namespace, pod, ...lines) => {
        const all = [...(seen.get(`${namespace}/${pod}`) ?? []), ...lines];
        seen.set(`${namespace}/${pod}`, all);
        await lab.podLogs([{ namespace, pod, lines: all }]);
    };
}

/** Kubernetes gates on the lab's control plane: kwok makes every pod the scheduler places Running and Ready. */
describe("LSST Kubernetes gates on the lab cluster", function () {
    this.timeout(300_000);
    let lab: KubeLab;
    let kubectl: string;

    /** A bare pod; `placed: false` gives it a node selector no node has, so it stays Pending. */
    const pod = (namespace: string, name: string, labels: Record<string, string>, placed = true) => ({
        apiVersion: "v1", kind: "Pod", metadata: { name, namespace, labels },
        spec: { ...(placed ? {} : { nodeSelector: { "lab.upgrade-as-code/none": "true" } }), containers: [{ name: "c", image: `lsstts/${name}:c0034` }] },
    });
    const deployment = (namespace: string, name: string, placed = true) => ({
        apiVersion: "apps/v1", kind: "Deployment", metadata: { name, namespace },
        spec: {
            replicas: 1, selector: { matchLabels: { app: name } },
            template: { metadata: { labels: { app: name } }, spec: { ...pod(namespace, name, {}, placed).spec } },
        },
    });
    /** Creates objects; a new namespace's default service account may lag behind, so a pod is tried again. */
    async function create(...docs: object[]): Promise<void> {
        for (let attempt = 0; ; attempt++) {
            try {
                await lab.kubectl(["create", "-f", "-"], { input: docs.map(d => stringify(d)).join("---\n") });
                return;
            } catch (err) {
                if (attempt > 20 || !/serviceaccount "default" not found/.test(String(err))) throw err;
                await new Promise(r => setTimeout(r, 250));
            }
        }
    }
    const running = (namespace: string, name: string) =>
        lab.kubectl(["wait", "pod", name, "-n", namespace, "--for=jsonpath={.status.phase}=Running", "--timeout=90s"]);
    /** Resolves once the gate has logged a line matching `re` (the gate polls in the background). */
    async function logged(s: { logs: string[] }, re: RegExp): Promise<void> {
        for (const end = Date.now() + 60000; !s.logs.some(l => re.test(l)); await new Promise(r => setTimeout(r, 100))) {
            if (Date.now() > end) assert.fail(`the gate never logged ${re}: ${s.logs.join(" / ")}`);
        }
    }

    before(async () => {
        lab = await startKubeLab();
        kubectl = `${realKubectl()} --kubeconfig ${lab.kubeconfig} --context ${lab.context}`;
        for (const ns of ["kafka-producers", "obssys", "cachemachine", "stuck"]) await lab.kubectl(["create", "namespace", ns]);
    });
    after(async () => {
        await lab?.stop();
    });

    it("pods of a namespace Running (a field): the pods not ready are named; no pods is not ready", async () => {
        await create(pod("obssys", "scriptqueue-1", { app: "obssys" }), pod("obssys", "watcher", { app: "obssys" }, false));
        await running("obssys", "scriptqueue-1");
        const phase = { type: "k8s", kubectl, resource: "pods", namespace: "obssys", field: "status.phase", equals: "Running" };
        const message = await failureOf(runLsstStep("probe-gate", { what: "the obssys containers are running", probe: phase, timeoutSeconds: 1 }).result);
        assert.match(message, /^timed out after \d+ s waiting until the obssys containers are running: 1\/2 pods in obssys have status\.phase=Running\n  not ready: watcher \(status\.phase=Pending\)\n/);
        const empty = await failureOf(runLsstStep("probe-gate", { what: "x", probe: { ...phase, namespace: "nothing" }, timeoutSeconds: 1 }).result);
        assert.match(empty, /: no pods in nothing\n  not ready: no pods in nothing\n/);
        // Once the straggler is gone and its replacement is placed, the gate opens.
        await lab.kubectl(["delete", "pod", "watcher", "-n", "obssys", "--wait=true"]);
        await create(pod("obssys", "watcher", { app: "obssys" }));
        const r = await runLsstStep("probe-gate", { what: "the obssys containers are running", probe: phase, timeoutSeconds: 60 }).result;
        assert.deepEqual([r.ready, r.state], [true, "2/2 pods in obssys have status.phase=Running"]);
    });

    it("a Deployment's condition: cachemachine Available passes; one whose pod gets no node is named", async () => {
        await create(deployment("cachemachine", "cachemachine"), deployment("stuck", "stuck", false));
        const available = (namespace: string) => ({ type: "k8s", kubectl, resource: "deployments", namespace, condition: "Available", equals: "True" });
        const ok = await runLsstStep("probe-gate", { what: "cachemachine is available", probe: available("cachemachine"), timeoutSeconds: 60 }).result;
        assert.deepEqual([ok.ready, ok.state], [true, "1/1 deployments in cachemachine have Available=True"]);
        await lab.kubectl(["wait", "deployment", "stuck", "-n", "stuck", "--for=condition=Available=False", "--timeout=60s"]);
        const message = await failureOf(runLsstStep("probe-gate", { what: "stuck is available", probe: available("stuck"), timeoutSeconds: 1 }).result);
        assert.match(message, /: 0\/1 deployments in stuck have Available=True\n  not ready: stuck \(Available=False\)\n/);
    });

    it("k8s-logs: every kafka producer's log says Running at the bottom; a producer that never does is named", async () => {
        const log = podLogWriter(lab);
        const labels = { app: "kafka-producers" };
        await create(pod("kafka-producers", "producer-atdome", labels), pod("kafka-producers", "producer-m1m3", labels));
        await log("kafka-producers", "producer-atdome", "starting");
        await log("kafka-producers", "producer-m1m3", "starting");
        const probe = { type: "k8s-logs", kubectl, namespace: "kafka-producers", selector: "app=kafka-producers", pattern: "Running", tail: 1 };
        const s = runLsstStep("probe-gate", { what: "every kafka producer is Running", probe, timeoutSeconds: 120 });
        await logged(s, /0\/2 pods app=kafka-producers match \/Running\//);
        await log("kafka-producers", "producer-m1m3", "Partial producers are all running", "Running");
        await logged(s, /1\/2 pods app=kafka-producers match \/Running\//);
        await log("kafka-producers", "producer-atdome", "Running");
        const r = await s.result;
        assert.deepEqual([r.ready, r.state], [true, "2/2 pods app=kafka-producers match /Running/"]);
        // "at the bottom": a producer that logged Running and then an error is not running.
        await create(pod("kafka-producers", "producer-mtmount", labels));
        await log("kafka-producers", "producer-mtmount", "Running", "Error: lost connection to the broker");
        const message = await failureOf(runLsstStep("probe-gate", { what: "every kafka producer is Running", probe, timeoutSeconds: 1 }).result);
        assert.match(message, /: 2\/3 pods app=kafka-producers match \/Running\/\n  not ready: producer-mtmount \(last line: "Error: lost connection to the broker"\)\n/);
    });
});

describe("LSST gates and probes, with real processes", function () {
    this.timeout(60000);

    it("probes again and again until its timeout (the schedule itself: test/backoff.test.ts)", async () => {
        const dir = tmpDir("lsst-poll-");
        const stamps = path.join(dir, "stamps");
        const probe = { type: "exit", command: `node -e 'require("fs").appendFileSync(process.argv[1], Date.now() + "\\n")' '${stamps}'; exit 1`, exitCode: 0 };
        const message = await failureOf(runLsstStep("probe-gate", { what: "never", probe, timeoutSeconds: 3 }).result);
        // (the time it reports is measured: a busy machine may say 4 s)
        assert.match(message, /^timed out after \d+ s waiting until never/);
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
// did; the gate after each reads the containers' state (docker inspect, as the default lsst.bareMetal.probe),
// here of real containers on the Docker lab's engine, through on-host in place of ssh.
describe("LSST bare-metal gates: a script's effect read from its containers (Docker lab)", function () {
    this.timeout(120000);
    let lab: DockerLab;

    before(async function () {
        lab = await startDocker();
    });
    after(async function () {
        await lab?.stop();
    });
    afterEach(async function () {
        await emptyEngine(lab, { volumes: true });
    });

    const site = lsstSite("tts");
    const c = load(lsstRaw("tts", {
        bareMetal: { ...(site.bareMetal as object), probe: { command: `${shellQuote(ON_HOST)} {host} docker inspect -f '{{.State.Running}}' {container}` } },
    })).lsst!;
    const gateOf = (state: "running" | "stopped", timeoutSeconds: number) => {
        const def = containerGate(c, "tel-hw1", "atmcs-atp", ["tel-hw1-atmcs-sim", "tel-hw1-atpneumatics-sim"], state);
        return { what: def.params!.what, probe: def.params!.probe, timeoutSeconds };
    };

    it("waits until every container of a started service is running", async () => {
        const r0 = await onHost(lab, "tel-hw1", ["./launch_atmcs_atp", "atmcs-sim"]);
        assert.equal(r0.status, 0, r0.stderr);
        const s = runLsstStep("probe-gate", gateOf("running", 60), lab.env);
        for (const end = Date.now() + 60000; !s.logs.some(l => /: 1 containers of atmcs-atp on tel-hw1 running \(waiting for 2\)/.test(l)); await new Promise(r => setTimeout(r, 100))) {
            if (Date.now() > end) assert.fail(s.logs.join("\n"));
        }
        const r1 = await onHost(lab, "tel-hw1", ["./launch_atmcs_atp", "atpneumatics-sim"]);
        assert.equal(r1.status, 0, r1.stderr);
        const r = await s.result;
        assert.deepEqual([r.ready, r.count], [true, 2]);
    });

    it("a stopped service: its containers exited or gone (docker compose down); a machine that cannot be reached proves nothing", async () => {
        await launch(lab, "tel-hw1", "launch_atmcs_atp");
        await lab.docker(["stop", "-t", "1", "tel-hw1-atmcs-sim"]);
        await lab.docker(["rm", "-f", "tel-hw1-atpneumatics-sim"]);
        assert.equal((await runLsstStep("probe-gate", gateOf("stopped", 30), lab.env).result).count, 2, "one exited, one removed");
        // The engine cannot be reached: docker's error is neither state.
        const message = await failureOf(runLsstStep("probe-gate", gateOf("stopped", 1), { DOCKER_HOST: `unix://${lab.dir}/no-such.sock` }).result);
        assert.match(message, /^timed out after \d+ s waiting until atmcs-atp on tel-hw1 is down \(tel-hw1-atmcs-sim, tel-hw1-atpneumatics-sim stopped\): 0 containers of atmcs-atp on tel-hw1 stopped \(waiting for 2\)/);
        const r = await onHost(lab, "tel-hw1", ["./launch_atmcs_atp", "atpneumatics-sim"]);
        assert.equal(r.status, 0, r.stderr);
        assert.match(await failureOf(runLsstStep("probe-gate", gateOf("stopped", 1), lab.env).result),
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

    /** The output format is the point here: a durability.log written by the test is enough. */
    const federations = (dir: string, goal: Record<string, number>) => ({
        type: "count", command: `grep federations '${dir}/durability.log'`, pattern: "federations\\D*(\\d+)", counts: "federations", ...goal,
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
