import { strict as assert } from "assert";
import * as path from "path";
import { StepRecord } from "../../components/core";
import { ConfigError } from "../../components/config";
import { orderSteps } from "../../cli/plan/evaluate";
import { load, RawConfig } from "../support/configs";
import { buildUnderMocks, MockRun, precedes, runnerSpecOf } from "../support/mocks";
import { makeLab, rm, snapshot, spinalConfig } from "./support";

/** A configuration for graph tests: paths need not exist, nothing runs. */
function config(over: Record<string, unknown> = {}): RawConfig {
    const raw = spinalConfig(FAKE_LAB);
    Object.assign(raw.openstack as object, over);
    return raw;
}
let FAKE_LAB = "";

const ids = (steps: StepRecord[]) => steps.map(s => s.id);
const step = (run: MockRun, id: string) => {
    const s = run.steps.find(x => x.id === id);
    assert.ok(s, `no step ${id} in ${ids(run.steps).join(", ")}`);
    return s!;
};

/** Every step of group i comes before every step of group i+1: on the graph and in registration order. */
function assertGroupsInOrder(run: MockRun, groups: string[][]): void {
    const commands = run.registrations.filter(r => r.type.startsWith("command:")).map(r => r.name);
    for (let i = 0; i + 1 < groups.length; i++) {
        for (const a of groups[i]) {
            for (const b of groups[i + 1]) {
                assert.ok(precedes(run.steps, a, b), `${a} must come before ${b}`);
                assert.ok(!precedes(run.steps, b, a), `${b} must not come before ${a}`);
                assert.ok(commands.indexOf(a) < commands.indexOf(b), `${a} must be registered before ${b}`);
            }
        }
    }
}

const EDEPLOY = ["edeploy-lb1", "edeploy-ctl1", "edeploy-ctl2", "edeploy-cpt1", "edeploy-cpt2"];

describe("Spinal Stack upgrade: the procedure's graph (Pulumi mocks)", function () {
    this.timeout(60000);
    let lab: string;
    before(() => {
        lab = makeLab();
        FAKE_LAB = lab;
    });
    after(() => rm(lab));

    // Order from grenade.sh (survival phases around the upgrade) and config-tools upgrade.sh (profile by
    // profile, host by host, tags 1..9 with eDeploy as tag 5: openstack-yaml-infra upgrade/snippets/edeploy.yaml).
    it("follows the seeds: provisioning, survival create/verify, shutdown, verify_noapi, per host the tags with eDeploy as 5, Puppet, start, upgrade.sh, verify post, Sanity, destroy", async () => {
        const run = await buildUnderMocks(load(config()));
        const order = orderSteps(run.steps).map(s => s.id);
        assert.equal(order.length, run.steps.length);
        assertGroupsInOrder(run, [
            ["provision-puppet-modules"], ["provision-serverspec"], ["provision-edeploy-roles"], ["provision-ansible-playbooks"],
            ["survival-labnet-early-create"], ["survival-labcloud-early-create"], ["survival-node-data-early-create"],
            ["survival-labnet-create"], ["survival-labcloud-create"], ["survival-node-data-create"],
            ["survival-labcloud-verify-pre-upgrade"], ["survival-node-data-verify-pre-upgrade"],
            ["grenade-shutdown-labcloud"], ["shutdown-openstack-api", "shutdown-nova-compute"],
            ["survival-labcloud-verify-noapi-pre-upgrade"], ["survival-node-data-verify-noapi-pre-upgrade"],
            EDEPLOY,
            ["puppet-step-0"], ["puppet-step-5"], ["serverspec"],
            ["start-openstack-api", "start-nova-compute"], ["grenade-upgrade-labcloud"],
            ["survival-labcloud-verify-post-upgrade"], ["survival-node-data-verify-post-upgrade"],
            ["sanity-tempest-api"], ["sanity-tempest-cli"], ["sanity-javelin"],
            ["survival-node-data-destroy"], ["survival-labcloud-destroy"], ["survival-labnet-destroy"],
        ]);
        // The upgrade is one chain: profiles in name order here (no orderedProfiles), hosts in order, tags ascending.
        const upgrade = order.filter(id => /^(ansible|edeploy|reboot)-/.test(id));
        assert.deepEqual(upgrade, [
            "edeploy-cpt1", "reboot-cpt1", "ansible-cpt1-tag-5", "edeploy-cpt2", "reboot-cpt2", "ansible-cpt2-tag-5",
            "ansible-ctl1-tag-3", "edeploy-ctl1", "reboot-ctl1", "ansible-ctl1-tag-6", "ansible-ctl1-tag-7",
            "ansible-ctl2-tag-3", "edeploy-ctl2", "reboot-ctl2", "ansible-ctl2-tag-6", "ansible-ctl2-tag-7",
            "ansible-lb1-tag-2", "edeploy-lb1", "reboot-lb1",
        ]);
        for (let i = 1; i < upgrade.length; i++) assert.deepEqual(step(run, upgrade[i]).dependsOn, [upgrade[i - 1]]);
    });

    it("upgrades profiles in orderedProfiles' order; each reboot step reads its node's rebootNeeded", async () => {
        const run = await buildUnderMocks(load(config({ orderedProfiles: ["load-balancer", "controller", "compute"] })));
        assert.ok(precedes(run.steps, "reboot-lb1", "ansible-ctl1-tag-3"));
        assert.ok(precedes(run.steps, "ansible-ctl2-tag-7", "edeploy-cpt1"));
        assert.ok(!precedes(run.steps, "edeploy-cpt1", "edeploy-lb1"));
        for (const n of ["lb1", "ctl1", "ctl2", "cpt1", "cpt2"]) {
            assert.deepEqual(step(run, `reboot-${n}`).params.rebootNeeded, { from: `edeploy-${n}.rebootNeeded` });
        }
    });

    it("uses the shared kinds and params of plan-format.md", async () => {
        const run = await buildUnderMocks(load(config()));
        const kinds = new Set(run.steps.map(s => s.kind));
        for (const k of ["provision", "edeploy-upgrade", "ansible-step", "puppet-step", "serverspec", "sanity", "service-shutdown", "service-start", "survival"]) {
            assert.ok(kinds.has(k), `kind ${k}`);
        }
        const e = step(run, "edeploy-cpt2").params;
        assert.deepEqual([e.node, e.role, e.profile, e.from, e.to], ["cpt2", "openstack-full", "compute", "J.1.0.0", "J.1.1.0"]);
        const a = step(run, "ansible-ctl2-tag-6").params;
        assert.deepEqual([a.profile, a.host, a.limit, a.tag, a.tasks], ["controller", "ctl2", "ctl2", 6, ["restart nova-api"]]);
        assert.deepEqual(step(run, "puppet-step-5").params.step, 5);
        assert.deepEqual(step(run, "puppet-step-5").params.maxRuns, 5);
        assert.deepEqual(run.steps.filter(s => s.kind === "sanity").map(s => s.params.suite), ["tempest-api", "tempest-cli", "javelin"]);
        const v = step(run, "survival-labcloud-verify-noapi-pre-upgrade").params;
        assert.deepEqual([v.project, v.phase, v.when], ["labcloud", "verify_noapi", "pre-upgrade"]);
        assert.equal(step(run, "survival-labcloud-destroy").params.when, undefined);
    });

    // openstack/grenade inc/plugin: one save database for every project (resource_save = iniset $GRENADE_DB ...).
    it("hands the one save database from grenade step to grenade step as step outputs, over every project", async () => {
        const run = await buildUnderMocks(load(config()));
        const chain = orderSteps(run.steps).filter(s => s.kind === "survival").map(s => s.id);
        assert.equal(chain[0], "survival-labnet-early-create");
        assert.deepEqual(step(run, chain[0]).params.saved, {});
        assert.equal(step(run, chain[0]).params.init, true);
        for (let i = 1; i < chain.length; i++) {
            assert.deepEqual(step(run, chain[i]).params.saved, { from: `${chain[i - 1]}.saved` });
            assert.ok(step(run, chain[i]).dependsOn.includes(chain[i - 1]) || precedes(run.steps, chain[i - 1], chain[i]));
            assert.equal(step(run, chain[i]).params.init, false);
        }
        // After a step ran, the next one is handed exactly what it reported (as `pulumi up` does from state).
        const saved = { network: { net_id: "n1" }, labcloud: { labcloud_server_id: "abc123" } };
        const results: Record<string, unknown> = {};
        for (const s of run.steps) {
            if (s.kind === "survival") results[s.id] = { saved: {} };
            if (s.kind === "edeploy-upgrade") results[s.id] = { rebootNeeded: false };
        }
        const before = chain[chain.indexOf("survival-labcloud-verify-pre-upgrade") - 1];
        results[before] = { saved };
        const done = await buildUnderMocks(load(config()), { preview: false, results });
        const spec = runnerSpecOf(done, "survival-labcloud-verify-pre-upgrade");
        assert.deepEqual(spec.params.saved, saved);
    });

    it("runs nothing during preview: only command resources, no invoke, every step keyed by the run", async () => {
        const run = await buildUnderMocks(load(config()));
        assert.deepEqual(run.invokes, []);
        const commands = run.registrations.filter(r => r.type.startsWith("command:"));
        assert.equal(commands.length, run.steps.length);
        for (const c of commands) assert.equal((c.inputs.triggers as unknown[])[0], "J.1.1.0");
        assert.ok(run.registrations.some(r => r.type === "upgrade:openstack:SpinalStackUpgrade"));
        assert.ok(run.registrations.some(r => r.type === "upgrade:step:EdeployUpgrade" && r.name === "edeploy-ctl1"));
    });

    it("with edeploy.preview, plan shows per node what rsync would change, read-only", async () => {
        const before = snapshot(lab);
        const run = await buildUnderMocks(load(config({ edeploy: { ...(config().openstack as { edeploy: object }).edeploy, preview: true } })));
        assert.deepEqual(snapshot(lab), before, "the probe wrote nothing");
        assert.deepEqual(run.invokes, [], "under plan's mocks the probe runs here, not as an invoke");
        const title = step(run, "edeploy-ctl1").title;
        // 2 new files of the role, and the add_only pass's var/lib/ceilometer/pipeline.yaml (and its folder),
        // which this node lacks: both passes, as the step runs them.
        assert.match(title, /rsync would change \d+: 4 new, \d+ updated, 2 deleted/);
        // --delete-after: rsync lists the deletions last, past the examples the title has room for (counted above).
        assert.match(title, /\+boot\/vmlinuz-3\.10\.0-229\.el7\.x86_64, ~etc\/ceilometer\/ceilometer\.conf/);
        assert.match(title, /, … 4 more\)$/);
        assert.doesNotMatch(title, /var\/lib\/mysql|etc\/hostname/);
        // The probe is not part of what the step does: its params (and so its triggers) do not carry it.
        assert.ok(!JSON.stringify(step(run, "edeploy-ctl1").params).includes("rsync would"));
        const noPreview = await buildUnderMocks(load(config()));
        assert.deepEqual(step(noPreview, "edeploy-ctl1").params, step(run, "edeploy-ctl1").params);
    });

    it("refuses bad configurations with every problem and its path", () => {
        const raw = config({
            hosts: { ctl1: { profile: "controler", root: "/n/ctl1" }, cpt1: { profile: "compute", root: "/n/ctl1" } },
            edeploy: { rolesDir: "/r", metadataDir: "/m", from: "J.1.0.0", to: "J.1.0.0" },
            ansible: { snippets: { "cloud::x": [{ name: "t", shell: "true", tags: "seven" }] } },
            survival: { topDir: "/t", projects: [{ name: "nova" }] },
        });
        assert.throws(() => load(raw), (err: ConfigError) => {
            const text = err.message;
            assert.match(text, /upgrade:openstack\.ansible\.snippets\.cloud::x\[0\]\.tags: must be the step number/);
            return true;
        });
        const raw2 = config({
            hosts: { ctl1: { profile: "controler", root: "/n/ctl1" }, cpt1: { profile: "compute", root: "/n/ctl1" } },
            edeploy: { rolesDir: "/r", metadataDir: "/m", from: "J.1.0.0", to: "J.1.0.0" },
            survival: { topDir: "/t", projects: [{ name: "nova" }] },
        });
        assert.throws(() => load(raw2), (err: ConfigError) => {
            const paths = err.problems.map(p => `${p.path}: ${p.message}`);
            assert.ok(paths.some(p => /^upgrade:openstack\.hosts\.ctl1\.profile: unknown profile "controler"/.test(p)), paths.join("\n"));
            assert.ok(paths.some(p => /^upgrade:openstack\.hosts\.cpt1\.root: is the tree of host ctl1 too/.test(p)), paths.join("\n"));
            assert.ok(paths.some(p => /^upgrade:openstack\.profiles\.(load-balancer|controller): has no host/.test(p)), paths.join("\n"));
            assert.ok(paths.some(p => /^upgrade:openstack\.edeploy\.to: is the release the nodes already run/.test(p)), paths.join("\n"));
            assert.ok(paths.some(p => /^upgrade:openstack\.survival\.projects\[0\]: needs exactly one of plugin/.test(p)), paths.join("\n"));
            return true;
        });
        assert.throws(() => load({ procedure: "spinalstack-upgrade", target: "x" }), /upgrade:openstack: is required by procedure spinalstack-upgrade/);
        assert.ok(path.isAbsolute(lab));
    });
});
