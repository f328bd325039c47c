import { StepContext } from "./context";
import { ansibleStep } from "./openstack/ansible";
import { edeployUpgrade, nodeReboot } from "./openstack/edeploy";
import { puppetStep, serverspec } from "./openstack/puppet";
import { survival } from "./openstack/survival";

/** Step kinds of the Spinal Stack / Grenade procedure that the step runner performs. */
export const OPENSTACK_HANDLERS: Record<string, (ctx: StepContext) => Promise<Record<string, unknown>>> = {
    "edeploy-upgrade": edeployUpgrade,
    "node-reboot": nodeReboot,
    "ansible-step": ansibleStep,
    "puppet-step": puppetStep,
    "serverspec": serverspec,
    "survival": survival,
};
