import * as fs from "fs";
import * as path from "path";
import {
    SavedResources, SURVIVAL_PHASES, SurvivalCheck, SurvivalContext, SurvivalPhase, UpgradeSide,
} from "../../../components/openstack/survival";
import { isBoolean, isString, param, StepContext, StepFailure } from "../context";
import { exec, lastLines } from "./exec";
import { layout, PluginRef, readDb, StackLayout, writeDb, writeGrenadeDir } from "./grenade";

const SIDES = ["pre-upgrade", "post-upgrade"];
const ACTIONS = ["resources", "shutdown", "upgrade"] as const;
type Action = (typeof ACTIONS)[number];

function loadCheck(module: string): SurvivalCheck {
    const file = path.resolve(module);
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    const mod = require(file) as { default?: SurvivalCheck; check?: SurvivalCheck };
    const check = mod.default ?? mod.check;
    if (!check || typeof check.create !== "function" || typeof check.verify !== "function" ||
        typeof check.verifyNoapi !== "function" || typeof check.destroy !== "function") {
        throw new StepFailure(`${module} does not export a SurvivalCheck (default or \`check\`: create, verify, verifyNoapi, destroy)`);
    }
    return check;
}

async function runNative(check: SurvivalCheck, phase: SurvivalPhase, ctx: SurvivalContext): Promise<void> {
    switch (phase) {
        case "early_create": return void (await check.earlyCreate?.(ctx));
        case "create": return void (await check.create(ctx));
        case "verify": return void (await check.verify(ctx, ctx.when!));
        case "verify_noapi": return void (await check.verifyNoapi(ctx, ctx.when!));
        case "destroy": return void (await check.destroy(ctx));
    }
}

/** What the plugins' settings registered, as run-phase reports it. */
function readReport(file: string): Record<string, unknown> {
    if (!fs.existsSync(file)) return {};
    const lines = fs.readFileSync(file, "utf8").split("\n");
    const one = (k: string) => lines.find(l => l.startsWith(`${k}=`))?.slice(k.length + 1) ?? "";
    const many = (k: string) => lines.filter(l => l.startsWith(`${k}=`)).map(l => l.slice(k.length + 1));
    return {
        upgradeProjects: one("UPGRADE_PROJECTS").split(" ").filter(Boolean),
        databasesToSave: one("DATABASES_TO_SAVE").split(" ").filter(Boolean),
        enabledServices: one("ENABLED_SERVICES"),
        localrc: { base: many("LOCALRC_BASE"), target: many("LOCALRC_TARGET") },
    };
}

function savedFiles(l: StackLayout): string[] {
    return fs.existsSync(l.saveDir) ? fs.readdirSync(l.saveDir).filter(f => !f.startsWith("grenade_db.ini")).sort() : [];
}

/**
 * One project's part of a grenade phase, as grenade.sh runs it: `resources.sh <phase> [side]` (TOP_DIR the
 * base devstack, LOGDIR set), `shutdown.sh` or `upgrade.sh` (TOP_DIR the target devstack), after the
 * plugins' settings are loaded. STACK_ROOT (with SAVE_DIR and its files) stays between phases; the save
 * database is restored from the `saved` input (blanked by the first phase, as init_grenade_db does) and
 * its content after the phase is the `saved` output.
 */
export async function survival(ctx: StepContext): Promise<Record<string, unknown>> {
    const project = param(ctx, "project", isString, "a project name");
    const action = (ctx.params.action ?? "resources") as Action;
    if (!ACTIONS.includes(action)) throw new StepFailure(`step ${ctx.id}: "action" must be one of ${ACTIONS.join(", ")}`);
    const phase = action === "resources"
        ? param(ctx, "phase", (v): v is SurvivalPhase => SURVIVAL_PHASES.includes(v as SurvivalPhase), `one of ${SURVIVAL_PHASES.join(", ")}`)
        : undefined;
    const when = ctx.params.when as UpgradeSide | undefined;
    if ((phase === "verify" || phase === "verify_noapi") && !SIDES.includes(when as string)) {
        throw new StepFailure(`step ${ctx.id}: ${phase} needs "when": pre-upgrade or post-upgrade`);
    }
    const baseDevstack = path.resolve(param(ctx, "topDir", isString, "the base devstack folder (TOP_DIR)"));
    const targetDevstack = isString(ctx.params.targetDir) ? path.resolve(ctx.params.targetDir) : baseDevstack;
    const l = layout(param(ctx, "stackRoot", isString, "a folder (STACK_ROOT)"));
    const init = isBoolean(ctx.params.init) && ctx.params.init;
    const saved = (ctx.params.saved ?? {}) as SavedResources;
    const releases = (ctx.params.releases ?? {}) as { base?: string; target?: string };
    const extraEnv = (ctx.params.env ?? {}) as Record<string, string>;
    const plugins = (ctx.params.plugins ?? []) as PluginRef[];

    writeGrenadeDir(l, plugins);
    writeDb(l, init ? {} : saved);
    const env: Record<string, string> = {
        ...extraEnv, GRENADE_DIR: l.grenadeDir, STACK_ROOT: l.stackRoot, LOGDIR: l.logDir,
        BASE_RELEASE: releases.base ?? "old", TARGET_RELEASE: releases.target ?? "new",
        BASE_DEVSTACK_DIR: baseDevstack, TARGET_DEVSTACK_DIR: targetDevstack, TOP_DIR: targetDevstack,
    };
    const call = action === "resources" ? [phase!, ...(when ? [when] : [])] : [];
    const what = action === "resources" ? `resources.sh ${call.join(" ")}` : `${action}.sh`;
    let report: Record<string, unknown> = {};

    if (isString(ctx.params.module)) {
        if (action !== "resources") throw new StepFailure(`${project}: a native check has no ${action}.sh`);
        const check = loadCheck(ctx.params.module);
        const store = readDb(l);
        const sctx: SurvivalContext = {
            project, when, env: { ...env, TOP_DIR: baseDevstack, SAVE_DIR: l.saveDir },
            save: (key, value, p = project) => { (store[p] ??= {})[key] = String(value); },
            get: (key, p = project) => store[p]?.[key] || undefined,
            log: line => ctx.log(`${project}: ${line}`),
        };
        ctx.log(`${project}: native check ${call.join(" ")}`);
        try {
            await runNative(check, phase!, sctx);
        } catch (err) {
            throw new StepFailure(`${project}: ${call.join(" ")} failed: ${(err as Error).message}`);
        }
        writeDb(l, store);
    } else {
        const reportFile = path.join(l.grenadeDir, `report-${process.pid}`);
        ctx.log(`${project}: ${what} (STACK_ROOT ${l.stackRoot})`);
        const r = await exec("/bin/bash", [path.join(l.grenadeDir, "run-phase"), project, action, ...call],
            { env: { ...ctx.env, ...env, GRENADE_REPORT: reportFile }, cwd: process.cwd(), log: ctx.log, prefix: `${project}: ` });
        report = readReport(reportFile);
        fs.rmSync(reportFile, { force: true });
        if (r.code !== 0) {
            throw new StepFailure(`${project}: ${what} failed (exit ${r.code}): ${lastLines(r.stderr || r.stdout, 8)}`);
        }
    }
    const after = readDb(l);
    const count = Object.values(after).reduce((n, v) => n + Object.keys(v).length, 0);
    ctx.log(`${project}: ${count} saved value(s) in ${l.db} handed to the next phase`);
    return {
        project, action, ...(phase ? { phase } : {}), ...(when ? { when } : {}),
        saved: after, saveDir: l.saveDir, savedFiles: savedFiles(l), ...report,
    };
}
