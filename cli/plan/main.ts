import { runKeyOf } from "../../components/program";
import { loadStack } from "../stack-config";
import { parseArgs } from "../args";
import { evaluateSteps } from "./evaluate";
import { toMarkdown, toMermaid, toPlan } from "./format";

const USAGE = "usage: npm run -s plan -- --stack <name> [--format markdown|json|mermaid]";

export async function main(argv: string[]): Promise<number> {
    const args = parseArgs(argv, { stack: "string", format: "string" }, USAGE);
    if (!args.stack) throw new Error(`--stack is required\n${USAGE}`);
    const format = args.format ?? "markdown";
    if (!["markdown", "json", "mermaid"].includes(format)) throw new Error(`unknown --format "${format}"\n${USAGE}`);
    const { config } = loadStack(args.stack);
    const steps = await evaluateSteps(config, args.stack);
    const plan = toPlan(args.stack, config.procedure, steps);
    const out = format === "json" ? JSON.stringify(plan, null, 2) + "\n" : format === "mermaid" ? toMermaid(plan) : toMarkdown(plan, runKeyOf(config));
    process.stdout.write(out);
    return 0;
}
