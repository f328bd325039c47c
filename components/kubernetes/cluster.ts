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
 * and the operators own, and `pulumi preview` has the API server validate each patch (a dry run). With
 * no reachable cluster, preview still runs and the provider says that nothing could be checked.
 */
export function clusterProvider(name: string, c: ClusterArgs, opts: pulumi.CustomResourceOptions): k8s.Provider {
    return new k8s.Provider(name, {
        ...(c.context ? { context: c.context } : {}),
        ...(c.kubeconfigPath ? { kubeconfig: c.kubeconfigPath } : {}),
        enableServerSideApply: true,
    }, opts);
}
