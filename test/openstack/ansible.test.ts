/**
 * The upgrade's Ansible order as config-tools runs it, with real ansible-playbook and edeploy upgrade.
 *
 * Rules from upstream:
 * - redhat-cip/config-tools upgrade.sh: for each profile in ordered_profiles, for each host of the profile,
 *   for tag in 1..9: `ansible-playbook site.yml --tags $tag -l $host` (host by host, profile by profile);
 * - redhat-cip/openstack-yaml-infra upgrade/snippets/edeploy.yaml: the `edeploy upgrade` task is tag 5, before
 *   the profile's own snippets ("Specific to the profile"), which carry their tags.
 */
import { strict as assert } from "assert";
import * as path from "path";
import { Readable } from "stream";
import { runnerEnvironment } from "../../components/core/step-env";
import { StepRecord } from "../../components/core";
import { orderSteps } from "../../cli/plan/evaluate";
import { runStep } from "../../cli/step/main";
import { load, RawConfig } from "../support/configs";
import { buildUnderMocks } from "../support/mocks";
import { ensureTools, makeLab, read, rm, spinalConfig } from "./support";

const NODES = ["lb1=load-balancer:lb", "ctl1=controller:openstack-full", "ctl2=controller:openstack-full", "cpt1=compute:openstack-full"];

async function runOne(s: StepRecord, params: Record<string, unknown> = s.params) {
    const logs: string[] = [];
    try {
        return await runStep([s.kind, s.id], { ...process.env, ...runnerEnvironment({ id: s.id, kind: s.kind, params }) },
            Readable.from([""]), l => logs.push(l));
    } catch (err) {
        (err as Error).message += `\n--- log ---\n${logs.slice(-30).join("\n")}`;
        throw err;
    }
}

describe("Ansible tags host by host, eDeploy as tag 5 (real ansible-playbook, edeploy upgrade)", function () {
    this.timeout(300000);
    let lab: string;
    let log: string;

    before(() => ensureTools());
    beforeEach(() => {
        lab = makeLab(NODES);
        log = path.join(lab, "steps.log");
    });
    afterEach(() => rm(lab));

    /** Each task logs "<host> <task> <release the node runs>", so the log shows the order and where eDeploy ran. */
    const task = (name: string, tag: number) => ({
        name, shell: `echo "{{ inventory_hostname }} ${name} $(sed -n 's/^VERS=//p' {{ node_root }}/var/lib/edeploy/conf)" >> ${log}`, tags: tag,
    });
    function config(): RawConfig {
        const raw = spinalConfig(lab);
        const o = raw.openstack as Record<string, unknown>;
        o.orderedProfiles = ["load-balancer", "controller", "compute"];
        o.profiles = {
            "load-balancer": { role: "lb", classes: ["cloud::loadbalancer"] },
            controller: { role: "openstack-full", classes: ["cloud::identity", "cloud::compute::api"] },
            compute: { role: "openstack-full", classes: ["cloud::compute::hypervisor"] },
        };
        o.ansible = {
            snippets: {
                "cloud::loadbalancer": [task("haproxy-drain", 2), task("haproxy-restart", 7)],
                "cloud::identity": [task("keystone-stop", 3)],
                "cloud::compute::api": [task("nova-api-stop", 3), task("nova-db-sync", 5), task("nova-api-start", 6)],
                "cloud::compute::hypervisor": [task("evacuate", 1), task("nova-compute-restart", 8)],
            },
        };
        return raw;
    }
    async function upgradeSteps(raw: RawConfig) {
        const run = await buildUnderMocks(load(raw));
        return orderSteps(run.steps).filter(s => ["ansible-step", "edeploy-upgrade", "node-reboot"].includes(s.kind));
    }

    it("runs each host's tags in order, host after host and profile after profile, with edeploy upgrade first in tag 5", async () => {
        const steps = await upgradeSteps(config());
        assert.deepEqual(steps.map(s => s.id), [
            "ansible-lb1-tag-2", "edeploy-lb1", "reboot-lb1", "ansible-lb1-tag-7",
            "ansible-ctl1-tag-3", "edeploy-ctl1", "reboot-ctl1", "ansible-ctl1-tag-5", "ansible-ctl1-tag-6",
            "ansible-ctl2-tag-3", "edeploy-ctl2", "reboot-ctl2", "ansible-ctl2-tag-5", "ansible-ctl2-tag-6",
            "ansible-cpt1-tag-1", "edeploy-cpt1", "reboot-cpt1", "ansible-cpt1-tag-8",
        ]);
        // One chain: every step waits for the one before it.
        for (let i = 1; i < steps.length; i++) assert.ok(steps[i].dependsOn.includes(steps[i - 1].id), `${steps[i].id} after ${steps[i - 1].id}`);
        assert.deepEqual(steps[0].params.limit, "lb1");

        const results: Record<string, Record<string, unknown>> = {};
        for (const s of steps) {
            const params = s.kind === "node-reboot" ? { ...s.params, rebootNeeded: results[`edeploy-${s.params.node}`].rebootNeeded } : s.params;
            results[s.id] = await runOne(s, params);
        }
        assert.deepEqual(read(log).trim().split("\n"), [
            "lb1 haproxy-drain J.1.0.0", "lb1 haproxy-restart J.1.1.0",
            "ctl1 keystone-stop J.1.0.0", "ctl1 nova-api-stop J.1.0.0", "ctl1 nova-db-sync J.1.1.0", "ctl1 nova-api-start J.1.1.0",
            "ctl2 keystone-stop J.1.0.0", "ctl2 nova-api-stop J.1.0.0", "ctl2 nova-db-sync J.1.1.0", "ctl2 nova-api-start J.1.1.0",
            "cpt1 evacuate J.1.0.0", "cpt1 nova-compute-restart J.1.1.0",
        ]);
        // The nodes whose post asked for a reboot (new kernel) were rebooted before their next tag.
        assert.deepEqual(["lb1", "ctl1", "ctl2", "cpt1"].map(n => results[`reboot-${n}`].rebooted), [false, true, true, true]);
        assert.equal(results["ansible-ctl1-tag-5"].tag, 5);
        assert.deepEqual(Object.keys(results["ansible-ctl1-tag-5"].hosts as object), ["ctl1"], "--limit: only that host ran");
    });

    it("a failing tag on a host stops there: the rest of its tags and the next hosts do not run", async () => {
        const raw = config();
        const o = raw.openstack as Record<string, { snippets: Record<string, unknown[]> }>;
        o.ansible.snippets["cloud::identity"] = [{ ...task("keystone-stop", 3), shell: `${task("keystone-stop", 3).shell}; test {{ inventory_hostname }} != ctl1` }];
        const steps = await upgradeSteps(raw);
        const ran: string[] = [];
        let failed = "";
        for (const s of steps) {
            try {
                const params = s.kind === "node-reboot" ? { ...s.params, rebootNeeded: false } : s.params;
                await runOne(s, params);
                ran.push(s.id);
            } catch (err) {
                failed = `${s.id}: ${(err as Error).message.split("\n")[0]}`;
                break;
            }
        }
        assert.deepEqual(ran, ["ansible-lb1-tag-2", "edeploy-lb1", "reboot-lb1", "ansible-lb1-tag-7"]);
        assert.match(failed, /^ansible-ctl1-tag-3: ansible-playbook --tags 3 failed on profile controller \(exit 2\): failed on ctl1/);
        // ctl1 was not upgraded: its eDeploy tag comes after the failed one.
        assert.match(read(path.join(lab, "nodes/ctl1/var/lib/edeploy/conf")), /^VERS=J\.1\.0\.0$/m);
    });

    it("refuses an orderedProfiles that misses or invents a profile", () => {
        const raw = config();
        (raw.openstack as Record<string, unknown>).orderedProfiles = ["controller", "compute", "storage"];
        assert.throws(() => load(raw), (err: Error) => {
            assert.match(err.message, /upgrade:openstack\.orderedProfiles\[2\]: unknown profile "storage"/);
            assert.match(err.message, /upgrade:openstack\.orderedProfiles: does not list profile "load-balancer"/);
            return true;
        });
    });
});
