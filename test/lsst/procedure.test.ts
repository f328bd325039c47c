import { strict as assert } from "assert";
import { spawnSync } from "child_process";
import * as path from "path";
import { ConfigError } from "../../components/config";
import { SHELL_INTERPRETER, StepRecord } from "../../components/core";
import { loadStack } from "../../cli/stack-config";
import { buildUnderMocks, MockRun, precedes, runnerSpecOf } from "../support/mocks";
import { load, RawConfig } from "../support/configs";
import { lsstRaw, lsstSite, ROOT } from "./support";

const ids = (steps: StepRecord[]) => steps.map(s => s.id);
const step = (run: MockRun, id: string) => {
    const s = run.steps.find(x => x.id === id);
    assert.ok(s, `no step ${id} in ${ids(run.steps).join(", ")}`);
    return s!;
};
const build = (raw: RawConfig, opts: { results?: Record<string, unknown>; secretKeys?: string[] } = {}) =>
    buildUnderMocks(load(raw, opts.secretKeys), opts.results ? { preview: false, results: opts.results } : { preview: true });
const commandNames = (run: MockRun) => run.registrations.filter(r => r.type.startsWith("command:")).map(r => r.name);

/** Every pair of `order` holds on the graph (transitively, never the other way) and in registration order. */
function assertOrder(run: MockRun, order: string[]): void {
    const commands = commandNames(run);
    for (let i = 0; i < order.length; i++) {
        for (let j = i + 1; j < order.length; j++) {
            assert.ok(precedes(run.steps, order[i], order[j]), `${order[i]} must come before ${order[j]}`);
            assert.ok(!precedes(run.steps, order[j], order[i]), `${order[j]} must not come before ${order[i]}`);
            assert.ok(commands.indexOf(order[i]) < commands.indexOf(order[j]), `${order[i]} must be registered before ${order[j]}`);
        }
    }
}

function assertParallel(run: MockRun, group: string[]): void {
    for (const a of group) for (const b of group) if (a !== b) assert.ok(!precedes(run.steps, a, b), `${a} and ${b} may run side by side`);
}

/** The environment of a step's command resource (a secret output shows as {value}). */
function commandEnv(run: MockRun, id: string): Record<string, string> {
    const cmd = run.registrations.find(r => r.type === "command:local:Command" && r.name === id);
    assert.ok(cmd, `no command ${id}`);
    const e = cmd!.inputs.environment as Record<string, unknown>;
    return (e.value ?? e) as Record<string, string>;
}

const TTS_ORDER = [
    // 2. CSCs to OFFLINE; the Watcher and the ScriptQueues last.
    "shutdown-offline-atdome", "shutdown-offline-mtm1m3", "shutdown-offline-mtmount", "shutdown-offline-ataos",
    "shutdown-offline-watcher", "shutdown-offline-scriptqueue-1", "shutdown-offline-scriptqueue-2",
    // 4.1 (TTS) and 4.2
    "shutdown-federations-count", "shutdown-daemons-dm-host", "shutdown-daemons-camera-host", "shutdown-federations-down",
    // 4.3 - 4.8: each bare-metal script followed by the gate on its containers
    "shutdown-love-love01", "shutdown-love-love01-down", "shutdown-love-daemon-love01", "shutdown-love-daemon-love01-down",
    "shutdown-baremetal-atmcs-tel-hw1", "shutdown-baremetal-atmcs-tel-hw1-down", "shutdown-baremetal-m1m3-tel-hw2", "shutdown-baremetal-m1m3-tel-hw2-down",
    "shutdown-k8s-cleanup", "shutdown-k8s-cleanup-love", "shutdown-nublado-namespaces", "shutdown-daemons-disconnected",
    "shutdown-main-daemon", "shutdown-main-daemon-down",
    // 5.
    "config-approved-cachemachine", "config-merge-cachemachine", "config-merge-argocd", "config-checkout-tel-hw1",
    // 6.
    "deploy-argocd-cachemachine", "deploy-nublado-restart", "deploy-main-daemon-start", "deploy-main-daemon-ready",
    "deploy-argocd-csc-cluster-config", "deploy-argocd-ospl-config", "deploy-argocd-ospl-daemon", "deploy-daemons-ready",
    "deploy-go-producers", "deploy-argocd-kafka-producers", "deploy-producers-running",
    "deploy-love-daemon-love01", "deploy-love-daemon-love01-up", "deploy-love-love01", "deploy-love-love01-up",
    "deploy-go-obssys", "deploy-argocd-obssys", "deploy-obssys-running", "deploy-notify-principals", "deploy-go-rest",
    "deploy-argocd-auxtel", "deploy-argocd-calsys", "deploy-argocd-dmocps", "deploy-argocd-eas", "deploy-argocd-maintel", "deploy-argocd-test42",
    "deploy-argocd-auxtel-children", "deploy-argocd-calsys-children", "deploy-argocd-dmocps-children", "deploy-argocd-eas-children",
    "deploy-argocd-maintel-children",
    "deploy-baremetal-atmcs-tel-hw1", "deploy-baremetal-atmcs-tel-hw1-up", "deploy-baremetal-m1m3-tel-hw2", "deploy-baremetal-m1m3-tel-hw2-up",
    // 7. - 9.
    "monitor-summary-states", "monitor-report", "enable-watcher", "enable-scriptqueue-1", "monitor-nublado-open",
];

describe("LSST site upgrade: the procedure graph (Pulumi mocks)", function () {
    this.timeout(60000);

    it("TTS: every step in the seed's order, nothing else", async () => {
        const run = await build(lsstRaw("tts"));
        assert.deepEqual(ids(run.steps), TTS_ORDER);
        // Steps that are sequential in the seed form a chain; the groups in between run side by side.
        assertOrder(run, [
            "shutdown-offline-atdome", "shutdown-offline-watcher", "shutdown-federations-count", "shutdown-daemons-dm-host",
            "shutdown-federations-down", "shutdown-love-love01", "shutdown-love-love01-down", "shutdown-love-daemon-love01",
            "shutdown-love-daemon-love01-down", "shutdown-baremetal-atmcs-tel-hw1", "shutdown-baremetal-atmcs-tel-hw1-down",
            "shutdown-k8s-cleanup", "shutdown-k8s-cleanup-love", "shutdown-nublado-namespaces", "shutdown-daemons-disconnected",
            "shutdown-main-daemon", "shutdown-main-daemon-down", "config-approved-cachemachine", "config-merge-cachemachine", "config-merge-argocd",
            "config-checkout-tel-hw1", "deploy-argocd-cachemachine", "deploy-nublado-restart", "deploy-main-daemon-start",
            "deploy-main-daemon-ready", "deploy-argocd-csc-cluster-config", "deploy-argocd-ospl-config", "deploy-argocd-ospl-daemon",
            "deploy-daemons-ready", "deploy-go-producers", "deploy-argocd-kafka-producers", "deploy-producers-running", "deploy-love-daemon-love01",
            "deploy-love-daemon-love01-up", "deploy-love-love01", "deploy-love-love01-up", "deploy-go-obssys", "deploy-argocd-obssys", "deploy-obssys-running", "deploy-notify-principals", "deploy-go-rest",
            "deploy-argocd-eas", "deploy-argocd-maintel", "deploy-argocd-test42", "deploy-argocd-eas-children",
            "deploy-baremetal-m1m3-tel-hw2", "monitor-summary-states", "monitor-report", "enable-scriptqueue-1", "monitor-nublado-open",
        ]);
        assertParallel(run, ["shutdown-daemons-dm-host", "shutdown-daemons-camera-host"]);
        assertParallel(run, ["shutdown-baremetal-atmcs-tel-hw1", "shutdown-baremetal-m1m3-tel-hw2-down"]);
        assertParallel(run, ["enable-watcher", "enable-scriptqueue-1"]);
        // The procedure and its kinds: the shared vocabulary (plan-format.md) and this procedure's own.
        assert.ok(run.steps.every(s => s.procedure === "lsst-site-upgrade"));
        const kinds = new Set(run.steps.map(s => s.kind));
        assert.deepEqual([...kinds].sort(), ["argocd-sync", "baremetal-service", "config-update", "csc-state", "daemon-cleanup",
            "k8s-cleanup", "k8s-pod-restart", "notify", "operator-gate", "probe", "probe-gate"]);
    });

    // The lists and order of lsst-ts/argocd-csc bin/sync_apps.py and bin/helpers.py (fe02407): APPS one after
    // the other; then `for app in async_apps_to_sync + hp.SINGLE_APPS` (auxtel, calsys, dmocps, eas, maintel,
    // test42) one `argocd app sync` after the other, and last the children of the ASYNC_APPS together
    // (`asyncio.gather` of `argocd app sync -l argocd.argoproj.io/instance=<app>`): no ocps.
    it("Argo CD: the exact wave order of sync_apps.py at both sites; the last wave's apps one after the other, then their children side by side", async () => {
        for (const site of ["summit", "tts"] as const) {
            const run = await build(lsstRaw(site));
            const syncs = run.steps.filter(s => s.kind === "argocd-sync").map(s => [s.params.app, s.params.wave, s.params.children]);
            // LOVE runs on bare metal in these stacks: sync_apps.py --no-sync=love.
            assert.deepEqual(syncs, [
                ["cachemachine", 0, false], ["csc-cluster-config", 1, false], ["ospl-config", 1, false], ["ospl-daemon", 1, false],
                ["kafka-producers", 2, false], ["obssys", 3, true],
                ["auxtel", 4, false], ["calsys", 4, false], ["dmocps", 4, false], ["eas", 4, false], ["maintel", 4, false], ["test42", 4, false],
                ["auxtel", 4, true], ["calsys", 4, true], ["dmocps", 4, true], ["eas", 4, true], ["maintel", 4, true],
            ], site);
            const rest = ["deploy-argocd-auxtel", "deploy-argocd-calsys", "deploy-argocd-dmocps", "deploy-argocd-eas", "deploy-argocd-maintel", "deploy-argocd-test42"];
            assertOrder(run, ["deploy-argocd-cachemachine", "deploy-argocd-csc-cluster-config", "deploy-argocd-ospl-config",
                "deploy-argocd-ospl-daemon", "deploy-argocd-kafka-producers", "deploy-argocd-obssys", ...rest]);
            // One after the other: each waits for the one before it, the first for the operator's go.
            assert.deepEqual(rest.map(r => step(run, r).dependsOn), [["deploy-go-rest"], ...rest.slice(0, -1).map(r => [r])]);
            // Then the children of the apps of apps (not test42's: it has none), side by side after the last app.
            const children = ["auxtel", "calsys", "dmocps", "eas", "maintel"].map(a => `deploy-argocd-${a}-children`);
            assertParallel(run, children);
            for (const c of children) assert.deepEqual(step(run, c).dependsOn, ["deploy-argocd-test42"]);
            for (const c of children) assert.equal(step(run, c).params.parentSynced, true);
            assert.ok(rest.every(r => step(run, r).params.parentSynced === undefined));
            assert.deepEqual(step(run, "deploy-baremetal-atmcs-tel-hw1").dependsOn, children);
            // Every sync runs through the step runner, with the site's kubectl.
            for (const s of run.steps.filter(x => x.kind === "argocd-sync")) {
                assert.equal(s.params.kubectl, "kubectl --context test");
                assert.equal(s.params.namespace, "argocd");
                assert.equal(s.params.timeoutSeconds, 1800);
            }
        }
    });

    // sync_apps.py `main`: it waits for `go` after ospl-daemon, kafka-producers, love and obssys; the seed
    // sends the notice to the system principals at the obssys pause, before the go for the rest.
    const RESTS_CHILDREN = ["auxtel", "calsys", "dmocps", "eas", "maintel"].map(a => `sync deploy-argocd-${a}-children`);
    const deployGates = (run: MockRun) => run.steps.filter(s => s.id.startsWith("deploy-") && ["probe-gate", "operator-gate", "argocd-sync", "notify"].includes(s.kind)
        && !s.id.endsWith("-up")).map(s => `${s.kind === "argocd-sync" ? "sync" : s.kind === "notify" ? "notify" : s.kind === "probe-gate" ? "check" : "go"} ${s.id}`);
    it("the operator's pauses of sync_apps.py: a check, then the operator's go, after ospl-daemon, kafka-producers and obssys (LOVE on bare metal)", async () => {
        for (const site of ["summit", "tts"] as const) {
            const run = await build(lsstRaw(site));
            assert.deepEqual(deployGates(run), [
                "sync deploy-argocd-cachemachine", "check deploy-main-daemon-ready",
                "sync deploy-argocd-csc-cluster-config", "sync deploy-argocd-ospl-config", "sync deploy-argocd-ospl-daemon",
                "check deploy-daemons-ready", "go deploy-go-producers",
                "sync deploy-argocd-kafka-producers", "check deploy-producers-running",
                // (LOVE and its daemon started on bare metal here, each checked by its containers)
                "go deploy-go-obssys",
                "sync deploy-argocd-obssys", "check deploy-obssys-running", "notify deploy-notify-principals", "go deploy-go-rest",
                "sync deploy-argocd-auxtel", "sync deploy-argocd-calsys", "sync deploy-argocd-dmocps", "sync deploy-argocd-eas",
                "sync deploy-argocd-maintel", "sync deploy-argocd-test42", ...RESTS_CHILDREN,
            ], site);
            assert.deepEqual(step(run, "deploy-go-producers").dependsOn, ["deploy-daemons-ready"]);
            assert.deepEqual(step(run, "deploy-go-obssys").dependsOn, ["deploy-love-love01-up"]);
            assert.deepEqual(step(run, "deploy-go-rest").dependsOn, ["deploy-notify-principals"]);
            assert.deepEqual(step(run, "deploy-notify-principals").dependsOn, ["deploy-obssys-running"]);
            for (const g of ["deploy-go-producers", "deploy-go-obssys", "deploy-go-rest"]) assert.equal(step(run, g).kind, "operator-gate");
            assert.ok(!ids(run.steps).includes("deploy-go-love") && !ids(run.steps).includes("deploy-argocd-love"));
        }
    });

    it("LOVE on Kubernetes (no bare-metal LOVE): love and its apps synced after kafka-producers, with sync_apps.py's pause after them", async () => {
        const loveRunning = { type: "k8s", resource: "pods", namespace: "love", field: "status.phase", equals: "Running" };
        const run = await build(lsstRaw("tts", { bareMetal: { love: [], services: [] }, gates: { ...(lsstSite("tts").gates as object), loveRunning } }));
        assert.deepEqual(deployGates(run), [
            "sync deploy-argocd-cachemachine", "check deploy-main-daemon-ready",
            "sync deploy-argocd-csc-cluster-config", "sync deploy-argocd-ospl-config", "sync deploy-argocd-ospl-daemon",
            "check deploy-daemons-ready", "go deploy-go-producers",
            "sync deploy-argocd-kafka-producers", "check deploy-producers-running", "go deploy-go-love",
            "sync deploy-argocd-love", "check deploy-love-running", "go deploy-go-obssys",
            "sync deploy-argocd-obssys", "check deploy-obssys-running", "notify deploy-notify-principals", "go deploy-go-rest",
            "sync deploy-argocd-auxtel", "sync deploy-argocd-calsys", "sync deploy-argocd-dmocps", "sync deploy-argocd-eas",
            "sync deploy-argocd-maintel", "sync deploy-argocd-test42", ...RESTS_CHILDREN,
        ]);
        const syncs = run.steps.filter(s => s.kind === "argocd-sync").map(s => [s.params.app, s.params.wave, s.params.children]);
        assert.deepEqual(syncs.slice(4, 7), [["kafka-producers", 2, false], ["love", 3, true], ["obssys", 4, true]]);
        for (const [before, after] of [["deploy-producers-running", "deploy-go-love"], ["deploy-go-love", "deploy-argocd-love"],
            ["deploy-argocd-love", "deploy-love-running"], ["deploy-love-running", "deploy-go-obssys"]]) {
            assert.deepEqual(step(run, after).dependsOn, [before], `${after} must wait for ${before}`);
        }
        assert.deepEqual(step(run, "deploy-love-running").params.probe, { kubectl: "kubectl --context test", ...loveRunning });
        assert.throws(() => load(lsstRaw("tts", { bareMetal: { love: [], services: [] } })),
            (e: Error) => e instanceof ConfigError && /upgrade:lsst\.gates\.loveRunning: is required: LOVE is synced by Argo CD/.test(e.message));
    });

    it("a gate stands between the waves: the next wave depends on the gate directly", async () => {
        const run = await build(lsstRaw("tts"));
        const direct: [string, string][] = [
            ["deploy-main-daemon-start", "deploy-main-daemon-ready"], ["deploy-main-daemon-ready", "deploy-argocd-csc-cluster-config"],
            ["deploy-argocd-ospl-daemon", "deploy-daemons-ready"], ["deploy-daemons-ready", "deploy-go-producers"],
            ["deploy-go-producers", "deploy-argocd-kafka-producers"],
            ["deploy-argocd-kafka-producers", "deploy-producers-running"], ["deploy-producers-running", "deploy-love-daemon-love01"],
            ["deploy-love-love01-up", "deploy-go-obssys"], ["deploy-go-obssys", "deploy-argocd-obssys"], ["deploy-argocd-obssys", "deploy-obssys-running"],
            ["deploy-obssys-running", "deploy-notify-principals"], ["deploy-notify-principals", "deploy-go-rest"], ["deploy-go-rest", "deploy-argocd-auxtel"], ["deploy-argocd-test42", "deploy-argocd-maintel-children"],
        ];
        for (const [before, after] of direct) assert.deepEqual(step(run, after).dependsOn, [before], `${after} must wait for ${before}`);
        for (const g of ["deploy-main-daemon-ready", "deploy-daemons-ready", "deploy-producers-running", "deploy-obssys-running"]) {
            assert.equal(step(run, g).kind, "probe-gate");
        }
        assert.deepEqual(step(run, "deploy-main-daemon-ready").params.probe,
            { type: "log", command: "ssh daemon-host docker logs ospl-daemon", pattern: "daemon ready" });
        assert.deepEqual(step(run, "deploy-producers-running").params.probe, {
            type: "k8s-logs", kubectl: "kubectl --context test", namespace: "kafka-producers", selector: "app=kafka-producers", pattern: "Running", tail: 1,
        });
        assert.deepEqual(step(run, "deploy-obssys-running").params.probe, {
            type: "k8s", kubectl: "kubectl --context test", resource: "pods", namespace: "obssys", field: "status.phase", equals: "Running",
        });
        // Every gate has a timeout.
        for (const g of run.steps.filter(s => s.kind === "probe-gate")) assert.ok(typeof g.params.timeoutSeconds === "number" && g.params.timeoutSeconds > 0, g.id);
    });

    // lsst-ts/k8s-admin helpers.py (STANDARD_NAMESPACES, API_MAPPING, acknowledge_deletion) and cleanup_all `main`:
    // what `cleanup_all -d` deletes, and its `y to proceed` prompt (no --yes); cleanup_love: deployment, job, hpa in love.
    it("cleanup_all -d and cleanup_love: the site's context, the prompt answered, and what they must leave behind", async () => {
        const run = await build(lsstRaw("tts"));
        const cleanup = step(run, "shutdown-k8s-cleanup");
        assert.equal(cleanup.kind, "k8s-cleanup");
        assert.deepEqual(cleanup.params, {
            command: "./cleanup_all -d", kubectl: "kubectl --context test", context: "test", answer: "y",
            covers: [
                { namespace: "auxtel", kinds: ["job"] }, { namespace: "calsys", kinds: ["job"] }, { namespace: "calsys-lab", kinds: ["job"] },
                { namespace: "control-system-test", kinds: ["job"] }, { namespace: "eas", kinds: ["job"] }, { namespace: "envsys", kinds: ["job"] },
                { namespace: "love", kinds: ["deployment", "job", "hpa"] }, { namespace: "maintel", kinds: ["job"] },
                { namespace: "simonyitel", kinds: ["job"] }, { namespace: "uws", kinds: ["job"], selector: "csc in (atocps, ccocps, raocps)" },
                { namespace: "obssys", kinds: ["job"] }, { namespace: "dds-test", kinds: ["job"] },
                { namespace: "kafka-producers", kinds: ["deployment"] }, { namespace: "ospl-daemon", kinds: ["daemonset"] },
            ],
        });
        assert.deepEqual(step(run, "shutdown-k8s-cleanup-love").params, {
            command: "./cleanup_love", kubectl: "kubectl --context test", context: "test", answer: "y",
            covers: [{ namespace: "love", kinds: ["deployment", "job", "hpa"] }],
        });
        assert.ok(step(run, "shutdown-k8s-cleanup").title.includes("cleanup_all -d"));
        // The context may be named on its own (it must then be lsst.kubectl's), and a site's own list replaces cleanup_all's.
        const own = await build(lsstRaw("summit", { kubectl: "kubectl", kubernetes: { context: "summit", cleanup: "./cleanup_all -d",
            covers: [{ namespace: "obssys", kinds: ["job"] }] } }));
        assert.deepEqual([step(own, "shutdown-k8s-cleanup").params.context, step(own, "shutdown-k8s-cleanup").params.covers],
            ["summit", [{ namespace: "obssys", kinds: ["job"] }]]);
    });

    // lsst-ts/docker-compose-admin: every launch_*/shutdown_* script ends with `cd ~/` (its exit status says nothing),
    // and each machine has its own launch_daemon/shutdown_daemon.
    it("bare metal: every script followed by the gate on its containers; the machines' own OSPL daemons after their services, started before them", async () => {
        const services = [
            { host: "tel-hw1", service: "atmcs-atp", start: "ssh {host} ./launch_atmcs_atp", stop: "ssh {host} ./shutdown_atmcs_atp", containers: ["atmcs-sim", "atpneumatics-sim"] },
            { host: "tel-hw1", service: "ospl-daemon", role: "daemon", start: "ssh {host} ./launch_daemon", stop: "ssh {host} ./shutdown_daemon" },
            { host: "toonie", service: "calsys", start: "ssh {host} ./launch_CalSys_containers.sh", stop: "ssh {host} ./shutdown_CalSys_containers.sh" },
        ];
        const run = await build(lsstRaw("tts", { bareMetal: { love: (lsstSite("tts").bareMetal as { love: unknown[] }).love, services },
            daemonCleanup: [{ host: "dm-host", command: "ssh {host} ./shutdown_daemon", containers: ["ospl-daemon"] }] }));
        const bare = run.steps.filter(s => s.kind === "baremetal-service");
        assert.equal(bare.length, 12);
        for (const b of bare) {
            const next = run.steps.filter(s => s.dependsOn.includes(b.id));
            // The main daemon's start is checked by its fresh log saying "daemon ready".
            const gate = b.id === "deploy-main-daemon-start" ? "deploy-main-daemon-ready" : `${b.id}-${b.params.action === "start" ? "up" : "down"}`;
            assert.deepEqual(next.map(s => [s.id, s.kind]), [[gate, "probe-gate"]], b.id);
        }
        assert.deepEqual(step(run, "shutdown-baremetal-atmcs-atp-tel-hw1-down").params.probe, {
            type: "count",
            command: "{ ssh tel-hw1 docker inspect -f '{{.State.Running}}' atmcs-sim; ssh tel-hw1 docker inspect -f '{{.State.Running}}' atpneumatics-sim; } 2>&1 | grep -cE '^false$|No such (object|container)'",
            pattern: "(\\d+)", counts: "containers of atmcs-atp on tel-hw1 stopped", equals: 2,
        });
        assert.deepEqual((step(run, "deploy-baremetal-calsys-toonie-up").params.probe as Record<string, unknown>).command,
            "{ ssh toonie docker inspect -f '{{.State.Running}}' calsys; } 2>&1 | grep -cE '^true$'");
        assert.deepEqual((step(run, "shutdown-main-daemon-down").params.probe as Record<string, unknown>).command,
            "{ ssh daemon-host docker inspect -f '{{.State.Running}}' ospl-daemon; } 2>&1 | grep -cE '^false$|No such (object|container)'");
        assert.deepEqual((step(run, "shutdown-daemons-dm-host-down").params.probe as Record<string, unknown>).equals, 1);
        // The daemon of tel-hw1 goes after every service, before the federations must reach 0; it comes back before them.
        assertOrder(run, ["shutdown-baremetal-atmcs-atp-tel-hw1-down", "shutdown-baremetal-ospl-daemon-tel-hw1", "shutdown-baremetal-ospl-daemon-tel-hw1-down",
            "shutdown-k8s-cleanup", "shutdown-daemons-disconnected", "shutdown-main-daemon", "shutdown-main-daemon-down"]);
        assert.ok(precedes(run.steps, "shutdown-baremetal-calsys-toonie-down", "shutdown-baremetal-ospl-daemon-tel-hw1"));
        assertParallel(run, ["shutdown-baremetal-atmcs-atp-tel-hw1", "shutdown-baremetal-calsys-toonie"]);
        assertOrder(run, ["deploy-argocd-test42", "deploy-baremetal-ospl-daemon-tel-hw1", "deploy-baremetal-ospl-daemon-tel-hw1-up",
            "deploy-baremetal-atmcs-atp-tel-hw1", "deploy-baremetal-atmcs-atp-tel-hw1-up", "monitor-summary-states"]);
        assert.ok(precedes(run.steps, "deploy-baremetal-ospl-daemon-tel-hw1-up", "deploy-baremetal-calsys-toonie"));
        // A site's own probe, e.g. through a jump host.
        const jump = await build(lsstRaw("tts", { bareMetal: { love: [], services: services.slice(0, 1),
            probe: { command: "ssh -J gw {host} docker container inspect -f '{{.State.Status}}' {container}", running: "^running$", stopped: "^exited$|No such container" } },
            argocd: { love: [] } }));
        assert.deepEqual(step(jump, "deploy-baremetal-atmcs-atp-tel-hw1-up").params.probe, {
            type: "count",
            command: "{ ssh -J gw tel-hw1 docker container inspect -f '{{.State.Status}}' atmcs-sim; ssh -J gw tel-hw1 docker container inspect -f '{{.State.Status}}' atpneumatics-sim; } 2>&1 | grep -cE '^running$'",
            pattern: "(\\d+)", counts: "containers of atmcs-atp on tel-hw1 running", equals: 2,
        });
        assert.equal(step(jump, "deploy-baremetal-atmcs-atp-tel-hw1-up").params.timeoutSeconds, 300);
    });

    it("the optional Nublado pull gate follows the cachemachine restart, before the main daemon starts", async () => {
        const pulled = { type: "exit", command: "curl -sf https://tts.example.org/cachemachine/jupyter/available", timeoutSeconds: 3600 };
        const run = await build(lsstRaw("tts", { nublado: { pulled } }));
        const gate = step(run, "deploy-nublado-pulled");
        assert.equal(gate.kind, "probe-gate");
        assert.deepEqual(gate.dependsOn, ["deploy-nublado-restart"]);
        assert.deepEqual(step(run, "deploy-main-daemon-start").dependsOn, ["deploy-nublado-pulled"]);
        assert.deepEqual([gate.params.probe, gate.params.timeoutSeconds], [{ type: "exit", command: pulled.command, exitCode: 0 }, 3600]);
        assert.ok(!ids((await build(lsstRaw("tts"))).steps).includes("deploy-nublado-pulled"));
    });

    it("touches the production domain only", async () => {
        for (const site of ["summit", "tts"] as const) {
            const run = await build(lsstRaw(site));
            const text = JSON.stringify(run.steps);
            assert.doesNotMatch(text, /Test:42|test-42|ScriptQueue:9|scriptqueue-9/, `${site}: a system outside domain 0 appears in a step`);
            const cscs = run.steps.filter(s => s.kind === "csc-state" && s.params.target === "OFFLINE").map(s => s.params.csc);
            assert.deepEqual(cscs, ["ATDome", "MTM1M3", "MTMount", "ATAOS", "Watcher", "ScriptQueue:1", "ScriptQueue:2"]);
            const monitored = (step(run, "monitor-summary-states").params.probe as { systems: string[] }).systems;
            assert.deepEqual(monitored, ["ATDome", "MTM1M3", "Watcher", "MTMount", "ScriptQueue:1", "ScriptQueue:2", "ATAOS"]);
        }
        // Another production domain id: the other systems become the ones touched.
        const other = await build(lsstRaw("tts", { productionDomainId: 3, enable: [] }));
        assert.deepEqual(other.steps.filter(s => s.kind === "csc-state").map(s => s.params.csc), ["Test:42", "ScriptQueue:9"]);
    });

    it("the Watcher and the ScriptQueues come down last, side by side", async () => {
        for (const site of ["summit", "tts"] as const) {
            const run = await build(lsstRaw(site));
            const last = ["shutdown-offline-watcher", "shutdown-offline-scriptqueue-1", "shutdown-offline-scriptqueue-2"];
            const others = run.steps.filter(s => s.id.startsWith("shutdown-offline-") || s.id.startsWith("shutdown-heartbeat-"))
                .map(s => s.id).filter(id => !last.includes(id));
            assert.ok(others.length >= 4);
            for (const o of others) for (const l of last) assert.ok(precedes(run.steps, o, l), `${site}: ${o} must come before ${l}`);
            assertParallel(run, last);
            assertParallel(run, others.filter(o => o.startsWith("shutdown-offline-")));
            const commands = commandNames(run);
            assert.ok(Math.max(...others.map(o => commands.indexOf(o))) < Math.min(...last.map(l => commands.indexOf(l))));
            // Nothing of the shutdown starts before the last of them is down.
            const next = run.steps.find(s => !s.id.startsWith("shutdown-offline-") && !s.id.startsWith("shutdown-heartbeat-"))!;
            for (const l of last) assert.ok(precedes(run.steps, l, next.id), `${l} before ${next.id}`);
        }
    });

    it("site variations: steps marked (TTS) only at TTS, (Summit) only at Summit", async () => {
        const summit = await build(lsstRaw("summit"));
        const tts = await build(lsstRaw("tts"));
        const TTS_ONLY = ["shutdown-federations-count", "shutdown-federations-down", "shutdown-k8s-cleanup-love"];
        for (const id of TTS_ONLY) {
            assert.ok(ids(tts.steps).includes(id), `${id} at TTS`);
            assert.ok(!ids(summit.steps).includes(id), `${id} not at Summit`);
        }
        assert.ok(ids(summit.steps).includes("shutdown-heartbeat-mtm1m3"));
        assert.ok(!ids(tts.steps).some(id => id.startsWith("shutdown-heartbeat-")));
        // The heartbeat gate follows the system that stops at STANDBY, before the Watcher and the ScriptQueues.
        assert.deepEqual(step(summit, "shutdown-heartbeat-mtm1m3").dependsOn, ["shutdown-offline-mtm1m3"]);
        assert.deepEqual(step(summit, "shutdown-heartbeat-mtm1m3").params.probe,
            { type: "count", command: "heartbeats MTM1M3", pattern: "(\\d+)", counts: "heartbeats of MTM1M3", equals: 0 });
        assert.deepEqual(step(summit, "shutdown-offline-mtm1m3").params.accept, ["STANDBY", "OFFLINE"]);
        assert.deepEqual(step(summit, "shutdown-offline-atdome").params.accept, ["OFFLINE"]);
        // The federations must go down below the number noted before the DM/Camera cleanup, with the seed's patience.
        const down = step(tts, "shutdown-federations-down");
        assert.deepEqual((down.params.probe as Record<string, unknown>).below, { from: "shutdown-federations-count.count" });
        assert.equal(down.params.warnAfterSeconds, 30);
        assert.equal(down.params.timeoutSeconds, 120);
        assert.deepEqual(down.dependsOn, ["shutdown-daemons-dm-host", "shutdown-daemons-camera-host", "shutdown-federations-count"]);
        // A stack may override the site's marks.
        const summitWithLove = await build(lsstRaw("summit", { variations: { cleanupLove: true, heartbeatCheck: false } }));
        assert.ok(ids(summitWithLove.steps).includes("shutdown-k8s-cleanup-love"));
        assert.ok(!ids(summitWithLove.steps).includes("shutdown-heartbeat-mtm1m3"));
    });

    it("the example stacks: lsst-summit and lsst-tts differ exactly by the site-marked steps", async () => {
        const summit = loadStack("lsst-summit", ROOT).config;
        const tts = loadStack("lsst-tts", ROOT).config;
        const s = await buildUnderMocks(summit);
        const t = await buildUnderMocks(tts);
        const onlyTts = ids(t.steps).filter(id => !ids(s.steps).includes(id));
        const onlySummit = ids(s.steps).filter(id => !ids(t.steps).includes(id));
        assert.ok(onlyTts.includes("shutdown-federations-down") && onlyTts.includes("shutdown-k8s-cleanup-love"), onlyTts.join(", "));
        assert.deepEqual(onlySummit.filter(id => id.startsWith("shutdown-heartbeat-")), ["shutdown-heartbeat-atcamera", "shutdown-heartbeat-mtm1m3", "shutdown-heartbeat-mtmount"]);
        for (const run of [s, t]) {
            assert.doesNotMatch(JSON.stringify(run.steps), /Test:\d|ScriptQueue:3/);
            assert.equal(run.steps[run.steps.length - 1].id, "monitor-nublado-open");
        }
    });

    it("registers steps, their command resources and the site's Kubernetes patches; the one invoke is the patches' server-side dry run", async () => {
        const run = await build(lsstRaw("tts"));
        const types = new Set(run.registrations.map(r => r.type));
        for (const t of types) {
            assert.ok(/^(upgrade:step:[A-Za-z0-9]+|upgrade:lsst:SiteUpgrade|command:local:Command|pulumi:providers:kubernetes|kubernetes:argoproj.io\/v1alpha1:ApplicationPatch|kubernetes:apps\/v1:DeploymentPatch)$/.test(t),
                `unexpected resource type ${t}`);
        }
        assert.ok(!types.has("command:remote:Command"));
        assert.ok(![...types].some(t => t.startsWith("docker:")));
        // One provider for the site; one Application patch per sync step, one Deployment patch for the restart.
        const of = (type: string) => run.registrations.filter(r => r.type === type).map(r => r.name).sort();
        assert.deepEqual(of("pulumi:providers:kubernetes"), ["lsst-site-upgrade-cluster"]);
        // Each named after its step and this run (a new run key is a new patch, a new sync).
        const patches = of("kubernetes:argoproj.io/v1alpha1:ApplicationPatch");
        assert.ok(patches.every(n => /-[0-9a-f]{8}$/.test(n)), patches.join(", "));
        // (The steps that sync the children of an app synced before them have no patch: the children are known only then.)
        const patched = run.steps.filter(s => s.kind === "argocd-sync" && !s.params.parentSynced);
        assert.equal(patched.length, 12);
        assert.deepEqual(patches.map(n => n.slice(0, -9)).sort(), patched.map(s => s.id).sort());
        assert.deepEqual(of("kubernetes:apps/v1:DeploymentPatch"), ["deploy-nublado-restart"]);
        // The provider does not preview a Patch resource: one read-only invoke has the API server check them all
        // (components/kubernetes/server-dry-run.ts), through the step-shell launcher.
        assert.deepEqual(run.invokes, ["command:local:run"]);
        const line = String(run.invokeInputs[0].command);
        assert.deepEqual(run.invokeInputs[0].interpreter, SHELL_INTERPRETER);
        const checked = [...line.matchAll(/ get (\S+) (\S+) -n (\S+) -o name/g)].map(m => `${m[1]} ${m[3]}/${m[2]}`);
        assert.deepEqual(checked.sort(), [
            ...patched.map(s => `applications.argoproj.io argocd/${s.params.app}`),
            ...run.steps.filter(s => s.kind === "k8s-pod-restart").map(s => `deployments.apps ${s.params.namespace}/${s.params.deployment}`),
        ].sort());
        assert.equal(line.match(/apply --server-side --dry-run=server --force-conflicts/g)?.length, checked.length);
        assert.doesNotMatch(line, / apply (?!--server-side --dry-run=server)/, "every apply is a dry run");
        assert.equal(commandNames(run).length, run.steps.length);
        // Runner steps run the step runner; shell steps run their configured command with bash.
        const runner = run.registrations.find(r => r.name === "deploy-argocd-obssys" && r.type === "command:local:Command")!;
        assert.equal(runner.inputs.create, "node bin/step.js argocd-sync deploy-argocd-obssys");
        const shell = run.registrations.find(r => r.name === "shutdown-main-daemon" && r.type === "command:local:Command")!;
        assert.equal(shell.inputs.create, "ssh daemon-host ./shutdown_daemon");
        // bash behind the launcher that applies the step environment allow-list (bin/step-shell.js).
        assert.deepEqual(shell.inputs.interpreter, ["node", "bin/step-shell.js"]);
    });

    it("the Slack webhook is a secret: only the notify steps get it, never in their params", async () => {
        const url = "https://hooks.slack.com/services/T000/B000/XXXXSECRET";
        const run = await build(lsstRaw("tts", {}, { lsstSlackWebhook: url }), { secretKeys: ["lsstSlackWebhook"] });
        const notifies = run.steps.filter(s => s.kind === "notify").map(s => s.id);
        assert.deepEqual(notifies, ["deploy-notify-principals", "monitor-report", "monitor-nublado-open"]);
        const SECRET_SIG = "4dabf18193072939515e22adb298388d";
        for (const r of run.registrations) {
            // Everything but the (secret-wrapped) environment is free of the webhook.
            assert.doesNotMatch(JSON.stringify({ ...r.inputs, environment: undefined }), /XXXXSECRET/, `${r.name} shows the webhook`);
            if (r.type !== "command:local:Command") continue;
            const env = r.inputs.environment as Record<string, unknown>;
            const value = commandEnv(run, r.name);
            if (notifies.includes(r.name)) {
                assert.equal(value.SLACK_WEBHOOK_URL, url);
                assert.ok(SECRET_SIG in env, `${r.name}: the environment holding the webhook must be a secret`);
            } else {
                assert.equal(value.SLACK_WEBHOOK_URL, undefined, r.name);
                assert.doesNotMatch(JSON.stringify(env), /XXXXSECRET/, r.name);
            }
            // (unknown in a preview where the params hold an earlier step's output)
            for (const [k, v] of Object.entries(value)) if (k.startsWith("UPGRADE_") && typeof v === "string") assert.doesNotMatch(v, /XXXXSECRET/);
        }
        assert.throws(() => load(lsstRaw("tts", {}, { lsstSlackWebhook: url })),
            (e: Error) => e instanceof ConfigError && /upgrade:lsstSlackWebhook: must be a secret/.test(e.message));
    });

    it("passes results between steps: the noted federations count and the monitoring's stragglers", async () => {
        const run = await build(lsstRaw("tts"), {
            results: {
                "shutdown-federations-count": { count: 7 },
                "monitor-summary-states": { ready: false, notReady: ["MTM1M3 (FAULT)"] },
            },
        });
        const spec = (id: string) => runnerSpecOf(run, id);
        assert.equal((spec("shutdown-federations-down").params.probe as { below: number }).below, 7);
        assert.deepEqual(spec("monitor-report").params.stragglers, ["MTM1M3 (FAULT)"]);
        assert.equal(spec("monitor-report").params.channel, "#test-ops");
        assert.deepEqual(step(run, "monitor-report").params.stragglers, { from: "monitor-summary-states.notReady" });
    });

    it("rejects bad site configurations, naming the path", () => {
        const BROKEN: [string, RawConfig, string, RegExp][] = [
            ["no lsst section", { procedure: "lsst-site-upgrade", target: "x" }, "upgrade:lsst", /required by procedure lsst-site-upgrade/],
            ["an lsst section for another procedure", { procedure: "release", target: "x", release: { projectDir: "/p" }, lsst: lsstSite("tts") }, "upgrade:lsst", /only read by procedure lsst-site-upgrade/],
            ["an unknown site", lsstRaw("tts", { site: "chile" }), "upgrade:lsst.site", /summit, tts/],
            ["enabling an unknown system", lsstRaw("tts", { enable: ["ATDome", "MTDome"] }), "upgrade:lsst.enable[1]", /unknown system "MTDome"/],
            ["enabling a system of another domain", lsstRaw("tts", { enable: ["Test:42"] }), "upgrade:lsst.enable[0]", /not the production domain/],
            ["no heartbeat probe at the Summit", lsstRaw("summit", { csc: { stateCommand: "s", stateProbe: "p" } }), "upgrade:lsst.csc.heartbeatProbe", /heartbeat check is on/],
            ["cleanup_love without its command", lsstRaw("tts", { kubernetes: { cleanup: "./cleanup_all -d" } }), "upgrade:lsst.kubernetes.cleanupLove", /cleanupLove variation/],
            ["LOVE synced by Argo CD while it runs on bare metal", lsstRaw("tts", { argocd: { rest: ["love", "ocps"] } }), "upgrade:lsst.argocd.rest[0]", /--no-sync=love/],
            ["an application in two waves", lsstRaw("tts", { argocd: { producers: ["kafka-producers", "ospl-daemon"] } }), "upgrade:lsst.argocd.producers[1]", /already synced in argocd\.minimal/],
            ["a k8s gate without field or condition", lsstRaw("tts", { gates: { ...(lsstSite("tts").gates as object), obssysRunning: { type: "k8s", resource: "pods", namespace: "obssys" } } }), "upgrade:lsst.gates.obssysRunning", /exactly one of field/],
            ["a federations pattern that captures nothing", lsstRaw("tts", { mainDaemon: { host: "h", start: "a", stop: "b", federationsPattern: "federations" } }), "upgrade:lsst.mainDaemon.federationsPattern", /capture the number/],
            ["a system listed twice", lsstRaw("tts", { systems: [{ name: "ATDome", domainId: 0 }, { name: "ATDome", domainId: 0 }] }), "upgrade:lsst.systems[1].name", /listed twice/],
            ["no production system", lsstRaw("tts", { systems: [{ name: "Test", domainId: 2 }], enable: [] }), "upgrade:lsst.systems", /production domain/],
            ["a Slack channel without #", lsstRaw("tts", { slack: { channel: "tts-ops" } }), "upgrade:lsst.slack.channel", /Slack channel/],
            ["a misspelt key", lsstRaw("tts", { daemonCleanups: [] }), "upgrade:lsst.daemonCleanups", /not a known setting/],
            ["no kube context for cleanup_all", lsstRaw("tts", { kubectl: "kubectl" }), "upgrade:lsst.kubernetes.context", /cleanup_all runs plain kubectl on the current context/],
            ["a kube context that is not lsst.kubectl's", lsstRaw("tts", { kubernetes: { context: "summit", cleanup: "c", cleanupLove: "l" } }), "upgrade:lsst.kubernetes.context", /"summit" is not the context of lsst\.kubectl \(test\)/],
            ["a cleanup that would delete Applications", lsstRaw("tts", { kubernetes: { cleanup: "c", cleanupLove: "l", covers: [{ namespace: "argocd", kinds: ["application"] }] } }), "upgrade:lsst.kubernetes.covers[0].kinds[0]", /never an Application/],
            ["a cleanup selector with shell text", lsstRaw("tts", { kubernetes: { cleanup: "c", cleanupLove: "l", covers: [{ namespace: "uws", kinds: ["job"], selector: "a=b; rm -rf ~" }] } }), "upgrade:lsst.kubernetes.covers[0].selector", /label selector/],
            ["a container probe that names no container", lsstRaw("tts", { bareMetal: { probe: { command: "ssh {host} docker ps" } } }), "upgrade:lsst.bareMetal.probe.command", /must name the container with \{container\}/],
            ["a container name with shell text", lsstRaw("tts", { bareMetal: { services: [{ host: "h", service: "s", start: "a", stop: "b", containers: ["x;reboot"] }] } }), "upgrade:lsst.bareMetal.services[0].containers[0]", /Docker container name/],
            ["a stopped pattern that is not a regular expression", lsstRaw("tts", { bareMetal: { probe: { stopped: "(" } } }), "upgrade:lsst.bareMetal.probe.stopped", /regular expression/],
            ["LOVE's daemon before LOVE", lsstRaw("tts", { bareMetal: { love: [{ host: "l", service: "d", role: "daemon", start: "a", stop: "b" }, { host: "l", service: "love", start: "a", stop: "b" }] } }), "upgrade:lsst.bareMetal.love[0].role", /LOVE's daemon comes last/],
            ["an unknown service role", lsstRaw("tts", { bareMetal: { services: [{ host: "h", service: "s", role: "csc", start: "a", stop: "b" }] } }), "upgrade:lsst.bareMetal.services[0].role", /service|daemon/],
        ];
        for (const [what, raw, where, words] of BROKEN) {
            let problems: string[] = [];
            try {
                load(raw);
            } catch (err) {
                assert.ok(err instanceof ConfigError, `${what}: ${err}`);
                problems = (err as ConfigError).problems.map(p => `${p.path}: ${p.message}`);
            }
            const hit = problems.find(p => p.startsWith(`${where}: `));
            assert.ok(hit, `${what}: expected a problem at ${where}, got:\n${problems.join("\n") || "(accepted)"}`);
            assert.match(hit!, words, `${what}: ${hit}`);
        }
    });

    it("plan prints both site stacks as JSON in the shared vocabulary", () => {
        for (const stack of ["lsst-summit", "lsst-tts"]) {
            const r = spawnSync(process.execPath, [path.join(ROOT, "bin/plan.js"), "--stack", stack, "--format", "json"], { cwd: ROOT, encoding: "utf8" });
            assert.equal(r.status, 0, r.stderr);
            const plan = JSON.parse(r.stdout) as { procedure: string; steps: StepRecord[] };
            assert.equal(plan.procedure, "lsst-site-upgrade");
            const seen = new Set<string>();
            for (const s of plan.steps) {
                for (const d of s.dependsOn) assert.ok(seen.has(d), `${stack}: ${s.id} before its dependency ${d}`);
                seen.add(s.id);
            }
            const states = plan.steps.filter(s => s.kind === "csc-state");
            assert.ok(states.every(s => ["OFFLINE", "ENABLED"].includes(String(s.params.target)) && typeof s.params.csc === "string"));
            assert.ok(plan.steps.filter(s => s.kind === "argocd-sync").every(s => typeof s.params.app === "string" && typeof s.params.wave === "number"));
            assert.ok(plan.steps.filter(s => s.kind === "baremetal-service").every(s => s.params.host && s.params.service && ["start", "stop"].includes(String(s.params.action))));
            assert.ok(plan.steps.filter(s => s.kind === "notify").every(s => String(s.params.channel).startsWith("#")));
            assert.ok(plan.steps.filter(s => s.kind === "probe-gate").every(s => s.params.probe && typeof s.params.probe === "object"));
        }
    });
});
