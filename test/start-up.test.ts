import { strict as assert } from "assert";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";

const ROOT = path.join(__dirname, "..");
const REGISTER = path.join(ROOT, "bin", "register-ts.js");

/** Runs `script` in a fresh node with the project's start-up hooks (as the program and the runner start). */
function node(script: string, env: Record<string, string>, cwd: string = ROOT): { status: number | null; stdout: string; stderr: string } {
    const r = spawnSync(process.execPath, ["--require", REGISTER, "-e", script], {
        cwd, encoding: "utf8", env: { ...process.env, ...env },
    });
    return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

describe("start-up: V8 code cache for packages (bin/code-cache.js)", function () {
    this.timeout(60000);
    let dir: string;
    let cache: string;

    beforeEach(() => {
        dir = fs.mkdtempSync(path.join(os.tmpdir(), "code-cache-"));
        cache = path.join(dir, "cache");
        const pkg = path.join(dir, "node_modules", "demo");
        fs.mkdirSync(pkg, { recursive: true });
        fs.writeFileSync(path.join(pkg, "package.json"), JSON.stringify({ name: "demo", main: "index.js" }));
        fs.writeFileSync(path.join(pkg, "index.js"), [
            "#!/usr/bin/env node",
            "exports.file = __filename; exports.dir = __dirname; exports.self = this === module.exports;",
            "exports.resolved = require.resolve('./other');",
            "exports.other = require('./other').value;",
            "exports.esm = () => import('./esm.mjs').then(m => m.value);",
            "exports.fail = () => { throw new Error('from demo'); };",
            "",
        ].join("\n"));
        fs.writeFileSync(path.join(pkg, "other.js"), "exports.value = 42;\n");
        // A file that calls import() keeps Node's loader: vm-compiled code cannot import() on Node 20
        // without an experimental flag.
        fs.writeFileSync(path.join(pkg, "esm.mjs"), "export const value = 'esm';\n");
    });
    afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

    const SCRIPT = `
        const d = require("demo");
        let where = "";
        try { d.fail(); } catch (e) { where = e.stack.split("\\n")[1]; }
        d.esm().then(esm => console.log(JSON.stringify({ file: d.file, dir: d.dir, self: d.self, resolved: d.resolved,
            other: d.other, esm, where })));`;

    it("a package module runs as under Node's loader, first from source then from the cache", () => {
        const pkg = path.join(dir, "node_modules", "demo");
        const expected = { file: path.join(pkg, "index.js"), dir: pkg, self: true, resolved: path.join(pkg, "other.js"), other: 42, esm: "esm" };
        const first = node(SCRIPT, { UPGRADE_CODE_CACHE: cache }, dir);
        assert.equal(first.status, 0, first.stderr);
        const cached = fs.readdirSync(cache).filter(f => f.endsWith(".bin"));
        // other.js only: index.js calls import(), esm.mjs is ES module code (both Node's own loader).
        assert.equal(cached.length, 1, cached.join(", "));
        const before = new Map(cached.map(f => [f, fs.statSync(path.join(cache, f)).mtimeMs]));
        const second = node(SCRIPT, { UPGRADE_CODE_CACHE: cache }, dir);
        assert.equal(second.status, 0, second.stderr);
        for (const out of [first, second]) {
            const r = JSON.parse(out.stdout);
            assert.deepEqual({ ...r, where: undefined }, { ...expected, where: undefined });
            assert.match(r.where, new RegExp(`${pkg.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}/index\\.js:6:`), "stack names the file and line");
        }
        // The second start read the cache and wrote nothing new.
        assert.deepEqual(fs.readdirSync(cache).filter(f => f.endsWith(".bin")).sort(), [...before.keys()].sort());
        for (const [f, mtime] of before) assert.equal(fs.statSync(path.join(cache, f)).mtimeMs, mtime, f);
    });

    it("a changed file gets a new entry; a damaged entry is compiled from source and replaced", () => {
        assert.equal(node(SCRIPT, { UPGRADE_CODE_CACHE: cache }, dir).status, 0);
        const entries = () => fs.readdirSync(cache).filter(f => f.endsWith(".bin")).sort();
        const first = entries();
        fs.writeFileSync(path.join(dir, "node_modules", "demo", "other.js"), "exports.value = 43;\n");
        const changed = node(SCRIPT, { UPGRADE_CODE_CACHE: cache }, dir);
        assert.equal(JSON.parse(changed.stdout).other, 43);
        assert.equal(entries().length, 2, "the changed file is a new entry");
        for (const f of entries()) fs.writeFileSync(path.join(cache, f), "not V8 data");
        const damaged = node(SCRIPT, { UPGRADE_CODE_CACHE: cache }, dir);
        assert.equal(damaged.status, 0, damaged.stderr);
        assert.equal(JSON.parse(damaged.stdout).other, 43);
        assert.equal(first.length, 1);
        const rewritten = entries().filter(f => fs.readFileSync(path.join(cache, f), "utf8") !== "not V8 data");
        assert.equal(rewritten.length, 1, "the file loaded was cached again");
    });

    it("the project's own files keep Node's loader (their stack traces map to the TypeScript lines)", () => {
        const out = node(`require(${JSON.stringify(path.join(ROOT, "components", "core", "shell-quote.ts"))});`,
            { UPGRADE_CODE_CACHE: cache });
        assert.equal(out.status, 0, out.stderr);
        assert.ok(!fs.existsSync(cache) || fs.readdirSync(cache).length === 0, "no project file in the package cache");
    });
});

describe("start-up: the SDK's serialization modules load on first use (bin/defer-sdk.js)", function () {
    this.timeout(60000);
    // @pulumi/pulumi 3.248.0: runtime/closure/parseFunction.js requires ../../typescript-shim,
    // runtime/closure/codePaths.js @npmcli/arborist and index.js ./automation when the SDK is loaded.
    const loaded = `const loaded = () => Object.keys(require.cache).some(f => /node_modules\\/typescript\\/lib\\/typescript\\.js$/.test(f));
        const arb = () => Object.keys(require.cache).some(f => f.includes("/node_modules/@npmcli/arborist/"));
        const auto = () => Object.keys(require.cache).some(f => f.includes("/node_modules/@pulumi/pulumi/automation/"));`;

    const serialize = `
        const pulumi = require("@pulumi/pulumi");
        const before = { ts: loaded(), arborist: arb(), automation: auto() };
        class A { f() { return 1; } } class B extends A { g() { return super.f() + 1; } }
        const b = new B(); const k = 7;
        pulumi.runtime.serializeFunction(() => b.g() * k).then(r => console.log(JSON.stringify({
            before, after: { ts: loaded() }, text: r.text })));`;

    it("loading the SDK loads neither TypeScript nor Arborist; serializing a function loads TypeScript then", () => {
        const out = node(loaded + serialize, {});
        assert.equal(out.status, 0, out.stderr);
        const r = JSON.parse(out.stdout);
        assert.deepEqual({ before: r.before, after: r.after }, { before: { ts: false, arborist: false, automation: false }, after: { ts: true } });
    });

    it("the Automation API loads when a program first uses it, and works", () => {
        const out = node(`${loaded}
            const pulumi = require("@pulumi/pulumi");
            const before = auto();
            const ws = typeof pulumi.automation.LocalWorkspace.create;
            console.log(JSON.stringify({ before, after: auto(), ws, fn: typeof pulumi.automation.fullyQualifiedStackName }));`, {});
        assert.equal(out.status, 0, out.stderr);
        assert.deepEqual(JSON.parse(out.stdout), { before: false, after: true, ws: "function", fn: "function" });
    });

    it("a function serialized with the deferral is the same text as without it (super rewritten by TypeScript)", () => {
        const deferred = node(loaded + serialize, {});
        const eager = node(loaded + serialize, { UPGRADE_DEFER_SDK: "off" });
        assert.equal(eager.status, 0, eager.stderr);
        const [d, e] = [JSON.parse(deferred.stdout), JSON.parse(eager.stdout)];
        assert.deepEqual(e.before, { ts: true, arborist: true, automation: true }, "without the deferral the SDK loads them at once");
        assert.equal(d.text, e.text);
        assert.match(d.text, /k = 7|k: 7/);
        assert.match(d.text, /__super|super/);
    });

    it("computing a program's code paths loads Arborist then and finds the program's packages", () => {
        const out = node(`${loaded}
            const pulumi = require("@pulumi/pulumi");
            const before = arb();
            pulumi.runtime.computeCodePaths({ extraIncludePackages: ["zod"] }).then(m => console.log(JSON.stringify({
                before, after: arb(), zod: [...m.keys()].some(k => k.endsWith("node_modules/zod")) })));`, {});
        assert.equal(out.status, 0, out.stderr);
        assert.deepEqual(JSON.parse(out.stdout), { before: false, after: true, zod: true });
    });
});
