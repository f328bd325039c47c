/** Bad stack configuration: every problem, each with the config path it was found at. */
export class ConfigError extends Error {
    constructor(readonly source: string, readonly problems: { path: string; message: string }[]) {
        super(
            `${source}: ${problems.length} configuration problem${problems.length === 1 ? "" : "s"}:\n` +
            problems.map(p => `  - ${p.path}: ${p.message}`).join("\n"),
        );
        this.name = "ConfigError";
    }
}
