import { z } from "zod";
import { sshHost } from "./patterns";

/**
 * The `upgrade:lsst` section: an LSST site upgrade ("Deploying the Upgrade"), one stack per site.
 * Commands are shell lines run on the deployment host (the machine that runs `pulumi up`, where
 * kubectl is configured); a bare-metal action reaches its machine itself, e.g. `ssh {host} ./launch_daemon`.
 * Placeholders filled in by the program: {host} (the service's machine), {kubectl} (lsst.kubectl),
 * and for CSC commands {csc} (ScriptQueue:1), {name} (ScriptQueue), {index} (1, or 0) and {state}.
 */

export const LSST_SITES = ["summit", "tts"] as const;
export type LsstSite = (typeof LSST_SITES)[number];

/** The summary states of a CSC. */
export const SUMMARY_STATES = ["OFFLINE", "STANDBY", "DISABLED", "ENABLED", "FAULT"] as const;

/**
 * The steps the seed marks for one site only, and where they apply. A stack may override them in
 * `lsst.variations`; the example stacks spell them out.
 */
export const SITE_VARIATIONS: Record<LsstSite, LsstVariations> = {
    // 2. "Not all CSCs report OFFLINE ... Check for heartbeats to be sure. (Summit)"
    // 4.1 "Get number of currently running daemons ... from main OSPL daemon (TTS)"
    // 4.5 "Execute the following (TTS): ./cleanup_love"
    summit: { heartbeatCheck: true, federationsWatch: false, cleanupLove: false },
    tts: { heartbeatCheck: false, federationsWatch: true, cleanupLove: true },
};

export interface LsstVariations {
    /** Systems that stop at STANDBY are confirmed down by their heartbeats (Summit). */
    heartbeatCheck: boolean;
    /** The main daemon's federations count must go down after the DM/Camera daemons are cleaned up (TTS). */
    federationsWatch: boolean;
    /** `./cleanup_love` after the Kubernetes cleanup (TTS). */
    cleanupLove: boolean;
}

const CSC_NAME = /^[A-Za-z][A-Za-z0-9_]*(:\d+)?$/;
const APP_NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const SERVICE = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;

const nonEmpty = z.string().trim().min(1, "must not be empty");
const seconds = z.number().int().positive();

function compiles(s: string): boolean {
    try {
        new RegExp(s);
        return true;
    } catch {
        return false;
    }
}
/** Number of capture groups of a regular expression. */
export function captureGroups(s: string): number {
    return new RegExp(`${s}|`).exec("")!.length - 1;
}
const regex = nonEmpty.refine(compiles, "must be a regular expression");
const countRegex = regex.refine(s => !compiles(s) || captureGroups(s) >= 1, "must capture the number in a group, e.g. federations\\D*(\\d+)");

const cscName = z.string().regex(CSC_NAME, "must be a CSC name, optionally with an index (ATDome, ScriptQueue:1)");
const appName = z.string().regex(APP_NAME, "must be an Argo CD application name (lower case letters, digits, -)");

export const lsstSystemSchema = z.strictObject({
    name: cscName,
    /** DDS domain of the system; only the production domain is touched. */
    domainId: z.number().int().nonnegative(),
    /** The last state the system reports when it goes down: most report OFFLINE, some stop at STANDBY. */
    stopsAt: z.enum(["OFFLINE", "STANDBY"]).default("OFFLINE"),
});

/** An Argo CD application; `children: true` for an "app of apps" whose child applications are synced too. */
const appSchema = z.union([
    appName.transform(app => ({ app, children: false })),
    z.strictObject({ app: appName, children: z.boolean().default(false) }),
]);
const app = (name: string, children = false) => ({ app: name, children });

const gateTimes = {
    timeoutSeconds: seconds.default(900),
    /** Log a warning when the gate is still closed after this long. */
    warnAfterSeconds: seconds.optional(),
};

/** What a gate waits for (the kubectl of a Kubernetes probe is lsst.kubectl). */
export const lsstGateSchema = z.discriminatedUnion("type", [
    /** A command exits with this status. */
    z.strictObject({ type: z.literal("exit"), command: nonEmpty, exitCode: z.number().int().default(0), ...gateTimes }),
    /** A command's output has a line matching `pattern` (among its last `tail` lines, when given). */
    z.strictObject({ type: z.literal("log"), command: nonEmpty, pattern: regex, tail: z.number().int().positive().optional(), ...gateTimes }),
    /** Every matching Kubernetes object has `field` (a dotted path) equal to `equals`, or condition `condition` True. */
    z.strictObject({
        type: z.literal("k8s"), resource: nonEmpty, namespace: nonEmpty, selector: nonEmpty.optional(),
        field: nonEmpty.optional(), condition: nonEmpty.optional(), equals: nonEmpty.optional(), ...gateTimes,
    }),
    /** The log of every pod matching `selector` has a line matching `pattern` (among its last `tail` lines). */
    z.strictObject({
        type: z.literal("k8s-logs"), namespace: nonEmpty, selector: nonEmpty, pattern: regex,
        tail: z.number().int().positive().optional(), ...gateTimes,
    }),
]);

export const lsstServiceSchema = z.strictObject({
    /** The machine the service runs on ({host} in the commands). */
    host: sshHost,
    service: z.string().regex(SERVICE, "must be a service name (letters, digits, _ . -)"),
    start: nonEmpty,
    stop: nonEmpty,
});

const hostCommand = z.strictObject({ host: sshHost, command: nonEmpty });

export const lsstSchema = z.strictObject({
    site: z.enum(LSST_SITES, { error: `must be one of ${LSST_SITES.join(", ")}` }),
    /** Only systems of this DDS domain are touched ("the production domain (domainId = 0)"). */
    productionDomainId: z.number().int().nonnegative().default(0),
    /** The seed's site-specific steps; unset ones follow the site (SITE_VARIATIONS). */
    variations: z.strictObject({
        heartbeatCheck: z.boolean().optional(),
        federationsWatch: z.boolean().optional(),
        cleanupLove: z.boolean().optional(),
    }).default({}),
    /** kubectl command line prefix, e.g. `kubectl --context tts` ({kubectl} in commands). */
    kubectl: nonEmpty.default("kubectl"),
    systems: z.array(lsstSystemSchema).min(1, "must list the site's systems"),
    csc: z.strictObject({
        /** Sends one CSC to a state (LOVE or Nublado as fall back): {csc} {name} {index} {state}. */
        stateCommand: nonEmpty,
        /** Prints the CSC's current summary state. */
        stateProbe: nonEmpty,
        /** Prints the number of heartbeats of the CSC seen recently; 0 means it is down. */
        heartbeatProbe: z.strictObject({ command: nonEmpty, pattern: countRegex.default("(\\d+)") }).optional(),
        timeoutSeconds: seconds.default(300),
    }),
    /** The main OSPL daemon on bare metal. */
    mainDaemon: z.strictObject({
        host: sshHost,
        start: nonEmpty,
        stop: nonEmpty,
        /** Its log, which says "daemon ready" once started (read from the deployment host). */
        logs: nonEmpty.default("ssh {host} docker logs ospl-daemon"),
        readyPattern: regex.default("daemon ready"),
        readyTimeoutSeconds: seconds.default(600),
        /** Prints the durability log lines with the number of connected daemons ("federations"). */
        federations: nonEmpty.default("ssh {host} docker exec ospl-daemon grep federations durability.log"),
        federationsPattern: countRegex.default("federations\\D*(\\d+)"),
        /** "give the daemon some time (30 seconds to 2 minutes) before getting worried" */
        patience: z.strictObject({ warnSeconds: seconds.default(30), timeoutSeconds: seconds.default(120) })
            .default({ warnSeconds: 30, timeoutSeconds: 120 }),
    }),
    /** CSCs and daemons on the DM and Camera machines (worked out with the system principals). */
    daemonCleanup: z.array(hostCommand).default([]),
    bareMetal: z.strictObject({
        /** LOVE and its daemon, stopped before and started after the minimal Kubernetes system. */
        love: z.array(lsstServiceSchema).default([]),
        /** The other bare-metal deployments, stopped in the shutdown and started last. */
        services: z.array(lsstServiceSchema).default([]),
    }).default({ love: [], services: [] }),
    kubernetes: z.strictObject({
        /** k8s-admin's cleanup, OSPL daemons included: `cd ~/k8s-admin && ./cleanup_all -d`. */
        cleanup: nonEmpty,
        /** k8s-admin's `./cleanup_love` (the cleanupLove variation). */
        cleanupLove: nonEmpty.optional(),
        /** Nublado user namespaces. */
        nubladoCleanup: nonEmpty.default("{kubectl} delete ns -l argocd.argoproj.io/instance=nublado-users"),
    }),
    nublado: z.strictObject({
        app: appName.default("cachemachine"),
        namespace: nonEmpty.default("cachemachine"),
        selector: nonEmpty.default("app=cachemachine"),
        timeoutSeconds: seconds.default(1800),
        /** The pull is complete (optional gate). */
        pulled: lsstGateSchema.optional(),
    }).default({ app: "cachemachine", namespace: "cachemachine", selector: "app=cachemachine", timeoutSeconds: 1800 }),
    argocd: z.strictObject({
        namespace: nonEmpty.default("argocd"),
        /** The label that ties resources and child applications to their application. */
        instanceLabel: nonEmpty.default("argocd.argoproj.io/instance"),
        /** Longest wait for one application (and its children) to be Synced and Healthy. */
        timeoutSeconds: seconds.default(1800),
        revision: nonEmpty.optional(),
        prune: z.boolean().default(false),
        /** The first wave, synced one after the other (sync_apps.py: csc-cluster-config, ospl-config, ospl-daemon). */
        minimal: z.array(appSchema).min(1).default([app("csc-cluster-config"), app("ospl-config"), app("ospl-daemon")]),
        producers: z.array(appSchema).min(1).default([app("kafka-producers")]),
        obssys: z.array(appSchema).min(1).default([app("obssys", true)]),
        /** The rest, in parallel (LOVE is left out where it runs on bare metal: `--no-sync=love`). */
        rest: z.array(appSchema).default([app("ocps"), app("auxtel", true), app("eas", true), app("maintel", true)]),
    }).default({
        namespace: "argocd", instanceLabel: "argocd.argoproj.io/instance", timeoutSeconds: 1800, prune: false,
        minimal: [app("csc-cluster-config"), app("ospl-config"), app("ospl-daemon")], producers: [app("kafka-producers")],
        obssys: [app("obssys", true)], rest: [app("ocps"), app("auxtel", true), app("eas", true), app("maintel", true)],
    }),
    gates: z.strictObject({
        /** After ospl-daemon: "Check the logs ... to see if daemons are ready." */
        daemonsReady: lsstGateSchema,
        /** After kafka-producers: "Check that all the logs say Running at the bottom." */
        producersRunning: lsstGateSchema,
        /** After obssys: "verify that the containers are pulling and running." */
        obssysRunning: lsstGateSchema,
    }),
    configUpdate: z.strictObject({
        /** Configuration pull requests merged in order (cachemachine, the Argo CD branch). */
        pullRequests: z.array(z.strictObject({
            name: z.string().regex(SERVICE, "must be a name (letters, digits, _ . -)"),
            merge: nonEmpty,
            /** Checked before the merge, e.g. the review decision is APPROVED. */
            approved: z.strictObject({ command: nonEmpty, pattern: regex.default("^APPROVED$"), timeoutSeconds: seconds.default(60) }).optional(),
        })).default([]),
        /** Configuration checkouts on the bare-metal machines (T&S systems only). */
        checkouts: z.array(hostCommand).default([]),
    }).default({ pullRequests: [], checkouts: [] }),
    monitor: z.strictObject({
        /** "in a reasonable (~30 minutes) amount of time" */
        timeoutSeconds: seconds.default(1800),
        /** At the timeout: report the stragglers (the seed) or fail the update. */
        onTimeout: z.enum(["report", "fail"]).default("report"),
    }).default({ timeoutSeconds: 1800, onTimeout: "report" }),
    /** Systems this site puts into ENABLED at the end. */
    enable: z.array(cscName).default([]),
    slack: z.strictObject({
        channel: z.string().regex(/^#[a-z0-9][a-z0-9._-]*$/, "must be a Slack channel such as #summit-ops"),
        /** Tell people they can use Nublado again (not when integration testing follows). */
        announceNublado: z.boolean().default(true),
    }),
}).superRefine((c, ctx) => {
    const issue = (path: (string | number)[], message: string) => ctx.addIssue({ code: "custom", path, message });
    const v = lsstVariations(c);
    const seen = new Map<string, number>();
    c.systems.forEach((s, i) => {
        const key = systemSlug(s.name);
        if (seen.has(key)) issue(["systems", i, "name"], `"${s.name}" is listed twice (or names the same step as systems[${seen.get(key)}])`);
        else seen.set(key, i);
    });
    const production = c.systems.filter(s => s.domainId === c.productionDomainId);
    if (production.length === 0) issue(["systems"], `no system is in the production domain (domainId ${c.productionDomainId})`);
    c.enable.forEach((name, i) => {
        const s = c.systems.find(x => x.name === name);
        if (!s) issue(["enable", i], `unknown system "${name}" (not in lsst.systems)`);
        else if (s.domainId !== c.productionDomainId) issue(["enable", i], `"${name}" is in domain ${s.domainId}, not the production domain ${c.productionDomainId}: it is left alone`);
    });
    if (v.heartbeatCheck && production.some(s => s.stopsAt === "STANDBY") && !c.csc.heartbeatProbe) {
        issue(["csc", "heartbeatProbe"], "is required: the heartbeat check is on and some systems stop at STANDBY");
    }
    if (v.cleanupLove && !c.kubernetes.cleanupLove) issue(["kubernetes", "cleanupLove"], "is required when the cleanupLove variation is on");
    const apps = new Map<string, (string | number)[]>();
    const note = (name: string, path: (string | number)[]) => {
        if (apps.has(name)) issue(path, `application "${name}" is already synced in ${apps.get(name)!.join(".")}`);
        else apps.set(name, path);
    };
    note(c.nublado.app, ["nublado", "app"]);
    for (const wave of ["minimal", "producers", "obssys", "rest"] as const) {
        c.argocd[wave].forEach((a, i) => note(a.app, ["argocd", wave, i]));
    }
    if (c.bareMetal.love.length > 0 && apps.has("love")) {
        issue(apps.get("love")!, "LOVE runs on bare metal at this site: leave the love application out (sync_apps.py --no-sync=love)");
    }
    for (const [name, gate] of Object.entries(c.gates)) {
        checkGate(gate, ["gates", name], issue);
    }
    if (c.nublado.pulled) checkGate(c.nublado.pulled, ["nublado", "pulled"], issue);
    const services = new Set<string>();
    for (const group of ["love", "services"] as const) {
        c.bareMetal[group].forEach((s, i) => {
            const key = `${s.service}@${s.host}`;
            if (services.has(key)) issue(["bareMetal", group, i], `service ${s.service} on ${s.host} is listed twice`);
            services.add(key);
        });
    }
});

function checkGate(gate: z.output<typeof lsstGateSchema>, path: (string | number)[], issue: (path: (string | number)[], message: string) => void): void {
    if (gate.type !== "k8s") return;
    if (!gate.field === !gate.condition) {
        issue(path, "a k8s gate needs exactly one of field (a dotted path, e.g. status.phase) or condition (e.g. Ready)");
    } else if (gate.field && !gate.equals) {
        issue([...path, "equals"], `is required with field ${gate.field} (the value every object must have)`);
    }
}

export type LsstConfig = z.output<typeof lsstSchema>;
export type LsstGateConfig = z.output<typeof lsstGateSchema>;
export type LsstServiceConfig = z.output<typeof lsstServiceSchema>;
export type LsstSystemConfig = z.output<typeof lsstSystemSchema>;

/** The variations in force: the stack's, else the site's. */
export function lsstVariations(c: Pick<LsstConfig, "site" | "variations">): LsstVariations {
    const site = SITE_VARIATIONS[c.site] ?? SITE_VARIATIONS.summit;
    return {
        heartbeatCheck: c.variations?.heartbeatCheck ?? site.heartbeatCheck,
        federationsWatch: c.variations?.federationsWatch ?? site.federationsWatch,
        cleanupLove: c.variations?.cleanupLove ?? site.cleanupLove,
    };
}

/** The part of a step id that names a system: ScriptQueue:1 -> scriptqueue-1. */
export function systemSlug(name: string): string {
    return name.toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-|-$/g, "");
}
