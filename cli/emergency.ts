import { InmantaClient } from "../components/inmanta/client";
import { parseArgs } from "./args";
import { passphraseDecrypter } from "./secrets";
import { loadStack, StackFile } from "./stack-config";

const USAGE = "usage: npm run halt -- --stack <name>   |   npm run resume -- --stack <name>";

/** A secret of the stack: from the environment, else decrypted with PULUMI_CONFIG_PASSPHRASE. */
function secretOf(file: StackFile, key: string, envName: string, env: NodeJS.ProcessEnv): string | undefined {
    if (env[envName]) return env[envName];
    const full = `upgrade:${key}`;
    if (!(full in file.secure)) return undefined;
    if (env.PULUMI_CONFIG_PASSPHRASE === undefined || !file.encryptionSalt) {
        throw new Error(`${full} is a secret: set ${envName}, or PULUMI_CONFIG_PASSPHRASE to decrypt it from ${file.file}`);
    }
    return passphraseDecrypter(file.encryptionSalt, env.PULUMI_CONFIG_PASSPHRASE)(file.secure[full]);
}

/**
 * Emergency stop without the engine: halt (or resume) the stack's Inmanta environment at once,
 * on the same client the steps use. Works while a `pulumi up` of the stack is running.
 */
export async function emergency(action: "halt" | "resume", argv: string[], env: NodeJS.ProcessEnv = process.env,
    log: (line: string) => void = line => process.stderr.write(line + "\n")): Promise<number> {
    const args = parseArgs(argv, { stack: "string", root: "string" }, USAGE);
    if (!args.stack) throw new Error(`--stack is required\n${USAGE}`);
    const { file, config } = loadStack(args.stack, args.root ?? process.cwd());
    const o = config.orchestrator;
    if (!o) throw new Error(`stack ${args.stack} (procedure ${config.procedure}) does not name an orchestrator`);
    const client = new InmantaClient({
        url: o.url,
        environment: o.environment,
        token: secretOf(file, "inmantaToken", "INMANTA_TOKEN", env),
        caCert: secretOf(file, "inmantaCaCert", "INMANTA_CA_CERT", env),
        timeoutMs: 5000,
        retries: 1,
    }, { log });
    try {
        if (action === "halt") await client.halt();
        else await client.resume();
    } finally {
        client.close();
    }
    log(`${action === "halt" ? "halted" : "resumed"} environment ${o.environment} on ${o.url} (stack ${args.stack})`);
    return 0;
}

export async function main(argv: string[]): Promise<number> {
    const [action, ...rest] = argv;
    if (action !== "halt" && action !== "resume") throw new Error(USAGE);
    return emergency(action, rest);
}
