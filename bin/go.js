#!/usr/bin/env node
require("./run-ts")("cli/go/main.ts");
