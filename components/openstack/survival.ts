/**
 * Resource survival checks, Grenade's calling interface: resources made before the upgrade must still
 * be there (and work) after it. A check is either a grenade plugin's `resources.sh`, run unchanged, or
 * a module written natively against {@link SurvivalCheck}.
 *
 * Calling sequence (grenade's grenade.sh): early_create, create, verify pre-upgrade, shutdown.sh (reverse),
 * verify_noapi pre-upgrade, (upgrade, services started), upgrade.sh, verify post-upgrade, destroy (reverse).
 * Every project's values go to one save database (`resource_save` / {@link SurvivalContext.save}:
 * `$SAVE_DIR/grenade_db.ini`), each step's output and the next step's input, so they live in the Pulumi
 * state between phases and survive a resumed update.
 */

export const SURVIVAL_PHASES = ["early_create", "create", "verify", "verify_noapi", "destroy"] as const;
export type SurvivalPhase = (typeof SURVIVAL_PHASES)[number];
export type UpgradeSide = "pre-upgrade" | "post-upgrade";

/** Saved values: project -> key -> value (grenade's `resource_save project key value`). */
export type SavedResources = Record<string, Record<string, string>>;

export interface SurvivalContext {
    /** The project the check belongs to. */
    project: string;
    /** The side of the upgrade, for verify and verify_noapi. */
    when?: UpgradeSide;
    /** `resource_save project key value`; the project defaults to this check's. */
    save(key: string, value: string, project?: string): void;
    /** `resource_get project key`: undefined when nothing was saved. */
    get(key: string, project?: string): string | undefined;
    /** TOP_DIR, GRENADE_DIR, BASE_RELEASE, TARGET_RELEASE and the configured environment. */
    env: Record<string, string>;
    log(line: string): void;
}

/**
 * A natively written survival check. Throw to fail a phase. verify and verifyNoapi are called
 * several times, on different releases: they must not change anything.
 */
export interface SurvivalCheck {
    /** Horizontal resources other services need before their own setup; rarely needed. */
    earlyCreate?(ctx: SurvivalContext): Promise<void> | void;
    create(ctx: SurvivalContext): Promise<void> | void;
    /** Services are running; APIs are expected to work. */
    verify(ctx: SurvivalContext, when: UpgradeSide): Promise<void> | void;
    /** Services are stopped; probe the underlying components. */
    verifyNoapi(ctx: SurvivalContext, when: UpgradeSide): Promise<void> | void;
    destroy(ctx: SurvivalContext): Promise<void> | void;
}

/** The step id part of a phase: `verify-noapi-pre-upgrade`, `create`, … */
export function phaseSlug(phase: SurvivalPhase, when?: UpgradeSide): string {
    return [phase.replace(/_/g, "-"), when].filter(Boolean).join("-");
}
