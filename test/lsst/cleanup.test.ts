/**
 * The `k8s-cleanup` step kind: k8s-admin's `cleanup_all -d` / `cleanup_love` run as the sites run them
 * today, against a recording kubectl (workloads in a JSON file; `config` subcommands by the real kubectl).
 *
 * What it encodes, from lsst-ts/k8s-admin (d0c5cca4): helpers.py `acknowledge_deletion` asks
 * "y to proceed, any other key to exit" (no --yes flag anywhere) and exits 255 otherwise; every command
 * is plain `kubectl` on the current context (`kubectl config current-context`); `run_cmd` ignores
 * kubectl's exit status, so the script exits 0 whatever it deleted.
 */
import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import { failureOf, realKubectl, runLsstStep, tmpDir } from "./support";

interface Obj { namespace: string; kind: string; name: string; labels?: Record<string, string> }

/** A kubectl that keeps workloads in state.json, records its calls, and hands `config` to the real kubectl. */
const STUB = `#!/usr/bin/env node
const fs = require("fs"), path = require("path"), { spawnSync } = require("child_process");
const dir = process.env.STUB_DIR;
const args = process.argv.slice(2);
fs.appendFileSync(path.join(dir, "calls.log"), JSON.stringify({ args, kubeconfig: process.env.KUBECONFIG || null }) + "\\n");
const plain = [];
for (let i = 0; i < args.length; i++) { if (args[i] === "--context") i++; else plain.push(args[i]); }
if (plain[0] === "config") {
    const r = spawnSync(process.env.REAL_KUBECTL, args, { encoding: "utf8" });
    process.stdout.write(r.stdout); process.stderr.write(r.stderr); process.exit(r.status ?? 1);
}
const file = path.join(dir, "state.json");
const state = JSON.parse(fs.readFileSync(file, "utf8"));
const opt = k => { const i = plain.indexOf(k); return i < 0 ? undefined : plain[i + 1]; };
const kinds = plain[1].split(","), ns = opt("-n"), sel = opt("-l");
const matches = o => {
    if (o.namespace !== ns || !kinds.includes(o.kind)) return false;
    if (!sel) return true;
    const m = /^(\\S+) in \\((.*)\\)$/.exec(sel);
    if (m) return m[2].split(",").map(s => s.trim()).includes((o.labels || {})[m[1]]);
    const [k, v] = sel.split("=");
    return (o.labels || {})[k] === v;
};
if (plain[0] === "get") {
    for (const o of state.filter(matches)) console.log(o.kind + ".apps/" + o.name);
    process.exit(0);
}
if (plain[0] === "delete") {
    if (!sel && !plain.includes("--all")) { console.error("error: resource(s) were provided, but no name was specified"); process.exit(1); }
    if ((JSON.parse(fs.readFileSync(path.join(dir, "stuck.json"), "utf8"))).includes(ns)) {
        console.error("Error from server (Forbidden): cannot delete in namespace " + ns); process.exit(1);
    }
    const gone = state.filter(matches);
    fs.writeFileSync(file, JSON.stringify(state.filter(o => !matches(o))));
    for (const o of gone) console.log(o.kind + ".apps \\"" + o.name + "\\" deleted");
    process.exit(0);
}
console.error("stub kubectl: unsupported " + plain.join(" ")); process.exit(2);
`;

/** The operator's kubeconfig: two sites, the current context is the other site's. */
const KUBECONFIG = `apiVersion: v1
kind: Config
clusters:
- { name: summit, cluster: { server: "https://127.0.0.1:1" } }
- { name: tts, cluster: { server: "https://127.0.0.1:2" } }
contexts:
- { name: summit, context: { cluster: summit, user: op } }
- { name: tts, context: { cluster: tts, user: op } }
current-context: summit
users:
- { name: op, user: { token: not-a-real-token } }
`;

/** cleanup_all's shape: the prompt, the current context printed, then plain kubectl deletes whose status is ignored. */
const script = (deletes: string, exit = 0) => `read -r answer || { echo 'EOFError: EOF when reading a line' >&2; exit 1; }
[ "$answer" = y ] || { echo Exiting; exit 255; }
echo "Proceeding with $(kubectl config current-context) resource deletion."
${deletes}
exit ${exit}`;

class Site {
    readonly dir = tmpDir("lsst-cleanup-");
    readonly kubeconfig = path.join(this.dir, "operator-kubeconfig");

    constructor(objects: Obj[], stuck: string[] = []) {
        fs.writeFileSync(path.join(this.dir, "kubectl"), STUB, { mode: 0o755 });
        fs.writeFileSync(path.join(this.dir, "state.json"), JSON.stringify(objects));
        fs.writeFileSync(path.join(this.dir, "stuck.json"), JSON.stringify(stuck));
        fs.writeFileSync(this.kubeconfig, KUBECONFIG);
    }

    get env(): Record<string, string> {
        return { STUB_DIR: this.dir, REAL_KUBECTL: realKubectl(), KUBECONFIG: this.kubeconfig, PATH: `${this.dir}:${process.env.PATH}` };
    }

    objects(): Obj[] {
        return JSON.parse(fs.readFileSync(path.join(this.dir, "state.json"), "utf8")) as Obj[];
    }

    calls(): { args: string[]; kubeconfig: string | null }[] {
        const file = path.join(this.dir, "calls.log");
        return fs.existsSync(file) ? fs.readFileSync(file, "utf8").trim().split("\n").map(l => JSON.parse(l)) : [];
    }

    run(command: string, covers: unknown[]) {
        return runLsstStep("k8s-cleanup", { command, kubectl: `${path.join(this.dir, "kubectl")} --context tts`, context: "tts", answer: "y", covers }, this.env);
    }
}

const COVERS = [
    { namespace: "obssys", kinds: ["job"] },
    { namespace: "uws", kinds: ["job"], selector: "csc in (atocps, ccocps, raocps)" },
    { namespace: "kafka-producers", kinds: ["deployment"] },
    { namespace: "ospl-daemon", kinds: ["daemonset"] },
];
const WORKLOADS: Obj[] = [
    { namespace: "obssys", kind: "job", name: "watcher" },
    { namespace: "uws", kind: "job", name: "atocps", labels: { csc: "atocps" } },
    { namespace: "uws", kind: "job", name: "uws-server", labels: { app: "uws" } },
    { namespace: "kafka-producers", kind: "deployment", name: "producer-atdome" },
    { namespace: "ospl-daemon", kind: "daemonset", name: "ospl-daemon" },
    { namespace: "argocd", kind: "application", name: "obssys" },
];
const DELETES = [
    "kubectl delete job -n obssys --all", "kubectl delete job -n uws -l 'csc in (atocps, ccocps, raocps)'",
    "kubectl delete deployment -n kafka-producers --all", "kubectl delete daemonset -n ospl-daemon --all",
].join("\n");
const KEPT = [{ namespace: "uws", kind: "job", name: "uws-server", labels: { app: "uws" } }, { namespace: "argocd", kind: "application", name: "obssys" }];

describe("k8s-cleanup: cleanup_all -d with the site's context, its prompt answered, its effect checked", function () {
    this.timeout(60000);

    it("answers the prompt, runs the script on the site's context only, leaves the operator's kubeconfig alone, then checks nothing is left", async () => {
        const site = new Site(WORKLOADS);
        const before = fs.readFileSync(site.kubeconfig, "utf8");
        const s = site.run(script(DELETES), COVERS);
        const r = await s.result;
        assert.deepEqual(r, { method: "script", left: [], checked: [
            "job in obssys", "job in uws (csc in (atocps, ccocps, raocps))", "deployment in kafka-producers", "daemonset in ospl-daemon"] });
        assert.ok(s.logs.some(l => /Proceeding with tts resource deletion\./.test(l)), s.logs.join("\n"));
        assert.deepEqual(site.objects(), KEPT);
        assert.equal(fs.readFileSync(site.kubeconfig, "utf8"), before, "the operator's kubeconfig is unchanged (current-context summit)");
        // The script's kubectl calls used a kubeconfig of their own, removed afterwards; the checks use lsst.kubectl.
        const calls = site.calls();
        const scripted = calls.filter(c => c.kubeconfig !== site.kubeconfig);
        assert.equal(new Set(scripted.map(c => c.kubeconfig)).size, 1);
        assert.ok(!fs.existsSync(scripted[0].kubeconfig!), "the site's kubeconfig is removed after the script");
        assert.deepEqual(calls.filter(c => c.args[2] === "get").map(c => c.args.slice(2)), COVERS.map(c =>
            ["get", c.kinds.join(","), "-n", c.namespace, ...(c.selector ? ["-l", c.selector] : []), "-o", "name"]));
        assert.ok(calls.every(c => c.kubeconfig === site.kubeconfig || c.args[0] !== "--context"), "the checks run lsst.kubectl on the operator's kubeconfig");
    });

    it("a script that exits 0 but deletes nothing (another context, a missing namespace) is not trusted: the fall back deletes what is left", async () => {
        const site = new Site(WORKLOADS);
        const s = site.run(script("kubectl delete job -n nowhere --all"), COVERS);
        const r = await s.result;
        assert.equal(r.method, "fallback");
        assert.match(String(r.scriptError), /left job\.apps\/watcher in obssys, job\.apps\/atocps in uws, deployment\.apps\/producer-atdome in kafka-producers, daemonset\.apps\/ospl-daemon in ospl-daemon/);
        assert.deepEqual(site.objects(), KEPT, "the UWS server and the Application stay");
        const deletes = site.calls().filter(c => c.args[2] === "delete").map(c => c.args.slice(2));
        assert.deepEqual(deletes, [
            ["delete", "job", "-n", "obssys", "--all", "--ignore-not-found"],
            ["delete", "job", "-n", "uws", "-l", "csc in (atocps, ccocps, raocps)", "--ignore-not-found"],
            ["delete", "deployment", "-n", "kafka-producers", "--all", "--ignore-not-found"],
            ["delete", "daemonset", "-n", "ospl-daemon", "--all", "--ignore-not-found"],
        ]);
    });

    it("a failing script (the prompt not answered y) falls back to the same namespaces", async () => {
        const site = new Site(WORKLOADS);
        const r = await site.run(script(DELETES).replace('[ "$answer" = y ]', '[ "$answer" = yes ]'), COVERS).result;
        assert.equal(r.method, "fallback");
        assert.match(String(r.scriptError), /exited 255: Exiting/);
        assert.deepEqual(site.objects(), KEPT);
    });

    it("fails naming what is still there when the fall back cannot delete it either", async () => {
        const site = new Site(WORKLOADS, ["kafka-producers"]);
        const message = await failureOf(site.run(script("", 1), COVERS).result);
        assert.match(message, /^the cleanup script did not clean up \(`[\s\S]*` exited 1: Proceeding with tts resource deletion\.\) and neither did the fall back:/);
        assert.match(message, /Forbidden\): cannot delete in namespace kafka-producers/);
        assert.match(message, /still there: deployment\.apps\/producer-atdome in kafka-producers$/);
    });

    it("refuses to delete anything but workloads, before running anything", async () => {
        const site = new Site(WORKLOADS);
        const message = await failureOf(site.run(script(DELETES), [{ namespace: "argocd", kinds: ["application"] }]).result);
        assert.match(message, /refusing to delete application: the cleanup deletes job\/deployment\/daemonset\/hpa only, never the application itself/);
        assert.deepEqual(site.calls(), []);
    });

    it("names the site's context when the kubeconfig does not have it", async () => {
        const site = new Site(WORKLOADS);
        fs.writeFileSync(site.kubeconfig, KUBECONFIG.replace(/- \{ name: tts, context.*\n/, ""));
        const message = await failureOf(site.run(script(DELETES), COVERS).result);
        assert.match(message, /cannot make a kubeconfig with the site's context tts only: .*config view --minify --flatten --context tts/);
        assert.equal(site.objects().length, WORKLOADS.length, "nothing ran");
    });
});
