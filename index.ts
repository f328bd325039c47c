import * as pulumi from "@pulumi/pulumi";
import { loadRunbookConfig, SECRET_KEYS } from "./components/config";
import { buildRunbook, runKeyOf } from "./components/program";
import { reportAfterUpdate } from "./cli/report/after-update";

// Read and validate the stack configuration once, here at the edge.
const stack = pulumi.getStack();
const secretKeys = SECRET_KEYS.map(k => `upgrade:${k}`)
    .filter(k => (pulumi.runtime as unknown as { isConfigSecret(k: string): boolean }).isConfigSecret(k));
const config = loadRunbookConfig(pulumi.runtime.allConfig(), { source: `stacks/Pulumi.${stack}.yaml`, secretKeys });

const runbook = buildRunbook(config);

// After every `pulumi up` (not a preview), the upgrade report for the change ticket is written.
if (!pulumi.runtime.isDryRun()) reportAfterUpdate(stack);

export const procedure = config.procedure;
export const runKey = runKeyOf(config);
export const steps = runbook.steps.steps.map(s => s.id);
export const baselineDigest = "baselineDigest" in runbook ? runbook.baselineDigest : undefined;
export const backupFile = "backupFile" in runbook ? runbook.backupFile : undefined;
export const backupSha256 = "backupSha256" in runbook ? runbook.backupSha256 : undefined;
