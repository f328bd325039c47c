// Runs one of the project's TypeScript entry points with ts-node (transpile only: fast start).
const path = require("path");
module.exports = function runTs(entry) {
    require("ts-node").register({ transpileOnly: true, project: path.join(__dirname, "..", "tsconfig.json") });
    const mod = require(path.join(__dirname, "..", entry));
    require(path.join(__dirname, "..", "cli", "launch.ts")).launch(mod.main);
};
