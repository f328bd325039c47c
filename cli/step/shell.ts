import { spawn } from "child_process";
import { stepEnvironment } from "../../components/core/step-env";
import { handleStopSignals, track } from "./children";

const SIGNAL_NUMBERS: Record<string, number> = { SIGHUP: 1, SIGINT: 2, SIGKILL: 9, SIGTERM: 15 };

/**
 * `node bin/step-shell.js <command line>`: the interpreter of a local shell step. Runs the line with
 * bash in a process group of its own, with only the allow-listed environment (components/core/step-env.ts),
 * and forwards SIGTERM/SIGINT to that group and waits for it, like the step runner.
 */
export async function main(argv: string[]): Promise<number> {
    const [command, ...rest] = argv;
    if (command === undefined || rest.length > 0) throw new Error("usage: step-shell <command line>");
    handleStopSignals();
    // bash, not sh: operators' preludes (e.g. inmanta-workon) are bash functions.
    const child = track(spawn("/bin/bash", ["-c", command], { env: stepEnvironment(process.env), stdio: "inherit", detached: true }));
    return new Promise(resolve => {
        child.on("error", err => {
            process.stderr.write(`cannot run /bin/bash: ${err.message}\n`);
            resolve(127);
        });
        child.on("exit", (code, signal) => resolve(code ?? 128 + (SIGNAL_NUMBERS[signal ?? "SIGTERM"] ?? 15)));
    });
}
