import * as fs from "fs";
import * as path from "path";
import { parse } from "yaml";
import { loadRunbookConfig, RunbookConfig } from "../components/config";

/** Shown in place of a secret when a stack file is read without the engine. */
export const SECRET_PLACEHOLDER = "[secret]";

export interface StackFile {
    stack: string;
    file: string;
    /** Config as the Pulumi runtime hands it to a program: fully qualified keys, string values. */
    config: Record<string, string>;
    secretKeys: string[];
    /** The encrypted values of the secret keys, as stored. */
    secure: Record<string, string>;
    encryptionSalt?: string;
}

export function stacksDir(root = process.cwd()): string {
    return path.join(root, "stacks");
}

/** The project's name (Pulumi.yaml), the namespace of config keys written without one. */
function projectName(root: string): string {
    const file = path.join(root, "Pulumi.yaml");
    const doc = fs.existsSync(file) ? (parse(fs.readFileSync(file, "utf8")) as { name?: unknown }) : undefined;
    return typeof doc?.name === "string" ? doc.name : "upgrade";
}

/** Read `stacks/Pulumi.<stack>.yaml` the way the engine would pass it to the program (secrets left encrypted). */
export function readStackFile(stack: string, root = process.cwd()): StackFile {
    const file = path.join(stacksDir(root), `Pulumi.${stack}.yaml`);
    if (!/^[A-Za-z0-9_.-]+$/.test(stack)) throw new Error(`"${stack}" is not a stack name`);
    if (!fs.existsSync(file)) {
        const known = fs.existsSync(stacksDir(root))
            ? fs.readdirSync(stacksDir(root)).map(f => /^Pulumi\.(.+)\.yaml$/.exec(f)?.[1]).filter(Boolean) : [];
        throw new Error(`no stack "${stack}": ${path.relative(root, file)} does not exist (stacks: ${known.join(", ") || "none"})`);
    }
    let doc: { config?: Record<string, unknown>; encryptionsalt?: string };
    try {
        doc = (parse(fs.readFileSync(file, "utf8")) ?? {}) as typeof doc;
    } catch (err) {
        throw new Error(`${path.relative(root, file)}: not a valid YAML stack file: ${(err as Error).message.split("\n")[0]}`);
    }
    if (typeof doc !== "object" || Array.isArray(doc) || (doc.config !== undefined && (typeof doc.config !== "object" || doc.config === null || Array.isArray(doc.config)))) {
        throw new Error(`${path.relative(root, file)}: config: must be a map of keys (upgrade:procedure: ...)`);
    }
    const config: Record<string, string> = {};
    const secretKeys: string[] = [];
    const secure: Record<string, string> = {};
    const project = projectName(root);
    for (const [written, value] of Object.entries(doc.config ?? {})) {
        // A key without a namespace is in the project's (as the engine reads it): `procedure` is
        // `upgrade:procedure`, so plan and preview see the same configuration.
        const key = written.includes(":") ? written : `${project}:${written}`;
        if (key in config) throw new Error(`${path.relative(root, file)}: config key ${key} is set twice (as ${key} and as ${written})`);
        if (value && typeof value === "object" && !Array.isArray(value) && "secure" in value && Object.keys(value).length === 1) {
            config[key] = SECRET_PLACEHOLDER;
            secretKeys.push(key);
            secure[key] = String((value as { secure: unknown }).secure);
        } else {
            config[key] = typeof value === "string" ? value : JSON.stringify(value);
        }
    }
    return { stack, file, config, secretKeys, secure, encryptionSalt: doc.encryptionsalt };
}

/** Read and validate a stack's runbook configuration. */
export function loadStack(stack: string, root = process.cwd()): { file: StackFile; config: RunbookConfig } {
    const file = readStackFile(stack, root);
    const config = loadRunbookConfig(file.config, { source: path.relative(root, file.file), secretKeys: file.secretKeys });
    return { file, config };
}
