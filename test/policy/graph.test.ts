import { strict as assert } from "assert";
import type { PolicyResource } from "../../policy/types";
import { buildGraph, kindOfType, param, parseUrn, snapshot, UNKNOWN } from "../../policy/graph";
import { carefulDeploy, lsmUpgrade, plainUpgrade } from "./fixtures";
import { ENV, fakeResources } from "./util";

describe("policy graph", () => {
    it("has one node per step: id, kind, params and environment from the child command's triggers", () => {
        const g = buildGraph(fakeResources(plainUpgrade(), { stack: "plain-upgrade", procedure: "upgrade" }));
        assert.deepEqual(g.steps.map(s => s.id), plainUpgrade().map(s => s.id));
        const s = g.get("pre-auto-deploy-off")!;
        assert.equal(s.kind, "setting");
        assert.deepEqual(s.params, { environment: ENV, name: "auto_deploy", value: false, optional: false });
        assert.equal(s.environment, ENV);
        assert.equal(s.procedure?.name, "upgrade");
        assert.ok(s.urn.endsWith("$command:local:Command::pre-auto-deploy-off"));
        assert.equal(g.stack, "plain-upgrade");
        assert.deepEqual(g.environments(), [ENV]);
    });

    it("maps the commands' dependencies back to step ids and closes them transitively", () => {
        const g = buildGraph(fakeResources(lsmUpgrade()));
        assert.deepEqual(g.get("upgrade-export")!.predecessors.sort(), ["pre-db-backup", "upgrade-update-compile"]);
        assert.deepEqual(g.get("upgrade-deploy")!.predecessors.sort(), ["upgrade-approval", "upgrade-recompile"]);
        assert.ok(g.dependsOn("post-api-tests", "pre-protected-environment"));
        assert.ok(!g.dependsOn("pre-protected-environment", "post-api-tests"));
        assert.ok(g.descendants("pre-agents-pause").has("upgrade-agents-resume"));
        assert.deepEqual(g.latest([g.get("pre-recompile")!, g.get("upgrade-recompile")!]).map(s => s.id), ["upgrade-recompile"]);
        assert.deepEqual(g.earliest([g.get("pre-recompile")!, g.get("upgrade-recompile")!]).map(s => s.id), ["pre-recompile"]);
    });

    it("remote commands are steps too; their params give the environment", () => {
        const g = buildGraph(fakeResources(lsmUpgrade()));
        const e = g.get("upgrade-export")!;
        assert.ok(e.urn.includes("command:remote:Command"));
        assert.equal(e.environment, ENV);
        assert.equal(g.get("pre-northbound-block")!.environment, undefined);
    });

    it("a computed param is UNKNOWN; the rest of the params stay readable", () => {
        const g = buildGraph(fakeResources(carefulDeploy()));
        const d = g.get("careful-deploy-internal")!;
        assert.equal(d.paramsKnown, true);
        assert.equal(param(d, "agent"), "internal");
        assert.equal(param(d, "version"), UNKNOWN);
    });

    it("when the whole spec is unknown (triggers[1] built with pulumi.output), id, kind and environment are recovered", () => {
        const steps = carefulDeploy().map(s => ({ ...s, specUnknown: true }));
        const g = buildGraph(fakeResources(steps));
        const d = g.get("careful-deploy-internal")!;
        assert.equal(d.kind, "deploy");
        assert.equal(d.paramsKnown, false);
        assert.equal(d.environment, ENV);
        assert.equal(param(d, "agent"), UNKNOWN);
        assert.equal(g.get("careful-approval")!.kind, "approval-gate");
        // Steps without computed params keep their spec.
        assert.equal(param(g.get("careful-auto-deploy-on")!, "value"), true);
    });

    it("resolves a dependency on a step component, a procedure component, or another resource", () => {
        const resources = fakeResources(plainUpgrade());
        const byName = (type: string, name: string) => resources.find(r => r.type.startsWith(type) && r.name === name)!;
        const deploy = byName("command:", "upgrade-deploy");
        const template = byName("command:", "pre-health-check");
        const other = {
            ...template, type: "random:index:RandomId", urn: "urn:pulumi:test::upgrade::random:index:RandomId::x", name: "x",
            parent: undefined, opts: { ...template.opts, parent: undefined }, props: {},
            dependencies: [byName("command:", "pre-dryrun")], propertyDependencies: {},
        } as PolicyResource;
        (deploy as { dependencies: PolicyResource[] }).dependencies = [byName("upgrade:step:", "upgrade-approval"), other];
        const g = buildGraph([...resources, other]);
        // upgrade-update-compile comes from the data dependency (propertyDependencies of triggers).
        assert.deepEqual(g.get("upgrade-deploy")!.predecessors.sort(), ["pre-dryrun", "upgrade-approval", "upgrade-update-compile"]);
        const proc = resources.find(r => r.type === "upgrade:inmanta:Procedure")!;
        (deploy as { dependencies: PolicyResource[] }).dependencies = [proc];
        const g2 = buildGraph(resources);
        assert.equal(g2.get("upgrade-deploy")!.predecessors.length, plainUpgrade().length - 1);
    });

    it("kinds from component types, URNs, snapshots", () => {
        assert.equal(kindOfType("upgrade:step:ApprovalGate"), "approval-gate");
        assert.equal(kindOfType("upgrade:step:DbBackup"), "db-backup");
        assert.equal(kindOfType("upgrade:step:ArgocdSync"), "argocd-sync");
        assert.equal(kindOfType("upgrade:step:Setting"), "setting");
        assert.deepEqual(parseUrn("urn:pulumi:s::upgrade::a:b:C$upgrade:step:Deploy$command:local:Command::x::y"), {
            stack: "s", project: "upgrade", types: ["a:b:C", "upgrade:step:Deploy", "command:local:Command"], name: "x::y",
        });
        assert.deepEqual(snapshot({ a: [1, { b: null }] }), { a: [1, { b: null }] });
    });
});
