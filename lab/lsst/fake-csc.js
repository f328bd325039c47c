#!/usr/bin/env node
/*
 * Stand-in CSCs for the LSST tests: the three commands a site provides to the upgrade.
 *
 *   fake-csc set <csc> <state>     send a CSC to a summary state (stateCommand)
 *   fake-csc state <csc>           print its summary state (stateProbe)
 *   fake-csc heartbeats <csc>      print the number of heartbeats seen recently (heartbeatProbe)
 *
 * $FAKE_CSC_DIR/<csc>.json describes each CSC (":" in the name becomes "_"):
 *   { "state": "ENABLED", "delayMs": 300, "stopsAt": "STANDBY", "heartbeatStopsAfterMs": 500,
 *     "reject": false, "mute": false, "stuck": false }
 * A CSC reaches the state it was sent to `delayMs` after the command; one that "stops at STANDBY"
 * reports STANDBY when sent to OFFLINE and keeps beating for `heartbeatStopsAfterMs`; a `stuck` one
 * never changes; a `mute` one does not answer. Every command is appended to $FAKE_CSC_DIR/commands.log.
 */
"use strict";
const fs = require("fs");
const path = require("path");

const dir = process.env.FAKE_CSC_DIR;
const [verb, csc, state] = process.argv.slice(2);
if (!dir || !verb || !csc) {
    process.stderr.write("usage: fake-csc set|state|heartbeats <csc> [state] (FAKE_CSC_DIR must be set)\n");
    process.exit(2);
}
const file = path.join(dir, `${csc.replace(/:/g, "_")}.json`);
if (!fs.existsSync(file)) {
    process.stderr.write(`fake-csc: no CSC ${csc}\n`);
    process.exit(1);
}
const c = JSON.parse(fs.readFileSync(file, "utf8"));
const now = Date.now();
fs.appendFileSync(path.join(dir, "commands.log"), `${now} ${verb} ${csc}${state ? ` ${state}` : ""}\n`);

function current() {
    if (c.target === undefined || c.stuck) return c.state;
    if (now - c.sentAt < (c.delayMs ?? 0)) return c.state;
    if (c.target === "OFFLINE" && c.stopsAt === "STANDBY") return "STANDBY";
    return c.target;
}

if (c.mute && verb !== "set") {
    process.stderr.write(`fake-csc: ${csc} does not answer\n`);
    process.exit(1);
}
if (verb === "set") {
    if (c.reject) {
        process.stderr.write(`fake-csc: ${csc} rejected the command: ack=FAILED\n`);
        process.exit(1);
    }
    c.state = current();
    c.target = state;
    c.sentAt = now;
    fs.writeFileSync(file, JSON.stringify(c, null, 2));
    process.stdout.write(`${csc}: ${state} requested\n`);
} else if (verb === "state") {
    process.stdout.write(`${csc} summaryState: ${current()}\n`);
} else if (verb === "heartbeats") {
    const down = c.target === "OFFLINE" && !c.stuck && now - c.sentAt >= (c.delayMs ?? 0) + (c.heartbeatStopsAfterMs ?? 0);
    process.stdout.write(`heartbeats in the last 5 s: ${down ? 0 : 5}\n`);
} else {
    process.stderr.write(`fake-csc: unknown command ${verb}\n`);
    process.exit(2);
}
