#!/usr/bin/env node
require("./run-ts")("cli/step/main.ts");
