import { strict as assert } from "assert";
import { ChildProcess, spawn, spawnSync } from "child_process";
import * as fs from "fs";
import * as path from "path";
import { EngineStack, requireEngine } from "../support/engine";
import { createStack, Lab, lsmUpgrade, startLab, stopLab } from "../engine/fixture";

/**
 * Finding 5: a killed `pulumi up` (SIGTERM, then SIGKILL) leaves no process of the step and no file
 * that looks like a complete backup; the next `up` runs the step again and succeeds.
 *
 * Upstream pulumi-command starts a local command with exec.CommandContext and the provider's
 * environment (pulumi/pulumi-command provider/pkg/provider/local/commandOutputs.go), which kills only
 * the direct child on cancel. Our provider puts each command in its own process group and ends the
 * group (engine/provider-command/process.go); the runner and bin/step-shell.js forward the signal to
 * their children's groups and wait.
 */
const alive = (pid: number) => {
    try {
        process.kill(pid, 0);
        return true;
    } catch {
        return false;
    }
};
const sleep = (ms: number) => new Promise(r => setTimeout(r, ms));

async function waitFor(what: string, cond: () => boolean, ms = 180000): Promise<void> {
    const end = Date.now() + ms;
    while (!cond()) {
        if (Date.now() > end) throw new Error(`timed out waiting until ${what}`);
        await sleep(250);
    }
}

describe("security (engine): a killed pulumi up leaves no orphan and no complete-looking backup (finding 5)", function () {
    this.timeout(900000);
    let lab: Lab;
    let stack: EngineStack;
    let bin: string;
    let backups: string;
    let pids: string;
    let mode: string;

    const readPids = () => (fs.existsSync(pids) ? fs.readFileSync(pids, "utf8").split(/\s+/).filter(Boolean).map(Number) : []);

    function up(): ChildProcess {
        const engine = requireEngine();
        return spawn(engine.pulumi, ["up", "--yes", "--skip-preview", "--non-interactive", "--stack", stack.name], {
            cwd: lab.project.dir, env: { ...process.env, ...lab.project.env("engine-test-passphrase") }, stdio: ["ignore", "pipe", "pipe"],
        });
    }

    /** Start an up, wait until the slow step has started its processes, then SIGTERM, then SIGKILL the CLI. */
    async function killDuring(slow: string): Promise<number[]> {
        fs.writeFileSync(mode, slow);
        fs.rmSync(pids, { force: true });
        const cli = up();
        let log = "";
        cli.stdout!.on("data", d => (log += d));
        cli.stderr!.on("data", d => (log += d));
        await waitFor(`the ${slow} step started (log so far:\n${log})`, () => readPids().length >= 3);
        const started = readPids();
        cli.kill("SIGTERM");
        await sleep(3000);
        if (cli.exitCode === null) cli.kill("SIGKILL");
        await waitFor("the CLI exited", () => cli.exitCode !== null || cli.signalCode !== null, 60000);
        // The step's processes end within the grace periods (runner 5 s, provider 10 s), never later.
        await waitFor(`every process of the step ended (${started.filter(alive).join(", ")} alive)`, () => started.every(p => !alive(p)), 90000);
        return started;
    }

    before(async () => {
        requireEngine();
        lab = await startLab();
        bin = path.join(lab.project.work, "pgbin");
        backups = path.join(lab.project.work, "backups");
        pids = path.join(lab.project.work, "pids");
        mode = path.join(lab.project.work, "mode");
        fs.mkdirSync(bin);
        // Stand-ins: a block command and a pg_dump that, in slow mode, start a child and wait, recording
        // their pid, the child's and their parent's (the shell-step launcher, or the step runner).
        const slowPart = (name: string) => `if [ "$(cat '${mode}')" = ${name} ]; then sleep 600 & echo $$ $! $PPID >> '${pids}'; wait; fi`;
        fs.writeFileSync(path.join(lab.project.work, "block.sh"), `#!/bin/bash\n${slowPart("block")}\necho blocked\n`, { mode: 0o755 });
        fs.writeFileSync(path.join(bin, "pg_dump"), [
            "#!/bin/bash", 'while [ $# -gt 0 ]; do [ "$1" = -f ] && out=$2; shift; done',
            'printf "PGDMP-partial" > "$out"', slowPart("dump"), 'echo "complete dump" >> "$out"',
        ].join("\n") + "\n", { mode: 0o755 });
        fs.writeFileSync(path.join(bin, "pg_restore"), "#!/bin/bash\necho '1; 0 0 TABLE DATA public lsm_serviceentity postgres'\necho '2; 0 0 TABLE DATA public lsm_serviceinstance postgres'\n", { mode: 0o755 });
        stack = await createStack(lab, lsmUpgrade(lab, {
            lsm: { entryPoint: "loader.cf", instanceUpdatesExpected: true },
            database: { binDir: bin, backupDir: backups },
            northbound: { block: { command: `bash '${path.join(lab.project.work, "block.sh")}'` }, unblock: { command: "echo unblocked" } },
        }));
    });
    after(async () => stopLab(lab));

    it("killed during a long shell step: the step's processes end", async () => {
        const started = await killDuring("block");
        assert.equal(started.length, 3);
    });

    it("killed during db-backup: pg_dump and its child end, and no .dump is left", async () => {
        const started = await killDuring("dump");
        assert.equal(started.length, 3);
        const left = fs.existsSync(backups) ? fs.readdirSync(backups) : [];
        assert.deepEqual(left.filter(f => f.endsWith(".dump")), [], `complete-looking files: ${left.join(", ")}`);
    });

    it("the next up runs the steps again and succeeds, with a verified backup", async () => {
        fs.writeFileSync(mode, "fast");
        // A killed update may leave the stack locked: pulumi cancel where the backend supports it.
        spawnSync(requireEngine().pulumi, ["cancel", "--yes", "--stack", stack.name], {
            cwd: lab.project.dir, env: { ...process.env, ...lab.project.env("engine-test-passphrase") }, encoding: "utf8",
        });
        const cli = up();
        let log = "";
        cli.stdout!.on("data", d => (log += d));
        cli.stderr!.on("data", d => (log += d));
        await waitFor("the up finished", () => cli.exitCode !== null, 600000);
        assert.equal(cli.exitCode, 0, log);
        const dumps = fs.readdirSync(backups).filter(f => f.endsWith(".dump"));
        assert.equal(dumps.length, 1, fs.readdirSync(backups).join(", "));
        assert.match(fs.readFileSync(path.join(backups, dumps[0]), "utf8"), /complete dump/);
        assert.deepEqual(fs.readdirSync(backups).filter(f => f.endsWith(".partial")), []);
    });
});
