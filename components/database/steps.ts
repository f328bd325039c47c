import * as pulumi from "@pulumi/pulumi";
import { StepDef } from "../core";

/** How the step runner reaches PostgreSQL with pg_dump/pg_restore/psql. */
export interface DatabaseArgs {
    host: string;
    port: number;
    name: string;
    user: string;
    /** A Pulumi secret; handed over as PGPASSWORD, never on a command line. */
    password?: pulumi.Input<string>;
    binDir?: string;
}

function environment(db: DatabaseArgs): Record<string, pulumi.Input<string>> {
    const env: Record<string, pulumi.Input<string>> = {};
    if (db.password !== undefined) env.PGPASSWORD = pulumi.secret(db.password);
    return env;
}

function connection(db: DatabaseArgs) {
    return { host: db.host, port: db.port, database: db.name, user: db.user, ...(db.binDir ? { binDir: db.binDir } : {}) };
}

/**
 * Dump the named tables (or the whole database), then verify the dump with `pg_restore --list`
 * before the step succeeds. The result holds `path`, `size` and `sha256`.
 */
export function backup(db: DatabaseArgs, args: { tables: string[]; full: boolean; dir: string; label: string }): StepDef {
    const what = args.full ? "the whole database" : args.tables.join(", ");
    return {
        kind: "db-backup",
        title: `Back up the database (${what}) and verify the dump`,
        params: { ...connection(db), tables: args.tables, full: args.full, dir: args.dir, label: args.label },
        runner: { environment: environment(db) },
    };
}

/**
 * Verify a dump (checksum and `pg_restore --list`), then restore the tables from it in one transaction.
 * With `environment`, only that environment's rows are replaced: the other environments' rows stay as they are.
 */
export function restore(db: DatabaseArgs, args: { tables: string[]; file: pulumi.Input<string>; sha256?: pulumi.Input<string>; environment?: string }): StepDef {
    return {
        kind: "db-restore",
        title: `Restore the database tables ${args.tables.join(", ")} from the backup${args.environment ? " (the rows of this environment)" : ""}`,
        params: {
            ...connection(db), tables: args.tables, file: args.file,
            ...(args.sha256 ? { sha256: args.sha256 } : {}), ...(args.environment ? { environment: args.environment } : {}),
        },
        runner: { environment: environment(db) },
    };
}
