#!/usr/bin/env node
require("./run-ts")("cli/report/main.ts");
