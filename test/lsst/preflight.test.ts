import { strict as assert } from "assert";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { ROOT, tmpDir } from "./support";

/**
 * Stand-ins for kubectl, ssh and gh on PATH (the preflight runs on the deployment host before the window:
 * what it asks of them is the point, not a cluster), each logging its arguments; `fail` lists what must fail.
 * The stack's own steps give the checks: the site's app lists of today's sync_apps.py (lsst-ts/argocd-csc
 * bin/helpers.py APPS, ASYNC_APPS, SINGLE_APPS), its machines (TTS: lsst-ts/docker-compose-admin
 * tucson_teststand/love1, tel-hw1; base-teststand/azar01) and k8s-admin's cleanup_all / cleanup_love.
 */
function fakeTools(fail: { hosts?: string[]; apps?: string[]; gh?: boolean; context?: boolean; scripts?: string[] } = {}) {
    const dir = tmpDir("lsst-preflight-");
    const bin = path.join(dir, "bin");
    const home = path.join(dir, "home");
    fs.mkdirSync(bin);
    fs.mkdirSync(path.join(home, "upgrade", "bin"), { recursive: true });
    fs.mkdirSync(path.join(home, "k8s-admin"), { recursive: true });
    const calls = path.join(dir, "calls.log");
    const tool = (name: string, body: string) =>
        fs.writeFileSync(path.join(bin, name), `#!/bin/bash\necho "${name} $*" >> '${calls}'\n${body}\n`, { mode: 0o755 });
    // kubectl --context tts <verb> ...: $3 is the verb.
    tool("kubectl", [
        `if [ "$3" = auth ]; then echo yes; exit 0; fi`,
        `if [ "$3" = config ]; then ${fail.context ? `echo "error: context $5 not found" >&2; exit 1` : `echo "$5"; exit 0`}; fi`,
        `case " ${(fail.apps ?? []).join(" ")} " in *" $5 "*) echo "Error from server (NotFound): applications.argoproj.io \\"$5\\" not found" >&2; exit 1;; esac`,
        `echo "application.argoproj.io/$5"`,
    ].join("\n"));
    tool("ssh", `case " ${(fail.hosts ?? []).join(" ")} " in *" $5 "*) echo "ssh: connect to host $5 port 22: Connection timed out" >&2; exit 255;; esac`);
    tool("gh", fail.gh ? `echo "You are not logged into any GitHub hosts." >&2; exit 1` : "echo 'Logged in to github.com'");
    for (const c of ["set_summary_state", "summary_state"]) fs.writeFileSync(path.join(home, "upgrade", "bin", c), "#!/bin/sh\n", { mode: 0o755 });
    for (const c of ["cleanup_all", "cleanup_love"].filter(x => !(fail.scripts ?? []).includes(x))) {
        fs.writeFileSync(path.join(home, "k8s-admin", c), "#!/usr/bin/env python\n", { mode: 0o755 });
    }
    const run = (stack = "lsst-tts") => spawnSync("bash", [path.join(ROOT, "scripts/lsst/preflight.sh"), stack], {
        cwd: ROOT, encoding: "utf8", env: { ...process.env, PATH: `${bin}:${process.env.PATH}`, HOME: home },
    });
    return { run, calls: () => fs.readFileSync(calls, "utf8").trim().split("\n") };
}

/** Every application the TTS stack syncs, in the order of its waves (today's sync_apps.py, without -t). */
const TTS_APPS = ["cachemachine", "csc-cluster-config", "ospl-config", "ospl-daemon", "kafka-producers", "obssys",
    "auxtel", "calsys", "dmocps", "eas", "maintel", "test42"];

describe("LSST preflight (scripts/lsst/preflight.sh)", function () {
    this.timeout(60000);

    it("checks the CSC commands, every machine, the kube context, the k8s-admin scripts, gh, kubectl and every application of the stack: all good", () => {
        const t = fakeTools();
        const r = t.run();
        assert.equal(r.status, 0, r.stdout + r.stderr);
        assert.equal(r.stdout, [
            "preflight of stack lsst-tts (24 checks)",
            "  ok    CSC command ~/upgrade/bin/set_summary_state",
            "  ok    CSC command ~/upgrade/bin/summary_state",
            "  ok    ssh tts-dm-ocs",
            "  ok    ssh tts-camera-ocs",
            "  ok    ssh love1",
            "  ok    ssh tel-hw1",
            "  ok    kube context tts",
            "  ok    cleanup script ~/k8s-admin/cleanup_all",
            "  ok    cleanup script ~/k8s-admin/cleanup_love",
            "  ok    ssh azar01",
            "  ok    gh is logged in",
            "  ok    kubectl --context tts may patch applications in argocd",
            ...TTS_APPS.map(a => `  ok    Argo CD application ${a}`),
            "all good",
            "",
        ].join("\n"));
        assert.ok(!/ocps\b/.test(r.stdout.replace(/dmocps/g, "")), "upstream removed the ocps app (argocd-csc bin/helpers.py)");
        // Read-only: kubectl is only asked, never told.
        const kubectl = t.calls().filter(c => c.startsWith("kubectl "));
        assert.deepEqual(kubectl, [
            "kubectl --context tts config get-contexts tts -o name",
            "kubectl --context tts auth can-i patch applications.argoproj.io -n argocd",
            ...TTS_APPS.map(a => `kubectl --context tts get applications.argoproj.io ${a} -n argocd -o name`),
        ]);
        assert.deepEqual(t.calls().filter(c => c.startsWith("ssh ")),
            ["tts-dm-ocs", "tts-camera-ocs", "love1", "tel-hw1", "azar01"].map(h => `ssh -o BatchMode=yes -o ConnectTimeout=10 ${h} true`));
    });

    it("the Summit stack: its own machines and no cleanup_love step", () => {
        const r = fakeTools().run("lsst-summit");
        assert.equal(r.status, 0, r.stdout + r.stderr);
        const lines = r.stdout.split("\n");
        assert.equal(lines[0], "preflight of stack lsst-summit (25 checks)");
        assert.deepEqual(lines.filter(l => l.startsWith("  ok    ssh ")).map(l => l.replace("  ok    ssh ", "")),
            ["auxtel-mcm", "comcam-mcm", "love01", "auxtel-ill-control", "azar03", "auxtel-vent-gates01", "amor01"]);
        assert.deepEqual(lines.filter(l => /cleanup script|kube context/.test(l)), ["  ok    kube context summit", "  ok    cleanup script ~/k8s-admin/cleanup_all"]);
        assert.deepEqual(lines.filter(l => l.startsWith("  ok    Argo CD application ")).map(l => l.replace("  ok    Argo CD application ", "")), TTS_APPS);
    });

    it("names what is missing and exits 1", () => {
        const r = fakeTools({ hosts: ["love1"], apps: ["eas", "dmocps"], gh: true, context: true, scripts: ["cleanup_love"] }).run();
        assert.equal(r.status, 1);
        const failed = r.stdout.split("\n").filter(l => l.startsWith("  FAIL"));
        assert.deepEqual(failed, [
            "  FAIL  ssh love1: ssh: connect to host love1 port 22: Connection timed out",
            "  FAIL  kube context tts: error: context tts not found",
            "  FAIL  cleanup script ~/k8s-admin/cleanup_love: not found or not executable",
            "  FAIL  gh is logged in: You are not logged into any GitHub hosts.",
            "  FAIL  Argo CD application dmocps: Error from server (NotFound): applications.argoproj.io \"dmocps\" not found",
            "  FAIL  Argo CD application eas: Error from server (NotFound): applications.argoproj.io \"eas\" not found",
        ]);
        assert.match(r.stdout, /fix the failed checks before the upgrade\n$/);
    });
});
