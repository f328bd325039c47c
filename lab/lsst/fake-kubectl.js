#!/usr/bin/env node
/*
 * A stand-in for kubectl against a simulated cluster, for the LSST tests (no cluster here).
 *
 * State lives in $FAKE_K8S_DIR:
 *   objects/<resource>/<namespace>/<name>.json   the objects (resource: applications.argoproj.io, pods, jobs, ...)
 *   objects/.../<name>.fake.json                 how the object behaves (see below)
 *   objects/pods/<namespace>/.restart.json       the pod that replaces a deleted one: {prefix, labels, runningAfterMs, log}
 *   calls.log                                    one JSON argv per line, in call order
 *
 * Argo CD is simulated on read: an Application whose `operation` was set by a patch starts its
 * operation after `startAfterMs`, ends it after `finishAfterMs` with `phase` (Succeeded) and then
 * reports `health` (Healthy) once `healthyAfterMs` passed; with `drop` the operation is discarded
 * without running. The patch itself is applied by the real
 * kubectl (`kubectl patch --local`), so an invalid merge patch fails here as it would on a cluster.
 * Pods start Pending and are Running and ready after `runningAfterMs`; their log lines appear at
 * `log[i].afterMs`. A delete of anything but job/deployment/daemonset/pod is refused.
 */
"use strict";
const fs = require("fs");
const path = require("path");
const { spawnSync } = require("child_process");

const dir = process.env.FAKE_K8S_DIR;
const realKubectl = process.env.FAKE_K8S_REAL_KUBECTL || "kubectl";
const argv = process.argv.slice(2);

function die(message, code = 1) {
    process.stderr.write(`${message}\n`);
    process.exit(code);
}
if (!dir) die("fake-kubectl: FAKE_K8S_DIR is not set");
fs.appendFileSync(path.join(dir, "calls.log"), JSON.stringify(argv) + "\n");

const ALIASES = {
    application: "applications.argoproj.io", applications: "applications.argoproj.io", "applications.argoproj.io": "applications.argoproj.io",
    app: "applications.argoproj.io", pod: "pods", pods: "pods", job: "jobs", jobs: "jobs", deployment: "deployments",
    deployments: "deployments", daemonset: "daemonsets", daemonsets: "daemonsets",
};
const KIND_OF = { jobs: "job.batch", deployments: "deployment.apps", daemonsets: "daemonset.apps", pods: "pod" };

// ---- arguments
const flags = {};
const words = [];
for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "-n" || a === "--namespace") flags.namespace = argv[++i];
    else if (a === "-l" || a === "--selector") flags.selector = argv[++i];
    else if (a === "-o" || a === "--output") flags.output = argv[++i];
    else if (a === "-p" || a === "--patch") flags.patch = argv[++i];
    else if (a === "--type") flags.type = argv[++i];
    else if (a === "-A" || a === "--all-namespaces") flags.all = true;
    else if (a.startsWith("--tail=")) flags.tail = Number(a.slice(7));
    else if (a.startsWith("--context") || a.startsWith("--kubeconfig")) { if (!a.includes("=")) i++; }
    else if (a.startsWith("-")) flags[a.replace(/^-+/, "").split("=")[0]] = a.includes("=") ? a.split("=")[1] : true;
    else words.push(a);
}
const [verb, ...rest] = words;
const ns = flags.namespace || "default";

// ---- storage
const objDir = (resource, namespace) => path.join(dir, "objects", resource, namespace);
const readJson = (f, dflt) => (fs.existsSync(f) ? JSON.parse(fs.readFileSync(f, "utf8")) : dflt);
const writeJson = (f, v) => {
    fs.mkdirSync(path.dirname(f), { recursive: true });
    fs.writeFileSync(f, JSON.stringify(v, null, 2));
};
function list(resource, namespace) {
    const namespaces = namespace === "*" ? (fs.existsSync(path.join(dir, "objects", resource)) ? fs.readdirSync(path.join(dir, "objects", resource)) : []) : [namespace];
    const out = [];
    for (const n of namespaces) {
        const d = objDir(resource, n);
        if (!fs.existsSync(d)) continue;
        for (const f of fs.readdirSync(d).sort()) {
            if (f.endsWith(".json") && !f.endsWith(".fake.json") && !f.startsWith(".")) out.push({ file: path.join(d, f), ns: n, name: f.slice(0, -5) });
        }
    }
    return out;
}
function matches(obj, selector) {
    if (!selector) return true;
    const labels = (obj.metadata && obj.metadata.labels) || {};
    return selector.split(",").every(term => {
        const [k, v] = term.split("=");
        return labels[k] === v;
    });
}
const now = Date.now();
const iso = t => new Date(t).toISOString().replace(/\.\d+Z$/, "Z");

// ---- simulation
function simulateApp(file) {
    const doc = readJson(file);
    const fakeFile = file.replace(/\.json$/, ".fake.json");
    const fake = readJson(fakeFile, {});
    const b = { startAfterMs: 100, finishAfterMs: 300, phase: "Succeeded", health: "Healthy", healthyAfterMs: 0, ...(fake.behaviour || {}) };
    doc.status = doc.status || {};
    let changed = false;
    if (doc.operation && fake.patchedAt !== undefined) {
        const t = now - fake.patchedAt;
        if (b.drop && t >= b.startAfterMs) {
            // The operation is discarded without ever running (e.g. the controller restarted).
            delete doc.operation;
            fake.patchedAt = undefined;
            changed = true;
        } else if (!fake.started && t >= b.startAfterMs) {
            doc.status.operationState = { operation: doc.operation, phase: "Running", message: "running", startedAt: iso(now) };
            fake.started = true;
            changed = true;
        }
        if (fake.started && t >= b.finishAfterMs && b.phase !== "Running") {
            const s = doc.status.operationState;
            s.phase = b.phase;
            s.message = b.message || (b.phase === "Succeeded" ? "successfully synced (all tasks run)" : "one or more objects failed to apply");
            s.finishedAt = iso(now);
            delete doc.operation;
            if (b.phase === "Succeeded") {
                doc.status.sync = { status: "Synced", revision: b.revision || "0123456789abcdef0123456789abcdef01234567" };
                fake.syncedAt = now;
            }
            fake.started = false;
            fake.patchedAt = undefined;
            changed = true;
        }
    }
    if (fake.syncedAt !== undefined) {
        const health = now - fake.syncedAt >= b.healthyAfterMs ? b.health : "Progressing";
        if (!doc.status.health || doc.status.health.status !== health) {
            doc.status.health = { status: health, ...(health === "Degraded" ? { message: b.healthMessage || "Back-off pulling image" } : {}) };
            changed = true;
        }
    }
    if (changed) {
        writeJson(file, doc);
        writeJson(fakeFile, fake);
    }
    return doc;
}
function simulatePod(file) {
    const doc = readJson(file);
    const fake = readJson(file.replace(/\.json$/, ".fake.json"), {});
    const age = now - (fake.createdAt || 0);
    const running = age >= (fake.runningAfterMs || 0);
    doc.status = {
        phase: running ? "Running" : "Pending",
        containerStatuses: [{ name: "main", ready: running && fake.ready !== false }],
    };
    return doc;
}
function read(resource, file) {
    if (resource === "applications.argoproj.io") return simulateApp(file);
    if (resource === "pods") return simulatePod(file);
    return readJson(file);
}

function print(doc) {
    if (flags.output === "json") process.stdout.write(JSON.stringify(doc, null, 2) + "\n");
    else if (flags.output === "name") process.stdout.write(`${doc.kind.toLowerCase()}/${doc.metadata.name}\n`);
    else die(`fake-kubectl: unsupported output ${flags.output}`);
}

// ---- verbs
if (verb === "get") {
    const resource = ALIASES[rest[0]];
    if (!resource) die(`error: the server doesn't have a resource type "${rest[0]}"`);
    const name = rest[1];
    if (name) {
        const file = path.join(objDir(resource, ns), `${name}.json`);
        if (!fs.existsSync(file)) die(`Error from server (NotFound): ${resource} "${name}" not found`);
        print(read(resource, file));
    } else {
        const items = list(resource, flags.all ? "*" : ns).map(o => read(resource, o.file)).filter(o => matches(o, flags.selector));
        print({ apiVersion: "v1", kind: "List", items });
    }
} else if (verb === "patch") {
    const resource = ALIASES[rest[0]];
    const name = rest[1];
    const file = path.join(objDir(resource, ns), `${name}.json`);
    if (!fs.existsSync(file)) die(`Error from server (NotFound): ${resource} "${name}" not found`);
    if (flags.type !== "merge") die("fake-kubectl: only --type merge is simulated");
    const r = spawnSync(realKubectl, ["patch", "--local", "-f", file, "--type", "merge", "-p", flags.patch, "-o", "json"], {
        encoding: "utf8", env: { ...process.env, KUBECONFIG: "/dev/null" },
    });
    if (r.error) die(`fake-kubectl: cannot run the real kubectl (${realKubectl}) to apply the patch: ${r.error.message}`);
    if (r.status !== 0) die(r.stderr.trim() || `kubectl patch --local exited ${r.status}`);
    const patched = JSON.parse(r.stdout);
    writeJson(file, patched);
    const fakeFile = file.replace(/\.json$/, ".fake.json");
    const fake = readJson(fakeFile, {});
    if (patched.operation) {
        fake.patchedAt = now;
        fake.started = false;
    }
    fake.patches = [...(fake.patches || []), JSON.parse(flags.patch)];
    writeJson(fakeFile, fake);
    process.stdout.write(`application.argoproj.io/${name} patched\n`);
} else if (verb === "logs") {
    const name = rest[0];
    const file = path.join(objDir("pods", ns), `${name}.json`);
    if (!fs.existsSync(file)) die(`Error from server (NotFound): pods "${name}" not found`);
    const pod = simulatePod(file);
    if (pod.status.phase !== "Running") die(`Error from server (BadRequest): container "main" in pod "${name}" is waiting to start: ContainerCreating`);
    const fake = readJson(file.replace(/\.json$/, ".fake.json"), {});
    const age = now - (fake.createdAt || 0);
    let lines = (fake.log || []).filter(l => age >= (l.afterMs || 0)).map(l => l.line);
    if (flags.tail !== undefined && flags.tail >= 0) lines = lines.slice(-flags.tail);
    process.stdout.write(lines.map(l => l + "\n").join(""));
} else if (verb === "delete") {
    const kinds = rest[0].split(",").map(k => ALIASES[k] || k);
    const refused = kinds.filter(k => !["jobs", "deployments", "daemonsets", "pods"].includes(k));
    if (refused.length) die(`fake-kubectl: refusing to delete ${refused.join(", ")} in the tests`, 3);
    const names = rest.slice(1);
    let deleted = 0;
    for (const resource of kinds) {
        for (const o of list(resource, flags.all ? "*" : ns)) {
            const doc = readJson(o.file);
            if ((names.length && !names.includes(o.name)) || (!names.length && !matches(doc, flags.selector))) continue;
            fs.rmSync(o.file);
            deleted++;
            process.stdout.write(`${KIND_OF[resource]} "${o.name}" deleted\n`);
            if (resource === "pods") {
                const restart = readJson(path.join(objDir("pods", o.ns), ".restart.json"), null);
                if (restart) {
                    const fresh = `${restart.prefix}-${Math.random().toString(36).slice(2, 7)}`;
                    writeJson(path.join(objDir("pods", o.ns), `${fresh}.json`), {
                        apiVersion: "v1", kind: "Pod", metadata: { name: fresh, namespace: o.ns, labels: restart.labels },
                    });
                    writeJson(path.join(objDir("pods", o.ns), `${fresh}.fake.json`), { createdAt: now, runningAfterMs: restart.runningAfterMs || 0, log: restart.log || [] });
                }
            }
        }
    }
    if (!deleted && !flags["ignore-not-found"] && names.length) die(`Error from server (NotFound): ${rest[0]} not found`);
} else {
    die(`fake-kubectl: unsupported command: ${argv.join(" ")}`, 2);
}
