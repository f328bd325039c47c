import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import {
    SavedResources, SURVIVAL_PHASES, SurvivalCheck, SurvivalContext, SurvivalPhase, UpgradeSide,
} from "../../../components/openstack/survival";
import { isString, param, StepContext, StepFailure } from "../context";
import { exec, lastLines } from "./exec";
import { readStore, writeGrenadeDir } from "./grenade";

const SIDES = ["pre-upgrade", "post-upgrade"];

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

/**
 * One phase of a resource survival check. A generated GRENADE_DIR holds grenaderc, functions and the
 * values saved so far (this step's `saved` input, i.e. the previous phase's output); the project's
 * resources.sh runs unchanged with grenade's arguments and environment (or the native check is
 * called); the result's `saved` is everything saved after the phase, for the next one.
 */
export async function survival(ctx: StepContext): Promise<Record<string, unknown>> {
    const project = param(ctx, "project", isString, "a project name");
    const phase = param(ctx, "phase", (v): v is SurvivalPhase => SURVIVAL_PHASES.includes(v as SurvivalPhase), `one of ${SURVIVAL_PHASES.join(", ")}`);
    const when = ctx.params.when as UpgradeSide | undefined;
    if ((phase === "verify" || phase === "verify_noapi") && !SIDES.includes(when as string)) {
        throw new StepFailure(`step ${ctx.id}: ${phase} needs "when": pre-upgrade or post-upgrade`);
    }
    const topDir = path.resolve(param(ctx, "topDir", isString, "the base devstack folder (TOP_DIR)"));
    const saved = (ctx.params.saved ?? {}) as SavedResources;
    const releases = (ctx.params.releases ?? {}) as { base?: string; target?: string };
    const extraEnv = (ctx.params.env ?? {}) as Record<string, string>;

    const grenadeDir = fs.mkdtempSync(path.join(os.tmpdir(), `grenade-${project}-`));
    try {
        writeGrenadeDir(grenadeDir, saved);
        const env: Record<string, string> = {
            ...extraEnv, TOP_DIR: topDir, GRENADE_DIR: grenadeDir, SAVE_DIR: path.join(grenadeDir, "save"),
            BASE_RELEASE: releases.base ?? "", TARGET_RELEASE: releases.target ?? "",
        };
        const call = [phase, ...(when ? [when] : [])];
        if (isString(ctx.params.script)) {
            const script = path.resolve(ctx.params.script);
            if (!fs.existsSync(script)) throw new StepFailure(`${project}: no resources script ${script}`);
            ctx.log(`${project}: resources.sh ${call.join(" ")}`);
            const r = await exec("/bin/bash", [script, ...call], { env: { ...ctx.env, ...env }, cwd: process.cwd(), log: ctx.log, prefix: `${project}: ` });
            if (r.code !== 0) {
                throw new StepFailure(`${project}: resources.sh ${call.join(" ")} failed (exit ${r.code}): ${lastLines(r.stderr || r.stdout, 8)}`);
            }
        } else if (isString(ctx.params.module)) {
            const check = loadCheck(ctx.params.module);
            const store = readStore(grenadeDir);
            const sctx: SurvivalContext = {
                project, when, env,
                save: (key, value, p = project) => { (store[p] ??= {})[key] = String(value); },
                get: (key, p = project) => store[p]?.[key],
                log: line => ctx.log(`${project}: ${line}`),
            };
            ctx.log(`${project}: native check ${call.join(" ")}`);
            try {
                await runNative(check, phase, sctx);
            } catch (err) {
                throw new StepFailure(`${project}: ${call.join(" ")} failed: ${(err as Error).message}`);
            }
            return { project, phase, ...(when ? { when } : {}), saved: store };
        } else {
            throw new StepFailure(`step ${ctx.id}: give "script" (a grenade resources.sh) or "module" (a native check)`);
        }
        const after = readStore(grenadeDir);
        ctx.log(`${project}: ${Object.values(after).reduce((n, v) => n + Object.keys(v).length, 0)} saved value(s) handed to the next phase`);
        return { project, phase, ...(when ? { when } : {}), saved: after };
    } finally {
        fs.rmSync(grenadeDir, { recursive: true, force: true });
    }
}
