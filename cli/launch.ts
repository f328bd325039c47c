import { ConfigError } from "../components/config";

/** Run a command's main and turn its errors into a message and a non-zero exit. */
export function launch(main: (argv: string[]) => Promise<number>): void {
    main(process.argv.slice(2)).then(
        code => process.exit(code),
        (err: unknown) => {
            const message = err instanceof ConfigError || err instanceof Error ? err.message : String(err);
            process.stderr.write(`error: ${message}\n`);
            process.exit(err instanceof ConfigError ? 2 : 1);
        },
    );
}
