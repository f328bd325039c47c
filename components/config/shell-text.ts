/**
 * The config keys whose values are an operator's command lines: passed to a shell as the text they
 * are (a stack file that sets one decides what that step runs, and is reviewed as code). Every other
 * string of a stack file is either checked against a strict pattern or quoted where it is inserted.
 * Paths are written as in the stack file, `*` for any list index or map key. The README's Security
 * section lists the same keys (checked by test/security/readme.test.ts).
 */
export const SHELL_TEXT_KEYS: readonly string[] = [
    "apiTests.command",
    "northbound.block.command", "northbound.unblock.command",
    "orchestrator.shell.inmanta", "orchestrator.shell.prelude",
    "abort.revertCommand",
    "release.inmanta", "release.commitCommand", "release.pushCommand",
    "lsst.kubectl",
    "lsst.csc.stateCommand", "lsst.csc.stateProbe", "lsst.csc.heartbeatProbe.command",
    "lsst.mainDaemon.start", "lsst.mainDaemon.stop", "lsst.mainDaemon.logs", "lsst.mainDaemon.federations",
    "lsst.daemonCleanup.*.command",
    "lsst.bareMetal.love.*.start", "lsst.bareMetal.love.*.stop",
    "lsst.bareMetal.services.*.start", "lsst.bareMetal.services.*.stop", "lsst.bareMetal.probe.command",
    "lsst.kubernetes.cleanup", "lsst.kubernetes.cleanupLove", "lsst.kubernetes.nubladoCleanup",
    "lsst.gates.*.command", "lsst.nublado.pulled.command",
    "lsst.configUpdate.pullRequests.*.merge", "lsst.configUpdate.pullRequests.*.approved.command",
    "lsst.configUpdate.checkouts.*.command",
    "openstack.provision.*.command",
    "openstack.edeploy.rsync", "openstack.edeploy.reboot.command", "openstack.edeploy.reboot.wait",
    "openstack.ansible.playbook",
    "openstack.puppet.command", "openstack.puppet.steps.*.check",
    "openstack.serverspec.command",
    "openstack.services.shutdown.*.command", "openstack.services.start.*.command",
    "openstack.survival.projects.*.module",
    "openstack.sanity.*.command",
];

/** Is this config path (e.g. `lsst.bareMetal.love.0.start`) one of the operator command lines? */
export function isShellText(path: (string | number)[]): boolean {
    return SHELL_TEXT_KEYS.some(key => {
        const parts = key.split(".");
        return parts.length === path.length && parts.every((p, i) => p === "*" || p === String(path[i]));
    });
}
