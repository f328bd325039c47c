import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import { EngineStack, requireEngine, TempProject } from "../support/engine";
import { markerDir, markers } from "./support";

/**
 * Finding 3 on the real engine: `pulumi preview` runs the rsync probe (command:local:run, which
 * upstream runs during preview too), here with a hostile rsync program and node tree. The probe line
 * quotes them, so nothing of the stack file runs, and the preview still says what it found.
 */
describe("security (engine): pulumi preview with the rsync probe on runs nothing of the stack file (finding 3)", function () {
    this.timeout(300000);
    const projects: TempProject[] = [];
    after(() => projects.forEach(p => p.cleanup()));

    it("no marker appears; the preview reports the probe's findings", async () => {
        requireEngine();
        const dir = markerDir();
        const rolesDir = path.join(dir, "roles");
        const metadataDir = path.join(dir, "metadata");
        fs.mkdirSync(path.join(rolesDir, "J.1.1.0", "openstack-full"), { recursive: true });
        fs.mkdirSync(path.join(metadataDir, "I.1.0", "openstack-full", "J.1.1.0"), { recursive: true });
        fs.writeFileSync(path.join(metadataDir, "I.1.0", "openstack-full", "J.1.1.0", "exclude"), "/etc/\n");
        fs.writeFileSync(path.join(metadataDir, "I.1.0", "openstack-full", "J.1.1.0", "add_only"), "- *\n");
        const goodRoot = path.join(dir, "cpt1");
        fs.mkdirSync(goodRoot);
        const raw = {
            procedure: "spinalstack-upgrade", target: "J.1.1.0",
            openstack: {
                profiles: { compute: { role: "openstack-full" } },
                hosts: {
                    cpt1: { profile: "compute", root: goodRoot },
                    cpt2: { profile: "compute", root: `${dir}/cpt2$(touch ${dir}/marker-root)\`touch ${dir}/marker-root2\`` },
                },
                edeploy: {
                    rolesDir, metadataDir, from: "I.1.0", to: "J.1.1.0", preview: true,
                    rsync: `rsync-missing$(touch ${dir}/marker-rsync)'"$(touch ${dir}/marker-rsync2)"'`,
                },
            },
        };
        const project = TempProject.create({ prefix: "preview-probe-" });
        projects.push(project);
        const stack = await EngineStack.create(project, raw, { name: "probe" });
        const run = await stack.preview();
        assert.ok(run.ok, run.log);
        assert.deepEqual(markers(dir), [], "a payload ran during preview");
        assert.match(run.log, /cpt1: no rsync preview \(rsync-missing\$\(touch .* --dry-run exited 127\)/);
        assert.match(run.log, /cpt2: will refuse: the node tree .*cpt2\$\(touch .* does not exist/);
    });

    it("the rsync program the stack file names runs with the steps' allow-listed environment: no PULUMI_* nor CI token", async () => {
        // Upstream pulumi-command runs an invoke's command with the provider's whole environment
        // (pulumi/pulumi-command provider/pkg/provider/local/commandOutputs.go: cmd.Env = os.Environ()),
        // which holds the passphrase during preview: the probe goes through the shell-step launcher.
        requireEngine();
        const dir = markerDir();
        const rolesDir = path.join(dir, "roles");
        const metadataDir = path.join(dir, "metadata");
        const meta = path.join(metadataDir, "I.1.0", "openstack-full", "J.1.1.0");
        fs.mkdirSync(path.join(rolesDir, "J.1.1.0", "openstack-full"), { recursive: true });
        fs.mkdirSync(meta, { recursive: true });
        fs.writeFileSync(path.join(meta, "exclude"), "/etc/\n");
        fs.writeFileSync(path.join(meta, "add_only"), "- *\n");
        fs.mkdirSync(path.join(dir, "cpt1"));
        const seen = path.join(dir, "rsync.env");
        const rsync = path.join(dir, "rsync-stand-in");
        fs.writeFileSync(rsync, `#!/bin/sh\nenv > '${seen}'\n`, { mode: 0o755 });
        const project = TempProject.create({ prefix: "preview-probe-env-" });
        projects.push(project);
        const stack = await EngineStack.create(project, {
            procedure: "spinalstack-upgrade", target: "J.1.1.0",
            openstack: {
                profiles: { compute: { role: "openstack-full" } },
                hosts: { cpt1: { profile: "compute", root: path.join(dir, "cpt1") } },
                edeploy: { rolesDir, metadataDir, from: "I.1.0", to: "J.1.1.0", preview: true, rsync },
            },
        }, { name: "probe-env", env: { GITHUB_TOKEN: "ghs-preview-token" } });
        const run = await stack.preview();
        assert.ok(run.ok, run.log);
        assert.match(run.log, /cpt1: rsync would change nothing/);
        const names = fs.readFileSync(seen, "utf8").split("\n").map(l => l.slice(0, l.indexOf("="))).filter(Boolean);
        assert.ok(names.includes("PATH"), names.join(" "));
        assert.deepEqual(names.filter(n => n.startsWith("PULUMI_") || n === "GITHUB_TOKEN"), []);
    });
});
