/** A small flag parser: `--name value` or `--name=value`; booleans as `--flag`. */
export function parseArgs<T extends Record<string, "string" | "boolean">>(argv: string[], spec: T, usage: string):
    { [K in keyof T]?: T[K] extends "boolean" ? boolean : string } & { _: string[] } {
    const out: Record<string, unknown> = { _: [] as string[] };
    for (let i = 0; i < argv.length; i++) {
        const arg = argv[i];
        if (!arg.startsWith("--")) {
            (out._ as string[]).push(arg);
            continue;
        }
        const [name, inline] = arg.slice(2).split(/=(.*)/s, 2);
        const type = spec[name];
        if (!type) throw new Error(`unknown option --${name}\n${usage}`);
        if (type === "boolean") {
            out[name] = true;
        } else {
            const value = inline ?? argv[++i];
            if (value === undefined) throw new Error(`--${name} needs a value\n${usage}`);
            out[name] = value;
        }
    }
    return out as never;
}
