/**
 * The LSST procedure on the real Pulumi engine: the example stack previews here (nothing runs),
 * and `pulumi up` runs a small site end to end against stand-ins (fake kubectl and Argo CD, fake
 * CSCs, a fake main OSPL daemon, a local Slack webhook), in the order of the graph.
 */
import { strict as assert } from "assert";
import * as fs from "fs";
import * as http from "http";
import { AddressInfo } from "net";
import * as path from "path";
import { loadStack, readStackFile } from "../../cli/stack-config";
import { StepRecord } from "../../components/core";
import { buildUnderMocks } from "../support/mocks";
import { load } from "../support/configs";
import { commandOps, commandsDone, EngineRun, EngineStack, secret, TempProject, urnName } from "../support/engine";
import { FAKE_CSC, FAKE_DAEMON, FAKE_KUBECTL, FakeCluster, FakeCscs, lsstSite, ROOT } from "./support";

/** For each step, every step it depends on finished before it started (engine events). */
function assertRanInOrder(run: EngineRun, steps: StepRecord[]): void {
    const started = new Map(commandOps(run, ["create"]).map(o => [o.name, o.sequence]));
    const done = new Map(commandsDone(run, ["create"]).map(o => [o.name, o.sequence]));
    for (const s of steps) {
        assert.ok(started.has(s.id) && done.has(s.id), `${s.id} did not run`);
        for (const d of s.dependsOn) {
            assert.ok(done.get(d)! < started.get(s.id)!, `${s.id} started before ${d} finished`);
        }
    }
}

describe("LSST site upgrade on the real engine", function () {
    this.timeout(600000);
    let project: TempProject | undefined;
    const children: number[] = [];

    afterEach(() => {
        for (const pid of children.splice(0)) {
            try {
                process.kill(pid, "SIGKILL");
            } catch {
                // gone
            }
        }
        project?.cleanup();
        project = undefined;
    });

    it("previews the lsst-tts example stack: every step planned, in the graph's order, nothing run", async () => {
        project = TempProject.create({ prefix: "lsst-engine-" });
        const file = readStackFile("lsst-tts", ROOT);
        const stack = await EngineStack.create(project, file.config, { name: "lsst-tts" });
        const run = await stack.preview();
        const planned = commandOps(run);
        const plan = (await buildUnderMocks(loadStack("lsst-tts", ROOT).config)).steps;
        assert.deepEqual(planned.map(o => o.name).sort(), plan.map(s => s.id).sort());
        assert.ok(planned.every(o => o.op === "create" && o.type === "command:local:Command"));
        const at = new Map(planned.map((o, i) => [o.name, i]));
        for (const s of plan) for (const d of s.dependsOn) assert.ok(at.get(d)! < at.get(s.id)!, `${d} is planned before ${s.id}`);
    });

    it("pulumi up runs a whole site upgrade against stand-ins, in order, and a second up changes nothing", async () => {
        project = TempProject.create({ prefix: "lsst-engine-" });
        const w = project.work;
        const k8s = new FakeCluster();
        for (const app of ["cachemachine", "csc-cluster-config", "ospl-config", "ospl-daemon", "kafka-producers", "obssys", "ocps", "auxtel"]) k8s.app(app);
        k8s.app("scriptqueue", {}, { "argocd.argoproj.io/instance": "obssys" });
        k8s.app("atdome", {}, { "argocd.argoproj.io/instance": "auxtel" });
        k8s.pod("cachemachine", "cachemachine-old", { app: "cachemachine" });
        k8s.restartAs("cachemachine", "cachemachine-new", { app: "cachemachine" }, 300);
        k8s.pod("ospl-daemon", "ospl-daemon-node1", { app: "ospl-daemon" }, { log: [{ line: "daemon ready" }] });
        k8s.pod("kafka-producers", "producer-atdome", { app: "kafka-producers" }, { log: [{ line: "starting" }, { line: "Running" }] });
        k8s.pod("obssys", "scriptqueue-1", { app: "obssys" });
        const cscs = new FakeCscs({
            ATDome: { state: "ENABLED", delayMs: 200 }, MTM1M3: { state: "ENABLED", delayMs: 200, stopsAt: "STANDBY", heartbeatStopsAfterMs: 300 },
            Watcher: { state: "ENABLED" }, "ScriptQueue:1": { state: "ENABLED" }, "Test:42": { state: "ENABLED" },
        });
        const feds = path.join(w, "durability.log");
        fs.writeFileSync(feds, "durability: Number of connected federations: 4\n");
        const log = path.join(w, "shell.log");
        const say = (what: string) => `echo '${what}' >> '${log}'`;
        const slack: string[] = [];
        const server = http.createServer((req, res) => {
            let body = "";
            req.on("data", c => (body += c));
            req.on("end", () => {
                slack.push(JSON.parse(body).text);
                res.end("ok");
            });
        });
        await new Promise<void>(r => server.listen(0, "127.0.0.1", r));
        const webhook = `http://127.0.0.1:${(server.address() as AddressInfo).port}/services/T1/B1/W3BH00KT0K3N`;
        const daemonDir = path.join(w, "daemon");
        const pidFile = path.join(w, "daemon.pid");
        const site = lsstSite("tts", {
            variations: { heartbeatCheck: true },
            kubectl: FAKE_KUBECTL,
            systems: [{ name: "ATDome", domainId: 0 }, { name: "MTM1M3", domainId: 0, stopsAt: "STANDBY" }, { name: "Watcher", domainId: 0 },
                { name: "ScriptQueue:1", domainId: 0 }, { name: "Test:42", domainId: 7 }],
            csc: { stateCommand: `${FAKE_CSC} set {csc} {state}`, stateProbe: `${FAKE_CSC} state {csc}`, heartbeatProbe: { command: `${FAKE_CSC} heartbeats {csc}` }, timeoutSeconds: 30 },
            mainDaemon: {
                host: "daemon-host",
                start: `${say("start ospl-daemon on {host}")} && (nohup node ${FAKE_DAEMON} --dir '${daemonDir}' --ready-after 700 >/dev/null 2>&1 & echo $! > '${pidFile}')`,
                stop: say("stop ospl-daemon on {host}"),
                logs: `cat '${daemonDir}/ospl-daemon.log'`,
                federations: `cat '${feds}'`,
                patience: { warnSeconds: 1, timeoutSeconds: 20 },
            },
            // Shutting down the DM daemons leaves 2 federations; cleanup_all -d takes the last ones away.
            daemonCleanup: [{ host: "dm-host", command: `${say("cleanup {host}")} && echo 'durability: Number of connected federations: 2' >> '${feds}'` }],
            bareMetal: {
                love: [{ host: "love01", service: "love", start: say("start love"), stop: say("stop love") }],
                services: [{ host: "tel-hw1", service: "atmcs", start: say("start atmcs"), stop: say("stop atmcs") }],
            },
            kubernetes: {
                cleanup: `${say("cleanup_all -d")} && echo 'durability: Number of connected federations: 0' >> '${feds}'`,
                cleanupLove: say("cleanup_love"), nubladoCleanup: say("nublado namespaces"),
            },
            argocd: { timeoutSeconds: 60, minimal: ["csc-cluster-config", "ospl-config", "ospl-daemon"], producers: ["kafka-producers"],
                obssys: [{ app: "obssys", children: true }], rest: ["ocps", { app: "auxtel", children: true }] },
            gates: {
                daemonsReady: { type: "k8s-logs", namespace: "ospl-daemon", selector: "app=ospl-daemon", pattern: "daemon ready", timeoutSeconds: 30 },
                producersRunning: { type: "k8s-logs", namespace: "kafka-producers", selector: "app=kafka-producers", pattern: "Running", tail: 1, timeoutSeconds: 30 },
                obssysRunning: { type: "k8s", resource: "pods", namespace: "obssys", field: "status.phase", equals: "Running", timeoutSeconds: 30 },
            },
            nublado: { timeoutSeconds: 30 },
            configUpdate: { pullRequests: [{ name: "cachemachine", approved: { command: "echo APPROVED" }, merge: say("merge cachemachine") }],
                checkouts: [{ host: "tel-hw1", command: say("checkout {host}") }] },
            monitor: { timeoutSeconds: 30 },
            enable: ["ScriptQueue:1"],
        });
        // An unattended run: sync_apps.py's "type go" pauses (operator gates) are pre-approved for this run key.
        const gates = { approved: ["deploy-go-producers", "deploy-go-obssys", "deploy-go-rest"].map(step => ({ runKey: "cycle-0034", step })) };
        const config = { procedure: "lsst-site-upgrade", target: "cycle-0034", lsst: site, lsstSlackWebhook: secret(webhook), gates };
        try {
            const stack = await EngineStack.create(project, config, { name: "lsst-e2e", env: { ...k8s.env, ...cscs.env } });
            // The dry run: every step planned, nothing touched.
            const preview = await stack.preview();
            assert.equal(commandOps(preview).length, 42);
            assert.ok(!fs.existsSync(log) && cscs.commands().length === 0 && k8s.calls().length === 0 && slack.length === 0, "the preview ran a step");
            const run = await stack.up();
            if (fs.existsSync(pidFile)) children.push(Number(fs.readFileSync(pidFile, "utf8").trim()));
            const steps = (await buildUnderMocks(load({ ...config, lsstSlackWebhook: webhook }, ["lsstSlackWebhook"]))).steps;
            assertRanInOrder(run, steps);
            assert.equal(commandsDone(run, ["create"]).length, steps.length);

            // The shell steps ran in the seed's order.
            assert.deepEqual(fs.readFileSync(log, "utf8").trim().split("\n"), [
                "cleanup dm-host", "stop love", "stop atmcs", "cleanup_all -d", "cleanup_love", "nublado namespaces",
                "stop ospl-daemon on daemon-host", "merge cachemachine", "checkout tel-hw1", "start ospl-daemon on daemon-host",
                "start love", "start atmcs",
            ]);
            // CSCs: the production domain only, the Watcher and the ScriptQueue last, ScriptQueue:1 ENABLED at the end.
            const sent = cscs.commands();
            assert.deepEqual(sent.slice(0, 2).sort(), ["set ATDome OFFLINE", "set MTM1M3 OFFLINE"]);
            assert.deepEqual(sent.slice(2, 4).sort(), ["set ScriptQueue:1 OFFLINE", "set Watcher OFFLINE"]);
            assert.deepEqual(sent.slice(4), ["set ScriptQueue:1 ENABLED"]);
            // Argo CD: the waves in order, the children of an app of apps after their parent.
            const patched = k8s.calls().filter(c => c[0] === "patch").map(c => c[2]);
            assert.deepEqual(patched.slice(0, 7), ["cachemachine", "csc-cluster-config", "ospl-config", "ospl-daemon", "kafka-producers", "obssys", "scriptqueue"]);
            assert.deepEqual(patched.slice(7).sort(), ["atdome", "auxtel", "ocps"]);
            assert.ok(patched.indexOf("atdome") > patched.indexOf("auxtel"));
            for (const app of patched) assert.equal(k8s.appDoc(app).status.health.status, "Healthy", app);
            assert.ok(!k8s.pods("cachemachine").includes("cachemachine-old"));
            // Slack: the three messages, through the secret webhook that never reaches the state or the log.
            assert.equal(slack.length, 3);
            assert.match(slack[0], /^\[TTS\] The minimal system is up/);
            assert.equal(slack[1], "[TTS] The upgrade is deployed. Every system reports STANDBY or OFFLINE.");
            assert.match(slack[2], /Nublado can be used again/);
            for (const f of project.backendFiles()) assert.ok(!f.text.includes("W3BH00KT0K3N"), `${f.path} holds the webhook`);
            assert.ok(!stack.allLogs().includes("W3BH00KT0K3N"), "the log shows the webhook");

            // Nothing changed: a second up runs nothing.
            const again = await stack.up();
            assert.deepEqual(commandsDone(again, ["create", "replace"]), []);
            assert.equal(fs.readFileSync(log, "utf8").trim().split("\n").length, 12);
            assert.ok(again.events.filter(e => e.resourcePreEvent).every(e => e.resourcePreEvent!.metadata.op === "same"),
                again.events.filter(e => e.resourcePreEvent && e.resourcePreEvent.metadata.op !== "same").map(e => urnName(e.resourcePreEvent!.metadata.urn)).join(", "));
        } finally {
            await new Promise<void>(r => server.close(() => r()));
        }
    });
});
