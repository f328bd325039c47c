import { strict as assert } from "assert";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { Readable } from "stream";
import { readStackFile } from "../../cli/stack-config";
import { dbnameArg } from "../../cli/step/database";
import { runStep } from "../../cli/step/main";
import { postToSlack } from "../../cli/step/lsst/notify";
import { loadRunbookConfig } from "../../components/config";
import { runnerEnvironment } from "../../components/core/step-env";
import { globMatch } from "../../components/inmanta/approval";
import { HttpTransport } from "../../components/inmanta/client/http";
import { scrubUrls } from "../../components/inmanta/client/url-safety";
import { ENV_ID, load, lsmAbort, lsmUpgrade, plainUpgrade, toPulumiConfig } from "../support/configs";
import { refusal, ROOT } from "./support";

const paths = (problems: string[]) => problems.map(p => p.slice(0, p.indexOf(": ")));

describe("security: a restore needs the backup's checksum (finding 6)", () => {
    it("abort.restoreTables without abort.backupSha256 is refused", () => {
        const problems = refusal(() => load(lsmAbort({ abort: { restoreTables: true, backupFile: "/b/pre.dump" } })));
        assert.deepEqual(paths(problems), ["upgrade:abort.backupSha256"]);
        assert.match(problems[0], /required when abort.restoreTables is true/);
    });

    it("the db-restore step refuses a dump without a checksum before it reads anything", async () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "restore-"));
        const file = path.join(dir, "truncated.dump");
        fs.writeFileSync(file, "PGDMP-partial"); // the 13-byte leftover of a killed pg_dump
        const params = { host: "127.0.0.1", port: 5432, database: "inmanta", user: "postgres", tables: ["t"], file };
        await assert.rejects(runStep(["db-restore", "r1"], { PATH: "/nonexistent", ...runnerEnvironment({ id: "r1", kind: "db-restore", params }) },
            Readable.from([""]), () => undefined), /parameter "sha256" must be the backup's sha256.*nothing was restored/);
    });
});

describe("security: credentials never ride in URLs (finding 7)", () => {
    const withUrl = (url: string, over = {}) => plainUpgrade({ orchestrator: { url, environment: ENV_ID }, ...over });

    it("an orchestrator URL with a user and password is refused, without echoing the password", () => {
        const problems = refusal(() => load(withUrl("https://ops:hunter2@orchestrator.example.net:8888")));
        assert.deepEqual(paths(problems), ["upgrade:orchestrator.url"]);
        assert.match(problems[0], /must not hold a user or password/);
        assert.ok(!problems.join("\n").includes("hunter2"));
    });

    it("a token over plain http is refused, except to a loopback address", () => {
        const problems = refusal(() => load(withUrl("http://orchestrator.example.net:8888", { inmantaToken: "t" }), ["inmantaToken"]));
        assert.deepEqual(paths(problems), ["upgrade:orchestrator.url"]);
        assert.match(problems[0], /clear text/);
        for (const url of ["http://127.0.0.1:8888", "http://[::1]:8888", "http://localhost:8888", "https://orchestrator.example.net"]) {
            assert.doesNotThrow(() => load(withUrl(url, { inmantaToken: "t" }), ["inmantaToken"]), url);
        }
        assert.doesNotThrow(() => load(withUrl("http://orchestrator.example.net:8888")), "no token, no problem");
    });

    it("the client refuses the same, and its message shows no credentials", () => {
        assert.throws(() => new HttpTransport({ url: "https://ops:hunter2@o.example.net", environment: ENV_ID }),
            (e: Error) => /must not hold a user or password/.test(e.message) && !e.message.includes("hunter2"));
        assert.throws(() => new HttpTransport({ url: "http://o.example.net:8888", environment: ENV_ID, token: "tok" }), /clear text/);
    });

    it("a webhook with credentials fails without echoing them; URLs in messages are scrubbed", async () => {
        await assert.rejects(postToSlack("https://u:pw-secret@hooks.example.net/services/T/B/X", "hi", () => undefined, 1),
            (e: Error) => /must not hold a user or password/.test(e.message) && !e.message.includes("pw-secret") && !e.message.includes("/services/"));
        assert.equal(scrubUrls("GET https://u:p@h.example.net:8443/api/v1/x?token=y failed"), "GET https://h.example.net:8443 failed");
    });
});

describe("security: the approval glob is linear (finding 8)", () => {
    it("matches like a glob", () => {
        const cases: [string, string, boolean][] = [
            ["*", "", true], ["*", "anything", true], ["a*", "abc", true], ["*c", "abc", true], ["a*c", "ac", true],
            ["a*c", "ab", false], ["std::File[a,path=/etc/*]", "std::File[a,path=/etc/motd]", true],
            ["a*b*c", "aXbYbZc", true], ["a*b*c", "aXcYb", false], ["", "", true], ["", "a", false], ["a.c", "abc", false],
            ["**a", "ba", true], ["a*", "b", false],
        ];
        for (const [glob, text, want] of cases) assert.equal(globMatch(glob, text), want, `${glob} ~ ${text}`);
    });

    it("a pathological pattern against 40 characters answers at once (a backtracking regex ran for minutes)", function () {
        this.timeout(60000); // generous: a busy machine; the old matcher never finishes
        const glob = "*a".repeat(12) + "*b";
        assert.equal(globMatch(glob, "a".repeat(40)), false);
        assert.equal(globMatch(glob, "a".repeat(5000)), false);
        assert.equal(globMatch(glob, "a".repeat(40) + "b"), true);
    });
});

describe("security: plan and the engine read the same configuration, and refuse the same gaps (finding 9)", () => {
    it("a namespace that looks like upgrade is refused, with the key as written", () => {
        const config = { ...toPulumiConfig(plainUpgrade()), "upgarde:preUpgradeDryrun": "false", "aws:region": "eu-west-1" };
        const problems = refusal(() => loadRunbookConfig(config, { source: "test" }));
        assert.deepEqual(problems, ['upgarde:preUpgradeDryrun: unknown namespace "upgarde": did you mean upgrade:preUpgradeDryrun?']);
        for (const ns of ["Upgrade", "upgrad", "upgrades", "ugprade"]) {
            assert.equal(refusal(() => loadRunbookConfig({ ...toPulumiConfig(plainUpgrade()), [`${ns}:x`]: "1" }, { source: "t" })).length, 1, ns);
        }
    });

    it("keys without a namespace are the project's: plan reads them as the engine does", () => {
        // Pulumi keys are `<namespace>:<name>` (pulumi/pulumi sdk/go/common/resource/config/key.go); a
        // stack file key without one is read by the engine in the project's namespace (issue 16).
        const root = fs.mkdtempSync(path.join(os.tmpdir(), "bare-"));
        fs.mkdirSync(path.join(root, "stacks"));
        fs.copyFileSync(path.join(ROOT, "Pulumi.yaml"), path.join(root, "Pulumi.yaml"));
        fs.writeFileSync(path.join(root, "stacks", "Pulumi.bare.yaml"),
            "config:\n  procedure: upgrade\n  upgrade:target: 2.0.0\n  preUpgradeDryrun: false\n" +
            `  orchestrator: { url: "http://127.0.0.1:8888", environment: ${ENV_ID} }\n`);
        const file = readStackFile("bare", root);
        assert.deepEqual(Object.keys(file.config).sort(), ["upgrade:orchestrator", "upgrade:preUpgradeDryrun", "upgrade:procedure", "upgrade:target"]);
        const config = loadRunbookConfig(file.config, { source: "bare" });
        assert.equal(config.preUpgradeDryrun, false);
        fs.writeFileSync(path.join(root, "stacks", "Pulumi.twice.yaml"), "config:\n  procedure: upgrade\n  upgrade:procedure: abort\n");
        assert.throws(() => readStackFile("twice", root), /upgrade:procedure is set twice/);
    });

    it("an agent listed twice in orchestrator.agents is refused", () => {
        const problems = refusal(() => load(plainUpgrade({ orchestrator: { url: "http://127.0.0.1:8888", environment: ENV_ID, agents: ["a1", "a2", "a1"] } })));
        assert.deepEqual(problems, ['upgrade:orchestrator.agents[2]: agent "a1" is listed twice']);
    });

    it("one host root written three ways is one tree", () => {
        const file = readStackFile("spinalstack");
        const o = JSON.parse(file.config["upgrade:openstack"]);
        const [first, second, third] = Object.keys(o.hosts);
        const root = o.hosts[first].root.replace(/\/+$/, "");
        o.hosts[second].root = `./${root}/`;
        o.hosts[third].root = `${root}//x/..`;
        const problems = refusal(() => loadRunbookConfig({ ...file.config, "upgrade:openstack": JSON.stringify(o) }, { source: "t" }));
        assert.deepEqual(problems, [
            `upgrade:openstack.hosts.${second}.root: is the tree of host ${first} too`,
            `upgrade:openstack.hosts.${third}.root: is the tree of host ${first} too`,
        ]);
    });

    it("database.name is a name, never a libpq connection string", () => {
        // libpq: a dbname holding `=` or starting with postgresql:// is a whole connection string
        // (postgres/postgres doc/src/sgml/libpq.sgml, "dbname"), so host= would override database.host.
        for (const name of ["host=evil.example.net dbname=inmanta", "postgresql://evil/inmanta", "-h evil"]) {
            const problems = refusal(() => load(lsmUpgrade({ database: { name, backupDir: "/tmp/b" } })));
            assert.deepEqual(paths(problems), ["upgrade:database.name"], name);
            assert.throws(() => dbnameArg(name), /not a database name/);
        }
        assert.equal(dbnameArg("inmanta_prod"), "inmanta_prod");
    });
});
