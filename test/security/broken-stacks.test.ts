import { strict as assert } from "assert";
import { spawn } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { ROOT } from "./support";

/**
 * Broken and hostile stack files, each read by `plan` as an operator would: refused with the config
 * path of the problem (exit 2; exit 1 for a file that is not YAML, named by its file), or accepted
 * where that is right. None may crash with a stack trace.
 */
const ENV = "6f1c0e2a-3b4d-4c5e-8f60-718293a4b5c6";
const ORCH = `  upgrade:orchestrator:\n    url: http://orchestrator.example.net:8888\n    environment: ${ENV}\n`;
const plain = (extra = "", orch = ORCH) => `config:\n  upgrade:procedure: upgrade\n  upgrade:target: 2.0.0\n${orch}${extra}`;
const lsm = (extra = "") => `config:\n  upgrade:procedure: lsm-upgrade\n  upgrade:target: 2.0.0\n${ORCH}` +
    "  upgrade:lsm: { instanceUpdatesExpected: true }\n" +
    "  upgrade:northbound: { block: { command: block-nb }, unblock: { command: unblock-nb } }\n" + extra;
const example = (stack: string, edit: (text: string) => string) => () => {
    const text = fs.readFileSync(path.join(ROOT, "stacks", `Pulumi.${stack}.yaml`), "utf8");
    const out = edit(text);
    assert.notEqual(out, text, `the edit of ${stack} changed nothing`);
    return out;
};

type Case = { name: string; yaml: string | (() => string); refused?: RegExp; accepted?: true; exit?: number };
const CASES: Case[] = [
    { name: "an empty file", yaml: "", refused: /upgrade:procedure: must be one of/ },
    { name: "not YAML", yaml: "config: [\n  oops", refused: /Pulumi\.case\.yaml: not a valid YAML stack file/, exit: 1 },
    { name: "config is a list", yaml: "config:\n  - upgrade:procedure\n", refused: /Pulumi\.case\.yaml: config: must be a map/, exit: 1 },
    { name: "an unknown procedure", yaml: plain().replace("procedure: upgrade", "procedure: upgrad"), refused: /upgrade:procedure: must be one of/ },
    { name: "an empty target", yaml: plain().replace("target: 2.0.0", 'target: ""'), refused: /upgrade:target: must not be empty/ },
    { name: "an ftp orchestrator URL", yaml: plain("", ORCH.replace("http://", "ftp://")), refused: /upgrade:orchestrator\.url: must be an http\(s\) URL/ },
    { name: "a URL with user and password", yaml: plain("", ORCH.replace("http://", "https://ops:pw@")), refused: /upgrade:orchestrator\.url: must not hold a user or password/ },
    { name: "a token in plain text", yaml: plain("  upgrade:inmantaToken: tok\n"), refused: /upgrade:inmantaToken: must be a secret/ },
    { name: "a secret token over plain http", yaml: plain("  upgrade:inmantaToken:\n    secure: v1:abcd\n"), refused: /upgrade:orchestrator\.url: sends the token in clear text/ },
    { name: "a secret token over http to loopback", yaml: plain("  upgrade:inmantaToken:\n    secure: v1:abcd\n", ORCH.replace("orchestrator.example.net", "127.0.0.1")), accepted: true },
    { name: "an environment that is not a UUID", yaml: plain("", ORCH.replace(ENV, "prod")), refused: /upgrade:orchestrator\.environment: must be an environment id/ },
    { name: "a misspelt key", yaml: plain("  upgrade:orchestrater: {}\n"), refused: /upgrade:orchestrater: is not a known setting/ },
    { name: "a misspelt namespace", yaml: plain("  upgarde:preUpgradeDryrun: false\n"), refused: /upgarde:preUpgradeDryrun: unknown namespace "upgarde"/ },
    { name: "another program's namespace", yaml: plain("  aws:region: eu-west-1\n"), accepted: true },
    { name: "keys without a namespace (the project's)", yaml: "config:\n  procedure: upgrade\n  target: 2.0.0\n" + ORCH.replace("upgrade:", ""), accepted: true },
    { name: "a key set with and without the namespace", yaml: plain("  procedure: abort\n"), refused: /upgrade:procedure is set twice/, exit: 1 },
    { name: "an agent listed twice", yaml: plain("    agents: [a1, a1]\n"), refused: /upgrade:orchestrator\.agents\[1\]: agent "a1" is listed twice/ },
    { name: "an agent name with shell syntax", yaml: plain("    agents: ['a1;touch /tmp/x']\n"), refused: /upgrade:orchestrator\.agents\[0\]: must be an agent name/ },
    { name: "an SSH host with $(...)", yaml: plain("    shell: { ssh: { host: 'h$(touch /tmp/x)' } }\n"), refused: /upgrade:orchestrator\.shell\.ssh\.host: must be a host name/ },
    { name: "an SSH user that is an option", yaml: plain("    shell: { ssh: { host: h.example.net, user: '-oProxyCommand=touch /tmp/x' } }\n"), refused: /upgrade:orchestrator\.shell\.ssh\.user: must be a user name/ },
    { name: "an SSH port out of range", yaml: plain("    shell: { ssh: { host: h.example.net, port: 70000 } }\n"), refused: /upgrade:orchestrator\.shell\.ssh\.port/ },
    { name: "a project folder with a quote (quoted, accepted)", yaml: plain("    shell: { ssh: { host: h.example.net }, projectDir: \"/srv/x';touch /tmp/x;'\" }\n"), accepted: true },
    { name: "a negative timeout", yaml: plain("    timeoutSeconds: -5\n"), refused: /upgrade:orchestrator\.timeoutSeconds/ },
    { name: "a pathological approval glob (linear matcher, accepted)", yaml: plain(`  upgrade:approval: { allow: [{ resource: '${"*a".repeat(12)}*b' }] }\n`), accepted: true },
    { name: "a malformed digest", yaml: plain("  upgrade:approval: { digests: ['sha256:xyz'] }\n"), refused: /upgrade:approval\.digests\[0\]: must look like sha256/ },
    { name: "protectedEnvironment as a string", yaml: plain("  upgrade:safety: { protectedEnvironment: 'no' }\n"), refused: /upgrade:safety\.protectedEnvironment/ },
    { name: "a negative rerun", yaml: plain("  upgrade:rerun: -1\n"), refused: /upgrade:rerun/ },
    { name: "orchestrator as a string", yaml: "config:\n  upgrade:procedure: upgrade\n  upgrade:target: 2.0.0\n  upgrade:orchestrator: http://o.example.net\n", refused: /upgrade:orchestrator/ },
    { name: "an lsst section on another procedure", yaml: plain("  upgrade:lsst: { site: tts }\n"), refused: /upgrade:lsst: is only read by procedure lsst-site-upgrade/ },
    { name: "lsm-upgrade without a database", yaml: lsm(), refused: /upgrade:database: is required/ },
    { name: "a database name that is a connection string", yaml: lsm("  upgrade:database: { name: 'host=evil.example.net dbname=inmanta' }\n"), refused: /upgrade:database\.name: must be a name/ },
    { name: "a database host with shell syntax", yaml: lsm("  upgrade:database: { host: 'db;touch /tmp/x' }\n"), refused: /upgrade:database\.host: must be a host name/ },
    { name: "a database on a Unix socket", yaml: lsm("  upgrade:database: { host: /var/run/postgresql }\n"), accepted: true },
    { name: "a table name with SQL in it", yaml: lsm("  upgrade:database: { tables: ['t; DROP TABLE x'] }\n"), refused: /upgrade:database\.tables\[0\]: must be a table name/ },
    { name: "a restore without checksum", yaml: `config:\n  upgrade:procedure: lsm-abort\n  upgrade:target: 1.0.0\n${ORCH}  upgrade:lsm: { instanceUpdatesExpected: false }\n  upgrade:database: {}\n  upgrade:abort: { restoreTables: true, backupFile: /b/pre.dump }\n`, refused: /upgrade:abort\.backupSha256: is required/ },
    { name: "an LSST main daemon host with ;", yaml: example("lsst-tts", t => t.replace("host: azar01", 'host: "azar01;touch /tmp/x;:"')), refused: /upgrade:lsst\.mainDaemon\.host: must be a host name/ },
    { name: "an LSST bare-metal host with $(...)", yaml: example("lsst-tts", t => t.replace("host: tel-hw1,", 'host: "tel-hw1$(touch /tmp/x)",')), refused: /upgrade:lsst\.bareMetal\.services\[0\]\.host: must be a host name/ },
    { name: "an LSST host with a newline", yaml: example("lsst-tts", t => t.replace("host: azar01", 'host: "azar01\\ntouch /tmp/x"')), refused: /upgrade:lsst\.mainDaemon\.host/ },
    { name: "a Spinal Stack host root written another way", yaml: example("spinalstack", t => t.replace(/root: (\S+)\/ctl1/, "root: ./$1/lb1/")), refused: /upgrade:openstack\.hosts\.ctl1\.root: is the tree of host lb1 too/ },
    { name: "a Spinal Stack host name with shell syntax", yaml: example("spinalstack", t => t.replace(/^(\s+)ctl1:/m, "$1'ctl1;x':")), refused: /upgrade:openstack\.hosts\.ctl1;x/ },
    { name: "an rsync probe with $(...) (operator command, preview quotes it)", yaml: example("spinalstack", t => t.replace("preview: true", "preview: true\n      rsync: 'rsync$(touch /tmp/x)'")), accepted: true },
];

/** Run plan on one stack file in a folder of its own (the cases run side by side). */
function plan(root: string, yaml: string): Promise<{ status: number | null; stdout: string; stderr: string }> {
    fs.mkdirSync(path.join(root, "stacks"), { recursive: true });
    fs.copyFileSync(path.join(ROOT, "Pulumi.yaml"), path.join(root, "Pulumi.yaml"));
    fs.writeFileSync(path.join(root, "stacks", "Pulumi.case.yaml"), yaml);
    return new Promise(resolve => {
        const child = spawn("node", [path.join(ROOT, "bin", "plan.js"), "--stack", "case", "--format", "json"], { cwd: root });
        let stdout = "";
        let stderr = "";
        child.stdout.on("data", d => (stdout += d));
        child.stderr.on("data", d => (stderr += d));
        child.on("close", status => resolve({ status, stdout, stderr }));
    });
}

describe("security: broken and hostile stack files (issue 16)", function () {
    this.timeout(600000);
    const base = fs.mkdtempSync(path.join(os.tmpdir(), "broken-stacks-"));
    const results: { status: number | null; stdout: string; stderr: string }[] = [];

    before(async () => {
        let next = 0;
        const worker = async () => {
            while (next < CASES.length) {
                const i = next++;
                const c = CASES[i];
                results[i] = await plan(path.join(base, String(i)), typeof c.yaml === "string" ? c.yaml : c.yaml());
            }
        };
        await Promise.all([worker(), worker(), worker()]);
    });

    it(`there are at least 30 of them (${CASES.length})`, () => assert.ok(CASES.length >= 30));

    CASES.forEach((c, i) => {
        it(`${c.name}: ${c.accepted ? "accepted" : "refused with its path"}, no stack trace`, () => {
            const r = results[i];
            assert.doesNotMatch(r.stderr, /^\s+at .+:\d+:\d+\)?$/m, `a stack trace:\n${r.stderr}`);
            if (c.accepted) {
                assert.equal(r.status, 0, r.stderr);
                assert.ok(JSON.parse(r.stdout).steps.length > 0);
            } else {
                assert.equal(r.status, c.exit ?? 2, r.stderr);
                assert.match(r.stderr, c.refused!);
            }
        });
    });
});
