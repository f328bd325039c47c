/**
 * `edeploy upgrade <to>` on node trees, each run "on the node" (a chroot of its tree), real rsync.
 *
 * Rules from upstream, redhat-cip/edeploy build/edeploy (`upgrade`, `update_metadata`):
 * - the role's pre/post come from the target role tree's /var/lib/edeploy/<to>/; exclude, add_only and an
 *   optional post from metadata/<from>/<role>/<to>/, copied after them into the node's /var/lib/edeploy/<to>/;
 * - pre and post run from that folder with none of edeploy's variables (conf is sourced, not exported);
 *   build/generate_metadatas.py writes them as a `set -x` header and one subshell per package scriptlet;
 * - no exclude file, or a missing or empty add_only: the upgrade is cancelled;
 * - pre; rsync -av --numeric-ids --delete-after --exclude-from=exclude; rsync -av --numeric-ids
 *   --ignore-existing --include-from=add_only; output in /var/lib/edeploy/rsync_<VERS>_<TARGET>.out;
 * - post exit 0 or 100 (100: reboot); another code fails;
 * - setfiles when selinuxenabled succeeds (enabled, enforcing or permissive);
 * - /var/lib/edeploy/conf rewritten with VERS=<to> (and ROLE, RSERV, RSERV_PORT, RPATH).
 */
import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import { Readable } from "stream";
import { runnerEnvironment } from "../../components/core/step-env";
import { runStep } from "../../cli/step/main";
import { ensureTools, LAB, makeLab, read, rm, snapshot } from "./support";

const FROM = "J.1.0.0";
const TO = "J.1.1.0";

async function step(kind: string, id: string, params: Record<string, unknown>): Promise<Record<string, unknown>> {
    const logs: string[] = [];
    try {
        return await runStep([kind, id], { ...process.env, ...runnerEnvironment({ id, kind, params }) }, Readable.from([""]), l => logs.push(l));
    } catch (err) {
        (err as Error).message += `\n--- log ---\n${logs.join("\n")}`;
        throw err;
    }
}

function upgradeParams(lab: string, node: string, role: string, over: Record<string, unknown> = {}) {
    return {
        node, role, profile: "p", root: path.join(lab, "nodes", node), from: FROM, to: TO,
        rolesDir: path.join(lab, "install-server", "roles"), metadataDir: path.join(lab, "install-server", "metadata"),
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

describe("edeploy upgrade on node trees (chroot of each node, real rsync)", function () {
    this.timeout(120000);
    let lab: string;
    const meta = (role: string) => path.join(lab, "install-server/metadata", FROM, role, TO);
    const rootOf = (n: string) => path.join(lab, "nodes", n);

    before(() => ensureTools());
    beforeEach(() => {
        lab = makeLab(["lb1=load-balancer:lb", "ctl1=controller:openstack-full", "cpt1=compute:openstack-full"]);
        const cpt = rootOf("cpt1");
        fs.mkdirSync(path.join(cpt, "var/lib/nova/instances/7f3a"), { recursive: true });
        fs.writeFileSync(path.join(cpt, "var/lib/nova/instances/7f3a/disk"), Buffer.alloc(1 << 16, 7));
        fs.writeFileSync(path.join(rootOf("ctl1"), "var/lib/mysql/nova/instances.ibd"), Buffer.alloc(1 << 15, 3));
    });
    afterEach(() => rm(lab));

    it("keeps the excluded data, copies the role, adds add_only files only where missing, runs the role's pre and post on the node, writes VERS", async () => {
        const root = rootOf("ctl1");
        const dataBefore = excludedFiles(root, path.join(meta("openstack-full"), "exclude"));
        assert.ok("etc/hostname" in dataBefore && "var/lib/mysql/ibdata1" in dataBefore && "var/lib/mysql/nova/instances.ibd" in dataBefore);
        // ctl1 already has its own pipeline (add_only must not overwrite it); cpt1 has none (add_only adds it).
        fs.mkdirSync(path.join(root, "var/lib/ceilometer"), { recursive: true });
        fs.writeFileSync(path.join(root, "var/lib/ceilometer/pipeline.yaml"), "site: own\n");

        const r = await step("edeploy-upgrade", "edeploy-ctl1", upgradeParams(lab, "ctl1", "openstack-full"));
        const dataAfter = excludedFiles(root, path.join(meta("openstack-full"), "exclude"));
        for (const [f, sum] of Object.entries(dataBefore)) {
            if (f.startsWith("var/log/") || f.startsWith("var/lib/edeploy/") || f.startsWith("run/")) continue;
            assert.equal(dataAfter[f], sum, `${f} must be unchanged`);
        }
        assert.equal(read(path.join(root, "etc/hostname")), "ctl1\n");
        assert.equal(read(path.join(root, "var/lib/ceilometer/pipeline.yaml")), "site: own\n", "add_only never overwrites");
        // The role's files: the new release, what it dropped is gone, what it added is there.
        assert.equal(read(path.join(root, "usr/lib/python2.7/dist-packages/nova/__init__.py")), '__version__ = "2014.2.1"\n');
        assert.ok(!fs.existsSync(path.join(root, "usr/lib/python2.7/dist-packages/nova/legacy_quota.py")));
        assert.ok((r.deleted as string[]).includes("usr/lib/python2.7/dist-packages/nova/legacy_quota.py"));
        assert.ok((r.copied as string[]).includes("usr/lib/python2.7/dist-packages/nova/cells_v2.py"));
        assert.ok(!(r.copied as string[]).some(c => /var\/lib\/mysql|etc\/hostname|instances/.test(c)), "nothing excluded is copied");
        // The metadata the node got: the role's pre/post (from the role tree) and the folder's exclude/add_only.
        const nodeMeta = path.join(root, "var/lib/edeploy", TO);
        assert.deepEqual(fs.readdirSync(nodeMeta).sort(), ["add_only", "exclude", "post", "pre"]);
        assert.equal(read(path.join(nodeMeta, "post")), read(path.join(lab, "install-server/roles", TO, "openstack-full/var/lib/edeploy", TO, "post")));
        // pre and post ran on the node (chroot: they wrote to the node's /var/log), post after the copy.
        assert.match(read(path.join(root, "var/log/edeploy-pre.log")), /pre of openstack-full J\.1\.1\.0 \(from J\.1\.0\.0\)$/m);
        assert.match(read(path.join(root, "var/log/edeploy-post.log")), /post of openstack-full J\.1\.1\.0 \(from J\.1\.0\.0\): nova 2014\.2\.1$/m);
        assert.match(read(path.join(root, "etc/passwd")), /^nova:x:/m);
        // Both rsync passes' output, as upstream keeps it.
        assert.match(read(path.join(root, "var/lib/edeploy", `rsync_${FROM}_${TO}.out`)), /deleting usr\/lib\/python2\.7\/dist-packages\/nova\/legacy_quota\.py/);
        // The new kernel: post exited 100; SELinux enforcing (enabled): setfiles ran on the node.
        assert.deepEqual([r.postExit, r.rebootNeeded, r.selinux, r.setfiles], [100, true, "enabled", true]);
        assert.match(read(path.join(root, "var/log/setfiles.log")), /setfiles -r \/ \/etc\/selinux\/targeted\/contexts\/files\/file_contexts \/: \d+ paths relabelled/);
        // conf says the node runs J.1.1.0 now.
        assert.match(read(path.join(root, "var/lib/edeploy/conf")), /^VERS=J\.1\.1\.0\nROLE=openstack-full\n/);
        assert.equal(read(path.join(root, "etc/motd")), "\nVersion J.1.1.0\n\n");

        const cpt = await step("edeploy-upgrade", "edeploy-cpt1", upgradeParams(lab, "cpt1", "openstack-full"));
        assert.ok((cpt.added as string[]).includes("var/lib/ceilometer/pipeline.yaml"), JSON.stringify(cpt.added));
        assert.match(read(path.join(rootOf("cpt1"), "var/lib/ceilometer/pipeline.yaml")), /meter_source/);
    });

    it("refuses without exclude, and without a non-empty add_only, before anything of the role is copied", async () => {
        const root = rootOf("cpt1");
        const before = snapshot(root);
        fs.rmSync(path.join(meta("openstack-full"), "exclude"));
        await assert.rejects(step("edeploy-upgrade", "edeploy-cpt1", upgradeParams(lab, "cpt1", "openstack-full")),
            /refusing to upgrade cpt1: no exclude file .*openstack-full\/J\.1\.1\.0\/exclude.*nothing was copied/s);
        const outside = (s: Record<string, string>) => Object.fromEntries(Object.entries(s).filter(([f]) => !f.startsWith("var/lib/edeploy/")));
        assert.deepEqual(outside(snapshot(root)), outside(before), "nothing outside /var/lib/edeploy changed; pre did not run");
        assert.ok(!fs.existsSync(path.join(root, "var/log/edeploy-pre.log")));

        fs.writeFileSync(path.join(meta("lb"), "add_only"), "");
        await assert.rejects(step("edeploy-upgrade", "edeploy-lb1", upgradeParams(lab, "lb1", "lb")),
            /refusing to upgrade lb1: 'add_only' .* is missing or empty; it must hold at least '- \*'; nothing was copied/);
        assert.match(read(path.join(rootOf("lb1"), "var/lib/edeploy/conf")), /^VERS=J\.1\.0\.0$/m);
    });

    it("post exit 100 reboots that node and waits until it is back; exit 0 does not; another exit fails", async () => {
        const lb = await step("edeploy-upgrade", "edeploy-lb1", upgradeParams(lab, "lb1", "lb"));
        assert.deepEqual([lb.postExit, lb.rebootNeeded, lb.selinux, lb.setfiles], [0, false, "disabled", false]);
        assert.ok(!fs.existsSync(path.join(rootOf("lb1"), "var/log/setfiles.log")));
        const cpt = await step("edeploy-upgrade", "edeploy-cpt1", upgradeParams(lab, "cpt1", "openstack-full"));
        assert.equal(cpt.rebootNeeded, true);
        const reboot = (node: string, needed: unknown) => step("node-reboot", `reboot-${node}`, {
            node, root: rootOf(node), command: `bash ${LAB}/bin/reboot.sh {root}`, wait: `bash ${LAB}/bin/reboot.sh --up {root}`,
            timeoutSeconds: 30, rebootNeeded: needed,
        });
        assert.deepEqual(await reboot("lb1", lb.rebootNeeded), { node: "lb1", rebooted: false });
        assert.ok(!fs.existsSync(path.join(rootOf("lb1"), "var/log/reboot.log")));
        assert.deepEqual(await reboot("cpt1", cpt.rebootNeeded), { node: "cpt1", rebooted: true, checks: 1 });
        assert.equal(read(path.join(rootOf("cpt1"), "run/booted-kernel")), "3.10.0-229.el7.x86_64\n");
        // A node that does not come back fails the step.
        await assert.rejects(step("node-reboot", "reboot-ctl1", {
            node: "ctl1", root: rootOf("ctl1"), command: "true", wait: "false", timeoutSeconds: 1, rebootNeeded: true,
        }), /ctl1: not back 1 s after the reboot/);
        // A metadata post (copied after the role's, so it wins) that exits 3 fails the upgrade.
        fs.writeFileSync(path.join(meta("openstack-full"), "post"), "#!/bin/sh\necho broken >&2\nexit 3\n", { mode: 0o755 });
        await assert.rejects(step("edeploy-upgrade", "edeploy-ctl1", upgradeParams(lab, "ctl1", "openstack-full")), /ctl1: post exited 3: broken/);
        assert.match(read(path.join(rootOf("ctl1"), "var/lib/edeploy/conf")), /^VERS=J\.1\.0\.0$/m, "a failed post leaves the release as it was");
    });


    it("runs rsync with upstream's two argument lists, in order; relabels with setfiles when SELinux is permissive too", async () => {
        // A wrapper that records each rsync's arguments, then runs the real one (the step's `rsync` setting).
        const calls = path.join(lab, "rsync-calls");
        const wrapper = path.join(lab, "rsync-logged");
        fs.writeFileSync(wrapper, `#!/bin/sh\nprintf '%s\\n' "$*" >> ${calls}\nexec rsync "$@"\n`, { mode: 0o755 });
        // The lb role's next release runs SELinux permissive: enabled, not enforcing.
        const selinux = path.join(lab, "install-server/roles", TO, "lb/etc/selinux/config");
        fs.writeFileSync(selinux, "SELINUX=permissive\n");
        // A site's own pre in the metadata folder (update_metadata copies it to the node): it records what it got.
        fs.writeFileSync(path.join(meta("lb"), "pre"), "#!/bin/sh\nexport -p > /var/log/pre-env\npwd > /var/log/pre-cwd\n", { mode: 0o755 });
        const r = await step("edeploy-upgrade", "edeploy-lb1", upgradeParams(lab, "lb1", "lb", { rsync: wrapper }));
        // Run on the node, in /var/lib/edeploy/<to>, with none of edeploy's own shell variables (upstream sources conf, never exports it).
        assert.equal(read(path.join(rootOf("lb1"), "var/log/pre-cwd")), `/var/lib/edeploy/${TO}\n`);
        assert.doesNotMatch(read(path.join(rootOf("lb1"), "var/log/pre-env")), /\b(ROLE|VERS|TARGET)=/);
        assert.match(read(path.join(rootOf("lb1"), "var/log/pre-env")), /\bPATH=/);
        const tree = path.join(lab, "install-server/roles", TO, "lb");
        const nodeMeta = path.join(rootOf("lb1"), "var/lib/edeploy", TO);
        assert.deepEqual(read(calls).trim().split("\n"), [
            `-a ${meta("lb")}/ ${nodeMeta}/`,
            `-av --numeric-ids --delete-after --exclude-from=${nodeMeta}/exclude ${tree}/ ${rootOf("lb1")}/`,
            `-av --numeric-ids --ignore-existing --include-from=${nodeMeta}/add_only ${tree}/ ${rootOf("lb1")}/`,
        ]);
        assert.deepEqual([r.selinux, r.setfiles], ["enabled", true]);
        assert.match(read(path.join(rootOf("lb1"), "var/log/setfiles.log")), /setfiles -r \/ \/etc\/selinux\/targeted\/contexts\/files\/file_contexts \//);
    });

    it("a second cycle starts from the version conf now holds; a node on another release or role is refused", async () => {
        await step("edeploy-upgrade", "edeploy-lb1", upgradeParams(lab, "lb1", "lb"));
        // The same upgrade again is a no-op (a resumed update): conf already says J.1.1.0.
        const again = await step("edeploy-upgrade", "edeploy-lb1", upgradeParams(lab, "lb1", "lb"));
        assert.equal(again.alreadyUpgraded, true);
        // The next cycle J.1.1.0 -> J.1.2.0 is accepted because conf was updated.
        const is = path.join(lab, "install-server");
        fs.cpSync(path.join(is, "roles", TO, "lb"), path.join(is, "roles", "J.1.2.0", "lb"), { recursive: true, verbatimSymlinks: true });
        fs.writeFileSync(path.join(is, "roles/J.1.2.0/lb/usr/sbin/haproxy"), '#!/bin/sh\necho "HA-Proxy version 1.5.12"\n', { mode: 0o755 });
        fs.mkdirSync(path.join(is, "metadata", TO, "lb", "J.1.2.0"), { recursive: true });
        fs.cpSync(meta("lb"), path.join(is, "metadata", TO, "lb", "J.1.2.0"), { recursive: true });
        const next = await step("edeploy-upgrade", "edeploy-lb1", upgradeParams(lab, "lb1", "lb", { from: TO, to: "J.1.2.0" }));
        assert.ok((next.copied as string[]).includes("usr/sbin/haproxy"));
        assert.match(read(path.join(rootOf("lb1"), "var/lib/edeploy/conf")), /^VERS=J\.1\.2\.0$/m);

        fs.writeFileSync(path.join(rootOf("cpt1"), "var/lib/edeploy/conf"), "ROLE=openstack-full\nVERS=I.1.3.0\n");
        await assert.rejects(step("edeploy-upgrade", "edeploy-cpt1", upgradeParams(lab, "cpt1", "openstack-full")),
            /cpt1 runs release I\.1\.3\.0; this upgrade is from J\.1\.0\.0 to J\.1\.1\.0/);
        await assert.rejects(step("edeploy-upgrade", "edeploy-ctl1", upgradeParams(lab, "ctl1", "lb")), /ctl1 runs eDeploy role openstack-full, not lb/);
    });
});
