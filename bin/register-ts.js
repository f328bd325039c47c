// `node --require ./bin/register-ts.js`: load the project's TypeScript through the cached transpiler
// of run-ts.js (the Pulumi program's start, see Pulumi.yaml).
require("./run-ts").register();
