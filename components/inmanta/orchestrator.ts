import * as pulumi from "@pulumi/pulumi";
import { SshTarget } from "../core";

/** How steps reach one Inmanta environment. */
export interface OrchestratorArgs {
    url: string;
    environment: string;
    /** Longest wait for a compile, dry run or deploy. */
    timeoutSeconds: number;
    /** Bearer token, a Pulumi secret. */
    token?: pulumi.Input<string>;
    /** PEM CA certificate for an https URL, a Pulumi secret. */
    caCert?: pulumi.Input<string>;
    /** Where orchestrator shell commands run (export). */
    shell: {
        ssh?: SshTarget;
        /** The environment's folder on the orchestrator. */
        projectDir: string;
        /** The inmanta command line prefix of the orchestrator's installation. */
        inmanta: string;
        /** Run first, e.g. to activate the environment (`source env.sh && inmanta-workon <env>`). */
        prelude?: string;
    };
}

/** Environment of the step runner for API-driven steps; secrets stay Pulumi secrets. */
export function runnerEnvironment(o: OrchestratorArgs): Record<string, pulumi.Input<string>> {
    const env: Record<string, pulumi.Input<string>> = {
        INMANTA_URL: o.url,
        INMANTA_ENVIRONMENT: o.environment,
        INMANTA_TIMEOUT_SECONDS: String(o.timeoutSeconds),
    };
    if (o.token !== undefined) env.INMANTA_TOKEN = pulumi.secret(o.token);
    if (o.caCert !== undefined) env.INMANTA_CA_CERT = pulumi.secret(o.caCert);
    return env;
}

export { shellQuote } from "../core/shell-quote";
