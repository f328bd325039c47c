import * as pulumi from "@pulumi/pulumi";

/** Where a shell step runs when it does not run on this machine. */
export interface SshTarget {
    host: string;
    port?: number;
    user?: string;
    /** PEM private key, a Pulumi secret. */
    privateKey?: pulumi.Input<string>;
    /** Folder the command starts in on the remote host. */
    dir?: string;
}
