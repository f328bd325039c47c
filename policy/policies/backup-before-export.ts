import type { StackValidationPolicy } from "@pulumi/policy";
import { readConfig, stringList } from "../config";
import { buildGraph, list, param, show } from "../graph";

export interface BackupConfig {
    /** Tables a backup must hold unless it is a full dump. */
    requiredTables: string[];
}

export const BACKUP_DEFAULTS: BackupConfig = { requiredTables: ["lsm_serviceentity", "lsm_serviceinstance"] };

/**
 * The non-strict exporter (an `export` step whose `strict` param is not true) may rewrite the service
 * inventory irreversibly, so it waits for a `db-backup` step (which verifies its dump before it
 * succeeds) holding the inventory tables, or a full dump.
 */
export const backupBeforeNonStrictExport: StackValidationPolicy = {
    name: "backup-before-non-strict-export",
    description: "A non-strict export (export step with strict=false) depends on a verified database backup (a db-backup step).",
    enforcementLevel: "mandatory",
    configSchema: {
        properties: {
            requiredTables: stringList("Tables the backup must hold unless it is a full dump.", BACKUP_DEFAULTS.requiredTables),
        },
    },
    validateStack: (args, report) => {
        const cfg = readConfig(args, BACKUP_DEFAULTS);
        const g = buildGraph(args.resources);
        const upgradeExports = g.ofKind("export").filter(s => param(s, "strict") !== true);
        if (upgradeExports.length === 0) args.notApplicable("the stack has no non-strict export");
        for (const e of upgradeExports) {
            const how = param(e, "strict") === false ? "uses the non-strict exporter" : `has strict = ${show(param(e, "strict"))}`;
            const backups = [...g.ancestors(e.id)].map(id => g.get(id)!).filter(s => s.kind === "db-backup");
            if (backups.length === 0) {
                report(`Export step \`${e.id}\` ${how} (plugin ${show(param(e, "plugin"))}) but does not depend on a verified `
                    + `database backup: add a \`db-backup\` step before it.`, e.urn);
                continue;
            }
            const covers = backups.some(b => {
                if (param(b, "full") === true) return true;
                const tables = param(b, "tables");
                return Array.isArray(tables) && cfg.requiredTables.every(t => tables.includes(t));
            });
            if (!covers) {
                report(`Export step \`${e.id}\` ${how}, but its backup ${list(backups.map(b => b.id))} holds neither the whole `
                    + `database nor all of ${cfg.requiredTables.join(", ")}.`, e.urn);
            }
        }
    },
};
