import * as k8s from "@pulumi/kubernetes";
import * as pulumi from "@pulumi/pulumi";

/** Which cluster a site's Kubernetes steps talk to: a kubeconfig context (and file, else $KUBECONFIG). */
export interface ClusterArgs {
    context?: string;
    /** Path of the kubeconfig file; the provider reads $KUBECONFIG (or ~/.kube/config) when absent. */
    kubeconfigPath?: string;
}

/**
 * The Kubernetes provider of one site. Server-side apply, so that a patch is merged with what Argo CD
 * and the operators own. The provider does not preview a Patch resource: the API server's check of
 * each patch during `pulumi preview` is ServerDryRun's (server-dry-run.ts).
 */
export function clusterProvider(name: string, c: ClusterArgs, opts: pulumi.CustomResourceOptions): k8s.Provider {
    return new k8s.Provider(name, {
        ...(c.context ? { context: c.context } : {}),
        ...(c.kubeconfigPath ? { kubeconfig: c.kubeconfigPath } : {}),
        enableServerSideApply: true,
    }, opts);
}
