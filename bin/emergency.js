#!/usr/bin/env node
require("./run-ts")("cli/emergency.ts");
