import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";
import { ResourceExec } from "../core/step";
import { ServerDryRun } from "./server-dry-run";

/** The annotation `kubectl rollout restart` sets on a Deployment's pod template. */
export const RESTARTED_AT = "kubectl.kubernetes.io/restartedAt";

export interface RolloutRestartArgs {
    deployment: string;
    namespace: string;
    /** Changes with every run, so that each run starts new pods. */
    marker: pulumi.Input<string>;
    timeoutSeconds: number;
    provider: k8s.Provider;
    /** Checks the patch with the API server during `pulumi preview` (the provider does not). */
    dryRun?: ServerDryRun;
}

/**
 * `kubectl rollout restart` as a resource: the pod template's restartedAt annotation, applied by
 * server-side apply; the provider's Deployment await then waits until the new pods are ready and the
 * old ones gone. The status it ended on goes to the step's runner.
 */
export function rolloutRestartResource(a: RolloutRestartArgs): ResourceExec {
    const patch = {
        metadata: {
            name: a.deployment,
            namespace: a.namespace,
            annotations: { "pulumi.com/timeoutSeconds": String(a.timeoutSeconds), "pulumi.com/patchForce": "true" },
        },
        spec: { template: { metadata: { annotations: { [RESTARTED_AT]: a.marker } } } },
    };
    return {
        create: (name, opts) => {
            if (a.dryRun && opts.parent) {
                a.dryRun.add({
                    resource: "deployments.apps", name: a.deployment, namespace: a.namespace, step: opts.parent, mayComeLater: true,
                    manifest: { apiVersion: "apps/v1", kind: "Deployment", ...patch },
                });
            }
            return new k8s.apps.v1.DeploymentPatch(name, patch, { ...opts, provider: a.provider });
        },
        params: r => ({ observed: (r as k8s.apps.v1.DeploymentPatch).status }),
    };
}
