import { strict as assert } from "assert";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { ROOT, tmpDir } from "./support";

/** Stand-ins for kubectl, ssh and gh on PATH, each logging its arguments; `fail` lists what must fail. */
function fakeTools(fail: { hosts?: string[]; apps?: string[]; gh?: boolean } = {}) {
    const dir = tmpDir("lsst-preflight-");
    const bin = path.join(dir, "bin");
    const home = path.join(dir, "home");
    fs.mkdirSync(bin);
    fs.mkdirSync(path.join(home, "upgrade", "bin"), { recursive: true });
    const calls = path.join(dir, "calls.log");
    const tool = (name: string, body: string) =>
        fs.writeFileSync(path.join(bin, name), `#!/bin/bash\necho "${name} $*" >> '${calls}'\n${body}\n`, { mode: 0o755 });
    tool("kubectl", [
        `if [ "$3" = auth ]; then echo yes; exit 0; fi`,
        `case " ${(fail.apps ?? []).join(" ")} " in *" $5 "*) echo "Error from server (NotFound): applications.argoproj.io \\"$5\\" not found" >&2; exit 1;; esac`,
        `echo "application.argoproj.io/$5"`,
    ].join("\n"));
    tool("ssh", `case " ${(fail.hosts ?? []).join(" ")} " in *" $5 "*) echo "ssh: connect to host $5 port 22: Connection timed out" >&2; exit 255;; esac`);
    tool("gh", fail.gh ? `echo "You are not logged into any GitHub hosts." >&2; exit 1` : "echo 'Logged in to github.com'");
    for (const c of ["set_summary_state", "summary_state"]) fs.writeFileSync(path.join(home, "upgrade", "bin", c), "#!/bin/sh\n", { mode: 0o755 });
    const run = () => spawnSync("bash", [path.join(ROOT, "scripts/lsst/preflight.sh"), "lsst-tts"], {
        cwd: ROOT, encoding: "utf8", env: { ...process.env, PATH: `${bin}:${process.env.PATH}`, HOME: home },
    });
    return { run, calls: () => fs.readFileSync(calls, "utf8").trim().split("\n") };
}

describe("LSST preflight (scripts/lsst/preflight.sh)", function () {
    this.timeout(60000);

    it("checks kubectl, every application, every machine, gh and the CSC commands of the stack: all good", () => {
        const t = fakeTools();
        const r = t.run();
        assert.equal(r.status, 0, r.stdout + r.stderr);
        assert.match(r.stdout, /^preflight of stack lsst-tts \(19 checks\)\n/);
        assert.match(r.stdout, /ok {4}kubectl --context tts may patch applications in argocd/);
        for (const app of ["cachemachine", "csc-cluster-config", "ospl-config", "ospl-daemon", "kafka-producers", "obssys", "ocps", "auxtel", "eas", "maintel"]) {
            assert.match(r.stdout, new RegExp(`ok {4}Argo CD application ${app}\\n`));
        }
        for (const host of ["tts-dm-ocs", "tts-camera-ocs", "love01", "tel-hw1", "azar01"]) assert.match(r.stdout, new RegExp(`ok {4}ssh ${host}\\n`));
        assert.match(r.stdout, /ok {4}gh is logged in/);
        assert.match(r.stdout, /ok {4}CSC command ~\/upgrade\/bin\/set_summary_state/);
        assert.match(r.stdout, /all good\n$/);
        // Read-only: kubectl is only asked, never told.
        const kubectl = t.calls().filter(c => c.startsWith("kubectl "));
        assert.ok(kubectl.every(c => / (auth can-i|get) /.test(c)), kubectl.join("\n"));
        assert.ok(t.calls().filter(c => c.startsWith("ssh ")).every(c => /BatchMode=yes .* true$/.test(c)));
    });

    it("names what is missing and exits 1", () => {
        const r = fakeTools({ hosts: ["love01"], apps: ["eas"], gh: true }).run();
        assert.equal(r.status, 1);
        const failed = r.stdout.split("\n").filter(l => l.startsWith("  FAIL"));
        assert.deepEqual(failed, [
            "  FAIL  ssh love01: ssh: connect to host love01 port 22: Connection timed out",
            "  FAIL  gh is logged in: You are not logged into any GitHub hosts.",
            "  FAIL  Argo CD application eas: Error from server (NotFound): applications.argoproj.io \"eas\" not found",
        ]);
        assert.match(r.stdout, /fix the failed checks before the upgrade\n$/);
    });
});
