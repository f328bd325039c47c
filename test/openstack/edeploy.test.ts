import { strict as assert } from "assert";
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { Readable } from "stream";
import { STEP_ENV } from "../../components/core/step";
import { previewFromShell, probeShellLine, probeSync, rolePaths } from "../../components/openstack/rsync";
import { runStep } from "../../cli/step/main";
import { ensureTools, LAB, makeLab, read, rm, snapshot } from "./support";

const FROM = "J.1.0.0";
const TO = "J.1.1.0";

async function step(kind: string, id: string, params: Record<string, unknown>): Promise<Record<string, unknown>> {
    const logs: string[] = [];
    try {
        return await runStep([kind, id], { ...process.env, [STEP_ENV]: JSON.stringify({ id, kind, params }) }, Readable.from([""]), l => logs.push(l));
    } catch (err) {
        (err as Error).message += `\n--- log ---\n${logs.join("\n")}`;
        throw err;
    }
}

function upgradeParams(lab: string, node: string, role: string, over: Record<string, unknown> = {}) {
    return {
        node, role, profile: "p", root: path.join(lab, "nodes", node), from: FROM, to: TO,
        rolesDir: path.join(lab, "install-server", "roles"), metadataDir: path.join(lab, "install-server", "metadata"),
        selinux: { probe: `bash ${LAB}/bin/selinux.sh probe {root}`, setfiles: `bash ${LAB}/bin/selinux.sh setfiles {root}` },
        ...over,
    };
}

/** Files under the paths an exclude file lists (anchored patterns, `*` globs in the last part). */
function excludedFiles(root: string, excludeFile: string): Record<string, string> {
    const all = snapshot(root);
    const patterns = read(excludeFile).split("\n").map(l => l.trim()).filter(l => l && !l.startsWith("#"));
    const res = patterns.map(p => new RegExp("^" + p.slice(1).replace(/[.+?^${}()|[\]\\]/g, "\\$&").replace(/\*/g, "[^/]*") + "(/|$)"));
    return Object.fromEntries(Object.entries(all).filter(([f]) => res.some(r => r.test(f))));
}

describe("eDeploy role upgrade of a node tree (real rsync)", function () {
    this.timeout(120000);
    let lab: string;

    before(() => ensureTools());
    beforeEach(() => {
        lab = makeLab(["lb1=load-balancer:lb", "ctl1=controller:openstack-full", "cpt1=compute:openstack-full"]);
        // Data an upgrade must keep: an instance disk, more database pages, logs, the host's key.
        const cpt = path.join(lab, "nodes", "cpt1");
        fs.mkdirSync(path.join(cpt, "var/lib/nova/instances/7f3a"), { recursive: true });
        fs.writeFileSync(path.join(cpt, "var/lib/nova/instances/7f3a/disk"), Buffer.alloc(1 << 16, 7));
        fs.writeFileSync(path.join(lab, "nodes", "ctl1", "var/lib/mysql/nova/instances.ibd"), Buffer.alloc(1 << 15, 3));
    });
    afterEach(() => rm(lab));

    it("keeps every excluded data file byte-identical while the role's files change, and runs post after the sync", async () => {
        const root = path.join(lab, "nodes", "ctl1");
        const exclude = path.join(lab, "install-server/metadata", FROM, "openstack-full", TO, "exclude");
        const dataBefore = excludedFiles(root, exclude);
        assert.ok(Object.keys(dataBefore).length >= 6, `data files: ${Object.keys(dataBefore).join(", ")}`);
        assert.ok("etc/hostname" in dataBefore && "var/lib/mysql/ibdata1" in dataBefore && "var/lib/mysql/nova/instances.ibd" in dataBefore);
        assert.equal(read(path.join(root, "etc/hostname")), "ctl1\n");

        const r = await step("edeploy-upgrade", "edeploy-ctl1", upgradeParams(lab, "ctl1", "openstack-full"));

        // Data: every excluded file is still there, byte for byte; post only added its log.
        const dataAfter = excludedFiles(root, exclude);
        for (const [f, sum] of Object.entries(dataBefore)) assert.equal(dataAfter[f], sum, `${f} must be unchanged`);
        assert.equal(read(path.join(root, "etc/hostname")), "ctl1\n", "the role's etc/hostname (localhost) must not overwrite the node's");
        // The role's files: the new release, what it dropped is gone, what it added is there.
        assert.match(read(path.join(root, "var/lib/edeploy/conf")), /^VERS=J\.1\.1\.0$/m);
        assert.equal(read(path.join(root, "usr/lib/python2.7/dist-packages/nova/__init__.py")), '__version__ = "2014.2.1"\n');
        assert.ok(!fs.existsSync(path.join(root, "usr/lib/python2.7/dist-packages/nova/legacy_quota.py")));
        assert.ok(fs.existsSync(path.join(root, "usr/lib/python2.7/dist-packages/nova/cells_v2.py")));
        assert.ok(fs.existsSync(path.join(root, "boot/vmlinuz-3.10.0-229.el7.x86_64")));
        // Outside the excluded paths the node is the role tree (post only added users to etc/passwd).
        const tree = snapshot(path.join(lab, "install-server/roles", TO, "openstack-full"));
        const node = snapshot(root);
        for (const [f, sum] of Object.entries(tree)) {
            if (f === "etc/passwd" || f in dataBefore) continue;
            assert.equal(node[f], sum, `${f} must be the role's`);
        }
        assert.match(read(path.join(root, "etc/passwd")), /^nova:x:/m);
        // post ran after the sync: it saw the new release.
        assert.match(read(path.join(root, "var/log/edeploy-post.log")), /post: release J\.1\.1\.0, nova 2014\.2\.1$/m);
        // The result: what changed, reboot needed (new kernel), SELinux enforcing so the contexts were re-applied.
        const changes = r.changes as string[];
        assert.ok(changes.includes("*deleting usr/lib/python2.7/dist-packages/nova/legacy_quota.py"), changes.join("\n"));
        assert.ok(changes.some(c => /^>f\+{9} usr\/lib\/python2\.7\/dist-packages\/nova\/cells_v2\.py$/.test(c)), changes.join("\n"));
        assert.ok(!changes.some(c => /var\/lib\/mysql|etc\/hostname|instances/.test(c)), "nothing excluded is touched");
        assert.deepEqual([r.postExit, r.rebootNeeded, r.selinux, r.setfiles], [100, true, "Enforcing", true]);
        assert.match(read(path.join(root, "var/log/setfiles.log")), /paths relabelled/);
    });

    it("refuses without an exclude file, before anything is copied (pre and post do not run either)", async () => {
        const meta = path.join(lab, "install-server/metadata", FROM, "openstack-full", TO);
        fs.rmSync(path.join(meta, "exclude"));
        fs.writeFileSync(path.join(meta, "pre"), "#!/bin/sh\ntouch \"$ROOT/pre-ran\"\n", { mode: 0o755 });
        const root = path.join(lab, "nodes", "cpt1");
        const before = snapshot(root);
        await assert.rejects(step("edeploy-upgrade", "edeploy-cpt1", upgradeParams(lab, "cpt1", "openstack-full")),
            /refusing to upgrade cpt1: no exclude file .*openstack-full\/J\.1\.1\.0\/exclude.*nothing was copied/s);
        assert.deepEqual(snapshot(root), before, "the node's tree is untouched");
        assert.ok(!fs.existsSync(path.join(root, "pre-ran")) && !fs.existsSync(path.join(root, "var/log/edeploy-post.log")));
    });

    it("post exit 100 asks for a reboot: the reboot step reboots that node only", async () => {
        const lb = await step("edeploy-upgrade", "edeploy-lb1", upgradeParams(lab, "lb1", "lb"));
        assert.deepEqual([lb.postExit, lb.rebootNeeded, lb.selinux, lb.setfiles], [0, false, "Disabled", false]);
        assert.ok(!fs.existsSync(path.join(lab, "nodes/lb1/var/log/setfiles.log")));
        const cpt = await step("edeploy-upgrade", "edeploy-cpt1", upgradeParams(lab, "cpt1", "openstack-full"));
        assert.equal(cpt.rebootNeeded, true);
        const reboot = (node: string, needed: unknown) => step("node-reboot", `reboot-${node}`, {
            node, root: path.join(lab, "nodes", node), command: `bash ${LAB}/bin/reboot.sh {root}`, rebootNeeded: needed,
        });
        assert.deepEqual(await reboot("lb1", lb.rebootNeeded), { node: "lb1", rebooted: false });
        assert.ok(!fs.existsSync(path.join(lab, "nodes/lb1/var/log/reboot.log")));
        assert.deepEqual(await reboot("cpt1", cpt.rebootNeeded), { node: "cpt1", rebooted: true });
        assert.equal(read(path.join(lab, "nodes/cpt1/run/booted-kernel")), "3.10.0-229.el7.x86_64\n");
    });

    it("without getenforce (exit 127) there is no SELinux and no setfiles; a failing post fails the step", async () => {
        const r = await step("edeploy-upgrade", "edeploy-cpt1", upgradeParams(lab, "cpt1", "openstack-full",
            { selinux: { probe: "getenforce-not-installed-here", setfiles: "touch {root}/setfiles-ran" } }));
        assert.deepEqual([r.selinux, r.setfiles], ["absent", false]);
        assert.ok(!fs.existsSync(path.join(lab, "nodes/cpt1/setfiles-ran")));
        fs.writeFileSync(path.join(lab, "install-server/metadata", FROM, "lb", TO, "post"), "#!/bin/sh\necho broken >&2\nexit 3\n");
        await assert.rejects(step("edeploy-upgrade", "edeploy-lb1", upgradeParams(lab, "lb1", "lb")), /lb1: post exited 3: broken/);
    });

    it("refuses a node that runs another release or role", async () => {
        fs.writeFileSync(path.join(lab, "nodes/cpt1/var/lib/edeploy/conf"), "ROLE=openstack-full\nVERS=I.1.3.0\n");
        await assert.rejects(step("edeploy-upgrade", "edeploy-cpt1", upgradeParams(lab, "cpt1", "openstack-full")),
            /cpt1 runs release I\.1\.3\.0; this upgrade is from J\.1\.0\.0 to J\.1\.1\.0/);
        await assert.rejects(step("edeploy-upgrade", "edeploy-lb1", upgradeParams(lab, "lb1", "openstack-full")), /lb1 runs eDeploy role lb, not openstack-full/);
    });

    it("the read-only probe (plan and preview) lists exactly what the upgrade then changes, and writes nothing", async () => {
        const root = path.join(lab, "nodes", "ctl1");
        const paths = rolePaths({ rolesDir: path.join(lab, "install-server/roles"), metadataDir: path.join(lab, "install-server/metadata"), from: FROM, to: TO }, "openstack-full");
        const before = snapshot(root);
        const local = probeSync("ctl1", paths, root);
        const viaShell = previewFromShell("ctl1", execFileSync("/bin/sh", ["-c", probeShellLine(paths, root)], { encoding: "utf8" }));
        assert.deepEqual(snapshot(root), before, "the probe changed nothing");
        assert.equal(local.status, "ok");
        assert.deepEqual(viaShell, local, "the engine's probe line and plan's probe agree");
        assert.ok(local.summary.create >= 2 && local.summary.delete >= 2 && local.summary.update >= 4, JSON.stringify(local.summary));
        const r = await step("edeploy-upgrade", "edeploy-ctl1", upgradeParams(lab, "ctl1", "openstack-full"));
        assert.deepEqual(local.changes.map(c => `${c.item} ${c.path}`), r.changes);
        // After the upgrade the role's content is in place: the probe finds no content to copy.
        const after = probeSync("ctl1", paths, root);
        assert.deepEqual(after.changes.filter(c => c.op === "create" || c.op === "delete"), []);
        // A missing exclude file is reported as a refusal, by both probes.
        fs.rmSync(paths.exclude);
        assert.equal(probeSync("cpt1", paths, path.join(lab, "nodes/cpt1")).status, "refused");
        const refused = previewFromShell("cpt1", execFileSync("/bin/sh", ["-c", probeShellLine(paths, path.join(lab, "nodes/cpt1"))], { encoding: "utf8" }));
        assert.equal(refused.status, "refused");
        assert.match(refused.message!, /no exclude file/);
    });
});
