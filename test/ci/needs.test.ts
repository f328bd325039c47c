/**
 * The marks by which `npm test` (scripts/test.sh) schedules the test files on a cold machine: a file that
 * needs part of the Kubernetes build says so on a line of its own, and runs as soon as that part is built,
 * beside the rest. A file that forgets its mark would wait for the build inside the run of the others (or
 * fail for want of the provider), so the marks are checked against what each file loads.
 */
import { strict as assert } from "assert";
import * as fs from "fs";
import * as path from "path";

const TEST_ROOT = path.resolve(__dirname, "..");
const NEEDS = ["kubernetes-control-plane", "kubernetes-provider"] as const;
type Need = typeof NEEDS[number];

function testFiles(dir = TEST_ROOT): string[] {
    return fs.readdirSync(dir, { withFileTypes: true }).flatMap(e => {
        const p = path.join(dir, e.name);
        if (e.isDirectory()) return testFiles(p);
        return e.name.endsWith(".test.ts") ? [p] : [];
    });
}

/** The files under test/ a file loads, itself included, following relative imports. */
function loaded(file: string, seen = new Set<string>()): Set<string> {
    if (seen.has(file) || !fs.existsSync(file)) return seen;
    seen.add(file);
    for (const m of fs.readFileSync(file, "utf8").matchAll(/from\s+"(\.{1,2}\/[^"]+)"/g)) {
        const target = path.resolve(path.dirname(file), m[1]) + ".ts";
        if (target.startsWith(TEST_ROOT + path.sep)) loaded(target, seen);
    }
    return seen;
}

function marks(file: string): string[] {
    return fs.readFileSync(file, "utf8").split("\n").filter(l => l.startsWith("// test-needs:"))
        .map(l => l.slice("// test-needs:".length).trim());
}

/** What a file needs of the Kubernetes build, from what it loads and runs. */
function needOf(file: string): Need | undefined {
    const files = [...loaded(file)];
    const uses = (name: string) => files.some(f => path.relative(TEST_ROOT, f) === path.join("support", name));
    const text = files.map(f => fs.readFileSync(f, "utf8")).join("\n");
    // The engine loads the Kubernetes provider for a program on the lab's cluster and for the LSST stacks
    // (their syncs are its resources).
    if (uses("engine.ts") && (uses("kube-lab.ts") || /lsst-(tts|summit)/.test(text))) return "kubernetes-provider";
    if (uses("kube-lab.ts")) return "kubernetes-control-plane";
    return undefined;
}

describe("npm test's schedule: the test files' marks", () => {
    const files = testFiles();

    it("finds the test files, and marks of both kinds among them", () => {
        assert.ok(files.length > 50, `${files.length} test files`);
        for (const need of NEEDS) {
            assert.ok(files.some(f => marks(f).includes(need)), `no file is marked ${need}`);
        }
    });

    it("every mark is one of the known needs, at most one per file", () => {
        for (const f of files) {
            const m = marks(f);
            assert.ok(m.length <= 1, `${path.relative(TEST_ROOT, f)}: ${m.length} marks`);
            for (const need of m) assert.ok((NEEDS as readonly string[]).includes(need), `${path.relative(TEST_ROOT, f)}: unknown need "${need}"`);
        }
    });

    it("each file is marked with what it loads: the provider for the engine on the lab's cluster or an LSST stack, the control plane for the Kubernetes lab, nothing else", () => {
        const wrong = files.flatMap(f => {
            const want = needOf(f);
            const have = marks(f)[0];
            return want === have ? [] : [`${path.relative(TEST_ROOT, f)}: marked ${have ?? "nothing"}, needs ${want ?? "nothing"}`];
        });
        assert.deepEqual(wrong, []);
    });

    it("the rule sees what a file loads through a helper (test/lsst/whole-site.ts loads the Kubernetes lab)", () => {
        const engineTest = path.join(TEST_ROOT, "lsst", "engine.test.ts");
        assert.ok([...loaded(engineTest)].includes(path.join(TEST_ROOT, "lsst", "whole-site.ts")));
        assert.ok([...loaded(path.join(TEST_ROOT, "lsst", "whole-site.ts"))].includes(path.join(TEST_ROOT, "support", "kube-lab.ts")));
        assert.equal(needOf(engineTest), "kubernetes-provider");
    });
});
