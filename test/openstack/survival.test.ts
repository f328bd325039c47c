/**
 * Grenade's survival phases as grenade runs them, through the procedure's own survival steps.
 *
 * Rules from upstream (openstack/grenade):
 * - grenade.sh: resources early_create, create, verify pre-upgrade; shutdown_services; verify_noapi
 *   pre-upgrade; upgrade_service per project; verify post-upgrade; destroy. early_create is always called.
 * - inc/plugin: `resources` runs the projects in UPGRADE_PROJECTS order and destroy in reverse
 *   (reverse_list), and no phase unless VERIFY_RESOURCES is True; shutdown_services runs shutdown.sh in
 *   reverse; resource_save/resource_get are iniset/iniget on one database, $SAVE_DIR/grenade_db.ini, for every project; resources.sh gets TOP_DIR=$BASE_DEVSTACK_DIR
 *   and LOGDIR; enable_grenade_plugin + load_settings source each plugin's devstack/upgrade/settings.
 * - inc/upgrade: register_project_for_upgrade takes the plugin folder from the settings file (caller);
 *   upgrade_service runs upgrade.sh with TOP_DIR=$TARGET_DEVSTACK_DIR; register_db_to_save.
 * - grenaderc: STACK_ROOT, SAVE_DIR=$STACK_ROOT/save, BASE_/TARGET_RELEASE_DIR=$STACK_ROOT/<release>.
 * - functions: source_quiet, ping_check_public, worlddump, FSSH, the exit trap.
 * - projects/60_nova/resources.sh and projects/70_cinder/resources.sh: the style of the lab's labcloud
 *   plugin (resource_get network net_id, a floating IP pinged, a key file kept in $SAVE_DIR).
 * - openstack/barbican devstack/upgrade/ (settings, resources.sh): a plugin written for grenade, run here
 *   unchanged from barbican's 23.0.0 sdist on PyPI (scripts/openstack/grenade-plugins.sh); its settings
 *   read $BASE_DEVSTACK_DIR/stackrc, its resources.sh sources $TOP_DIR/inc/ini-config.
 */
import { strict as assert } from "assert";
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { StepRecord } from "../../components/core";
import { orderSteps } from "../../cli/plan/evaluate";
import { load, RawConfig } from "../support/configs";
import { buildUnderMocks } from "../support/mocks";
import { createHash } from "crypto";
import { ensureTools, LAB, makeLab, read, rm, runStepInProcess, runStepProcess, spinalConfig, upstreamPlugin } from "./support";

type Saved = Record<string, Record<string, string>>;

describe("Grenade survival phases (the procedure's steps, grenade's contract)", function () {
    this.timeout(240000);
    let lab: string;

    before(() => ensureTools());
    beforeEach(() => { lab = makeLab(["ctl1=controller:openstack-full", "cpt1=compute:openstack-full"]); });
    afterEach(() => rm(lab));

    const nodes = () => path.join(lab, "nodes");
    const stackRoot = () => path.join(lab, "stack");
    const services = (action: string) => {
        for (const g of ["api", "compute"]) execFileSync("bash", [path.join(LAB, "bin/services.sh"), action, g, nodes()], { stdio: "ignore" });
    };
    /** The upgrade itself is another test's concern: here the nodes just run the target release afterwards. */
    const releaseNodes = (to: string) => {
        for (const n of ["ctl1", "cpt1"]) {
            const conf = path.join(nodes(), n, "var/lib/edeploy/conf");
            fs.writeFileSync(conf, read(conf).replace(/^VERS=.*$/m, `VERS=${to}`));
        }
    };
    /** The procedure's grenade steps (kind survival) in the order the engine runs them. */
    async function grenadeSteps(raw: RawConfig): Promise<StepRecord[]> {
        // This lab has no load balancer.
        delete ((raw.openstack as Record<string, unknown>).profiles as Record<string, unknown>)["load-balancer"];
        const run = await buildUnderMocks(load(raw));
        return orderSteps(run.steps).filter(s => s.kind === "survival");
    }
    /** Run one grenade step with the previous step's saved output as its input (what the engine hands on). */
    async function runGrenade(s: StepRecord, saved: unknown, separate = false) {
        return (separate ? runStepProcess : runStepInProcess)("survival", s.id, { ...s.params, saved });
    }
    const ok = (r: { code: number; stderr: string; result?: Record<string, unknown> }) => {
        assert.equal(r.code, 0, r.stderr);
        return r.result!;
    };

    it("runs two grenade plugins and a native check in grenade's order: the network id one saves is read by the other, a key stays in SAVE_DIR", async () => {
        const steps = await grenadeSteps(spinalConfig(lab));
        assert.deepEqual(steps.map(s => s.id), [
            "survival-labnet-early-create", "survival-labcloud-early-create", "survival-node-data-early-create",
            "survival-labnet-create", "survival-labcloud-create", "survival-node-data-create",
            "survival-labnet-verify-pre-upgrade", "survival-labcloud-verify-pre-upgrade", "survival-node-data-verify-pre-upgrade",
            "grenade-shutdown-labcloud",
            "survival-labnet-verify-noapi-pre-upgrade", "survival-labcloud-verify-noapi-pre-upgrade", "survival-node-data-verify-noapi-pre-upgrade",
            "grenade-upgrade-labcloud",
            "survival-labnet-verify-post-upgrade", "survival-labcloud-verify-post-upgrade", "survival-node-data-verify-post-upgrade",
            "survival-node-data-destroy", "survival-labcloud-destroy", "survival-labnet-destroy",
        ]);
        assert.equal(steps[0].params.init, true, "the first grenade step blanks the save database");
        assert.ok(steps.slice(1).every(s => s.params.init === false));

        const db = path.join(stackRoot(), "save", "grenade_db.ini");
        const keyFile = path.join(stackRoot(), "save", "labcloud_key");
        let saved: unknown = {};
        let netId = "";
        let serverId = "";
        for (const s of steps) {
            if (s.id === "grenade-shutdown-labcloud") services("stop");
            if (s.id === "grenade-upgrade-labcloud") { releaseNodes("J.1.1.0"); services("start"); }
            // The phases after the shutdown each in their own process, as separate (resumed) updates would run them.
            const result = ok(await runGrenade(s, saved, /verify-noapi|upgrade|post-upgrade/.test(s.id)));
            saved = result.saved;
            const sv = saved as Saved;
            if (s.id === "survival-labnet-early-create") {
                netId = sv.network.net_id;
                assert.match(netId, /^[0-9a-f]{12}$/);
            }
            if (s.id === "survival-labcloud-create") {
                serverId = sv.labcloud.labcloud_server_id;
                // The server is on the network the other plugin saved under [network].
                assert.match(read(path.join(nodes(), "ctl1/var/lib/labcloud/servers", serverId)), new RegExp(`^network=${netId}$`, "m"));
                assert.match(sv.labcloud.labcloud_server_ip, /^127\.42\.\d+\.\d+$/);
                // One database for every project, in devstack's ini format.
                assert.match(read(db), new RegExp(`\\[network\\]\\nnet_id = ${netId}\\n[\\s\\S]*\\[labcloud\\]\\nlabcloud_server_id = ${serverId}\\n`));
                // worlddump wrote its dump into LOGDIR.
                assert.ok(fs.readdirSync(path.join(stackRoot(), "logs")).some(f => /labcloud_resources_created/.test(f)));
                assert.deepEqual(result.upgradeProjects, ["labnet", "labcloud"]);
                assert.deepEqual(result.databasesToSave, ["labcloud"]);
            }
            if (s.id === "survival-labcloud-verify-noapi-pre-upgrade") {
                assert.ok(fs.existsSync(keyFile), "the key create kept in SAVE_DIR is there at verify_noapi");
                assert.deepEqual(result.savedFiles, ["labcloud_key", "labcloud_key.pub"]);
            }
        }
        // destroy ran in reverse: the server went before its network (which refuses while it is used).
        assert.deepEqual(fs.readdirSync(path.join(nodes(), "ctl1/var/lib/labcloud/servers")), []);
        assert.deepEqual(fs.readdirSync(path.join(nodes(), "ctl1/var/lib/labcloud/networks")), []);
        assert.ok(!fs.existsSync(keyFile));
    });

    it("runs barbican's own grenade plugin (release 23.0.0, from PyPI) unchanged: create saves the secret's href, verify reads it back, destroy removes it", async () => {
        const barbican = upstreamPlugin("barbican");
        const sha = (f: string) => createHash("sha256").update(fs.readFileSync(f)).digest("hex");
        // The files exactly as barbican 23.0.0 ships them.
        assert.equal(sha(path.join(barbican, "devstack/upgrade/resources.sh")), "5352e4c26bf85ec5b9a560542499f4fd1e2407f897c6af90e27cd9c3dc05a864");
        assert.equal(sha(path.join(barbican, "devstack/upgrade/settings")), "676fee6a9b495532bbaa73d13405804cdade0dda05e7f9676d3080405c2b0686");
        const raw = spinalConfig(lab);
        const survival = (raw.openstack as Record<string, unknown>).survival as { projects: unknown[]; env: Record<string, string> };
        survival.projects = [{ name: "barbican", plugin: barbican }];
        survival.env.ENABLED_SERVICES = "key";
        const steps = await grenadeSteps(raw);
        assert.deepEqual(steps.map(s => s.id), [
            "survival-barbican-early-create", "survival-barbican-create", "survival-barbican-verify-pre-upgrade",
            "grenade-shutdown-barbican", "survival-barbican-verify-noapi-pre-upgrade", "grenade-upgrade-barbican",
            "survival-barbican-verify-post-upgrade", "survival-barbican-destroy",
        ]);
        const db = path.join(nodes(), "ctl1/var/lib/labcloud");
        const secretOf = (link: string) => path.join(db, "secrets", link.replace(/^.*\/secrets\//, ""));
        let saved: unknown = {};
        let link = "";
        for (const s of steps) {
            // barbican's shutdown.sh and upgrade.sh stop, install and start its services with a real devstack
            // (lib/barbican, git_clone, uwsgi); the lab stops and starts its services there instead.
            if (s.id === "grenade-shutdown-barbican") { services("stop"); continue; }
            if (s.id === "grenade-upgrade-barbican") { releaseNodes("J.1.1.0"); services("start"); continue; }
            if (s.id === "survival-barbican-verify-post-upgrade") {
                // verify asks the API for the secret whose href create saved: without it, verify fails.
                fs.renameSync(secretOf(link), `${secretOf(link)}.away`);
                const lost = await runGrenade(s, saved, true);
                assert.equal(lost.code, 1);
                assert.match(lost.stderr, /barbican: resources\.sh verify post-upgrade failed \(exit 1\).*Secret not found/s);
                fs.renameSync(`${secretOf(link)}.away`, secretOf(link));
            }
            const result = ok(await runGrenade(s, saved, /verify-noapi|post-upgrade/.test(s.id)));
            saved = result.saved;
            if (s.id === "survival-barbican-create") {
                const b = (saved as Saved).barbican;
                assert.deepEqual(Object.keys(b).sort(), ["project_id", "secret_link", "user_id"]);
                link = b.secret_link;
                assert.match(link, /^http:\/\/ctl1:9311\/v1\/secrets\/[0-9a-f-]{36}$/);
                // The secret was stored as the plugin's own user, in its own project (_barbican_set_user).
                assert.match(read(secretOf(link)), new RegExp(`^name=test_secret\nproject=${b.project_id}\npayload=this_is_a_secret_data\n$`));
                assert.match(read(path.join(db, "users", b.user_id)), new RegExp(`^name=barbican_grenade\nproject=${b.project_id}\n[\\s\\S]*^role=admin@${b.project_id}$`, "m"));
                // Its settings registered it as grenade's would; ENABLED_SERVICES is the base devstack's (the lab's
                // stackrc passes the step's on), and its devstack_localrc lines are recorded, not applied (external devstack).
                assert.deepEqual([result.upgradeProjects, result.databasesToSave, result.enabledServices],
                    [["barbican"], ["barbican"], "key"]);
                const localrc = result.localrc as { base: string[]; target: string[] };
                assert.ok(localrc.base.includes("enable_service barbican-svc barbican-retry"), JSON.stringify(localrc));
                assert.ok(localrc.target.includes("enable_plugin barbican https://opendev.org/openstack/barbican"), JSON.stringify(localrc));
            }
        }
        // destroy deleted the secret, then (as admin) the user and the project it made.
        assert.deepEqual(["secrets", "users", "projects"].map(d => fs.readdirSync(path.join(db, d))), [[], [], []]);
    });

    it("destroying the network before the server that uses it fails: the reverse order is needed", async () => {
        const steps = await grenadeSteps(spinalConfig(lab));
        let saved: unknown = {};
        for (const s of steps.filter(x => /early-create|-create$/.test(x.id))) saved = ok(await runGrenade(s, saved)).saved;
        const labnetDestroy = steps.find(s => s.id === "survival-labnet-destroy")!;
        const r = await runGrenade(labnetDestroy, saved);
        assert.equal(r.code, 1);
        assert.match(r.stderr, /labnet: resources\.sh destroy failed \(exit 5\).*network [0-9a-f]+ is in use/s);
    });

    it("calls each script as grenade does: arguments, TOP_DIR, LOGDIR, STACK_ROOT, SAVE_DIR, the release dirs, settings, and the shared database", async () => {
        const calls = path.join(lab, "calls");
        const plugin = (name: string, body: string[]) => {
            const dir = path.join(lab, "plugins", name, "devstack", "upgrade");
            fs.mkdirSync(dir, { recursive: true });
            fs.writeFileSync(path.join(dir, "settings"), [
                `register_project_for_upgrade ${name}`, `register_db_to_save ${name}_db`, `devstack_localrc base enable_service ${name}-api`, "",
            ].join("\n"));
            for (const script of ["resources.sh", "shutdown.sh", "upgrade.sh"]) {
                fs.writeFileSync(path.join(dir, script), [
                    "#!/bin/bash", "set -o errexit", "source $GRENADE_DIR/grenaderc", "source $GRENADE_DIR/functions",
                    `echo "${name} ${script} $* top=$TOP_DIR log=$LOGDIR save=$SAVE_DIR target=$TARGET_RELEASE_DIR svc=$ENABLED_SERVICES" >> ${calls}`,
                    ...(script === "resources.sh" ? body : []), "",
                ].join("\n"), { mode: 0o755 });
            }
            return path.join(lab, "plugins", name);
        };
        const a = plugin("alpha", [
            "case $1 in create) resource_save shared token tok-42; echo kept > $SAVE_DIR/alpha.keep;; esac",
            // grenade's helpers that nova's and cinder's scripts call are there, FSSH as grenade's functions defines it.
            "for f in source_quiet ping_check_public worlddump die die_if_not_set iniset iniget is_service_enabled resource_save resource_get; do",
            "    declare -F $f > /dev/null || { echo \"no $f\" >> " + path.join(lab, "missing") + "; }",
            "done",
            "[[ $FSSH == 'ssh -v -o ConnectTimeout=10 -o UserKnownHostsFile=/dev/null -o StrictHostKeyChecking=no' ]] || echo \"FSSH=$FSSH\" >> " + path.join(lab, "missing"),
        ]);
        const b = plugin("beta", [
            "case $1 in verify) [ \"$(resource_get shared token)\" = tok-42 ] || die $LINENO \"no token\";;",
            "  verify_noapi) [ \"$(cat $SAVE_DIR/alpha.keep)\" = kept ] || die $LINENO \"the kept file is gone\";; esac",
        ]);
        // The base devstack's stackrc gives ENABLED_SERVICES, as grenade.sh reads it (over the step's environment).
        fs.mkdirSync(path.join(lab, "base-devstack"));
        fs.writeFileSync(path.join(lab, "base-devstack", "stackrc"), "ENABLED_SERVICES=key,mysql\n");
        const raw = spinalConfig(lab);
        const o = raw.openstack as Record<string, unknown>;
        o.survival = {
            topDir: path.join(lab, "base-devstack"), targetDir: path.join(lab, "target-devstack"), stackRoot: stackRoot(),
            env: { ENABLED_SERVICES: "mysql" }, projects: [{ name: "alpha", plugin: a }, { name: "beta", plugin: b }],
        };
        let saved: unknown = {};
        for (const s of await grenadeSteps(raw)) saved = ok(await runGrenade(s, saved)).saved;
        const base = `top=${path.join(lab, "base-devstack")} log=${stackRoot()}/logs save=${stackRoot()}/save target=${stackRoot()}/J.1.1.0`;
        const target = base.replace("base-devstack", "target-devstack");
        // devstack_localrc's enable_service lines are not applied: with an external devstack grenade ignores them.
        const svc = "svc=key,mysql";
        assert.deepEqual(read(calls).trim().split("\n"), [
            `alpha resources.sh early_create ${base} ${svc}`, `beta resources.sh early_create ${base} ${svc}`,
            `alpha resources.sh create ${base} ${svc}`, `beta resources.sh create ${base} ${svc}`,
            `alpha resources.sh verify pre-upgrade ${base} ${svc}`, `beta resources.sh verify pre-upgrade ${base} ${svc}`,
            `beta shutdown.sh  ${base} ${svc}`, `alpha shutdown.sh  ${base} ${svc}`,
            `alpha resources.sh verify_noapi pre-upgrade ${base} ${svc}`, `beta resources.sh verify_noapi pre-upgrade ${base} ${svc}`,
            // upgrade.sh gets the target devstack as TOP_DIR.
            `alpha upgrade.sh  ${target} ${svc}`, `beta upgrade.sh  ${target} ${svc}`,
            `alpha resources.sh verify post-upgrade ${base} ${svc}`, `beta resources.sh verify post-upgrade ${base} ${svc}`,
            `beta resources.sh destroy ${base} ${svc}`, `alpha resources.sh destroy ${base} ${svc}`,
        ]);
        assert.deepEqual(saved, { shared: { token: "tok-42" } });
        assert.ok(!fs.existsSync(path.join(lab, "missing")), fs.existsSync(path.join(lab, "missing")) ? read(path.join(lab, "missing")) : "");

        // VERIFY_RESOURCES=False (grenaderc): resources() skips every resource phase; shutdown.sh and upgrade.sh still run.
        fs.rmSync(calls);
        (o.survival as { env: Record<string, string> }).env.VERIFY_RESOURCES = "False";
        saved = {};
        for (const s of await grenadeSteps(raw)) saved = ok(await runGrenade(s, saved)).saved;
        assert.deepEqual(read(calls).trim().split("\n").map(l => l.split(" top=")[0]),
            ["beta shutdown.sh ", "alpha shutdown.sh ", "alpha upgrade.sh ", "beta upgrade.sh "]);
    });

    it("a phase resumed in a new process gets the database from its input, not from what is left on disk", async () => {
        const steps = await grenadeSteps(spinalConfig(lab));
        let saved: unknown = {};
        for (const s of steps.slice(0, steps.findIndex(x => x.id === "grenade-shutdown-labcloud"))) saved = ok(await runGrenade(s, saved)).saved;
        services("stop");
        // Another run overwrote the database on disk; the state still has the values.
        fs.writeFileSync(path.join(stackRoot(), "save", "grenade_db.ini"), "[labcloud]\nlabcloud_server_id = gone\n");
        const noapi = steps.find(s => s.id === "survival-labcloud-verify-noapi-pre-upgrade")!;
        const resumed = ok(await runGrenade(noapi, JSON.parse(JSON.stringify(saved)), true));
        assert.deepEqual(resumed.saved, saved);
        // Without the values the phase fails: they come from the input only.
        const lost = await runGrenade(noapi, {});
        assert.equal(lost.code, 1);
        assert.match(lost.stderr, /labcloud: resources\.sh verify_noapi pre-upgrade failed/);
    });

    it("a lost instance disk fails verify_noapi with the plugin's message; with the APIs down verify fails too", async () => {
        const steps = await grenadeSteps(spinalConfig(lab));
        let saved: unknown = {};
        for (const s of steps.filter(x => /early-create|-create$/.test(x.id))) saved = ok(await runGrenade(s, saved)).saved;
        const id = (saved as Saved).labcloud.labcloud_server_id;
        fs.rmSync(path.join(nodes(), "cpt1/var/lib/nova/instances", id), { recursive: true });
        services("stop");
        const r = await runGrenade(steps.find(s => s.id === "survival-labcloud-verify-noapi-pre-upgrade")!, saved);
        assert.equal(r.code, 1);
        assert.match(r.stderr, /the disk of server [0-9a-f]+ is gone \(pre-upgrade\)/);
        const api = await runGrenade(steps.find(s => s.id === "survival-labcloud-verify-pre-upgrade")!, saved);
        assert.match(api.stderr, /the API of ctl1 does not answer/);
    });

    it("a native SurvivalCheck keeps its values in the same database; a changed data file fails verify", async () => {
        const steps = (await grenadeSteps(spinalConfig(lab))).filter(s => s.id.startsWith("survival-node-data-"));
        let saved: unknown = {};
        saved = ok(await runGrenade(steps.find(s => s.id === "survival-node-data-create")!, saved)).saved;
        assert.deepEqual(Object.keys((saved as Saved)["node-data"]).sort(), ["sha256_cpt1", "sha256_ctl1"]);
        assert.match(read(path.join(stackRoot(), "save", "grenade_db.ini")), /\[node-data\]\nsha256_cpt1 = [0-9a-f]{64}\n/);
        ok(await runGrenade(steps.find(s => s.id === "survival-node-data-verify-pre-upgrade")!, saved));
        fs.appendFileSync(path.join(nodes(), "cpt1/var/log/grenade-sentinel"), "x");
        const bad = await runGrenade(steps.find(s => s.id === "survival-node-data-verify-post-upgrade")!, saved);
        assert.equal(bad.code, 1);
        assert.match(bad.stderr, /node-data: verify post-upgrade failed: .*cpt1\/var\/log\/grenade-sentinel changed \(post-upgrade\)/);
    });
});
