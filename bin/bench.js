#!/usr/bin/env node
// npm run bench [-- <name> [args...]]: runs the benchmark bench/<name>.ts (default: plan).
// A benchmark is a module bench/<name>.ts that exports `main(argv)` (argv without the name), prints a
// readable table and writes bench/results/<name>.json. Shared helpers live in bench/support/.
const fs = require("fs");
const path = require("path");

const benchDir = path.join(__dirname, "..", "bench");
const available = () => fs.readdirSync(benchDir)
    .filter(f => f.endsWith(".ts") && !f.endsWith(".d.ts"))
    .map(f => f.slice(0, -3))
    .sort();

const args = process.argv.slice(2);
// The first argument names the benchmark unless it is an option or a number (arguments of the default one).
const name = args.length > 0 && /^[a-z][a-z0-9-]*$/i.test(args[0]) ? args.shift() : "plan";
if (!available().includes(name)) {
    process.stderr.write(`error: no benchmark named "${name}" (bench/${name}.ts); available: ${available().join(", ") || "none"}\n`);
    process.exit(2);
}
process.argv = [process.argv[0], process.argv[1], ...args];
require("./run-ts")(`bench/${name}.ts`);
