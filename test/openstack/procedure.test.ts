import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import { orderSteps } from "../../cli/plan/evaluate";
import { load } from "../support/configs";
import { buildUnderMocks } from "../support/mocks";
import { walk } from "../support/walker";
import { ensureTools, makeLab, read, rm, snapshot, spinalConfig } from "./support";

/**
 * The whole procedure on a lab of five node trees, step after step in plan order, the way `pulumi up`
 * runs it: shell steps run their configured command, runner steps the step runner; outputs (the
 * survival checks' saved values, post's reboot request) flow to the steps that take them.
 */
describe("Spinal Stack upgrade of a five-node lab, walked step by step", function () {
    this.timeout(600000);
    let lab: string;

    before(() => ensureTools());
    beforeEach(() => { lab = makeLab(); });
    afterEach(() => rm(lab));

    const nodes = () => path.join(lab, "nodes");

    it("upgrades every node to J.1.1.0, keeps the data, and the survival checks and Sanity pass", async () => {
        const mysql = snapshot(path.join(nodes(), "ctl1"), "var/lib/mysql");
        const config = load(spinalConfig(lab));
        const expected = orderSteps((await buildUnderMocks(config)).steps).map(s => s.id);
        const r = await walk(config, {});
        assert.equal(r.failed, undefined, r.failed ? `${r.failed.id}: ${r.failed.error.message}\n${r.logs.slice(-30).join("\n")}` : "");
        assert.deepEqual(r.ran, expected);
        for (const n of ["lb1", "ctl1", "ctl2", "cpt1", "cpt2"]) {
            assert.match(read(path.join(nodes(), n, "var/lib/edeploy/conf")), /^VERS=J\.1\.1\.0$/m, n);
            assert.equal(read(path.join(nodes(), n, "etc/hostname")), `${n}\n`);
            assert.match(read(path.join(nodes(), n, "etc/motd")), /is managed by Puppet/);
        }
        assert.deepEqual(snapshot(path.join(nodes(), "ctl1"), "var/lib/mysql"), mysql, "the database files are untouched");
        // Reboots where post asked for one (new kernel on openstack-full), none on the load balancer.
        assert.equal(r.results["edeploy-ctl1"].rebootNeeded, true);
        assert.equal(r.results["reboot-ctl1"].rebooted, true);
        assert.equal(r.results["reboot-lb1"].rebooted, false);
        assert.equal(read(path.join(nodes(), "cpt2/run/booted-kernel")), "3.10.0-229.el7.x86_64\n");
        // Ansible ran the steps in order on the nodes; Puppet step 5 needed a second run on the controllers.
        assert.deepEqual(read(path.join(nodes(), "ctl2/var/log/steps.log")).trim().split("\n"),
            ["db-sync ctl2", "restart-nova-api ctl2", "restart-collector ctl2"]);
        const p5 = r.results["puppet-step-5"].hosts as Record<string, { runs: number }>;
        assert.deepEqual([p5.ctl1.runs, p5.ctl2.runs, p5.cpt1.runs, p5.lb1.runs], [2, 2, 1, 1]);
        // The survival resource lived through the upgrade and was destroyed at the end.
        const saved = r.results["survival-labcloud-verify-post-upgrade"].saved as Record<string, Record<string, string>>;
        const id = saved.labcloud.labcloud_server_id;
        assert.ok(!fs.existsSync(path.join(nodes(), "ctl1/var/lib/labcloud/servers", id)));
        // Javelin passed: it fails when no resource from the previous release is ACTIVE (the survivor was).
        assert.ok(r.ran.indexOf("sanity-javelin") < r.ran.indexOf("survival-labcloud-destroy"));
    });

    it("a failing verify stops the upgrade: an exclude file that forgets the instances loses them, and nothing runs after", async () => {
        const exclude = path.join(lab, "install-server/metadata/J.1.0.0/openstack-full/J.1.1.0/exclude");
        // The install-server is refreshed from the repository by provisioning: break the repository's copy in a copy of lab/.
        const raw = spinalConfig(lab);
        const o = raw.openstack as Record<string, unknown>;
        o.provision = [];
        o.puppet = undefined;
        o.serverspec = undefined;
        fs.writeFileSync(exclude, read(exclude).replace("/var/lib/nova/instances\n", ""));
        const r = await walk(load(raw), {});
        assert.equal(r.failed?.id, "survival-labcloud-verify-post-upgrade", r.failed?.error.message);
        assert.match(r.failed!.error.message, /server [0-9a-f]+ is ERROR \(post-upgrade\)/);
        assert.ok(r.ran.includes("edeploy-cpt1") && r.ran.includes("start-nova-compute"));
        for (const later of ["sanity-tempest-api", "sanity-javelin", "survival-labcloud-destroy"]) assert.ok(!r.ran.includes(later), later);
    });
});
