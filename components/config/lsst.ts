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
const CONTAINER = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;
const SELECTOR = /^[A-Za-z0-9][A-Za-z0-9_.\/=!,() -]*$/;
const CONTEXT = /^[A-Za-z0-9][A-Za-z0-9_.:@\/-]*$/;

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

/**
 * What a sync waits for. The CSC charts (argocd-csc apps/<collector>: each child app one CSC, a Job) run
 * Jobs as long as the CSC runs, which Argo CD reports as Progressing (gitops-engine pkg/health/health_job.go):
 * for them the sync operation succeeding and the app Synced is the end (as `argocd app sync` waits, with
 * watch "operation" only); every other app must also turn Healthy.
 */
export const SYNC_WAITS = ["synced", "healthy"] as const;
export type SyncWait = (typeof SYNC_WAITS)[number];
const CSC_APPS = new Set(["obssys", "auxtel", "calsys", "dmocps", "eas", "maintel", "test42"]);
export const defaultSyncWait = (app: string): SyncWait => (CSC_APPS.has(app) ? "synced" : "healthy");

/** An Argo CD application; `children: true` for an "app of apps" whose child applications are synced too. */
const appSchema = z.union([
    appName.transform(app => ({ app, children: false, waitFor: defaultSyncWait(app) })),
    z.strictObject({
        app: appName,
        children: z.boolean().default(false),
        waitFor: z.enum(SYNC_WAITS, { error: `must be one of ${SYNC_WAITS.join(", ")}` }).optional(),
    }).transform(a => ({ ...a, waitFor: a.waitFor ?? defaultSyncWait(a.app) })),
]);
const app = (name: string, children = false) => ({ app: name, children, waitFor: defaultSyncWait(name) });

/**
 * The applications of argocd-csc `bin/sync_apps.py` and `bin/helpers.py` at lsst-ts/argocd-csc
 * fe024071 (argocd-admin's copy is deprecated): APPS one after the other, pausing after ospl-daemon,
 * kafka-producers, love and obssys; the COLLECTOR_APPS (apps of apps) with their children; then the
 * ASYNC_APPS and SINGLE_APPS (test42).
 */
export const ARGOCD_WAVES = {
    minimal: [app("csc-cluster-config"), app("ospl-config"), app("ospl-daemon")],
    producers: [app("kafka-producers")],
    love: [app("love", true)],
    obssys: [app("obssys", true)],
    rest: [app("auxtel", true), app("calsys", true), app("dmocps", true), app("eas", true), app("maintel", true), app("test42")],
};

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

const containerName = z.string().regex(CONTAINER, "must be a Docker container name (letters, digits, _ . -)");
/** The containers a docker-compose-admin script starts or stops; the probe reads their state. */
const containers = z.array(containerName);

export const lsstServiceSchema = z.strictObject({
    /** The machine the service runs on ({host} in the commands). */
    host: sshHost,
    service: z.string().regex(SERVICE, "must be a service name (letters, digits, _ . -)"),
    /**
     * `daemon`: the machine's own OSPL daemon (docker-compose-admin's launch_daemon/shutdown_daemon),
     * stopped after the machine's services and started before them.
     */
    role: z.enum(["service", "daemon"]).default("service"),
    start: nonEmpty,
    stop: nonEmpty,
    /** The containers its scripts start and stop (docker-compose-ops' container_name); the service's name by default. */
    containers: containers.min(1).optional(),
});

/** CSCs and daemons on a DM or Camera machine; `containers` (none by default) are probed once stopped. */
/** docker-compose-ops names its containers (container_name), so their state can be read with docker inspect. */
export const DEFAULT_CONTAINER_PROBE = "ssh {host} docker inspect -f '{{.State.Running}}' {container}";

const hostCommand = z.strictObject({ host: sshHost, command: nonEmpty, containers: containers.default([]) });

/** The kinds a cleanup may delete: workloads (and LOVE's autoscalers), never an Argo CD Application. */
export const CLEANUP_KINDS = ["job", "deployment", "daemonset", "hpa"] as const;

/**
 * k8s-admin's `cleanup_all -d` at lsst-ts/k8s-admin d0c5cca4 (helpers.py STANDARD_NAMESPACES and
 * API_MAPPING, cleanup_all `main`): what it deletes, namespace by namespace. Its fall back deletes the
 * same, and the cleanup is checked against it afterwards.
 */
const jobs = (namespace: string): LsstCleanupCover => ({ namespace, kinds: ["job"] });
export const CLEANUP_ALL_COVERS: LsstCleanupCover[] = [
    ...["auxtel", "calsys", "calsys-lab", "control-system-test", "eas", "envsys"].map(jobs),
    { namespace: "love", kinds: ["deployment", "job", "hpa"] },
    ...["maintel", "simonyitel"].map(jobs),
    // dmocps' OCPS CSCs only: the UWS server stays.
    { namespace: "uws", kinds: ["job"], selector: "csc in (atocps, ccocps, raocps)" },
    ...["obssys", "dds-test"].map(jobs),
    { namespace: "kafka-producers", kinds: ["deployment"] },
    { namespace: "ospl-daemon", kinds: ["daemonset"] },
];

/** k8s-admin's `cleanup_love` (no option): deployments, jobs and HPAs of namespace love. */
export const CLEANUP_LOVE_COVERS: LsstCleanupCover[] = [{ namespace: "love", kinds: ["deployment", "job", "hpa"] }];


export type CleanupKind = (typeof CLEANUP_KINDS)[number];

export interface LsstCleanupCover {
    namespace: string;
    kinds: CleanupKind[];
    /** A label selector; everything of these kinds in the namespace (`--all`) without one. */
    selector?: string;
}

const cleanupCover = z.strictObject({
    namespace: z.string().regex(APP_NAME, "must be a namespace name (lower case letters, digits, -)"),
    kinds: z.array(z.enum(CLEANUP_KINDS, { error: `must be one of ${CLEANUP_KINDS.join(", ")} (never an Application)` })).min(1),
    selector: z.string().regex(SELECTOR, "must be a label selector (letters, digits, _ . / - = ! , ( ) and spaces)").optional(),
});

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
        /** Its container (docker-compose-ops: container_name ospl-daemon), probed once stopped. */
        containers: containers.min(1).default(["ospl-daemon"]),
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
        /** The other bare-metal deployments and the machines' own OSPL daemons (role: daemon), stopped in the shutdown and started last. */
        services: z.array(lsstServiceSchema).default([]),
        /**
         * How a script's effect is seen: docker-compose-admin's scripts end with `cd ~/` and exit 0 whatever
         * docker did, so each start or stop is followed by a gate on its containers' state. `command` prints
         * one container's state ({host}, {container}); a line matching `running` or `stopped` says which.
         */
        probe: z.strictObject({
            command: nonEmpty.default(DEFAULT_CONTAINER_PROBE)
                .refine(s => s.includes("{container}"), "must name the container with {container}, e.g. " + DEFAULT_CONTAINER_PROBE),
            running: regex.default("^true$"),
            stopped: regex.default("^false$|No such (object|container)"),
            timeoutSeconds: seconds.default(300),
        }).default({ command: DEFAULT_CONTAINER_PROBE, running: "^true$", stopped: "^false$|No such (object|container)", timeoutSeconds: 300 }),
    }).default({
        love: [], services: [],
        probe: { command: DEFAULT_CONTAINER_PROBE, running: "^true$", stopped: "^false$|No such (object|container)", timeoutSeconds: 300 },
    }),
    kubernetes: z.strictObject({
        /**
         * The site's kube context. k8s-admin's scripts run plain `kubectl` on the current context; they are
         * run with a kubeconfig of their own that holds this context only (the operator's is not changed).
         * By default the `--context` of lsst.kubectl.
         */
        context: z.string().regex(CONTEXT, "must be a kube context name").optional(),
        /** The kubeconfig file of the Kubernetes provider (Argo CD syncs, the cachemachine restart); $KUBECONFIG by default. */
        kubeconfig: nonEmpty.optional(),
        /** k8s-admin's cleanup, OSPL daemons included: `cd ~/k8s-admin && ./cleanup_all -d` (it asks `y to proceed`: answered). */
        cleanup: nonEmpty,
        /** What the cleanup deletes, checked afterwards and deleted by the fall back: cleanup_all -d's namespaces by default. */
        covers: z.array(cleanupCover).min(1).default(CLEANUP_ALL_COVERS),
        /** k8s-admin's `./cleanup_love` (the cleanupLove variation). */
        cleanupLove: nonEmpty.optional(),
        /** Nublado user namespaces. */
        nubladoCleanup: nonEmpty.default("{kubectl} delete ns -l argocd.argoproj.io/instance=nublado-users"),
    }),
    nublado: z.strictObject({
        app: appName.default("cachemachine"),
        namespace: nonEmpty.default("cachemachine"),
        selector: nonEmpty.default("app=cachemachine"),
        /** The Deployment whose pods are restarted so that the new ones pull the images. */
        deployment: appName.default("cachemachine"),
        timeoutSeconds: seconds.default(1800),
        /** The pull is complete (optional gate). */
        pulled: lsstGateSchema.optional(),
    }).default({ app: "cachemachine", namespace: "cachemachine", selector: "app=cachemachine", deployment: "cachemachine", timeoutSeconds: 1800 }),
    argocd: z.strictObject({
        namespace: nonEmpty.default("argocd"),
        /** The label that ties resources and child applications to their application. */
        instanceLabel: nonEmpty.default("argocd.argoproj.io/instance"),
        /** Longest wait for one application (and its children) to be synced. */
        timeoutSeconds: seconds.default(1800),
        revision: nonEmpty.optional(),
        prune: z.boolean().default(false),
        /** The first wave, synced one after the other (sync_apps.py: csc-cluster-config, ospl-config, ospl-daemon). */
        minimal: z.array(appSchema).min(1).default(ARGOCD_WAVES.minimal),
        producers: z.array(appSchema).min(1).default(ARGOCD_WAVES.producers),
        /** LOVE on Kubernetes, after kafka-producers; left out where LOVE runs on bare metal (`--no-sync=love`). */
        love: z.array(appSchema).default(ARGOCD_WAVES.love),
        obssys: z.array(appSchema).min(1).default(ARGOCD_WAVES.obssys),
        /** The rest (sync_apps.py's ASYNC_APPS and SINGLE_APPS): one after the other, then the children of the apps of apps side by side. */
        rest: z.array(appSchema).default(ARGOCD_WAVES.rest),
    }).default({
        namespace: "argocd", instanceLabel: "argocd.argoproj.io/instance", timeoutSeconds: 1800, prune: false, ...ARGOCD_WAVES,
    }),
    gates: z.strictObject({
        /** After ospl-daemon: "Check the logs ... to see if daemons are ready." */
        daemonsReady: lsstGateSchema,
        /** After kafka-producers: "Check that all the logs say Running at the bottom." */
        producersRunning: lsstGateSchema,
        /** After love, where LOVE is synced by Argo CD (sync_apps.py pauses: "love apps are running"). */
        loveRunning: lsstGateSchema.optional(),
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
    if (!kubeContext(c)) {
        issue(["kubernetes", "context"], "is required: cleanup_all runs plain kubectl on the current context, so name the site's " +
            "context here or with --context in lsst.kubectl");
    } else if (c.kubernetes.context && contextOfKubectl(c.kubectl) && contextOfKubectl(c.kubectl) !== c.kubernetes.context) {
        issue(["kubernetes", "context"], `"${c.kubernetes.context}" is not the context of lsst.kubectl (${contextOfKubectl(c.kubectl)})`);
    }
    if (lovesSynced(c) && !c.gates.loveRunning) {
        issue(["gates", "loveRunning"], "is required: LOVE is synced by Argo CD at this site (no bareMetal.love), and sync_apps.py pauses after it");
    }
    const apps = new Map<string, (string | number)[]>();
    const note = (name: string, path: (string | number)[]) => {
        if (apps.has(name)) issue(path, `application "${name}" is already synced in ${apps.get(name)!.join(".")}`);
        else apps.set(name, path);
    };
    note(c.nublado.app, ["nublado", "app"]);
    for (const wave of ["minimal", "producers", "love", "obssys", "rest"] as const) {
        // Where LOVE runs on bare metal, argocd.love is not synced (sync_apps.py --no-sync=love).
        if (wave === "love" && !lovesSynced(c)) continue;
        c.argocd[wave].forEach((a, i) => note(a.app, ["argocd", wave, i]));
    }
    if (c.bareMetal.love.length > 0 && apps.has("love")) {
        issue(apps.get("love")!, "LOVE runs on bare metal at this site: leave the love application out (sync_apps.py --no-sync=love)");
    }
    for (const [name, gate] of Object.entries(c.gates)) {
        checkGate(gate, ["gates", name], issue);
    }
    if (c.nublado.pulled) checkGate(c.nublado.pulled, ["nublado", "pulled"], issue);
    c.bareMetal.love.forEach((s, i) => {
        if (s.role === "daemon" && i < c.bareMetal.love.length - 1) {
            issue(["bareMetal", "love", i, "role"], "LOVE's daemon comes last in bareMetal.love (stopped after LOVE, started before it)");
        }
    });
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

/** The site's kube context: lsst.kubernetes.context, else the --context of lsst.kubectl. */
export function kubeContext(c: Pick<LsstConfig, "kubectl" | "kubernetes">): string | undefined {
    return c.kubernetes.context ?? contextOfKubectl(c.kubectl);
}

function contextOfKubectl(kubectl: string): string | undefined {
    return /(?:^|\s)--context(?:=|\s+)([^\s'"]+)/.exec(kubectl)?.[1];
}

/** LOVE is synced by Argo CD: it does not run on bare metal at this site (sync_apps.py without --no-sync=love). */
export function lovesSynced(c: Pick<LsstConfig, "bareMetal" | "argocd">): boolean {
    return c.bareMetal.love.length === 0 && c.argocd.love.length > 0;
}

/** The containers of a bare-metal service: as configured, else the one named after the service. */
export function containersOf(s: { service: string; containers?: string[] }): string[] {
    return s.containers ?? [s.service];
}

/** The part of a step id that names a system: ScriptQueue:1 -> scriptqueue-1. */
export function systemSlug(name: string): string {
    return name.toLowerCase().replace(/[^a-z0-9]+/g, "-").replace(/^-|-$/g, "");
}
