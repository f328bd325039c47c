/**
 * Environment variable that carries a step's id, kind and params to the step runner.
 * A module of its own: the step runner needs the name, not the Pulumi SDK that step.ts loads
 * (which would add a second or more to the start of every step).
 */
export const STEP_ENV = "UPGRADE_STEP";
