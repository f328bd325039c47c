#!/usr/bin/env node
require("./run-ts")("cli/pr-comment/main.ts");
