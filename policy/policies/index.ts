import type { Policies } from "@pulumi/policy";
import { agentsPausedDuringExport } from "./agents-paused";
import { approvalBeforeDeploy } from "./approval-before-deploy";
import { autoDeployOffDuringUpgrade } from "./auto-deploy";
import { backupBeforeNonStrictExport } from "./backup-before-export";
import { edeployExcludeFile } from "./edeploy-exclude";
import { kubernetesWavesGated } from "./kubernetes-waves";
import { northboundBlockedDuringChanges } from "./northbound-blocked";
import { operatorGatesBounded } from "./operator-gates";
import { protectedEnvironmentFirst } from "./protected-environment";
import { requiredSettings } from "./required-settings";
import { restorePathInProduction } from "./restore-path";
import { settingsRestored } from "./settings-restored";

export {
    agentsPausedDuringExport, approvalBeforeDeploy, autoDeployOffDuringUpgrade, backupBeforeNonStrictExport, edeployExcludeFile,
    kubernetesWavesGated, northboundBlockedDuringChanges, operatorGatesBounded, protectedEnvironmentFirst, requiredSettings, restorePathInProduction,
    settingsRestored,
};

/** Every policy of the pack, mandatory ones first. */
export const policies: Policies = [
    protectedEnvironmentFirst,
    requiredSettings,
    autoDeployOffDuringUpgrade,
    backupBeforeNonStrictExport,
    agentsPausedDuringExport,
    approvalBeforeDeploy,
    kubernetesWavesGated,
    operatorGatesBounded,
    edeployExcludeFile,
    northboundBlockedDuringChanges,
    restorePathInProduction,
    settingsRestored,
];
