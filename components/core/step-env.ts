/**
 * Environment variable that names the step to the step runner: `<kind> <id>`, as on its command line
 * (a plain string: one line in a reviewer's diff).
 * A module of its own: the step runner needs the names, not the Pulumi SDK that step.ts loads
 * (which would add a second or more to the start of every step).
 */
export const STEP_ENV = "UPGRADE_STEP";

/**
 * Each param of a runner step is one variable `UPGRADE_PARAM_<name>`: a reviewer's
 * `pulumi preview --diff` shows each param once, on a line of its own, and a param computed by an
 * earlier step leaves the others known during preview (the policy pack reads them).
 */
export const STEP_PARAM_PREFIX = "UPGRADE_PARAM_";

/** The value of STEP_ENV for a step. */
export function stepName(kind: string, id: string): string {
    return `${kind} ${id}`;
}

const PARAM_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

/** The variable name of a param; a name that cannot be a variable is a programming error. */
export function paramVariable(name: string): string {
    if (!PARAM_NAME.test(name)) throw new Error(`param "${name}" cannot be an environment variable name`);
    return STEP_PARAM_PREFIX + name;
}

/** A string stays as it is (easy to read in a diff) unless it reads as JSON; everything else is JSON. */
export function encodeParam(value: unknown): string {
    if (typeof value === "string" && !readsAsJson(value)) return value;
    return JSON.stringify(value ?? null);
}

export function decodeParam(text: string): unknown {
    try {
        return JSON.parse(text);
    } catch {
        return text;
    }
}

function readsAsJson(text: string): boolean {
    try {
        JSON.parse(text);
        return true;
    } catch {
        return false;
    }
}

/** The params of a runner step from its environment (variables that are not strings are skipped). */
export function paramsFromEnvironment(env: Record<string, unknown>): Record<string, unknown> {
    const out: Record<string, unknown> = {};
    for (const [name, value] of Object.entries(env)) {
        if (name.startsWith(STEP_PARAM_PREFIX) && typeof value === "string") out[name.slice(STEP_PARAM_PREFIX.length)] = decodeParam(value);
    }
    return out;
}

/** Names of the variables a step itself declares (its own settings and secrets), comma-separated. */
export const STEP_KEEP_ENV = "UPGRADE_STEP_KEEP";

/**
 * Extra variable names the operator lets every step see, comma-separated. Set in the operator's
 * environment (never in a stack file): e.g. the credentials file of a cloud CLI a step calls.
 */
export const STEP_PASS_ENV = "UPGRADE_STEP_PASS_ENV";

/**
 * What a step's command and the programs the step runner starts may see of the environment the
 * engine started them with: the basics of a login session, the project's own UPGRADE_* settings,
 * the names the step declares, and the names the operator passes. Everything else stays out, above
 * all the engine's secrets (PULUMI_CONFIG_PASSPHRASE, PULUMI_ACCESS_TOKEN) and a CI's tokens.
 */
export const STEP_ENV_ALLOW: readonly (string | RegExp)[] = [
    "PATH", "HOME", "USER", "LOGNAME", "SHELL", "PWD", "TERM", "TZ", "TMPDIR", "LANG", "LANGUAGE", /^LC_[A-Z]+$/,
    "SSH_AUTH_SOCK", "KUBECONFIG", "NODE_EXTRA_CA_CERTS", "SSL_CERT_FILE", "SSL_CERT_DIR",
    /^UPGRADE_[A-Z0-9_]+$/,
];

/**
 * Never handed to a step's command, even when declared or passed: the engine's and a CI's credentials,
 * and a runner step's params (the runner reads them; what it starts has no use for them).
 */
export const STEP_ENV_DENY: readonly RegExp[] = [
    /^PULUMI_/, /^UPGRADE_PARAM_/, /^GITHUB_TOKEN$/, /^GH_TOKEN$/, /^ACTIONS_/, /^CI_JOB_TOKEN$/, /^CI_REGISTRY_PASSWORD$/,
    /^NPM_TOKEN$/, /^NODE_AUTH_TOKEN$/, /^RUNNER_TOKEN$/,
];

const names = (list: string | undefined) => (list ?? "").split(/[\s,]+/).filter(Boolean);

/** The environment a step's command gets: the allow-list applied to `env`. */
export function stepEnvironment(env: Record<string, string | undefined>): Record<string, string> {
    const extra = new Set([...names(env[STEP_KEEP_ENV]), ...names(env[STEP_PASS_ENV])]);
    const out: Record<string, string> = {};
    for (const [name, value] of Object.entries(env)) {
        if (value === undefined) continue;
        if (STEP_ENV_DENY.some(d => d.test(name))) continue;
        const allowed = extra.has(name) || STEP_ENV_ALLOW.some(a => (typeof a === "string" ? a === name : a.test(name)));
        if (allowed) out[name] = value;
    }
    return out;
}

/** The variables that tell the step runner which step it runs and with which params. */
export function runnerEnvironment(spec: { id: string; kind: string; params?: Record<string, unknown> }): Record<string, string> {
    const out: Record<string, string> = { [STEP_ENV]: stepName(spec.kind, spec.id) };
    for (const [name, value] of Object.entries(spec.params ?? {})) if (value !== undefined) out[paramVariable(name)] = encodeParam(value);
    return out;
}
