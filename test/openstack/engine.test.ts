/**
 * The Spinal Stack procedure on the real Pulumi engine, on a lab of five node trees:
 * - `pulumi preview` shows, per node, what the eDeploy rsync would change (the read-only
 *   `rsync --dry-run` probe) and changes nothing on the nodes;
 * - an update that stops at a failing Sanity gate resumes there after the fix, and the survival
 *   check's `destroy` reads back what `create` saved, from the state of the earlier update.
 */
import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import { orderSteps } from "../../cli/plan/evaluate";
import { load } from "../support/configs";
import { buildUnderMocks } from "../support/mocks";
import { commandOps, commandsDone, commandsFailed, diagnostics, EngineStack, TempProject } from "../support/engine";
import { ensureTools, makeLab, read, rm, snapshot, spinalConfig } from "./support";

const NODES = ["lb1", "ctl1", "ctl2", "cpt1", "cpt2"];

describe("Spinal Stack upgrade on the real engine", function () {
    this.timeout(900000);
    let lab: string;
    let project: TempProject | undefined;

    before(() => ensureTools());
    beforeEach(() => { lab = makeLab(); });
    afterEach(() => {
        project?.cleanup();
        project = undefined;
        rm(lab);
    });

    const nodeTree = (n: string) => snapshot(path.join(lab, "nodes", n));

    it("preview shows what rsync would change on each node and changes nothing", async () => {
        const raw = spinalConfig(lab);
        ((raw.openstack as Record<string, unknown>).edeploy as Record<string, unknown>).preview = true;
        const before = Object.fromEntries(NODES.map(n => [n, nodeTree(n)]));
        project = TempProject.create({ prefix: "os-engine-" });
        const stack = await EngineStack.create(project, raw, { name: "spinalstack" });
        const run = await stack.preview();

        // Every step is planned, nothing ran: the node trees are byte for byte what they were.
        const plan = (await buildUnderMocks(load(raw))).steps;
        assert.deepEqual(commandOps(run).map(o => o.name).sort(), plan.map(s => s.id).sort());
        assert.ok(commandOps(run).every(o => o.op === "create"));
        for (const n of NODES) assert.deepEqual(nodeTree(n), before[n], `node ${n} changed during preview`);
        assert.ok(!fs.existsSync(path.join(lab, "work")), "no step wrote its work folder");

        // The rsync probe's report is a diagnostic of each node's eDeploy step.
        const info = diagnostics(run, "info");
        for (const n of NODES) {
            const d = info.find(x => x.name === `edeploy-${n}`);
            assert.ok(d, `no rsync preview on edeploy-${n}: ${JSON.stringify(info.map(x => x.name))}`);
            assert.match(d!.message, new RegExp(`^${n}: `));
            assert.match(d!.message, /etc\/(haproxy\/haproxy\.cfg|nova\/nova\.conf)/, "the role's configuration changes on every node");
        }
        assert.match(info.find(x => x.name === "edeploy-lb1")!.message, /etc\/haproxy\/haproxy\.cfg/);
        // The excluded data is never listed as a change: the probe uses the role's exclude file.
        assert.doesNotMatch(info.find(x => x.name === "edeploy-ctl1")!.message, /var\/lib\/mysql/);
    });

    it("an update stopped at a failing Sanity gate resumes there; destroy reads what create saved in the earlier update", async () => {
        const raw = spinalConfig(lab);
        const o = raw.openstack as Record<string, unknown>;
        const broken = path.join(lab, "tempest-broken");
        fs.writeFileSync(broken, "the API suite fails until this file is gone\n");
        // The API suite fails while the flag file exists (an operator's fix removes it).
        o.sanity = (o.sanity as { suite: string; command: string }[]).map(s => (s.suite === "tempest-api"
            ? { ...s, command: `if [ -f ${broken} ]; then echo "tempest: 3 tests failed" >&2; exit 1; fi; ${s.command}` } : s));
        project = TempProject.create({ prefix: "os-engine-" });
        const stack = await EngineStack.create(project, raw, { name: "spinalstack" });
        const order = orderSteps((await buildUnderMocks(load(raw))).steps).map(s => s.id);

        const first = await stack.tryUp();
        assert.equal(first.ok, false, "the first update must fail at the Sanity gate");
        assert.deepEqual(commandsFailed(first).map(f => f.name), ["sanity-tempest-api"]);
        const ranFirst = commandsDone(first, ["create"]).map(c => c.name);
        const failedAt = order.indexOf("sanity-tempest-api");
        assert.deepEqual([...ranFirst].sort(), order.slice(0, failedAt).sort(), "everything before the gate ran, nothing after it");
        // The survivor created before the upgrade is still there.
        const servers = path.join(lab, "nodes", "ctl1", "var", "lib", "labcloud", "servers");
        const survivors = fs.readdirSync(servers);
        assert.equal(survivors.length, 1, `one survival server: ${survivors.join(", ")}`);
        const nodesAfterFirst = Object.fromEntries(NODES.map(n => [n, nodeTree(n)]));

        fs.rmSync(broken);
        const second = await stack.up();
        const ranSecond = commandsDone(second, ["create"]).map(c => c.name);
        assert.deepEqual(ranSecond, order.slice(failedAt), "the second update starts at the failed gate, in order");
        // Nothing before the gate ran again: no node was upgraded a second time.
        for (const n of NODES) {
            const now = nodeTree(n);
            assert.equal(now["var/lib/edeploy/conf"], nodesAfterFirst[n]["var/lib/edeploy/conf"], n);
        }
        // destroy deleted the very server create made, with the id it read back from the saved values.
        assert.deepEqual(fs.readdirSync(servers), []);
        const saved = (await stack.exportState()).deployment.resources
            ?.find(r => r.type === "command:local:Command" && r.urn.endsWith("::survival-labcloud-destroy"));
        assert.ok(saved, "the destroy step is in the state");
        assert.match(String(saved!.outputs?.stdout ?? ""), new RegExp(survivors[0]));
    });

    // Resume after a failure at a host's Ansible tag (config-tools upgrade.sh resumes a host at its last tag) and
    // at a grenade phase: the save database the earlier updates left in the state reaches the phase that resumes.
    it("an update stopped at a host's tag, then at a survival phase, resumes at each with the saved values", async () => {
        const raw = spinalConfig(lab);
        const o = raw.openstack as Record<string, unknown>;
        const tagFlag = path.join(lab, "ctl2-tag-3-broken");
        const gateFlag = path.join(lab, "gate-broken");
        fs.writeFileSync(tagFlag, "");
        fs.writeFileSync(gateFlag, "");
        const snippets = JSON.parse(JSON.stringify((o.ansible as { snippets: Record<string, unknown[]> }).snippets));
        snippets["cloud::identity"].push({ name: "fails on ctl2 until fixed", shell: `test {{ inventory_hostname }} != ctl2 || test ! -f ${tagFlag}`, tags: 3 });
        o.ansible = { snippets };
        // A third plugin whose verify post-upgrade fails until fixed, and needs what labcloud saved long before.
        const gate = path.join(lab, "gate-plugin", "devstack", "upgrade");
        fs.mkdirSync(gate, { recursive: true });
        fs.writeFileSync(path.join(gate, "settings"), "register_project_for_upgrade gate\n");
        fs.writeFileSync(path.join(gate, "resources.sh"), [
            "#!/bin/bash", "set -o errexit", "source $GRENADE_DIR/grenaderc", "source $GRENADE_DIR/functions",
            "if [ \"$1 $2\" = \"verify post-upgrade\" ]; then",
            `    [ ! -f ${gateFlag} ] || die $LINENO "gate: broken"`,
            "    id=$(resource_get labcloud labcloud_server_id); [ -n \"$id\" ] || die $LINENO \"gate: no saved server id\"",
            `    echo "$id" > ${path.join(lab, "gate-saw")}`,
            "fi", "",
        ].join("\n"), { mode: 0o755 });
        const survival = o.survival as { projects: unknown[] };
        survival.projects = [...survival.projects, { name: "gate", plugin: path.join(lab, "gate-plugin") }];
        project = TempProject.create({ prefix: "os-engine-" });
        const stack = await EngineStack.create(project, raw, { name: "spinalstack" });
        const order = orderSteps((await buildUnderMocks(load(raw))).steps).map(s => s.id);

        const first = await stack.tryUp();
        assert.deepEqual(commandsFailed(first).map(f => f.name), ["ansible-ctl2-tag-3"]);
        const atTag = order.indexOf("ansible-ctl2-tag-3");
        assert.deepEqual(commandsDone(first, ["create"]).map(c => c.name).sort(), order.slice(0, atTag).sort());
        assert.match(read(path.join(lab, "nodes/ctl2/var/lib/edeploy/conf")), /^VERS=J\.1\.0\.0$/m, "ctl2 not upgraded yet");

        fs.rmSync(tagFlag);
        const second = await stack.tryUp();
        assert.deepEqual(commandsFailed(second).map(f => f.name), ["survival-gate-verify-post-upgrade"]);
        const atGate = order.indexOf("survival-gate-verify-post-upgrade");
        // Resumed at the host's tag (the first step to run), then everything up to the gate (start-* side by side).
        const ranSecond = commandsDone(second, ["create"]).map(c => c.name);
        assert.equal(ranSecond[0], "ansible-ctl2-tag-3");
        assert.deepEqual([...ranSecond].sort(), order.slice(atTag, atGate).sort());

        fs.rmSync(gateFlag);
        const third = await stack.up();
        const ranThird = commandsDone(third, ["create"]).map(c => c.name);
        assert.equal(ranThird[0], "survival-gate-verify-post-upgrade", "resumed at the survival phase");
        assert.deepEqual([...ranThird].sort(), order.slice(atGate).sort());
        const created = (await stack.exportState()).deployment.resources
            ?.find(r => r.type === "command:local:Command" && r.urn.endsWith("::survival-labcloud-create"));
        const createdId = /"labcloud_server_id":"([0-9a-f]{12})"/.exec(String(created!.outputs?.stdout ?? ""))?.[1];
        assert.ok(createdId, "create's saved values are in the state");
        assert.equal(read(path.join(lab, "gate-saw")).trim(), createdId,
            "the phase resumed in the third update read the value saved in the first");
    });
});
