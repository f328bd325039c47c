import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";
import { readStackFile } from "../../cli/stack-config";
import { loadRunbookConfig } from "../../components/config";
import { fill } from "../../components/lsst/probes";
import { probeShellLine, rolePaths } from "../../components/openstack/rsync";
import { buildUnderMocks } from "../support/mocks";
import { load, lsmUpgrade } from "../support/configs";
import { bash, markerDir, markers, refusal } from "./support";

/** The example LSST stack with one value changed, as the engine hands config to the program. */
function lsstWith(edit: (lsst: Record<string, any>) => void): Record<string, string> {
    const file = readStackFile("lsst-tts");
    const lsst = JSON.parse(file.config["upgrade:lsst"]);
    edit(lsst);
    return { ...file.config, "upgrade:lsst": JSON.stringify(lsst) };
}
const loadLsst = (config: Record<string, string>) => loadRunbookConfig(config, { source: "test", secretKeys: ["upgrade:lsstSlackWebhook"] });

describe("security: values of a stack file never reach a shell unquoted (findings 1-3)", () => {
    it("finding 1: an LSST main daemon host with shell syntax is refused, with its path", () => {
        const problems = refusal(() => loadLsst(lsstWith(l => { l.mainDaemon.host = "azar01;touch /tmp/x;:"; })));
        assert.equal(problems.length, 1, problems.join("\n"));
        assert.match(problems[0], /^upgrade:lsst\.mainDaemon\.host: must be a host name/);
    });

    it("finding 1: a bare-metal host with $(...) is refused, with its path", () => {
        const problems = refusal(() => loadLsst(lsstWith(l => { l.bareMetal.services[0].host = "tel-hw1$(touch /tmp/x)"; })));
        assert.deepEqual(problems.map(p => p.split(":")[0] + ":" + p.split(":")[1]), ["upgrade:lsst.bareMetal.services[0].host"]);
    });

    it("finding 1: fill() quotes every placeholder value (defence behind the schema); {kubectl} stays shell text", () => {
        const dir = markerDir();
        const line = fill("echo {host} {csc} && {kubectl} version", {
            host: `h;touch ${dir}/marker1;:`, csc: `$(touch ${dir}/marker2)`, kubectl: "echo kubectl --context tts",
        }, ["kubectl"]);
        const r = bash(line);
        assert.deepEqual(markers(dir), []);
        assert.equal(r.stdout, `h;touch ${dir}/marker1;: $(touch ${dir}/marker2)\nkubectl --context tts version\n`);
    });

    it("finding 2: an SSH folder with a quote in it is one quoted word of the remote line", async () => {
        const dir = markerDir();
        const projectDir = `/srv/x';touch ${dir}/marker;'`;
        const config = load(lsmUpgrade({
            orchestrator: {
                url: "https://orchestrator.example.net:8888", environment: "6f1c0e2a-3b4d-4c5e-8f60-718293a4b5c6",
                shell: { ssh: { host: "orchestrator.example.net", user: "inmanta" }, projectDir },
            },
        }));
        const run = await buildUnderMocks(config, { preview: true });
        const remote = run.registrations.filter(r => r.type === "command:remote:Command");
        assert.ok(remote.length > 0, "the export runs over SSH");
        for (const r of remote) {
            const line = String(r.inputs.create);
            // Run the line as the remote login shell would, in a folder where the cd fails harmlessly.
            bash(line, { cwd: dir });
            assert.ok(line.startsWith(`cd '/srv/x'\\'';touch ${dir}/marker;'\\''' && `), line);
        }
        assert.deepEqual(markers(dir), []);
    });

    it("finding 3: the rsync probe that runs during preview expands nothing of the stack file", () => {
        // Before, `${rsync}` was put inside double quotes in the fall-back message: $(...) ran.
        const dir = markerDir();
        const tree = path.join(dir, "roles", "J.1.1.0", "openstack-full");
        fs.mkdirSync(tree, { recursive: true });
        const paths = rolePaths({ rolesDir: path.join(dir, "roles"), metadataDir: path.join(dir, "meta"), from: "I.1", to: "J.1.1.0" }, "openstack-full");
        fs.mkdirSync(paths.metadata, { recursive: true });
        fs.writeFileSync(paths.exclude, "/etc/\n");
        fs.writeFileSync(paths.addOnly, "- *\n");
        fs.mkdirSync(path.join(dir, "node"));
        const rsync = `rsync-missing$(touch ${dir}/marker1)\`touch ${dir}/marker2\``;
        const r = bash(probeShellLine(paths, path.join(dir, "node"), rsync));
        assert.deepEqual(markers(dir), []);
        assert.equal(r.stdout, `!unavailable ${rsync} --dry-run exited 127\n`);
        // The refusal messages are literal text too.
        const gone = path.join(dir, `gone$(touch ${dir}/marker3)`);
        const refused = bash(probeShellLine(paths, gone));
        assert.deepEqual(markers(dir), []);
        assert.equal(refused.stdout, `!refused the node tree ${gone} does not exist\n`);
    });
});
