#!/usr/bin/env node
require("./run-ts")("cli/plan/main.ts");
