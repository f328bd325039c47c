import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import { Readable } from "stream";
import { parse } from "yaml";
import { STEP_ENV } from "../../components/core/step";
import { orderSteps } from "../../cli/plan/evaluate";
import { runStep } from "../../cli/step/main";
import { load } from "../support/configs";
import { buildUnderMocks, precedes } from "../support/mocks";
import { ensureTools, makeLab, read, rm, spinalConfig } from "./support";

const HOSTS = ["ctl1", "ctl2", "ctl3", "ctl4"].map(h => `${h}=controller:openstack-full`);

/** The profile's Ansible steps as the program places them, in plan order. */
async function ansibleSteps(lab: string, controller: Record<string, unknown>, snippets: Record<string, unknown>) {
    const raw = spinalConfig(lab);
    const o = raw.openstack as Record<string, unknown>;
    o.profiles = { controller: { role: "openstack-full", classes: ["cloud::identity", "cloud::compute::api"], ...controller } };
    o.ansible = { snippets };
    const run = await buildUnderMocks(load(raw));
    return { run, steps: orderSteps(run.steps).filter(s => s.kind === "ansible-step") };
}

async function runAnsible(s: { id: string; kind: string; params: Record<string, unknown> }, logs: string[]) {
    return runStep([s.kind, s.id], { ...process.env, [STEP_ENV]: JSON.stringify({ id: s.id, kind: s.kind, params: s.params }) },
        Readable.from([""]), l => logs.push(l));
}

describe("Ansible steps (real ansible-playbook over a local inventory)", function () {
    this.timeout(120000);
    let lab: string;
    let log: string;

    before(() => ensureTools());
    beforeEach(() => {
        lab = makeLab(HOSTS);
        log = path.join(lab, "steps.log");
    });
    afterEach(() => rm(lab));

    const task = (name: string, tag: number, extra = "") =>
        ({ name, shell: `echo "{{ inventory_hostname }} ${name}" >> LOG${extra}`, tags: tag });
    const withLog = (snippets: Record<string, unknown[]>) =>
        JSON.parse(JSON.stringify(snippets).replace(/LOG/g, log)) as Record<string, unknown>;
    const lines = () => read(log).trim().split("\n");

    it("runs the tags in ascending order per profile, hosts in batches of serial", async () => {
        // Snippet order in the config is not step order: 7 is listed before 3.
        const { run, steps } = await ansibleSteps(lab, { serial: 2 }, withLog({
            "cloud::compute::api": [task("restart-api", 7), task("api-db-sync", 3)],
            "cloud::identity": [task("keystone-db-sync", 3)],
        }));
        assert.deepEqual(steps.map(s => s.id), ["ansible-controller-tag-3", "ansible-controller-tag-7"]);
        assert.ok(precedes(run.steps, "ansible-controller-tag-3", "ansible-controller-tag-7"));
        assert.deepEqual(steps[0].params.tasks, ["keystone-db-sync", "api-db-sync"]);
        const logs: string[] = [];
        const results = [];
        for (const s of steps) results.push(await runAnsible(s, logs));
        const got = lines();
        // Step 3 on every host before step 7 on any; in each step, batch [ctl1, ctl2] before [ctl3, ctl4].
        const at = (l: string) => got.indexOf(l);
        for (const h of ["ctl1", "ctl2", "ctl3", "ctl4"]) {
            assert.ok(at(`${h} keystone-db-sync`) < at(`${h} api-db-sync`), got.join("\n"));
            for (const o of ["ctl1", "ctl2", "ctl3", "ctl4"]) assert.ok(at(`${h} api-db-sync`) < at(`${o} restart-api`), got.join("\n"));
        }
        // Batch boundaries: in each step, both hosts of batch 1 are done before batch 2 starts.
        assert.ok(Math.max(at("ctl1 api-db-sync"), at("ctl2 api-db-sync")) < Math.min(at("ctl3 keystone-db-sync"), at("ctl4 keystone-db-sync")), got.join("\n"));
        assert.ok(Math.max(at("ctl1 restart-api"), at("ctl2 restart-api")) < Math.min(at("ctl3 restart-api"), at("ctl4 restart-api")), got.join("\n"));
        assert.equal(got.length, 12);
        assert.deepEqual(results[0].batches, [["ctl1", "ctl2"], ["ctl3", "ctl4"]]);
        assert.deepEqual(Object.keys(results[1].hosts as object).sort(), ["ctl1", "ctl2", "ctl3", "ctl4"]);
        // The generated playbook and inventory.
        const pb = parse(read(results[0].playbook as string)) as { serial: number; max_fail_percentage: number; hosts: string; tasks: { tags: string[] }[] }[];
        assert.deepEqual([pb[0].hosts, pb[0].serial, pb[0].max_fail_percentage], ["controller", 2, 0]);
        assert.deepEqual(pb[0].tasks.map(t => t.tags), [["3"], ["3"]]);
        const inv = read(results[0].inventory as string);
        assert.match(inv, new RegExp(`^ctl3 ansible_connection=local .*node_root=${path.join(lab, "nodes", "ctl3")} `, "m"));
    });

    it("stops the profile when a failing host exceeds max_fail_percentage: later batches and steps do not run", async () => {
        const { run, steps } = await ansibleSteps(lab, { serial: 2, maxFailPercentage: 0 }, withLog({
            "cloud::identity": [task("db-sync", 3, "; test {{ inventory_hostname }} != ctl2"), task("after-sync", 3)],
            "cloud::compute::api": [task("restart-api", 7)],
        }));
        const logs: string[] = [];
        await assert.rejects(runAnsible(steps[0], logs),
            /ansible-playbook --tags 3 failed on profile controller \(exit 2\): failed on ctl2; not run: ctl3, ctl4 \(stopped after a batch exceeded max_fail_percentage 0\)/);
        assert.deepEqual(lines().sort(), ["ctl1 db-sync", "ctl2 db-sync"], "batch 1 stopped after the failure, batch 2 never started");
        assert.ok(logs.some(l => /NO MORE HOSTS LEFT|PLAY RECAP/.test(l)), "Ansible's own output is in the step log");
        // Step 7 of the profile waits for step 3: after this failure it never starts.
        assert.ok(precedes(run.steps, "ansible-controller-tag-3", "ansible-controller-tag-7"));
    });

    it("goes on with the next batches while failures stay within the threshold, and still fails the step", async () => {
        const { steps } = await ansibleSteps(lab, { serial: 2, maxFailPercentage: 50 }, withLog({
            "cloud::identity": [task("db-sync", 3, "; test {{ inventory_hostname }} != ctl2")],
        }));
        await assert.rejects(runAnsible(steps[0], []), (err: Error) => {
            assert.match(err.message, /failed on ctl2; the profile's later steps do not run/);
            assert.doesNotMatch(err.message, /not run:/);
            return true;
        });
        assert.deepEqual(lines().sort(), ["ctl1 db-sync", "ctl2 db-sync", "ctl3 db-sync", "ctl4 db-sync"]);
    });

    it("writes node files through node_root: each host alias works on its own tree", async () => {
        const { steps } = await ansibleSteps(lab, { serial: 3 }, {
            "cloud::identity": [{ name: "mark", copy: { dest: "{{ node_root }}/etc/keystone-upgraded", content: "{{ node_name }}\n" }, tags: 4 }],
        });
        await runAnsible(steps[0], []);
        for (const h of ["ctl1", "ctl2", "ctl3", "ctl4"]) assert.equal(read(path.join(lab, "nodes", h, "etc/keystone-upgraded")), `${h}\n`);
        assert.ok(!fs.existsSync(path.join(lab, "etc")));
    });
});
