import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import { Readable } from "stream";
import { runnerEnvironment } from "../../components/core/step-env";
import { runStep } from "../../cli/step/main";
import { ensureTools, makeLab, read, rm } from "./support";

interface HostResult {
    runs: number;
    attempts: { run: number; puppet: number; check: number | null }[];
}

describe("Puppet steps with serverspec checks (real puppet apply)", function () {
    this.timeout(180000);
    let lab: string;
    const hosts = () => [
        { name: "ctl1", profile: "controller", root: path.join(lab, "nodes", "ctl1") },
        { name: "cpt1", profile: "compute", root: path.join(lab, "nodes", "cpt1") },
    ];
    const is = () => path.join(lab, "install-server");
    const puppet = async (params: Record<string, unknown>) => {
        const p: Record<string, unknown> = { maxRuns: 5, workDir: path.join(lab, "work"), hosts: hosts(), ...params };
        const logs: string[] = [];
        const r = await runStep(["puppet-step", `puppet-step-${p.step}`], { ...process.env, ...runnerEnvironment({ id: `puppet-step-${p.step}`, kind: "puppet-step", params: p }) },
            Readable.from([""]), l => logs.push(l));
        return { r: r as { hosts: Record<string, HostResult> }, logs };
    };

    before(() => ensureTools());
    beforeEach(() => { lab = makeLab(["ctl1=controller:openstack-full", "cpt1=compute:openstack-full"]); });
    afterEach(() => rm(lab));

    it("applies the step's manifest on every host; serverspec passes after one run", async () => {
        const { r } = await puppet({ step: 0, manifest: path.join(is(), "puppet/step0.pp"), check: `bash ${is()}/serverspec/check.sh 0` });
        assert.deepEqual(Object.keys(r.hosts).sort(), ["cpt1", "ctl1"]);
        for (const h of ["ctl1", "cpt1"]) {
            assert.deepEqual(r.hosts[h].attempts, [{ run: 1, puppet: 2, check: 0 }], `${h}: one run with changes, check passed`);
            assert.match(read(path.join(lab, "nodes", h, "etc/nova/nova.conf")), new RegExp(`^host = ${h}$`, "m"));
        }
    });

    it("runs Puppet again while serverspec fails: a step that converges in two runs gets two", async () => {
        const { r } = await puppet({ step: 5, manifest: path.join(is(), "puppet/step5.pp"), check: `bash ${is()}/serverspec/check.sh 5` });
        // The controller's collector is enabled only on the second run (its configuration comes first).
        assert.deepEqual(r.hosts.ctl1.attempts, [{ run: 1, puppet: 2, check: 1 }, { run: 2, puppet: 2, check: 0 }]);
        assert.deepEqual(r.hosts.cpt1.attempts, [{ run: 1, puppet: 2, check: 0 }]);
        assert.equal(read(path.join(lab, "nodes/ctl1/var/lib/puppet-steps/ceilometer-collector")), "enabled\n");
    });

    it("honours the run limit: never more than maxRuns, then the step fails", async () => {
        const manifest = path.join(lab, "count.pp");
        fs.writeFileSync(manifest, "exec { 'count': command => \"/bin/sh -c 'echo run >> ${facts['node_root']}/puppet-runs'\" }\n");
        await assert.rejects(puppet({ step: 5, maxRuns: 3, manifest, check: 'test -f "$NODE_ROOT/never-there"' }),
            /Puppet step 5: serverspec still fails after 3 run\(s\) on ctl1, cpt1/);
        for (const h of ["ctl1", "cpt1"]) assert.equal(read(path.join(lab, "nodes", h, "puppet-runs")), "run\nrun\nrun\n");
    });

    it("a failed Puppet run counts as a run and is retried; its check is not run", async () => {
        const manifest = path.join(lab, "flaky.pp");
        fs.writeFileSync(manifest, [
            "$root = $facts['node_root']",
            "exec { 'needs-marker': command => \"/usr/bin/test -f ${root}/marker\" }",
            "exec { 'make-marker': command => \"/usr/bin/touch ${root}/marker\", creates => \"${root}/marker\" }",
            "",
        ].join("\n"));
        const { r } = await puppet({ step: 0, maxRuns: 4, manifest, hosts: hosts().slice(0, 1), check: 'echo checked >> "$NODE_ROOT/checks"' });
        assert.deepEqual(r.hosts.ctl1.attempts.map(a => a.check), [null, 0]);
        assert.ok([4, 6].includes(r.hosts.ctl1.attempts[0].puppet), `first run failed: ${r.hosts.ctl1.attempts[0].puppet}`);
        assert.equal(read(path.join(lab, "nodes/ctl1/checks")), "checked\n");
    });
});
