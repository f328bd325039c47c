import { createHash } from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { isNumber, isString, isStringArray, param, StepContext, StepFailure } from "./context";
import { run } from "./process";

interface Connection {
    host: string;
    port: number;
    database: string;
    user: string;
    binDir?: string;
}

function connection(ctx: StepContext): Connection {
    return {
        host: param(ctx, "host", isString, "a host"),
        port: param(ctx, "port", isNumber, "a port"),
        database: param(ctx, "database", isString, "a database name"),
        user: param(ctx, "user", isString, "a user name"),
        binDir: typeof ctx.params.binDir === "string" ? ctx.params.binDir : undefined,
    };
}

const tool = (c: Connection, name: string) => (c.binDir ? path.join(c.binDir, name) : name);
const connArgs = (c: Connection) => ["-h", c.host, "-p", String(c.port), "-U", c.user, "-w"];

export function sha256File(file: string): string {
    return createHash("sha256").update(fs.readFileSync(file)).digest("hex");
}

/** `pg_restore --list`: the dump is readable and holds the data of every table the steps rely on. */
export async function verifyDump(c: Connection, file: string, tables: string[], env: NodeJS.ProcessEnv): Promise<void> {
    if (!fs.existsSync(file)) throw new StepFailure(`backup ${file} does not exist`);
    const list = await run(tool(c, "pg_restore"), ["--list", file], { env });
    if (list.code !== 0) throw new StepFailure(`backup ${file} is not a readable dump: pg_restore --list: ${list.stderr.trim()}`);
    const missing = tables.filter(t => {
        const [schema, name] = t.includes(".") ? t.split(".") : ["public", t];
        return !new RegExp(`TABLE DATA ${schema} ${name} `).test(list.stdout);
    });
    if (missing.length) throw new StepFailure(`backup ${file} holds no data for table(s) ${missing.join(", ")}`);
}

function stamp(): string {
    return new Date().toISOString().replace(/[-:]/g, "").replace(/\.\d+Z$/, "Z");
}

export async function backup(ctx: StepContext): Promise<Record<string, unknown>> {
    const c = connection(ctx);
    const tables = param(ctx, "tables", isStringArray, "a list of tables");
    const full = ctx.params.full === true;
    const dir = param(ctx, "dir", isString, "a folder");
    const label = typeof ctx.params.label === "string" ? ctx.params.label : "backup";
    fs.mkdirSync(dir, { recursive: true });
    // A new file each time: an existing backup is never overwritten.
    const file = path.resolve(dir, `${c.database}-${label}-${stamp()}-${process.pid}.dump`);
    const args = [...connArgs(c), "-d", c.database, "-Fc", "-f", file, ...(full ? [] : tables.flatMap(t => ["-t", t]))];
    ctx.log(`pg_dump ${full ? "of the whole database" : `of ${tables.join(", ")}`} to ${file}`);
    const dump = await run(tool(c, "pg_dump"), args, { env: ctx.env });
    if (dump.code !== 0) {
        fs.rmSync(file, { force: true });
        throw new StepFailure(`pg_dump failed (exit ${dump.code}): ${dump.stderr.trim()}`);
    }
    await verifyDump(c, file, tables, ctx.env);
    const size = fs.statSync(file).size;
    const sha256 = sha256File(file);
    ctx.log(`backup verified with pg_restore --list: ${size} bytes, sha256 ${sha256}`);
    return { path: file, size, sha256, tables, full };
}

/** Row counts per table in a data-only SQL script made by pg_restore. */
export function rowsInScript(sql: string): Record<string, number> {
    const counts: Record<string, number> = {};
    let current: string | undefined;
    for (const line of sql.split("\n")) {
        if (current) {
            if (line === "\\.") current = undefined;
            else counts[current]++;
            continue;
        }
        const m = /^COPY ([^ (]+) /.exec(line);
        if (m) {
            current = m[1].replace(/"/g, "").replace(/^public\./, "");
            counts[current] = 0;
        }
    }
    return counts;
}

export async function restore(ctx: StepContext): Promise<Record<string, unknown>> {
    const c = connection(ctx);
    const tables = param(ctx, "tables", isStringArray, "a list of tables");
    const file = param(ctx, "file", isString, "a backup file");
    if (!fs.existsSync(file)) throw new StepFailure(`backup ${file} does not exist: nothing was restored`);
    if (typeof ctx.params.sha256 === "string") {
        const actual = sha256File(file);
        if (actual !== ctx.params.sha256) throw new StepFailure(`backup ${file} has sha256 ${actual}, expected ${ctx.params.sha256}: nothing was restored`);
    }
    await verifyDump(c, file, tables, ctx.env);
    const script = await run(tool(c, "pg_restore"), ["--data-only", ...tables.flatMap(t => ["-t", t.split(".").pop()!]), "-f", "-", file], { env: ctx.env });
    if (script.code !== 0) throw new StepFailure(`pg_restore could not read ${file}: ${script.stderr.trim()}`);
    const expected = rowsInScript(script.stdout);
    const sqlFile = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "restore-")), "restore.sql");
    // One transaction: the tables are emptied and refilled together, or not touched at all.
    fs.writeFileSync(sqlFile, `TRUNCATE TABLE ${tables.join(", ")};\n${script.stdout}`);
    try {
        const load = await run(tool(c, "psql"), [...connArgs(c), "-d", c.database, "-X", "-q", "--single-transaction", "-v", "ON_ERROR_STOP=1", "-f", sqlFile], { env: ctx.env });
        if (load.code !== 0) throw new StepFailure(`restoring ${tables.join(", ")} failed and was rolled back: ${load.stderr.trim()}`);
    } finally {
        fs.rmSync(path.dirname(sqlFile), { recursive: true, force: true });
    }
    const counts: Record<string, number> = {};
    for (const t of tables) {
        const q = await run(tool(c, "psql"), [...connArgs(c), "-d", c.database, "-X", "-A", "-t", "-c", `SELECT count(*) FROM ${t}`], { env: ctx.env });
        counts[t] = Number(q.stdout.trim());
        const want = expected[t.replace(/^public\./, "")] ?? 0;
        if (q.code !== 0 || counts[t] !== want) throw new StepFailure(`after the restore ${t} has ${q.stdout.trim() || "?"} rows, the backup ${want}`);
    }
    ctx.log(`restored ${tables.map(t => `${t} (${counts[t]} rows)`).join(", ")} from ${file}`);
    return { restored: tables, rows: counts, file };
}
