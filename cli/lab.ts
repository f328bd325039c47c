import * as fs from "fs";
import * as path from "path";
import { InmantaClient } from "../components/inmanta/client";
import { parseArgs } from "./args";
import { loadStack } from "./stack-config";

const USAGE = "usage: node bin/lab.js info|baseline|summary --stack <name> [--files DIR] [--outputs FILE]";

/** Procedures that deploy a model into an empty environment: the lab starts them without the release-A baseline. */
export const FIRST_DEPLOYMENT_PROCEDURES: readonly string[] = ["install", "lsm-install", "careful-deploy"];

/**
 * Helpers of `npm run lab`: what the lab stack needs started, the production baseline
 * (release A deployed before the upgrade), and the summary printed at the end.
 */
export async function main(argv: string[]): Promise<number> {
    const [action, ...rest] = argv;
    const args = parseArgs(rest, { stack: "string", files: "string", outputs: "string" }, USAGE);
    const { config } = loadStack(args.stack ?? "lab");
    const o = config.orchestrator;
    if (!o) throw new Error("the lab stack needs an orchestrator");
    const url = new URL(o.url);
    switch (action) {
        case "info": {
            // Shell variables for scripts/lab.sh.
            const release = /(?:^|-)([ab])$/i.exec(config.target)?.[1]?.toLowerCase();
            if (!release) throw new Error(`lab target "${config.target}" must end in -a or -b (the lab model's releases)`);
            const stack = args.stack ?? "lab";
            const lines = {
                LAB_URL: o.url, LAB_HTTP_PORT: url.port, LAB_ENV_ID: o.environment,
                // No database in the stack: the lab picks a free port (or keeps the one it has).
                LAB_PG_PORT: config.database ? String(config.database.port) : "", LAB_RELEASE: release, LAB_TARGET: config.target,
                LAB_PROCEDURE: config.procedure,
                // Each stack has its own environment on the lab's server, named after the stack.
                LAB_ENV_NAME: stack,
                // A first deployment starts from an empty environment; the others from release A in production.
                LAB_BASELINE: String(!FIRST_DEPLOYMENT_PROCEDURES.includes(config.procedure)),
            };
            for (const [k, v] of Object.entries(lines)) process.stdout.write(`${k}=${v}\n`);
            return 0;
        }
        case "baseline": {
            // Production runs release A before any upgrade: compile and deploy it once.
            const client = new InmantaClient({ url: o.url, environment: o.environment }, { log: l => process.stderr.write(`[lab] ${l}\n`) });
            try {
                const health = await client.health();
                if (health.version !== null) {
                    process.stderr.write(`[lab] version ${health.version} is deployed already\n`);
                    return 0;
                }
                await client.setSetting("auto_deploy", false);
                const compiled = await client.compile({ update: false, message: "lab baseline: release A" });
                await client.release(compiled.version!);
                const r = await client.waitForDeploy(compiled.version!);
                if (r.failed.length) throw new Error(`the baseline deploy failed: ${r.failed.join(", ")}`);
                await client.setSetting("auto_deploy", true);
                process.stderr.write(`[lab] baseline: version ${compiled.version} deployed (${r.done}/${r.total})\n`);
                return 0;
            } finally {
                client.close();
            }
        }
        case "summary": {
            const outputs = args.outputs && fs.existsSync(args.outputs) ? JSON.parse(fs.readFileSync(args.outputs, "utf8")) : {};
            const client = new InmantaClient({ url: o.url, environment: o.environment });
            try {
                const health = await client.health();
                const out: string[] = [
                    `procedure ${config.procedure}, run key ${outputs.runKey ?? config.target}`,
                    `steps (in order): ${(outputs.steps ?? []).join(" -> ")}`,
                    `deployed version ${health.version}: ${health.healthy ? "healthy" : `NOT healthy (${health.failed.join(", ")})`}`,
                    `auto_deploy = ${JSON.stringify(await client.getSetting("auto_deploy"))}, protected_environment = ${JSON.stringify(await client.getSetting("protected_environment"))}`,
                ];
                if (outputs.backupFile) out.push(`backup ${outputs.backupFile} (sha256 ${outputs.backupSha256})`);
                if (args.files && fs.existsSync(args.files)) {
                    for (const f of fs.readdirSync(args.files).sort()) {
                        out.push(`file ${f}: ${fs.readFileSync(path.join(args.files, f), "utf8").trim()}`);
                    }
                }
                process.stdout.write(out.map(l => `  ${l}`).join("\n") + "\n");
                return 0;
            } finally {
                client.close();
            }
        }
        default:
            throw new Error(USAGE);
    }
}
