import * as pulumi from "@pulumi/pulumi";
import { SshTarget } from "./ssh";
import { StepDef } from "./sequence";

export interface ShellCommandArgs {
    command: string;
    ssh?: { host: string; port: number; user?: string; dir?: string };
}

/** A step that runs a command from configuration, locally or over SSH. */
export function shellStep(kind: string, title: string, cmd: ShellCommandArgs, privateKey?: pulumi.Input<string>,
    params: Record<string, unknown> = {}): StepDef {
    const ssh: SshTarget | undefined = cmd.ssh ? { ...cmd.ssh, privateKey } : undefined;
    return {
        kind,
        title,
        params: { command: cmd.command, ...(cmd.ssh ? { host: cmd.ssh.host } : {}), ...params },
        shell: { command: cmd.command, ssh },
    };
}
