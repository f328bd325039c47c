#!/usr/bin/env node
// The interpreter of local shell steps: the command line with the step's allow-listed environment.
require("./run-ts")("cli/step/shell.ts");
