#!/usr/bin/env node
/*
 * A stand-in for the main OSPL daemon's container, for the LSST gate tests: a real process that
 * writes its log late, as the daemon does.
 *
 *   fake-ospl-daemon.js --dir D [--ready-after MS | --never-ready] [--federations 3,2,1,0] [--step-ms MS] [--linger-ms MS]
 *
 * D/ospl-daemon.log     what `docker logs ospl-daemon` shows: a few start-up lines, then "daemon ready"
 * D/durability.log      what `docker exec ospl-daemon grep federations durability.log` reads: one
 *                       "federations" line every --step-ms with the next count of --federations
 * It exits --linger-ms after its last line (default: when killed).
 */
"use strict";
const fs = require("fs");
const path = require("path");

const args = process.argv.slice(2);
const opt = (name, dflt) => {
    const i = args.indexOf(`--${name}`);
    return i >= 0 ? args[i + 1] : dflt;
};
const dir = opt("dir");
if (!dir) {
    process.stderr.write("fake-ospl-daemon: --dir is required\n");
    process.exit(2);
}
fs.mkdirSync(dir, { recursive: true });
const log = path.join(dir, "ospl-daemon.log");
const durability = path.join(dir, "durability.log");
const stamp = () => new Date().toISOString();
fs.writeFileSync(log, `${stamp()} ospl: starting the OpenSplice daemon\n${stamp()} ospl: loading ospl.xml\n`);
fs.writeFileSync(durability, `${stamp()} durability: service started\n`);

const timers = [];
if (!args.includes("--never-ready")) {
    timers.push(setTimeout(() => fs.appendFileSync(log, `${stamp()} ospl: daemon ready\n`), Number(opt("ready-after", "0"))));
}
const counts = (opt("federations", "") || "").split(",").filter(Boolean).map(Number);
const step = Number(opt("step-ms", "300"));
counts.forEach((n, i) => {
    timers.push(setTimeout(() => {
        fs.appendFileSync(durability, `${stamp()} durability: Number of connected federations: ${n}\n`);
        if (i === counts.length - 1 && opt("linger-ms")) setTimeout(() => process.exit(0), Number(opt("linger-ms")));
    }, i * step));
});
process.on("SIGTERM", () => process.exit(0));
setInterval(() => undefined, 1 << 30);
