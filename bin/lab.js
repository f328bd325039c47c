#!/usr/bin/env node
require("./run-ts")("cli/lab.ts");
