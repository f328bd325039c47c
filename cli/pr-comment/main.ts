import * as fs from "fs";
import { runKeyOf } from "../../components/program";
import { parseArgs } from "../args";
import { toPlan } from "../plan/format";
import { planSteps } from "../status/read";
import { readStackState, StackState } from "../status/state";
import { loadStack } from "../stack-config";
import { changesSinceLastRun } from "./changes";
import { policyVerdict, shortenPreview, stripAnsi } from "./preview";
import { renderComment } from "./render";

const USAGE = "usage: npm run -s pr-comment -- --stack <name> --preview <file with the output of pulumi preview --diff --policy-pack policy> [--no-state]";

/**
 * `npm run -s pr-comment -- --stack <s> --preview <file>`: the pull-request comment of one stack: the
 * ordered checklist of what would run (the plan), what changed since the stack's last run (from its
 * state), the policy pack's verdict, and the preview folded away (shortened, and raw).
 */
export async function main(argv: string[]): Promise<number> {
    const args = parseArgs(argv, { stack: "string", preview: "string", "no-state": "boolean" }, USAGE);
    if (!args.stack || !args.preview) throw new Error(`--stack and --preview are required\n${USAGE}`);
    const preview = stripAnsi(fs.readFileSync(args.preview, "utf8"));
    const { config } = loadStack(args.stack);
    const steps = await planSteps(args.stack);
    let state: StackState | undefined;
    if (!args["no-state"]) {
        try {
            state = await readStackState(args.stack);
        } catch (err) {
            process.stderr.write(`note: ${(err as Error).message}\n`);
        }
    }
    const runKey = runKeyOf(config);
    process.stdout.write(renderComment({
        plan: toPlan(args.stack, config.procedure, steps), runKey,
        changes: state ? changesSinceLastRun(steps, state, runKey) : undefined,
        verdict: policyVerdict(preview), preview, shortPreview: shortenPreview(preview).text,
    }));
    return 0;
}
