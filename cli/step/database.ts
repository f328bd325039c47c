import { createHash } from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { isNumber, isString, isStringArray, param, StepContext, StepFailure } from "./context";
import { onStop } from "./children";
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

/**
 * The database name as libpq's dbname: a value holding `=` or starting with postgres:// or
 * postgresql:// would be read as a whole connection string (its host= overriding -h), so only a
 * plain name is accepted (the config schema checks it too: components/config/patterns.ts).
 */
export function dbnameArg(name: string): string {
    if (!/^[A-Za-z_][A-Za-z0-9_$-]*$/.test(name)) throw new StepFailure(`"${name}" is not a database name: refusing to pass it to libpq as a connection string`);
    return name;
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
    // Written under a name that does not look like a backup, and renamed only once verified: a
    // killed pg_dump leaves no .dump that looks complete (and a stopped runner removes the partial file).
    const partial = `${file}.partial`;
    const release = onStop(() => fs.rmSync(partial, { force: true }));
    try {
        const args = [...connArgs(c), "-d", dbnameArg(c.database), "-Fc", "-f", partial, ...(full ? [] : tables.flatMap(t => ["-t", t]))];
        ctx.log(`pg_dump ${full ? "of the whole database" : `of ${tables.join(", ")}`} to ${file}`);
        const dump = await run(tool(c, "pg_dump"), args, { env: ctx.env });
        if (dump.code !== 0) throw new StepFailure(`pg_dump failed (exit ${dump.code}): ${dump.stderr.trim()}`);
        await verifyDump(c, partial, tables, ctx.env);
        const size = fs.statSync(partial).size;
        const sha256 = sha256File(partial);
        fs.renameSync(partial, file);
        ctx.log(`backup verified with pg_restore --list: ${size} bytes, sha256 ${sha256}`);
        return { path: file, size, sha256, tables, full };
    } finally {
        fs.rmSync(partial, { force: true });
        release();
    }
}

/** The name of a table as pg_restore writes it in a COPY line, without quotes and the public schema. */
const bareName = (t: string) => t.replace(/"/g, "").replace(/^public\./, "");

/**
 * Row counts per table in a data-only SQL script made by pg_restore; with `environment`, only the
 * rows of that environment (tables without an `environment` column are listed in `unscoped`).
 */
export function rowsInScript(sql: string, environment?: string): { counts: Record<string, number>; unscoped: string[] } {
    const counts: Record<string, number> = {};
    const unscoped: string[] = [];
    let current: string | undefined;
    let envColumn = -1;
    for (const line of sql.split("\n")) {
        if (current) {
            if (line === "\\.") current = undefined;
            else if (environment === undefined || line.split("\t")[envColumn] === environment) counts[current]++;
            continue;
        }
        const m = /^COPY ([^ (]+) (?:\(([^)]*)\) )?FROM stdin/.exec(line);
        if (m) {
            current = bareName(m[1]);
            counts[current] = 0;
            envColumn = (m[2] ?? "").split(",").map(c => c.trim().replace(/"/g, "")).indexOf("environment");
            if (environment !== undefined && envColumn < 0) unscoped.push(current);
        }
    }
    return { counts, unscoped };
}

export async function restore(ctx: StepContext): Promise<Record<string, unknown>> {
    const c = connection(ctx);
    const tables = param(ctx, "tables", isStringArray, "a list of tables");
    const file = param(ctx, "file", isString, "a backup file");
    // Never restore an unchecked dump: a truncated one (a killed backup) would empty the tables.
    const sha256 = ctx.params.sha256;
    if (typeof sha256 !== "string" || !/^[0-9a-f]{64}$/.test(sha256)) {
        throw new StepFailure(`step ${ctx.id}: parameter "sha256" must be the backup's sha256 (abort.backupSha256): nothing was restored`);
    }
    if (!fs.existsSync(file)) throw new StepFailure(`backup ${file} does not exist: nothing was restored`);
    const actual = sha256File(file);
    if (actual !== sha256) throw new StepFailure(`backup ${file} has sha256 ${actual}, expected ${sha256}: nothing was restored`);
    await verifyDump(c, file, tables, ctx.env);
    // The inventory tables hold every environment of the server: restore only the rows of the one
    // this step works on, so the other environments keep what changed since the backup.
    const environment = ctx.params.environment === undefined ? undefined : param(ctx, "environment", isString, "an environment id");
    if (environment !== undefined && !/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i.test(environment)) {
        throw new StepFailure(`"${environment}" is not an environment id: nothing was restored`);
    }
    const script = await run(tool(c, "pg_restore"), ["--data-only", ...tables.flatMap(t => ["-t", t.split(".").pop()!]), "-f", "-", file], { env: ctx.env });
    if (script.code !== 0) throw new StepFailure(`pg_restore could not read ${file}: ${script.stderr.trim()}`);
    const { counts: expected, unscoped } = rowsInScript(script.stdout, environment);
    if (unscoped.length) {
        throw new StepFailure(`table(s) ${unscoped.join(", ")} have no environment column: the rows of environment ${environment} cannot be told apart; nothing was restored`);
    }
    const qualified = (t: string) => (t.includes(".") ? t : `public.${t}`);
    const temp = (t: string) => `pg_temp.restore_${bareName(t).replace(/\W/g, "_")}`;
    const where = environment === undefined ? "" : ` WHERE environment = '${environment}'`;
    let sql: string;
    if (environment === undefined) {
        sql = `TRUNCATE TABLE ${tables.join(", ")};\n${script.stdout}`;
    } else {
        // The dump's rows go to temporary copies of the tables first; then the environment's rows are replaced.
        const byName = new Map(tables.map(t => [bareName(t), t]));
        sql = [
            ...tables.map(t => `CREATE TEMP TABLE ${temp(t).slice("pg_temp.".length)} (LIKE ${qualified(t)} INCLUDING DEFAULTS) ON COMMIT DROP;`),
            script.stdout.replace(/^COPY ([^ (]+) /gm, (line, name: string) => (byName.has(bareName(name)) ? `COPY ${temp(byName.get(bareName(name))!)} ` : line)),
            "RESET search_path;",
            ...tables.flatMap(t => [`DELETE FROM ${qualified(t)}${where};`, `INSERT INTO ${qualified(t)} SELECT * FROM ${temp(t)}${where};`]),
        ].join("\n");
    }
    const sqlFile = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "restore-")), "restore.sql");
    // One transaction: the tables are emptied and refilled together, or not touched at all.
    fs.writeFileSync(sqlFile, sql + "\n");
    try {
        const load = await run(tool(c, "psql"), [...connArgs(c), "-d", dbnameArg(c.database), "-X", "-q", "--single-transaction", "-v", "ON_ERROR_STOP=1", "-f", sqlFile], { env: ctx.env });
        if (load.code !== 0) throw new StepFailure(`restoring ${tables.join(", ")} failed and was rolled back: ${load.stderr.trim()}`);
    } finally {
        fs.rmSync(path.dirname(sqlFile), { recursive: true, force: true });
    }
    const counts: Record<string, number> = {};
    for (const t of tables) {
        const q = await run(tool(c, "psql"), [...connArgs(c), "-d", dbnameArg(c.database), "-X", "-A", "-t", "-c", `SELECT count(*) FROM ${t}${where}`], { env: ctx.env });
        counts[t] = Number(q.stdout.trim());
        const want = expected[bareName(t)] ?? 0;
        if (q.code !== 0 || counts[t] !== want) throw new StepFailure(`after the restore ${t} has ${q.stdout.trim() || "?"} rows${where ? " of the environment" : ""}, the backup ${want}`);
    }
    ctx.log(`restored ${tables.map(t => `${t} (${counts[t]} rows)`).join(", ")}${environment ? ` of environment ${environment}` : ""} from ${file}`);
    return { restored: tables, rows: counts, file, ...(environment ? { environment } : {}) };
}
