import { strict as assert } from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { Readable } from "stream";
import { runnerEnvironment } from "../../components/core/step-env";
import { runStep } from "../../cli/step/main";
import { RawConfig } from "../support/configs";

export const ROOT = path.resolve(__dirname, "..", "..");
export const LAB = path.join(ROOT, "lab", "lsst");
// The stand-ins test/lsst/engine.test.ts still uses (every other LSST test runs the Kubernetes and Docker labs).
export const FAKE_CSC = path.join(LAB, "fake-csc.js");

/** The real kubectl; the tests that need it fail (never skip) without it. */
export function realKubectl(): string {
    for (const candidate of [process.env.KUBECTL, "/usr/bin/kubectl", "/usr/local/bin/kubectl"]) {
        if (candidate && fs.existsSync(candidate)) return candidate;
    }
    assert.fail("kubectl is needed (apt-get install kubernetes-client, or set KUBECTL): the tests check patches with `kubectl patch --local` and run it against the lab cluster");
}

export function tmpDir(prefix: string): string {
    return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

export interface StepRun {
    logs: string[];
    result: Promise<Record<string, unknown>>;
}

/** Run one step through the step runner, in this process, as its command resource would. */
export function runLsstStep(kind: string, params: Record<string, unknown>, env: Record<string, string> = {}, id = `t-${kind}`): StepRun {
    const logs: string[] = [];
    const full = { ...process.env, ...env, ...runnerEnvironment({ id, kind, params }), UPGRADE_STACK: "test" };
    return { logs, result: runStep([kind, id], full, Readable.from([""]), l => logs.push(l)) };
}

/** An await that must fail: returns the error's message. */
export async function failureOf(p: Promise<unknown>): Promise<string> {
    try {
        await p;
    } catch (err) {
        return (err as Error).message;
    }
    assert.fail("the step succeeded, a failure was expected");
}

// ---------------------------------------------------------------------------------------------------------------
// Stand-in CSCs

export class FakeCscs {
    readonly dir: string;

    constructor(cscs: Record<string, Record<string, unknown>>) {
        this.dir = tmpDir("lsst-csc-");
        for (const [name, c] of Object.entries(cscs)) this.set(name, c);
    }

    set(name: string, c: Record<string, unknown>): void {
        fs.writeFileSync(path.join(this.dir, `${name.replace(/:/g, "_")}.json`), JSON.stringify(c));
    }

    get env(): Record<string, string> {
        return { FAKE_CSC_DIR: this.dir };
    }

    get stateCommand(): string {
        return `${FAKE_CSC} set {csc} {state}`;
    }

    get stateProbe(): string {
        return `${FAKE_CSC} state {csc}`;
    }

    get heartbeatProbe(): string {
        return `${FAKE_CSC} heartbeats {csc}`;
    }

    /** "set <csc> <state>" lines, in order. */
    commands(): string[] {
        const f = path.join(this.dir, "commands.log");
        return fs.existsSync(f) ? fs.readFileSync(f, "utf8").trim().split("\n").map(l => l.split(" ").slice(1).join(" ")).filter(l => l.startsWith("set ")) : [];
    }
}

// ---------------------------------------------------------------------------------------------------------------
// Configurations

/** A compact site: four production systems (one stops at STANDBY), the Watcher, two ScriptQueues, one test-domain system. */
export function lsstSite(site: "summit" | "tts", over: Record<string, unknown> = {}): Record<string, unknown> {
    return {
        site,
        kubectl: "kubectl --context test",
        systems: [
            { name: "ATDome", domainId: 0 },
            { name: "MTM1M3", domainId: 0, stopsAt: "STANDBY" },
            { name: "Watcher", domainId: 0 },
            { name: "MTMount", domainId: 0 },
            { name: "ScriptQueue:1", domainId: 0 },
            { name: "ScriptQueue:2", domainId: 0 },
            { name: "ATAOS", domainId: 0 },
            { name: "Test:42", domainId: 3 },
            { name: "ScriptQueue:9", domainId: 3 },
        ],
        csc: { stateCommand: "set-state {csc} {state}", stateProbe: "get-state {csc}", heartbeatProbe: { command: "heartbeats {csc}" } },
        mainDaemon: { host: "daemon-host", start: "ssh {host} ./launch_daemon", stop: "ssh {host} ./shutdown_daemon" },
        daemonCleanup: [{ host: "dm-host", command: "ssh {host} ./shutdown_daemon" }, { host: "camera-host", command: "ssh {host} ./shutdown_daemon" }],
        bareMetal: {
            love: [
                { host: "love01", service: "love", start: "ssh {host} ./launch_love", stop: "ssh {host} ./shutdown_love" },
                { host: "love01", service: "love-daemon", start: "ssh {host} ./launch_daemon", stop: "ssh {host} ./shutdown_daemon" },
            ],
            services: [
                { host: "tel-hw1", service: "atmcs", start: "ssh {host} ./launch_atmcs", stop: "ssh {host} ./shutdown_atmcs" },
                { host: "tel-hw2", service: "m1m3", start: "ssh {host} ./launch_m1m3", stop: "ssh {host} ./shutdown_m1m3" },
            ],
        },
        kubernetes: { cleanup: "./cleanup_all -d", cleanupLove: "./cleanup_love" },
        gates: {
            daemonsReady: { type: "k8s-logs", namespace: "ospl-daemon", selector: "app=ospl-daemon", pattern: "daemon ready" },
            producersRunning: { type: "k8s-logs", namespace: "kafka-producers", selector: "app=kafka-producers", pattern: "Running", tail: 1 },
            obssysRunning: { type: "k8s", resource: "pods", namespace: "obssys", field: "status.phase", equals: "Running" },
        },
        configUpdate: {
            pullRequests: [{ name: "cachemachine", merge: "gh pr merge 1", approved: { command: "gh pr view 1" } }, { name: "argocd", merge: "gh pr merge 2" }],
            checkouts: [{ host: "tel-hw1", command: "ssh {host} ./update_repo" }],
        },
        enable: ["Watcher", "ScriptQueue:1"],
        slack: { channel: "#test-ops" },
        ...over,
    };
}

export function lsstRaw(site: "summit" | "tts", over: Record<string, unknown> = {}, top: RawConfig = {}): RawConfig {
    return { procedure: "lsst-site-upgrade", target: "cycle-0034", lsst: lsstSite(site, over), ...top };
}
