import { z } from "zod";
import { KNOWN_SETTINGS, RunbookConfig, SECRET_KEYS } from "./schema";
import { openstackProblems } from "./openstack";
import { urlProblem } from "../inmanta/client/url-safety";

type Problem = { path: (string | number)[]; message: string };

const LSM_PROCEDURES = new Set(["lsm-upgrade", "lsm-install", "lsm-abort"]);
/** Procedures that drive an Inmanta orchestrator (and so need `orchestrator`). */
const INMANTA_PROCEDURES = new Set(["lsm-upgrade", "upgrade", "lsm-install", "install", "careful-deploy", "lsm-abort", "abort"]);

/** Rules that span several keys; each problem carries the path a user must fix. */
export function crossCheck(c: RunbookConfig, secretKeys: Set<string>, present: Set<string>): Problem[] {
    const problems: Problem[] = [];
    const need = (cond: unknown, path: (string | number)[], message: string) => {
        if (!cond) problems.push({ path, message });
    };
    const p = c.procedure;

    for (const key of SECRET_KEYS) {
        if (present.has(key) && !secretKeys.has(key)) {
            problems.push({ path: [key], message: `must be a secret: pulumi config set --secret ${key} <value>` });
        }
    }
    if (INMANTA_PROCEDURES.has(p)) need(c.orchestrator, ["orchestrator"], `is required by procedure ${p}`);
    const agents = c.orchestrator?.agents;
    if (Array.isArray(agents)) {
        const seen = new Set<string>();
        agents.forEach((a, i) => {
            if (seen.has(a)) problems.push({ path: ["orchestrator", "agents", i], message: `agent "${a}" is listed twice` });
            seen.add(a);
        });
    }
    if (present.has("inmantaToken") && typeof c.orchestrator?.url === "string") {
        const problem = urlProblem(c.orchestrator.url, { token: true });
        if (problem) problems.push({ path: ["orchestrator", "url"], message: problem });
    }
    if (c.inmantaCaCert && c.orchestrator && !c.orchestrator.url.startsWith("https:")) {
        problems.push({ path: ["orchestrator", "url"], message: "must be https when inmantaCaCert is set" });
    }

    if (LSM_PROCEDURES.has(p)) need(c.lsm, ["lsm"], `is required by procedure ${p} (entryPoint, instanceUpdatesExpected)`);
    if (p === "lsm-upgrade") need(c.northbound, ["northbound"], "is required by procedure lsm-upgrade: the north-bound API is blocked during the upgrade");
    if (c.lsm && c.lsm.instanceUpdatesExpected && c.lsm.backup === false) {
        problems.push({ path: ["lsm", "backup"], message: "cannot be false when lsm.instanceUpdatesExpected is true: the non-strict exporter runs only after a verified backup" });
    }
    if (p === "lsm-install" && c.lsm?.instanceUpdatesExpected) {
        problems.push({ path: ["lsm", "instanceUpdatesExpected"], message: "must be false for a first deployment: there are no instances to update yet" });
    }
    const backupWanted = p === "lsm-upgrade" && c.lsm && (c.lsm.backup ?? c.lsm.instanceUpdatesExpected);
    if (backupWanted) need(c.database, ["database"], "is required: the upgrade backs up the inventory tables");

    if (p === "lsm-abort" || p === "abort") {
        const a = c.abort;
        if (a?.restoreTables) {
            if (p !== "lsm-abort") problems.push({ path: ["abort", "restoreTables"], message: "applies to lsm-abort only (the LSM inventory tables)" });
            need(a.backupFile, ["abort", "backupFile"], "is required when abort.restoreTables is true");
            need(a.backupSha256, ["abort", "backupSha256"],
                "is required when abort.restoreTables is true: the dump is checked against it before anything is restored (the backup step's sha256)");
            need(c.database, ["database"], "is required when abort.restoreTables is true");
        }
    } else if (c.abort) {
        problems.push({ path: ["abort"], message: `is only read by the abort procedures, not by ${p}` });
    }

    if (p === "careful-deploy") {
        need(c.careful, ["careful"], "is required by procedure careful-deploy (internalAgent, agents)");
        if (c.careful) {
            const seen = new Set<string>();
            c.careful.agents.forEach((a, i) => {
                if (seen.has(a)) problems.push({ path: ["careful", "agents", i], message: `agent "${a}" is listed twice` });
                seen.add(a);
                if (a === c.careful!.internalAgent) problems.push({ path: ["careful", "agents", i], message: `"${a}" is the internal agent, deployed before the others` });
            });
            const known = c.orchestrator?.agents;
            if (known) {
                if (!known.includes(c.careful.internalAgent)) {
                    problems.push({ path: ["careful", "internalAgent"], message: `unknown agent "${c.careful.internalAgent}" (orchestrator.agents: ${known.join(", ")})` });
                }
                c.careful.agents.forEach((a, i) => {
                    if (!known.includes(a)) problems.push({ path: ["careful", "agents", i], message: `unknown agent "${a}" (orchestrator.agents: ${known.join(", ")})` });
                });
            }
        }
    }

    if (c.install) {
        for (const [name, value] of Object.entries(c.install.expectedSettings)) {
            const type = KNOWN_SETTINGS[name];
            if (type && !type.safeParse(value).success) {
                problems.push({ path: ["install", "expectedSettings", name], message: `has the wrong type for setting ${name} (got ${JSON.stringify(value)})` });
            }
        }
    }
    if (p === "release") need(c.release, ["release"], "is required by procedure release (projectDir)");
    if (p === "lsst-site-upgrade") need(c.lsst, ["lsst"], "is required by procedure lsst-site-upgrade (site, systems, csc, mainDaemon, kubernetes, gates, slack)");
    else if (c.lsst) problems.push({ path: ["lsst"], message: `is only read by procedure lsst-site-upgrade, not by ${p}` });
    if (p === "spinalstack-upgrade") problems.push(...openstackProblems(c.openstack));
    else if (c.openstack) problems.push({ path: ["openstack"], message: `is only read by procedure spinalstack-upgrade, not by ${p}` });
    return problems;
}

export function zodProblems(error: z.ZodError): Problem[] {
    const problems: Problem[] = [];
    for (const issue of error.issues) {
        if (issue.code === "unrecognized_keys") {
            for (const key of issue.keys) problems.push({ path: [...issue.path, key] as (string | number)[], message: "is not a known setting (misspelt?)" });
        } else {
            problems.push({ path: issue.path as (string | number)[], message: issue.message });
        }
    }
    return problems;
}
