#!/usr/bin/env node
require("./run-ts")("cli/status/main.ts");
