import { execFileSync } from "child_process";
import { randomUUID } from "crypto";
import * as fs from "fs";
import * as net from "net";
import * as os from "os";
import * as path from "path";

const ROOT = path.join(__dirname, "..", "..");
const COPIED = ["Pulumi.yaml", "index.ts", "tsconfig.json", "package.json", "package-lock.json", "components", "cli", "bin", "scripts", "lab", "stacks", "engine"];

export async function freePort(): Promise<number> {
    return new Promise((resolve, reject) => {
        const server = net.createServer();
        server.listen(0, "127.0.0.1", () => {
            const port = (server.address() as net.AddressInfo).port;
            server.close(() => resolve(port));
        });
        server.on("error", reject);
    });
}

export interface LabCopy {
    dir: string;
    url: string;
    environment: string;
    pgPort: number;
    /** Run `scripts/lab.sh` in the copy; resolves with its output, rejects on a non-zero exit. */
    lab(args?: string[]): string;
    down(): void;
    psql(sql: string): string;
}

/**
 * A copy of the project in a temporary folder (node_modules linked) whose lab stack uses free
 * ports and a new environment id, so a test can run `npm run lab` without touching the checkout.
 */
export async function makeLabCopy(edit: (stackYaml: string) => string = s => s): Promise<LabCopy> {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "lab-"));
    fs.chmodSync(dir, 0o755); // PostgreSQL runs as its own user and must reach its data folder
    for (const entry of COPIED) {
        execFileSync("cp", ["-a", path.join(ROOT, entry), path.join(dir, entry)]);
    }
    fs.symlinkSync(path.join(ROOT, "node_modules"), path.join(dir, "node_modules"));
    const httpPort = await freePort();
    const pgPort = await freePort();
    const environment = randomUUID();
    const url = `http://127.0.0.1:${httpPort}`;
    const stackFile = path.join(dir, "stacks", "Pulumi.lab.yaml");
    const yaml = fs.readFileSync(stackFile, "utf8")
        .replace(/url: http:\/\/127\.0\.0\.1:\d+/, `url: ${url}`)
        .replace(/environment: [0-9a-f-]{36}/, `environment: ${environment}`)
        .replace(/port: 54329/, `port: ${pgPort}`);
    fs.writeFileSync(stackFile, edit(yaml));
    const env = { ...process.env, PULUMI_BACKEND_URL: "", CI: "true" };
    return {
        dir, url, environment, pgPort,
        lab: (args = []) => execFileSync("bash", [path.join(dir, "scripts", "lab.sh"), ...args],
            { cwd: dir, env, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], maxBuffer: 64 * 1024 * 1024 }),
        down: () => {
            execFileSync("bash", [path.join(dir, "scripts", "inmanta", "lab.sh"), "down", path.join(dir, ".lab", "inmanta")], { stdio: "ignore" });
        },
        psql: (sql: string) => execFileSync("bash", [path.join(dir, "scripts", "inmanta", "pg.sh"), "psql", path.join(dir, ".lab", "inmanta", "pg"),
            String(pgPort), "-X", "-A", "-t", "-c", sql], { encoding: "utf8" }).trim(),
    };
}
