import { strict as assert } from "assert";
import { execFileSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { ensureTools, LAB, makeLab, read, rm, runStepInProcess, runStepProcess } from "./support";

const SCRIPT = path.join(LAB, "grenade", "labcloud", "devstack", "upgrade", "resources.sh");
const TOP_DIR = path.join(LAB, "devstack");

/**
 * Each phase runs in its own step-runner process, as the steps of separate (resumed) `pulumi up` runs
 * would: the only thing a phase knows of the previous one is the `saved` output it is given.
 */
describe("Grenade-compatible survival checks (separate step-runner processes)", function () {
    this.timeout(180000);
    let lab: string;

    before(() => ensureTools());
    beforeEach(() => { lab = makeLab(["ctl1=controller:openstack-full", "cpt1=compute:openstack-full"]); });
    afterEach(() => rm(lab));

    const nodes = () => path.join(lab, "nodes");
    const env = () => ({ LABCLOUD_NODES: nodes(), LABCLOUD_CONTROLLER: "ctl1", LABCLOUD_COMPUTES: "cpt1" });
    const params = (phase: string, when: string | undefined, saved: unknown, over: Record<string, unknown> = {}) => ({
        project: "labcloud", phase, ...(when ? { when } : {}), script: SCRIPT, topDir: TOP_DIR, env: env(),
        releases: { base: "J.1.0.0", target: "J.1.1.0" }, saved, ...over,
    });
    /** One phase; `separate` runs it in its own step-runner process. */
    async function phase(id: string, phase: string, when: string | undefined, saved: unknown, over: Record<string, unknown> = {}, separate = false) {
        return (separate ? runStepProcess : runStepInProcess)("survival", id, params(phase, when, saved, over));
    }
    const ok = (r: { code: number; stderr: string; result?: Record<string, unknown> }) => {
        assert.equal(r.code, 0, r.stderr);
        return r.result!;
    };
    const services = (action: string) => {
        for (const g of ["api", "compute"]) execFileSync("bash", [path.join(LAB, "bin/services.sh"), action, g, nodes()], { stdio: "ignore" });
    };
    const upgrade = async (node: string) => {
        const r = await runStepInProcess("edeploy-upgrade", `edeploy-${node}`, {
            node, role: "openstack-full", root: path.join(nodes(), node), from: "J.1.0.0", to: "J.1.1.0",
            rolesDir: path.join(lab, "install-server/roles"), metadataDir: path.join(lab, "install-server/metadata"),
            selinux: { probe: "getenforce-not-here", setfiles: "true" },
        });
        assert.equal(r.code, 0, r.stderr);
    };

    it("a grenade plugin's resources.sh survives create, verify, verify_noapi, the upgrade, verify post-upgrade and destroy", async () => {
        const created = ok(await phase("survival-labcloud-create", "create", undefined, {}, {}, true));
        const saved = created.saved as Record<string, Record<string, string>>;
        const id = saved.labcloud.labcloud_server_id;
        assert.match(id, /^[0-9a-f]{12}$/);
        assert.equal(saved.labcloud.labcloud_server_host, "cpt1");
        assert.equal(saved.labcloud.labcloud_created_on, "J.1.0.0");
        assert.ok(fs.existsSync(path.join(nodes(), "ctl1/var/lib/labcloud/servers", id)));

        const pre = ok(await phase("survival-labcloud-verify-pre-upgrade", "verify", "pre-upgrade", created.saved, {}, true));
        services("stop");
        const noapi = ok(await phase("survival-labcloud-verify-noapi-pre-upgrade", "verify_noapi", "pre-upgrade", pre.saved, {}, true));
        // The values come from the input only: nothing is left on this machine between phases.
        const lost = await phase("survival-labcloud-verify-noapi-pre-upgrade", "verify_noapi", "pre-upgrade", {});
        assert.notEqual(lost.code, 0);
        assert.ok(!fs.readdirSync(os.tmpdir()).some(d => d.startsWith("grenade-labcloud-")), "no GRENADE_DIR is left behind");

        await upgrade("ctl1");
        await upgrade("cpt1");
        services("start");
        // verify post-upgrade gets the values from the last phase's output (a resumed update reads them from state).
        const post = ok(await phase("survival-labcloud-verify-post-upgrade", "verify", "post-upgrade", JSON.parse(JSON.stringify(noapi.saved)), {}, true));
        assert.deepEqual(post.saved, created.saved);
        ok(await phase("survival-labcloud-destroy", "destroy", undefined, post.saved, {}, true));
        assert.ok(!fs.existsSync(path.join(nodes(), "ctl1/var/lib/labcloud/servers", id)));
        assert.ok(!fs.existsSync(path.join(nodes(), "cpt1/var/lib/nova/instances", id)));
    });

    it("a failing verify fails its step with the script's message", async () => {
        const created = ok(await phase("survival-labcloud-create", "create", undefined, {}));
        const saved = created.saved as Record<string, Record<string, string>>;
        // The instance's disk is lost (a bad exclude file, a careless shutdown): verify_noapi sees it.
        fs.rmSync(path.join(nodes(), "cpt1/var/lib/nova/instances", saved.labcloud.labcloud_server_id), { recursive: true });
        services("stop");
        const r = await phase("survival-labcloud-verify-noapi-pre-upgrade", "verify_noapi", "pre-upgrade", created.saved);
        assert.equal(r.code, 1);
        assert.match(r.stderr, /labcloud: resources\.sh verify_noapi pre-upgrade failed \(exit 1\).*the disk of server [0-9a-f]+ is gone from cpt1 \(pre-upgrade\)/s);
        // With the APIs down, the API verification fails too.
        const api = await phase("survival-labcloud-verify-pre-upgrade", "verify", "pre-upgrade", created.saved);
        assert.match(api.stderr, /the API of ctl1 does not answer/);
    });

    it("calls the script with grenade's interface: arguments, TOP_DIR, GRENADE_DIR (grenaderc, functions), resource_save/resource_get", async () => {
        const dir = path.join(lab, "plugin", "devstack", "upgrade");
        fs.mkdirSync(dir, { recursive: true });
        const calls = path.join(lab, "calls");
        const script = path.join(dir, "resources.sh");
        fs.writeFileSync(script, [
            "#!/bin/bash",
            "set -o errexit",
            "source $GRENADE_DIR/grenaderc",
            "source $GRENADE_DIR/functions",
            `echo "$* top=$TOP_DIR base=$BASE_RELEASE target=$TARGET_RELEASE count=$(resource_get recorder count)" >> ${calls}`,
            "n=$(resource_get recorder count); resource_save recorder count $(( ${n:-0} + 1 ))",
            "case $1 in early_create) resource_save shared net_id net-42;; destroy) [ \"$(resource_get shared net_id)\" = net-42 ] || die \"lost net_id\";; esac",
            "",
        ].join("\n"));
        const sequence: [string, string | undefined][] = [["early_create", undefined], ["create", undefined], ["verify", "pre-upgrade"],
            ["verify_noapi", "pre-upgrade"], ["verify", "post-upgrade"], ["destroy", undefined]];
        let saved: unknown = {};
        for (const [p, when] of sequence) {
            saved = ok(await phase(`survival-recorder-${p}`, p, when, saved, { project: "recorder", script })).saved;
        }
        assert.deepEqual(read(calls).trim().split("\n"), sequence.map(([p, when], i) =>
            `${[p, when].filter(Boolean).join(" ")} top=${TOP_DIR} base=J.1.0.0 target=J.1.1.0 count=${i === 0 ? "" : i}`));
        assert.deepEqual(saved, { recorder: { count: "6" }, shared: { net_id: "net-42" } });
    });

    it("runs a native SurvivalCheck through the same phases; a changed data file fails verify", async () => {
        const module = path.join(LAB, "checks", "node-data.ts");
        const nat = (id: string, p: string, when: string | undefined, saved: unknown) =>
            phase(id, p, when, saved, { project: "node-data", script: undefined, module });
        const created = ok(await nat("survival-node-data-create", "create", undefined, {}));
        const saved = (created.saved as Record<string, Record<string, string>>)["node-data"];
        assert.deepEqual(Object.keys(saved).sort(), ["sha256_cpt1", "sha256_ctl1"]);
        ok(await nat("survival-node-data-verify-pre-upgrade", "verify", "pre-upgrade", created.saved));
        await upgrade("ctl1");
        ok(await nat("survival-node-data-verify-noapi-pre-upgrade", "verify_noapi", "pre-upgrade", created.saved));
        fs.appendFileSync(path.join(nodes(), "cpt1/var/log/grenade-sentinel"), "x");
        const bad = await nat("survival-node-data-verify-post-upgrade", "verify", "post-upgrade", created.saved);
        assert.equal(bad.code, 1);
        assert.match(bad.stderr, /node-data: verify post-upgrade failed: .*cpt1\/var\/log\/grenade-sentinel changed \(post-upgrade\)/);
    });
});
