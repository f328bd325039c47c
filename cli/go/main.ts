import { runKeyOf } from "../../components/program";
import { OPERATOR_GATE } from "../../components/gates/operator-gate";
import { parseArgs } from "../args";
import { isAlive } from "../alive";
import { evaluateSteps } from "../plan/evaluate";
import { GoSignal, goFile, readSignal, waitingFile, WaitingSignal, writeAtomic } from "../gates/signals";
import { currentUser } from "../journal/journal";
import { loadStack } from "../stack-config";

const USAGE = "usage: npm run go -- --stack <name> <operator-gate step id>";

/**
 * `npm run go -- --stack <s> <step>`: the person who looked says go. The gate of the running
 * `pulumi up` goes on within a fraction of a second; a go given before the gate is reached lets it
 * through when it comes. A go is for the stack's current run key only.
 */
export async function main(argv: string[]): Promise<number> {
    const args = parseArgs(argv, { stack: "string" }, USAGE);
    if (!args.stack) throw new Error(`--stack is required\n${USAGE}`);
    const [step, ...extra] = args._;
    if (!step || extra.length) throw new Error(`name exactly one operator gate\n${USAGE}`);
    const { config } = loadStack(args.stack);
    const steps = await evaluateSteps(config, args.stack);
    const gates = steps.filter(s => s.kind === OPERATOR_GATE).map(s => s.id);
    const found = steps.find(s => s.id === step);
    if (!found) throw new Error(`stack ${args.stack} has no step "${step}" (operator gates: ${gates.join(", ") || "none"})`);
    if (found.kind !== OPERATOR_GATE) {
        throw new Error(`step "${step}" is a ${found.kind} step, not an operator gate (operator gates: ${gates.join(", ") || "none"})`);
    }
    const runKey = runKeyOf(config);
    const signal: GoSignal = { runKey, by: currentUser(), at: new Date().toISOString() };
    writeAtomic(goFile(args.stack, step), signal);
    const waiting = readSignal<WaitingSignal>(waitingFile(args.stack, step));
    if (waiting && waiting.runKey === runKey && isAlive(waiting.pid)) {
        process.stdout.write(`go given for ${step} (stack ${args.stack}, run ${runKey}) by ${signal.by}: the update goes on.\n`);
    } else {
        process.stdout.write(`go recorded for ${step} (stack ${args.stack}, run ${runKey}) by ${signal.by}: ` +
            "the gate is not waiting now; it lets the update through when pulumi up reaches it.\n");
    }
    return 0;
}

