/**
 * Helpers of the OpenStack tests: a lab (install-server and node trees) in a temporary folder, a stack
 * configuration pointing at it, the step runner run as its own process, and tree snapshots.
 */
import { createHash } from "crypto";
import { execFileSync, spawn } from "child_process";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { runnerEnvironment } from "../../components/core/step-env";
import { RawConfig } from "../support/configs";

export const ROOT = path.resolve(__dirname, "..", "..");
export const LAB = path.join(ROOT, "lab", "openstack");

/** The programs the steps run (ansible-playbook, rsync, puppet): installed from Debian when missing. */
export function ensureTools(): void {
    execFileSync("bash", [path.join(ROOT, "scripts", "openstack", "tools.sh")], { stdio: ["ignore", "inherit", "inherit"] });
}

/**
 * An upstream project's grenade plugin, unchanged: its devstack/ folder from the project's sdist on PyPI,
 * fetched once into the cache by scripts/openstack/grenade-plugins.sh. The folder that holds devstack/.
 */
export function upstreamPlugin(project: string): string {
    const out = execFileSync("bash", [path.join(ROOT, "scripts", "openstack", "grenade-plugins.sh"), project],
        { stdio: ["ignore", "pipe", "inherit"], encoding: "utf8" });
    return out.trim().split("\n").pop()!;
}

export const FIVE_NODES = ["lb1=load-balancer:lb", "ctl1=controller:openstack-full", "ctl2=controller:openstack-full",
    "cpt1=compute:openstack-full", "cpt2=compute:openstack-full"];

/** A fresh lab: <dir>/install-server and <dir>/nodes/<name> on release J.1.0.0, services running. */
export function makeLab(nodes: string[] = FIVE_NODES, prefix = "os-lab-"): string {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
    execFileSync("bash", [path.join(ROOT, "scripts", "openstack", "lab.sh"), "--dir", dir, ...nodes], { stdio: ["ignore", "pipe", "inherit"] });
    return dir;
}

export const SNIPPETS = {
    "cloud::loadbalancer": [{ name: "reload haproxy", shell: "echo reload-haproxy {{ node_name }} >> {{ node_root }}/var/log/steps.log", tags: 2 }],
    "cloud::identity": [{ name: "keystone db_sync", shell: "echo db-sync {{ node_name }} >> {{ node_root }}/var/log/steps.log", tags: 3 }],
    "cloud::compute::api": [{ name: "restart nova-api", shell: "echo restart-nova-api {{ node_name }} >> {{ node_root }}/var/log/steps.log", tags: 6 }],
    "cloud::telemetry::collector": [{ name: "restart ceilometer-collector", shell: "echo restart-collector {{ node_name }} >> {{ node_root }}/var/log/steps.log", tags: 7 }],
    "cloud::compute::hypervisor": [{ name: "restart nova-compute", shell: "echo restart-nova-compute {{ node_name }} >> {{ node_root }}/var/log/steps.log", tags: 5 }],
};

/** The example stack's procedure on a temporary lab (absolute paths), as raw `upgrade:` config. */
export function spinalConfig(lab: string, over: Record<string, unknown> = {}): RawConfig {
    const is = path.join(lab, "install-server");
    const nodes = path.join(lab, "nodes");
    const bin = (s: string) => `bash ${path.join(LAB, "bin", s)}`;
    const names = fs.readdirSync(nodes).sort();
    const profileOf = (n: string) => fs.readFileSync(path.join(nodes, n, "etc", "lab-profile"), "utf8").trim();
    const computes = names.filter(n => profileOf(n) === "compute");
    const env = `LABCLOUD_NODES=${nodes} LABCLOUD_CONTROLLER=ctl1 LABCLOUD_COMPUTES='${computes.join(" ")}'`;
    return {
        procedure: "spinalstack-upgrade",
        target: "J.1.1.0",
        openstack: {
            workDir: path.join(lab, "work"),
            provision: [
                { name: "puppet-modules", command: `${bin("provision.sh")} puppet-modules ${is}` },
                { name: "serverspec", command: `${bin("provision.sh")} serverspec ${is}` },
                { name: "edeploy-roles", command: `${bin("provision.sh")} edeploy-roles ${is}` },
                { name: "ansible-playbooks", command: `${bin("provision.sh")} ansible-playbooks ${is} ${path.join(lab, "work")}` },
            ],
            profiles: {
                "load-balancer": { role: "lb", classes: ["cloud::loadbalancer"], serial: 1 },
                controller: { role: "openstack-full", classes: ["cloud::identity", "cloud::compute::api", "cloud::telemetry::collector"], serial: 1 },
                compute: { role: "openstack-full", classes: ["cloud::compute::hypervisor"], serial: 2, maxFailPercentage: 0 },
            },
            hosts: Object.fromEntries(names.map(n => [n, { profile: profileOf(n), root: path.join(nodes, n) }])),
            edeploy: {
                rolesDir: path.join(is, "roles"), metadataDir: path.join(is, "metadata"), from: "J.1.0.0", to: "J.1.1.0",
                reboot: { command: `${bin("reboot.sh")} {root}`, wait: `${bin("reboot.sh")} --up {root}` },
            },
            ansible: { snippets: SNIPPETS },
            puppet: {
                maxRuns: 5,
                steps: [
                    { step: 0, manifest: path.join(is, "puppet", "step0.pp"), check: `bash ${path.join(is, "serverspec", "check.sh")} 0` },
                    { step: 5, manifest: path.join(is, "puppet", "step5.pp"), check: `bash ${path.join(is, "serverspec", "check.sh")} 5` },
                ],
            },
            serverspec: { command: `TARGET_RELEASE=J.1.1.0 bash ${path.join(is, "serverspec", "check.sh")} all` },
            services: {
                shutdown: [
                    { name: "openstack-api", command: `${bin("services.sh")} stop api ${nodes}` },
                    { name: "nova-compute", command: `${bin("services.sh")} stop compute ${nodes}` },
                ],
                start: [
                    { name: "openstack-api", command: `${bin("services.sh")} start api ${nodes}` },
                    { name: "nova-compute", command: `${bin("services.sh")} start compute ${nodes}` },
                ],
            },
            survival: {
                topDir: path.join(LAB, "devstack"),
                stackRoot: path.join(lab, "stack"),
                env: { LABCLOUD_NODES: nodes, LABCLOUD_CONTROLLER: "ctl1", LABCLOUD_COMPUTES: computes.join(" "), ENABLED_SERVICES: "labnet,labcloud" },
                projects: [
                    { name: "labnet", plugin: path.join(LAB, "grenade", "labnet") },
                    { name: "labcloud", plugin: path.join(LAB, "grenade", "labcloud") },
                    { name: "node-data", module: path.join(LAB, "checks", "node-data.ts") },
                ],
            },
            sanity: [
                { suite: "tempest-api", command: `${env} ${bin("tempest.sh")} api` },
                { suite: "tempest-cli", command: `${env} ${bin("tempest.sh")} cli` },
                { suite: "javelin", command: `${env} ${bin("javelin.sh")} check` },
            ],
            ...over,
        },
    };
}

export interface ProcessResult {
    code: number;
    result?: Record<string, unknown>;
    stdout: string;
    stderr: string;
}

/** `node bin/step.js <kind> <id>` in its own process, as a step's command resource runs it. */
export function runStepProcess(kind: string, id: string, params: Record<string, unknown>, env: NodeJS.ProcessEnv = {}): Promise<ProcessResult> {
    return new Promise((resolve, reject) => {
        const child = spawn(process.execPath, [path.join(ROOT, "bin", "step.js"), kind, id], {
            cwd: ROOT,
            env: { ...process.env, ...env, ...runnerEnvironment({ id, kind, params }), UPGRADE_STACK: "test" },
            stdio: ["ignore", "pipe", "pipe"],
        });
        let stdout = "";
        let stderr = "";
        child.stdout.on("data", d => (stdout += d));
        child.stderr.on("data", d => (stderr += d));
        child.on("error", reject);
        child.on("close", code => {
            let result: Record<string, unknown> | undefined;
            try {
                result = stdout.trim() ? JSON.parse(stdout) : undefined;
            } catch {
                result = undefined;
            }
            resolve({ code: code ?? 1, result, stdout, stderr });
        });
    });
}

/** relative path -> sha256 of every file under `dir` (optionally only under `sub`). */
export function snapshot(dir: string, sub = ""): Record<string, string> {
    const out: Record<string, string> = {};
    const base = path.join(dir, sub);
    if (!fs.existsSync(base)) return out;
    const walk = (d: string) => {
        for (const e of fs.readdirSync(d, { withFileTypes: true })) {
            const p = path.join(d, e.name);
            if (e.isDirectory()) walk(p);
            else if (e.isFile()) out[path.relative(dir, p)] = createHash("sha256").update(fs.readFileSync(p)).digest("hex");
        }
    };
    walk(base);
    return out;
}

export function read(file: string): string {
    return fs.readFileSync(file, "utf8");
}

export function rm(dir: string): void {
    fs.rmSync(dir, { recursive: true, force: true });
}

/** The step runner in this process (faster; the separate-process runs are kept for the resume tests). */
export async function runStepInProcess(kind: string, id: string, params: Record<string, unknown>): Promise<ProcessResult> {
    const { runStep } = await import("../../cli/step/main");
    const { Readable } = await import("stream");
    const logs: string[] = [];
    try {
        const result = await runStep([kind, id], { ...process.env, ...runnerEnvironment({ id, kind, params }) },
            Readable.from([""]), l => logs.push(l));
        return { code: 0, result, stdout: JSON.stringify(result), stderr: logs.join("\n") };
    } catch (err) {
        return { code: 1, stdout: "", stderr: `${logs.join("\n")}\nerror: ${(err as Error).message}` };
    }
}
