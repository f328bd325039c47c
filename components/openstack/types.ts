import * as pulumi from "@pulumi/pulumi";
import { SnippetTask } from "./ansible";

/** A command from configuration that a step runs as it is (bash -c, in the project directory). */
export interface NamedCommand {
    name: string;
    title?: string;
    command: string;
}

export interface ProfileArgs {
    /** eDeploy role of the profile's hosts. */
    role: string;
    /** Puppet classes the profile runs: they select its Ansible snippets. */
    classes: string[];
    /** Hosts upgraded at once: eDeploy batches and Ansible's `serial`. */
    serial: number;
    /** Ansible's max_fail_percentage. */
    maxFailPercentage: number;
}

/** A node of the infrastructure: a host alias and its tree. */
export interface HostArgs {
    name: string;
    profile: string;
    /** The node's root tree; a local directory in this project's lab. */
    root: string;
}

export interface EdeployArgs {
    rolesDir: string;
    metadataDir: string;
    from: string;
    to: string;
    rsync: string;
    reboot?: { command: string; wait?: string; timeoutSeconds: number };
    /** Probe what rsync would change, during `pulumi preview` and `plan` only. */
    preview: boolean;
}

export interface AnsibleArgs {
    playbook: string;
    snippets: Record<string, SnippetTask[]>;
    pythonInterpreter: string;
    forks: number;
}

export interface PuppetArgs {
    command: string;
    modulePath?: string;
    maxRuns: number;
    steps: { step: number; manifest: string; check: string }[];
}

export interface SurvivalArgs {
    /** BASE_DEVSTACK_DIR and TARGET_DEVSTACK_DIR. */
    topDir: string;
    targetDir?: string;
    /** STACK_ROOT: SAVE_DIR and LOGDIR, kept across phases. */
    stackRoot: string;
    env: Record<string, string>;
    /** In upgrade order. */
    projects: { name: string; plugin?: string; module?: string }[];
}

export interface SpinalStackArgs {
    /** The upgrade run: a new key runs the whole procedure again. */
    runKey: pulumi.Input<string>;
    /** Where the step runner writes generated playbooks, inventories and Puppet state. */
    workDir: string;
    provision: NamedCommand[];
    profiles: Record<string, ProfileArgs>;
    /** The order profiles are upgraded in (config-tools' ordered_profiles). */
    profileOrder: string[];
    /** In upgrade order within each profile. */
    hosts: HostArgs[];
    edeploy: EdeployArgs;
    ansible?: AnsibleArgs;
    puppet?: PuppetArgs;
    serverspec?: { command: string };
    services: { shutdown: NamedCommand[]; start: NamedCommand[] };
    survival?: SurvivalArgs;
    sanity: { suite: string; title?: string; command: string }[];
}
