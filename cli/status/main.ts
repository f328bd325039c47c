import { parseArgs } from "../args";
import { checklistMarkdown } from "./format";
import { readChecklist } from "./read";

const USAGE = "usage: npm run -s status -- --stack <name> [--format markdown|json] [--watch] [--interval <s>] [--event-log <file>]";

/**
 * `npm run -s status -- --stack <s>`: the plan's checklist, each step done, running, failed (with its
 * error) or pending, with start time and duration. Works during an update (from another terminal),
 * after a failed one and after a successful one. `--watch` refreshes it until interrupted.
 */
export async function main(argv: string[]): Promise<number> {
    const args = parseArgs(argv, { stack: "string", format: "string", watch: "boolean", interval: "string", "event-log": "string" }, USAGE);
    if (!args.stack) throw new Error(`--stack is required\n${USAGE}`);
    const format = args.format ?? "markdown";
    if (!["markdown", "json"].includes(format)) throw new Error(`unknown --format "${format}"\n${USAGE}`);
    const interval = Number(args.interval ?? "2");
    if (!(interval > 0)) throw new Error(`--interval must be a positive number of seconds\n${USAGE}`);
    const render = async () => {
        const c = await readChecklist(args.stack!, { eventLog: args["event-log"] });
        return format === "json" ? JSON.stringify(c, null, 2) + "\n" : checklistMarkdown(c);
    };
    if (!args.watch) {
        process.stdout.write(await render());
        return 0;
    }
    for (;;) {
        const text = await render();
        // Clear the screen on a terminal; a pipe gets one document per refresh, separated by a form feed.
        process.stdout.write(process.stdout.isTTY ? `\x1b[2J\x1b[H${text}` : `${text}\f\n`);
        await new Promise(r => setTimeout(r, interval * 1000));
    }
}
