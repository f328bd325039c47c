import * as fs from "fs";
import * as path from "path";
import { parse } from "yaml";
import { isString, param, StepContext, StepFailure } from "./context";

interface ProjectYml {
    install_mode?: string;
    requires?: string[] | Record<string, string>;
    pip?: { pre?: boolean | null };
}

function readProject(dir: string): ProjectYml {
    const file = path.join(dir, "project.yml");
    if (!fs.existsSync(file)) throw new StepFailure(`${file} does not exist: is the project checked out there?`);
    return (parse(fs.readFileSync(file, "utf8")) ?? {}) as ProjectYml;
}

/** Module requirements from project.yml (v1) and requirements.txt (v2, inmanta-module-*). */
export function moduleRequirements(dir: string, project: ProjectYml): { module: string; spec: string; source: string }[] {
    const out: { module: string; spec: string; source: string }[] = [];
    const requires = Array.isArray(project.requires) ? project.requires : Object.values(project.requires ?? {});
    for (const r of requires) {
        const m = /^\s*([A-Za-z0-9_.-]+)\s*(.*)$/.exec(String(r));
        if (m) out.push({ module: m[1], spec: m[2].trim(), source: "project.yml" });
    }
    const reqFile = path.join(dir, "requirements.txt");
    if (fs.existsSync(reqFile)) {
        for (const line of fs.readFileSync(reqFile, "utf8").split("\n")) {
            const m = /^\s*inmanta-module-([A-Za-z0-9_.-]+)\s*([^#;]*)/.exec(line);
            if (m) out.push({ module: m[1].replace(/-/g, "_"), spec: m[2].trim(), source: "requirements.txt" });
        }
    }
    return out;
}

export async function projectCheck(ctx: StepContext): Promise<Record<string, unknown>> {
    const dir = param(ctx, "projectDir", isString, "a folder");
    const check = param(ctx, "check", isString, "install-mode or frozen");
    const project = readProject(dir);
    if (check === "install-mode") {
        const problems: string[] = [];
        if (project.install_mode !== undefined && project.install_mode !== "release") {
            problems.push(`install_mode is "${project.install_mode}", it must be "release"`);
        }
        if (project.pip?.pre !== undefined && project.pip?.pre !== null) problems.push(`pip.pre is set (${project.pip.pre}), it must not be`);
        if (problems.length) throw new StepFailure(`${path.join(dir, "project.yml")}: ${problems.join("; ")}`);
        ctx.log(`install_mode is ${project.install_mode ?? "release (default)"}, pip.pre not set`);
        return { installMode: project.install_mode ?? "release" };
    }
    if (check === "frozen") {
        const reqs = moduleRequirements(dir, project);
        const expected = (ctx.params.expectedModules ?? {}) as Record<string, string>;
        const problems: string[] = [];
        const frozen: Record<string, string> = {};
        for (const r of reqs) {
            const m = /^==\s*([^\s,]+)$/.exec(r.spec);
            if (!m) problems.push(`${r.module} (${r.source}) is not frozen: "${r.spec || "any version"}"`);
            else frozen[r.module] = m[1];
        }
        for (const [module, version] of Object.entries(expected)) {
            if (!(module in frozen)) problems.push(`${module} is expected at ${version} but is not frozen`);
            else if (frozen[module] !== version) problems.push(`${module} is frozen to ${frozen[module]}, expected ${version}`);
        }
        if (problems.length) throw new StepFailure(`modules not frozen as expected:\n  ${problems.join("\n  ")}`);
        ctx.log(`all ${reqs.length} module requirement(s) are frozen: ${Object.entries(frozen).map(([m, v]) => `${m}==${v}`).join(", ")}`);
        return { frozen };
    }
    throw new StepFailure(`unknown project check "${check}"`);
}
