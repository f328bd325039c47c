/**
 * Environment variable that carries a step's id, kind and params to the step runner.
 * A module of its own: the step runner needs the name, not the Pulumi SDK that step.ts loads
 * (which would add a second or more to the start of every step).
 */
export const STEP_ENV = "UPGRADE_STEP";

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

/** Never handed to a step, even when declared or passed: the engine's and a CI's credentials. */
export const STEP_ENV_DENY: readonly RegExp[] = [
    /^PULUMI_/, /^GITHUB_TOKEN$/, /^GH_TOKEN$/, /^ACTIONS_/, /^CI_JOB_TOKEN$/, /^CI_REGISTRY_PASSWORD$/,
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
