import { strict as assert } from "assert";
import { randomUUID } from "crypto";
import * as fs from "fs";
import * as path from "path";
import { createdSteps, INMANTA_LINES, LabCopy, makeLabCopy, RunResult, stepOutput } from "../support/lab-copy";
import { desiredStates, environmentHalted, get, labStackBase, removeAfter, resourceActions, resourceRows, schedulerState, settings, versionModel } from "./server-checks";

/**
 * The two first-deployment procedures on the real parts (engine, Inmanta server, PostgreSQL), each
 * in a new, empty environment of its own lab copy: `scripts/lab.sh --stack <name>` without the
 * release-A baseline, then checked on the server.
 */

/** The automation settings the seed wants on at the end; 20.x has only those not removed in 15.0. */
const AUTOMATION_ON_14 = {
    agent_trigger_method_on_auto_deploy: "push_incremental_deploy",
    auto_deploy: true,
    push_on_auto_deploy: true,
    server_compile: true,
    protected_environment: true,
};
const REMOVED_IN_15 = ["agent_trigger_method_on_auto_deploy", "push_on_auto_deploy"];
const automationOn = (v14: boolean): Record<string, unknown> => v14 ? AUTOMATION_ON_14
    : Object.fromEntries(Object.entries(AUTOMATION_ON_14).filter(([n]) => !REMOVED_IN_15.includes(n)));

const filesOf = (lab: LabCopy) => path.join(lab.inmantaDir, "server", "files");
const stepsOf = (lab: LabCopy) => JSON.parse(fs.readFileSync(path.join(lab.dir, ".lab", "outputs.json"), "utf8")).steps as string[];

/** The settings removed in 15.0: set on 14.x, skipped with the reason on 20.x (none of them defined there). */
async function checkRemovedSettings(lab: LabCopy, env: string, run: RunResult, prefix: string, v14: boolean): Promise<void> {
    const s = await settings(lab.url, env);
    for (const name of REMOVED_IN_15) {
        const step = `${prefix}-${name.replace(/_/g, "-")}`;
        if (v14) {
            assert.equal(stepOutput(run, step).applied, true, step);
        } else {
            assert.ok(!(name in s), `${name} is not a setting of this server`);
            assert.deepEqual(stepOutput(run, step), { name, applied: false, reason: "not defined by this server" });
            assert.match(run.output, new RegExp(`\\[${step}\\] ${name}: this server has no such setting, not applicable here`));
        }
    }
}

for (const line of INMANTA_LINES) describe(`lab (inmanta-core ${line}): first deployment of the LSM model (lsm-install) into an empty environment`, function () {
    this.timeout(15 * 60 * 1000);
    const v14 = line.startsWith("14.");
    let lab: LabCopy;
    let env: string;
    let run: RunResult;

    before(async () => {
        lab = await makeLabCopy(undefined, { inmantaVersion: line });
        env = randomUUID();
        lab.writeStack("install", {
            procedure: "lsm-install",
            target: "release-a",
            ...labStackBase(lab, env),
            lsm: { entryPoint: "loader.cf", instanceUpdatesExpected: false },
            install: { expectedSettings: { server_compile: true, protected_environment: false, autostart_agent_deploy_interval: "600" } },
            approval: {
                allow: v14
                    // 14.x, the first dry run: the lab agent does not exist before the internal agent has deployed
                    // its std::AgentConfig, so the server reports its files as agent_down (NOTES.md).
                    ? [
                        { resource: "std::AgentConfig[internal,agentname=lab]", status: ["added"] },
                        { resource: "upgradelab::ConfigFile[lab,path=*/service-*.conf]", status: ["agent_down"] },
                    ]
                    // 20.x: no internal agent, std::AgentConfig is not exported, the first version's files are
                    // "added" (shared/notes/inmanta-20.md, Dry run).
                    : [{ resource: "upgradelab::ConfigFile[lab,path=*/service-*.conf]", status: ["added"] }],
            },
            // An unattended run: the look at the first version is pre-approved for this run key.
            gates: { approved: [{ runKey: "release-a", step: "install-look-first-version" }] },
            apiTests: { command: "grep -qx 'release A' .lab/inmanta/server/files/service-a.conf && echo 'service-a.conf holds release A'" },
        });
        run = lab.tryLab(["--stack", "install", "--keep-running"]);
    });
    removeAfter(() => lab);

    it("ran every step of the procedure in order, without the release-A baseline", () => {
        assert.equal(run.status, 0, run.output);
        assert.match(run.output, /first deployment \(procedure lsm-install\): no baseline/);
        assert.doesNotMatch(run.output, /\[lab\] baseline/);
        // the same steps on both lines: a setting the server lacks is a step that says so (checked below)
        const expected = [
            "install-settings-check", "install-protected-environment", "install-auto-deploy-off", "install-compile",
            "install-export", "install-recompile", "install-dryrun", "install-approval", "install-look-first-version", "install-deploy",
            "install-agent-trigger-method-on-auto-deploy", "install-auto-deploy", "install-push-on-auto-deploy",
            "install-server-compile", "install-api-tests",
        ];
        assert.deepEqual(stepsOf(lab), expected);
        assert.deepEqual(createdSteps(run.output), expected);
    });

    it("leaves the automation settings on and the environment protected", async () => {
        const s = await settings(lab.url, env);
        for (const [name, value] of Object.entries(automationOn(v14))) assert.deepEqual(s[name], value, name);
        assert.match(run.output, /\[install-auto-deploy-off\] auto_deploy: true -> false/);
        assert.match(run.output, /\[install-auto-deploy\] auto_deploy: false -> true/);
        await checkRemovedSettings(lab, env, run, "install", v14);
    });

    it("the first compile's version stayed a candidate; the version after the export was released and deployed", async () => {
        const first = stepOutput(run, "install-compile").version as number;
        const recompiled = stepOutput(run, "install-recompile").version as number;
        assert.ok(recompiled > first);
        const states = await desiredStates(lab.url, env);
        assert.deepEqual(states.filter(s => s.status === "active").map(s => s.version), [recompiled], JSON.stringify(states));
        assert.ok(["candidate", "skipped_candidate"].includes(states.find(s => s.version === first)!.status), JSON.stringify(states));
        // no deploy of any version before the release of the recompiled one
        const deploys = await resourceActions(lab.url, env, { action: "deploy" });
        assert.ok(deploys.length > 0);
        assert.deepEqual(deploys.filter(a => a.version !== recompiled), [], JSON.stringify(deploys));
        const v = await versionModel(lab.url, env, recompiled);
        assert.equal(v.released, true);
        if (v14) {
            assert.equal(v.deployed, true);
            assert.equal(v.result, "success");
            assert.equal(v.done, v.total);
        } else {
            // 15+ has no deployed/result/done (shared/notes/inmanta-20.md, Versions): the scheduler took the
            // version and every resource row of it is deployed
            assert.deepEqual([v.deployed, v.result, v.done], [undefined, undefined, undefined]);
            const scheduler = await schedulerState(lab.url, env);
            assert.equal(scheduler.taken, true, "the scheduler read the released version");
            assert.deepEqual(scheduler.resources, {
                "std::AgentConfig[internal,agentname=lab]": { compliance: "compliant", last_handler_run: "successful" },
                "upgradelab::ConfigFile[lab,path=service-a.conf]": { compliance: "compliant", last_handler_run: "successful" },
            });
            const rows = await resourceRows(lab.url, env);
            assert.deepEqual(rows.map(r => [r.resource_id.replace(/path=.*\//, "path="), r.version, r.status]), [
                ["std::AgentConfig[internal,agentname=lab]", recompiled, "deployed"],
                ["upgradelab::ConfigFile[lab,path=service-a.conf]", recompiled, "deployed"],
            ]);
        }
    });

    it("the strict exporter wrote the service entity of release A; no instance changed", () => {
        assert.match(run.output, /service_entities_exporter_strict: 1 service entities exported/);
        const entity = lab.psql(`SELECT name || ' v' || version || ' ' || jsonb_array_length(attributes) FROM lsm_serviceentity WHERE environment = '${env}'`);
        assert.equal(entity, "lab_config_file v1 2");
        const changed = lab.psql(`SELECT count(*) FROM lsm_serviceinstance WHERE environment = '${env}' AND rollback_attributes IS NOT NULL`);
        assert.equal(changed, "0");
    });

    it(v14 ? "the lab agent wrote the files of release A; the internal agent deployed its agent config first"
        : "the lab agent wrote the files of release A; the internal agent deployed the agent config, in parallel", async () => {
        assert.equal(fs.readFileSync(path.join(filesOf(lab), "service-a.conf"), "utf8"), "release A\n");
        assert.ok(!fs.existsSync(path.join(filesOf(lab), "service-b.conf")));
        const deploys = (await resourceActions(lab.url, env, { action: "deploy" })).filter(a => a.status === "deployed");
        const firstOf = (agent: string) => deploys.find(a => a.agent === agent);
        if (v14) {
            assert.ok(firstOf("internal") && firstOf("lab"), JSON.stringify(deploys));
            assert.deepEqual(firstOf("internal")!.resources, ["std::AgentConfig[internal,agentname=lab]"]);
            assert.ok(firstOf("internal")!.finished! <= firstOf("lab")!.started, "the lab agent came up through the internal agent's deploy");
        } else {
            // 20.x: one scheduler per environment runs an executor per agent; the lab model's std (8.4.x, see
            // lab/inmanta requirements) still exports std::AgentConfig, so "internal" is an agent of the model
            // like any other: it deploys that resource and nothing more, and the lab agent does not wait for it
            // (inmanta-core src/inmanta/deploy/scheduler.py), so no order between them is asserted
            const byAgent = (agent: string) => deploys.filter(a => a.agent === agent).flatMap(a => a.resources).map(r => r.replace(/path=.*\//, "path="));
            assert.deepEqual([...new Set(deploys.map(a => a.agent))].sort(), ["internal", "lab"], JSON.stringify(deploys));
            assert.deepEqual(byAgent("internal"), ["std::AgentConfig[internal,agentname=lab]"]);
            assert.deepEqual(byAgent("lab"), ["upgradelab::ConfigFile[lab,path=service-a.conf]"]);
            const agents = await get<{ data: { name: string; paused: boolean }[] }>(lab.url, env, "/api/v2/agents");
            assert.deepEqual(agents.data.map(a => [a.name, a.paused]).sort(), [["internal", false], ["lab", false]]);
        }
        const summary = await get<{ metadata: { deploy_summary: { total: number; by_state: Record<string, number> } } }>(
            lab.url, env, "/api/v2/resource?deploy_summary=true");
        assert.equal(summary.metadata.deploy_summary.total, 2);
        assert.equal(summary.metadata.deploy_summary.by_state.deployed, summary.metadata.deploy_summary.total);
        assert.match(run.output, /service-a\.conf holds release A/);
    });
});

/**
 * The extra careful deploy on each line. 14.x as the seed says (auto_deploy on, push_on_auto_deploy off, the
 * internal agent's force repair, dry run, approval, a force repair on the lab agent). 15+ has no push: the
 * version stays a candidate through the dry run and approval, careful-release-held halts, keeps every agent
 * paused on resume (inmanta-core src/inmanta/server/agentmanager.py, resume_agents), resumes and
 * releases; then each agent is unpaused in turn. The test proves on the server (resource actions against
 * each agent's unpause) and on disk (the file's time) that nothing of an agent deployed before its turn.
 */
for (const line of INMANTA_LINES) describe(`lab (inmanta-core ${line}): extra careful deploy (careful-deploy), the internal agent then the lab agent, in an empty environment`, function () {
    this.timeout(15 * 60 * 1000);
    const v14 = line.startsWith("14.");
    let lab: LabCopy;
    let env: string;
    let run: RunResult;
    // Not the server's defaults ("600", "86400"): the restore must bring back what was noted.
    const INTERVALS = { autostart_agent_deploy_interval: "300", autostart_agent_repair_interval: "7200" };
    const STEPS = [
        "careful-protected-environment", "careful-record-intervals",
        "careful-autostart-agent-deploy-interval-off", "careful-autostart-agent-repair-interval-off",
        "careful-auto-deploy-on", "careful-push-on-auto-deploy-off", "careful-candidate-auto-deploy-off", "careful-compile",
        "careful-deploy-internal", "careful-dryrun", "careful-approval", "careful-release-held",
        "careful-deploy-internal-after-release", "careful-deploy-lab",
        "careful-restore-agent-trigger-method-on-auto-deploy", "careful-restore-auto-deploy",
        "careful-restore-push-on-auto-deploy", "careful-restore-server-compile",
        "careful-restore-autostart-agent-deploy-interval", "careful-restore-autostart-agent-repair-interval",
    ];
    // the steps with no meaning on this line: each ran, said why and recorded it
    const SKIPPED = v14 ? ["careful-candidate-auto-deploy-off", "careful-release-held", "careful-deploy-internal-after-release"]
        : ["careful-auto-deploy-on", "careful-deploy-internal"];

    before(async () => {
        lab = await makeLabCopy(undefined, { inmantaVersion: line });
        env = randomUUID();
        lab.writeStack("careful", {
            procedure: "careful-deploy",
            target: "release-a",
            ...labStackBase(lab, env),
            careful: { internalAgent: "internal", agents: ["lab"] },
            // 15+: the dry run of the candidate, before any agent deployed, finds the file to add; on 14.x the
            // lab agent's first deploy when the internal agent brought it up wrote it before the dry run (no change)
            ...(v14 ? {} : { approval: { allow: [{ resource: "upgradelab::ConfigFile[lab,path=*/service-a.conf]", status: ["added"] }] } }),
        });
        const setup = lab.tryLab(["--stack", "careful", "--setup-only"]);
        assert.equal(setup.status, 0, setup.output);
        const client = lab.client(env);
        try {
            for (const [name, value] of Object.entries(INTERVALS)) await client.setSetting(name, value);
        } finally {
            client.close();
        }
        run = lab.tryLab(["--stack", "careful", "--keep-running"]);
    });
    removeAfter(() => lab);

    it("ran every step of the procedure in order; the steps with no meaning on this line said why", () => {
        assert.equal(run.status, 0, run.output);
        assert.deepEqual(stepsOf(lab), STEPS);
        assert.deepEqual(createdSteps(run.output), STEPS);
        for (const step of SKIPPED) {
            const out = stepOutput(run, step);
            assert.deepEqual([out.skipped, out.server], [true, line], step);
            assert.match(run.output, new RegExp(`\\[${step}\\] not applicable on inmanta-core ${line.replace(/\./g, "\\.")}: `), step);
        }
        for (const step of STEPS.filter(s => !SKIPPED.includes(s))) assert.equal(stepOutput(run, step).skipped, undefined, step);
    });

    it("noted the intervals, disabled them for the deploy, and restored the noted values at the end", async () => {
        assert.deepEqual(stepOutput(run, "careful-record-intervals").values, INTERVALS);
        for (const name of Object.keys(INTERVALS)) {
            assert.equal(stepOutput(run, `careful-${name.replace(/_/g, "-")}-off`).value, "0");
        }
        const s = await settings(lab.url, env);
        for (const [name, value] of Object.entries({ ...automationOn(v14), ...INTERVALS })) assert.deepEqual(s[name], value, name);
        await checkRemovedSettings(lab, env, run, "careful-restore", v14);
        // auto_deploy during the compile: on (14.x, with push off) or off (15+, the compile a candidate)
        if (v14) {
            assert.match(run.output, /\[careful-auto-deploy-on\] auto_deploy: true -> true/);
            assert.match(run.output, /\[careful-push-on-auto-deploy-off\] push_on_auto_deploy: true -> false/);
        } else {
            assert.match(run.output, /\[careful-candidate-auto-deploy-off\] auto_deploy: true -> false/);
            assert.match(run.output, /\[careful-restore-auto-deploy\] auto_deploy: false -> true/);
        }
        // The intervals were restored after every other setting.
        const created = createdSteps(run.output);
        assert.ok(created.indexOf("careful-restore-server-compile") < created.indexOf("careful-restore-autostart-agent-deploy-interval"));
    });

    it(v14 ? "the compile's version was released without a push and is deployed at the end"
        : "the compile's version stayed a candidate through the dry run and approval, was released held, and is deployed at the end", async () => {
        const version = stepOutput(run, "careful-compile").version as number;
        const states = await desiredStates(lab.url, env);
        assert.deepEqual(states.filter(s => s.status === "active").map(s => s.version), [version], JSON.stringify(states));
        const v = await versionModel(lab.url, env, version);
        assert.equal(v.released, true);
        if (v14) {
            assert.equal(v.deployed, true);
            assert.equal(v.result, "success");
        } else {
            const held = stepOutput(run, "careful-release-held");
            // right after the release, taken by the scheduler: both agents paused, both resources still to deploy
            const heldStates = Object.fromEntries(Object.entries(held.states as Record<string, string>).map(([r, st]) => [r.replace(/path=.*\//, "path="), st]));
            assert.deepEqual({ ...held, states: heldStates }, {
                version, released: true, held: [{ name: "internal", paused: true }, { name: "lab", paused: true }],
                states: { "std::AgentConfig[internal,agentname=lab]": "available", "upgradelab::ConfigFile[lab,path=service-a.conf]": "available" },
            });
            const scheduler = await schedulerState(lab.url, env);
            assert.equal(scheduler.taken, true);
            assert.deepEqual(scheduler.resources, {
                "std::AgentConfig[internal,agentname=lab]": { compliance: "compliant", last_handler_run: "successful" },
                "upgradelab::ConfigFile[lab,path=service-a.conf]": { compliance: "compliant", last_handler_run: "successful" },
            });
            assert.deepEqual((await resourceRows(lab.url, env)).map(r => [r.version, r.status]), [[version, "deployed"], [version, "deployed"]]);
            // every agent unpaused at the end, the environment running
            const agents = await get<{ data: { name: string; paused: boolean }[] }>(lab.url, env, "/api/v2/agents");
            assert.deepEqual(agents.data.map(a => [a.name, a.paused]).sort(), [["internal", false], ["lab", false]]);
            assert.equal(await environmentHalted(lab.url, env), false);
        }
        assert.equal(fs.readFileSync(path.join(filesOf(lab), "service-a.conf"), "utf8"), "release A\n");
    });

    if (v14) it("deployed on agent internal, then on agent lab (force repair), in that order, the lab agent after the dry run", async () => {
        const deploys = (await resourceActions(lab.url, env, { action: "deploy" })).filter(a => a.status === "deployed");
        // The first agent to deploy anything is the internal agent: the compile itself deployed nothing.
        // On 14.0.0 the lab agent, new to the agent map, also deploys once when it comes up (right after the
        // internal agent's AgentConfig, see NOTES.md); its deploy on agent is the repair after the dry run.
        const agentsInOrder = [...new Set(deploys.map(a => a.agent))];
        assert.deepEqual(agentsInOrder, ["internal", "lab"], JSON.stringify(deploys));
        const internal = deploys.filter(a => a.agent === "internal");
        const labDeploys = deploys.filter(a => a.agent === "lab");
        assert.deepEqual(internal.flatMap(a => a.resources), ["std::AgentConfig[internal,agentname=lab]"]);
        assert.ok(internal[0].finished! <= labDeploys[0].started);
        // The deploy on agent lab: a full deploy of its resources after the dry run.
        const dry = stepOutput(run, "careful-dryrun");
        const dryruns = await get<{ data: { id: string; date: string }[] }>(lab.url, env, `/api/v2/dryrun/${dry.version}`);
        const dryAt = Date.parse(dryruns.data.find(d => d.id === dry.dryrunId)!.date);
        const repair = labDeploys.filter(a => a.started > dryAt);
        assert.deepEqual(repair.flatMap(a => a.resources).map(r => r.replace(/path=.*\//, "path=")),
            ["upgradelab::ConfigFile[lab,path=service-a.conf]"]);
        assert.deepEqual(stepOutput(run, "careful-deploy-lab").deployed, labDeploys[0].resources);
    });

    if (!v14) it("nothing of an agent deployed before its turn: internal unpaused first, then lab; the file written after lab's unpause", async () => {
        const version = stepOutput(run, "careful-compile").version as number;
        const dry = stepOutput(run, "careful-dryrun");
        const dryruns = await get<{ data: { id: string; date: string }[] }>(lab.url, env, `/api/v2/dryrun/${dry.version}`);
        const dryAt = Date.parse(dryruns.data.find(d => d.id === dry.dryrunId)!.date);
        const internalTurn = stepOutput(run, "careful-deploy-internal-after-release");
        const labTurn = stepOutput(run, "careful-deploy-lab");
        const unpaused = { internal: Date.parse(internalTurn.unpausedAt as string), lab: Date.parse(labTurn.unpausedAt as string) };
        assert.ok(dryAt < unpaused.internal && unpaused.internal < unpaused.lab, JSON.stringify({ dryAt, unpaused }));
        const deploys = await resourceActions(lab.url, env, { action: "deploy" });
        const strip = (r: string) => r.replace(/path=.*\//, "path=");
        // every deploy action of the environment: of this version, of the agent whose turn it was, none before it
        assert.deepEqual(deploys.map(a => [a.agent, a.version, a.status, a.resources.map(strip)]), [
            ["internal", version, "deployed", ["std::AgentConfig[internal,agentname=lab]"]],
            ["lab", version, "deployed", ["upgradelab::ConfigFile[lab,path=service-a.conf]"]],
        ], JSON.stringify(deploys));
        for (const a of deploys) {
            const turn = unpaused[a.agent as "internal" | "lab"];
            assert.ok(a.started >= turn, `${a.agent} deployed at ${a.started}, its unpause at ${turn}`);
        }
        // the internal agent's turn ended before the lab agent's began
        assert.ok(deploys[0].finished! <= unpaused.lab);
        assert.deepEqual(internalTurn.deployed, ["std::AgentConfig[internal,agentname=lab]"]);
        assert.deepEqual((labTurn.deployed as string[]).map(strip), ["upgradelab::ConfigFile[lab,path=service-a.conf]"]);
        // the file the lab agent wrote appeared after its unpause (its change time: written once, by that deploy)
        const file = fs.statSync(path.join(filesOf(lab), "service-a.conf"));
        assert.ok(file.ctimeMs >= unpaused.lab && file.mtimeMs >= unpaused.lab, JSON.stringify({ ctime: file.ctimeMs, unpaused: unpaused.lab }));
        assert.match(run.output, /\[careful-deploy-lab\] 15\+: agent lab was held paused until its turn: unpaused now/);
        assert.match(run.output, /\[careful-release-held\] halted, every agent kept paused on resume, resumed: internal, lab paused/);
    });
});
