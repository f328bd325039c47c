import { ConfigError } from "../components/config/errors";

/** Exit once everything written to stdout and stderr has reached the pipe (large plans, dry-run reports). */
function exitAfterFlush(code: number): void {
    process.exitCode = code;
    process.stdout.write("", () => process.stderr.write("", () => process.exit(code)));
}

/** Run a command's main and turn its errors into a message and a non-zero exit. */
export function launch(main: (argv: string[]) => Promise<number>): void {
    main(process.argv.slice(2)).then(
        code => exitAfterFlush(code),
        (err: unknown) => {
            const message = err instanceof Error ? err.message : String(err);
            process.stderr.write(`error: ${message}\n`);
            exitAfterFlush(err instanceof ConfigError ? 2 : 1);
        },
    );
}
