import * as assert from "assert";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { previewFromShell, probeShellLine, probeSync, rolePaths } from "../../components/openstack/rsync";

/**
 * The preview of an eDeploy upgrade dry-runs the same two rsync passes as the step (redhat-cip/edeploy
 * build/edeploy, `upgrade`: `--delete-after --exclude-from=exclude`, then `--ignore-existing
 * --include-from=add_only`), so a reviewer sees what `pulumi up` will change, and it refuses where the
 * step refuses (no exclude file, an empty add_only).
 */
describe("eDeploy preview: the step's two rsync passes, dry", () => {
    const write = (file: string, text: string) => { fs.mkdirSync(path.dirname(file), { recursive: true }); fs.writeFileSync(file, text); };

    function lab() {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "edeploy-preview-"));
        const layout = { rolesDir: path.join(dir, "roles"), metadataDir: path.join(dir, "meta"), from: "J.1.0.0", to: "J.1.1.0" };
        const paths = rolePaths(layout, "lb");
        const node = path.join(dir, "node");
        write(path.join(paths.tree, "etc/haproxy/haproxy.cfg"), "frontend new\n");
        write(path.join(paths.tree, "usr/bin/tool"), "tool 2\n");
        write(path.join(paths.tree, "var/lib/app/seed.db"), "seed\n");
        write(path.join(paths.tree, "etc/hostname"), "role default\n");
        write(path.join(node, "etc/haproxy/haproxy.cfg"), "old\n");
        write(path.join(node, "usr/bin/old-tool"), "gone in J.1.1.0\n");
        write(path.join(node, "etc/hostname"), "lb1\n");
        write(path.join(node, "var/log/haproxy.log"), "node data\n");
        write(paths.exclude, "/etc/hostname\n/var/log\n/var/lib/app\n");
        write(paths.addOnly, "+ /var/\n+ /var/lib/\n+ /var/lib/app/\n+ /var/lib/app/seed.db\n- *\n");
        return { paths, node };
    }
    const files = (p: { changes: { op: string; path: string }[] }) =>
        p.changes.filter(c => !c.path.endsWith("/")).map(c => `${c.op} ${c.path}`).sort();
    const viaShell = (line: string) => spawnSync("bash", ["-c", line], { encoding: "utf8" }).stdout;

    it("lists the role's changes, the deletions, and the add_only file the node lacks; never an excluded path", () => {
        const { paths, node } = lab();
        const expected = ["create usr/bin/tool", "create var/lib/app/seed.db", "delete usr/bin/old-tool", "update etc/haproxy/haproxy.cfg"];
        assert.deepEqual(files(probeSync("lb1", paths, node)), expected);
        assert.deepEqual(files(previewFromShell("lb1", viaShell(probeShellLine(paths, node)))), expected);
    });

    it("an add_only file the node already has is left alone", () => {
        const { paths, node } = lab();
        write(path.join(node, "var/lib/app/seed.db"), "the node's own\n");
        assert.ok(!files(probeSync("lb1", paths, node)).some(f => f.includes("seed.db")));
        assert.ok(!files(previewFromShell("lb1", viaShell(probeShellLine(paths, node)))).some(f => f.includes("seed.db")));
    });

    it("refuses, as the step does, without an exclude file or with an empty add_only", () => {
        const { paths, node } = lab();
        fs.writeFileSync(paths.addOnly, "");
        for (const p of [probeSync("lb1", paths, node), previewFromShell("lb1", viaShell(probeShellLine(paths, node)))]) {
            assert.equal(p.status, "refused");
            assert.match(p.message ?? "", /'add_only' \(.*add_only\) is missing or empty/);
        }
        fs.rmSync(paths.exclude);
        assert.match(probeSync("lb1", paths, node).message ?? "", /^no exclude file /);
        assert.match(previewFromShell("lb1", viaShell(probeShellLine(paths, node))).message ?? "", /^no exclude file /);
    });
});
