import { strict as assert } from "assert";
import { spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import * as pulumi from "@pulumi/pulumi";
import { readStackFile, SECRET_PLACEHOLDER } from "../../cli/stack-config";
import { ConfigError, loadRunbookConfig } from "../../components/config";
import { isShellText } from "../../components/config/shell-text";
import { resetRegistry } from "../../components/core";
import { shellQuote } from "../../components/core/shell-quote";
import { paramsFromEnvironment, STEP_ENV } from "../../components/core/step-env";
import { markerDir, markers, ROOT } from "./support";

/**
 * Every example stack, with a marker-writing payload put into each string of its config that reaches
 * a command (one value at a time): the config is refused, or every command line the program gives
 * the provider (shell steps, remote steps, the command lines a runner step runs, the preview-time
 * rsync probe) is run with bash, with stand-in ssh/kubectl/docker that only log their arguments,
 * and no marker may appear. The operator command lines (components/config/shell-text.ts) are shell
 * text by design and are left out.
 */
const STACKS = fs.readdirSync(path.join(ROOT, "stacks")).map(f => /^Pulumi\.(.+)\.yaml$/.exec(f)?.[1]).filter((s): s is string => !!s).sort();
const STAND_INS = ["ssh", "kubectl", "docker", "gh", "inmanta", "git", "curl", "rsync", "ansible-playbook", "puppet", "getenforce", "setfiles", "psql", "pg_dump"];

type Leaf = { path: (string | number)[]; value: string };

function leaves(value: unknown, at: (string | number)[], out: Leaf[]): Leaf[] {
    if (typeof value === "string") out.push({ path: at, value });
    else if (Array.isArray(value)) value.forEach((v, i) => leaves(v, [...at, i], out));
    else if (value && typeof value === "object") for (const [k, v] of Object.entries(value)) leaves(v, [...at, k], out);
    return out;
}

function decode(text: string): unknown {
    try {
        return JSON.parse(text);
    } catch {
        return text;
    }
}

function setLeaf(config: Record<string, string>, at: (string | number)[], value: string): Record<string, string> {
    const key = `upgrade:${at[0]}`;
    if (at.length === 1) return { ...config, [key]: value };
    const doc = JSON.parse(config[key]);
    let node = doc;
    for (const p of at.slice(1, -1)) node = node[p];
    node[at[at.length - 1]] = value;
    return { ...config, [key]: JSON.stringify(doc) };
}

/** The command lines of one build: what the provider would run, and what the runner would hand bash. */
async function commandLines(config: Record<string, string>, secretKeys: string[], stack: string): Promise<string[]> {
    const c = loadRunbookConfig(config, { source: stack, secretKeys });
    resetRegistry();
    const lines: string[] = [];
    const runnerLines = (params: unknown) => {
        for (const l of leaves(params, [], [])) {
            const key = l.path[l.path.length - 1];
            if (key === "command" || key === "probe" || key === "merge") lines.push(l.value);
        }
    };
    await pulumi.runtime.setMocks({
        newResource: (args: pulumi.runtime.MockResourceArgs) => {
            if (args.type.startsWith("command:")) {
                if (typeof args.inputs.create === "string") lines.push(args.inputs.create);
                const env = args.inputs.environment as Record<string, unknown> | undefined;
                const plain = env && "value" in env ? (env.value as Record<string, unknown>) : env;
                if (plain && typeof plain[STEP_ENV] === "string") runnerLines(paramsFromEnvironment(plain));
            }
            return { id: `${args.name}-id`, state: {} };
        },
        call: (args: pulumi.runtime.MockCallArgs) => {
            if (typeof args.inputs.command === "string") lines.push(args.inputs.command);
            return { stdout: "", stderr: "" };
        },
    }, "upgrade", stack, true);
    const { buildRunbook } = await import("../../components/program");
    buildRunbook(c);
    await (pulumi.runtime as unknown as { waitForRPCs(): Promise<void> }).waitForRPCs();
    return lines;
}

/** Does the value (or, for a value with {placeholders}, each literal part of it) appear in a command line? */
function reaches(value: string, text: string): boolean {
    const parts = value.split(/\{[A-Za-z]+\}/).filter(p => p.length >= 2);
    return parts.length > 0 && parts.every(p => text.includes(p));
}

function runAll(lines: string[], dir: string): void {
    const work = path.join(dir, "cwd");
    fs.mkdirSync(work, { recursive: true });
    const script = lines.map(l => `( timeout 10 /bin/bash -c ${shellQuote(l)} ) </dev/null >/dev/null 2>&1 &`).join("\n") + "\nwait\n";
    spawnSync("/bin/bash", ["-c", script], {
        cwd: work, timeout: 60000,
        env: { PATH: `${path.join(dir, "bin")}:/usr/bin:/bin`, HOME: work, STAND_IN_LOG: path.join(dir, "calls.log") },
    });
}

describe("security: hostile values in every example stack run nothing (issue 16)", function () {
    this.timeout(900000);
    const dir = markerDir();
    const bin = path.join(dir, "bin");
    fs.mkdirSync(bin);
    for (const name of STAND_INS) fs.writeFileSync(path.join(bin, name), `#!/bin/sh\necho "${name} $*" >> "$STAND_IN_LOG"\n`, { mode: 0o755 });
    const payloads = [
        `x;touch ${dir}/marker1;:$(touch ${dir}/marker2)\`touch ${dir}/marker3\``,
        `x'$(touch ${dir}/marker4)'"$(touch ${dir}/marker5)"\ntouch ${dir}/marker6\n`,
    ];

    for (const stack of STACKS) {
        it(`${stack}: every value that reaches a command is refused or stays one word`, async () => {
            const file = readStackFile(stack);
            const clean = await commandLines(file.config, file.secretKeys, stack).catch(err => {
                if (err instanceof ConfigError) return undefined;
                throw err;
            });
            if (!clean) return assert.ok(stack.startsWith("unsafe"), `${stack} is refused as it is`);
            const text = clean.join("\n");
            const candidates = Object.entries(file.config)
                .filter(([k, v]) => k.startsWith("upgrade:") && v !== SECRET_PLACEHOLDER)
                .flatMap(([k, v]) => leaves(decode(v), [k.slice("upgrade:".length)], []))
                .filter(l => !isShellText(l.path) && reaches(l.value, text));
            assert.ok(candidates.length > 0 || clean.length === 0, `${stack}: no config value reaches a command?`);
            const fired: string[] = [];
            let refused = 0;
            for (const leaf of candidates) {
                for (const payload of payloads) {
                    const hostile = setLeaf(file.config, leaf.path, leaf.value + payload);
                    let lines: string[];
                    try {
                        lines = await commandLines(hostile, file.secretKeys, stack);
                    } catch (err) {
                        if (!(err instanceof ConfigError)) throw err;
                        refused++;
                        continue;
                    }
                    runAll(lines, dir);
                    const found = markers(dir);
                    if (found.length) fired.push(`${leaf.path.join(".")}: ${found.join(", ")}`);
                    for (const m of found) fs.rmSync(path.join(dir, m));
                }
            }
            assert.deepEqual(fired, [], `payloads ran through: ${fired.join("; ")}`);
            // The count of tried values shows the test looked at something.
            assert.ok(candidates.length * payloads.length >= refused);
        });
    }
});
